//! `rampart encrypt|decrypt|reencrypt`.

use crate::cli::CryptArgs;
use crate::output::{Failure, Report};

/// `rampart encrypt`.
pub(crate) fn encrypt(_args: &CryptArgs) -> Result<Report, Failure> {
    Err(Failure::not_available("encrypt", "rampart-envelope"))
}

/// `rampart decrypt`.
pub(crate) fn decrypt(_args: &CryptArgs) -> Result<Report, Failure> {
    Err(Failure::not_available("decrypt", "rampart-envelope"))
}

/// `rampart reencrypt`.
pub(crate) fn reencrypt(_args: &CryptArgs) -> Result<Report, Failure> {
    Err(Failure::not_available("reencrypt", "rampart-envelope"))
}
