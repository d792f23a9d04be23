//! SQLite (feature `sqlite`): the statements of `sqlite/*.sql`, and the database file.

use std::path::Path;

use sqlx::sqlite::{SqliteRow, SqliteSynchronous};
use sqlx::{AssertSqlSafe, Pool, Row as _, Sqlite};

use crate::error::{Error, RowProblem};
use crate::sql::dialect::{FailReply, ReadRow, alike_statements, bind_fail, sealed::Dialect};
use crate::sql::row::{FailParams, RawRow, column};
use crate::sql::{MIGRATIONS_TABLE, SqlConfig, SqlStore, ensure_runtime};

/// Streaks in a SQLite file: one process, or several on one machine (SQLite locks the file).
/// No server to run. See the [`sql` module docs](crate::sql) for the schema and what is
/// atomic.
pub type SqliteStore = SqlStore<Sqlite>;

/// One connection unless [`SqlConfig::with_max_connections`] says otherwise: SQLite writes one
/// at a time, and a second connection of the same process would only wait for the file lock.
const DEFAULT_CONNECTIONS: u32 = 1;

/// The read statement with `$cond` as its condition.
macro_rules! select_rows {
    ($cond:literal) => {
        concat!(
            "SELECT subject_key, layout, failures, first_ms, last_ms, notified, lock_until_ms, ",
            "token_hash FROM rampart_attempts_streaks WHERE ",
            $cond
        )
    };
}

impl SqlStore<Sqlite> {
    /// Opens (creating it if missing) the database file at `path`, runs the migrations
    /// unless [`SqlConfig::with_run_migrations`] is off, checks the schema version and starts the
    /// background task (resets, sweeps). Needs a Tokio runtime.
    ///
    /// The file is in WAL mode with `synchronous = NORMAL`: a crash of the process loses
    /// nothing that was acknowledged (a power loss may lose the last few failures). Several
    /// processes may share the file; they wait for each other's writes up to
    /// [`SqlConfig::with_timeout`].
    ///
    /// Errors: [`StoreError::Setup`](crate::StoreError::Setup) when the file cannot be
    /// opened or migrated, or there is no runtime;
    /// [`StoreError::SchemaTooNew`](crate::StoreError::SchemaTooNew) when a newer release
    /// migrated it.
    ///
    /// ```
    /// use std::time::SystemTime;
    /// use rampart_attempts::{SqlConfig, SqliteStore, Subject, Tracker};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let store = SqliteStore::open(dir.path().join("attempts.db"), SqlConfig::default()).await?;
    /// let tracker = Tracker::new(store);
    /// let ann = Subject::account("ann");
    /// assert_eq!(tracker.record_failure(&ann, SystemTime::now()).await?.count, 1);
    /// # Ok(()) }
    /// ```
    pub async fn open(path: impl AsRef<Path>, config: SqlConfig) -> Result<Self, Error> {
        ensure_runtime::<Sqlite>()?;
        // SQLite gives up waiting for another writer's lock before the call's deadline: a
        // clean error, rather than a write that lands after the caller was told no.
        let options = rampart_sql::pool::sqlite(path, config.timeout.mul_f64(0.75))
            // A failure count may lose its last few writes to a power cut (not to a crash of
            // the process): this store trades that for a cheaper commit than `FULL`.
            .synchronous(SqliteSynchronous::Normal);
        Self::start(
            options,
            config,
            DEFAULT_CONNECTIONS,
            "cannot open the SQLite database",
        )
        .await
    }
}

fn raw(row: &SqliteRow, with_token: bool) -> Result<RawRow, RowProblem> {
    RawRow::read(
        row,
        with_token,
        || column(row, "layout"),
        || column(row, "notified"),
    )
}

// Sealed (see `dialect.rs`): the crate-private types in the signatures never leak.
#[allow(private_interfaces, private_bounds)]
impl Dialect for Sqlite {
    fn migrator() -> sqlx::migrate::Migrator {
        rampart_sql::migrations::own_table(sqlx::migrate!("./migrations/sqlite"), MIGRATIONS_TABLE)
    }

    async fn fail(
        pool: &Pool<Self>,
        key: &str,
        p: &FailParams<'_>,
    ) -> Result<FailReply, sqlx::Error> {
        let row = bind_fail!(sqlx::query(include_str!("sqlite/fail.sql")), key, p)
            .fetch_optional(pool)
            .await?;
        Ok(row.map(|row| {
            let outcome = row.try_get::<i64, _>("outcome").unwrap_or(-1);
            (raw(&row, false), outcome)
        }))
    }

    async fn read(pool: &Pool<Self>, keys: &[&str]) -> Result<Vec<ReadRow>, sqlx::Error> {
        let rows = if let [key] = keys {
            sqlx::query(select_rows!("subject_key = ?1"))
                .bind(*key)
                .fetch_all(pool)
                .await?
        } else {
            // The statement text holds numbered placeholders only, never a key: the keys are
            // bound as parameters like everywhere else.
            let mut text = select_rows!("subject_key IN (").to_owned();
            for i in 1..=keys.len() {
                if i > 1 {
                    text.push_str(", ");
                }
                text.push('?');
                text.push_str(&i.to_string());
            }
            text.push(')');
            let mut q = sqlx::query(AssertSqlSafe(text));
            for key in keys {
                q = q.bind(*key);
            }
            q.fetch_all(pool).await?
        };
        rows.iter()
            .map(|row| Ok((row.try_get("subject_key")?, raw(row, true))))
            .collect()
    }

    alike_statements!(
        "sqlite",
        schema_table_exists: "SELECT count(*) > 0 FROM sqlite_schema \
         WHERE type = 'table' AND name = 'rampart_attempts_schema'"
    );

    async fn reset_batch(pool: &Pool<Self>, batch: &[(String, i64)]) -> Result<u64, sqlx::Error> {
        // IMMEDIATE: take the write lock at the start, so the busy timeout applies (a
        // deferred transaction that read first could fail at once on another's write).
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
        let mut deleted = 0;
        for (key, at) in batch {
            deleted += sqlx::query(include_str!("sqlite/reset.sql"))
                .bind(key)
                .bind(*at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        tx.commit().await?;
        Ok(deleted)
    }
}
