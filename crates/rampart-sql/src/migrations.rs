//! A crate's embedded migrations, recorded in a table of its own, and the check that the
//! database was not migrated by a newer release.

use std::future::Future;

use sqlx::Pool;
use sqlx::migrate::{MigrateError, Migrator};

/// Why a store's migrations did not run; each store reports it as its own error's variants.
///
/// ```
/// let e = rampart_sql::MigrationError::SchemaTooNew { found: 3, supported: 1 };
/// assert_eq!(e.to_string(), "database schema version 3 is newer than this code's version 1");
/// ```
// Exhaustive on purpose: every store maps each variant to its own error, so a new one must
// be handled there (this crate is internal; its API may change).
#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    /// The database's schema was migrated by a newer version of the crate.
    #[error("database schema version {found} is newer than this code's version {supported}")]
    SchemaTooNew {
        /// The highest migration applied to the database.
        found: i64,
        /// The highest migration this code knows.
        supported: i64,
    },
    /// A migration failed, or an applied one was edited since (sqlx compares checksums).
    #[error("migration failed: {0}")]
    Migrate(#[source] MigrateError),
    /// The database could not be reached, or the pool gave up waiting for a connection: an
    /// outage, worth retrying, where [`Migrate`](Self::Migrate) is a defect of the schema.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl MigrationError {
    /// A stable, machine-readable name (the stores' own errors use the same names).
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::SchemaTooNew { .. } => "schema_too_new",
            Self::Migrate(_) => "migration",
            Self::Database(_) => "database",
        }
    }
}

/// A database the stores run on: [`sqlx::Postgres`] (feature `postgres`) or [`sqlx::Sqlite`]
/// (feature `sqlite`). Sealed: what it does is this crate's.
pub trait Backend: sqlx::Database + sealed::Sealed {
    /// Runs `migrator` on `pool` (idempotent; replicas starting together wait for each other
    /// on the database's lock: PostgreSQL's advisory lock up to `statement_timeout`,
    /// SQLite's write lock up to the busy timeout).
    fn run(
        pool: &Pool<Self>,
        migrator: &Migrator,
    ) -> impl Future<Output = Result<(), MigrateError>> + Send;
    /// The highest successful version recorded in migrations table `table`.
    fn applied_version(
        pool: &Pool<Self>,
        table: &str,
    ) -> impl Future<Output = Result<Option<i64>, sqlx::Error>> + Send;
}

mod sealed {
    pub trait Sealed {}
}

macro_rules! backend {
    ($db:ty, $run:path) => {
        impl sealed::Sealed for $db {}
        impl Backend for $db {
            async fn run(pool: &Pool<Self>, migrator: &Migrator) -> Result<(), MigrateError> {
                $run(pool, migrator).await
            }
            async fn applied_version(
                pool: &Pool<Self>,
                table: &str,
            ) -> Result<Option<i64>, sqlx::Error> {
                // `table` is a crate's constant (see `own_table`), never input.
                let text = format!("SELECT MAX(version) FROM {table} WHERE success");
                sqlx::query_scalar(sqlx::AssertSqlSafe(text))
                    .fetch_one(pool)
                    .await
            }
        }
    };
}

/// PostgreSQL: sqlx takes an advisory lock on the database for the run, so replicas
/// starting together wait for each other. The lock belongs to the session, and sqlx releases
/// it only when the run succeeds: after a failed migration, an edited one or a newer schema,
/// the connection would go back to the pool still holding it, and every other replica's
/// migration would wait on it until the statement timeout. A failed run closes its
/// connection instead, which ends the session and the lock with it.
#[cfg(feature = "postgres")]
async fn run_postgres(
    pool: &Pool<sqlx::Postgres>,
    migrator: &Migrator,
) -> Result<(), MigrateError> {
    let mut conn = pool.acquire().await?;
    // `run_direct`, what `run` calls on the connection it acquires (see `run_sqlite`).
    let result = migrator.run_direct(None, &mut *conn, false).await;
    if result.is_err() {
        conn.close_on_drop();
    }
    result
}

