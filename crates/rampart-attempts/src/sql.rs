//! SQL stores (features `postgres` and `sqlite`, over `sqlx`): streaks in one table that
//! every replica of a service shares ([`PostgresStore`]), or in a local file with no server
//! to run ([`SqliteStore`]). Same rules as the memory and Redis stores (`src/streak.rs`).
//!
//! ```
//! use std::time::SystemTime;
//! use rampart_attempts::{SqlConfig, SqliteStore, Subject, Tracker};
//! # #[cfg(feature = "sqlite")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! // PostgresStore::connect("postgres://app@db/app", SqlConfig::default()) for replicas.
//! let store = SqliteStore::open(dir.path().join("attempts.db"), SqlConfig::default()).await?;
//! let tracker = Tracker::new(store);
//! let key = Subject::api_key("pk_live_4f9a");
//! let now = SystemTime::now();
//! let mut notified = 0;
//! for _ in 0..25 {
//!     notified += usize::from(tracker.record_failure(&key, now).await?.notification.is_some());
//! }
//! assert_eq!(notified, 1, "the 20th failure, once");
//! # Ok(()) }
//! # #[cfg(not(feature = "sqlite"))]
//! # fn main() {}
//! ```
//!
//! # Schema
//!
//! Version 1, created by the embedded migrations (`migrations/postgres`,
//! `migrations/sqlite`; their history is kept in the table `_rampart_attempts_migrations`, so
//! other crates and the application can migrate the same database with their own).
//!
//! `rampart_attempts_streaks`, one row per subject with a streak:
//!
//! | column | type (PostgreSQL / SQLite) | meaning |
//! |---|---|---|
//! | `subject_key` | `TEXT` primary key | [`Subject::storage_key`](crate::Subject::storage_key), or `h:` and the hex SHA-256 of one longer than 256 bytes or holding a NUL ([`SqlStore::key_of`]) |
//! | `layout` | `SMALLINT` / `INTEGER` | the row layout: 1. A newer release that changes what a row means writes another number, and this release refuses such a row instead of misreading it |
//! | `failures` | `BIGINT` / `INTEGER` | consecutive failures, 0 to 2^32 - 1 |
//! | `first_ms`, `last_ms` | `BIGINT` / `INTEGER` | first and last failure of the streak, Unix ms |
//! | `notified` | `BOOLEAN` / `INTEGER` 0 or 1 | the streak's notification was sent |
//! | `lock_until_ms` | `BIGINT` / `INTEGER` | 0: not locked; -1: locked until unlocked; else the end of a timed lock, Unix ms |
//! | `token_hash` | `BYTEA` / `BLOB`, nullable | SHA-256 of the unlock token of the current lock (32 bytes); the token itself is never stored |
//! | `expires_ms` | `BIGINT` / `INTEGER`, indexed | last failure plus the idle period: when the sweep may delete the row |
//! | `outcome` | `SMALLINT` / `INTEGER` | what the latest failure did: bit 0 crossed the notify threshold, bit 1 started a lock (read back by the statement that wrote it) |
//!
//! Times are at most 9999-12-31 (253402300799999 ms), so no sum a statement computes can
//! overflow. CHECK constraints hold every column to its range (SQLite's table is `STRICT`),
//! and the store checks every row it reads again: a hand-edited row, a truncated token
//! hash, a row of a newer layout is [`StoreError::BadRow`] naming the row's key, never a
//! streak, a decision or an accepted token; the caller denies. `rampart_attempts_schema`
//! holds the schema version; a database migrated by a newer release is refused at start
//! ([`StoreError::SchemaTooNew`]).
//!
//! # What is atomic
//!
//! - Recording a failure is one statement (`src/sql/postgres/fail.sql`, `sqlite/fail.sql`):
//!   `INSERT ... ON CONFLICT (subject_key) DO UPDATE ... RETURNING` that applies the streak
//!   rules to the stored row and, when this failure starts a lock, stores the token hash in
//!   the same write. The database runs concurrent upserts of one row one after the other,
//!   so with any number of replicas exactly one failure per streak sees the count cross the
//!   threshold and notifies. A first failure's row is computed by the Rust rules.
//! - Reading one streak, or all the streaks of one request
//!   ([`Tracker::check_all`](crate::Tracker::check_all)), is one `SELECT`: one snapshot.
//! - An unlock reads the stored hash, compares it in constant time here, then deletes the row
//!   with `DELETE ... WHERE token_hash = $2`, so a token works once even when two requests
//!   race (the database's own comparison runs only after ours matched).
//! - A success queues a reset for the background task, which deletes the ended streaks of
//!   up to 256 successes with one statement (PostgreSQL) or one transaction (SQLite);
//!   [`Tracker::record_success`](crate::Tracker::record_success) never waits on the
//!   database. A reset never ends a lock, nor a failure recorded after the success; if the
//!   queue ([`SqlConfig::with_reset_queue`]) is full it is dropped and counted.
//!
//! # Bounded rows
//!
//! A row lives until a success ends its streak, its token is used, or its streak expires:
//! the background task deletes expired rows every [`SqlConfig::with_sweep_interval`] (default
//! one minute; [`SqlStore::sweep_expired`] does it on demand). So the table holds the
//! subjects that failed within their idle period, as the Redis store's keys expire with it.
//!
//! # When the database is unreachable
//!
//! Every call has a deadline ([`SqlConfig::with_timeout`], default 500 ms) and then returns
//! [`StoreError::Unavailable`]: these stores fail closed, and the caller denies the attempt.
//! (An application keeps its credentials in the same database, as a rule: when it is down,
//! no login could succeed anyway, and a per-replica memory fallback would only split the
//! counts.) A call that timed out may still be applied: a statement the database had
//! already received can commit after the deadline (PostgreSQL's `statement_timeout` and
//! SQLite's busy timeout, set from the same deadline by `PostgresStore::connect` and
//! `SqliteStore::open`, make that rare). Counts then err towards more failures, never
//! fewer. After a restart of the server, the pool's connections are dead; a statement
//! that fails on one is retried on another within the same deadline, so the first calls
//! after a restart succeed instead of failing once per pooled connection. Nothing
//! acknowledged is lost: each statement commits before it answers. [`SqlStore::stats`]
//! reports availability, errors and counters.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use sqlx::Pool;
use tokio::sync::mpsc;

