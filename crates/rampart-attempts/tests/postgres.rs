//! The PostgreSQL store against a real PostgreSQL server that each test starts itself (a
//! cluster in a temporary directory, on a unix socket). Without PostgreSQL installed each
//! test says loudly that it skipped, and fails under `CI=true`.
#![cfg(feature = "postgres")]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::sql::{config, drained};
use common::{Collect, suite, t0};
use rampart_attempts::{
    Error, Lockout, Policies, Policy, PostgresStore, SqlConfig, StoreError, Subject, SubjectKind,
    Tracker,
};
use rampart_testkit::PostgresServer;
use sqlx::{Connection as _, PgConnection};

async fn connect(url: &str) -> PostgresStore {
    PostgresStore::connect(url, config()).await.unwrap()
}

async fn raw(url: &str) -> PgConnection {
    PgConnection::connect(url).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_passes_the_shared_scenarios() {
    let Some(pg) = PostgresServer::start() else {
        return;
    };
    let url = pg.create_database("scenarios");
    common::scenarios(connect(&url).await, "pg", drained).await;
    let tracker = Tracker::new(connect(&url).await)
        .with_policies(common::check_all_policies())
        .unwrap();
    common::check_all_scenario(&tracker, "pg").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_pools_count_every_failure_and_notify_exactly_once() {
    let Some(pg) = PostgresServer::start() else {
        return;
    };
    let url = pg.create_database("race");
    for round in 0..5 {
        // Two replicas: two stores, two pools of ten connections each.
        let (a, b) = (connect(&url).await, connect(&url).await);
        suite::replicas_notify_exactly_once(a, b, &format!("pg{round}")).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_histories_agree_with_the_memory_store() {
    let Some(pg) = PostgresServer::start() else {
        return;
    };
    let store = connect(&pg.create_database("differential")).await;
    for seed in [1, 2] {
        suite::agrees_with_the_memory_store(store.clone(), drained, seed, 300).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hand_edited_rows_are_typed_errors_naming_the_key() {
    let Some(pg) = PostgresServer::start() else {
        return;
    };
    let url = pg.create_database("bad_rows");
    let store = connect(&url).await;
    let mut conn = raw(&url).await;
    // The operator's edits get past the table's constraints.
    for column in [
        "layout",
        "failures",
        "last_ms",
        "lock_until_ms",
        "token_hash",
    ] {
        let sql = format!(
            "ALTER TABLE rampart_attempts_streaks \
             DROP CONSTRAINT rampart_attempts_streaks_{column}_check"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    sqlx::query("ALTER TABLE rampart_attempts_streaks ALTER COLUMN first_ms DROP NOT NULL")
        .execute(&mut conn)
        .await
        .unwrap();
    let mut edits = suite::hand_edits();
    edits.push((
        "first_ms = NULL",
        rampart_attempts::RowProblem::Type { column: "first_ms" },
    ));
    let conn = tokio::sync::Mutex::new(conn);
    let edit = async |sql: String| {
        let done = sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut *conn.lock().await)
            .await
            .unwrap();
        assert_eq!(done.rows_affected(), 1);
    };
    suite::bad_rows_are_typed_errors(store.clone(), PostgresStore::key_of, edits, edit).await;
    assert!(store.stats().bad_rows >= 7, "{:?}", store.stats());

    // A column whose type was changed is refused too, naming the column.
    let mut conn = conn.into_inner();
    let acct = Subject::account("retyped");
    let tracker = Tracker::new(store);
    tracker.record_failure(&acct, t0()).await.unwrap();
    sqlx::query(
        "ALTER TABLE rampart_attempts_streaks ALTER COLUMN notified TYPE INT USING notified::int",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let err = tracker.check(&acct, t0()).await.unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Store(StoreError::BadRow { key, problem: rampart_attempts::RowProblem::Type { column: "notified" } })
                if key == "a:retyped"
        ),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_from_a_newer_release_is_refused_not_misread() {
    let Some(pg) = PostgresServer::start() else {
        return;
    };
    let url = pg.create_database("newer");
    let conn = tokio::sync::Mutex::new(raw(&url).await);
    common::sql::a_newer_schema_is_refused(
        async |config| PostgresStore::connect(&url, config).await,
        async |sql| {
            let mut conn = conn.lock().await;
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut *conn)
                .await
                .unwrap();
        },
        "INSERT INTO _rampart_attempts_migrations \
         (version, description, success, checksum, execution_time) \
         VALUES (2, 'from the future', TRUE, '\\x00', 0)",
        2,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_starting_together_migrate_once_beside_the_applications_migrations() {
    let Some(pg) = PostgresServer::start() else {
        return;
    };
    let url = pg.create_database("together");
    let mut conn = raw(&url).await;
    sqlx::query("CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY)")
        .execute(&mut conn)
        .await
        .unwrap();
    let starts: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { PostgresStore::connect(&url, config()).await })
        })
        .collect();
    for s in starts {
        s.await.unwrap().unwrap();
    }
    let ours: Vec<i64> = sqlx::query_scalar("SELECT version FROM _rampart_attempts_migrations")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(ours, [1]);
    let theirs: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(theirs, 0, "the application's history is not ours to touch");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_locking_failure_stores_only_the_hash_of_its_token_and_unlocks_once() {
    let Some(pg) = PostgresServer::start() else {
        return;
    };
    let url = pg.create_database("tokens");
    let policies = Policies::default().with(
        SubjectKind::Account,
        Policy::notify_only(20).with_lockout(Lockout::until_unlocked(2)),
    );
    let replica = async || {
        Arc::new(
            Tracker::new(connect(&url).await)
                .with_policies(policies.clone())
                .unwrap(),
        )
    };
    let (a, b) = (replica().await, replica().await);
    let mut conn = raw(&url).await;
    for round in 0..5 {
        let acct = Subject::account(format!("henry{round}"));
        a.record_failure(&acct, t0()).await.unwrap();
        let token = a
            .record_failure(&acct, t0())
            .await
            .unwrap()
            .unlock_token
            .expect("locked");
        let stored: Vec<u8> = sqlx::query_scalar(
            "SELECT token_hash FROM rampart_attempts_streaks WHERE subject_key = $1",
        )
        .bind(PostgresStore::key_of(&acct))
        .fetch_one(&mut conn)
        .await
        .unwrap();
        common::sql::assert_hash_of(&stored, &token);
        let text = token.expose_secret().to_owned();
        suite::concurrent_unlocks_succeed_once(&a, &b, &acct, &text, round).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_rows_are_swept_and_a_renewed_row_is_kept() {
    let Some(pg) = PostgresServer::start() else {
        return;
    };
    let store = connect(&pg.create_database("sweep")).await;
    let tracker = Tracker::new(store.clone());
    let ip = "192.0.2.40".parse().unwrap();
    let pairs: Vec<Subject> = (0..2500)
        .map(|i| Subject::account_from_ip(format!("sweep{i}"), ip)) // idle 1 h
        .collect();
    for p in &pairs {
        tracker.record_failure(p, t0()).await.unwrap();
    }
    // The first pair fails again later: its row lives on.
    tracker
        .record_failure(&pairs[0], t0() + Duration::from_secs(3000))
        .await
        .unwrap();
    let swept = store
        .sweep_expired(t0() + Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!(swept, 2499, "in bounded statements of 1000 rows");
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM rampart_attempts_streaks")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(left, 1);
    assert_eq!(
        tracker
            .record_failure(&pairs[0], t0() + Duration::from_secs(3601))
            .await
            .unwrap()
            .count,
        3
    );
}

/// Runs `f` and returns its output and how long it took.
async fn timed<T>(f: impl std::future::Future<Output = T>) -> (T, Duration) {
    let start = Instant::now();
    let out = f.await;
    (out, start.elapsed())
}

/// Slack for a loaded CI machine: a call must end near its deadline, not hang.
const HANG_SLACK: Duration = Duration::from_secs(3);

/// PostgreSQL killed (SIGKILL of the postmaster and every backend) and restarted on the
/// same socket, while two replicas hold pools of connections that all die with it. During
/// the outage every call fails closed within its deadline; nothing panics; after the
/// restart the first calls succeed (dead connections are retried on fresh ones), every
/// failure acknowledged before the crash is still counted, and a streak that crosses the
/// threshold after the restart notifies exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_and_restarted_postgres_loses_nothing_acknowledged_and_never_hangs() {
    let Some(mut pg) = PostgresServer::start() else {
        return;
    };
    let url = pg.create_database("restart");
    let timeout = Duration::from_secs(2);
    let cfg = config().with_timeout(timeout);
    for round in 0..3 {
        let notes = Collect::default();
        let replica = async || {
            Arc::new(
                Tracker::new(PostgresStore::connect(&url, cfg.clone()).await.unwrap())
                    .with_notifier(notes.clone()),
            )
        };
        let (a, b) = (replica().await, replica().await);
        let acked = Subject::account(format!("acked{round}"));
        // Acknowledged failures from both replicas, concurrently: both pools fill up.
        let tasks: Vec<_> = (0..16)
            .map(|i| {
                let tracker = Arc::clone(if i % 2 == 0 { &a } else { &b });
                let acked = acked.clone();
                tokio::spawn(async move { tracker.record_failure(&acked, t0()).await.unwrap() })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }

        pg.stop();
        // A keeps taking requests during the outage; B is idle, its pool full of connections
        // that died with the server.
        let (out, took) = timed(a.record_failure(&acked, t0())).await;
        assert!(
            matches!(out, Err(Error::Store(StoreError::Unavailable))),
            "{out:?}"
        );
        assert!(took < timeout + HANG_SLACK, "a call hung: {took:?}");
        let (out, took) = timed(a.check(&acked, t0())).await;
        assert!(matches!(out, Err(Error::Store(StoreError::Unavailable))));
        assert!(took < timeout + HANG_SLACK, "a call hung: {took:?}");
        let forged = rampart_attempts::UnlockToken::parse(&"A".repeat(43)).unwrap();
        let (out, took) = timed(a.unlock(&acked, &forged)).await;
        assert!(matches!(out, Err(Error::Store(StoreError::Unavailable))));
        assert!(took < timeout + HANG_SLACK, "a call hung: {took:?}");
        // The success path never waits, outage or not.
        let (_, took) = timed(a.record_success(&Subject::account("other"), t0())).await;
        assert!(took < Duration::from_millis(100), "{took:?}");
        assert!(!a.store().stats().available);

        pg.restart();
        let out = b.record_failure(&acked, t0()).await.unwrap();
        assert_eq!(
            out.count, 17,
            "round {round}: the 16 acknowledged failures survived"
        );
        let sb = b.store().stats();
        assert_eq!(sb.failed_calls, 0, "round {round}: {sb:?}");
        assert!(
            sb.reconnect_retries >= 1,
            "round {round}: B met its dead connections and retried: {sb:?}"
        );
        let failed_before = a.store().stats().failed_calls + b.store().stats().failed_calls;
        let key = Subject::api_key(format!("pk_after_restart_{round}"));
        let tasks: Vec<_> = (0..30)
            .map(|i| {
                let tracker = Arc::clone(if i % 2 == 0 { &a } else { &b });
                let key = key.clone();
                tokio::spawn(async move {
                    let (out, took) = timed(tracker.record_failure(&key, t0())).await;
                    assert!(took < timeout + HANG_SLACK, "a call hung: {took:?}");
                    out.unwrap().count
                })
            })
            .collect();
        let mut counts = Vec::new();
        for t in tasks {
            counts.push(t.await.unwrap());
        }
        counts.sort_unstable();
        assert_eq!(counts, (1..=30).collect::<Vec<u32>>(), "round {round}");
        assert_eq!(
            notes.all().len(),
            1,
            "round {round}: exactly one notification"
        );
        assert_eq!(notes.all()[0].count, 20);
        assert_eq!(
            a.store().stats().failed_calls + b.store().stats().failed_calls,
            failed_before,
            "round {round}: no call failed after the restart"
        );
        assert!(a.store().stats().available && b.store().stats().available);
    }
}

/// Connecting with a password to a socket directory where no server listens.
async fn connect_to_no_server() -> rampart_attempts::Error {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "postgres://admin:hunter2@localhost/app?host={}",
        dir.path().display()
    );
    PostgresStore::connect(&url, SqlConfig::default())
        .await
        .unwrap_err()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_at_start_is_a_setup_error_without_the_url() {
    let err = connect_to_no_server().await;
    assert_eq!(err.kind(), "store_setup");
    assert!(!err.to_string().contains("hunter2"), "{err}");
    let err = PostgresStore::connect("postgres://admin:hunter2@[bad", SqlConfig::default())
        .await
        .unwrap_err();
    assert!(!err.to_string().contains("hunter2"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_is_kept_as_a_typed_source_and_no_error_in_the_chain_shows_the_url() {
    let err = connect_to_no_server().await;
    let mut chain = vec![];
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    while let Some(e) = next {
        chain.push(e);
        next = e.source();
    }
    assert!(
        chain
            .iter()
            .any(|e| e.downcast_ref::<sqlx::Error>().is_some()),
        "{chain:?}"
    );
    for e in chain {
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }
}

#[test]
fn connect_outside_a_runtime_is_a_setup_error() {
    let out = common::block_on(PostgresStore::connect(
        "postgres://postgres@localhost/app",
        SqlConfig::default(),
    ));
    assert!(
        matches!(out, Err(Error::Store(StoreError::Setup { .. }))),
        "{out:?}"
    );
}
