//! API key records in PostgreSQL (feature `postgres`) or SQLite (feature `sqlite`), over
//! sqlx: [`SqlKeyStore`], also named [`PostgresKeyStore`] and [`SqliteKeyStore`].
//!
//! # Schema
//!
//! One table, created by the embedded migrations (`migrations/` in this crate), which
//! [`connect`](SqlKeyStore::connect), [`open`](SqlKeyStore::open) and
//! [`from_pool`](SqlKeyStore::from_pool) run:
//!
#![cfg_attr(
    feature = "postgres",
    doc = concat!("```sql\n", include_str!("../migrations/postgres/0001_api_keys.sql"), "```")
)]
#![cfg_attr(
    all(feature = "sqlite", not(feature = "postgres")),
    doc = concat!("```sql\n", include_str!("../migrations/sqlite/0001_api_keys.sql"), "```")
)]
//!
//! The record column holds the record's documented serde form ([`ApiKeyRecord`], version
//! [`RECORD_VERSION`](crate::RECORD_VERSION)); the same validation as any deserialization
//! applies on every read, so a row is either a well-formed record or a typed
//! [`StoreError::Corrupt`] naming its public id, and a check against it fails.
//!
//! The store's migration history has a table of its own, `_rampart_apikey_migrations`
//! (sqlx's `_sqlx_migrations` stays the application's), and a schema from a newer version
//! of this crate is refused with [`StoreError::SchemaTooNew`], never read.
//!
//! # Consistency
//!
//! - No cache: every check reads the row, so a revocation is seen by the next check on every
//!   replica that shares the database. (A cache in front would trade that away; if you add
//!   one, bound its lifetime to what a revocation may take to apply.)
//! - Saves compare and swap on a revision column: [`update`](SqlKeyStore::update) (and
//!   [`revoke`](SqlKeyStore::revoke), [`rotate`](SqlKeyStore::rotate)) read, change and
//!   write back, and start again when another writer got there first, so a rotation racing
//!   a revocation never resurrects the key.
//! - Every call is bounded by [`SqlStoreOptions::with_timeout`]: while the database is down,
//!   calls fail with [`StoreError::Database`] or [`StoreError::Timeout`] and a check fails
//!   closed with [`Error::Store`](crate::Error::Store); nothing hangs. A write that failed
//!   because the connection dropped may still have committed: read the record back before
//!   redoing it.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::Deserialize;
use sqlx::Pool;

use crate::error::Error;
use crate::key::{PublicId, SecretKey};
use crate::record::{ApiKeyRecord, RECORD_VERSION};
use crate::service::ApiKeys;
use crate::store::AsyncKeyStore;

mod backend;
mod decoded;
mod error;
mod open;

pub use backend::SqlBackend;
pub use error::{CorruptRecord, StoreError};
pub use open::*; // the store's names per database
/// The settings of the SQL key store (shared by Rampart's SQL stores): the timeout, the pool
/// size and [`with_decoded_records`](SqlStoreOptions::with_decoded_records); the SAML store's
/// `with_sweep_every` has no effect here.
pub use rampart_sql::SqlStoreOptions;

/// Longest record text read or written, in bytes (the schema checks the same bound): 64
/// scopes of 128 bytes fit in 9 KiB, so anything longer was not written by this crate.
pub const MAX_RECORD_BYTES: usize = 16 * 1024;

/// An opaque revision of a stored record: what [`SqlKeyStore::save`] compares against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Revision(i64);

/// A record as read from a SQL store, with the revision a save must name.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StoredRecord {
    /// The record.
    pub record: ApiKeyRecord,
    /// Its revision when read.
    pub revision: Revision,
}

