//! The replay cache and the issued request IDs in PostgreSQL (feature `postgres`) or SQLite
//! (feature `sqlite`), over sqlx: [`SqlStore`], also named [`PostgresStore`] and
//! [`SqliteStore`], which implements both [`ReplayCache`] and [`RequestIdStore`].
//!
//! # Schema
//!
//! Two tables, created by the embedded migrations (`migrations/` in this crate), which
//! [`connect`](SqlStore::connect), [`open`](SqlStore::open) and
//! [`from_pool`](SqlStore::from_pool) run:
//!
#![cfg_attr(
    feature = "postgres",
    doc = concat!("```sql\n", include_str!("../migrations/postgres/0001_replay_and_request_ids.sql"), "```")
)]
#![cfg_attr(
    all(feature = "sqlite", not(feature = "postgres")),
    doc = concat!("```sql\n", include_str!("../migrations/sqlite/0001_replay_and_request_ids.sql"), "```")
)]
//!
//! Migrations applied are listed in `_rampart_saml_migrations`, this crate's alone, so the
//! application and other Rampart crates can migrate the same database; opening a database
//! that a newer version of this crate migrated fails ([`SqlStoreError::SchemaTooNew`]).
//!
//! # Statements
//!
//! Each call is one statement, atomic on the server: a replay check is an upsert that
//! replaces only an expired row (`ON CONFLICT ... DO UPDATE ... WHERE expires_at <= now`), and
//! a request ID is consumed with `DELETE ... RETURNING`. Every
//! [`SqlStoreOptions::with_sweep_every`]-th write is followed by a sweep of at most 1 000 expired
//! rows per table (its failure is ignored: the next one retries), so the tables stay bounded
//! by the live entries; [`SqlStore::sweep_expired`] does the same on demand.
//!
//! # Failures
//!
//! Every call is bounded by [`SqlStoreOptions::with_timeout`]: while the database is down, calls
//! fail with [`Error::ReplayCache`] / [`Error::RequestIdStore`] and the login is refused;
//! nothing hangs. Rows are durable before a call returns (PostgreSQL's commit, SQLite's
//! `synchronous = FULL`), so an assertion accepted before a crash is still a replay after it.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::Pool;

use crate::error::{Error, ReplayCacheError, RequestIdStoreError};
use crate::replay::ReplayCache;
use crate::request_ids::RequestIdStore;
use crate::state_key;

mod backend;
mod error;
mod open;

pub use backend::SqlBackend;
pub use error::SqlStoreError;
pub use open::*; // the store's names per database
/// The settings of the SQL store (shared by Rampart's SQL stores): the timeout, the pool size
/// and [`with_sweep_every`](SqlStoreOptions::with_sweep_every); the key store's
/// `with_decoded_records` has no effect here.
pub use rampart_sql::SqlStoreOptions;

/// Most expired rows one sweep deletes from each table: bounds the time a sweep adds to the
/// write that triggers it.
const SWEEP_BATCH: i64 = 1_000;

/// The replay cache ([`ReplayCache`]) and issued request IDs ([`RequestIdStore`]) in a SQL
/// database shared by every replica. Use it through [`PostgresStore`] or [`SqliteStore`];
/// cloning shares the connection pool.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use rampart_saml::{ReplayCache, RequestIdStore, SqliteStore, SqlStoreOptions};
/// # let dir = tempfile::tempdir()?;
/// # let path = dir.path().join("saml.db");
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let store = SqliteStore::open(&path, &SqlStoreOptions::new()).await?; // migrates
/// let now = SystemTime::now();
/// let until = now + Duration::from_secs(300);
///
/// store.remember("_req1", until, now).await?;
/// assert!(store.consume("_req1", now).await?);
/// assert!(!store.consume("_req1", now).await?); // once
///
/// let idp = "https://idp.example.com/metadata";
/// assert!(store.insert_if_new(idp, "_assertion1", until, now).await?);
/// assert!(!store.insert_if_new(idp, "_assertion1", until, now).await?); // a replay
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SqlStore<B: SqlBackend> {
    db: rampart_sql::Db<B>,
    sweep_every: u64,
    writes: Arc<AtomicU64>,
}