use crate::error::{Error, StoreError};
use crate::policy::Rule;
use crate::store::{Store, sealed::Backend};
use crate::streak::{Recorded, Streak};
use crate::subject::Subject;
use crate::token::TokenHash;

mod background;
mod dialect;
mod health;
#[cfg(feature = "postgres")]
mod postgres;
mod row;
#[cfg(feature = "sqlite")]
mod sqlite;

use dialect::sealed::Dialect;
pub use health::SqlStats;
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use postgres::PostgresStore;
use row::{Checked, FailParams, RawRow, db_ms, key_of};
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use sqlite::SqliteStore;
/// The `sqlx` these stores are built with, for [`SqlStore::from_pool`] and
/// [`SqlStore::pool`]: a pool from this re-export always has the matching version.
pub use sqlx;

/// The schema version this release reads and writes.
pub const SCHEMA_VERSION: i64 = 1;
/// The table of this crate's migration history (not sqlx's default `_sqlx_migrations`).
const MIGRATIONS_TABLE: &str = "_rampart_attempts_migrations";

// Not `rampart_sql::SqlStoreOptions` (the options of the key and SAML stores), nor an alias
// of it: the same field set would change what existing configurations do. This store's
// deadline defaults to 500 ms, not 5 s (it sits on every login's path), and is not floored
// at 1 ms; an unset pool size means 10 connections on PostgreSQL but 1 on SQLite; the fields
// are public; and the reset queue, timed sweep and migration switch are this store's alone.
// What is shared is what these settings drive: the pool and its connection settings
// (`rampart_sql::pool`) and the migrations table (`rampart_sql::migrations`).
/// Configuration of a SQL store.
///
/// ```
/// use std::time::Duration;
/// use rampart_attempts::SqlConfig;
/// let config = SqlConfig::default()
///     .with_timeout(Duration::from_millis(200))
///     .with_max_connections(20)
///     .with_run_migrations(false); // the deploy runs them (see SqlStore::migrate)
/// assert_eq!(config.sweep_interval, Duration::from_secs(60));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SqlConfig {
    /// Deadline of each call to the database, and of getting a connection (default 500 ms).
    pub timeout: Duration,
    /// Connections the store's pool opens at most (default 10 for PostgreSQL, 1 for SQLite).
    /// Not used by [`SqlStore::from_pool`].
    pub max_connections: Option<u32>,
    /// Capacity of the background reset queue (default 65,536).
    pub reset_queue: usize,
    /// How often expired rows are deleted (default 60 s; zero: never, call
    /// [`SqlStore::sweep_expired`] yourself).
    pub sweep_interval: Duration,
    /// Run the embedded migrations when the store starts (default true). Turn off when the
    /// service's database user may not change the schema and the deploy runs
    /// [`SqlStore::migrate`] instead; the schema version is checked either way.
    pub run_migrations: bool,
}

