//! The queries, once. PostgreSQL and SQLite take the same SQL text here (`$n` parameters,
//! `ON CONFLICT`, `RETURNING`); a macro stamps out the sqlx calls for each concrete database,
//! which keeps sqlx's generic bounds out of the public API and the store's logic generic.

use std::future::Future;

use sqlx::Pool;
use sqlx::migrate::Migrator;

/// Where sqlx records this crate's applied migrations: a table of our own, so the
/// application's migrations (sqlx's default `_sqlx_migrations`) and other Rampart crates in
/// the same database never mistake each other's versions for theirs.
pub(crate) const MIGRATIONS_TABLE: &str = "_rampart_apikey_migrations";

const FIND: &str = "SELECT record FROM rampart_api_keys WHERE public_id = $1";
const GET: &str = "SELECT record, revision FROM rampart_api_keys WHERE public_id = $1";
const INSERT: &str = "INSERT INTO rampart_api_keys (public_id, record, revision) \
                      VALUES ($1, $2, 1) ON CONFLICT (public_id) DO NOTHING";
const SAVE: &str = "UPDATE rampart_api_keys SET record = $1, revision = revision + 1 \
                    WHERE public_id = $2 AND revision = $3 RETURNING revision";
const REVISION: &str = "SELECT revision FROM rampart_api_keys WHERE public_id = $1";
const DELETE: &str = "DELETE FROM rampart_api_keys WHERE public_id = $1";

/// A database the SQL key store runs on: [`sqlx::Postgres`] (feature `postgres`) or
/// [`sqlx::Sqlite`] (feature `sqlite`). Sealed: the queries are this crate's.
pub trait SqlBackend: sqlx::Database + sealed::Queries {}

pub(crate) mod sealed {
    use super::{Future, Migrator, Pool};

    /// One function per statement. Reads go through the pool as is (a read meeting a dead
    /// connection is retried: `SqlKeyStore::read`); writes first ping the connection they got
    /// (`rampart_sql::call::pinged`), so a connection left broken by a server restart is
    /// replaced before a statement whose outcome would be unknown is sent on it.
    pub trait Queries: rampart_sql::Backend {
        fn migrator() -> Migrator;
        fn find(
            pool: &Pool<Self>,
            id: &str,
        ) -> impl Future<Output = Result<Option<String>, sqlx::Error>> + Send;
        fn get(
            pool: &Pool<Self>,
            id: &str,
        ) -> impl Future<Output = Result<Option<(String, i64)>, sqlx::Error>> + Send;
        fn revision(
            pool: &Pool<Self>,
            id: &str,
        ) -> impl Future<Output = Result<Option<i64>, sqlx::Error>> + Send;
        /// Rows inserted: 0 when the id is taken.
        fn insert(
            pool: &Pool<Self>,
            id: &str,
            record: &str,
        ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send;
        /// The new revision, or `None` when the row is gone or not at `revision`.
        fn save(
            pool: &Pool<Self>,
            id: &str,
            record: &str,
            revision: i64,
        ) -> impl Future<Output = Result<Option<i64>, sqlx::Error>> + Send;
        /// Rows deleted.
        fn delete(
            pool: &Pool<Self>,
            id: &str,
        ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send;
    }
}

macro_rules! queries {
    ($db:ty, $dir:literal) => {
        impl sealed::Queries for $db {
            fn migrator() -> Migrator {
                rampart_sql::migrations::own_table(sqlx::migrate!($dir), MIGRATIONS_TABLE)
            }
            async fn find(pool: &Pool<Self>, id: &str) -> Result<Option<String>, sqlx::Error> {
                sqlx::query_scalar(FIND).bind(id).fetch_optional(pool).await
            }
            async fn get(
                pool: &Pool<Self>,
                id: &str,
            ) -> Result<Option<(String, i64)>, sqlx::Error> {
                sqlx::query_as(GET).bind(id).fetch_optional(pool).await
            }
            async fn revision(pool: &Pool<Self>, id: &str) -> Result<Option<i64>, sqlx::Error> {
                sqlx::query_scalar(REVISION)
                    .bind(id)
                    .fetch_optional(pool)
                    .await
            }
            async fn insert(pool: &Pool<Self>, id: &str, record: &str) -> Result<u64, sqlx::Error> {
                let mut conn = rampart_sql::call::pinged(pool).await?;
                let done = sqlx::query(INSERT)
                    .bind(id)
                    .bind(record)
                    .execute(&mut *conn)
                    .await?;
                Ok(done.rows_affected())
            }
            async fn save(
                pool: &Pool<Self>,
                id: &str,
                record: &str,
                revision: i64,
            ) -> Result<Option<i64>, sqlx::Error> {
                let mut conn = rampart_sql::call::pinged(pool).await?;
                sqlx::query_scalar(SAVE)
                    .bind(record)
                    .bind(id)
                    .bind(revision)
                    .fetch_optional(&mut *conn)
                    .await
            }
            async fn delete(pool: &Pool<Self>, id: &str) -> Result<u64, sqlx::Error> {
                let mut conn = rampart_sql::call::pinged(pool).await?;
                let done = sqlx::query(DELETE).bind(id).execute(&mut *conn).await?;
                Ok(done.rows_affected())
            }
        }
        impl SqlBackend for $db {}
    };
}

#[cfg(feature = "postgres")]
queries!(sqlx::Postgres, "migrations/postgres");
#[cfg(feature = "sqlite")]
queries!(sqlx::Sqlite, "migrations/sqlite");
