//! The stores' SQL plumbing against real databases: an SQLite file in a temporary directory,
//! and a PostgreSQL cluster each test starts for itself (skipped loudly without PostgreSQL,
//! a failure under CI=true). The generic bodies run on both; the tests of what one database
//! does alone (SQLite's pragmas and locks, PostgreSQL's `statement_timeout` and crashes)
//! follow them.
//!
//! The schema under test is `tests/migrations/`: `v1` (a table), `v2` (v1 and a column, the
//! next release), `v1_edited` (v1 with its migration changed after it ran) and `broken` (v1
//! and a migration that fails half-way).

use std::future::Future;
use std::sync::LazyLock;
use std::time::Duration;

use rampart_sql::migrations::{migrate, newest, own_table};
use rampart_sql::{Backend, CallError, Db, MigrationError, call, pool};
use rampart_testkit::PostgresServer;
use rampart_testkit::sql::{Bookkeeping, temp_dir};
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::pool::PoolConnection;
use sqlx::{AssertSqlSafe, Pool};

/// The test crate's own migrations table.
const TABLE: &str = "_rampart_sqltest_migrations";
/// The deadline of what must succeed (far above any healthy round trip).
const WAIT: Duration = Duration::from_secs(10);
/// The deadline of what must fail: waited out in full, so kept short.
const SHORT: Duration = Duration::from_millis(200);

static V1: LazyLock<Migrator> =
    LazyLock::new(|| own_table(sqlx::migrate!("tests/migrations/v1"), TABLE));
static V2: LazyLock<Migrator> =
    LazyLock::new(|| own_table(sqlx::migrate!("tests/migrations/v2"), TABLE));
static V1_EDITED: LazyLock<Migrator> =
    LazyLock::new(|| own_table(sqlx::migrate!("tests/migrations/v1_edited"), TABLE));
static BROKEN: LazyLock<Migrator> =
    LazyLock::new(|| own_table(sqlx::migrate!("tests/migrations/broken"), TABLE));

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap()
}