impl Default for SqlConfig {
    fn default() -> Self {
        SqlConfig {
            timeout: Duration::from_millis(500),
            max_connections: None,
            reset_queue: 65_536,
            sweep_interval: Duration::from_secs(60),
            run_migrations: true,
        }
    }
}

impl SqlConfig {
    /// Sets the deadline of each call.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the pool's size (at least 1).
    #[must_use]
    pub fn with_max_connections(mut self, n: u32) -> Self {
        self.max_connections = Some(n.max(1));
        self
    }

    /// Sets the capacity of the background reset queue.
    #[must_use]
    pub fn with_reset_queue(mut self, capacity: usize) -> Self {
        self.reset_queue = capacity;
        self
    }

    /// Sets how often expired rows are swept (zero: never).
    #[must_use]
    pub fn with_sweep_interval(mut self, interval: Duration) -> Self {
        self.sweep_interval = interval;
        self
    }

    /// Sets whether the store runs the migrations when it starts.
    #[must_use]
    pub fn with_run_migrations(mut self, run: bool) -> Self {
        self.run_migrations = run;
        self
    }
}

struct Inner<DB: sqlx::Database> {
    pool: Pool<DB>,
    health: Arc<health::Health>,
    resets: mpsc::Sender<background::Reset>,
}

/// Streaks in a SQL database; use it through [`PostgresStore`] (feature `postgres`) or
/// [`SqliteStore`] (feature `sqlite`). See the [module docs](self) for the schema, what is
/// atomic and the failure mode. Cheap to clone (one shared pool and background task).
pub struct SqlStore<DB: sqlx::Database> {
    inner: Arc<Inner<DB>>,
}

impl<DB: sqlx::Database> Clone for SqlStore<DB> {
    fn clone(&self) -> Self {
        SqlStore {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<DB: sqlx::Database> fmt::Debug for SqlStore<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlStore")
            .field("database", &<DB as sqlx::Database>::NAME)
            .field("stats", &self.inner.health.stats())
            .finish_non_exhaustive()
    }
}

impl<DB: sqlx::Database> SqlStore<DB> {
    /// The pool the store uses (shared with the application if it came from
    /// [`from_pool`](Self::from_pool)).
    pub fn pool(&self) -> &Pool<DB> {
        &self.inner.pool
    }

    /// Counters and availability. Never waits on the database.
    pub fn stats(&self) -> SqlStats {
        self.inner.health.stats()
    }

