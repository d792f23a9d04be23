//! The statements, once. PostgreSQL and SQLite take the same SQL text here (`$n` parameters,
//! upserts with a `WHERE`, `RETURNING`); a macro stamps out the sqlx calls for each concrete
//! database, which keeps sqlx's generic bounds out of the public API.

use std::future::Future;

use sqlx::Pool;
use sqlx::migrate::{MigrateError, Migrator};

/// Where sqlx records this crate's applied migrations: a table of our own, so the
/// application's migrations (sqlx's default `_sqlx_migrations`) and other Rampart crates in
/// the same database never mistake each other's versions for theirs.
pub(crate) const MIGRATIONS_TABLE: &str = "_rampart_saml_migrations";

/// New, or an expired row of the same key replaced: one row changed. A live row is left as
/// it is: no row changed, a replay. Atomic on both databases (a concurrent insert of the same
/// key waits for the first and then sees its live row).
const INSERT_IF_NEW: &str = "INSERT INTO rampart_saml_replay (digest, expires_at) VALUES ($1, $2) \
     ON CONFLICT (digest) DO UPDATE SET expires_at = excluded.expires_at \
     WHERE rampart_saml_replay.expires_at <= $3";
const REMEMBER: &str = "INSERT INTO rampart_saml_request_ids (digest, expires_at) VALUES ($1, $2) \
     ON CONFLICT (digest) DO UPDATE SET expires_at = excluded.expires_at";
/// Take and delete in one statement: of two concurrent consumers, one gets the row.
const CONSUME: &str = "DELETE FROM rampart_saml_request_ids WHERE digest = $1 RETURNING expires_at";
const SWEEP_REPLAY: &str = "DELETE FROM rampart_saml_replay WHERE digest IN \
     (SELECT digest FROM rampart_saml_replay WHERE expires_at <= $1 LIMIT $2)";
const SWEEP_REQUESTS: &str = "DELETE FROM rampart_saml_request_ids WHERE digest IN \
     (SELECT digest FROM rampart_saml_request_ids WHERE expires_at <= $1 LIMIT $2)";
const APPLIED: &str = "SELECT MAX(version) FROM _rampart_saml_migrations WHERE success";

/// A database the SQL store runs on: [`sqlx::Postgres`] (feature `postgres`) or
/// [`sqlx::Sqlite`] (feature `sqlite`). Sealed: the statements are this crate's.
pub trait SqlBackend: sqlx::Database + sealed::Statements {}

pub(crate) mod sealed {
    use super::{Future, MigrateError, Migrator, Pool};

    /// One function per statement; every one is a write, sent on a connection that has just
    /// answered a ping (see `write`).
    pub trait Statements: sqlx::Database {
        fn migrator() -> Migrator;
        fn migrate(pool: &Pool<Self>) -> impl Future<Output = Result<(), MigrateError>> + Send;
        fn applied_version(
            pool: &Pool<Self>,
        ) -> impl Future<Output = Result<Option<i64>, sqlx::Error>> + Send;
        /// True when the row was inserted or an expired one replaced.
        fn insert_if_new(
            pool: &Pool<Self>,
            digest: &[u8],
            expires_at: i64,
            now: i64,
        ) -> impl Future<Output = Result<bool, sqlx::Error>> + Send;
        fn remember(
            pool: &Pool<Self>,
            digest: &[u8],
            expires_at: i64,
        ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;
        /// The expiry of the row deleted, if there was one.
        fn consume(
            pool: &Pool<Self>,
            digest: &[u8],
        ) -> impl Future<Output = Result<Option<i64>, sqlx::Error>> + Send;
        /// Rows deleted from both tables, at most `limit` from each.
        fn sweep(
            pool: &Pool<Self>,
            now: i64,
            limit: i64,
        ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send;
    }
}

macro_rules! statements {
    ($db:ty, $dir:literal) => {
        impl sealed::Statements for $db {
            fn migrator() -> Migrator {
                let mut m = sqlx::migrate!($dir);
                m.dangerous_set_table_name(MIGRATIONS_TABLE);
                m
            }
            async fn migrate(pool: &Pool<Self>) -> Result<(), MigrateError> {
                Self::migrator().run(pool).await
            }
            async fn applied_version(pool: &Pool<Self>) -> Result<Option<i64>, sqlx::Error> {
                sqlx::query_scalar(APPLIED).fetch_one(pool).await
            }
            async fn insert_if_new(
                pool: &Pool<Self>,
                digest: &[u8],
                expires_at: i64,
                now: i64,
            ) -> Result<bool, sqlx::Error> {
                let mut conn = write(pool).await?;
                let done = sqlx::query(INSERT_IF_NEW)
                    .bind(digest)
                    .bind(expires_at)
                    .bind(now)
                    .execute(&mut *conn)
                    .await?;
                Ok(done.rows_affected() == 1)
            }
            async fn remember(
                pool: &Pool<Self>,
                digest: &[u8],
                expires_at: i64,
            ) -> Result<(), sqlx::Error> {
                let mut conn = write(pool).await?;
                sqlx::query(REMEMBER)
                    .bind(digest)
                    .bind(expires_at)
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            }
            async fn consume(pool: &Pool<Self>, digest: &[u8]) -> Result<Option<i64>, sqlx::Error> {
                let mut conn = write(pool).await?;
                sqlx::query_scalar(CONSUME)
                    .bind(digest)
                    .fetch_optional(&mut *conn)
                    .await
            }
            async fn sweep(pool: &Pool<Self>, now: i64, limit: i64) -> Result<u64, sqlx::Error> {
                let mut conn = write(pool).await?;
                let mut swept = 0;
                for statement in [SWEEP_REPLAY, SWEEP_REQUESTS] {
                    let done = sqlx::query(statement)
                        .bind(now)
                        .bind(limit)
                        .execute(&mut *conn)
                        .await?;
                    swept += done.rows_affected();
                }
                Ok(swept)
            }
        }
        impl SqlBackend for $db {}
    };
}

/// A pooled connection that just answered a ping. The store's pools skip sqlx's ping before
/// every acquire; a statement here is never retried once sent (it may have committed), so a
/// connection left dead by a server restart must fail the ping instead, before anything was
/// sent, and the next one is tried (each pooled connection may be dead, hence up to the
/// pool's size plus a fresh one).
async fn write<DB: sqlx::Database>(
    pool: &Pool<DB>,
) -> Result<sqlx::pool::PoolConnection<DB>, sqlx::Error> {
    use sqlx::Connection as _;
    let mut last = None;
    for _ in 0..=pool.options().get_max_connections() {
        let mut conn = pool.acquire().await?;
        match conn.ping().await {
            Ok(()) => return Ok(conn),
            // Dropped, the connection fails sqlx's own ping on release and is closed.
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or(sqlx::Error::PoolTimedOut))
}

#[cfg(feature = "postgres")]
statements!(sqlx::Postgres, "migrations/postgres");
#[cfg(feature = "sqlite")]
statements!(sqlx::Sqlite, "migrations/sqlite");