/// What a test reads and writes on a database directly, beside the plumbing under test.
trait Probe: Backend + Bookkeeping {
    /// The versions recorded in migrations table `table`, in order.
    fn versions(pool: &Pool<Self>, table: &str) -> impl Future<Output = Vec<i64>> + Send;
    /// Runs `sql` on `pool`.
    fn exec(pool: &Pool<Self>, sql: &str) -> impl Future<Output = Result<(), sqlx::Error>> + Send;
    /// Runs `sql` on `conn`.
    fn exec_on(
        conn: &mut PoolConnection<Self>,
        sql: &str,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;
    /// The one integer `sql` selects.
    fn number(pool: &Pool<Self>, sql: &str) -> impl Future<Output = i64> + Send;
}

macro_rules! probe {
    ($db:ty) => {
        impl Probe for $db {
            async fn versions(pool: &Pool<Self>, table: &str) -> Vec<i64> {
                let sql = format!("SELECT version FROM {table} ORDER BY version");
                sqlx::query_scalar(AssertSqlSafe(sql))
                    .fetch_all(pool)
                    .await
                    .unwrap()
            }
            async fn exec(pool: &Pool<Self>, sql: &str) -> Result<(), sqlx::Error> {
                sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
                    .execute(pool)
                    .await
                    .map(drop)
            }
            async fn exec_on(
                conn: &mut PoolConnection<Self>,
                sql: &str,
            ) -> Result<(), sqlx::Error> {
                sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
                    .execute(&mut **conn)
                    .await
                    .map(drop)
            }
            async fn number(pool: &Pool<Self>, sql: &str) -> i64 {
                sqlx::query_scalar(AssertSqlSafe(sql.to_owned()))
                    .fetch_one(pool)
                    .await
                    .unwrap()
            }
        }
    };
}

probe!(sqlx::Sqlite);
probe!(sqlx::Postgres);

/// Where a test's database lives: each call of [`pool`](Place::pool) is a new pool on it, as
/// another replica, or the same service after a restart, would open.
trait Place {
    type Db: Probe;
    /// A lazy pool of at most `max_connections` with `timeout`, as a store opens it.
    fn pool(&self, timeout: Duration, max_connections: u32) -> Pool<Self::Db>;
    /// The database's address (a path or a socket directory), which no `Debug` may print.
    fn address(&self) -> String;
}

struct SqliteFile(tempfile::TempDir);

impl SqliteFile {
    fn path(&self) -> std::path::PathBuf {
        self.0.path().join("plumbing.db")
    }
}

impl Place for SqliteFile {
    type Db = sqlx::Sqlite;
    fn pool(&self, timeout: Duration, max_connections: u32) -> Pool<sqlx::Sqlite> {
        pool::options(timeout, max_connections)
            .connect_lazy_with(pool::sqlite(self.path(), timeout))
    }
    fn address(&self) -> String {
        self.path().display().to_string()
    }
}

struct PostgresDb(String);

impl Place for PostgresDb {
    type Db = sqlx::Postgres;
    fn pool(&self, timeout: Duration, max_connections: u32) -> Pool<sqlx::Postgres> {
        let connect = pool::postgres(&self.0, timeout).unwrap();
        pool::options(timeout, max_connections).connect_lazy_with(connect)
    }
    fn address(&self) -> String {
        self.0.clone()
    }
}

rampart_testkit::on_sql_backends! {
    sqlite: super::SqliteFile, postgres: super::PostgresDb, database: "plumbing",
    runtime: super::runtime;
    migrations_create_the_schema_and_record_it_in_the_crates_own_table,
    migrating_again_applies_nothing_twice_and_keeps_the_data,
    newer_code_migrates_an_older_schema_forward,
    schema_of_a_newer_release_is_refused_as_schema_too_new,
    schema_too_new_names_the_newest_version_applied,
    other_crates_and_the_applications_migrations_are_not_ours,
    an_applied_migration_edited_since_is_refused_as_migrate,
    a_failing_migration_is_refused_as_migrate_and_leaves_no_trace,
    after_a_failed_migration_another_replica_migrates_at_once,
    replicas_racing_to_migrate_all_succeed_and_apply_each_migration_once,
    pool_options_cap_the_pool_and_an_exhausted_pool_fails_as_database,
    call_past_its_deadline_fails_as_timeout_and_the_pool_stays_usable,
    a_failing_statement_reaches_the_caller_as_database,
    pinged_connection_carries_a_write,
    a_cloned_db_shares_its_pool_and_deadline_and_debug_hides_the_address,
}

async fn migrations_create_the_schema_and_record_it_in_the_crates_own_table<P: Place>(place: &P) {
    let pool = place.pool(WAIT, 2);
    migrate(&pool, &V2).await.unwrap();
    P::Db::exec(
        &pool,
        "INSERT INTO items (id, name, note) VALUES (1, 'a', 'b')",
    )
    .await
    .unwrap();
    assert_eq!(P::Db::versions(&pool, TABLE).await, [1, 2]);
    assert_eq!(newest(&V2), 2);
    assert!(
        P::Db::exec(&pool, "SELECT COUNT(*) FROM _sqlx_migrations")
            .await
            .is_err(),
        "sqlx's default table is the application's, never written by the plumbing"
    );
}

async fn migrating_again_applies_nothing_twice_and_keeps_the_data<P: Place>(place: &P) {
    let pool = place.pool(WAIT, 2);
    migrate(&pool, &V1).await.unwrap();
    P::Db::exec(&pool, "INSERT INTO items (id, name) VALUES (1, 'kept')")
        .await
        .unwrap();
    // Again on the same pool, then on a new one (the service restarted): migration 1's
    // CREATE TABLE would fail if it ran twice.
    migrate(&pool, &V1).await.unwrap();
    let restarted = place.pool(WAIT, 2);
    migrate(&restarted, &V1).await.unwrap();
    assert_eq!(P::Db::versions(&restarted, TABLE).await, [1]);
    assert_eq!(
        P::Db::number(&restarted, "SELECT COUNT(*) FROM items WHERE name = 'kept'").await,
        1
    );
}

async fn newer_code_migrates_an_older_schema_forward<P: Place>(place: &P) {
    let pool = place.pool(WAIT, 2);
    migrate(&pool, &V1).await.unwrap();
    P::Db::exec(&pool, "INSERT INTO items (id, name) VALUES (1, 'old')")
        .await
        .unwrap();
    let upgraded = place.pool(WAIT, 2);
    migrate(&upgraded, &V2).await.unwrap();
    assert_eq!(P::Db::versions(&upgraded, TABLE).await, [1, 2]);
    P::Db::exec(&upgraded, "UPDATE items SET note = 'new' WHERE id = 1")
        .await
        .unwrap();
    assert_eq!(
        P::Db::number(&upgraded, "SELECT COUNT(*) FROM items WHERE note = 'new'").await,
        1
    );
}

async fn schema_of_a_newer_release_is_refused_as_schema_too_new<P: Place>(place: &P) {
    let pool = place.pool(WAIT, 2);
    migrate(&pool, &V2).await.unwrap();
    // The previous release starts again on the database the next one migrated.
    let old = migrate(&place.pool(WAIT, 2), &V1).await;
    assert!(
        matches!(
            old,
            Err(MigrationError::SchemaTooNew {
                found: 2,
                supported: 1
            })
        ),
        "{old:?}"
    );
    assert_eq!(old.unwrap_err().kind(), "schema_too_new");
    let db = Db::migrated(place.pool(WAIT, 2), WAIT, &V1).await;
    assert!(
        matches!(
            db,
            Err(MigrationError::SchemaTooNew {
                found: 2,
                supported: 1
            })
        ),
        "{db:?}"
    );
    assert_eq!(
        P::Db::versions(&pool, TABLE).await,
        [1, 2],
        "nothing undone"
    );
}

async fn schema_too_new_names_the_newest_version_applied<P: Place>(place: &P) {
    let pool = place.pool(WAIT, 2);
    migrate(&pool, &V1).await.unwrap();
    // Two later releases ran since; sqlx notices the first unknown one (5), the error
    // names the newest (9).
    P::Db::add_migration(&pool, TABLE, 5).await;
    P::Db::add_migration(&pool, TABLE, 9).await;
    let old = migrate(&pool, &V1).await;
    assert!(
        matches!(
            old,
            Err(MigrationError::SchemaTooNew {
                found: 9,
                supported: 1
            })
        ),
        "{old:?}"
    );
}

async fn other_crates_and_the_applications_migrations_are_not_ours<P: Place>(place: &P) {
    let pool = place.pool(WAIT, 2);
    // The application's own sqlx migrations and another Rampart crate's, both past ours.
    P::Db::add_migration(&pool, "_sqlx_migrations", 99).await;
    P::Db::add_migration(&pool, "_rampart_other_migrations", 42).await;
    migrate(&pool, &V1).await.unwrap();
    migrate(&pool, &V1).await.unwrap();
    assert_eq!(P::Db::versions(&pool, TABLE).await, [1]);
    assert_eq!(P::Db::versions(&pool, "_sqlx_migrations").await, [99]);
    assert_eq!(
        P::Db::versions(&pool, "_rampart_other_migrations").await,
        [42]
    );
}

async fn an_applied_migration_edited_since_is_refused_as_migrate<P: Place>(place: &P) {
    let pool = place.pool(WAIT, 2);
    migrate(&pool, &V1).await.unwrap();
    let edited = migrate(&pool, &V1_EDITED).await;
    assert!(
        matches!(
            edited,
            Err(MigrationError::Migrate(MigrateError::VersionMismatch(1)))
        ),
        "{edited:?}"
    );
    assert_eq!(edited.unwrap_err().kind(), "migration");
}

async fn a_failing_migration_is_refused_as_migrate_and_leaves_no_trace<P: Place>(place: &P) {
    let pool = place.pool(WAIT, 2);
    let broken = migrate(&pool, &BROKEN).await;
    assert!(
        matches!(
            broken,
            Err(MigrationError::Migrate(MigrateError::ExecuteMigration(
                _,
                2
            )))
        ),
        "{broken:?}"
    );
    // Migration 1 stays applied; of migration 2, neither its record nor its first statement.
    assert_eq!(P::Db::versions(&pool, TABLE).await, [1]);
    assert!(P::Db::exec(&pool, "SELECT name FROM items").await.is_ok());
    assert!(
        P::Db::exec(&pool, "SELECT broken FROM items")
            .await
            .is_err()
    );
    // The fixed release then migrates.
    migrate(&pool, &V2).await.unwrap();
    assert_eq!(P::Db::versions(&pool, TABLE).await, [1, 2]);
}

/// A replica whose migration failed (a broken migration, then a schema newer than it knows)
/// keeps its pool open; another replica's migration must not wait on it. On PostgreSQL the
/// failed run's advisory lock would otherwise stay with its pooled session and hold the other
/// until its statement timeout.
async fn after_a_failed_migration_another_replica_migrates_at_once<P: Place>(place: &P) {
    let failed = place.pool(WAIT, 2);
    assert!(migrate(&failed, &BROKEN).await.is_err());
    let other = place.pool(WAIT, 1);
    migrate(&other, &V2).await.unwrap();
    let older = place.pool(WAIT, 2);
    assert!(matches!(
        migrate(&older, &V1).await,
        Err(MigrationError::SchemaTooNew { .. })
    ));
    let another = place.pool(WAIT, 1);
    migrate(&another, &V2).await.unwrap();
    assert_eq!(P::Db::versions(&another, TABLE).await, [1, 2]);
    drop((failed, older));
}

async fn replicas_racing_to_migrate_all_succeed_and_apply_each_migration_once<P: Place>(place: &P) {
    // Several rounds, each on a database without the schema, each replica with a pool (and
    // so a connection) of its own, all started together.
    for round in 0..4 {
        let replicas: Vec<_> = (0..4).map(|_| place.pool(WAIT, 1)).collect();
        let [a, b, c, d] = &replicas[..] else {
            unreachable!()
        };
        let (a, b, c, d) = tokio::join!(
            migrate(a, &V2),
            migrate(b, &V2),
            migrate(c, &V2),
            migrate(d, &V2)
        );
        for (replica, result) in [a, b, c, d].into_iter().enumerate() {
            assert!(
                result.is_ok(),
                "round {round}, replica {replica}: {result:?}"
            );
        }
        let pool = &replicas[0];
        assert_eq!(P::Db::versions(pool, TABLE).await, [1, 2], "round {round}");
        P::Db::exec(
            pool,
            "INSERT INTO items (id, name, note) VALUES (1, 'a', 'b')",
        )
        .await
        .unwrap();
        for pool in &replicas {
            pool.close().await;
        }
        let pool = place.pool(WAIT, 1);
        P::Db::exec(&pool, &format!("DROP TABLE items; DROP TABLE {TABLE}"))
            .await
            .unwrap();
        pool.close().await;
    }
}

async fn pool_options_cap_the_pool_and_an_exhausted_pool_fails_as_database<P: Place>(place: &P) {
    let pool = place.pool(SHORT, 2);
    assert_eq!(pool.options().get_max_connections(), 2);
    assert!(!pool.options().get_test_before_acquire());
    assert_eq!(pool.options().get_acquire_timeout(), SHORT);
    // The call's deadline is far; the pool's wait for a connection ends first.
    let db = Db::migrated(pool.clone(), WAIT, &V1).await.unwrap();
    let held = (pool.acquire().await.unwrap(), pool.acquire().await.unwrap());
    assert_eq!(pool.size(), 2);
    let refused = db.call(pool.acquire()).await.map(drop);
    assert!(
        matches!(refused, Err(CallError::Database(sqlx::Error::PoolTimedOut))),
        "{refused:?}"
    );
    assert_eq!(refused.unwrap_err().kind(), "database");
    let refused = call::pinged(&pool).await.map(drop);
    assert!(
        matches!(refused, Err(sqlx::Error::PoolTimedOut)),
        "{refused:?}"
    );
    assert_eq!(pool.size(), 2, "never more than the cap");
    drop(held);
    // A connection back, calls go through again (a wait of its own: the release is async).
    call::bounded(WAIT, call::pinged(&pool)).await.unwrap();
}

async fn call_past_its_deadline_fails_as_timeout_and_the_pool_stays_usable<P: Place>(place: &P) {
    // The pool would wait an hour for a connection; the call's deadline ends the wait.
    let pool = place.pool(Duration::from_secs(3600), 1);
    let db = Db::migrated(pool.clone(), SHORT, &V1).await.unwrap();
    assert_eq!(db.timeout(), SHORT);
    let held = pool.acquire().await.unwrap();
    let late = db.call(pool.acquire()).await.map(drop);
    assert!(
        matches!(late, Err(CallError::Timeout(t)) if t == SHORT),
        "{late:?}"
    );
    assert_eq!(late.unwrap_err().kind(), "timeout");
    drop(held);
    // The abandoned wait left nothing behind: the one connection is had again.
    let mut conn = call::bounded(WAIT, call::pinged(&pool)).await.unwrap();
    P::Db::exec_on(&mut conn, "INSERT INTO items (id, name) VALUES (1, 'a')")
        .await
        .unwrap();
}

async fn a_failing_statement_reaches_the_caller_as_database<P: Place>(place: &P) {
    let db = Db::migrated(place.pool(WAIT, 2), WAIT, &V1).await.unwrap();
    let insert = "INSERT INTO items (id, name) VALUES (1, 'a')";
    db.call(P::Db::exec(db.pool(), insert)).await.unwrap();
    let duplicate = db.call(P::Db::exec(db.pool(), insert)).await;
    match duplicate {
        Err(CallError::Database(sqlx::Error::Database(e))) => {
            assert!(e.is_unique_violation(), "{e:?}");
        }
        other => panic!("expected a unique violation, got {other:?}"),
    }
}

async fn pinged_connection_carries_a_write<P: Place>(place: &P) {
    let pool = place.pool(WAIT, 1);
    migrate(&pool, &V1).await.unwrap();
    let mut conn = call::pinged(&pool).await.unwrap();
    P::Db::exec_on(&mut conn, "INSERT INTO items (id, name) VALUES (1, 'a')")
        .await
        .unwrap();
    drop(conn);
    let other = place.pool(WAIT, 1);
    assert_eq!(P::Db::number(&other, "SELECT COUNT(*) FROM items").await, 1);
}

async fn a_cloned_db_shares_its_pool_and_deadline_and_debug_hides_the_address<P: Place>(place: &P) {
    let db = Db::migrated(place.pool(WAIT, 2), SHORT, &V1).await.unwrap();
    let copy = db.clone();
    assert_eq!(copy.timeout(), SHORT);
    copy.pool().close().await;
    assert!(db.pool().is_closed(), "one pool, closed through the clone");
    let closed = db.call(db.pool().acquire()).await.map(drop);
    assert!(
        matches!(closed, Err(CallError::Database(sqlx::Error::PoolClosed))),
        "{closed:?}"
    );
    let shown = format!("{db:?}");
    assert!(shown.contains(<P::Db as sqlx::Database>::NAME), "{shown}");
    assert!(!shown.contains(&place.address()), "{shown}");
}

mod sqlite_only {
    use super::*;

