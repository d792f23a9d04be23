//! Issuing, checking, rotating: [`ApiKeys`] ties a prefix and a keyset together.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use ring::rand::SystemRandom;
use subtle::{Choice, ConstantTimeEq};

use crate::error::{ConfigError, Error};
use crate::hashing::{Keyset, SecretHash};
use crate::key::{self, KeyPrefix, KeyView, ParsedApiKey, PublicId, PublicKey, SecretKey};
use crate::record::{self, ApiKeyRecord, PreviousSecret};
use crate::store::{AsyncKeyStore, KeyStore};

/// Issues and checks API keys for one service.
///
/// Holds the prefix new keys get, the prefixes accepted when checking (by default only that
/// one, so a `_test_` key is refused by a live service), and the hashing [`Keyset`].
#[derive(Debug)]
pub struct ApiKeys {
    prefix: KeyPrefix,
    accepted: Vec<KeyPrefix>,
    keyset: Keyset,
    rng: SystemRandom,
}

/// Options for a new key: scopes and expiry. Defaults: no scopes, no expiry.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct KeyOptions {
    scopes: Vec<String>,
    expires_at: Option<SystemTime>,
    valid_for: Option<Duration>,
}

impl KeyOptions {
    /// No scopes, no expiry.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds scopes (validated at issue: 1-128 of `[A-Za-z0-9:._/-]`, at most 64).
    #[must_use]
    pub fn with_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes.extend(scopes.into_iter().map(Into::into));
        self
    }

    /// Expires at a fixed time.
    #[must_use]
    pub fn with_expires_at(mut self, at: SystemTime) -> Self {
        self.expires_at = Some(at);
        self.valid_for = None;
        self
    }

    /// Expires this long after issue.
    #[must_use]
    pub fn with_valid_for(mut self, d: Duration) -> Self {
        self.valid_for = Some(d);
        self.expires_at = None;
        self
    }
}

/// A freshly issued key: hand `public_key` and `secret_key` to the customer (the secret
/// once), store `record`.
#[derive(Debug)]
#[non_exhaustive]
pub struct IssuedKey {
    /// The public key, `prefix_publicid`.
    pub public_key: PublicKey,
    /// The secret key; never stored by the service.
    pub secret_key: SecretKey,
    /// The record to store.
    pub record: ApiKeyRecord,
}

/// A key that passed every check: the verified identity and what it may do.
#[derive(Debug, Clone)]
pub struct VerifiedKey {
    record: Arc<ApiKeyRecord>,
    via_previous: bool,
    needs_rehash: bool,
}

impl VerifiedKey {
    /// The verified public id.
    #[must_use]
    pub fn public_id(&self) -> PublicId {
        self.record.public_id()
    }
    /// The key's scopes.
    pub fn scopes(&self) -> impl ExactSizeIterator<Item = &str> {
        self.record.scopes()
    }
    /// True when the key has `scope`.
    #[must_use]
    pub fn has_scope(&self, scope: &str) -> bool {
        self.record.has_scope(scope)
    }
    /// The record that matched.
    #[must_use]
    pub fn record(&self) -> &ApiKeyRecord {
        &self.record
    }
    /// True when the client used the previous secret of a rotation (still in its grace
    /// period): a reason to remind the owner to deploy the new one.
    #[must_use]
    pub fn used_previous_secret(&self) -> bool {
        self.via_previous
    }
    /// True when the record's hash is under an older hashing key version; call
    /// [`ApiKeys::rehash`] with the presented key and save the result.
    #[must_use]
    pub fn needs_rehash(&self) -> bool {
        self.needs_rehash
    }
}

impl ApiKeys {
    /// Issues keys with `prefix`, accepts only that prefix, hashes with `keyset`.
    ///
    /// ```
    /// # use rampart_apikey::{ApiKeys, HashingKey, KeyPrefix, Keyset};
    /// let keys = ApiKeys::new(KeyPrefix::new("rk", "live")?, Keyset::new(1, HashingKey::generate()?));
    /// # Ok::<(), rampart_apikey::Error>(())
    /// ```
    #[must_use]
    pub fn new(prefix: KeyPrefix, keyset: Keyset) -> Self {
        Self {
            accepted: vec![prefix.clone()],
            prefix,
            keyset,
            rng: SystemRandom::new(),
        }
    }

