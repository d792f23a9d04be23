//! The keyring file: versioned JSON, integrity MAC, atomic writes (`docs/envelope.md` §11).
//!
//! ```json
//! {
//!   "format": "rampart-keyring",
//!   "format_version": 1,
//!   "keyring_id": "5f3a9c21",
//!   "name": "oauth-tokens",
//!   "region": "eu-central",
//!   "kind": "values",
//!   "master_key": { "id": "local:kcv=9a1c03e2b7d4f160", "wrapped_keyring_key": "base64url" },
//!   "primary": 3,
//!   "min_decrypt": 2,
//!   "rotate_after_seconds": 7776000,
//!   "versions": [
//!     { "version": 1, "state": "retired", "created": "2026-01-02T00:00:00Z", "retired": "2026-09-01T00:00:00Z" },
//!     { "version": 2, "state": "active", "created": "2026-04-02T00:00:00Z", "wrapped": "base64url" },
//!     { "version": 3, "state": "primary", "created": "2026-07-01T00:00:00Z", "wrapped": "base64url" }
//!   ],
//!   "retention": null,
//!   "integrity": "base64url"
//! }
//! ```
//!
//! - `wrapped_keyring_key`: the KRK wrapped by the master key with AAD
//!   `"rampart/krk/v1" ‖ u32 keyring id ‖ u16 len ‖ region`.
//! - `wrapped`: `nonce(12) ‖ AES-256-GCM(KRK-derived wrap key, version key) ‖ tag(16)`, AAD
//!   `"rampart/keyring/v1" ‖ u32 keyring id ‖ u16 len ‖ region ‖ u32 version ‖ i64 created`.
//! - `integrity`: HMAC-SHA256 under a KRK-derived key over
//!   `"rampart/keyring-integrity/v1\n" ‖` the compact JSON serialization of this document
//!   without the `integrity` field, fields in the order above. It is computed from parsed
//!   values, so whitespace does not matter but any change of content does.
//! - Times are RFC 3339 in UTC, whole seconds. `rotate_after_seconds` is a plain integer (not
//!   an ISO 8601 duration such as `"P90D"`) so that no duration parser is needed.
//! - `retention`: `null`, or `{ "bucket_seconds": N, "retain_seconds": M }` for retention
//!   keyrings; `N` is 3600 or 86400, `M` from 1 to 100 years
//!   ([`MAX_RETENTION`](crate::retention::MAX_RETENTION)) in seconds.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;

use crate::error::{Error, KeyringFileError, MasterKeyError};
use crate::keyring::{
    self, Keyring, KeyringId, KeyringKind, Krk, MAX_FILE_LEN, MAX_VERSIONS, RetentionParams,
    Version, VersionKey, VersionState,
};
use crate::master_key::{KeyMaterial, MasterKey, MasterKeyId, WrappedKey};
use crate::primitives;