    #[test]
    fn sqlite_file_is_created_in_wal_mode_with_full_sync_and_the_busy_timeout() {
        runtime().block_on(async {
            let dir = temp_dir();
            let path = dir.path().join("new.db");
            assert!(!path.exists());
            let busy = Duration::from_millis(1500);
            let pool = pool::options::<sqlx::Sqlite>(WAIT, 1)
                .connect_with(pool::sqlite(&path, busy))
                .await
                .unwrap();
            assert!(path.is_file(), "created");
            let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
                .fetch_one(&pool)
                .await
                .unwrap();
            assert_eq!(mode, "wal");
            let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
                .fetch_one(&pool)
                .await
                .unwrap();
            assert_eq!(synchronous, 2, "FULL");
            let busy_timeout: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
                .fetch_one(&pool)
                .await
                .unwrap();
            assert_eq!(busy_timeout, 1500);
        });
    }

    #[test]
    fn sqlite_writer_waits_out_the_busy_timeout_then_fails_as_database_busy() {
        runtime().block_on(async {
            let place = SqliteFile(temp_dir());
            let holder = place.pool(WAIT, 1);
            migrate(&holder, &V1).await.unwrap();
            // The busy timeout is short, the call's deadline long: SQLite gives up first.
            let db = Db::migrated(place.pool(SHORT, 1), WAIT, &V1).await.unwrap();
            let insert = "INSERT INTO items (id, name) VALUES (1, 'a')";
            let mut lock = holder.acquire().await.unwrap();
            sqlx::Sqlite::exec_on(&mut lock, "BEGIN IMMEDIATE")
                .await
                .unwrap();
            let busy = db.call(sqlx::Sqlite::exec(db.pool(), insert)).await;
            match busy {
                Err(CallError::Database(sqlx::Error::Database(e))) => {
                    assert_eq!(e.code().as_deref(), Some("5"), "SQLITE_BUSY: {e:?}");
                }
                other => panic!("expected SQLITE_BUSY, got {other:?}"),
            }
            sqlx::Sqlite::exec_on(&mut lock, "COMMIT").await.unwrap();
            db.call(sqlx::Sqlite::exec(db.pool(), insert))
                .await
                .unwrap();
        });
    }
}

mod postgres_only {
    use super::*;

