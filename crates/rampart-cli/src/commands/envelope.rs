//! What `keyring` and `encrypt`/`decrypt`/`reencrypt` share: loading the keyring, describing a keyring in JSON, and turning rampart-envelope's errors into exit
//! codes.

use std::path::Path;
use std::time::SystemTime;

use rampart::envelope::{
    Error, FileError, Keyring, KeyringKind, KeyringSummary, MasterKey, VersionInfo, VersionState,
};
use serde_json::{Value, json};

use crate::output::Failure;

/// Loads the keyring file with the master key.
pub(crate) fn load(path: &Path, master: &dyn MasterKey) -> Result<Keyring, Failure> {
    Keyring::load(path, master).map_err(|e| failure(&e).with("keyring_file", path_value(path)))
}

fn path_value(path: &Path) -> Value {
    Value::String(path.display().to_string())
}

/// `{"keyring":..,"region":..,"versions":[{"version":1,"state":"primary","created_at":..}]}`
/// plus the keyring id, kind, primary, minimum decryption version, master key id (public) and
/// the stored generation; for a retention keyring also its policy and every bucket's times.
pub(crate) fn describe(ring: &Keyring) -> Value {
    describe_summary(&ring.summary())
}

/// [`describe`] of a summary, verified or not.
pub(crate) fn describe_summary(ring: &KeyringSummary) -> Value {
    let versions: Vec<Value> = ring.versions.iter().map(version_json).collect();
    let mut body = json!({
        "keyring": ring.name,
        "region": ring.region,
        "id": ring.id.to_string(),
        "kind": kind_name(ring.kind),
        "primary": ring.primary_version,
        "min_decrypt": ring.min_decrypt,
        "master_key": ring.master_key_id.as_str(),
        "generation": ring.generation,
        "versions": versions,
    });
    if let Some(policy) = ring.retention {
        let bucket = policy.bucket.seconds();
        let retain = policy.retention.as_secs();
        body["retention"] = json!({ "bucket_seconds": bucket, "retain_seconds": retain });
        // Each bucket's time range and when a purge destroys it, so cron output says
        // exactly what is still readable.
        for v in body["versions"].as_array_mut().into_iter().flatten() {
            let n = v["version"].as_u64().unwrap_or(0);
            let start = n.saturating_mul(bucket);
            let end = start.saturating_add(bucket);
            v["bucket_start"] = Value::String(rfc3339_secs(start));
            v["bucket_end"] = Value::String(rfc3339_secs(end));
            v["expires_at"] = Value::String(rfc3339_secs(end.saturating_add(retain)));
        }
    }
    body
}

fn rfc3339_secs(secs: u64) -> String {
    rfc3339(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

fn kind_name(kind: KeyringKind) -> &'static str {
    match kind {
        KeyringKind::Values => "values",
        KeyringKind::Retention => "retention",
        _ => "unknown",
    }
}

fn version_json(v: &VersionInfo) -> Value {
    let mut obj = json!({
        "version": v.version,
        "state": state_name(v.state),
        "created_at": rfc3339(v.created),
    });
    if let Some(retired) = v.retired {
        obj["retired_at"] = Value::String(rfc3339(retired));
    }
    obj
}

fn state_name(state: VersionState) -> &'static str {
    match state {
        VersionState::Staged => "staged",
        VersionState::Primary => "primary",
        VersionState::Active => "active",
        VersionState::Retired => "retired",
        _ => "unknown",
    }
}

/// RFC 3339 text of a time (UTC).
pub(crate) fn rfc3339(t: SystemTime) -> String {
    time::OffsetDateTime::from(t)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "invalid-time".to_owned())
}

/// Maps an envelope error to a failure. "This ciphertext does not open with this keyring and
/// context" (tampering, another keyring or region, a retired, unknown or purged version) is
/// a negative verdict, exit 1; everything else (master key, keyring file, malformed input,
/// I/O) is an input error, exit 2. rampart-envelope's messages carry no key or plaintext.
pub(crate) fn failure(err: &Error) -> Failure {
    if let Error::KeyringChanged { .. } = err {
        // A lost race is a refusal, never a success: exit 1, in the operator's words.
        return Failure::rejected("keyring_changed", LOST_RACE);
    }
    let mut message = err.to_string();
    if err.is_tampered() {
        // The most common cause by far is not an attack but a different --context: the
        // pairs are bound to the ciphertext, not stored in it, so nothing can say which.
        message.push_str(CONTEXT_HINT);
    }
    if is_verdict(err) {
        Failure::rejected(err.kind(), message)
    } else {
        Failure::input(err.kind(), message)
    }
}

/// Added to every "altered" failure of decrypt and reencrypt.
pub(crate) const CONTEXT_HINT: &str = "; the --context pairs must be exactly those given to \
     encrypt (same keys and values, all of them): they are not stored with the data, so a \
     different or missing pair fails exactly like altered data";

/// What a writer that lost a race to another writer says (exit 1).
pub(crate) const LOST_RACE: &str =
    "the keyring changed while this command ran; nothing was written";

/// "This ciphertext does not open with this keyring and context": exit 1.
fn is_verdict(err: &Error) -> bool {
    matches!(
        err,
        Error::Authentication
            | Error::CommitmentMismatch
            | Error::Truncated
            | Error::KeyringMismatch { .. }
            | Error::RegionMismatch { .. }
            | Error::UnknownKeyVersion { .. }
            | Error::BelowMinDecrypt { .. }
            | Error::KeyRetired { .. }
            | Error::Expired { .. }
            | Error::File(FileError::HeaderCommitment | FileError::SegmentAuthentication { .. })
    )
}
