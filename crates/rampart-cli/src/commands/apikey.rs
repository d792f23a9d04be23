//! `rampart apikey new|check`: secrets go out once (new) and come in on stdin (check).

use std::sync::Arc;
use std::time::SystemTime;

use rampart::apikey::{ApiKeyRecord, ApiKeys, Error, HashingKey, KeyOptions, KeyPrefix, Keyset};
use serde_json::{Value, json};

use crate::cli::{ApikeyCommand, HashingKeyArgs};
use crate::input;
use crate::output::{Failure, Report};

/// Environment variable holding the hashing key when no file is given.
const HASHING_KEY_ENV: &str = "RAMPART_APIKEY_HASHING_KEY";

/// Runs an apikey subcommand.
pub(crate) fn run(cmd: ApikeyCommand) -> Result<Report, Failure> {
    match cmd {
        ApikeyCommand::New {
            prefix,
            scopes,
            hashing_key_version,
            hashing_key,
        } => new(prefix.as_deref(), scopes, hashing_key_version, &hashing_key),
        ApikeyCommand::Check {
            record,
            scopes,
            hashing_key,
        } => check(&record, &scopes, &hashing_key),
    }
}

fn new(
    prefix: Option<&str>,
    scopes: Vec<String>,
    version: u32,
    key: &HashingKeyArgs,
) -> Result<Report, Failure> {
    let prefix = match prefix {
        Some(text) => KeyPrefix::parse(text).map_err(|e| input_error(&e))?,
        None => KeyPrefix::default(),
    };
    let keys = ApiKeys::new(prefix, Keyset::new(version, hashing_key(key)?));
    let issued = keys
        .issue(KeyOptions::new().scopes(scopes), SystemTime::now())
        .map_err(|e| input_error(&e))?;
    let record = serde_json::to_value(&issued.record)
        .map_err(|e| Failure::input("internal", format!("cannot serialize the record: {e}")))?;
    // The one place a secret is printed: the operator asked for a new key, and the secret
    // exists nowhere else (only its keyed hash is in the record).
    Ok(Report::success(json!({
        "public_key": issued.public_key.to_string(),
        "secret_key": issued.secret_key.expose_secret(),
        "record": record,
    })))
}

fn check(
    record_path: &std::path::Path,
    scopes: &[String],
    key: &HashingKeyArgs,
) -> Result<Report, Failure> {
    let text = input::text_document(record_path)?;
    let record: ApiKeyRecord = serde_json::from_str(&text).map_err(|e| {
        Failure::input(
            "malformed_record",
            format!("{}: not an API key record: {e}", record_path.display()),
        )
    })?;
    let hashing_key = hashing_key(key)?;
    let secret = input::secret_from_stdin("API secret key")?;
    // Accept exactly the record's prefix, and hash under the record's key version: the key
    // file is the one the record was made with.
    let keys = ApiKeys::new(
        record.prefix().clone(),
        Keyset::new(record.hash().key_version(), hashing_key),
    );
    let required: Vec<&str> = scopes.iter().map(String::as_str).collect();
    let now = SystemTime::now();
    let verified = keys
        .parse(secret.as_str())
        .and_then(|parsed| keys.verify(&parsed, Some(Arc::new(record)), &required, now));
    match verified {
        Ok(ok) => Ok(Report::success(json!({
            "valid": true,
            "public_id": ok.public_id().to_string(),
            "scopes": ok.scopes().collect::<Vec<_>>(),
            "used_previous_secret": ok.used_previous_secret(),
        }))),
        Err(err) if err.is_credential_failure() => {
            let mut failure = Failure::rejected(err.kind(), err.to_string());
            if let Some(id) = err.public_id() {
                failure = failure.with("public_id", Value::String(id.to_string()));
            }
            Err(failure)
        }
        Err(err) => Err(input_error(&err)),
    }
}

fn hashing_key(args: &HashingKeyArgs) -> Result<HashingKey, Failure> {
    let text = input::key_text(
        args.hashing_key_file.as_deref(),
        HASHING_KEY_ENV,
        "API-key hashing key",
    )?;
    HashingKey::from_base64(&text).map_err(|_| {
        Failure::input(
            "malformed_key",
            "the API-key hashing key must be at least 32 bytes in base64 \
             (`head -c 32 /dev/urandom | base64`)",
        )
    })
}

/// Configuration problems (prefix, scopes, hashing key version): exit 2. rampart-apikey's
/// messages never contain secret text.
fn input_error(err: &Error) -> Failure {
    Failure::input(err.kind(), err.to_string())
}
