//! The keyring: an id, a region, numbered versions, and the operations on them
//! (`docs/envelope.md` §1, §6). This file holds the types, construction, persistence and
//! accessors; `keyring/lifecycle.rs` rotation and retirement, `keyring/values.rs` sealing
//! and opening (the byte layout is `sealed.rs`, subkeys `subkey.rs`, the file format
//! `keyring_file.rs`).

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use ring::aead::{Aad, LessSafeKey, Nonce};
use ring::hmac;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::context::Context;
use crate::error::{Error, KeyringFileError, MasterKeyError};
use crate::master_key::{KeyMaterial, MasterKey, MasterKeyId, WrappedKey};
use crate::primitives::{self, KEY_LEN};
use crate::sealed::{
    self, FORMAT_V1, HEADER_LEN, MAX_PLAINTEXT_LEN, OVERHEAD, SUITE_AES256GCM_HKDF, off,
};
use crate::store::{FileKeyringStore, KeyringStore, StoredKeyring};
use crate::subkey::{self, CacheKey, NonceSource, SealerSpec, SubkeyCache, THREAD};

/// Largest keyring file [`Keyring::load`] reads.
pub const MAX_FILE_LEN: usize = 16 << 20;
/// Most versions (including tombstones) a keyring may hold.
pub const MAX_VERSIONS: usize = 100_000;
/// Longest keyring name and region label, in bytes.
pub const MAX_LABEL_LEN: usize = 128;

/// A keyring's public identifier: a random u32 chosen at creation, written as 8 hex digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyringId(pub u32);

impl fmt::Display for KeyringId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}", self.0)
    }
}

/// The life-cycle state of a key version (`docs/envelope.md` §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum VersionState {
    /// Added but not yet sealing: decrypts (so replicas can learn it before it is promoted).
    Staged,
    /// The one version that seals; also decrypts.
    Primary,
    /// A former primary: decrypts, never seals.
    Active,
    /// Destroyed: key material gone, only a tombstone (number, created, retired) remains.
    Retired,
}

/// What a keyring is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum KeyringKind {
    /// Values and files, versions created by rotation.
    Values,
    /// Retention: versions are time buckets, destroyed when they expire (see `retention`).
    Retention,
}

/// Retention parameters stored in the keyring file (`"retention"`); `None` for values
/// keyrings. Owned by the retention module; stored here because the file format is one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RetentionParams {
    /// Length of one bucket in seconds (3600 = hourly buckets).
    pub(crate) bucket_seconds: u64,
    /// How long data stays readable, in seconds.
    pub(crate) retain_seconds: u64,
}

/// Public description of one version, as [`Keyring::versions`] lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct VersionInfo {
    /// The version number (never reused).
    pub version: u32,
    /// Its state.
    pub state: VersionState,
    /// When it was created (whole seconds).
    pub created: SystemTime,
    /// When it was retired, for tombstones.
    pub retired: Option<SystemTime>,
}

/// An unwrapped version key in memory.
pub(crate) struct VersionKey {
    pub(crate) bytes: Zeroizing<[u8; KEY_LEN]>,
    /// Process-unique id for the per-thread sealers.
    pub(crate) uid: u64,
    /// Sealers hold a `Weak` to this: when the key is dropped they are pruned.
    pub(crate) alive: Arc<()>,
}

impl VersionKey {
    pub(crate) fn new(bytes: Zeroizing<[u8; KEY_LEN]>) -> Self {
        Self {
            bytes,
            uid: subkey::next_key_uid(),
            alive: Arc::new(()),
        }
    }
}

/// One version of the keyring.
pub(crate) struct Version {
    pub(crate) state: VersionState,
    /// Creation time, truncated to whole seconds (it is part of the wrap AAD).
    pub(crate) created: SystemTime,
    pub(crate) retired: Option<SystemTime>,
    /// The version key wrapped under the KRK; `None` once retired.
    pub(crate) wrapped: Option<Vec<u8>>,
    /// The unwrapped key; `None` once retired.
    pub(crate) key: Option<VersionKey>,
}

