//! `rampart password hash|verify`: the password comes from stdin only.

use rampart::password::{Error, Hasher, Password, Verdict};
use serde_json::json;

use crate::cli::PasswordCommand;
use crate::input;
use crate::output::{Failure, Report};

/// Runs a password subcommand.
pub(crate) fn run(cmd: PasswordCommand) -> Result<Report, Failure> {
    // OWASP parameters (argon2id, m = 19 MiB, t = 2, p = 1); legacy formats are verified
    // because the binary is built with rampart's `legacy` feature.
    let hasher = Hasher::builder().build().map_err(|e| failure(&e))?;
    match cmd {
        PasswordCommand::Hash => {
            let password = Password::new(input::secret_from_stdin("password")?.as_str());
            let hash = hasher.hash(&password).map_err(|e| failure(&e))?;
            Ok(Report::success(json!({ "hash": hash })))
        }
        PasswordCommand::Verify { hash, hash_file } => {
            let stored = stored_hash(hash, hash_file.as_deref())?;
            let stored = stored.trim_ascii();
            let password = Password::new(input::secret_from_stdin("password")?.as_str());
            let verdict = hasher.verify(&password, stored).map_err(|e| failure(&e))?;
            Ok(report(&verdict))
        }
    }
}

/// Where the stored hash comes from: `--hash-file`, `RAMPART_PASSWORD_HASH`, or (with a
/// warning) the argument.
const HASH_ENV: &str = "RAMPART_PASSWORD_HASH";

fn stored_hash(arg: Option<String>, file: Option<&std::path::Path>) -> Result<String, Failure> {
    if let Some(hash) = arg {
        // A hash is not the password, but it is what an offline guessing attack starts from.
        eprintln!(
            "rampart: warning: a hash given as an argument is visible to other users in `ps` \
             and is kept in shell history; use --hash-file FILE or {HASH_ENV}"
        );
        return Ok(hash);
    }
    if let Some(path) = file {
        return input::text_document(path);
    }
    match std::env::var(HASH_ENV) {
        Ok(hash) if !hash.trim_ascii().is_empty() => Ok(hash),
        _ => Err(Failure::input(
            "usage",
            format!("give the stored hash with --hash-file FILE or in {HASH_ENV}"),
        )),
    }
}

/// `{"valid":..,"needs_rehash":..}`; when a rehash is due, also why and the new hash to
/// store (a hash of the password, as `password hash` prints, never the password).
fn report(verdict: &Verdict) -> Report {
    match verdict {
        Verdict::ValidNeedsUpgrade { new_hash, reason } => Report::success(json!({
            "valid": true,
            "needs_rehash": true,
            "reason": reason.to_string(),
            "new_hash": new_hash,
        })),
        v if v.is_valid() => Report::success(json!({ "valid": true, "needs_rehash": false })),
        _ => Report::negative(json!({ "valid": false, "needs_rehash": false })),
    }
}

/// Every error here is about the input (the stored hash or the password's length) or the
/// machine: none is a verdict on the password, so all exit 2. Messages come from
/// rampart-password, which never puts a password or hash output in them.
fn failure(err: &Error) -> Failure {
    Failure::input(err.kind(), err.to_string())
}
