//! rampart-attempts SQL store benchmarks (BENCHMARKS.md, "rampart-attempts").
//!
//! - `attempts_postgres`: `Tracker::record_failure` over the PostgreSQL store, 64 requests in
//!   flight on a 2-thread runtime, beside a plain `INSERT ... ON CONFLICT DO UPDATE ...
//!   RETURNING` that counts a failure in the same table row, issued the same way (the store's
//!   own pool, same concurrency, same keys). Target ratio >= 0.8. The bench starts its own
//!   PostgreSQL (and skips this group, loudly, without one).
//! - `attempts_sqlite`: the same over the SQLite store on a file in a temporary directory.
//!
//! Criterion measures each side; the ratio (plain statement's time / store's time, i.e. the
//! store's throughput as a fraction of the plain statement's) is also printed from
//! interleaved rounds (`.../paired/...`), which a drifting machine load skews less.
//!
//! `cargo bench -p rampart --no-default-features --features attempts,postgres,sqlite --bench attempts_sql`

// criterion_group! generates an undocumented `pub fn benches`.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rampart::attempts::sql::sqlx;
use rampart::attempts::{PostgresStore, SqlConfig, SqliteStore, Store, Subject, Tracker};

#[path = "common/in_flight.rs"]
mod in_flight;
#[path = "common/paired.rs"]
mod paired;

/// Distinct subjects cycled through.
const SUBJECTS: usize = 4096;
/// Requests in flight.
const IN_FLIGHT: u64 = 64;
/// Operations per side and round of the interleaved ratio.
const PAIRED_OPS: u64 = 4096;
/// The default idle period of an API key's streak (24 h), as the tracker passes it.
const IDLE_MS: i64 = 24 * 3600 * 1000;

/// The baseline: one failure counted in the same row with the plainest upsert that returns
/// the streak (no streak rules, no token, no notification, no decision).
const PG_PLAIN: &str = "INSERT INTO rampart_attempts_streaks AS s \
    (subject_key, layout, failures, first_ms, last_ms, notified, lock_until_ms, expires_ms, outcome) \
    VALUES ($1, 1, 1, $2, $2, FALSE, 0, $2 + $3, 0) \
    ON CONFLICT (subject_key) DO UPDATE SET failures = s.failures + 1, last_ms = $2, \
    expires_ms = $2 + $3 \
    RETURNING failures, first_ms, last_ms, notified, lock_until_ms";
const SQLITE_PLAIN: &str = "INSERT INTO rampart_attempts_streaks AS s \
    (subject_key, layout, failures, first_ms, last_ms, notified, lock_until_ms, expires_ms, outcome) \
    VALUES (?1, 1, 1, ?2, ?2, 0, 0, ?2 + ?3, 0) \
    ON CONFLICT (subject_key) DO UPDATE SET failures = s.failures + 1, last_ms = ?2, \
    expires_ms = ?2 + ?3 \
    RETURNING failures, first_ms, last_ms, notified, lock_until_ms";

/// An iteration number as an index (benches run far fewer than 2^32 iterations).
fn idx(n: u64) -> usize {
    usize::try_from(n % (1 << 32)).unwrap_or(0) % SUBJECTS
}

fn now_ms() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn config() -> SqlConfig {
    // A long deadline: the bench measures the database, never a timeout.
    SqlConfig::default()
        .with_timeout(Duration::from_secs(30))
        .with_sweep_interval(Duration::ZERO)
}

/// Both sides of one group: `plain(n)` and the tracker's `record_failure` of subject `n`.
fn compare<S, P, PF>(
    c: &mut Criterion,
    group: &str,
    rt: &tokio::runtime::Runtime,
    store: S,
    plain: P,
) where
    S: Store + Send + Sync + 'static,
    P: Fn(u64) -> PF + Clone + Send + Sync + 'static,
    PF: std::future::Future<Output = ()> + Send,
{
    let subjects: Arc<Vec<Subject>> = Arc::new(
        (0..SUBJECTS)
            .map(|i| Subject::api_key(format!("pk_live_{i:08x}")))
            .collect(),
    );
    let tracker = Arc::new(Tracker::new(store));
    let record = {
        let (tracker, subjects) = (Arc::clone(&tracker), Arc::clone(&subjects));
        move |n: u64| {
            let (tracker, subjects) = (Arc::clone(&tracker), Arc::clone(&subjects));
            async move {
                let s = &subjects[idx(n)];
                black_box(tracker.record_failure(s, SystemTime::now()).await.unwrap());
            }
        }
    };
    let mut g = c.benchmark_group(group);
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    g.throughput(Throughput::Elements(1));
    g.bench_function("plain_upsert_64_in_flight", |b| {
        b.iter_custom(|iters| in_flight::concurrent(rt, IN_FLIGHT, iters, plain.clone()));
    });
    g.bench_function("tracker_record_failure_64_in_flight", |b| {
        b.iter_custom(|iters| in_flight::concurrent(rt, IN_FLIGHT, iters, record.clone()));
    });
    g.finish();
    let mut sides = |side: usize| {
        if side == 0 {
            in_flight::concurrent(rt, IN_FLIGHT, PAIRED_OPS, plain.clone());
        } else {
            in_flight::concurrent(rt, IN_FLIGHT, PAIRED_OPS, record.clone());
        }
    };
    paired::paired_ratios(
        group,
        "time of the plain upsert / the store's record_failure (target >= 0.8)",
        15,
        &mut [("record_failure_vs_plain_upsert", &mut sides)],
    );
}

/// The row keys of the bench's subjects, as the store writes them.
fn keys() -> Arc<Vec<String>> {
    Arc::new(
        (0..SUBJECTS)
            .map(|i| SqliteStore::key_of(&Subject::api_key(format!("pk_live_{i:08x}"))))
            .collect(),
    )
}

fn postgres(c: &mut Criterion) {
    // Skips loudly without PostgreSQL (benches are not run under CI).
    let Some(server) = rampart_testkit::PostgresServer::start() else {
        return;
    };
    let url = server.create_database("bench");
    let rt = runtime();
    let store: PostgresStore = rt.block_on(PostgresStore::connect(&url, config())).unwrap();
    let (pool, keys) = (store.pool().clone(), keys());
    let plain = move |n: u64| {
        let (pool, keys) = (pool.clone(), Arc::clone(&keys));
        async move {
            let row = sqlx::query(PG_PLAIN)
                .bind(keys[idx(n)].as_str())
                .bind(now_ms())
                .bind(IDLE_MS)
                .fetch_one(&pool)
                .await
                .unwrap();
            black_box(row);
        }
    };
    compare(c, "attempts_postgres", &rt, store.clone(), plain);
    assert_eq!(
        store.stats().failed_calls,
        0,
        "the bench measures the database"
    );
}

fn sqlite(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let store: SqliteStore = rt
        .block_on(SqliteStore::open(dir.path().join("bench.db"), config()))
        .unwrap();
    let (pool, keys) = (store.pool().clone(), keys());
    let plain = move |n: u64| {
        let (pool, keys) = (pool.clone(), Arc::clone(&keys));
        async move {
            let row = sqlx::query(SQLITE_PLAIN)
                .bind(keys[idx(n)].as_str())
                .bind(now_ms())
                .bind(IDLE_MS)
                .fetch_one(&pool)
                .await
                .unwrap();
            black_box(row);
        }
    };
    compare(c, "attempts_sqlite", &rt, store.clone(), plain);
    assert_eq!(
        store.stats().failed_calls,
        0,
        "the bench measures the database"
    );
}

criterion_group!(benches, postgres, sqlite);
criterion_main!(benches);
