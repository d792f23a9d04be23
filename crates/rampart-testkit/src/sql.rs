//! What the SQL stores' tests (rampart-apikey, rampart-saml) share: the migration
//! bookkeeping another release or crate would leave in a database, and one runner that puts
//! every generic test body on an SQLite file and on a PostgreSQL database of its own.

use std::future::Future;

use sqlx::Pool;

/// A database whose sqlx migration tables a test can write to as someone else would.
pub trait Bookkeeping: sqlx::Database {
    /// Records migration `version` as applied in `table` (created if missing, with sqlx's
    /// columns), as a newer release of a crate, another Rampart crate or the application
    /// would. Panics on a database error: it is a test's setup.
    fn add_migration(
        pool: &Pool<Self>,
        table: &'static str,
        version: i64,
    ) -> impl Future<Output = ()>;
}

macro_rules! bookkeeping {
    ($db:ty, $create:literal) => {
        impl Bookkeeping for $db {
            async fn add_migration(pool: &Pool<Self>, table: &'static str, version: i64) {
                let create = $create.replace("{table}", table);
                sqlx::raw_sql(sqlx::AssertSqlSafe(create))
                    .execute(pool)
                    .await
                    .unwrap();
                let insert = format!(
                    "INSERT INTO {table} (version, description, success, checksum, execution_time) \
                     VALUES ($1, 'from elsewhere', TRUE, $2, 0)"
                );
                sqlx::query(sqlx::AssertSqlSafe(insert))
                    .bind(version)
                    .bind(vec![0u8; 48])
                    .execute(pool)
                    .await
                    .unwrap();
            }
        }
    };
}

bookkeeping!(
    sqlx::Sqlite,
    "CREATE TABLE IF NOT EXISTS {table} (version BIGINT PRIMARY KEY, description TEXT NOT NULL, \
     installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, success BOOLEAN NOT NULL, \
     checksum BLOB NOT NULL, execution_time BIGINT NOT NULL)"
);
bookkeeping!(
    sqlx::Postgres,
    "CREATE TABLE IF NOT EXISTS {table} (version BIGINT PRIMARY KEY, description TEXT NOT NULL, \
     installed_on TIMESTAMPTZ NOT NULL DEFAULT now(), success BOOLEAN NOT NULL, \
     checksum BYTEA NOT NULL, execution_time BIGINT NOT NULL)"
);

/// A fresh temporary directory for a test's SQLite file (removed when dropped).
///
/// ```
/// let dir = rampart_testkit::sql::temp_dir();
/// assert!(dir.path().is_dir());
/// ```
///
/// # Panics
/// When no temporary directory can be created.
#[must_use]
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

/// Runs each generic test body `async fn body(place: &P)` twice, as `sqlite::body` on
/// `$sqlite(temp_dir)` and as `postgres::body` on `$postgres(url)` of a database named
/// `$database` in a cluster the test starts (skipped loudly without PostgreSQL, a failure
/// under `CI=true`), each on `$runtime()`. The calling crate's features `sqlite` and
/// `postgres` say which run. The tests sit in modules `sqlite` and `postgres`: name the
/// place types and the runtime from there (`super::...`).
///
/// ```ignore
/// rampart_testkit::on_sql_backends! {
///     sqlite: super::SqliteFile, postgres: super::PostgresDb, database: "keys",
///     runtime: super::runtime;
///     duplicate_insert_is_refused, revocation_is_seen_by_every_replica,
/// }
/// ```
#[macro_export]
macro_rules! on_sql_backends {
    (
        sqlite: $sqlite:path, postgres: $postgres:path, database: $database:literal,
        runtime: $runtime:path; $($body:ident),* $(,)?
    ) => {
        #[cfg(feature = "sqlite")]
        mod sqlite {
            $(
                #[test]
                fn $body() {
                    let place = $sqlite($crate::sql::temp_dir());
                    $runtime().block_on(super::$body(&place));
                }
            )*
        }
        #[cfg(feature = "postgres")]
        mod postgres {
            $(
                #[test]
                fn $body() {
                    let Some(server) = $crate::PostgresServer::start() else { return };
                    let place = $postgres(server.create_database($database));
                    $runtime().block_on(super::$body(&place));
                }
            )*
        }
    };
}