/// The keyring key (KRK) and the keys derived from it.
pub(crate) struct Krk {
    pub(crate) raw: KeyMaterial,
    /// Wraps version keys (AES-256-GCM, random nonce).
    pub(crate) wrap: LessSafeKey,
    /// MACs the keyring file.
    pub(crate) integrity: hmac::Key,
}

impl Krk {
    pub(crate) fn new(raw: KeyMaterial) -> Self {
        let w = primitives::derive32(raw.expose_secret(), b"rampart/v1/krk/wrap");
        let m = primitives::derive32(raw.expose_secret(), b"rampart/v1/krk/integrity");
        Self {
            wrap: primitives::aes_key(&w),
            integrity: hmac::Key::new(hmac::HMAC_SHA256, &m[..]),
            raw,
        }
    }
}

/// A keyring: the unit of rotation, retirement and master-key wrapping.
///
/// Two-level hierarchy (`docs/envelope.md` §1): the master key wraps one keyring key (KRK);
/// the KRK wraps every version key. Loading therefore costs one master-key call however many
/// versions there are. `Keyring` is `Send + Sync`: share it in an `Arc` and seal/open from
/// any thread.
///
/// ```
/// use std::time::SystemTime;
/// use rampart_envelope::{Context, Keyring, LocalMasterKey};
///
/// let master = LocalMasterKey::generate()?;
/// let now = SystemTime::now();
/// let mut ring = Keyring::create("oauth-tokens", "eu-central", &master, now)?;
/// let ctx = Context::new().with("tenant", "42").with("column", "oauth_token");
/// let sealed = ring.seal(b"ya29.token", &ctx)?;
/// ring.rotate(&master, now)?;
/// assert!(ring.needs_reencrypt(&sealed)?);
/// let upgraded = ring.reencrypt(&sealed, &ctx)?;
/// assert_eq!(&ring.open(&upgraded, &ctx)?[..], b"ya29.token");
/// # Ok::<(), rampart_envelope::Error>(())
/// ```
pub struct Keyring {
    pub(crate) id: KeyringId,
    pub(crate) name: String,
    pub(crate) region: String,
    pub(crate) region_code: u16,
    pub(crate) kind: KeyringKind,
    pub(crate) master_key_id: MasterKeyId,
    pub(crate) wrapped_krk: WrappedKey,
    pub(crate) krk: Krk,
    pub(crate) primary: Option<u32>,
    pub(crate) min_decrypt: u32,
    pub(crate) rotate_after: Option<Duration>,
    pub(crate) versions: BTreeMap<u32, Version>,
    pub(crate) retention: Option<RetentionParams>,
    pub(crate) nonce_source: NonceSource,
    /// `u16 len ‖ region ‖ u16 len ‖ name`: the reserved context pairs `rampart:region` and
    /// `rampart:keyring`, encoded once and bound through the subkey derivation
    /// (`docs/envelope.md` §5).
    pub(crate) aad_binding: Vec<u8>,
    pub(crate) cache: SubkeyCache,
    /// The stored generation this keyring was loaded at or last saved as; [`NOT_STORED`]
    /// for a keyring never stored. Atomic because `save` takes `&self`.
    pub(crate) generation: AtomicU64,
}

/// A keyring being created: labels checked, id and keyring key drawn, waiting for the
/// master key to wrap the keyring key (the one provider call, sync or async).
pub(crate) struct Draft {
    id: KeyringId,
    name: String,
    region: String,
    kind: KeyringKind,
    master_key_id: MasterKeyId,
    pub(crate) krk: KeyMaterial,
    pub(crate) aad: Vec<u8>,
}