    /// The row key of `subject` (see the schema in the [module docs](self)), to find its row.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")] {
    /// use rampart_attempts::{SqliteStore, Subject};
    /// assert_eq!(SqliteStore::key_of(&Subject::account("carol")), "a:carol");
    /// let long = Subject::account_from_ip("x".repeat(256), "192.0.2.1".parse().unwrap());
    /// assert!(SqliteStore::key_of(&long).starts_with("h:")); // 268 bytes: digested
    /// # }
    /// ```
    pub fn key_of(subject: &Subject) -> String {
        key_of(subject)
    }
}

// `Dialect` is sealed (as `Backend`): naming it in these bounds reveals nothing an outsider
// could implement.
#[allow(private_bounds)]
impl<DB: Dialect> SqlStore<DB> {
    /// A store over a pool the application already has (its TLS, its pool size), with
    /// `config`'s timeout, queue, sweep and migrations (`max_connections` is the pool's
    /// business). Runs the migrations unless told not to, checks the schema version and
    /// starts the background task. Needs a Tokio runtime.
    ///
    /// ```
    /// use rampart_attempts::{SqlConfig, SqliteStore};
    /// # #[cfg(feature = "sqlite")]
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let options = sqlx::sqlite::SqliteConnectOptions::new()
    ///     .filename(dir.path().join("app.db"))
    ///     .create_if_missing(true);
    /// let pool = sqlx::SqlitePool::connect_with(options).await?;
    /// let store = SqliteStore::from_pool(pool.clone(), SqlConfig::default()).await?;
    /// assert!(store.stats().available);
    /// # Ok(()) }
    /// # #[cfg(not(feature = "sqlite"))]
    /// # fn main() {}
    /// ```
    pub async fn from_pool(pool: Pool<DB>, config: SqlConfig) -> Result<Self, Error> {
        ensure_runtime::<DB>()?;
        if config.run_migrations {
            Self::migrate(&pool).await?;
        }
        check_schema::<DB>(&pool).await?;
        let health = Arc::new(health::Health::new(
            config.timeout,
            pool.options().get_max_connections(),
        ));
        let (tx, rx) = mpsc::channel(config.reset_queue.max(1));
        tokio::spawn(background::run(
            pool.clone(),
            Arc::clone(&health),
            rx,
            config.sweep_interval,
        ));
        Ok(SqlStore {
            inner: Arc::new(Inner {
                pool,
                health,
                resets: tx,
            }),
        })
    }

    /// Runs the embedded migrations on `pool` (idempotent; replicas starting together wait
    /// for each other on PostgreSQL's advisory lock). For a deploy step when the store
    /// itself does not migrate ([`SqlConfig::with_run_migrations`]).
    ///
    /// Errors: [`StoreError::SchemaTooNew`] when a newer release already migrated the
    /// database; [`StoreError::Setup`] for anything else.
    ///
    /// ```
    /// use rampart_attempts::{SqlConfig, SqliteStore};
    /// # #[cfg(feature = "sqlite")]
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let url = format!("sqlite://{}?mode=rwc", dir.path().join("a.db").display());
    /// let pool = sqlx::SqlitePool::connect(&url).await?;
    /// SqliteStore::migrate(&pool).await?; // the deploy step
    /// let config = SqlConfig::default().with_run_migrations(false);
    /// let store = SqliteStore::from_pool(pool, config).await?; // checks the version only
    /// # Ok(()) }
    /// # #[cfg(not(feature = "sqlite"))]
    /// # fn main() {}
    /// ```
    pub async fn migrate(pool: &Pool<DB>) -> Result<(), Error> {
        DB::run(pool, &DB::migrator()).await.map_err(|e| match e {
            // A migration this release does not know was applied: a newer release's schema.
            sqlx::migrate::MigrateError::VersionMissing(found) => {
                Error::Store(StoreError::SchemaTooNew {
                    found,
                    supported: SCHEMA_VERSION,
                })
            }
            other => StoreError::setup_caused_by(
                format!("{} migrations failed", <DB as sqlx::Database>::NAME),
                other,
            ),
        })
    }

    /// Deletes the rows whose streak expired by `now` (the background task does it every
    /// [`SqlConfig::with_sweep_interval`]); returns how many, at most 100,000 a call.
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// use rampart_attempts::{SqlConfig, SqliteStore, Subject, Tracker};
    /// # #[cfg(feature = "sqlite")]
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let store = SqliteStore::open(dir.path().join("a.db"), SqlConfig::default()).await?;
    /// let tracker = Tracker::new(store.clone());
    /// let now = SystemTime::now();
    /// tracker.record_failure(&Subject::ip("192.0.2.1".parse()?), now).await?;
    /// assert_eq!(store.sweep_expired(now).await?, 0, "still live");
    /// let day = Duration::from_secs(24 * 3600); // the IP policy's idle period
    /// assert_eq!(store.sweep_expired(now + day).await?, 1);
    /// # Ok(()) }
    /// # #[cfg(not(feature = "sqlite"))]
    /// # fn main() {}
    /// ```
    pub async fn sweep_expired(&self, now: SystemTime) -> Result<u64, Error> {
        Ok(background::sweep(&self.inner.pool, &self.inner.health, now).await?)
    }

