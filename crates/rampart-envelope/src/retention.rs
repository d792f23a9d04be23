//! Retention keyrings: one key per time bucket, destroyed when the bucket expires
//! (crypto-shredding, `docs/envelope.md` §9).
//!
//! A [`RetentionKeyring`] is a keyring of kind `Retention` whose version numbers are bucket
//! indexes: hours (or days) since the Unix epoch. Sealing at time `now` uses the key of
//! `bucket(now)`, which [`RetentionKeyring::prepare`] created ahead of time from the OS
//! CSPRNG (bucket keys are independent: a key derived from a seed could not be destroyed on
//! its own). [`RetentionKeyring::purge`]
//! destroys every bucket whose end is at least the retention period in the past and
//! returns what it destroyed; opening data of a purged bucket fails with
//! [`Error::Expired`] naming the bucket and the time it was purged. Deleting a 32-byte key
//! makes every copy of the data it protected unreadable: database rows, object-store
//! versions, replicas and backups of the data alike.
//!
//! # What "destroyed" covers, and what it does not
//!
//! - **Covered:** the bucket's wrapped key is removed from the keyring (a tombstone with the
//!   bucket number, creation and purge times remains, which gives the precise `Expired`
//!   error), and our in-memory copy of the key lives in a `Zeroizing` buffer that is wiped
//!   when the bucket is purged.
//! - **Not covered: expanded key schedules in ring.** ring 0.17 does not wipe AES key
//!   schedules or HMAC/HKDF keys on drop (there is no `Drop`/zeroize in `ring::aead`,
//!   `ring::hkdf` or `ring::hmac`), so residue of a purged key can stay in freed memory
//!   until it is reused or the process exits. There is no fix without `unsafe` or a change
//!   in ring. Restart long-lived processes if that matters to your threat model.
//! - **Not covered: copies of the keyring file.** The purge is only as good as the
//!   deletion of every older copy of the keyring file. **Keep retention keyrings out of
//!   backups**: a keyring file that lands in a 30-day backup keeps "1 hour" uploads readable
//!   for 30 days. The data they protect is meant to die, so nothing is lost by not backing
//!   them up. Save the keyring right after every purge ([`RetentionKeyring::save`]); for
//!   several replicas, keep it on shared storage that is excluded from backups, and let any
//!   replica purge (purging is idempotent). Alternatively keep bucket keys in an HSM, where
//!   destroying an object is immediate; a cloud KMS cannot do this (key deletion waits 7 to
//!   30 days).
//! - **Not covered: plaintext you kept.** Decrypted copies, caches and logs are yours.
//!
//! # Operating model: one writer prepares, replicas reload
//!
//! A bucket key that exists in one process's memory only is a data-loss bug: a replica that
//! created "its" key for the current hour would seal uploads that no other replica, and no
//! later run of itself, can open. So buckets are never created as a side effect of sealing:
//!
//! 1. **One writer** (a cron job or a leader) runs, more often than a bucket lasts:
//!    [`prepare`](RetentionKeyring::prepare)`(now, ahead)` to create the current and the next
//!    `ahead` buckets, [`purge`](RetentionKeyring::purge)`(now)`, then
//!    [`save`](RetentionKeyring::save). Creating buckets ahead means a key is on disk before
//!    any replica needs it.
//! 2. **Replicas** [`load`](RetentionKeyring::load) the file again more often than `ahead`
//!    buckets last, and only seal and open. Sealing in a bucket the loaded file does not hold
//!    fails with [`Error::BucketNotPrepared`] instead of inventing a key: reload, or have the
//!    writer prepare further ahead.
//!
//! A single process that owns the keyring and never shares it may opt in to creating
//! buckets as it seals with [`RetentionKeyring::create_with_buckets_on_demand`]; it must
//! save the file after sealing in a new bucket. A keyring loaded from a file never does.

use std::path::Path;
use std::time::{Duration, SystemTime};

use zeroize::Zeroizing;

use crate::error::Error;
use crate::keyring::{KeyringKind, RetentionParams, VersionState, unix_seconds, unix_to_system};
use crate::{Context, Keyring, MasterKey};