    /// Also accepts keys with `prefix` when checking (for example an old service name).
    #[must_use]
    pub fn accept_prefix(mut self, prefix: KeyPrefix) -> Self {
        if !self.accepted.contains(&prefix) {
            self.accepted.push(prefix);
        }
        self
    }

    /// The prefix new keys get.
    #[must_use]
    pub fn prefix(&self) -> &KeyPrefix {
        &self.prefix
    }

    /// The hashing keys.
    #[must_use]
    pub fn keyset(&self) -> &Keyset {
        &self.keyset
    }

    /// The hashing keys, to add a version and make it current (hashing key rotation).
    pub fn keyset_mut(&mut self) -> &mut Keyset {
        &mut self.keyset
    }

    /// Issues a new key pair at `now`: a fresh public id and secret from the OS CSPRNG.
    ///
    /// # Errors
    /// [`Error::Config`] for invalid scopes or an expiry not after `now` (or beyond year
    /// 9999); [`Error::Random`] when the OS generator fails.
    ///
    /// ```
    /// # use rampart_apikey::{ApiKeys, HashingKey, KeyOptions, KeyPrefix, Keyset};
    /// # use std::time::{Duration, SystemTime};
    /// # let keys = ApiKeys::new(KeyPrefix::default(), Keyset::new(1, HashingKey::generate()?));
    /// let now = SystemTime::now();
    /// let issued = keys.issue(KeyOptions::new().with_scopes(["orders:read"]).with_valid_for(Duration::from_secs(86_400)), now)?;
    /// assert!(issued.secret_key.expose_secret().starts_with("rk_live_"));
    /// assert_eq!(issued.record.public_id(), issued.public_key.public_id());
    /// # Ok::<(), rampart_apikey::Error>(())
    /// ```
    pub fn issue(&self, options: KeyOptions, now: SystemTime) -> Result<IssuedKey, Error> {
        record::check_time(now)?;
        let scopes: BTreeSet<String> = record::validate_scopes(options.scopes)?;
        let expires_at = match (options.expires_at, options.valid_for) {
            (Some(t), _) => Some(t),
            (None, Some(d)) => Some(now.checked_add(d).ok_or(ConfigError::Time)?),
            (None, None) => None,
        };
        if let Some(t) = expires_at {
            record::check_time(t)?;
            if t <= now {
                return Err(ConfigError::Time.into());
            }
        }
        let id = key::generate_public_id(&self.rng)?;
        let secret = key::generate(&self.rng, &self.prefix, id)?;
        let record = ApiKeyRecord {
            public_id: id,
            prefix: self.prefix.clone(),
            hash: self.keyset.hash_current(secret.expose_secret().as_bytes()),
            created_at: now,
            expires_at,
            scopes,
            revoked_at: None,
            last_four: secret.last_four().to_owned(),
            previous: None,
        };
        Ok(IssuedKey {
            public_key: PublicKey::new(self.prefix.clone(), id),
            secret_key: secret,
            record,
        })
    }

    /// Rotation with overlap: gives `record` a new secret (same public id and prefix) and
    /// keeps the current secret working until `now + grace`. A previous secret from an
    /// earlier rotation is replaced (only one old secret is kept). Save the record after.
    ///
    /// # Errors
    /// [`ConfigError::RevokedKey`] for a revoked record (revocation is final);
    /// [`Error::Config`] when `now + grace` is out of range; [`Error::Random`].
    ///
    /// ```
    /// # use rampart_apikey::{ApiKeys, Error, HashingKey, InMemoryStore, KeyOptions, KeyPrefix, Keyset};
    /// # use std::time::{Duration, SystemTime};
    /// # let keys = ApiKeys::new(KeyPrefix::default(), Keyset::new(1, HashingKey::generate()?));
    /// # let now = SystemTime::now();
    /// let store = InMemoryStore::new();
    /// let issued = keys.issue(KeyOptions::new(), now)?;
    /// let old = issued.secret_key;
    /// let mut record = issued.record;
    /// let new = keys.rotate(&mut record, Duration::from_secs(7 * 86_400), now)?;
    /// store.save(record);
    /// // Both work during the week of grace; the old one says so.
    /// assert!(!keys.check(&store, new.expose_secret(), &[], now)?.used_previous_secret());
    /// assert!(keys.check(&store, old.expose_secret(), &[], now)?.used_previous_secret());
    /// let later = now + Duration::from_secs(8 * 86_400);
    /// assert!(matches!(keys.check(&store, old.expose_secret(), &[], later), Err(Error::RotatedOut { .. })));
    /// # Ok::<(), rampart_apikey::Error>(())
    /// ```
    pub fn rotate(
        &self,
        record: &mut ApiKeyRecord,
        grace: Duration,
        now: SystemTime,
    ) -> Result<SecretKey, Error> {
        if record.revoked_at.is_some() {
            return Err(ConfigError::RevokedKey.into());
        }
        let grace_end = now.checked_add(grace).ok_or(ConfigError::Time)?;
        record::check_time(grace_end)?;
        // The two secrets never share their last four characters: a check uses them to pick
        // the one hash to compute (see `verify`). A clash has probability 62^-4 per draw.
        let secret = loop {
            let s = key::generate(&self.rng, &record.prefix, record.public_id)?;
            if s.last_four() != record.last_four {
                break s;
            }
        };
        let new_hash = self.keyset.hash_current(secret.expose_secret().as_bytes());
        let old_hash = std::mem::replace(&mut record.hash, new_hash);
        let old_last_four = std::mem::replace(&mut record.last_four, secret.last_four().to_owned());
        record.previous = (grace > Duration::ZERO).then_some(PreviousSecret {
            hash: old_hash,
            expires_at: grace_end,
            last_four: old_last_four,
        });
        Ok(secret)
    }