    /// Waits until every success queued so far has been applied (or dropped, or lost to an
    /// outage): for a graceful shutdown, so the last resets are not lost with the process.
    /// Gives up with [`StoreError::Unavailable`] when the queue makes no progress for one
    /// [`SqlConfig::with_timeout`].
    ///
    /// ```
    /// use std::time::SystemTime;
    /// use rampart_attempts::{SqlConfig, SqliteStore, Subject, Tracker};
    /// # #[cfg(feature = "sqlite")]
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let store = SqliteStore::open(dir.path().join("a.db"), SqlConfig::default()).await?;
    /// let tracker = Tracker::new(store.clone());
    /// tracker.record_success(&Subject::account("ann"), SystemTime::now()).await; // queued
    /// store.flush().await?; // applied
    /// assert_eq!(store.stats().resets_applied, 1);
    /// # Ok(()) }
    /// # #[cfg(not(feature = "sqlite"))]
    /// # fn main() {}
    /// ```
    pub async fn flush(&self) -> Result<(), Error> {
        let settled = |s: &SqlStats| s.resets_applied + s.resets_dropped + s.resets_failed;
        let mut last = settled(&self.stats());
        let mut deadline = tokio::time::Instant::now() + self.inner.health.timeout();
        loop {
            let s = self.stats();
            let now = settled(&s);
            if now >= s.resets_queued {
                return Ok(());
            }
            if now != last {
                last = now;
                deadline = tokio::time::Instant::now() + self.inner.health.timeout();
            } else if tokio::time::Instant::now() >= deadline {
                return Err(Error::Store(StoreError::Unavailable));
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }

    /// `connect` and `open`: a pool of `config`'s size (`default_connections` unless set) on
    /// `options`, connected at once so that an unreachable database fails the start (as
    /// `failing`, without the options: a URL may carry a password), then
    /// [`from_pool`](Self::from_pool).
    async fn start(
        options: <DB::Connection as sqlx::Connection>::Options,
        config: SqlConfig,
        default_connections: u32,
        failing: &str,
    ) -> Result<Self, Error> {
        let size = config.max_connections.unwrap_or(default_connections);
        let pool = rampart_sql::pool::options(config.timeout, size)
            .connect_with(options)
            .await
            .map_err(|e| StoreError::setup_caused_by(failing, e))?;
        Self::from_pool(pool, config).await
    }

    /// Reads the rows of `keys` (one statement), checked; a bad row is an error naming it.
    async fn read(&self, keys: &[&str]) -> Result<Vec<(String, Checked)>, StoreError> {
        let pool = &self.inner.pool;
        let rows = self.inner.health.call(|| DB::read(pool, keys)).await?;
        rows.into_iter()
            .map(|(key, raw)| match raw.and_then(|r| r.check()) {
                Ok(checked) => Ok((key, checked)),
                Err(problem) => Err(self.bad_row(key, problem)),
            })
            .collect()
    }

    fn bad_row(&self, key: String, problem: crate::error::RowProblem) -> StoreError {
        health::Counters::add(&self.inner.health.counters.bad_rows, 1);
        StoreError::BadRow { key, problem }
    }

    /// Decodes the row `fail.sql` returned.
    fn recorded(&self, key: &str, raw: &RawRow, outcome: i64) -> Result<Recorded, StoreError> {
        let checked = raw
            .check()
            .map_err(|problem| self.bad_row(key.to_owned(), problem))?;
        if !(0..=3).contains(&outcome) {
            return Err(StoreError::UnexpectedReply);
        }
        Ok(Recorded {
            streak: checked.streak,
            notify: outcome & 1 != 0,
            newly_locked: outcome & 2 != 0,
        })
    }
}

/// sqlx panics when used outside a Tokio runtime: an error instead.
fn ensure_runtime<DB: sqlx::Database>() -> Result<(), Error> {
    if tokio::runtime::Handle::try_current().is_err() {
        return Err(StoreError::setup(format!(
            "the {} store needs a Tokio runtime",
            DB::NAME
        )));
    }
    Ok(())
}

async fn check_schema<DB: Dialect>(pool: &Pool<DB>) -> Result<(), Error> {
    let found = DB::schema_version(pool).await.map_err(|e| {
        StoreError::setup_caused_by(
            format!(
                "cannot read the {} schema version",
                <DB as sqlx::Database>::NAME
            ),
            e,
        )
    })?;
    match found {
        Some(SCHEMA_VERSION) => Ok(()),
        Some(found) if found > SCHEMA_VERSION => Err(Error::Store(StoreError::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        })),
        Some(found) => Err(StoreError::setup(format!(
            "schema version {found} is older than {SCHEMA_VERSION}: run the migrations"
        ))),
        None => Err(StoreError::setup(
            "no rampart-attempts schema in the database: run the migrations",
        )),
    }
}

#[allow(private_interfaces, private_bounds)]
impl<DB: Dialect> Backend for SqlStore<DB> {
    async fn fail(
        &self,
        subject: &Subject,
        rule: &Rule,
        now_ms: u64,
        token: Option<&TokenHash>,
    ) -> Result<Recorded, StoreError> {
        let key = key_of(subject);
        let params = FailParams::new(rule, now_ms, token);
        let pool = &self.inner.pool;
        // Twice at most: a refused row that reads back fine was fixed (or swept) between
        // the two statements, and the failure is recorded on the second try.
        for _ in 0..2 {
            let reply = self
                .inner
                .health
                .call(|| DB::fail(pool, &key, &params))
                .await?;
            match reply {
                Some((Ok(raw), outcome)) => return self.recorded(&key, &raw, outcome),
                Some((Err(problem), _)) => return Err(self.bad_row(key, problem)),
                // The statement's checks refused the stored row: say what is wrong with it.
                None => {
                    self.read(&[&key]).await?;
                }
            }
        }
        Err(StoreError::UnexpectedReply)
    }

