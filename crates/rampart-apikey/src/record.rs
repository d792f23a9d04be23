//! The stored record of an API key, and its serde form (version 1, documented on
//! [`ApiKeyRecord`]).

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;

use crate::error::{ConfigError, Error};
use crate::hashing::SecretHash;
use crate::key::{KeyPrefix, PublicId, PublicKey};

/// The record format version this crate writes.
pub const RECORD_VERSION: u32 = 1;
/// Most scopes a key may have.
pub const MAX_SCOPES: usize = 64;
/// Longest scope, in bytes.
pub const MAX_SCOPE_LEN: usize = 128;

/// What a service stores for one API key: never the secret, only its keyed hash.
///
/// Built by [`ApiKeys::issue`](crate::ApiKeys::issue); changed by
/// [`ApiKeys::rotate`](crate::ApiKeys::rotate) and [`revoke`](Self::revoke); saved and
/// loaded with serde. Loading validates every field (a loaded record is well formed).
///
/// # Stored form, version 1 (JSON shown; any serde format works)
///
/// ```json
/// {
///   "v": 1,
///   "public_id": "0123456789ABCDEF",
///   "prefix": "rk_live",
///   "hash": { "alg": "hmac-sha256", "key_version": 1, "mac": "<base64, 32 bytes>" },
///   "created_at": "2026-01-01T00:00:00Z",
///   "expires_at": null,
///   "scopes": ["orders:read"],
///   "revoked_at": null,
///   "last_four": "wXyZ",
///   "previous": null
/// }
/// ```
///
/// - `v`: format version; readers reject versions they do not know.
/// - `hash.mac`: HMAC-SHA256 of the whole secret key text under hashing key `key_version`.
/// - times: RFC 3339 in UTC; `expires_at`, `revoked_at` may be `null`.
/// - `scopes`: sorted, unique; each 1-128 of `[A-Za-z0-9:._/-]`, at most 64.
/// - `previous`: after a rotation, `{ "hash": {..}, "expires_at": "..", "last_four": ".." }`,
///   the replaced secret, accepted until `expires_at`.
///
/// Unknown fields are rejected: a writer that adds a field bumps `v`.
#[derive(Debug, Clone)]
pub struct ApiKeyRecord {
    pub(crate) public_id: PublicId,
    pub(crate) prefix: KeyPrefix,
    pub(crate) hash: SecretHash,
    pub(crate) created_at: SystemTime,
    pub(crate) expires_at: Option<SystemTime>,
    pub(crate) scopes: BTreeSet<String>,
    pub(crate) revoked_at: Option<SystemTime>,
    pub(crate) last_four: String,
    pub(crate) previous: Option<PreviousSecret>,
}

/// A replaced secret that keeps working until `expires_at` (rotation with overlap).
#[derive(Debug, Clone)]
pub struct PreviousSecret {
    pub(crate) hash: SecretHash,
    pub(crate) expires_at: SystemTime,
    pub(crate) last_four: String,
}

impl PreviousSecret {
    /// The old secret's hash.
    #[must_use]
    pub fn hash(&self) -> &SecretHash {
        &self.hash
    }
    /// When the old secret stops working.
    #[must_use]
    pub fn expires_at(&self) -> SystemTime {
        self.expires_at
    }
    /// The old secret's last four characters.
    #[must_use]
    pub fn last_four(&self) -> &str {
        &self.last_four
    }
}