/// API key records in a SQL database: lookup for checks ([`AsyncKeyStore`]), insert,
/// compare-and-swap saves, revocation, rotation and removal. Use it through
/// [`PostgresKeyStore`] or [`SqliteKeyStore`]; cloning shares the connection pool.
///
/// ```
/// use std::time::SystemTime;
/// use rampart_apikey::{ApiKeys, Error, HashingKey, KeyOptions, KeyPrefix, Keyset, SqliteKeyStore, SqlStoreOptions};
/// # let dir = tempfile::tempdir().unwrap();
/// # let path = dir.path().join("keys.db");
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let keys = ApiKeys::new(KeyPrefix::new("rk", "live")?, Keyset::new(1, HashingKey::generate()?));
/// let store = SqliteKeyStore::open(&path, &SqlStoreOptions::new()).await?; // migrates
/// let now = SystemTime::now();
/// let issued = keys.issue(KeyOptions::new().with_scopes(["orders:read"]), now)?;
/// store.insert(&issued.record).await?;
/// let secret = issued.secret_key.expose_secret();
/// let who = keys.check_async(&store, secret, &["orders:read"], now).await?;
/// assert_eq!(who.public_id(), issued.public_key.public_id());
///
/// store.revoke(&who.public_id(), now).await?;
/// let denied = keys.check_async(&store, secret, &[], now).await;
/// assert!(matches!(denied, Err(Error::Revoked { .. }))); // the very next check
/// # Ok::<(), Error>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SqlKeyStore<B: SqlBackend> {
    db: rampart_sql::Db<B>,
    decoded: Arc<decoded::Decoded>,
}

impl<B: SqlBackend> Clone for SqlKeyStore<B> {
    fn clone(&self) -> Self {
        Self {
            db: self.db.clone(),
            decoded: Arc::clone(&self.decoded),
        }
    }
}

impl<B: SqlBackend> std::fmt::Debug for SqlKeyStore<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlKeyStore")
            .field("database", &B::NAME)
            .field("timeout", &self.db.timeout())
            .finish_non_exhaustive()
    }
}