    async fn peek(
        &self,
        subject: &Subject,
        idle_ms: u64,
        now_ms: u64,
    ) -> Result<Option<Streak>, StoreError> {
        let key = key_of(subject);
        let rows = self.read(&[&key]).await?;
        Ok(live(
            rows.into_iter().next().map(|(_, c)| c.streak),
            idle_ms,
            now_ms,
        ))
    }

    async fn peek_many(
        &self,
        subjects: &[(&Subject, u64)],
        now_ms: u64,
    ) -> Result<Vec<Option<Streak>>, StoreError> {
        let keys: Vec<String> = subjects.iter().map(|(s, _)| key_of(s)).collect();
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        let rows = self.read(&refs).await?;
        Ok(keys
            .iter()
            .zip(subjects)
            .map(|(key, (_, idle_ms))| {
                let streak = rows.iter().find(|(k, _)| k == key).map(|(_, c)| c.streak);
                live(streak, *idle_ms, now_ms)
            })
            .collect())
    }

    fn reset(&self, subject: &Subject, success_ms: u64) {
        let c = &self.inner.health.counters;
        match self
            .inner
            .resets
            .try_send((key_of(subject), db_ms(success_ms)))
        {
            Ok(()) => health::Counters::add(&c.resets_queued, 1),
            Err(_) => health::Counters::add(&c.resets_dropped, 1),
        }
    }

    async fn unlock(&self, subject: &Subject, hash: &TokenHash) -> Result<bool, StoreError> {
        let key = key_of(subject);
        let rows = self.read(&[&key]).await?;
        let stored = rows.into_iter().next().and_then(|(_, c)| c.token_hash);
        // Constant time here; the database compares again only to delete exactly this lock.
        if !stored.is_some_and(|s| hash.ct_eq(&s)) {
            return Ok(false);
        }
        let pool = &self.inner.pool;
        self.inner
            .health
            .call(|| DB::take_token(pool, &key, &hash.0))
            .await
    }
}

#[allow(private_bounds)]
impl<DB: Dialect> Store for SqlStore<DB> {}

/// The streak unless it expired (rows linger until a sweep).
fn live(streak: Option<Streak>, idle_ms: u64, now_ms: u64) -> Option<Streak> {
    streak.filter(|s| !s.expired(idle_ms, now_ms))
}
