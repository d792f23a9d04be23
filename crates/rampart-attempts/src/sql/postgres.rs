//! PostgreSQL (feature `postgres`): the statements of `postgres/*.sql`, and the connection.

use std::str::FromStr as _;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{Pool, Postgres, Row as _};

use crate::error::{Error, RowProblem};
use crate::sql::dialect::{FailReply, ReadRow, sealed::Dialect};
use crate::sql::row::{FailParams, RawRow};
use crate::sql::{MIGRATIONS_TABLE, SqlConfig, SqlStore, ensure_runtime, setup};

/// Streaks in PostgreSQL, shared by every replica of a service: see the
/// [`sql` module docs](crate::sql) for the schema, what is atomic and what happens in an
/// outage.
pub type PostgresStore = SqlStore<Postgres>;

/// Connections a store opens at most, unless [`SqlConfig::with_max_connections`] says otherwise.
const DEFAULT_CONNECTIONS: u32 = 10;

impl SqlStore<Postgres> {
    /// Connects to the database at `url` (`postgres://user:password@host/db`, or a unix
    /// socket with `?host=/path/to/dir`), runs the migrations unless
    /// [`SqlConfig::with_run_migrations`] is off, checks the schema version and starts the
    /// background task (resets, sweeps). Needs a Tokio runtime.
    ///
    /// Errors: [`StoreError::Setup`](crate::StoreError::Setup) when the URL is malformed,
    /// the database cannot be reached or migrated, or there is no runtime;
    /// [`StoreError::SchemaTooNew`](crate::StoreError::SchemaTooNew) when a newer release
    /// migrated the database. Messages never contain the URL (it may carry a password).
    ///
    /// ```no_run
    /// use std::time::{Duration, SystemTime};
    /// use rampart_attempts::{Decision, PostgresStore, SqlConfig, Subject, Tracker};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), rampart_attempts::Error> {
    /// let config = SqlConfig::default().with_timeout(Duration::from_millis(300));
    /// let store = PostgresStore::connect("postgres://app@db.internal/app", config).await?;
    /// let tracker = Tracker::new(store); // clone the store for every replica's tracker
    /// let who = Subject::account("ann@example.com");
    /// assert_eq!(tracker.check(&who, SystemTime::now()).await?, Decision::Allow);
    /// # Ok(()) }
    /// ```
    pub async fn connect(url: &str, config: SqlConfig) -> Result<Self, Error> {
        ensure_runtime::<Postgres>()?;
        let options = PgConnectOptions::from_str(url)
            .map_err(|_| setup("invalid PostgreSQL URL".to_owned()))?
            // The server ends a statement the store stopped waiting for (a row lock held by
            // a stuck transaction), rather than applying it long after the caller was told no.
            .options([(
                "statement_timeout",
                crate::policy::duration_ms(config.timeout),
            )]);
        let pool = PgPoolOptions::new()
            .max_connections(config.max_connections.unwrap_or(DEFAULT_CONNECTIONS))
            .acquire_timeout(config.timeout)
            // A ping before every statement would double its round trips; a connection a
            // restarted server left dead fails once and is retried (see `health.rs`).
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(|e| {
                setup(format!(
                    "cannot connect to PostgreSQL: {}",
                    super::health::describe(&e)
                ))
            })?;
        Self::from_pool(pool, config).await
    }
}

fn raw(row: &PgRow, with_token: bool) -> Result<RawRow, RowProblem> {
    fn get<'r, T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>>(
        row: &'r PgRow,
        column: &'static str,
    ) -> Result<T, RowProblem> {
        row.try_get(column).map_err(|_| RowProblem::Type { column })
    }
    Ok(RawRow {
        layout: i64::from(get::<i16>(row, "layout")?),
        failures: get(row, "failures")?,
        first_ms: get(row, "first_ms")?,
        last_ms: get(row, "last_ms")?,
        notified: i64::from(get::<bool>(row, "notified")?),
        lock_until_ms: get(row, "lock_until_ms")?,
        token_hash: if with_token {
            get(row, "token_hash")?
        } else {
            None
        },
    })
}

// Sealed (see `dialect.rs`): the crate-private types in the signatures never leak.
#[allow(private_interfaces, private_bounds)]
impl Dialect for Postgres {
    async fn migrate(pool: &Pool<Self>) -> Result<(), sqlx::migrate::MigrateError> {
        let mut migrator = sqlx::migrate!("./migrations/postgres");
        // Our own table: several Rampart crates (and the application) can share a database
        // without their migration histories meeting. Set before the first run, never
        // changed: the name's "dangerous" is about renaming a table already in use.
        migrator.dangerous_set_table_name(MIGRATIONS_TABLE);
        migrator.run(pool).await
    }

    async fn schema_version(pool: &Pool<Self>) -> Result<Option<i64>, sqlx::Error> {
        let exists: bool =
            sqlx::query_scalar("SELECT to_regclass('rampart_attempts_schema') IS NOT NULL")
                .fetch_one(pool)
                .await?;
        if !exists {
            return Ok(None);
        }
        sqlx::query_scalar("SELECT version FROM rampart_attempts_schema")
            .fetch_optional(pool)
            .await
    }

    async fn fail(
        pool: &Pool<Self>,
        key: &str,
        p: &FailParams<'_>,
    ) -> Result<FailReply, sqlx::Error> {
        let row = sqlx::query(include_str!("postgres/fail.sql"))
            .bind(key)
            .bind(p.now_ms)
            .bind(p.idle_ms)
            .bind(p.notify_at)
            .bind(p.lock_after)
            .bind(p.lock_value)
            .bind(p.token)
            .bind(p.fresh_notified)
            .bind(p.fresh_lock_until)
            .bind(p.fresh_token)
            .bind(p.fresh_outcome)
            .fetch_optional(pool)
            .await?;
        Ok(row.map(|row| {
            let outcome = row.try_get::<i16, _>("outcome").map_or(-1, i64::from);
            (raw(&row, false), outcome)
        }))
    }

    async fn read(pool: &Pool<Self>, keys: &[&str]) -> Result<Vec<ReadRow>, sqlx::Error> {
        let rows = sqlx::query(include_str!("postgres/read.sql"))
            .bind(keys)
            .fetch_all(pool)
            .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("subject_key")?, raw(row, true))))
            .collect()
    }

    async fn take_token(pool: &Pool<Self>, key: &str, hash: &[u8]) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(include_str!("postgres/take_token.sql"))
            .bind(key)
            .bind(hash)
            .execute(pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn reset_batch(pool: &Pool<Self>, batch: &[(String, i64)]) -> Result<u64, sqlx::Error> {
        let (keys, at): (Vec<&str>, Vec<i64>) = batch.iter().map(|(k, t)| (k.as_str(), *t)).unzip();
        let done = sqlx::query(include_str!("postgres/reset.sql"))
            .bind(keys)
            .bind(at)
            .execute(pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn sweep(pool: &Pool<Self>, now_ms: i64, limit: i64) -> Result<u64, sqlx::Error> {
        let done = sqlx::query(include_str!("postgres/sweep.sql"))
            .bind(now_ms)
            .bind(limit)
            .execute(pool)
            .await?;
        Ok(done.rows_affected())
    }
}