impl<B: SqlBackend> SqlKeyStore<B> {
    /// A store over a pool you configured, after running the embedded migrations.
    ///
    /// Prefer [`connect`](Self::connect) / [`open`](Self::open): they set the timeouts and
    /// skip sqlx's ping before every acquire (a round trip on each check), which this
    /// store makes up for by retrying reads that meet a dead connection and pinging before writes.
    ///
    /// # Errors
    /// [`StoreError::SchemaTooNew`] for a database migrated by a newer version;
    /// [`StoreError::Migrate`] when a migration fails or an applied one was edited.
    ///
    /// ```
    /// use rampart_apikey::{SqliteKeyStore, SqlStoreOptions};
    /// use rampart_apikey::sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
    /// # let dir = tempfile::tempdir().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let connect = SqliteConnectOptions::new().filename(dir.path().join("k.db")).create_if_missing(true);
    /// let pool = SqlitePoolOptions::new().connect_lazy_with(connect);
    /// let store = SqliteKeyStore::from_pool(pool, &SqlStoreOptions::new()).await?;
    /// # Ok::<(), rampart_apikey::StoreError>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn from_pool(pool: Pool<B>, options: &SqlStoreOptions) -> Result<Self, StoreError> {
        Ok(Self {
            db: rampart_sql::Db::migrated(pool, options.timeout(), &B::migrator()).await?,
            decoded: Arc::new(decoded::Decoded::new(options.decoded_records())),
        })
    }

    /// The connection pool (for your own queries on the same database).
    #[must_use]
    pub fn pool(&self) -> &Pool<B> {
        self.db.pool()
    }

    /// The highest schema version this code knows (the highest embedded migration).
    ///
    /// ```
    /// assert_eq!(rampart_apikey::SqliteKeyStore::schema_version(), 1);
    /// ```
    #[must_use]
    pub fn schema_version() -> i64 {
        rampart_sql::migrations::newest(&B::migrator())
    }

    /// Stores a new record (issue, then insert).
    ///
    /// # Errors
    /// [`StoreError::Duplicate`] when the public id is taken (nothing is changed);
    /// database failures and timeouts.
    ///
    /// ```
    /// # use std::time::SystemTime;
    /// # use rampart_apikey::{ApiKeys, HashingKey, KeyOptions, KeyPrefix, Keyset, SqliteKeyStore, SqlStoreOptions, StoreError};
    /// # let dir = tempfile::tempdir().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// # let keys = ApiKeys::new(KeyPrefix::default(), Keyset::new(1, HashingKey::generate()?));
    /// # let store = SqliteKeyStore::open(dir.path().join("k.db"), &SqlStoreOptions::new()).await?;
    /// let issued = keys.issue(KeyOptions::new(), SystemTime::now())?;
    /// store.insert(&issued.record).await?;
    /// let again = store.insert(&issued.record).await;
    /// assert!(matches!(again, Err(StoreError::Duplicate { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn insert(&self, record: &ApiKeyRecord) -> Result<(), StoreError> {
        let id = record.public_id();
        let text = encode(record)?;
        let inserted = self
            .bounded(B::insert(self.db.pool(), id.as_str(), &text))
            .await?;
        if inserted == 0 {
            return Err(StoreError::Duplicate { public_id: id });
        }
        Ok(())
    }

    /// The record with its revision, to change and [`save`](Self::save); `None` when absent.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] for a row that is not a valid record; database failures.
    pub async fn get(&self, id: &PublicId) -> Result<Option<StoredRecord>, StoreError> {
        let row = self
            .read(*id, || B::get(self.db.pool(), id.as_str()))
            .await?;
        row.map(|(text, revision)| {
            Ok(StoredRecord {
                record: decode(*id, &text)?,
                revision: Revision(revision),
            })
        })
        .transpose()
    }

    /// Writes `record` back if it is still at `read` (compare and swap); returns its new
    /// revision. Most callers want [`update`](Self::update), which retries.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the record changed since it was read;
    /// [`StoreError::NotFound`] when it is gone; database failures.
    ///
    /// ```
    /// # use std::time::SystemTime;
    /// # use rampart_apikey::{ApiKeys, HashingKey, KeyOptions, KeyPrefix, Keyset, SqliteKeyStore, SqlStoreOptions, StoreError};
    /// # let dir = tempfile::tempdir().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// # let keys = ApiKeys::new(KeyPrefix::default(), Keyset::new(1, HashingKey::generate()?));
    /// # let store = SqliteKeyStore::open(dir.path().join("k.db"), &SqlStoreOptions::new()).await?;
    /// # let now = SystemTime::now();
    /// # let issued = keys.issue(KeyOptions::new(), now)?;
    /// # store.insert(&issued.record).await?;
    /// let id = issued.public_key.public_id();
    /// let first = store.get(&id).await?.expect("stored");
    /// let second = store.get(&id).await?.expect("stored");
    /// let mut revoked = first.record;
    /// revoked.revoke(now);
    /// store.save(&revoked, first.revision).await?;
    /// // The second reader's write would undo the revocation: refused.
    /// let stale = store.save(&second.record, second.revision).await;
    /// assert!(matches!(stale, Err(StoreError::Conflict { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn save(
        &self,
        record: &ApiKeyRecord,
        read: Revision,
    ) -> Result<Revision, StoreError> {
        let id = record.public_id();
        let text = encode(record)?;
        let saved = self
            .bounded(B::save(self.db.pool(), id.as_str(), &text, read.0))
            .await?;
        match saved {
            Some(revision) => Ok(Revision(revision)),
            None => match self
                .read(id, || B::revision(self.db.pool(), id.as_str()))
                .await?
            {
                Some(_) => Err(StoreError::Conflict { public_id: id }),
                None => Err(StoreError::NotFound { public_id: id }),
            },
        }
    }

    /// Reads the record, applies `change` and saves it, starting again (with a fresh read)
    /// when another writer saved in between; returns what `change` returned. `change` may
    /// thus run more than once: keep it free of side effects outside the record.
    ///
    /// # Errors
    /// `change`'s error (nothing is saved); [`StoreError::NotFound`]; [`StoreError::Conflict`]
    /// when it is still losing races after the store's timeout; [`StoreError::Corrupt`] and
    /// database failures.
    ///
    /// ```
    /// # use std::time::SystemTime;
    /// # use rampart_apikey::{ApiKeys, HashingKey, KeyOptions, KeyPrefix, Keyset, SqliteKeyStore, SqlStoreOptions, StoreError};
    /// # let dir = tempfile::tempdir().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// # let keys = ApiKeys::new(KeyPrefix::default(), Keyset::new(1, HashingKey::generate()?));
    /// # let store = SqliteKeyStore::open(dir.path().join("k.db"), &SqlStoreOptions::new()).await?;
    /// # let issued = keys.issue(KeyOptions::new().with_scopes(["read"]), SystemTime::now())?;
    /// # store.insert(&issued.record).await?;
    /// let id = issued.public_key.public_id();
    /// store.update(&id, |record| record.set_scopes(["read", "write"])).await?;
    /// let stored = store.get(&id).await?.expect("stored");
    /// assert!(stored.record.has_scope("write"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn update<T, E>(
        &self,
        id: &PublicId,
        mut change: impl FnMut(&mut ApiKeyRecord) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let started = std::time::Instant::now();
        let mut attempt = 0u32;
        loop {
            attempt = attempt.saturating_add(1);
            let Some(StoredRecord {
                mut record,
                revision,
            }) = self.get(id).await?
            else {
                return Err(StoreError::NotFound { public_id: *id }.into());
            };
            let out = change(&mut record)?;
            match self.save(&record, revision).await {
                Ok(_) => return Ok(out),
                Err(StoreError::Conflict { .. }) if started.elapsed() < self.db.timeout() => {
                    tokio::time::sleep(backoff(attempt)).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Revokes the key at `now` (a second revocation keeps the first time). Every later
    /// check, on any replica, fails with [`Error::Revoked`](crate::Error::Revoked).
    ///
    /// # Errors
    /// As [`update`](Self::update).
    pub async fn revoke(&self, id: &PublicId, now: SystemTime) -> Result<(), StoreError> {
        self.update(id, |record| {
            record.revoke(now);
            Ok(())
        })
        .await
    }

    /// Rotates the key with `grace` of overlap ([`ApiKeys::rotate`]) and saves it; returns
    /// the new secret, to show once.
    ///
    /// # Errors
    /// [`Error::Config`](crate::Error::Config) for a revoked key (revocation is final), and
    /// store failures as [`Error::Store`](crate::Error::Store).
    ///
    /// ```
    /// # use std::time::{Duration, SystemTime};
    /// # use rampart_apikey::{ApiKeys, HashingKey, KeyOptions, KeyPrefix, Keyset, SqliteKeyStore, SqlStoreOptions};
    /// # let dir = tempfile::tempdir().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// # let keys = ApiKeys::new(KeyPrefix::default(), Keyset::new(1, HashingKey::generate()?));
    /// # let store = SqliteKeyStore::open(dir.path().join("k.db"), &SqlStoreOptions::new()).await?;
    /// # let now = SystemTime::now();
    /// # let issued = keys.issue(KeyOptions::new(), now)?;
    /// # store.insert(&issued.record).await?;
    /// let id = issued.public_key.public_id();
    /// let new = store.rotate(&keys, &id, Duration::from_secs(3600), now).await?;
    /// assert!(keys.check_async(&store, new.expose_secret(), &[], now).await.is_ok());
    /// let old = keys.check_async(&store, issued.secret_key.expose_secret(), &[], now).await?;
    /// assert!(old.used_previous_secret()); // still accepted for an hour
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn rotate(
        &self,
        keys: &ApiKeys,
        id: &PublicId,
        grace: Duration,
        now: SystemTime,
    ) -> Result<SecretKey, Error> {
        self.update(id, |record| keys.rotate(record, grace, now))
            .await
    }

    /// Deletes the record; returns whether there was one. Prefer [`revoke`](Self::revoke),
    /// which keeps the record to explain later failures.
    ///
    /// # Errors
    /// Database failures and timeouts.
    pub async fn remove(&self, id: &PublicId) -> Result<bool, StoreError> {
        let removed = self.bounded(B::delete(self.db.pool(), id.as_str())).await?;
        Ok(removed > 0)
    }

    /// Runs `op` within the timeout.
    async fn bounded<T>(
        &self,
        op: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, StoreError> {
        Ok(self.db.call(op).await?)
    }

    /// Runs the read `op` of row `id` within the timeout, again on a fresh connection while
    /// it meets connections the server closed (after a restart every pooled connection is
    /// stale; a read is safe to repeat). A column that cannot be decoded is that row's
    /// corruption.
    async fn read<T, F>(&self, id: PublicId, op: impl Fn() -> F) -> Result<T, StoreError>
    where
        F: Future<Output = Result<T, sqlx::Error>>,
    {
        let tries = self.db.pool().options().get_max_connections();
        let attempt = async {
            let mut result = op().await;
            for _ in 0..tries {
                match result {
                    Err(e) if is_dead_connection(&e) => result = op().await,
                    _ => break,
                }
            }
            result
        };
        self.bounded(attempt).await.map_err(|e| match e {
            StoreError::Database(
                e @ (sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_)),
            ) => StoreError::Corrupt {
                public_id: id,
                reason: CorruptRecord::Unreadable(e),
            },
            other => other,
        })
    }
}

impl<B: SqlBackend> AsyncKeyStore for SqlKeyStore<B> {
    type Error = StoreError;

    fn find(
        &self,
        id: &PublicId,
    ) -> impl Future<Output = Result<Option<Arc<ApiKeyRecord>>, StoreError>> + Send {
        let id = *id;
        async move {
            let text = self
                .read(id, || B::find(self.db.pool(), id.as_str()))
                .await?;
            text.map(|t| self.decoded.get_or_decode(id, t, |t| decode(id, t)))
                .transpose()
        }
    }
}

/// A pause before an update tries again after a lost race, growing with the attempts and
/// jittered so that writers that collided do not collide again in step. (The jitter comes
/// from the clock: it only spreads retries, it guards nothing.)
fn backoff(attempt: u32) -> Duration {
    let jitter = SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() % 1_000);
    Duration::from_micros(u64::from(attempt.min(20)) * u64::from(100 + jitter))
}

/// A connection the server closed (a restart, an administrator's termination): worth one
/// more try on a fresh connection, for reads.
fn is_dead_connection(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) => true,
        // SQLSTATE class 57: operator intervention (admin or crash shutdown, starting up).
        sqlx::Error::Database(db) => db.code().is_some_and(|c| c.starts_with("57P")),
        _ => false,
    }
}

