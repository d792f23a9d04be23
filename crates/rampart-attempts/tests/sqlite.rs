//! The SQLite store against real database files in temporary directories.
#![cfg(feature = "sqlite")]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::sql::{config, drained};
use common::{Collect, suite, t0};
use rampart_attempts::{
    Error, Lockout, Policies, Policy, SqlConfig, SqliteStore, StoreError, Subject, SubjectKind,
    Tracker,
};
use sqlx::{Connection as _, SqliteConnection};

async fn open(path: &std::path::Path) -> SqliteStore {
    SqliteStore::open(path, config()).await.unwrap()
}

/// A plain connection to the file (to read or edit rows as an operator would).
async fn raw(path: &std::path::Path) -> SqliteConnection {
    SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_store_passes_the_shared_scenarios() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("a.db")).await;
    common::scenarios(store, "sqlite", drained).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_all_reads_every_subject_in_one_statement() {
    let dir = tempfile::tempdir().unwrap();
    let tracker = Tracker::new(open(&dir.path().join("a.db")).await)
        .with_policies(common::check_all_policies())
        .unwrap();
    common::check_all_scenario(&tracker, "sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_pools_on_one_file_count_every_failure_and_notify_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db");
    for round in 0..3 {
        // Two replicas: two stores, two pools, two connections racing for the file's lock.
        let (a, b) = (open(&path).await, open(&path).await);
        suite::replicas_notify_exactly_once(a, b, &format!("sqlite{round}")).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_histories_agree_with_the_memory_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("a.db")).await;
    for seed in [1, 2, 3] {
        suite::agrees_with_the_memory_store(store.clone(), drained, seed, 400).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hand_edited_rows_are_typed_errors_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let mut edits = suite::hand_edits();
    // SQLite has no booleans: a 2 can be written where 0 or 1 belongs.
    edits.push((
        "notified = 2",
        rampart_attempts::RowProblem::OutOfRange { column: "notified" },
    ));
    let edit = async |sql: String| {
        let mut conn = raw(&path).await;
        // The operator's edit gets past the table's CHECK constraints; STRICT types hold.
        sqlx::query("PRAGMA ignore_check_constraints = ON")
            .execute(&mut conn)
            .await
            .unwrap();
        let done = sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .unwrap();
        assert_eq!(done.rows_affected(), 1);
    };
    suite::bad_rows_are_typed_errors(open(&path).await, SqliteStore::key_of, edits, edit).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_from_a_newer_release_is_refused_not_misread() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    common::sql::a_newer_schema_is_refused(
        async |config| SqliteStore::open(&path, config).await,
        async |sql| {
            let mut conn = raw(&path).await;
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut conn)
                .await
                .unwrap();
        },
        "INSERT INTO _rampart_attempts_migrations \
         (version, description, success, checksum, execution_time) \
         VALUES (2, 'from the future', TRUE, x'00', 0)",
        3,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_never_migrated_is_refused_when_migrations_are_off() {
    let dir = tempfile::tempdir().unwrap();
    let out = SqliteStore::open(dir.path().join("a.db"), config().with_run_migrations(false)).await;
    assert!(
        matches!(&out, Err(Error::Store(StoreError::Setup { reason, .. })) if reason.contains("run the migrations")),
        "{out:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_keep_to_their_own_table_beside_the_applications() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    let mut conn = raw_create(&path).await;
    // The application's own sqlx migrations table, with its history.
    sqlx::query("CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT)")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("INSERT INTO _sqlx_migrations VALUES (20240101, 'users')")
        .execute(&mut conn)
        .await
        .unwrap();
    let store = open(&path).await;
    SqliteStore::migrate(store.pool()).await.unwrap(); // idempotent
    let ours: Vec<i64> = sqlx::query_scalar("SELECT version FROM _rampart_attempts_migrations")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(ours, [1]);
    let theirs: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(theirs, [20_240_101]);
}

async fn raw_create(path: &std::path::Path) -> SqliteConnection {
    SqliteConnection::connect(&format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_locking_failure_stores_only_the_hash_of_its_token() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let policies = Policies::default().with(
        SubjectKind::Account,
        Policy::notify_only(20).with_lockout(Lockout::until_unlocked(2)),
    );
    let tracker = Tracker::new(open(&path).await)
        .with_policies(policies)
        .unwrap();
    let acct = Subject::account("grace");
    tracker.record_failure(&acct, t0()).await.unwrap();
    let token = tracker
        .record_failure(&acct, t0())
        .await
        .unwrap()
        .unlock_token
        .expect("the second failure locks");
    let mut conn = raw(&path).await;
    let stored: Vec<u8> =
        sqlx::query_scalar("SELECT token_hash FROM rampart_attempts_streaks WHERE subject_key = ?")
            .bind(SqliteStore::key_of(&acct))
            .fetch_one(&mut conn)
            .await
            .unwrap();
    let raw_token = common::sql::assert_hash_of(&stored, &token);
    // Nowhere in the file is the token's text or its raw bytes.
    drop(conn);
    let file = std::fs::read(&path).unwrap();
    let wal = std::fs::read(path.with_extension("db-wal")).unwrap_or_default();
    for bytes in [&file, &wal] {
        for needle in [token.expose_secret().as_bytes(), &raw_token[..]] {
            assert!(!bytes.windows(needle.len()).any(|w| w == needle));
        }
    }
    assert!(tracker.unlock(&acct, &token).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_unlocks_with_one_token_succeed_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let policies = Policies::default().with(
        SubjectKind::Account,
        Policy::notify_only(20).with_lockout(Lockout::until_unlocked(2)),
    );
    let replica = async || {
        Arc::new(
            Tracker::new(open(&path).await)
                .with_policies(policies.clone())
                .unwrap(),
        )
    };
    let (a, b) = (replica().await, replica().await);
    for round in 0..5 {
        let acct = Subject::account(format!("henry{round}"));
        a.record_failure(&acct, t0()).await.unwrap();
        let text = a
            .record_failure(&acct, t0())
            .await
            .unwrap()
            .unlock_token
            .expect("locked")
            .expose_secret()
            .to_owned();
        suite::concurrent_unlocks_succeed_once(&a, &b, &acct, &text, round).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_rows_are_swept_on_demand_and_by_the_background_task() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let store = open(&path).await;
    let tracker = Tracker::new(store.clone());
    let ip = "192.0.2.40".parse().unwrap();
    for i in 0..5u64 {
        let pair = Subject::account_from_ip(format!("sweep{i}"), ip); // idle 1 h
        tracker
            .record_failure(&pair, t0() + Duration::from_secs(i * 1000))
            .await
            .unwrap();
    }
    let count = async || -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM rampart_attempts_streaks")
            .fetch_one(store.pool())
            .await
            .unwrap()
    };
    assert_eq!(count().await, 5);
    // One hour after the third failure: the first three are over.
    let swept = store
        .sweep_expired(t0() + Duration::from_secs(2000 + 3600))
        .await
        .unwrap();
    assert_eq!((swept, count().await), (3, 2));
    assert_eq!(store.stats().rows_swept, 3);
    // The background sweep (here every 50 ms) uses the real clock, months past t0.
    let swept_by_timer = SqliteStore::open(
        &path,
        config().with_sweep_interval(Duration::from_millis(50)),
    )
    .await
    .unwrap();
    for _ in 0..200 {
        if count().await == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(count().await, 0);
    assert_eq!(swept_by_timer.stats().rows_swept, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn success_returns_without_waiting_on_a_locked_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let tracker = Tracker::new(open(&path).await);
    let subject = Subject::api_key("pk_fast");
    tracker.record_failure(&subject, t0()).await.unwrap();
    // Another process holds the write lock.
    let mut other = raw(&path).await;
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .unwrap();
    let mut fut = std::pin::pin!(tracker.record_success(&subject, t0() + Duration::from_secs(1)));
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    assert!(
        fut.as_mut().poll(&mut cx).is_ready(),
        "no round trip awaited"
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!drained(tracker.store()), "the reset waits for the lock");
    sqlx::query("COMMIT").execute(&mut other).await.unwrap();
    common::settle(|| drained(tracker.store())).await;
    assert_eq!(
        tracker.record_failure(&subject, t0()).await.unwrap().count,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_survive_closing_and_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let notes = Collect::default();
    let acct = Subject::account("ivy");
    {
        let tracker = Tracker::new(open(&path).await).with_notifier(notes.clone());
        for _ in 0..19 {
            tracker.record_failure(&acct, t0()).await.unwrap();
        }
    }
    let tracker = Tracker::new(open(&path).await).with_notifier(notes.clone());
    let out = tracker.record_failure(&acct, t0()).await.unwrap();
    assert_eq!(out.count, 20);
    assert!(out.notification.is_some());
    assert_eq!(notes.all().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_write_lock_past_the_timeout_is_unavailable_not_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let timeout = Duration::from_millis(300);
    let store = SqliteStore::open(&path, config().with_timeout(timeout))
        .await
        .unwrap();
    let tracker = Tracker::new(store);
    let acct = Subject::account("jack");
    tracker.record_failure(&acct, t0()).await.unwrap();
    let mut other = raw(&path).await;
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .unwrap();
    let start = std::time::Instant::now();
    let out = tracker.record_failure(&acct, t0()).await;
    let took = start.elapsed();
    assert!(
        matches!(out, Err(Error::Store(StoreError::Unavailable))),
        "{out:?}"
    );
    assert!(
        took >= timeout / 2 && took < timeout + Duration::from_secs(3),
        "{took:?}"
    );
    let stats = tracker.store().stats();
    assert!(!stats.available && stats.failed_calls >= 1, "{stats:?}");
    sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
    // Once the lock is released the store works again. SQLite gave up waiting before the
    // deadline, so the refused failure was not written (on a machine too loaded for that,
    // it may have been: counts err towards more failures, never fewer).
    let count = tracker.record_failure(&acct, t0()).await.unwrap().count;
    assert!(count == 2 || count == 3, "{count}");
    assert!(tracker.store().stats().available);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_and_nul_ids_are_stored_under_their_digest() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("a.db")).await;
    let tracker = Tracker::new(store.clone());
    let long = Subject::account_from_ip("x".repeat(256), "2001:db8::1".parse().unwrap());
    let nul = Subject::account("a\0b");
    for s in [&long, &nul] {
        tracker.record_failure(s, t0()).await.unwrap();
        assert_eq!(tracker.record_failure(s, t0()).await.unwrap().count, 2);
    }
    let keys: Vec<String> = sqlx::query_scalar("SELECT subject_key FROM rampart_attempts_streaks")
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert!(
        keys.iter().all(|k| k.starts_with("h:") && k.len() == 66),
        "{keys:?}"
    );
}

#[test]
fn open_outside_a_runtime_is_a_setup_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::block_on(SqliteStore::open(dir.path().join("a.db"), config()));
    assert!(
        matches!(out, Err(Error::Store(StoreError::Setup { .. }))),
        "{out:?}"
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // Open inside a runtime, then hand the pool to from_pool outside one.
    let pool = rt
        .block_on(sqlx::SqlitePool::connect(&format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("a.db").display()
        )))
        .unwrap();
    let out = common::block_on(SqliteStore::from_pool(pool, SqlConfig::default()));
    assert!(
        matches!(out, Err(Error::Store(StoreError::Setup { .. }))),
        "{out:?}"
    );
}