/// The length of one retention bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BucketSize {
    /// One key per hour (UTC hours since the epoch). For retention of hours to a few days.
    Hour,
    /// One key per day (UTC days since the epoch). For retention of weeks and more.
    Day,
}

impl BucketSize {
    /// The bucket length in seconds.
    pub fn seconds(self) -> u64 {
        match self {
            BucketSize::Hour => 3600,
            BucketSize::Day => 86_400,
        }
    }

    fn from_seconds(s: u64) -> Option<Self> {
        match s {
            3600 => Some(BucketSize::Hour),
            86_400 => Some(BucketSize::Day),
            _ => None,
        }
    }
}

/// How long data stays readable, and the bucket granularity.
///
/// Data sealed at time `t` is readable at least until `t + retention` and is destroyed by
/// the first purge after `bucket_end(t) + retention`, i.e. at most one bucket later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetentionPolicy {
    /// Bucket size.
    pub bucket: BucketSize,
    /// Retention period.
    pub retention: Duration,
}

impl RetentionPolicy {
    /// A policy with `bucket` granularity keeping data for `retention`.
    ///
    /// ```
    /// use rampart_envelope::retention::{BucketSize, RetentionPolicy};
    /// use std::time::Duration;
    /// let uploads = RetentionPolicy::new(BucketSize::Hour, Duration::from_secs(3600));
    /// let results = RetentionPolicy::new(BucketSize::Day, Duration::from_secs(14 * 86_400));
    /// assert_eq!(results.retention.as_secs(), 1_209_600);
    /// # let _ = uploads;
    /// ```
    pub fn new(bucket: BucketSize, retention: Duration) -> Self {
        Self { bucket, retention }
    }
}

/// A bucket destroyed by [`RetentionKeyring::purge`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PurgedBucket {
    /// The bucket number (= key version).
    pub bucket: u32,
    /// Start of the bucket's time range.
    pub start: SystemTime,
    /// End (exclusive) of the bucket's time range.
    pub end: SystemTime,
    /// When it was purged (the `now` given to `purge`, whole seconds).
    pub purged_at: SystemTime,
}

/// One bucket, as [`RetentionKeyring::buckets`] lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct BucketInfo {
    /// The bucket number (= key version).
    pub bucket: u32,
    /// Start of the bucket's time range.
    pub start: SystemTime,
    /// End (exclusive) of the bucket's time range.
    pub end: SystemTime,
    /// When its data becomes purgeable: `end + retention`.
    pub expires: SystemTime,
    /// `Some(time)` once purged.
    pub purged_at: Option<SystemTime>,
}

/// A keyring with one key per time bucket and a retention period. See the module docs.
///
/// ```
/// use rampart_envelope::{Context, LocalMasterKey};
/// use rampart_envelope::retention::{BucketSize, RetentionKeyring, RetentionPolicy};
/// use std::time::{Duration, SystemTime};
///
/// let master = LocalMasterKey::generate()?;
/// let policy = RetentionPolicy::new(BucketSize::Hour, Duration::from_secs(3600));
/// let mut ring = RetentionKeyring::create("uploads", "eu-central", &master, policy)?;
/// let ctx = Context::new().with("purpose", "upload");
/// let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
///
/// // The writer creates this hour's bucket (and would save the file before replicas seal).
/// ring.prepare(t0, 0)?;
/// let ct = ring.seal(b"report.csv contents", &ctx, t0)?;
/// assert_eq!(&ring.open(&ct, &ctx)?[..], b"report.csv contents");
///
/// let purged = ring.purge(t0 + Duration::from_secs(3 * 3600))?;
/// assert_eq!(purged.len(), 1);
/// assert!(matches!(ring.open(&ct, &ctx), Err(rampart_envelope::Error::Expired { .. })));
/// # Ok::<(), rampart_envelope::Error>(())
/// ```
#[derive(Debug)]
pub struct RetentionKeyring {
    ring: Keyring,
    policy: RetentionPolicy,
    /// Only for keyrings created in this process with the explicit opt-in: a loaded
    /// keyring may be an older copy than the writer's, so it must not invent bucket keys.
    buckets_on_demand: bool,
}

