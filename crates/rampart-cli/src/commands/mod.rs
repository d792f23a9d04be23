//! One module per subcommand family; each returns a report or a failure and prints nothing
//! itself (see `output.rs`).

mod apikey;
mod audit;
mod crypt;
mod envelope;
mod keyring;
mod master_key;
mod password;
mod saml;

use crate::cli::Command;
use crate::output::{Failure, Report};

/// Runs one parsed command.
pub(crate) fn run(command: Command) -> Result<Report, Failure> {
    match command {
        Command::Keyring(cmd) => keyring::run(cmd),
        Command::Encrypt(args) => crypt::encrypt(&args),
        Command::Decrypt(args) => crypt::decrypt(&args),
        Command::Reencrypt(args) => crypt::reencrypt(&args),
        Command::Password(cmd) => password::run(cmd),
        Command::Apikey(cmd) => apikey::run(cmd),
        Command::Saml(cmd) => saml::run(cmd),
        Command::Audit(cmd) => audit::run(cmd),
    }
}
