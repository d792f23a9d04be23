//! `rampart apikey new|check`.

use crate::cli::ApikeyCommand;
use crate::output::{Failure, Report};

/// Runs an apikey subcommand (wired once rampart-apikey lands).
pub(crate) fn run(_cmd: ApikeyCommand) -> Result<Report, Failure> {
    Err(Failure::not_available("apikey", "rampart-apikey"))
}