fn encode(record: &ApiKeyRecord) -> Result<String, StoreError> {
    serde_json::to_string(record).map_err(StoreError::Encode)
}

/// The record stored under `id`, validated as any deserialized record is, and checked to be
/// that id's.
fn decode(id: PublicId, text: &str) -> Result<ApiKeyRecord, StoreError> {
    let corrupt = |reason| StoreError::Corrupt {
        public_id: id,
        reason,
    };
    if text.len() > MAX_RECORD_BYTES {
        return Err(corrupt(CorruptRecord::TooLarge {
            len: text.len(),
            max: MAX_RECORD_BYTES,
        }));
    }
    let record: ApiKeyRecord =
        serde_json::from_str(text).map_err(|e| corrupt(classify(text, e)))?;
    if record.public_id() != id {
        return Err(corrupt(CorruptRecord::IdMismatch {
            found: record.public_id(),
        }));
    }
    Ok(record)
}

/// Tells a record of another format version (a newer writer, a rollback) from a broken one.
/// Runs only after a record failed to load.
fn classify(text: &str, error: serde_json::Error) -> CorruptRecord {
    #[derive(Deserialize)]
    struct Version {
        v: u64,
    }
    match serde_json::from_str::<Version>(text) {
        Ok(Version { v }) if v != u64::from(RECORD_VERSION) => CorruptRecord::UnsupportedVersion {
            found: v,
            supported: RECORD_VERSION,
        },
        _ => CorruptRecord::Invalid(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{HashingKey, KeyOptions, KeyPrefix, Keyset};

    fn record() -> (PublicId, String) {
        let keys = ApiKeys::new(
            KeyPrefix::default(),
            Keyset::new(1, HashingKey::generate().unwrap()),
        );
        let r = keys
            .issue(KeyOptions::new(), SystemTime::now())
            .unwrap()
            .record;
        (r.public_id(), serde_json::to_string(&r).unwrap())
    }

    fn reason(e: StoreError) -> CorruptRecord {
        match e {
            StoreError::Corrupt { reason, .. } => reason,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_valid_row_decodes() {
        let (id, text) = record();
        assert_eq!(decode(id, &text).unwrap().public_id(), id);
    }

    #[test]
    fn oversized_row_is_refused_before_parsing() {
        let (id, _) = record();
        let huge = format!("{{\"v\":1,\"pad\":\"{}\"}}", "x".repeat(MAX_RECORD_BYTES));
        assert_eq!(reason(decode(id, &huge).unwrap_err()).kind(), "too_large");
    }

    #[test]
    fn another_format_version_is_named_as_such() {
        let (id, text) = record();
        let v2 = text.replacen("\"v\":1", "\"v\":2", 1);
        assert!(matches!(
            reason(decode(id, &v2).unwrap_err()),
            CorruptRecord::UnsupportedVersion {
                found: 2,
                supported: 1
            }
        ));
        // Version 1 with a broken field is invalid, not "another version".
        let broken = text.replacen("\"hmac-sha256\"", "\"hmac-md5\"", 1);
        assert_eq!(reason(decode(id, &broken).unwrap_err()).kind(), "invalid");
    }

    #[test]
    fn row_holding_another_keys_record_is_refused() {
        let (id, _) = record();
        let (_, other) = record();
        let e = decode(id, &other).unwrap_err();
        assert_eq!(e.public_id(), Some(id));
        assert_eq!(reason(e).kind(), "id_mismatch");
    }
}