    #[test]
    fn postgres_statement_timeout_is_the_timeout_and_the_server_ends_slower_statements() {
        let Some(server) = PostgresServer::start() else {
            return;
        };
        let url = server.create_database("statements");
        runtime().block_on(async {
            let connect = pool::postgres(&url, Duration::from_millis(1500)).unwrap();
            let pool = pool::options(WAIT, 1).connect_with(connect).await.unwrap();
            let shown: String = sqlx::query_scalar("SHOW statement_timeout")
                .fetch_one(&pool)
                .await
                .unwrap();
            assert_eq!(shown, "1500ms");
            // Our deadline is far: the server cancels the statement on its side.
            let slow =
                call::bounded(WAIT, sqlx::Postgres::exec(&pool, "SELECT pg_sleep(60)")).await;
            match slow {
                Err(CallError::Database(sqlx::Error::Database(e))) => {
                    assert_eq!(e.code().as_deref(), Some("57014"), "query_canceled: {e:?}");
                }
                other => panic!("expected the server's cancellation, got {other:?}"),
            }
        });
    }

    #[test]
    fn postgres_malformed_url_is_a_configuration_error() {
        let bad = pool::postgres("postgres://app@db.internal:port/app", WAIT);
        assert!(matches!(bad, Err(sqlx::Error::Configuration(_))), "{bad:?}");
    }