impl ApiKeyRecord {
    /// The public id (the store's lookup key).
    #[must_use]
    pub fn public_id(&self) -> PublicId {
        self.public_id
    }
    /// The prefix the key was issued with.
    #[must_use]
    pub fn prefix(&self) -> &KeyPrefix {
        &self.prefix
    }
    /// The public key (`prefix_publicid`).
    #[must_use]
    pub fn public_key(&self) -> PublicKey {
        PublicKey::new(self.prefix.clone(), self.public_id)
    }
    /// The current secret's hash.
    #[must_use]
    pub fn hash(&self) -> &SecretHash {
        &self.hash
    }
    /// When the key was issued.
    #[must_use]
    pub fn created_at(&self) -> SystemTime {
        self.created_at
    }
    /// When the key stops working, if ever.
    #[must_use]
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.expires_at
    }
    /// The key's scopes, sorted.
    pub fn scopes(&self) -> impl ExactSizeIterator<Item = &str> {
        self.scopes.iter().map(String::as_str)
    }
    /// True when the key has `scope`.
    #[must_use]
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.contains(scope)
    }
    /// When the key was revoked, if it was. A revoked key never authenticates again,
    /// whatever `now` a check is given (revocation must survive clock skew).
    #[must_use]
    pub fn revoked_at(&self) -> Option<SystemTime> {
        self.revoked_at
    }
    /// The last four characters of the current secret, for display (`rk_live_...wXyZ`).
    #[must_use]
    pub fn last_four(&self) -> &str {
        &self.last_four
    }
    /// The replaced secret still in (or past) its grace period, if any.
    #[must_use]
    pub fn previous(&self) -> Option<&PreviousSecret> {
        self.previous.as_ref()
    }

    /// Revokes the key at `now`. Revoking twice keeps the first time. The caller saves the
    /// record back to its store.
    ///
    /// ```
    /// # use rampart_apikey::{ApiKeys, Error, HashingKey, InMemoryStore, KeyOptions, KeyPrefix, Keyset};
    /// # use std::time::{Duration, SystemTime};
    /// # let keys = ApiKeys::new(KeyPrefix::default(), Keyset::new(1, HashingKey::generate()?));
    /// # let now = SystemTime::now();
    /// let store = InMemoryStore::new();
    /// let issued = keys.issue(KeyOptions::new(), now)?;
    /// let mut record = issued.record;
    /// record.revoke(now);
    /// record.revoke(now + Duration::from_secs(60)); // keeps the first time
    /// assert_eq!(record.revoked_at(), Some(now));
    /// store.save(record);
    /// // Final, even for a check whose clock says it is earlier.
    /// let earlier = now - Duration::from_secs(3600);
    /// let denied = keys.check(&store, issued.secret_key.expose_secret(), &[], earlier);
    /// assert!(matches!(denied, Err(Error::Revoked { .. })));
    /// # Ok::<(), rampart_apikey::Error>(())
    /// ```
    pub fn revoke(&mut self, now: SystemTime) {
        self.revoked_at.get_or_insert(now);
    }

    /// Ends a rotation's grace period at once: the previous secret stops working.
    pub fn drop_previous(&mut self) {
        self.previous = None;
    }

    /// Replaces the scopes.
    ///
    /// # Errors
    /// [`ConfigError::Scope`] / [`ConfigError::TooManyScopes`]; the record is unchanged.
    pub fn set_scopes<I, S>(&mut self, scopes: I) -> Result<(), Error>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = validate_scopes(scopes)?;
        Ok(())
    }

    /// Sets or clears the expiry.
    ///
    /// # Errors
    /// [`ConfigError::Time`] when not after creation or not representable in RFC 3339.
    pub fn set_expires_at(&mut self, expires_at: Option<SystemTime>) -> Result<(), Error> {
        if let Some(t) = expires_at {
            check_time(t)?;
            if t <= self.created_at {
                return Err(ConfigError::Time.into());
            }
        }
        self.expires_at = expires_at;
        Ok(())
    }
}

/// Validates and deduplicates scopes.
pub(crate) fn validate_scopes<I, S>(scopes: I) -> Result<BTreeSet<String>, Error>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let mut out = BTreeSet::new();
    for s in scopes {
        let s = s.into();
        if !scope_ok(&s) {
            return Err(ConfigError::Scope.into());
        }
        out.insert(s);
        if out.len() > MAX_SCOPES {
            return Err(ConfigError::TooManyScopes.into());
        }
    }
    Ok(out)
}

fn scope_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_SCOPE_LEN
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || b":._/-".contains(&c))
}

/// Checks that a time fits RFC 3339 (years 0000-9999) so the record can be saved.
pub(crate) fn check_time(t: SystemTime) -> Result<(), Error> {
    to_odt(t)
        .map(|_| ())
        .ok_or_else(|| ConfigError::Time.into())
}

fn to_odt(t: SystemTime) -> Option<OffsetDateTime> {
    let nanos: i128 = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i128::try_from(d.as_nanos()).ok()?,
        Err(e) => -i128::try_from(e.duration().as_nanos()).ok()?,
    };
    let odt = OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()?;
    (0..=9999).contains(&odt.year()).then_some(odt)
}

fn from_odt(t: OffsetDateTime) -> Option<SystemTime> {
    let nanos = t.unix_timestamp_nanos();
    let abs = Duration::new(
        u64::try_from(nanos.unsigned_abs() / 1_000_000_000).ok()?,
        u32::try_from(nanos.unsigned_abs() % 1_000_000_000).ok()?,
    );
    if nanos >= 0 {
        UNIX_EPOCH.checked_add(abs)
    } else {
        UNIX_EPOCH.checked_sub(abs)
    }
}

