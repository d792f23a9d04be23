//! `rampart password hash|verify`.

use crate::cli::PasswordCommand;
use crate::output::{Failure, Report};

/// Runs a password subcommand.
pub(crate) fn run(_cmd: PasswordCommand) -> Result<Report, Failure> {
    Err(Failure::not_available("password", "rampart-password"))
}
