//! `rampart keyring init|rotate|list|retire|rewrap`.

use crate::cli::KeyringCommand;
use crate::output::{Failure, Report};

/// Runs a keyring subcommand (wired once rampart-envelope's keyrings land).
pub(crate) fn run(_cmd: KeyringCommand) -> Result<Report, Failure> {
    Err(Failure::not_available("keyring", "rampart-envelope"))
}
