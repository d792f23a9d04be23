//! `rampart apikey new|check|revoke|rotate`: secrets go out once (new, rotate) and come in on
//! stdin (check).
//!
//! The record files are rampart-apikey's record (JSON) plus one field of this tool's,
//! `hashing_key_check`: a check value of the hashing key the record's hash is under, so a
//! wrong hashing key is named as such instead of failing like a wrong secret. Records without
//! it (made before it existed) are still read.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rampart::apikey::{ApiKeyRecord, ApiKeys, Error, HashingKey, KeyOptions, KeyPrefix, Keyset};
use serde_json::{Map, Value, json};
use subtle::ConstantTimeEq as _;

use crate::cli::{ApikeyCommand, HashingKeyArgs};
use crate::input;
use crate::output::{Failure, Report};

/// Environment variable holding the hashing key when no file is given.
const HASHING_KEY_ENV: &str = "RAMPART_APIKEY_HASHING_KEY";

/// The record field holding the hashing key's check value.
const CHECK_FIELD: &str = "hashing_key_check";

/// What the check value is an HMAC of: a fixed label, never a secret, so publishing the value
/// tells nothing about the key (HMAC-SHA256 is a PRF) beyond letting a 256-bit key be
/// recognised.
const CHECK_LABEL: &[u8] = b"rampart-cli apikey hashing-key check v1";

/// Runs an apikey subcommand.
pub(crate) fn run(cmd: ApikeyCommand) -> Result<Report, Failure> {
    match cmd {
        ApikeyCommand::New {
            prefix,
            scopes,
            hashing_key_version,
            expires_in,
            hashing_key,
        } => new(
            prefix.as_deref(),
            scopes,
            hashing_key_version,
            expires_in.as_deref(),
            &hashing_key,
        ),
        ApikeyCommand::Check {
            record,
            scopes,
            hashing_key,
        } => check(&record, &scopes, &hashing_key),
        ApikeyCommand::Revoke { record } => revoke(&record),
        ApikeyCommand::Rotate {
            record,
            overlap,
            hashing_key,
        } => rotate(&record, &overlap, &hashing_key),
    }
}

fn new(
    prefix: Option<&str>,
    scopes: Vec<String>,
    version: u32,
    expires_in: Option<&str>,
    key: &HashingKeyArgs,
) -> Result<Report, Failure> {
    let prefix = match prefix {
        Some(text) => KeyPrefix::parse(text).map_err(|e| input_error(&e))?,
        None => KeyPrefix::default(),
    };
    let mut options = KeyOptions::new().with_scopes(scopes);
    if let Some(text) = expires_in {
        options = options.with_valid_for(input::duration("--expires-in", text)?);
    }
    let hashing_key = hashing_key(key)?;
    let check = check_value(&hashing_key);
    let keys = ApiKeys::new(prefix, Keyset::new(version, hashing_key));
    let issued = keys
        .issue(options, SystemTime::now())
        .map_err(|e| input_error(&e))?;
    // The one place a secret is printed: the operator asked for a new key, and the secret
    // exists nowhere else (only its keyed hash is in the record).
    Ok(Report::success(json!({
        "public_key": issued.public_key.to_string(),
        "secret_key": issued.secret_key.expose_secret(),
        "record": record_json(&issued.record, &check)?,
    })))
}