const FORMAT: &str = "rampart-keyring";
const FORMAT_VERSION: u32 = 1;
const MAC_LABEL: &[u8] = b"rampart/keyring-integrity/v1\n";

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Doc {
    format: String,
    format_version: u32,
    keyring_id: String,
    name: String,
    region: String,
    kind: KeyringKind,
    master_key: MasterDoc,
    primary: Option<u32>,
    min_decrypt: u32,
    rotate_after_seconds: Option<u64>,
    versions: Vec<VersionDoc>,
    retention: Option<RetentionParams>,
    /// Compare-and-swap counter: +1 at every save. Absent (0) in documents written before it
    /// existed, and then also absent from their MAC input, so those documents still verify;
    /// once present it is MAC-covered like every other field.
    #[serde(default, skip_serializing_if = "is_zero")]
    generation: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    integrity: Option<String>,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MasterDoc {
    id: String,
    wrapped_keyring_key: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct VersionDoc {
    version: u32,
    state: VersionState,
    created: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retired: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    wrapped: Option<String>,
}

impl VersionDoc {
    /// Its `created` and `retired` times, parsed.
    fn times(&self) -> Result<(SystemTime, Option<SystemTime>), Error> {
        let created = parse_time("created", &self.created)?;
        let retired = self
            .retired
            .as_deref()
            .map(|s| parse_time("retired", s))
            .transpose()?;
        Ok((created, retired))
    }
}

fn invalid(field: &'static str, reason: &'static str) -> Error {
    KeyringFileError::InvalidField { field, reason }.into()
}

fn fmt_time(t: SystemTime) -> Result<String, Error> {
    time::OffsetDateTime::from(keyring::whole_seconds(t))
        .format(&Rfc3339)
        .map_err(|_| invalid("created", "time cannot be written as RFC 3339"))
}

fn parse_time(field: &'static str, s: &str) -> Result<SystemTime, Error> {
    let t = time::OffsetDateTime::parse(s, &Rfc3339)
        .map_err(|_| invalid(field, "not an RFC 3339 time"))?;
    if t.nanosecond() != 0 {
        return Err(invalid(field, "must be whole seconds"));
    }
    Ok(keyring::unix_to_system(t.unix_timestamp()))
}

fn mac_input(doc: &Doc) -> Result<Vec<u8>, Error> {
    let mut input = MAC_LABEL.to_vec();
    serde_json::to_writer(&mut input, doc).map_err(KeyringFileError::Json)?;
    Ok(input)
}

fn to_doc(ring: &Keyring, generation: u64) -> Result<Doc, Error> {
    let mut versions = Vec::with_capacity(ring.versions.len());
    for (&version, v) in &ring.versions {
        versions.push(VersionDoc {
            version,
            state: v.state,
            created: fmt_time(v.created)?,
            retired: v.retired.map(fmt_time).transpose()?,
            wrapped: v.wrapped.as_deref().map(primitives::b64url_encode),
        });
    }
    let mut doc = Doc {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        keyring_id: ring.id.to_string(),
        name: ring.name.clone(),
        region: ring.region.clone(),
        kind: ring.kind,
        master_key: MasterDoc {
            id: ring.master_key_id.as_str().to_string(),
            wrapped_keyring_key: primitives::b64url_encode(ring.wrapped_krk.as_bytes()),
        },
        primary: ring.primary,
        min_decrypt: ring.min_decrypt,
        rotate_after_seconds: ring.rotate_after.map(|d| d.as_secs()),
        versions,
        retention: ring.retention,
        generation,
        integrity: None,
    };
    let tag = ring::hmac::sign(&ring.krk.integrity, &mac_input(&doc)?);
    doc.integrity = Some(primitives::b64url_encode(tag.as_ref()));
    Ok(doc)
}

/// The document as `ring` holds it (its current generation).
pub(crate) fn to_json(ring: &Keyring) -> Result<String, Error> {
    to_json_at(ring, ring.generation().unwrap_or(0))
}

/// The document with `generation` written in it (and covered by the MAC).
pub(crate) fn to_json_at(ring: &Keyring, generation: u64) -> Result<String, Error> {
    let doc = to_doc(ring, generation)?;
    let mut s = serde_json::to_string_pretty(&doc).map_err(KeyringFileError::Json)?;
    s.push('\n');
    Ok(s)
}

/// A keyring document that passed every check that needs no key: what loading asks the
/// master key to unwrap. Loading is `parse` (pure), one provider call, then
/// [`ParsedDoc::finish`] (pure), so the sync and async loaders share everything but the call.
pub(crate) struct ParsedDoc {
    doc: Doc,
    id: KeyringId,
    integrity: String,
    pub(crate) master_key_id: MasterKeyId,
    pub(crate) wrapped_krk: WrappedKey,
    /// The AAD the keyring key was wrapped with.
    pub(crate) aad: Vec<u8>,
}

pub(crate) fn from_json(json: &str, master: &dyn MasterKey) -> Result<Keyring, Error> {
    let parsed = parse(json)?;
    parsed.check_master(master.id(), |r| master.admits_region(r))?;
    let krk = master.unwrap(&parsed.wrapped_krk, &parsed.aad)?;
    parsed.finish(krk)
}

pub(crate) fn parse(json: &str) -> Result<ParsedDoc, Error> {
    if json.len() > MAX_FILE_LEN {
        return Err(KeyringFileError::TooLarge { max: MAX_FILE_LEN }.into());
    }
    // Check the format marker first so a wrong file gets a plain answer, not a field error.
    let probe: serde_json::Value = serde_json::from_str(json).map_err(KeyringFileError::Json)?;
    if probe.get("format").and_then(serde_json::Value::as_str) != Some(FORMAT) {
        return Err(KeyringFileError::NotAKeyring.into());
    }
    match probe
        .get("format_version")
        .and_then(serde_json::Value::as_u64)
    {
        Some(v) if v == u64::from(FORMAT_VERSION) => {}
        Some(v) => {
            return Err(KeyringFileError::UnsupportedVersion {
                version: u32::try_from(v).unwrap_or(u32::MAX),
            }
            .into());
        }
        None => return Err(invalid("format_version", "missing or not a number")),
    }
    drop(probe);
    let mut doc: Doc = serde_json::from_str(json).map_err(KeyringFileError::Json)?;

    // Structural checks that need no key.
    let id = parse_id(&doc.keyring_id)?;
    keyring::validate_label("name", &doc.name).map_err(|r| invalid("name", r))?;
    keyring::validate_label("region", &doc.region).map_err(|r| invalid("region", r))?;
    if doc.versions.len() > MAX_VERSIONS {
        return Err(KeyringFileError::TooManyVersions { max: MAX_VERSIONS }.into());
    }
    if doc.kind == KeyringKind::Retention && doc.retention.is_none() {
        return Err(invalid(
            "retention",
            "a retention keyring needs its parameters",
        ));
    }
    if doc.kind == KeyringKind::Values && doc.retention.is_some() {
        return Err(invalid("retention", "must be null for a values keyring"));
    }
    if let Some(r) = doc.retention {
        if !matches!(r.bucket_seconds, 3600 | 86_400) {
            return Err(invalid(
                "bucket_seconds",
                "must be 3600 (hour) or 86400 (day)",
            ));
        }
        // 0 would purge data the moment its bucket ends; a huge value would overflow the
        // bucket-time arithmetic. The writer never produces either.
        if !crate::retention::valid_retain_seconds(r.retain_seconds) {
            return Err(invalid(
                "retain_seconds",
                "must be between 1 second and 100 years",
            ));
        }
    }
    let integrity = doc
        .integrity
        .take()
        .ok_or(KeyringFileError::IntegrityMismatch)?;

    let master_key_id = MasterKeyId::new(doc.master_key.id.clone());
    let wrapped_krk = WrappedKey::from_bytes(
        primitives::b64url_decode(&doc.master_key.wrapped_keyring_key)
            .ok_or_else(|| invalid("wrapped_keyring_key", "not unpadded base64url"))?,
    );
    let aad = keyring::krk_aad(id, &doc.region);
    Ok(ParsedDoc {
        doc,
        id,
        integrity,
        master_key_id,
        wrapped_krk,
        aad,
    })
}

impl ParsedDoc {
    /// The master key's identifier first (a precise error naming the expected one), then
    /// its region rule: both before any provider call.
    pub(crate) fn check_master(
        &self,
        given: &MasterKeyId,
        admits_region: impl FnOnce(&str) -> Result<(), Error>,
    ) -> Result<(), Error> {
        if given != &self.master_key_id {
            return Err(MasterKeyError::WrongMasterKey {
                expected: self.master_key_id.to_string(),
                got: given.to_string(),
            }
            .into());
        }
        admits_region(&self.doc.region)
    }

    /// Verifies the document with the unwrapped keyring key and builds the keyring.
    pub(crate) fn finish(self, krk: KeyMaterial) -> Result<Keyring, Error> {
        let ParsedDoc {
            doc,
            id,
            integrity,
            master_key_id: expected,
            wrapped_krk,
            aad: _,
        } = self;
        let krk = Krk::new(krk);

        // Integrity before trusting any field.
        let tag =
            primitives::b64url_decode(&integrity).ok_or(KeyringFileError::IntegrityMismatch)?;
        ring::hmac::verify(&krk.integrity, &mac_input(&doc)?, &tag)
            .map_err(|_| KeyringFileError::IntegrityMismatch)?;

        let mut versions = BTreeMap::new();
        let mut primaries = 0usize;
        for vd in &doc.versions {
            if vd.version == 0 {
                return Err(invalid("version", "version 0 is not valid"));
            }
            let (created, retired) = vd.times()?;
            let (wrapped, key) = match (vd.state, &vd.wrapped, retired) {
                (VersionState::Retired, None, Some(_)) => (None, None),
                (VersionState::Retired, Some(_), _) => {
                    return Err(
                        KeyringFileError::Inconsistent("a retired version keeps its key").into(),
                    );
                }
                (VersionState::Retired, None, None) => {
                    return Err(KeyringFileError::Inconsistent(
                        "a retired version has no retired time",
                    )
                    .into());
                }
                (_, None, _) => {
                    return Err(KeyringFileError::Inconsistent(
                        "a live version has no wrapped key",
                    )
                    .into());
                }
                (_, Some(_), Some(_)) => {
                    return Err(KeyringFileError::Inconsistent(
                        "a live version has a retired time",
                    )
                    .into());
                }
                (state, Some(w), None) => {
                    if state == VersionState::Primary {
                        primaries += 1;
                    }
                    let w = primitives::b64url_decode(w)
                        .ok_or_else(|| invalid("wrapped", "not unpadded base64url"))?;
                    let k = primitives::unwrap32(
                        &krk.wrap,
                        &w,
                        &keyring::version_aad(id, &doc.region, vd.version, created),
                    )
                    .ok_or(KeyringFileError::VersionUnwrap {
                        version: vd.version,
                    })?;
                    (Some(w), Some(VersionKey::new(k)))
                }
            };
            let v = Version {
                state: vd.state,
                created,
                retired,
                wrapped,
                key,
            };
            if versions.insert(vd.version, v).is_some() {
                return Err(KeyringFileError::DuplicateVersion {
                    version: vd.version,
                }
                .into());
            }
        }
        match doc.primary {
            Some(p) => {
                if primaries != 1
                    || versions.get(&p).map(|v| v.state) != Some(VersionState::Primary)
                {
                    return Err(KeyringFileError::Inconsistent(
                        "\"primary\" must name the one version in state primary",
                    )
                    .into());
                }
                if p < doc.min_decrypt {
                    return Err(
                        KeyringFileError::Inconsistent("primary is below min_decrypt").into(),
                    );
                }
            }
            None if primaries != 0 => {
                return Err(KeyringFileError::Inconsistent(
                    "a version is primary but \"primary\" is null",
                )
                .into());
            }
            None => {}
        }

        let mut ring = Keyring::assemble(
            id,
            doc.name,
            doc.region,
            doc.kind,
            expected,
            wrapped_krk,
            krk,
        );
        ring.primary = doc.primary;
        ring.min_decrypt = doc.min_decrypt;
        ring.rotate_after = doc.rotate_after_seconds.map(Duration::from_secs);
        ring.versions = versions;
        ring.retention = doc.retention;
        ring.set_generation(Some(doc.generation));
        Ok(ring)
    }
}

/// Recomputes the integrity MAC of a (mutated) document with the keyring key that `master`
/// unwraps, so a fuzzer reaches the checks after the MAC. `None` when the document does not
/// parse or its keyring key does not unwrap (loading stops before the MAC then anyway).
// cargo-mutants' replacements of this body go unnoticed: the test build compiles it out.
#[cfg(fuzzing)]
pub(crate) fn resign_for_fuzzing(json: &str, master: &dyn MasterKey) -> Option<String> {
    let mut doc: Doc = serde_json::from_str(json).ok()?;
    let id = parse_id(&doc.keyring_id).ok()?;
    let wrapped = WrappedKey::from_bytes(primitives::b64url_decode(
        &doc.master_key.wrapped_keyring_key,
    )?);
    let krk = Krk::new(
        master
            .unwrap(&wrapped, &keyring::krk_aad(id, &doc.region))
            .ok()?,
    );
    doc.integrity = None;
    let tag = ring::hmac::sign(&krk.integrity, &mac_input(&doc).ok()?);
    doc.integrity = Some(primitives::b64url_encode(tag.as_ref()));
    serde_json::to_string(&doc).ok()
}

fn parse_id(s: &str) -> Result<KeyringId, Error> {
    if s.len() != 8 || !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(invalid("keyring_id", "must be 8 lower-case hex digits"));
    }
    u32::from_str_radix(s, 16)
        .map(KeyringId)
        .map_err(|_| invalid("keyring_id", "must be 8 lower-case hex digits"))
}

/// [`KeyringSummary::read_unverified`](crate::KeyringSummary::read_unverified): the
/// structural checks of [`parse`], no key.
pub(crate) fn summary_unverified(json: &str) -> Result<crate::KeyringSummary, Error> {
    let ParsedDoc {
        doc,
        id,
        master_key_id,
        ..
    } = parse(json)?;
    let versions = doc
        .versions
        .iter()
        .map(|v| {
            let (created, retired) = v.times()?;
            Ok(keyring::VersionInfo {
                version: v.version,
                state: v.state,
                created,
                retired,
            })
        })
        .collect::<Result<_, Error>>()?;
    Ok(crate::KeyringSummary {
        id,
        name: doc.name,
        region: doc.region,
        kind: doc.kind,
        master_key_id,
        primary_version: doc.primary,
        min_decrypt: doc.min_decrypt,
        generation: Some(doc.generation),
        versions,
        retention: doc.retention.and_then(RetentionParams::policy),
    })
}

/// The `generation` of a document, without verifying anything (a compare-and-swap token:
/// the document itself is verified when it is loaded). 0 when absent (older documents).
pub(crate) fn peek_generation(json: &str) -> Result<u64, Error> {
    #[derive(Deserialize)]
    struct Peek {
        #[serde(default)]
        generation: u64,
    }
    serde_json::from_str::<Peek>(json)
        .map(|p| p.generation)
        .map_err(|e| KeyringFileError::Json(e).into())
}

/// The versions a document marks retired, without verifying it: used only to refuse more
/// (a handle that cannot load the stored keyring will not seal under a version it shows
/// retired), never to accept anything.
pub(crate) fn peek_retired(json: &str) -> Option<Vec<u32>> {
    #[derive(Deserialize)]
    struct PeekVersion {
        version: u32,
        state: VersionState,
    }
    #[derive(Deserialize)]
    struct Peek {
        versions: Vec<PeekVersion>,
    }
    let doc: Peek = serde_json::from_str(json).ok()?;
    Some(
        doc.versions
            .iter()
            .filter(|v| v.state == VersionState::Retired)
            .map(|v| v.version)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    //! Rules checked after the MAC: these documents carry a valid MAC (recomputed here with
    //! the KRK), as a buggy writer or an attacker holding the KRK could produce.
    use super::*;
    use crate::master_key::LocalMasterKey;

    fn fixture() -> (LocalMasterKey, Keyring) {
        let m = LocalMasterKey::generate().unwrap();
        let mut r = Keyring::create("f", "eu", &m, SystemTime::UNIX_EPOCH).unwrap();
        r.rotate(&m, SystemTime::UNIX_EPOCH).unwrap();
        (m, r)
    }

    fn resign(ring: &Keyring, f: impl FnOnce(&mut Doc)) -> String {
        let mut doc = to_doc(ring, 0).unwrap();
        doc.integrity = None;
        f(&mut doc);
        let tag = ring::hmac::sign(&ring.krk.integrity, &mac_input(&doc).unwrap());
        doc.integrity = Some(primitives::b64url_encode(tag.as_ref()));
        serde_json::to_string(&doc).unwrap()
    }

    fn load_err(m: &LocalMasterKey, json: &str) -> Error {
        from_json(json, m).unwrap_err()
    }

    #[test]
    fn resigned_unchanged_document_loads() {
        let (m, r) = fixture();
        assert!(from_json(&resign(&r, |_| {}), &m).is_ok());
    }

    #[test]
    fn duplicate_version_is_refused() {
        let (m, r) = fixture();
        let json = resign(&r, |d| {
            let mut v = resign_clone(&d.versions[0]);
            v.state = VersionState::Active;
            d.versions.push(v);
        });
        assert!(matches!(
            load_err(&m, &json),
            Error::KeyringFile(KeyringFileError::DuplicateVersion { version: 1 })
        ));
    }

    fn resign_clone(v: &VersionDoc) -> VersionDoc {
        VersionDoc {
            version: v.version,
            state: v.state,
            created: v.created.clone(),
            retired: v.retired.clone(),
            wrapped: v.wrapped.clone(),
        }
    }

    #[test]
    fn two_primaries_are_refused() {
        let (m, r) = fixture();
        let json = resign(&r, |d| d.versions[0].state = VersionState::Primary);
        assert!(matches!(
            load_err(&m, &json),
            Error::KeyringFile(KeyringFileError::Inconsistent(_))
        ));
    }

    #[test]
    fn primary_below_min_decrypt_is_refused() {
        let (m, r) = fixture();
        let json = resign(&r, |d| d.min_decrypt = 3);
        assert!(matches!(
            load_err(&m, &json),
            Error::KeyringFile(KeyringFileError::Inconsistent(_))
        ));
    }

    #[test]
    fn null_primary_with_a_primary_version_is_refused() {
        let (m, r) = fixture();
        let json = resign(&r, |d| d.primary = None);
        assert!(matches!(
            load_err(&m, &json),
            Error::KeyringFile(KeyringFileError::Inconsistent(_))
        ));
    }

    #[test]
    fn null_primary_without_a_primary_version_loads_and_cannot_seal() {
        let (m, r) = fixture();
        let json = resign(&r, |d| {
            d.primary = None;
            d.versions[1].state = VersionState::Active;
        });
        let ring = from_json(&json, &m).unwrap();
        assert_eq!(ring.primary_version(), None);
        assert!(matches!(
            ring.seal(b"x", &crate::Context::new()),
            Err(Error::NoPrimary)
        ));
    }

    #[test]
    fn tombstone_with_key_is_refused() {
        let (m, r) = fixture();
        let json = resign(&r, |d| {
            d.versions[0].state = VersionState::Retired;
            d.versions[0].retired = Some("2026-01-01T00:00:00Z".into());
        });
        assert!(matches!(
            load_err(&m, &json),
            Error::KeyringFile(KeyringFileError::Inconsistent(_))
        ));
    }

    #[test]
    fn live_version_without_key_is_refused() {
        let (m, r) = fixture();
        let json = resign(&r, |d| d.versions[0].wrapped = None);
        assert!(matches!(
            load_err(&m, &json),
            Error::KeyringFile(KeyringFileError::Inconsistent(_))
        ));
    }

    #[test]
    fn swapped_wrapped_keys_do_not_unwrap() {
        let (m, r) = fixture();
        let json = resign(&r, |d| {
            let a = d.versions[0].wrapped.take();
            d.versions[0].wrapped = d.versions[1].wrapped.take();
            d.versions[1].wrapped = a;
        });
        assert!(matches!(
            load_err(&m, &json),
            Error::KeyringFile(KeyringFileError::VersionUnwrap { .. })
        ));
    }

    #[test]
    fn changed_created_time_does_not_unwrap() {
        let (m, r) = fixture();
        let json = resign(&r, |d| {
            d.versions[0].created = "2000-01-01T00:00:00Z".into();
        });
        assert!(matches!(
            load_err(&m, &json),
            Error::KeyringFile(KeyringFileError::VersionUnwrap { version: 1 })
        ));
    }

    #[test]
    fn fractional_time_and_version_zero_are_refused() {
        let (m, r) = fixture();
        let json = resign(&r, |d| {
            d.versions[0].created = "1970-01-01T00:00:00.5Z".into();
        });
        assert!(matches!(
            load_err(&m, &json),
            Error::KeyringFile(KeyringFileError::InvalidField {
                field: "created",
                ..
            })
        ));
        let json = resign(&r, |d| d.versions[0].version = 0);
        assert!(matches!(
            load_err(&m, &json),
            Error::KeyringFile(KeyringFileError::InvalidField {
                field: "version",
                ..
            })
        ));
    }

    #[test]
    fn retention_params_on_values_keyring_are_refused() {
        let (m, r) = fixture();
        let json = resign(&r, |d| {
            d.retention = Some(RetentionParams {
                bucket_seconds: 3600,
                retain_seconds: 86400,
            });
        });
        assert!(matches!(
            load_err(&m, &json),
            Error::KeyringFile(KeyringFileError::InvalidField {
                field: "retention",
                ..
            })
        ));
    }

    fn retention_fixture() -> (LocalMasterKey, Keyring) {
        use crate::retention::{BucketSize, RetentionKeyring, RetentionPolicy};
        let m = LocalMasterKey::generate().unwrap();
        let policy = RetentionPolicy::new(BucketSize::Hour, Duration::from_secs(3600));
        let mut r = RetentionKeyring::create("u", "eu", &m, policy).unwrap();
        r.prepare(
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
            1,
        )
        .unwrap();
        let json = r.keyring().to_json().unwrap();
        let ring = Keyring::from_json(&json, &m).unwrap();
        (m, ring)
    }

    fn set_retention(ring: &Keyring, bucket_seconds: u64, retain_seconds: u64) -> String {
        resign(ring, |d| {
            d.retention = Some(RetentionParams {
                bucket_seconds,
                retain_seconds,
            });
        })
    }

    #[test]
    fn zero_retain_seconds_is_refused_at_load() {
        let (m, r) = retention_fixture();
        assert!(matches!(
            load_err(&m, &set_retention(&r, 3600, 0)),
            Error::KeyringFile(KeyringFileError::InvalidField {
                field: "retain_seconds",
                ..
            })
        ));
    }

    #[test]
    fn huge_retain_seconds_is_refused_at_load_instead_of_overflowing_later() {
        // Past the limit, `buckets()` would overflow `bucket_end + retention`.
        let (m, r) = retention_fixture();
        for retain in [
            u64::MAX,
            u64::MAX / 2,
            crate::retention::MAX_RETENTION.as_secs() + 1,
        ] {
            assert!(matches!(
                load_err(&m, &set_retention(&r, 3600, retain)),
                Error::KeyringFile(KeyringFileError::InvalidField {
                    field: "retain_seconds",
                    ..
                })
            ));
        }
        let max = crate::retention::MAX_RETENTION.as_secs();
        let ring = from_json(&set_retention(&r, 86_400, max), &m).unwrap();
        let ring = crate::retention::RetentionKeyring::from_keyring(ring).unwrap();
        assert_eq!(ring.buckets().len(), 2);
    }

    #[test]
    fn unsupported_bucket_size_is_refused_at_load() {
        let (m, r) = retention_fixture();
        for bucket in [0, 1, 7200, u64::MAX] {
            assert!(matches!(
                load_err(&m, &set_retention(&r, bucket, 3600)),
                Error::KeyringFile(KeyringFileError::InvalidField {
                    field: "bucket_seconds",
                    ..
                })
            ));
        }
    }
}