impl Draft {
    pub(crate) fn new(
        name: &str,
        region: &str,
        kind: KeyringKind,
        master_key_id: &MasterKeyId,
        admits_region: impl FnOnce(&str) -> Result<(), Error>,
    ) -> Result<Self, Error> {
        validate_label("name", name)
            .map_err(|_| Error::InvalidOperation("invalid keyring name"))?;
        validate_label("region", region)
            .map_err(|_| Error::InvalidOperation("invalid region label"))?;
        admits_region(region)?;
        let mut idb = [0u8; 4];
        primitives::os_fill(&mut idb)?;
        let id = KeyringId(u32::from_be_bytes(idb));
        Ok(Self {
            aad: krk_aad(id, region),
            id,
            name: name.to_string(),
            region: region.to_string(),
            kind,
            master_key_id: master_key_id.clone(),
            krk: KeyMaterial::generate()?,
        })
    }

    pub(crate) fn finish(self, wrapped_krk: WrappedKey) -> Keyring {
        Keyring::assemble(
            self.id,
            self.name,
            self.region,
            self.kind,
            self.master_key_id,
            wrapped_krk,
            Krk::new(self.krk),
        )
    }
}

/// `generation` of a keyring that was never stored (a real generation never gets there).
const NOT_STORED: u64 = u64::MAX;

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("region", &self.region)
            .field("kind", &self.kind)
            .field("master_key", &self.master_key_id)
            .field("primary", &self.primary)
            .field("min_decrypt", &self.min_decrypt)
            .field("versions", &self.versions.len())
            .field("generation", &self.generation())
            .finish_non_exhaustive()
    }
}

/// First two bytes of SHA-256(region label), big-endian.
pub(crate) fn region_code(region: &str) -> u16 {
    let d = ring::digest::digest(&ring::digest::SHA256, region.as_bytes());
    u16::from_be_bytes([d.as_ref()[0], d.as_ref()[1]])
}

/// Truncates to whole seconds (times are part of AADs and of the file, which stores seconds).
pub(crate) fn whole_seconds(t: SystemTime) -> SystemTime {
    let secs = time::OffsetDateTime::from(t).unix_timestamp();
    unix_to_system(secs)
}

pub(crate) fn unix_seconds(t: SystemTime) -> i64 {
    time::OffsetDateTime::from(t).unix_timestamp()
}

pub(crate) fn unix_to_system(secs: i64) -> SystemTime {
    if secs >= 0 {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs.unsigned_abs())
    } else {
        SystemTime::UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
    }
}

fn push_label(out: &mut Vec<u8>, s: &str) {
    // Labels are at most MAX_LABEL_LEN (128) bytes, validated at creation and load.
    out.extend_from_slice(&primitives::be16(s.len()));
    out.extend_from_slice(s.as_bytes());
}

/// AAD binding the KRK to its keyring (master-key wrap).
pub(crate) fn krk_aad(id: KeyringId, region: &str) -> Vec<u8> {
    let mut aad = b"rampart/krk/v1".to_vec();
    aad.extend_from_slice(&id.0.to_be_bytes());
    push_label(&mut aad, region);
    aad
}

/// AAD binding a wrapped version key to (keyring, region, version, created).
pub(crate) fn version_aad(
    id: KeyringId,
    region: &str,
    version: u32,
    created: SystemTime,
) -> Vec<u8> {
    let mut aad = b"rampart/keyring/v1".to_vec();
    aad.extend_from_slice(&id.0.to_be_bytes());
    push_label(&mut aad, region);
    aad.extend_from_slice(&version.to_be_bytes());
    aad.extend_from_slice(&unix_seconds(created).to_be_bytes());
    aad
}

