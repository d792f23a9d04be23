//! The statements, once. PostgreSQL and SQLite take the same SQL text here (`$n` parameters,
//! upserts with a `WHERE`, `RETURNING`); a macro stamps out the sqlx calls for each concrete
//! database, which keeps sqlx's generic bounds out of the public API.

use std::future::Future;

use sqlx::Pool;
use sqlx::migrate::Migrator;

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

/// A database the SQL store runs on: [`sqlx::Postgres`] (feature `postgres`) or
/// [`sqlx::Sqlite`] (feature `sqlite`). Sealed: the statements are this crate's.
pub trait SqlBackend: sqlx::Database + sealed::Statements {}

pub(crate) mod sealed {
    use super::{Future, Migrator, Pool};

    /// One function per statement; every one is a write, sent on a connection that has just
    /// answered a ping (`rampart_sql::call::pinged`): never retried once sent (it may have
    /// committed), a statement must not meet a connection a server restart left dead.
    pub trait Statements: rampart_sql::Backend {
        fn migrator() -> Migrator;
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
                rampart_sql::migrations::own_table(sqlx::migrate!($dir), MIGRATIONS_TABLE)
            }
            async fn insert_if_new(
                pool: &Pool<Self>,
                digest: &[u8],
                expires_at: i64,
                now: i64,
            ) -> Result<bool, sqlx::Error> {
                let mut conn = rampart_sql::call::pinged(pool).await?;
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
                let mut conn = rampart_sql::call::pinged(pool).await?;
                sqlx::query(REMEMBER)
                    .bind(digest)
                    .bind(expires_at)
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            }
            async fn consume(pool: &Pool<Self>, digest: &[u8]) -> Result<Option<i64>, sqlx::Error> {
                let mut conn = rampart_sql::call::pinged(pool).await?;
                sqlx::query_scalar(CONSUME)
                    .bind(digest)
                    .fetch_optional(&mut *conn)
                    .await
            }
            async fn sweep(pool: &Pool<Self>, now: i64, limit: i64) -> Result<u64, sqlx::Error> {
                let mut conn = rampart_sql::call::pinged(pool).await?;
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

#[cfg(feature = "postgres")]
statements!(sqlx::Postgres, "migrations/postgres");
#[cfg(feature = "sqlite")]
statements!(sqlx::Sqlite, "migrations/sqlite");
