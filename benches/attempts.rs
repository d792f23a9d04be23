//! rampart-attempts benchmarks (BENCHMARKS.md, "rampart-attempts").
//!
//! - `attempts_memory`: `Tracker::record_failure` over the memory store on 1 and 2 threads
//!   (target: at least 5 million per second on one thread), beside the naive baseline of a
//!   `Mutex<HashMap<String, u32>>` increment on one thread.
//! - `attempts_redis`: `Tracker::record_failure` over the Redis store, 64 requests in flight
//!   on one multiplexed connection (the `redis` crate pipelines them), beside the plain
//!   `EVALSHA` of the same Lua script issued the same way (same connection type, same
//!   concurrency, same keys and arguments). Target ratio >= 0.8. The bench starts its own
//!   redis-server on a unix socket (and skips this group, loudly, without one).
//!
//! `cargo bench -p rampart --no-default-features --features attempts,redis --bench attempts`

// criterion_group! generates an undocumented `pub fn benches`.
#![allow(missing_docs)]

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rampart::attempts::{MemoryStore, RedisConfig, RedisStore, Subject, Tracker};

#[path = "common/in_flight.rs"]
mod in_flight;

/// Distinct subjects cycled through (a realistic spread over shards).
const SUBJECTS: usize = 4096;
/// Requests in flight against Redis.
const IN_FLIGHT: u64 = 64;

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

/// An iteration number as an index (benches run far fewer than 2^32 iterations).
fn idx(n: u64) -> usize {
    usize::try_from(n % (1 << 32)).unwrap_or(0)
}

fn subjects() -> Vec<Subject> {
    (0..SUBJECTS)
        .map(|i| Subject::api_key(format!("pk_live_{i:08x}")))
        .collect()
}

fn memory(c: &mut Criterion) {
    let subjects = Arc::new(subjects());
    let tracker = Arc::new(Tracker::new(MemoryStore::default()));
    let now = SystemTime::now();
    let mut g = c.benchmark_group("attempts_memory");
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    g.throughput(Throughput::Elements(1));

    let naive: Mutex<HashMap<String, u32>> = Mutex::new(HashMap::new());
    let ids: Vec<String> = (0..SUBJECTS).map(|i| format!("pk_live_{i:08x}")).collect();
    let mut i = 0usize;
    g.bench_function("baseline_mutex_hashmap_1_thread", |b| {
        b.iter(|| {
            i = (i + 1) % SUBJECTS;
            let mut map = naive.lock().unwrap();
            *map.entry(black_box(&ids[i]).clone()).or_insert(0) += 1;
        });
    });

    let mut i = 0usize;
    g.bench_function("record_failure_1_thread", |b| {
        b.iter(|| {
            i = (i + 1) % SUBJECTS;
            block_on(tracker.record_failure(black_box(&subjects[i]), now))
                .unwrap()
                .count
        });
    });

    g.bench_function("record_failure_2_threads", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            let handles: Vec<_> = (0..2)
                .map(|t| {
                    let (tracker, subjects) = (Arc::clone(&tracker), Arc::clone(&subjects));
                    std::thread::spawn(move || {
                        for n in 0..iters / 2 {
                            let s = &subjects[(idx(n) * 2 + t) % SUBJECTS];
                            black_box(block_on(tracker.record_failure(s, now)).unwrap());
                        }
                    })
                })
                .collect();
            for h in handles {
                h.join().unwrap();
            }
            start.elapsed()
        });
    });
    g.finish();
}

fn redis(c: &mut Criterion) {
    // Skips loudly without redis-server (benches are not run under CI).
    let Some(server) = rampart_testkit::RedisServer::start() else {
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let store = rt
        .block_on(RedisStore::connect(
            RedisConfig::new(server.url()).with_prefix("bench:"),
        ))
        .unwrap();
    let tracker = Arc::new(Tracker::new(store.clone()));
    let subjects = Arc::new(subjects());
    // The baseline: the same script, sent with EVALSHA on the same kind of connection.
    let script = Arc::new(redis::Script::new(include_str!(
        "../crates/rampart-attempts/src/redis_store/fail.lua"
    )));
    let conn = rt
        .block_on(redis::aio::ConnectionManager::new(
            redis::Client::open(server.url()).unwrap(),
        ))
        .unwrap();
    let keys: Arc<Vec<String>> = Arc::new(subjects.iter().map(|s| store.key_of(s)).collect());
    let idle_ms: u64 = 24 * 3600 * 1000;

    let mut g = c.benchmark_group("attempts_redis");
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    g.throughput(Throughput::Elements(1));
    g.bench_function("plain_evalsha_64_in_flight", |b| {
        b.iter_custom(|iters| {
            let (script, conn, keys) = (Arc::clone(&script), conn.clone(), Arc::clone(&keys));
            in_flight::concurrent(&rt, IN_FLIGHT, iters, move |n| {
                let (script, mut conn, keys) =
                    (Arc::clone(&script), conn.clone(), Arc::clone(&keys));
                async move {
                    let now_ms = u64::try_from(
                        SystemTime::now()
                            .duration_since(SystemTime::UNIX_EPOCH)
                            .unwrap()
                            .as_millis(),
                    )
                    .unwrap();
                    let mut inv = script.key(&keys[idx(n) % SUBJECTS]);
                    inv.arg(now_ms).arg(idle_ms).arg(20u32).arg(0u32).arg(0u64);
                    let reply: Vec<i64> = inv.invoke_async(&mut conn).await.unwrap();
                    black_box(reply);
                }
            })
        });
    });
    g.bench_function("tracker_record_failure_64_in_flight", |b| {
        b.iter_custom(|iters| {
            let (tracker, subjects) = (Arc::clone(&tracker), Arc::clone(&subjects));
            in_flight::concurrent(&rt, IN_FLIGHT, iters, move |n| {
                let (tracker, subjects) = (Arc::clone(&tracker), Arc::clone(&subjects));
                async move {
                    let s = &subjects[idx(n) % SUBJECTS];
                    black_box(tracker.record_failure(s, SystemTime::now()).await.unwrap());
                }
            })
        });
    });
    g.finish();
    assert_eq!(
        store.health().fallback_operations,
        0,
        "the bench must measure Redis itself"
    );
}

criterion_group!(benches, memory, redis);
criterion_main!(benches);
