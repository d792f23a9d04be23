//! `rampart password hash|verify`: the password comes from stdin only.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rampart::password::{
    Error, Hasher, Password, Pepper, Policy, PolicyContext, Rejection, Verdict,
};
use serde_json::json;
use zeroize::Zeroizing;

use crate::cli::{PasswordCommand, PepperArgs};
use crate::input;
use crate::output::{Failure, Report};

/// Runs a password subcommand.
pub(crate) fn run(cmd: PasswordCommand) -> Result<Report, Failure> {
    match cmd {
        PasswordCommand::Hash {
            no_policy,
            user_name,
            email,
            pepper,
        } => {
            let peppered = pepper.pepper_file.is_some();
            let hasher = hasher(&pepper)?;
            let password = Password::new(input::secret_from_stdin("password")?.as_str());
            if !no_policy {
                let mut context = PolicyContext::new();
                if let Some(name) = &user_name {
                    context = context.with_user_name(name);
                }
                if let Some(address) = &email {
                    context = context.with_email(address);
                }
                Policy::default().check(&password, &context).map_err(
                    |rejection| match rejection {
                        // Beyond the hasher's own cap too: the input error it always was.
                        Rejection::TooManyBytes { .. } => {
                            Failure::input("password_too_long", rejection.to_string())
                        }
                        _ => Failure::rejected(
                            "password_policy",
                            format!(
                                "{rejection}; nothing was hashed (--no-policy hashes it anyway)"
                            ),
                        ),
                    },
                )?;
            }
            let hash = hasher.hash(&password).map_err(|e| failure(&e))?;
            let mut report = Report::success(json!({
                "hash": hash,
                "peppered": peppered,
                "policy_checked": !no_policy,
            }));
            if !peppered {
                report.notes.push(
                    "note: this hash carries no pepper (none given with --pepper-file); a \
                     service that peppers its hashes verifies it only if it keeps accepting \
                     unpeppered ones"
                        .to_owned(),
                );
            }
            Ok(report)
        }
        PasswordCommand::Verify {
            hash,
            hash_file,
            pepper,
        } => {
            let hasher = hasher(&pepper)?;
            let stored = stored_hash(hash, hash_file.as_deref())?;
            let stored = stored.trim_ascii();
            let password = Password::new(input::secret_from_stdin("password")?.as_str());
            let verdict = hasher.verify(&password, stored).map_err(|e| failure(&e))?;
            Ok(report(&verdict))
        }
    }
}

/// OWASP parameters (argon2id, m = 19 MiB, t = 2, p = 1); legacy formats are verified
/// because the binary is built with rampart's `legacy` feature. With `--pepper-file`, that
/// pepper is the current one.
fn hasher(args: &PepperArgs) -> Result<Hasher, Failure> {
    let mut builder = Hasher::builder();
    if let Some(path) = &args.pepper_file {
        let text = input::key_text(Some(path), "", "pepper")?;
        let bytes = Zeroizing::new(STANDARD.decode(text.as_bytes()).map_err(|_| {
            Failure::input(
                "malformed_key",
                format!("{}: the pepper must be base64", path.display()),
            )
        })?);
        let pepper = Pepper::new(args.pepper_version.unwrap_or(1), bytes.to_vec())
            .map_err(|e| Failure::input("malformed_key", format!("{}: {e}", path.display())))?;
        builder = builder.with_pepper(pepper);
    }
    builder.build().map_err(|e| failure(&e))
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