/// The longest retention period a keyring may have: 100 years. Bounds the arithmetic on
/// bucket times and refuses absurd values from a keyring file.
pub const MAX_RETENTION: Duration = Duration::from_secs(100 * 366 * 86_400);

/// Checks a stored or requested retention period (whole seconds).
pub(crate) fn valid_retain_seconds(secs: u64) -> bool {
    (1..=MAX_RETENTION.as_secs()).contains(&secs)
}

impl RetentionKeyring {
    /// Creates an empty retention keyring. Buckets are added by
    /// [`prepare`](Self::prepare) (see the module docs for the operating model).
    ///
    /// # Errors
    /// `InvalidOperation` for bad labels or a retention period under one second or above
    /// [`MAX_RETENTION`]; master key errors; `Random`.
    pub fn create(
        name: &str,
        region: &str,
        master: &dyn MasterKey,
        policy: RetentionPolicy,
    ) -> Result<Self, Error> {
        let retain_seconds = policy.retention.as_secs();
        if !valid_retain_seconds(retain_seconds) {
            return Err(Error::InvalidOperation(
                "retention period must be between one second and 100 years",
            ));
        }
        let mut ring = Keyring::create_empty(name, region, KeyringKind::Retention, master)?;
        ring.retention = Some(RetentionParams {
            bucket_seconds: policy.bucket.seconds(),
            retain_seconds,
        });
        // The file stores whole seconds; keep memory and file in agreement.
        let policy = RetentionPolicy::new(policy.bucket, Duration::from_secs(retain_seconds));
        Ok(Self {
            ring,
            policy,
            buckets_on_demand: false,
        })
    }

    /// Like [`create`](Self::create), but [`seal`](Self::seal) and
    /// [`sealing_keyring`](Self::sealing_keyring) create a missing bucket instead of
    /// returning [`Error::BucketNotPrepared`].
    ///
    /// The caller promises that this process is the only one that seals with this keyring
    /// and that it saves the file after sealing in a new bucket: a bucket key that was never
    /// saved is lost with the process, and so is the data sealed under it. The opt-in is not
    /// stored in the file; a keyring loaded later needs [`prepare`](Self::prepare).
    ///
    /// # Errors
    /// As [`create`](Self::create).
    pub fn create_with_buckets_on_demand(
        name: &str,
        region: &str,
        master: &dyn MasterKey,
        policy: RetentionPolicy,
    ) -> Result<Self, Error> {
        let mut ring = Self::create(name, region, master, policy)?;
        ring.buckets_on_demand = true;
        Ok(ring)
    }

    /// Wraps a keyring loaded from a file.
    ///
    /// # Errors
    /// `InvalidOperation` if `ring` is not a retention keyring, its bucket size is not an
    /// hour or a day, or its retention period is out of range (`Keyring::load` already
    /// refuses such files; this guards keyrings from elsewhere).
    pub fn from_keyring(ring: Keyring) -> Result<Self, Error> {
        let (KeyringKind::Retention, Some(params)) = (ring.kind, ring.retention) else {
            return Err(Error::InvalidOperation("not a retention keyring"));
        };
        let bucket = BucketSize::from_seconds(params.bucket_seconds)
            .ok_or(Error::InvalidOperation("unsupported retention bucket size"))?;
        if !valid_retain_seconds(params.retain_seconds) {
            return Err(Error::InvalidOperation("retention period out of range"));
        }
        let policy = RetentionPolicy::new(bucket, Duration::from_secs(params.retain_seconds));
        Ok(Self {
            ring,
            policy,
            buckets_on_demand: false,
        })
    }

    /// Loads a retention keyring file (see `Keyring::load`).
    ///
    /// # Errors
    /// The errors of `Keyring::load` and of [`from_keyring`](Self::from_keyring).
    pub fn load(path: impl AsRef<Path>, master: &dyn MasterKey) -> Result<Self, Error> {
        Self::from_keyring(Keyring::load(path, master)?)
    }