    /// Parses a secret key and checks that its prefix is accepted here.
    ///
    /// # Errors
    /// As [`ParsedApiKey::parse`], and [`Error::UnexpectedPrefix`].
    pub fn parse(&self, secret_key: &str) -> Result<ParsedApiKey, Error> {
        let parsed = ParsedApiKey::parse(secret_key)?;
        self.check_prefix(&parsed.view())?;
        Ok(parsed)
    }

    /// The pair form of [`parse`](Self::parse).
    ///
    /// # Errors
    /// As [`ParsedApiKey::parse_pair`], and [`Error::UnexpectedPrefix`].
    pub fn parse_pair(&self, public_key: &str, secret_key: &str) -> Result<ParsedApiKey, Error> {
        let parsed = ParsedApiKey::parse_pair(public_key, secret_key)?;
        self.check_prefix(&parsed.view())?;
        Ok(parsed)
    }

    fn check_prefix(&self, key: &KeyView<'_>) -> Result<(), Error> {
        let prefix = key.prefix_bytes();
        if self
            .accepted
            .iter()
            .any(|p| p.as_str().as_bytes() == prefix)
        {
            Ok(())
        } else {
            Err(Error::UnexpectedPrefix { public_id: key.id })
        }
    }

    /// The whole check of a secret key: parse, checksum, prefix, store lookup by public id,
    /// constant-time hash comparison, then revocation, expiry and `required_scopes`.
    ///
    /// # Errors
    /// One typed error per failure (see [`Error`]); every variant after parsing names the
    /// public id, for counting failures per key. Answer the client with a generic 401.
    ///
    /// ```
    /// # use rampart_apikey::{ApiKeys, Error, HashingKey, InMemoryStore, KeyOptions, KeyPrefix, Keyset};
    /// # use std::time::SystemTime;
    /// # let keys = ApiKeys::new(KeyPrefix::default(), Keyset::new(1, HashingKey::generate()?));
    /// # let now = SystemTime::now();
    /// let store = InMemoryStore::new();
    /// let issued = keys.issue(KeyOptions::new().with_scopes(["read"]), now)?;
    /// store.insert(issued.record)?;
    /// let ok = keys.check(&store, issued.secret_key.expose_secret(), &["read"], now)?;
    /// assert_eq!(ok.public_id(), issued.public_key.public_id());
    /// let denied = keys.check(&store, issued.secret_key.expose_secret(), &["write"], now);
    /// assert!(matches!(denied, Err(Error::MissingScope { .. })));
    /// # Ok::<(), rampart_apikey::Error>(())
    /// ```
    pub fn check<S: KeyStore + ?Sized>(
        &self,
        store: &S,
        secret_key: &str,
        required_scopes: &[&str],
        now: SystemTime,
    ) -> Result<VerifiedKey, Error> {
        // Borrowed, not copied: the request path neither allocates nor duplicates the secret.
        let key = KeyView::split(secret_key)?;
        self.check_prefix(&key)?;
        let record = self.lookup(store.find(&key.id), &key)?;
        self.verify_view(&key, record, required_scopes, now)
    }

