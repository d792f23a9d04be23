//! `rampart saml verify|metadata|authn-request`.

use crate::cli::SamlCommand;
use crate::output::{Failure, Report};

/// Runs a saml subcommand (wired once rampart-saml lands).
pub(crate) fn run(_cmd: SamlCommand) -> Result<Report, Failure> {
    Err(Failure::not_available("saml", "rampart-saml"))
}