pub(crate) fn validate_label(field: &'static str, s: &str) -> Result<(), &'static str> {
    let _ = field;
    if s.is_empty() {
        return Err("must not be empty");
    }
    if s.len() > MAX_LABEL_LEN {
        return Err("longer than 128 bytes");
    }
    if s.chars().any(char::is_control) {
        return Err("contains control characters");
    }
    Ok(())
}

impl Keyring {
    // ---- construction ----------------------------------------------------------------------

    /// Creates a values keyring with version 1 as primary.
    ///
    /// `name` and `region` are labels (1–128 bytes, no control characters) bound into every
    /// ciphertext. The keyring id and every key come from the OS CSPRNG; the keyring key is
    /// wrapped once by `master`. Errors: [`Error::InvalidOperation`] for bad labels,
    /// [`Error::MasterKey`] from the provider, [`Error::Random`].
    pub fn create(
        name: &str,
        region: &str,
        master: &dyn MasterKey,
        now: SystemTime,
    ) -> Result<Keyring, Error> {
        let mut ring = Self::create_empty(name, region, KeyringKind::Values, master)?;
        ring.insert_version(1, VersionState::Primary, now)?;
        Ok(ring)
    }

    /// A keyring with no versions (retention keyrings add buckets on demand).
    pub(crate) fn create_empty(
        name: &str,
        region: &str,
        kind: KeyringKind,
        master: &dyn MasterKey,
    ) -> Result<Keyring, Error> {
        let draft = Draft::new(name, region, kind, master.id(), |r| master.admits_region(r))?;
        let wrapped = master.wrap(&draft.krk, &draft.aad)?;
        Ok(draft.finish(wrapped))
    }

    pub(crate) fn assemble(
        id: KeyringId,
        name: String,
        region: String,
        kind: KeyringKind,
        master_key_id: MasterKeyId,
        wrapped_krk: WrappedKey,
        krk: Krk,
    ) -> Keyring {
        let mut aad_binding = Vec::with_capacity(4 + region.len() + name.len());
        push_label(&mut aad_binding, &region);
        push_label(&mut aad_binding, &name);
        Keyring {
            id,
            region_code: region_code(&region),
            name,
            region,
            kind,
            master_key_id,
            wrapped_krk,
            krk,
            primary: None,
            min_decrypt: 0,
            rotate_after: None,
            versions: BTreeMap::new(),
            retention: None,
            nonce_source: NonceSource::default(),
            aad_binding,
            cache: SubkeyCache::new(subkey::DEFAULT_OPEN_CACHE),
            generation: AtomicU64::new(NOT_STORED),
        }
    }

    /// Loads a keyring file and unwraps it with `master` (one provider call). Readers never
    /// lock: the file is only ever replaced whole, by rename.
    ///
    /// Refuses (with distinct errors) a file larger than [`MAX_FILE_LEN`], one that does not
    /// parse or breaks the format's rules ([`Error::KeyringFile`]), one wrapped by another
    /// master key ([`MasterKeyError::WrongMasterKey`]) or whose keyring key does not unwrap
    /// ([`MasterKeyError::Unwrap`]), and one whose integrity MAC fails.
    ///
    /// ```
    /// use rampart_envelope::{Context, Error, Keyring, LocalMasterKey, MasterKeyError};
    ///
    /// let master = LocalMasterKey::generate()?;
    /// let ring = Keyring::create("tokens", "eu-central", &master, std::time::SystemTime::now())?;
    /// let ctx = Context::new().with("tenant", "42");
    /// let sealed = ring.seal(b"secret", &ctx)?;
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("tokens.keyring.json");
    /// ring.save(&path)?;
    ///
    /// let loaded = Keyring::load(&path, &master)?;
    /// assert_eq!(&loaded.open(&sealed, &ctx)?[..], b"secret");
    /// let other = LocalMasterKey::generate()?;
    /// assert!(matches!(
    ///     Keyring::load(&path, &other),
    ///     Err(Error::MasterKey(MasterKeyError::WrongMasterKey { .. }))
    /// ));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn load(path: impl AsRef<Path>, master: &dyn MasterKey) -> Result<Keyring, Error> {
        let doc = FileKeyringStore::new(path.as_ref()).load_existing()?;
        Self::from_json(&doc.json, master)
    }

    /// Loads the keyring document a [`KeyringStore`] holds ([`KeyringFileError::Missing`]
    /// when it holds none); same checks as [`Keyring::load`].
    ///
    /// ```
    /// use rampart_envelope::{FileKeyringStore, Keyring, LocalMasterKey};
    ///
    /// let master = LocalMasterKey::generate()?;
    /// let dir = tempfile::tempdir()?;
    /// let store = FileKeyringStore::new(dir.path().join("k.json"));
    /// Keyring::create("k", "eu", &master, std::time::SystemTime::now())?.save_to(&store)?;
    /// assert_eq!(Keyring::load_from(&store, &master)?.generation(), Some(1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn load_from(store: &dyn KeyringStore, master: &dyn MasterKey) -> Result<Keyring, Error> {
        let doc = store.load()?.ok_or(KeyringFileError::Missing)?;
        let ring = Self::from_json(&doc.json, master)?;
        if ring.generation() != Some(doc.generation) {
            return Err(KeyringFileError::Inconsistent(
                "the store's generation differs from the document's",
            )
            .into());
        }
        Ok(ring)
    }

    /// Saves to a keyring file, atomically and with compare-and-swap, under the file's
    /// sidecar lock (see [`FileKeyringStore`] and [`Keyring::save_to`]).
    ///
    /// A keyring made by [`Keyring::create`] is created with no-replace semantics
    /// ([`Error::KeyringExists`] if anything is at `path`); a loaded one replaces the file
    /// only if it is still the generation it was loaded at ([`Error::KeyringChanged`]
    /// otherwise). A crash leaves the old file or the new one, and no copy.
    ///
    /// ```
    /// use rampart_envelope::{Error, Keyring, LocalMasterKey};
    ///
    /// let master = LocalMasterKey::generate()?;
    /// let now = std::time::SystemTime::now();
    /// let mut ring = Keyring::create("tokens", "eu-central", &master, now)?;
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("tokens.keyring.json");
    /// ring.save(&path)?;
    /// let mut stale = Keyring::load(&path, &master)?;
    /// ring.rotate(&master, now)?;
    /// ring.save(&path)?; // replaces the file atomically
    /// assert_eq!(Keyring::load(&path, &master)?.primary_version(), Some(2));
    /// // A writer that loaded before that save loses the race instead of undoing it:
    /// stale.rotate(&master, now)?;
    /// assert!(matches!(stale.save(&path), Err(Error::KeyringChanged { .. })));
    /// assert!(Keyring::create("tokens", "eu", &master, now)?.save(&path).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        let store = FileKeyringStore::new(path.as_ref());
        let _lock = store.lock()?;
        self.save_to(&store)
    }

    /// Saves to `store` with compare-and-swap: a new keyring (never stored) only if the
    /// store holds none ([`Error::KeyringExists`]), a loaded one only if the store still
    /// holds the generation it was loaded at ([`Error::KeyringChanged`]). The saved document
    /// carries the next generation, which this keyring then has. Take the store's lock
    /// around load, change and save ([`Keyring::update`] does) so that writers queue instead
    /// of failing.
    ///
    /// ```
    /// use rampart_envelope::{FileKeyringStore, Keyring, LocalMasterKey};
    ///
    /// let master = LocalMasterKey::generate()?;
    /// let dir = tempfile::tempdir()?;
    /// let store = FileKeyringStore::new(dir.path().join("k.json"));
    /// let ring = Keyring::create("k", "eu", &master, std::time::SystemTime::now())?;
    /// assert_eq!(ring.generation(), None);
    /// ring.save_to(&store)?;
    /// assert_eq!(ring.generation(), Some(1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn save_to(&self, store: &dyn KeyringStore) -> Result<(), Error> {
        let expected = self.generation();
        let next = match expected {
            None => 1,
            Some(g) => g
                .checked_add(1)
                .filter(|&n| n != NOT_STORED)
                .ok_or(Error::InvalidOperation("generation exhausted"))?,
        };
        let json = crate::keyring_file::to_json_at(self, next)?;
        store.compare_and_swap(expected, &StoredKeyring::new(json, next))?;
        self.set_generation(Some(next));
        Ok(())
    }

    /// Changes the stored keyring under the store's lock: load, `change`, save with
    /// compare-and-swap. Returns the saved keyring and what `change` returned. Nothing is
    /// saved when `change` fails. Two processes doing this at once run one after the other;
    /// a writer that ignores the lock makes this fail with [`Error::KeyringChanged`], never
    /// silently undo its change.
    ///
    /// ```
    /// use rampart_envelope::{FileKeyringStore, Keyring, LocalMasterKey};
    /// use std::time::SystemTime;
    ///
    /// let master = LocalMasterKey::generate()?;
    /// let dir = tempfile::tempdir()?;
    /// let store = FileKeyringStore::new(dir.path().join("tokens.json"));
    /// Keyring::create("tokens", "eu", &master, SystemTime::now())?.save_to(&store)?;
    /// let (_, v) = Keyring::update(&store, &master, |r| r.rotate(&master, SystemTime::now()))?;
    /// let (ring, retired) = Keyring::update(&store, &master, |r| r.retire_below(v, SystemTime::now()))?;
    /// assert_eq!((v, retired), (2, vec![1]));
    /// assert_eq!(ring.generation(), Some(3));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// The store's lock and load errors, the errors of `change`, and those of
    /// [`Keyring::save_to`].
    pub fn update<T>(
        store: &dyn KeyringStore,
        master: &dyn MasterKey,
        change: impl FnOnce(&mut Keyring) -> Result<T, Error>,
    ) -> Result<(Keyring, T), Error> {
        let _lock = store.lock()?;
        let mut ring = Self::load_from(store, master)?;
        let out = change(&mut ring)?;
        ring.save_to(store)?;
        Ok((ring, out))
    }

    /// The stored generation this keyring was loaded at or last saved as (`None`: never
    /// stored). It goes up by one at every save.
    pub fn generation(&self) -> Option<u64> {
        match self.generation.load(Ordering::Acquire) {
            NOT_STORED => None,
            g => Some(g),
        }
    }

    pub(crate) fn set_generation(&self, generation: Option<u64>) {
        self.generation
            .store(generation.unwrap_or(NOT_STORED), Ordering::Release);
    }

    /// Parses a keyring document (the file's contents); same checks as [`Keyring::load`].
    pub fn from_json(json: &str, master: &dyn MasterKey) -> Result<Keyring, Error> {
        crate::keyring_file::from_json(json, master)
    }

    /// The keyring document (pretty JSON, integrity MAC included).
    pub fn to_json(&self) -> Result<String, Error> {
        crate::keyring_file::to_json(self)
    }

    // ---- accessors -------------------------------------------------------------------------

    /// The keyring's id.
    pub fn id(&self) -> KeyringId {
        self.id
    }

    /// The keyring's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The region label.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// What the keyring is for.
    pub fn kind(&self) -> KeyringKind {
        self.kind
    }

    /// The identifier of the master key that wraps this keyring.
    pub fn master_key_id(&self) -> &MasterKeyId {
        &self.master_key_id
    }

    /// The version that seals; `None` for a keyring without one (an empty retention keyring).
    pub fn primary_version(&self) -> Option<u32> {
        self.primary
    }

    /// The lowest version `open` accepts.
    pub fn min_decrypt(&self) -> u32 {
        self.min_decrypt
    }

    /// Every version, tombstones included, in ascending order.
    pub fn versions(&self) -> Vec<VersionInfo> {
        self.versions
            .iter()
            .map(|(&version, v)| VersionInfo {
                version,
                state: v.state,
                created: v.created,
                retired: v.retired,
            })
            .collect()
    }

    /// Chooses how nonces are made (default [`NonceSource::Counter`]).
    pub fn set_nonce_source(&mut self, source: NonceSource) {
        self.nonce_source = source;
    }

    /// Sets how many (version, salt) subkeys `open` keeps (default 1024).
    pub fn set_open_cache_capacity(&mut self, capacity: usize) {
        self.cache = SubkeyCache::new(capacity);
    }

    /// Rotation and retirement number versions in order; a retention keyring's versions are
    /// time buckets, so both are refused there.
    fn refuse_retention(&self, operation: &'static str) -> Result<(), Error> {
        match self.kind {
            KeyringKind::Retention => Err(Error::NotForRetention { operation }),
            KeyringKind::Values => Ok(()),
        }
    }
}

mod async_ops;
mod lifecycle;
mod summary;
mod values;

pub use summary::KeyringSummary;

#[cfg(test)]
mod fork_tests;
