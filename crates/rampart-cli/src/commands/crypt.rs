//! `rampart encrypt|decrypt|reencrypt`.

use crate::cli::CryptArgs;
use crate::output::{Failure, Report};

/// `rampart encrypt` (wired once rampart-envelope's keyrings land).
pub(crate) fn encrypt(_args: &CryptArgs) -> Result<Report, Failure> {
    Err(Failure::not_available("encrypt", "rampart-envelope"))
}

/// `rampart decrypt` (wired once rampart-envelope's keyrings land).
pub(crate) fn decrypt(_args: &CryptArgs) -> Result<Report, Failure> {
    Err(Failure::not_available("decrypt", "rampart-envelope"))
}

/// `rampart reencrypt` (wired once rampart-envelope's keyrings land).
pub(crate) fn reencrypt(_args: &CryptArgs) -> Result<Report, Failure> {
    Err(Failure::not_available("reencrypt", "rampart-envelope"))
}