    #[test]
    fn a_write_after_a_server_crash_gets_a_live_connection_from_pinged() {
        let Some(mut server) = PostgresServer::start() else {
            return;
        };
        let place = PostgresDb(server.create_database("crash"));
        runtime().block_on(async {
            let pool = place.pool(WAIT, 3);
            migrate(&pool, &V1).await.unwrap();
            // The pool's three connections, idle when the server crashes.
            let conns = tokio::join!(pool.acquire(), pool.acquire(), pool.acquire());
            drop(conns);
            server.restart();
            // No ping before acquire: the pool hands out a dead connection as it is.
            let mut stale = pool.acquire().await.unwrap();
            assert!(
                sqlx::Postgres::exec_on(&mut stale, "SELECT 1")
                    .await
                    .is_err()
            );
            drop(stale);
            // `pinged` passes over every dead one before anything is sent.
            let mut conn = call::pinged(&pool).await.unwrap();
            sqlx::Postgres::exec_on(&mut conn, "INSERT INTO items (id, name) VALUES (1, 'a')")
                .await
                .unwrap();
            drop(conn);
            let other = place.pool(WAIT, 1);
            assert_eq!(
                sqlx::Postgres::number(&other, "SELECT COUNT(*) FROM items").await,
                1
            );
        });
    }