/// SQLite: sqlx takes no lock there (its `lock` does nothing), so two processes opening a
/// new file together both found migration 1 missing, and the second to apply it failed
/// ("table already exists"). The run holds the file's write lock instead (`BEGIN
/// IMMEDIATE`, waiting up to the busy timeout): the others wait, then find every migration
/// applied. Each migration stays a savepoint of its own, so one that fails is undone and
/// those before it are kept, as on PostgreSQL. (A migration marked `-- no-transaction`
/// would run inside the lock's transaction too; no Rampart crate has one.)
#[cfg(feature = "sqlite")]
async fn run_sqlite(pool: &Pool<sqlx::Sqlite>, migrator: &Migrator) -> Result<(), MigrateError> {
    use sqlx::Connection as _;
    let mut conn = pool.acquire().await?;
    let mut locked = conn.begin_with("BEGIN IMMEDIATE").await?;
    // `run_direct`, what `run` calls, because `run(&mut *locked)` is refused ("`Acquire` is
    // not general enough" once the future must be `Send`): sqlx marks it hidden for that
    // very reason (its note on `run_direct`), and the lock file pins the version.
    let result = migrator.run_direct(None, &mut *locked, false).await;
    // Commit what ran even when a migration failed: its own savepoint was rolled back.
    locked.commit().await?;
    result
}

#[cfg(feature = "postgres")]
backend!(sqlx::Postgres, run_postgres);
#[cfg(feature = "sqlite")]
backend!(sqlx::Sqlite, run_sqlite);

/// `migrator` (a crate's `sqlx::migrate!`) recording its history in `table`, not sqlx's
/// default `_sqlx_migrations`: every Rampart crate keeps its own `_rampart_<crate>_migrations`
/// table, so they share a database with each other and with the application's own
/// migrations without mistaking each other's versions for theirs. (Set before the first
/// run and never changed: sqlx's "dangerous" is about renaming a table already in use.)
///
/// ```
/// let m = rampart_sql::migrations::own_table(sqlx::migrate::Migrator::DEFAULT, "_rampart_x_migrations");
/// assert_eq!(m.table_name, "_rampart_x_migrations");
/// ```
#[must_use]
pub fn own_table(mut migrator: Migrator, table: &'static str) -> Migrator {
    migrator.dangerous_set_table_name(table);
    migrator
}

/// The highest schema version `migrator` knows (its highest migration; 0 for none).
///
/// ```
/// assert_eq!(rampart_sql::migrations::newest(&sqlx::migrate::Migrator::DEFAULT), 0);
/// ```
#[must_use]
pub fn newest(migrator: &Migrator) -> i64 {
    migrator.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Runs `migrator` on `pool`, refusing a database migrated by a newer release.
///
/// ```
/// # #[cfg(feature = "sqlite")]
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// use rampart_sql::migrations::{migrate, own_table};
/// let pool = sqlx::SqlitePool::connect("sqlite::memory:").await?;
/// let none = own_table(sqlx::migrate::Migrator::DEFAULT, "_rampart_doc_migrations");
/// migrate(&pool, &none).await?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`MigrationError::SchemaTooNew`] when a migration past this code's last one was applied;
/// [`MigrationError::Database`] when the database cannot be reached;
/// [`MigrationError::Migrate`] for any other failure.
pub async fn migrate<DB: Backend>(
    pool: &Pool<DB>,
    migrator: &Migrator,
) -> Result<(), MigrationError> {
    let supported = newest(migrator);
    match DB::run(pool, migrator).await {
        Ok(()) => Ok(()),
        // sqlx reports the first applied migration it does not know; past our last one, the
        // schema is a newer one's. Report the newest applied.
        Err(MigrateError::VersionMissing(version)) if version > supported => {
            let newest = DB::applied_version(pool, &migrator.table_name)
                .await
                .ok()
                .flatten();
            Err(MigrationError::SchemaTooNew {
                found: newest.unwrap_or(version).max(version),
                supported,
            })
        }
        Err(MigrateError::Execute(e)) if is_outage(&e) => Err(MigrationError::Database(e)),
        Err(e) => Err(MigrationError::Migrate(e)),
    }
}

/// Failures to reach the database rather than of a statement: sqlx reports those met while
/// migrating as `MigrateError::Execute`.
fn is_outage(e: &sqlx::Error) -> bool {
    matches!(
        e,
        sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
    )
}