    /// Saves the keyring file atomically, with compare-and-swap, under its lock (see
    /// `Keyring::save`). Call it after every purge: until then the purged keys are still in
    /// the file.
    ///
    /// # Errors
    /// The errors of `Keyring::save` (`KeyringChanged` when another writer saved since this
    /// keyring was loaded: reload, prepare or purge again, save).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        self.ring.save(path)
    }

    /// The writer's step under the store's lock: load, `change` (prepare, purge), save with
    /// compare-and-swap. Two writers (two cron runs, or a cron run and an operator) then
    /// run one after the other, and neither undoes the other's purge.
    ///
    /// ```
    /// use rampart_envelope::retention::{BucketSize, RetentionKeyring, RetentionPolicy};
    /// use rampart_envelope::{FileKeyringStore, LocalMasterKey};
    /// use std::time::{Duration, SystemTime};
    ///
    /// let master = LocalMasterKey::generate()?;
    /// let dir = tempfile::tempdir()?;
    /// let store = FileKeyringStore::new(dir.path().join("uploads.json"));
    /// let policy = RetentionPolicy::new(BucketSize::Hour, Duration::from_secs(3600));
    /// RetentionKeyring::create("uploads", "eu", &master, policy)?.keyring().save_to(&store)?;
    /// let now = SystemTime::now();
    /// let (ring, bucket) = RetentionKeyring::update(&store, &master, |r| {
    ///     let b = r.prepare(now, 2)?;
    ///     r.purge(now)?;
    ///     Ok(b)
    /// })?;
    /// assert_eq!(ring.buckets().len(), 3);
    /// # let _ = bucket;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As `Keyring::update`, and [`from_keyring`](Self::from_keyring)'s for a values keyring.
    pub fn update<T>(
        store: &dyn crate::KeyringStore,
        master: &dyn MasterKey,
        change: impl FnOnce(&mut RetentionKeyring) -> Result<T, Error>,
    ) -> Result<(RetentionKeyring, T), Error> {
        let _lock = store.lock()?;
        let mut ring = Self::from_keyring(Keyring::load_from(store, master)?)?;
        let out = change(&mut ring)?;
        ring.ring.save_to(store)?;
        Ok((ring, out))
    }

    /// The policy.
    pub fn policy(&self) -> RetentionPolicy {
        self.policy
    }

    /// The underlying keyring, for opening (for example with
    /// [`DecryptingReader`](crate::stream::DecryptingReader)).
    pub fn keyring(&self) -> &Keyring {
        &self.ring
    }

    /// The bucket that contains `t`.
    ///
    /// # Errors
    /// `InvalidOperation` for times before the epoch or past the year 490,000.
    pub fn bucket_at(&self, t: SystemTime) -> Result<u32, Error> {
        let secs = u64::try_from(unix_seconds(t))
            .map_err(|_| Error::InvalidOperation("time before the unix epoch"))?;
        u32::try_from(secs / self.policy.bucket.seconds())
            .ok()
            .filter(|&b| b > 0)
            .ok_or(Error::InvalidOperation("time outside the bucket range"))
    }

    // Bucket times in seconds since the epoch. A u32 bucket times a day is below 2^49 and
    // the retention at most MAX_RETENTION, so the saturating sums never saturate in practice;
    // they keep a corrupted value from panicking in SystemTime arithmetic.
    fn bucket_start_secs(&self, bucket: u32) -> u64 {
        u64::from(bucket).saturating_mul(self.policy.bucket.seconds())
    }

    fn bucket_end_secs(&self, bucket: u32) -> u64 {
        self.bucket_start_secs(bucket)
            .saturating_add(self.policy.bucket.seconds())
    }

    fn bucket_start(&self, bucket: u32) -> SystemTime {
        secs_to_time(self.bucket_start_secs(bucket))
    }

    fn bucket_end(&self, bucket: u32) -> SystemTime {
        secs_to_time(self.bucket_end_secs(bucket))
    }

    fn bucket_expires(&self, bucket: u32) -> SystemTime {
        secs_to_time(
            self.bucket_end_secs(bucket)
                .saturating_add(self.policy.retention.as_secs()),
        )
    }

    /// Creates the bucket of `now` and the next `ahead` buckets if missing, and makes the
    /// bucket of `now` the primary (the version `Keyring::seal` uses). Returns the bucket of
    /// `now`.
    ///
    /// This is the writer's step of the operating model (module docs): only the one process
    /// that saves the keyring file calls it, then [`save`](Self::save)s, so every bucket key
    /// is on disk before a replica seals with it. Choose `ahead` so that replicas reload the
    /// file well within `ahead` buckets.
    ///
    /// # Errors
    /// [`Error::Expired`] if the bucket of `now` was already purged (the clock went back
    /// past the retention period); `Random`.
    pub fn prepare(&mut self, now: SystemTime, ahead: u32) -> Result<u32, Error> {
        let current = self.bucket_at(now)?;
        for b in current..=current.saturating_add(ahead) {
            if !self.ring.versions.contains_key(&b) {
                self.ring.insert_version(b, VersionState::Staged, now)?;
            }
        }
        // Behind a newer primary, a purged bucket of `now` must not count as prepared: the
        // seal that follows would fail. Say that it expired.
        if let Some(v) = self.ring.versions.get(&current)
            && v.state == VersionState::Retired
        {
            return Err(Error::Expired {
                bucket: current,
                purged_at: v.retired.unwrap_or(SystemTime::UNIX_EPOCH),
            });
        }
        // A writer whose clock runs behind must not demote a newer primary.
        if self.ring.primary.is_none_or(|p| p < current) {
            self.ring
                .promote(current)
                .map_err(|e| self.expired_or(current, e))?;
        }
        Ok(current)
    }

    fn expired_or(&self, bucket: u32, e: Error) -> Error {
        match self.ring.versions.get(&bucket) {
            Some(v) if v.state == VersionState::Retired => Error::Expired {
                bucket,
                purged_at: v.retired.unwrap_or(SystemTime::UNIX_EPOCH),
            },
            _ => e,
        }
    }

    /// The bucket of `now`, ready to seal: it must exist (or be created, with the opt-in of
    /// [`create_with_buckets_on_demand`](Self::create_with_buckets_on_demand)) and be live.
    /// Promotes it in memory if it is newer than the primary; that changes no key material,
    /// so a replica may do it without saving.
    fn live_bucket(&mut self, now: SystemTime) -> Result<u32, Error> {
        let bucket = self.bucket_at(now)?;
        if !self.ring.versions.contains_key(&bucket) {
            if !self.buckets_on_demand {
                let newest = self
                    .ring
                    .versions
                    .iter()
                    .rev()
                    .find(|(_, v)| v.state != VersionState::Retired)
                    .map(|(&b, _)| b);
                return Err(Error::BucketNotPrepared { bucket, newest });
            }
            return self.prepare(now, 0);
        }
        if self.ring.primary.is_none_or(|p| p < bucket) {
            self.ring
                .promote(bucket)
                .map_err(|e| self.expired_or(bucket, e))?;
        }
        Ok(bucket)
    }

    /// Returns the keyring ready to seal in the bucket of `now` (its primary), for APIs
    /// that take a `&Keyring` such as [`EncryptingWriter`](crate::stream::EncryptingWriter).
    ///
    /// # Errors
    /// [`Error::BucketNotPrepared`] if the keyring does not hold the bucket of `now` (see the
    /// module docs); [`Error::Expired`] if it was purged.
    pub fn sealing_keyring(&mut self, now: SystemTime) -> Result<&Keyring, Error> {
        self.live_bucket(now)?;
        Ok(&self.ring)
    }

    /// Seals `plaintext` in the bucket of `now`.
    ///
    /// # Errors
    /// [`Error::BucketNotPrepared`] if the keyring does not hold the bucket of `now` (see the
    /// module docs), [`Error::Expired`] if it was purged, and the errors of `Keyring::seal`.
    pub fn seal(
        &mut self,
        plaintext: &[u8],
        context: &Context,
        now: SystemTime,
    ) -> Result<Vec<u8>, Error> {
        let bucket = self.live_bucket(now)?;
        self.ring
            .seal_with_version(bucket, plaintext, context)
            .map_err(|e| self.expired_or(bucket, e))
    }

    /// Opens a value sealed by this keyring.
    ///
    /// # Errors
    /// [`Error::Expired`] `{ bucket, purged_at }` if its bucket was purged; otherwise the
    /// errors of `Keyring::open`.
    pub fn open(&self, ciphertext: &[u8], context: &Context) -> Result<Zeroizing<Vec<u8>>, Error> {
        self.ring.open(ciphertext, context)
    }

    /// Destroys every bucket whose end is at or before `now - retention`, and returns them.
    /// Idempotent: purging again at the same time returns nothing. Save the keyring
    /// afterwards: the destruction is complete only once no copy of the old file remains.
    /// Any replica may purge (it only removes keys), but only a saved purge shreds.
    ///
    /// # Errors
    /// None expected (nothing to purge is not an error); keyring errors are passed on.
    pub fn purge(&mut self, now: SystemTime) -> Result<Vec<PurgedBucket>, Error> {
        let expired: Vec<u32> = self
            .ring
            .versions
            .iter()
            .filter(|(_, v)| v.state != VersionState::Retired)
            .map(|(&b, _)| b)
            .filter(|&b| self.bucket_expires(b) <= now)
            .collect();
        let mut purged = Vec::with_capacity(expired.len());
        for b in expired {
            if self.ring.primary == Some(b) {
                // Nothing newer was prepared: the keyring has no primary until the writer
                // prepares the current bucket.
                self.ring.primary = None;
                if let Some(v) = self.ring.versions.get_mut(&b) {
                    v.state = VersionState::Active;
                }
            }
            if self.ring.destroy_version(b, now)? {
                let purged_at = self
                    .ring
                    .versions
                    .get(&b)
                    .and_then(|v| v.retired)
                    .unwrap_or(now);
                purged.push(PurgedBucket {
                    bucket: b,
                    start: self.bucket_start(b),
                    end: self.bucket_end(b),
                    purged_at,
                });
            }
        }
        Ok(purged)
    }

    /// Every bucket this keyring has had, live and purged, oldest first.
    pub fn buckets(&self) -> Vec<BucketInfo> {
        self.ring
            .versions
            .iter()
            .map(|(&b, v)| BucketInfo {
                bucket: b,
                start: self.bucket_start(b),
                end: self.bucket_end(b),
                expires: self.bucket_expires(b),
                purged_at: v.retired,
            })
            .collect()
    }
}