    #[test]
    fn calls_on_a_killed_server_fail_as_database_and_recover_after_restart() {
        let Some(mut server) = PostgresServer::start() else {
            return;
        };
        let place = PostgresDb(server.create_database("killed"));
        runtime().block_on(async {
            // The pool gives up on a connection after 1 s, before the call's deadline.
            let pool = place.pool(Duration::from_secs(1), 2);
            let db = Db::migrated(pool, WAIT, &V1).await.unwrap();
            let write = |id: i64| {
                let db = db.clone();
                async move {
                    db.call(async {
                        let mut conn = call::pinged(db.pool()).await?;
                        let sql = format!("INSERT INTO items (id, name) VALUES ({id}, 'x')");
                        sqlx::Postgres::exec_on(&mut conn, &sql).await
                    })
                    .await
                }
            };
            write(1).await.unwrap();
            server.stop();
            let down = write(2).await;
            assert!(
                matches!(down, Err(CallError::Database(sqlx::Error::PoolTimedOut))),
                "{down:?}"
            );
            assert_eq!(down.unwrap_err().kind(), "database");
            server.restart();
            write(3).await.unwrap();
            // The write before the crash survived it; the refused one never landed.
            let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM items ORDER BY id")
                .fetch_all(db.pool())
                .await
                .unwrap();
            assert_eq!(ids, [1, 3]);
        });
    }

    #[test]
    fn migrating_while_the_server_is_down_fails_as_database() {
        let Some(mut server) = PostgresServer::start() else {
            return;
        };
        let place = PostgresDb(server.create_database("down"));
        server.stop();
        runtime().block_on(async {
            let down = Db::migrated(place.pool(SHORT, 1), WAIT, &V1).await;
            assert!(
                matches!(
                    down,
                    Err(MigrationError::Database(sqlx::Error::PoolTimedOut))
                ),
                "{down:?}"
            );
            assert_eq!(down.unwrap_err().kind(), "database");
        });
        server.restart();
        runtime().block_on(async {
            let db = Db::migrated(place.pool(WAIT, 1), WAIT, &V1).await.unwrap();
            assert_eq!(sqlx::Postgres::versions(db.pool(), TABLE).await, [1]);
        });
    }
}