// ---- serde: a private wire form, so every loaded record has been validated ----

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireHash {
    alg: String,
    key_version: u32,
    mac: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WirePrevious {
    hash: WireHash,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
    last_four: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireRecord {
    v: u32,
    public_id: PublicId,
    prefix: KeyPrefix,
    hash: WireHash,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    expires_at: Option<OffsetDateTime>,
    scopes: Vec<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    revoked_at: Option<OffsetDateTime>,
    last_four: String,
    previous: Option<WirePrevious>,
}

const ALG: &str = "hmac-sha256";

fn hash_to_wire(h: &SecretHash) -> WireHash {
    WireHash {
        alg: ALG.to_owned(),
        key_version: h.key_version,
        mac: STANDARD.encode(h.mac),
    }
}

fn hash_from_wire(w: &WireHash) -> Result<SecretHash, &'static str> {
    if w.alg != ALG {
        return Err("unsupported hash algorithm");
    }
    let bytes = STANDARD
        .decode(&w.mac)
        .map_err(|_| "hash mac is not base64")?;
    let mac: [u8; 32] = bytes.try_into().map_err(|_| "hash mac is not 32 bytes")?;
    Ok(SecretHash::from_parts(w.key_version, mac))
}

fn last_four_ok(s: &str) -> bool {
    s.len() == 4 && s.bytes().all(|c| c.is_ascii_alphanumeric())
}

impl Serialize for ApiKeyRecord {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::Error as _;
        let t = |t: SystemTime| to_odt(t).ok_or_else(|| S::Error::custom("time out of range"));
        let wire = WireRecord {
            v: RECORD_VERSION,
            public_id: self.public_id,
            prefix: self.prefix.clone(),
            hash: hash_to_wire(&self.hash),
            created_at: t(self.created_at)?,
            expires_at: self.expires_at.map(t).transpose()?,
            scopes: self.scopes.iter().cloned().collect(),
            revoked_at: self.revoked_at.map(t).transpose()?,
            last_four: self.last_four.clone(),
            previous: match &self.previous {
                Some(p) => Some(WirePrevious {
                    hash: hash_to_wire(&p.hash),
                    expires_at: t(p.expires_at)?,
                    last_four: p.last_four.clone(),
                }),
                None => None,
            },
        };
        wire.serialize(s)
    }
}

impl<'de> Deserialize<'de> for ApiKeyRecord {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let w = WireRecord::deserialize(d)?;
        if w.v != RECORD_VERSION {
            return Err(D::Error::custom(format_args!(
                "unsupported api key record version {} (this reader knows {RECORD_VERSION})",
                w.v
            )));
        }
        let t =
            |t: OffsetDateTime| from_odt(t).ok_or_else(|| D::Error::custom("time out of range"));
        let hash = hash_from_wire(&w.hash).map_err(D::Error::custom)?;
        if !last_four_ok(&w.last_four) {
            return Err(D::Error::custom("last_four is not 4 base62 characters"));
        }
        let scopes = validate_scopes(w.scopes).map_err(|_| D::Error::custom("invalid scopes"))?;
        let previous = match w.previous {
            Some(p) => {
                if !last_four_ok(&p.last_four) {
                    return Err(D::Error::custom("last_four is not 4 base62 characters"));
                }
                Some(PreviousSecret {
                    hash: hash_from_wire(&p.hash).map_err(D::Error::custom)?,
                    expires_at: t(p.expires_at)?,
                    last_four: p.last_four,
                })
            }
            None => None,
        };
        Ok(Self {
            public_id: w.public_id,
            prefix: w.prefix,
            hash,
            created_at: t(w.created_at)?,
            expires_at: w.expires_at.map(t).transpose()?,
            scopes,
            revoked_at: w.revoked_at.map(t).transpose()?,
            last_four: w.last_four,
            previous,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_including_before_epoch() {
        for t in [
            UNIX_EPOCH,
            UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_789),
            UNIX_EPOCH - Duration::from_secs(86_400),
        ] {
            assert_eq!(from_odt(to_odt(t).unwrap()), Some(t));
        }
    }

    #[test]
    fn time_beyond_year_9999_is_refused() {
        let far = UNIX_EPOCH + Duration::from_secs(400_000_000_000);
        assert!(check_time(far).is_err());
    }

    #[test]
    fn scopes_are_validated_and_deduplicated() {
        let s = validate_scopes(["b", "a", "b"]).unwrap();
        assert_eq!(s.into_iter().collect::<Vec<_>>(), vec!["a", "b"]);
        assert!(validate_scopes([""]).is_err());
        assert!(validate_scopes(["has space"]).is_err());
        assert!(validate_scopes(["x".repeat(129)]).is_err());
        assert!(validate_scopes((0..65).map(|i| format!("s{i}"))).is_err());
        assert!(validate_scopes(["orders:read", "a/b.c-d_e"]).is_ok());
    }
}