    /// [`check`](Self::check) for the pair form (public key and secret key sent together).
    ///
    /// # Errors
    /// As [`check`](Self::check), plus [`Error::PairMismatch`].
    ///
    /// ```
    /// # use rampart_apikey::{ApiKeys, Error, HashingKey, InMemoryStore, KeyOptions, KeyPrefix, Keyset};
    /// # use std::time::{Duration, SystemTime};
    /// # let keys = ApiKeys::new(KeyPrefix::default(), Keyset::new(1, HashingKey::generate()?));
    /// # let now = SystemTime::now();
    /// let store = InMemoryStore::new();
    /// let a = keys.issue(KeyOptions::new(), now)?;
    /// let b = keys.issue(KeyOptions::new(), now)?;
    /// let (a_public, a_secret) = (a.public_key.to_string(), a.secret_key);
    /// store.insert(a.record)?;
    /// store.insert(b.record)?;
    /// let who = keys.check_pair(&store, &a_public, a_secret.expose_secret(), &[], now)?;
    /// assert_eq!(who.public_id(), a.public_key.public_id());
    /// // A's secret presented with B's public key: refused before any lookup.
    /// let mixed = keys.check_pair(&store, &b.public_key.to_string(), a_secret.expose_secret(), &[], now);
    /// assert!(matches!(mixed, Err(Error::PairMismatch { .. })));
    /// # Ok::<(), rampart_apikey::Error>(())
    /// ```
    pub fn check_pair<S: KeyStore + ?Sized>(
        &self,
        store: &S,
        public_key: &str,
        secret_key: &str,
        required_scopes: &[&str],
        now: SystemTime,
    ) -> Result<VerifiedKey, Error> {
        let parsed = self.parse_pair(public_key, secret_key)?;
        self.check_parsed(store, &parsed, required_scopes, now)
    }

    /// [`check`](Self::check) for a key already parsed.
    ///
    /// # Errors
    /// As [`check`](Self::check) after parsing.
    pub fn check_parsed<S: KeyStore + ?Sized>(
        &self,
        store: &S,
        parsed: &ParsedApiKey,
        required_scopes: &[&str],
        now: SystemTime,
    ) -> Result<VerifiedKey, Error> {
        let key = parsed.view();
        let record = self.lookup(store.find(&key.id), &key)?;
        self.verify_view(&key, record, required_scopes, now)
    }

    /// [`check`](Self::check) with an async store: only the lookup awaits.
    ///
    /// # Errors
    /// As [`check`](Self::check).
    pub async fn check_async<S: AsyncKeyStore + ?Sized>(
        &self,
        store: &S,
        secret_key: &str,
        required_scopes: &[&str],
        now: SystemTime,
    ) -> Result<VerifiedKey, Error> {
        let key = KeyView::split(secret_key)?;
        self.check_prefix(&key)?;
        let found = store.find(&key.id).await;
        let record = self.lookup(found, &key)?;
        self.verify_view(&key, record, required_scopes, now)
    }

