//! Retention keyrings: one key per time bucket, destroyed when the bucket expires
//! (crypto-shredding, ENVELOPE.md section 9).
//!
//! A [`RetentionKeyring`] is a keyring of kind `Retention` whose version numbers are bucket
//! indexes: hours (or days) since the Unix epoch. Sealing at time `now` uses the key of
//! `bucket(now)`, created on demand from the OS CSPRNG (bucket keys are independent: a key
//! derived from a seed could not be destroyed on its own). [`RetentionKeyring::purge`]
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
//! # Several replicas
//!
//! Buckets are created on demand by whoever seals first. Two processes that each create the
//! same bucket in memory would hold different keys, so in a multi-replica deployment one
//! process (a cron job) calls [`RetentionKeyring::prepare`] to create upcoming buckets ahead
//! of time, purges, and saves; the others reload the file more often than a bucket lasts.

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
}

impl RetentionKeyring {
    /// Creates an empty retention keyring (buckets are added when first used).
    ///
    /// # Errors
    /// `InvalidOperation` for bad labels or a zero retention period; master key errors;
    /// `Random`.
    pub fn create(
        name: &str,
        region: &str,
        master: &dyn MasterKey,
        policy: RetentionPolicy,
    ) -> Result<Self, Error> {
        if policy.retention.is_zero() {
            return Err(Error::InvalidOperation(
                "retention period must be longer than zero",
            ));
        }
        let mut ring = Keyring::create_empty(name, region, KeyringKind::Retention, master)?;
        ring.retention = Some(RetentionParams {
            bucket_seconds: policy.bucket.seconds(),
            retain_seconds: policy.retention.as_secs().max(1),
        });
        Ok(Self { ring, policy })
    }

    /// Wraps a keyring loaded from a file.
    ///
    /// # Errors
    /// `InvalidOperation` if `ring` is not a retention keyring or its bucket size is not
    /// an hour or a day.
    pub fn from_keyring(ring: Keyring) -> Result<Self, Error> {
        let (KeyringKind::Retention, Some(params)) = (ring.kind, ring.retention) else {
            return Err(Error::InvalidOperation("not a retention keyring"));
        };
        let bucket = BucketSize::from_seconds(params.bucket_seconds)
            .ok_or(Error::InvalidOperation("unsupported retention bucket size"))?;
        let policy = RetentionPolicy::new(bucket, Duration::from_secs(params.retain_seconds));
        Ok(Self { ring, policy })
    }

    /// Loads a retention keyring file (see `Keyring::load`).
    ///
    /// # Errors
    /// The errors of `Keyring::load` and of [`from_keyring`](Self::from_keyring).
    pub fn load(path: impl AsRef<Path>, master: &dyn MasterKey) -> Result<Self, Error> {
        Self::from_keyring(Keyring::load(path, master)?)
    }

    /// Saves the keyring file atomically (see `Keyring::save`). Call it after every purge:
    /// until then the purged keys are still in the file.
    ///
    /// # Errors
    /// The errors of `Keyring::save`.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        self.ring.save(path)
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

    fn bucket_start(&self, bucket: u32) -> SystemTime {
        let secs = u64::from(bucket) * self.policy.bucket.seconds();
        unix_to_system(i64::try_from(secs).unwrap_or(i64::MAX))
    }

    fn bucket_end(&self, bucket: u32) -> SystemTime {
        self.bucket_start(bucket) + Duration::from_secs(self.policy.bucket.seconds())
    }

    /// Makes sure the bucket of `now` and the next `ahead` buckets exist, and that the
    /// bucket of `now` is the primary (the version `Keyring::seal` uses).
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
        // A replica whose clock runs behind must not demote a newer primary.
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

    /// Returns the keyring ready to seal in the bucket of `now` (its primary), for APIs
    /// that take a `&Keyring` such as [`EncryptingWriter`](crate::stream::EncryptingWriter).
    ///
    /// # Errors
    /// As [`prepare`](Self::prepare).
    pub fn sealing_keyring(&mut self, now: SystemTime) -> Result<&Keyring, Error> {
        self.prepare(now, 0)?;
        Ok(&self.ring)
    }

    /// Seals `plaintext` in the bucket of `now`, creating the bucket on demand.
    ///
    /// # Errors
    /// As [`prepare`](Self::prepare) and `Keyring::seal`.
    pub fn seal(
        &mut self,
        plaintext: &[u8],
        context: &Context,
        now: SystemTime,
    ) -> Result<Vec<u8>, Error> {
        let bucket = self.bucket_at(now)?;
        if !self.ring.versions.contains_key(&bucket) {
            self.prepare(now, 0)?;
        }
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
    ///
    /// # Errors
    /// `InvalidOperation` for a `now` before the retention period has elapsed since the
    /// epoch (nothing to purge is not an error).
    pub fn purge(&mut self, now: SystemTime) -> Result<Vec<PurgedBucket>, Error> {
        let Some(cutoff) = now.checked_sub(self.policy.retention) else {
            return Ok(Vec::new());
        };
        let expired: Vec<u32> = self
            .ring
            .versions
            .iter()
            .filter(|(_, v)| v.state != VersionState::Retired)
            .map(|(&b, _)| b)
            .filter(|&b| self.bucket_end(b) <= cutoff)
            .collect();
        let mut purged = Vec::with_capacity(expired.len());
        for b in expired {
            if self.ring.primary == Some(b) {
                // Nothing sealed since this bucket: it has no successor to hand over to, and
                // the keyring has no primary until the next seal creates one.
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
                expires: self.bucket_end(b) + self.policy.retention,
                purged_at: v.retired,
            })
            .collect()
    }
}