fn check(record_path: &Path, scopes: &[String], key: &HashingKeyArgs) -> Result<Report, Failure> {
    let stored = read_record(record_path)?;
    let hashing_key = hashing_key(key)?;
    stored.check_key(&hashing_key, record_path)?;
    let record = stored.record;
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

/// `apikey revoke`: needs no hashing key (nothing is hashed).
fn revoke(record_path: &Path) -> Result<Report, Failure> {
    let mut stored = read_record(record_path)?;
    if let Some(at) = stored.record.revoked_at() {
        return Err(Failure::rejected(
            "already_revoked",
            format!(
                "{}: the key was already revoked at {}; the record is unchanged",
                record_path.display(),
                super::envelope::rfc3339(at)
            ),
        ));
    }
    let now = SystemTime::now();
    stored.record.revoke(now);
    stored.save(record_path)?;
    Ok(Report::success(json!({
        "revoked": true,
        "public_id": stored.record.public_id().to_string(),
        "revoked_at": super::envelope::rfc3339(now),
        "record": record_path.display().to_string(),
    })))
}

/// `apikey rotate`: a new secret, the previous one valid for the overlap.
fn rotate(record_path: &Path, overlap: &str, key: &HashingKeyArgs) -> Result<Report, Failure> {
    let overlap = match overlap {
        "0" => Duration::ZERO,
        text => input::duration("--overlap", text)?,
    };
    let mut stored = read_record(record_path)?;
    let hashing_key = hashing_key(key)?;
    // Compared before anything changes: a record rotated under another key would hold a new
    // hash no service can check.
    stored.check_key(&hashing_key, record_path)?;
    if stored.check.is_none() {
        stored.check = Some(check_value(&hashing_key));
    }
    let keys = ApiKeys::new(
        stored.record.prefix().clone(),
        Keyset::new(stored.record.hash().key_version(), hashing_key),
    );
    let now = SystemTime::now();
    if stored.record.revoked_at().is_some() {
        return Err(Failure::rejected(
            "revoked",
            format!(
                "{}: the key is revoked and cannot be rotated; issue a new one with \
                 `rampart apikey new`",
                record_path.display()
            ),
        ));
    }
    let secret = keys
        .rotate(&mut stored.record, overlap, now)
        .map_err(|e| input_error(&e))?;
    stored.save(record_path)?;
    let previous_until = stored
        .record
        .previous()
        .map(|p| Value::String(super::envelope::rfc3339(p.expires_at())))
        .unwrap_or(Value::Null);
    Ok(Report::success(json!({
        "public_key": stored.record.public_key().to_string(),
        "secret_key": secret.expose_secret(),
        "previous_valid_until": previous_until,
        "record": record_json(&stored.record, stored.check.as_deref().unwrap_or_default())?,
    })))
}

/// A record file as read: the library's record and this tool's check value, if any.
struct StoredRecord {
    record: ApiKeyRecord,
    check: Option<String>,
}

impl StoredRecord {
    /// Refuses a hashing key whose check value is not the record's (exit 2: the operator's
    /// configuration, not the client's secret, is wrong).
    fn check_key(&self, key: &HashingKey, path: &Path) -> Result<(), Failure> {
        let Some(stored) = &self.check else {
            return Ok(());
        };
        if bool::from(check_value(key).as_bytes().ct_eq(stored.as_bytes())) {
            return Ok(());
        }
        Err(Failure::input(
            "wrong_hashing_key",
            format!(
                "{}: the hashing key is not the one this record was made with (its check \
                 value differs); give the --hashing-key-file the record was issued with",
                path.display()
            ),
        ))
    }

    /// Rewrites the record file atomically, check value included.
    fn save(&self, path: &Path) -> Result<(), Failure> {
        let mut value = record_json(&self.record, self.check.as_deref().unwrap_or_default())?;
        if self.check.is_none()
            && let Some(map) = value.as_object_mut()
        {
            map.remove(CHECK_FIELD);
        }
        let mut text = serde_json::to_string_pretty(&value)
            .map_err(|e| Failure::input("internal", format!("cannot serialize the record: {e}")))?;
        text.push('\n');
        crate::output::replace_file(path, text.as_bytes())
    }
}

fn read_record(path: &Path) -> Result<StoredRecord, Failure> {
    let text = input::text_document(path)?;
    let malformed = |e: &dyn std::fmt::Display| {
        Failure::input(
            "malformed_record",
            format!("{}: not an API key record: {e}", path.display()),
        )
    };
    let mut value: Map<String, Value> = serde_json::from_str(&text).map_err(|e| malformed(&e))?;
    let check = match value.remove(CHECK_FIELD) {
        None => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => return Err(malformed(&format!("{CHECK_FIELD} is not a string"))),
    };
    let record: ApiKeyRecord =
        serde_json::from_value(Value::Object(value)).map_err(|e| malformed(&e))?;
    Ok(StoredRecord { record, check })
}

/// The record as JSON with the check value beside the library's fields.
fn record_json(record: &ApiKeyRecord, check: &str) -> Result<Value, Failure> {
    let mut value = serde_json::to_value(record)
        .map_err(|e| Failure::input("internal", format!("cannot serialize the record: {e}")))?;
    if let Some(map) = value.as_object_mut() {
        map.insert(CHECK_FIELD.to_owned(), Value::String(check.to_owned()));
    }
    Ok(value)
}

/// HMAC-SHA256 of [`CHECK_LABEL`] under the hashing key, first 16 bytes, base64.
fn check_value(key: &HashingKey) -> String {
    let mac = ring::hmac::sign(
        &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key.expose_secret()),
        CHECK_LABEL,
    );
    STANDARD.encode(&mac.as_ref()[..16])
}

fn hashing_key(args: &HashingKeyArgs) -> Result<HashingKey, Failure> {
    let text = input::key_text(
        args.hashing_key_file.as_deref(),
        HASHING_KEY_ENV,
        "API-key hashing key",
    )
    .map_err(|f| {
        if f.kind == "missing_key" {
            Failure::input(
                "missing_key",
                format!(
                    "no API-key hashing key: give --hashing-key-file FILE (the key your service \
                     hashes with) or set {HASHING_KEY_ENV}; to make a new one: \
                     head -c 32 /dev/urandom | base64 > hashing.key && chmod 600 hashing.key"
                ),
            )
        } else {
            f
        }
    })?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_value_depends_on_the_key_only() {
        let a = HashingKey::from_bytes(&[1; 32]).unwrap();
        let a2 = HashingKey::from_bytes(&[1; 32]).unwrap();
        let b = HashingKey::from_bytes(&[2; 32]).unwrap();
        assert_eq!(check_value(&a), check_value(&a2));
        assert_ne!(check_value(&a), check_value(&b));
    }
}
