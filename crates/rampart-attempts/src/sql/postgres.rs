//! PostgreSQL (feature `postgres`): the statements of `postgres/*.sql`, and the connection.

use sqlx::postgres::PgRow;
use sqlx::{Pool, Postgres, Row as _};

use crate::error::StoreError;
use crate::error::{Error, RowProblem};
use crate::sql::dialect::{FailReply, ReadRow, alike_statements, bind_fail, sealed::Dialect};
use crate::sql::row::{FailParams, RawRow, column};
use crate::sql::{MIGRATIONS_TABLE, SqlConfig, SqlStore, ensure_runtime};

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
    /// Errors: [`StoreError::Setup`] when the URL is malformed,
    /// the database cannot be reached or migrated, or there is no runtime;
    /// [`StoreError::SchemaTooNew`] when a newer release
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
        // The server ends a statement the store stopped waiting for (a row lock held by a
        // stuck transaction), rather than applying it long after the caller was told no.
        let options = rampart_sql::pool::postgres(url, config.timeout)
            // The parser's error is dropped: it may quote the URL, and with it a password.
            .map_err(|_| StoreError::setup("invalid PostgreSQL URL"))?;
        Self::start(
            options,
            config,
            DEFAULT_CONNECTIONS,
            "cannot connect to PostgreSQL",
        )
        .await
    }
}

fn raw(row: &PgRow, with_token: bool) -> Result<RawRow, RowProblem> {
    RawRow::read(
        row,
        with_token,
        || column::<_, i16>(row, "layout").map(i64::from),
        || column::<_, bool>(row, "notified").map(i64::from),
    )
}

// Sealed (see `dialect.rs`): the crate-private types in the signatures never leak.
#[allow(private_interfaces, private_bounds)]
impl Dialect for Postgres {
    fn migrator() -> sqlx::migrate::Migrator {
        rampart_sql::migrations::own_table(
            sqlx::migrate!("./migrations/postgres"),
            MIGRATIONS_TABLE,
        )
    }

    async fn fail(
        pool: &Pool<Self>,
        key: &str,
        p: &FailParams<'_>,
    ) -> Result<FailReply, sqlx::Error> {
        let row = bind_fail!(sqlx::query(include_str!("postgres/fail.sql")), key, p)
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

    alike_statements!(
        "postgres",
        schema_table_exists: "SELECT to_regclass('rampart_attempts_schema') IS NOT NULL"
    );

    async fn reset_batch(pool: &Pool<Self>, batch: &[(String, i64)]) -> Result<u64, sqlx::Error> {
        let (keys, at): (Vec<&str>, Vec<i64>) = batch.iter().map(|(k, t)| (k.as_str(), *t)).unzip();
        let done = sqlx::query(include_str!("postgres/reset.sql"))
            .bind(keys)
            .bind(at)
            .execute(pool)
            .await?;
        Ok(done.rows_affected())
    }
}