impl Keyring {
    /// The retention policy of a retention keyring (`None` for a values keyring), for tools
    /// that describe a keyring without taking it over as a [`RetentionKeyring`].
    ///
    /// ```
    /// use rampart_envelope::retention::{BucketSize, RetentionKeyring, RetentionPolicy};
    /// use rampart_envelope::LocalMasterKey;
    /// use std::time::Duration;
    ///
    /// let master = LocalMasterKey::generate()?;
    /// let policy = RetentionPolicy::new(BucketSize::Day, Duration::from_secs(14 * 86_400));
    /// let ring = RetentionKeyring::create("results", "eu", &master, policy)?;
    /// assert_eq!(ring.keyring().retention_policy(), Some(policy));
    /// # Ok::<(), rampart_envelope::Error>(())
    /// ```
    pub fn retention_policy(&self) -> Option<RetentionPolicy> {
        self.retention.and_then(RetentionParams::policy)
    }
}

impl RetentionParams {
    /// The policy these stored parameters describe (`None` for a bucket length this crate
    /// does not make; the file loader refuses those).
    pub(crate) fn policy(self) -> Option<RetentionPolicy> {
        Some(RetentionPolicy::new(
            BucketSize::from_seconds(self.bucket_seconds)?,
            Duration::from_secs(self.retain_seconds),
        ))
    }
}

/// Seconds since the epoch as a time; clamps instead of panicking on overflow.
fn secs_to_time(secs: u64) -> SystemTime {
    unix_to_system(i64::try_from(secs).unwrap_or(i64::MAX / 2))
}