impl<B: SqlBackend> Clone for SqlStore<B> {
    fn clone(&self) -> Self {
        Self {
            db: self.db.clone(),
            sweep_every: self.sweep_every,
            writes: Arc::clone(&self.writes),
        }
    }
}

impl<B: SqlBackend> std::fmt::Debug for SqlStore<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore")
            .field("database", &B::NAME)
            .field("timeout", &self.db.timeout())
            .field("sweep_every", &self.sweep_every)
            .finish_non_exhaustive()
    }
}

impl<B: SqlBackend> SqlStore<B> {
    /// A store over a pool you configured, after running the embedded migrations. Prefer
    /// [`connect`](Self::connect) / [`open`](Self::open), which set the timeouts.
    ///
    /// # Errors
    /// [`SqlStoreError::SchemaTooNew`] for a database migrated by a newer version;
    /// [`SqlStoreError::Migrate`] when a migration fails or an applied one was edited.
    ///
    /// ```
    /// use rampart_saml::{SqliteStore, SqlStoreOptions};
    /// use rampart_saml::sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
    /// # let dir = tempfile::tempdir()?;
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let connect = SqliteConnectOptions::new().filename(dir.path().join("s.db")).create_if_missing(true);
    /// let store = SqliteStore::from_pool(SqlitePoolOptions::new().connect_lazy_with(connect), &SqlStoreOptions::new()).await?;
    /// # Ok::<(), rampart_saml::SqlStoreError>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn from_pool(
        pool: Pool<B>,
        options: &SqlStoreOptions,
    ) -> Result<Self, SqlStoreError> {
        Ok(Self {
            db: rampart_sql::Db::migrated(pool, options.timeout(), &B::migrator()).await?,
            sweep_every: options.sweep_every(),
            writes: Arc::new(AtomicU64::new(0)),
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
    /// assert_eq!(rampart_saml::SqliteStore::schema_version(), 1);
    /// ```
    #[must_use]
    pub fn schema_version() -> i64 {
        rampart_sql::migrations::newest(&B::migrator())
    }

    /// Deletes up to 1 000 expired rows from each table; returns how many went. For a
    /// periodic job when automatic sweeping is off ([`SqlStoreOptions::with_sweep_every`] 0).
    ///
    /// # Errors
    /// Database failures and timeouts.
    ///
    /// ```
    /// # use std::time::{Duration, SystemTime};
    /// # use rampart_saml::{ReplayCache, SqliteStore, SqlStoreOptions};
    /// # let dir = tempfile::tempdir()?;
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let store = SqliteStore::open(dir.path().join("s.db"), &SqlStoreOptions::new().with_sweep_every(0)).await?;
    /// let now = SystemTime::now();
    /// let until = now + Duration::from_secs(1);
    /// store.insert_if_new("idp", "_a", until, now).await?;
    /// assert_eq!(store.sweep_expired(now).await?, 0);
    /// // Expiries are kept to the millisecond, rounded up: gone a millisecond later at most.
    /// assert_eq!(store.sweep_expired(until + Duration::from_millis(1)).await?, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn sweep_expired(&self, now: SystemTime) -> Result<u64, SqlStoreError> {
        self.bounded(B::sweep(self.db.pool(), millis_floor(now), SWEEP_BATCH))
            .await
    }

    /// Counts a write and, every `sweep_every` of them, sweeps (ignoring a failure: the
    /// write it follows succeeded, and the next sweep retries).
    async fn after_write(&self, now: SystemTime) {
        let n = self.writes.fetch_add(1, Ordering::Relaxed) + 1;
        // `is_multiple_of(0)` is false for n >= 1: sweeping off.
        if n.is_multiple_of(self.sweep_every) {
            let _ = self.sweep_expired(now).await;
        }
    }

    async fn bounded<T>(
        &self,
        op: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, SqlStoreError> {
        Ok(self.db.call(op).await?)
    }
}

impl<B: SqlBackend> ReplayCache for SqlStore<B> {
    fn insert_if_new(
        &self,
        issuer: &str,
        assertion_id: &str,
        expires_at: SystemTime,
        now: SystemTime,
    ) -> impl Future<Output = Result<bool, Error>> + Send {
        let digest = state_key::replay_key(issuer, assertion_id);
        async move {
            let fresh = self
                .bounded(B::insert_if_new(
                    self.db.pool(),
                    &digest,
                    millis_ceil(expires_at),
                    millis_floor(now),
                ))
                .await
                .map_err(|e| Error::ReplayCache(ReplayCacheError::Sql(e)))?;
            self.after_write(now).await;
            Ok(fresh)
        }
    }
}

impl<B: SqlBackend> RequestIdStore for SqlStore<B> {
    fn remember(
        &self,
        request_id: &str,
        expires_at: SystemTime,
        now: SystemTime,
    ) -> impl Future<Output = Result<(), Error>> + Send {
        let digest = state_key::request_key(request_id);
        async move {
            self.bounded(B::remember(
                self.db.pool(),
                &digest,
                millis_ceil(expires_at),
            ))
            .await
            .map_err(request_id_error)?;
            self.after_write(now).await;
            Ok(())
        }
    }

    fn consume(
        &self,
        request_id: &str,
        now: SystemTime,
    ) -> impl Future<Output = Result<bool, Error>> + Send {
        let digest = state_key::request_key(request_id);
        async move {
            let expires_at = self
                .bounded(B::consume(self.db.pool(), &digest))
                .await
                .map_err(|e| match e {
                    SqlStoreError::Database(
                        reason @ (sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_)),
                    ) => SqlStoreError::Corrupt {
                        table: "rampart_saml_request_ids",
                        digest: state_key::hex(&digest),
                        reason,
                    },
                    other => other,
                })
                .map_err(request_id_error)?;
            Ok(expires_at.is_some_and(|exp| exp > millis_floor(now)))
        }
    }
}

fn request_id_error(e: SqlStoreError) -> Error {
    Error::RequestIdStore(RequestIdStoreError::Sql(e))
}

/// Unix milliseconds, rounded down (for "now"). Saturates outside `i64`.
fn millis_floor(t: SystemTime) -> i64 {
    clamp(nanos(t).div_euclid(1_000_000))
}

/// Unix milliseconds, rounded up (for expiries): an entry is never forgotten before the
/// instant it was given, so a replay cannot slip through in the last fraction of a
/// millisecond of an assertion's validity.
fn millis_ceil(t: SystemTime) -> i64 {
    clamp(-(-nanos(t)).div_euclid(1_000_000))
}

fn nanos(t: SystemTime) -> i128 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i128::try_from(d.as_nanos()).unwrap_or(i128::MAX),
        Err(e) => i128::try_from(e.duration().as_nanos()).map_or(i128::MIN, |n| -n),
    }
}

fn clamp(ms: i128) -> i64 {
    i64::try_from(ms).unwrap_or(if ms < 0 { i64::MIN } else { i64::MAX })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn expiries_round_up_and_now_rounds_down() {
        let t = UNIX_EPOCH + Duration::new(1_000, 1_500_000); // 1 000 001.5 ms
        assert_eq!(millis_floor(t), 1_000_001);
        assert_eq!(millis_ceil(t), 1_000_002);
        let exact = UNIX_EPOCH + Duration::from_millis(42);
        assert_eq!((millis_floor(exact), millis_ceil(exact)), (42, 42));
        let before = UNIX_EPOCH - Duration::new(0, 1_500_000); // -1.5 ms
        assert_eq!(millis_floor(before), -2);
        assert_eq!(millis_ceil(before), -1);
        let far = UNIX_EPOCH + Duration::from_secs(u64::MAX / 2);
        assert_eq!(millis_floor(far), i64::MAX);
    }
}