    fn lookup<E: std::error::Error + Send + Sync + 'static>(
        &self,
        found: Result<Option<Arc<ApiKeyRecord>>, E>,
        key: &KeyView<'_>,
    ) -> Result<Option<Arc<ApiKeyRecord>>, Error> {
        found.map_err(|e| {
            // Same hashing work on this path too, so a failing store is not a timing signal
            // distinguishable from a slow one; cheap next to the failure itself.
            let _ = self.keyset.hash_current(key.bytes);
            Error::Store(Box::new(e))
        })
    }

    /// The checks after the lookup, for services that load the record themselves (any
    /// database, sync or async): pass what the lookup by `parsed.public_id()` returned.
    ///
    /// Every path computes exactly one HMAC: when `record` is `None` it is computed and
    /// compared against a dummy, so an unknown id costs the same as a wrong secret; a record
    /// in rotation picks the one hash (current or previous, whatever its hashing key
    /// version) that the presented key's last four characters name.
    ///
    /// Order: hash comparison first, so expiry, revocation and scopes are revealed only to a
    /// caller who holds the secret.
    ///
    /// # Errors
    /// [`Error::UnknownKey`], [`Error::Mismatch`], [`Error::Revoked`], [`Error::Expired`],
    /// [`Error::RotatedOut`], [`Error::MissingScope`],
    /// [`Error::UnknownHashingKeyVersion`].
    ///
    /// ```
    /// # use rampart_apikey::{ApiKeys, Error, HashingKey, InMemoryStore, KeyOptions, KeyPrefix, Keyset};
    /// # use std::time::{Duration, SystemTime};
    /// # let keys = ApiKeys::new(KeyPrefix::default(), Keyset::new(1, HashingKey::generate()?));
    /// # let now = SystemTime::now();
    /// # let issued = keys.issue(KeyOptions::new().with_scopes(["read"]), now)?;
    /// # let presented = issued.secret_key.expose_secret().to_owned();
    /// # let load_from_db = |_id| Some(std::sync::Arc::new(issued.record.clone()));
    /// let parsed = keys.parse(&presented)?; // checksum and prefix, no lookup yet
    /// let record = load_from_db(parsed.public_id()); // your query: Option<Arc<ApiKeyRecord>>
    /// let who = keys.verify(&parsed, record, &["read"], now)?;
    /// assert!(who.has_scope("read"));
    /// assert!(matches!(keys.verify(&parsed, None, &[], now), Err(Error::UnknownKey { .. })));
    /// # Ok::<(), rampart_apikey::Error>(())
    /// ```
    pub fn verify(
        &self,
        parsed: &ParsedApiKey,
        record: Option<Arc<ApiKeyRecord>>,
        required_scopes: &[&str],
        now: SystemTime,
    ) -> Result<VerifiedKey, Error> {
        self.verify_view(&parsed.view(), record, required_scopes, now)
    }

    fn verify_view(
        &self,
        key: &KeyView<'_>,
        record: Option<Arc<ApiKeyRecord>>,
        required_scopes: &[&str],
        now: SystemTime,
    ) -> Result<VerifiedKey, Error> {
        let public_id = key.id;
        let secret = key.bytes;
        // A store that returns a record for another id is treated as "not found".
        let Some(record) = record.filter(|r| r.public_id == public_id) else {
            let computed = self.keyset.hash_current(secret);
            let dummy = SecretHash::from_parts(computed.key_version, [0u8; 32]);
            let _ = bool::from(computed.ct_eq(&dummy));
            return Err(Error::UnknownKey { public_id });
        };
        // Exactly one HMAC on every path (unknown id, unknown hashing key version, current
        // secret, previous secret under the same or another hashing key version), so timing
        // tells nothing about which case a guess hit. The presented key's last four
        // characters pick the one hash it can match: the previous secret's when they are its
        // last four (and not the current one's; `rotate` never lets the two share them),
        // otherwise the current one's. Both choices cost one HMAC, and the hash compared is
        // still the whole MAC in constant time.
        let presented_four = &secret[secret.len().saturating_sub(4)..];
        // (cargo-mutants: `&&` -> `||` only changes which of two failing comparisons a wrong
        // secret meets first; the outcome is Mismatch either way, with one HMAC.)
        let prefer_previous = record.previous.as_ref().is_some_and(|p| {
            bool::from(p.last_four.as_bytes().ct_eq(presented_four))
                && !bool::from(record.last_four.as_bytes().ct_eq(presented_four))
        });
        let previous_hash = record.previous.as_ref().map(|p| &p.hash);
        let (primary, other) = match previous_hash {
            Some(prev) if prefer_previous => (prev, Some(&record.hash)),
            _ => (&record.hash, previous_hash),
        };
        let version = primary.key_version;
        let Some(computed) = self.keyset.hash(version, secret) else {
            let _ = self.keyset.hash_current(secret);
            // A previous secret under a dropped hashing key simply no longer matches (as
            // before this choice existed); a current one is a configuration error.
            return Err(if prefer_previous {
                Error::Mismatch { public_id }
            } else {
                Error::UnknownHashingKeyVersion { public_id, version }
            });
        };
        let primary_ok = computed.ct_eq(primary);
        // The other hash can be compared too when it is under the same hashing key (the
        // same HMAC): the version is public, so branching on it is fine. (A safety net:
        // `rotate` keeps the two secrets' last four apart, so the choice above already picks
        // the matching hash; cargo-mutants' `==` -> `!=` here is equivalent for that reason.)
        let other_ok = other
            .filter(|o| o.key_version == version)
            .map_or(Choice::from(0), |o| computed.ct_eq(o));
        let (current_ok, previous_ok) = if prefer_previous {
            (other_ok, primary_ok)
        } else {
            (primary_ok, other_ok)
        };
        // (`|` -> `^` is equivalent: one secret cannot match both hashes, rotate draws anew.)
        if !bool::from(current_ok | previous_ok) {
            return Err(Error::Mismatch { public_id });
        }
        // Authenticated from here on: branching no longer reveals anything about the secret.
        if let Some(revoked_at) = record.revoked_at {
            return Err(Error::Revoked {
                public_id,
                revoked_at,
            });
        }
        if let Some(expired_at) = record.expires_at.filter(|t| now >= *t) {
            return Err(Error::Expired {
                public_id,
                expired_at,
            });
        }
        let via_previous = !bool::from(current_ok);
        if via_previous {
            // `previous_ok` implies `previous` is present.
            let grace_end = record.previous.as_ref().map_or(now, |p| p.expires_at);
            if now >= grace_end {
                return Err(Error::RotatedOut {
                    public_id,
                    grace_ended_at: grace_end,
                });
            }
        }
        if let Some(missing) = required_scopes
            .iter()
            .find(|s| !record.scopes.contains(**s))
        {
            return Err(Error::MissingScope {
                public_id,
                scope: (*missing).to_owned(),
            });
        }
        let needs_rehash = !via_previous && version != self.keyset.current_version();
        Ok(VerifiedKey {
            record,
            via_previous,
            needs_rehash,
        })
    }

    /// Re-hashes a record under the current hashing key version, after the presented key
    /// verifies against it (checked again here, so a wrong key can never overwrite a
    /// record's hash). Returns `None` when the record is already current or the key matched
    /// only the previous secret. Save the returned record.
    ///
    /// # Errors
    /// Every error of [`verify`](Self::verify) (without scope requirements).
    ///
    /// ```
    /// # use rampart_apikey::{ApiKeys, Error, HashingKey, InMemoryStore, KeyOptions, KeyPrefix, Keyset};
    /// # use std::time::{Duration, SystemTime};
    /// # let keys = ApiKeys::new(KeyPrefix::default(), Keyset::new(1, HashingKey::generate()?));
    /// # let now = SystemTime::now();
    /// # let mut keys = keys;
    /// let store = InMemoryStore::new();
    /// let issued = keys.issue(KeyOptions::new(), now)?;
    /// store.insert(issued.record)?;
    /// // The hashing key rotates: version 2 hashes from now on, version 1 still verifies.
    /// keys.keyset_mut().add(2, HashingKey::generate()?)?;
    /// keys.keyset_mut().set_current(2)?;
    /// let parsed = keys.parse(issued.secret_key.expose_secret())?;
    /// let who = keys.check_parsed(&store, &parsed, &[], now)?;
    /// assert!(who.needs_rehash());
    /// let updated = keys.rehash(&parsed, who.record(), now)?.expect("under version 1");
    /// assert_eq!(updated.hash().key_version(), 2);
    /// store.save(updated);
    /// assert!(!keys.check_parsed(&store, &parsed, &[], now)?.needs_rehash());
    /// # Ok::<(), rampart_apikey::Error>(())
    /// ```
    pub fn rehash(
        &self,
        parsed: &ParsedApiKey,
        record: &ApiKeyRecord,
        now: SystemTime,
    ) -> Result<Option<ApiKeyRecord>, Error> {
        let verified = self.verify(parsed, Some(Arc::new(record.clone())), &[], now)?;
        if !verified.needs_rehash {
            return Ok(None);
        }
        let mut updated = record.clone();
        updated.hash = self.keyset.hash_current(parsed.view().bytes);
        Ok(Some(updated))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hashing::{HashingKey, macs_computed};
    use crate::store::InMemoryStore;
    use std::time::UNIX_EPOCH;

    fn t0() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_767_225_600)
    }

    /// HMACs computed by one check of `secret`, and whether it passed.
    fn macs(keys: &ApiKeys, store: &InMemoryStore, secret: &str) -> (usize, bool) {
        let before = macs_computed();
        let ok = keys.check(store, secret, &[], t0()).is_ok();
        (macs_computed() - before, ok)
    }

    /// A well-formed key for `id` (valid checksum) that is not the real secret: what an
    /// attacker who can compute CRC32 sends.
    fn forged(keys: &ApiKeys, id: PublicId) -> String {
        key::generate(&SystemRandom::new(), keys.prefix(), id)
            .unwrap()
            .expose_secret()
            .to_owned()
    }

    #[test]
    fn every_path_of_a_check_computes_exactly_one_hmac() {
        let mut keys = ApiKeys::new(
            KeyPrefix::default(),
            Keyset::new(1, HashingKey::generate().unwrap()),
        );
        let store = InMemoryStore::new();
        let plain = keys.issue(KeyOptions::new(), t0()).unwrap();
        let plain_id = plain.record.public_id();
        store.insert(plain.record).unwrap();
        // Rotated under one hashing key: both hashes under version 1.
        let same = keys.issue(KeyOptions::new(), t0()).unwrap();
        let mut same_rec = same.record;
        let same_new = keys
            .rotate(&mut same_rec, Duration::from_secs(3600), t0())
            .unwrap();
        store.insert(same_rec).unwrap();
        // Rotated across a hashing key rotation: previous under 1, current under 2.
        let cross = keys.issue(KeyOptions::new(), t0()).unwrap();
        let mut cross_rec = cross.record;
        keys.keyset_mut()
            .add(2, HashingKey::generate().unwrap())
            .unwrap();
        keys.keyset_mut().set_current(2).unwrap();
        let cross_new = keys
            .rotate(&mut cross_rec, Duration::from_secs(3600), t0())
            .unwrap();
        let cross_id = cross_rec.public_id();
        assert_eq!(cross_rec.previous().unwrap().hash().key_version(), 1);
        assert_eq!(cross_rec.hash().key_version(), 2);
        store.insert(cross_rec).unwrap();
        let unknown = keys.issue(KeyOptions::new(), t0()).unwrap(); // never stored

        let text = |k: &SecretKey| k.expose_secret().to_owned();
        let cases = [
            ("known, right", text(&plain.secret_key), true),
            ("known, wrong", forged(&keys, plain_id), false),
            ("unknown id", text(&unknown.secret_key), false),
            ("same version, new secret", text(&same_new), true),
            ("same version, old secret", text(&same.secret_key), true),
            ("cross version, new secret", text(&cross_new), true),
            ("cross version, old secret", text(&cross.secret_key), true),
            ("cross version, wrong", forged(&keys, cross_id), false),
        ];
        for (what, secret, expect_ok) in &cases {
            assert_eq!(macs(&keys, &store, secret), (1, *expect_ok), "{what}");
        }
        // A wrong guess that carries the previous secret's last four takes the previous
        // path: still one HMAC (the record is edited so a forged key can name them).
        let guess = forged(&keys, cross_id);
        let mut rec = store.get(&cross_id).unwrap();
        if let Some(p) = rec.previous.as_mut() {
            p.last_four = guess[guess.len() - 4..].to_owned();
        }
        store.save(rec);
        assert_eq!(macs(&keys, &store, &guess), (1, false), "old last four");
        // Hashing key version 1 dropped: the records under it cost one HMAC too.
        keys.keyset_mut().remove(1).unwrap();
        let current = text(&plain.secret_key);
        assert!(matches!(
            keys.check(&store, &current, &[], t0()),
            Err(Error::UnknownHashingKeyVersion { version: 1, .. })
        ));
        assert_eq!(macs(&keys, &store, &current), (1, false));
        // A previous secret under a dropped version no longer matches.
        let old = text(&same.secret_key);
        assert!(matches!(
            keys.check(&store, &old, &[], t0()),
            Err(Error::Mismatch { .. })
        ));
        assert_eq!(macs(&keys, &store, &old), (1, false));
        assert_eq!(macs(&keys, &store, &guess), (1, false));
    }

    #[test]
    fn rotation_never_gives_the_new_secret_the_old_ones_last_four() {
        let keys = ApiKeys::new(
            KeyPrefix::default(),
            Keyset::new(1, HashingKey::generate().unwrap()),
        );
        let mut rec = keys.issue(KeyOptions::new(), t0()).unwrap().record;
        for _ in 0..200 {
            let old = rec.last_four().to_owned();
            let new = keys
                .rotate(&mut rec, Duration::from_secs(60), t0())
                .unwrap();
            assert_ne!(new.last_four(), old);
            assert_eq!(rec.previous().unwrap().last_four(), old);
        }
    }
}
