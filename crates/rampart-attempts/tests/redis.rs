//! The Redis store against a real redis-server started by each test on a unix socket.
#![cfg(feature = "redis")]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Collect, RedisServer, t0};
use rampart_attempts::{
    Decision, Error, FailureMode, HealthEvent, RedisConfig, RedisStore, StoreError, Subject,
    Tracker,
};
use redis::Commands;

async fn store(_server: &RedisServer, config: RedisConfig) -> RedisStore {
    RedisStore::connect(config).await.unwrap()
}

fn config(server: &RedisServer) -> RedisConfig {
    RedisConfig::new(server.url())
        .prefix("test:attempts:")
        .probe_interval(Duration::from_millis(100))
}

/// Waits (bounded) for a condition that a background task makes true.
async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..200 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for: {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store_passes_the_shared_scenarios() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let drained = |s: &RedisStore| {
        let h = s.health();
        h.resets_applied + h.resets_dropped == h.resets_queued
    };
    common::scenarios(store(&server, config(&server)).await, "redis", drained).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_trackers_many_concurrent_tasks_give_exact_counts_and_one_notification() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let notes = Collect::default();
    let a =
        Arc::new(Tracker::new(store(&server, config(&server)).await).with_notifier(notes.clone()));
    let b =
        Arc::new(Tracker::new(store(&server, config(&server)).await).with_notifier(notes.clone()));
    let key = Subject::api_key("pk_shared");
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let tracker = if i % 2 == 0 {
                Arc::clone(&a)
            } else {
                Arc::clone(&b)
            };
            let key = key.clone();
            tokio::spawn(async move {
                for _ in 0..5 {
                    tracker.record_failure(&key, t0()).await.unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(
        notes.all().len(),
        1,
        "exactly one notification across both replicas"
    );
    assert_eq!(notes.all()[0].count, 20);
    assert_eq!(a.record_failure(&key, t0()).await.unwrap().count, 1001);
    assert_eq!(b.record_failure(&key, t0()).await.unwrap().count, 1002);
    assert_eq!(a.store().health().fallback_operations, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_live_under_the_prefix_and_expire_with_the_idle_period() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let s = store(&server, config(&server).prefix("svc1:")).await;
    let tracker = Tracker::new(s.clone());
    let subject = Subject::account("carol");
    tracker.record_failure(&subject, t0()).await.unwrap();
    let key = s.key_of(&subject);
    assert_eq!(key, "svc1:a:carol");
    let mut conn = server.connection();
    let ttl: i64 = redis::cmd("PTTL").arg(&key).query(&mut conn).unwrap();
    assert!(
        ttl > 23 * 3600 * 1000 && ttl <= 24 * 3600 * 1000,
        "ttl {ttl}"
    );
    let count: u32 = conn.hget(&key, "c").unwrap();
    assert_eq!(count, 1);
    let long = Subject::account("x".repeat(1000));
    assert!(s.key_of(&long).len() < 100, "huge ids are hashed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn success_returns_without_waiting_on_a_frozen_redis() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    // A long timeout: the background reset must outlive the freeze, however slow CI is.
    let cfg = config(&server).timeout(Duration::from_secs(20));
    let tracker = Tracker::new(store(&server, cfg).await);
    let subject = Subject::api_key("pk_fast");
    tracker.record_failure(&subject, t0()).await.unwrap();
    server.signal("-STOP");
    // The future is complete at its first poll: no round trip is awaited.
    let mut fut = std::pin::pin!(tracker.record_success(&subject, t0() + Duration::from_secs(1)));
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    assert!(fut.as_mut().poll(&mut cx).is_ready());
    server.signal("-CONT");
    let mut conn = server.connection();
    let key = tracker.store().key_of(&subject);
    eventually("the background reset to land", || {
        !conn.exists::<_, bool>(&key).unwrap()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_is_skipped_when_this_replica_knows_there_is_no_streak() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let tracker = Tracker::new(store(&server, config(&server)).await);
    let ip = "192.0.2.10".parse().unwrap();
    let pair = Subject::api_key_from_ip("pk_k", ip);
    // check (throttled kind) reads count 0: the success needs no reset.
    assert_eq!(tracker.check(&pair, t0()).await.unwrap(), Decision::Allow);
    tracker.record_success(&pair, t0()).await;
    let h = tracker.store().health();
    assert_eq!((h.resets_skipped, h.resets_queued), (1, 0));
    // After a failure this replica knows there may be a streak: the reset is sent.
    tracker.record_failure(&pair, t0()).await.unwrap();
    tracker
        .record_success(&pair, t0() + Duration::from_secs(1))
        .await;
    assert_eq!(tracker.store().health().resets_queued, 1);
    // A second success right after: this replica just reset it.
    tracker
        .record_success(&pair, t0() + Duration::from_secs(1))
        .await;
    assert_eq!(tracker.store().health().resets_skipped, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outage_fails_open_to_memory_reports_it_and_recovers_after_restart() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&events);
    let cfg = config(&server).on_health_change(move |e| sink.lock().unwrap().push(e.clone()));
    let tracker = Tracker::new(store(&server, cfg).await);
    let acct = Subject::account("dave");
    for _ in 0..3 {
        tracker.record_failure(&acct, t0()).await.unwrap();
    }
    assert!(tracker.store().health().available);

    server.stop();
    // Fail-open: failures are still counted (per replica) and checks still answer.
    let out = tracker.record_failure(&acct, t0()).await.unwrap();
    assert_eq!(out.count, 1, "the fallback starts its own streak");
    for _ in 0..5 {
        tracker.record_failure(&acct, t0()).await.unwrap();
    }
    assert!(matches!(
        tracker.check(&acct, t0()).await.unwrap(),
        Decision::RetryAfter(_)
    ));
    tracker.record_success(&acct, t0()).await;
    let h = tracker.store().health();
    assert!(!h.available);
    assert_eq!(h.outages, 1);
    assert!(h.fallback_operations >= 7);
    assert!(h.last_error.is_some());
    assert!(matches!(
        events.lock().unwrap()[0],
        HealthEvent::Unavailable { .. }
    ));

    server.restart();
    tokio::time::sleep(Duration::from_millis(150)).await; // past the probe interval
    let before = tracker.store().health().fallback_operations;
    let mut recovered = false;
    for _ in 0..200 {
        let out = tracker
            .record_failure(&acct, t0() + Duration::from_secs(2000))
            .await
            .unwrap();
        if tracker.store().health().available {
            recovered = true;
            let _ = out;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(recovered, "the store uses Redis again after it returns");
    assert!(matches!(
        events.lock().unwrap().last(),
        Some(HealthEvent::Recovered { .. })
    ));
    // Scripts were reloaded on the fresh server (NOSCRIPT handled) and the state is in Redis.
    let after = tracker.store().health().fallback_operations;
    let count = tracker
        .record_failure(&acct, t0() + Duration::from_secs(2001))
        .await
        .unwrap()
        .count;
    assert_eq!(tracker.store().health().fallback_operations, after);
    assert!(after >= before);
    let mut conn = server.connection();
    let stored: u32 = conn.hget(tracker.store().key_of(&acct), "c").unwrap();
    assert_eq!(stored, count);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outage_with_fail_closed_denies_without_panicking() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let cfg = config(&server).failure_mode(FailureMode::FailClosed);
    let tracker = Tracker::new(store(&server, cfg).await);
    let acct = Subject::account("erin");
    tracker.record_failure(&acct, t0()).await.unwrap();
    server.stop();
    assert!(matches!(
        tracker.check(&acct, t0()).await,
        Err(Error::Store(StoreError::Unavailable))
    ));
    assert!(matches!(
        tracker.record_failure(&acct, t0()).await,
        Err(Error::Store(StoreError::Unavailable))
    ));
    tracker.record_success(&acct, t0()).await;
    let h = tracker.store().health();
    assert!(!h.available && h.failed_closed >= 2 && h.fallback_operations == 0);
    server.restart();
    eventually_async_ping(tracker.store()).await;
    assert_eq!(tracker.record_failure(&acct, t0()).await.unwrap().count, 1);
}

async fn eventually_async_ping(store: &RedisStore) {
    for _ in 0..100 {
        if store.ping().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("redis did not come back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_redis_at_startup_is_an_outage_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("redis+unix://{}", dir.path().join("nothing.sock").display());
    let store = RedisStore::connect(RedisConfig::new(url)).await.unwrap();
    assert!(!store.health().available);
    let tracker = Tracker::new(store);
    assert_eq!(
        tracker
            .record_failure(&Subject::account("f"), t0())
            .await
            .unwrap()
            .count,
        1
    );
}

#[test]
fn connect_outside_a_runtime_is_a_setup_error() {
    let fut = RedisStore::connect(RedisConfig::new("redis://127.0.0.1:1/"));
    let out = common::block_on(fut);
    assert!(matches!(out, Err(Error::Store(StoreError::Setup { .. }))));
}

/// Loads the golden records of tests/vectors/redis_streak_v1.txt under `prefix`.
fn load_golden(server: &RedisServer, prefix: &str) {
    let mut conn = server.connection();
    let text = include_str!("vectors/redis_streak_v1.txt");
    let mut key = String::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (field, value) = line.split_once(' ').unwrap();
        if field == "key" {
            key = format!("{prefix}{value}");
            continue;
        }
        let bytes: Vec<u8> = if field == "t" {
            (0..value.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&value[i..i + 2], 16).unwrap())
                .collect()
        } else {
            value.as_bytes().to_vec()
        };
        let _: () = conn.hset(&key, field, bytes).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn golden_v1_records_still_load() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    load_golden(&server, "test:attempts:");
    let policies = rampart_attempts::Policies::default().with(
        rampart_attempts::SubjectKind::Account,
        rampart_attempts::Policy::notify_only(20)
            .with_backoff(rampart_attempts::Backoff::new(
                5,
                Duration::from_secs(1),
                Duration::from_secs(900),
            ))
            .with_lockout(rampart_attempts::Lockout::until_unlocked(30)),
    );
    let notes = Collect::default();
    let tracker = Tracker::new(store(&server, config(&server)).await)
        .with_notifier(notes.clone())
        .with_policies(policies)
        .unwrap();
    let ms = |ms: u64| std::time::UNIX_EPOCH + Duration::from_millis(ms);

    // 19 failures, the last at ...660000: the capped backoff (900 s) applies.
    let throttled = Subject::account("golden-throttled@example.com");
    assert_eq!(
        tracker
            .check(&throttled, ms(1_767_225_661_000))
            .await
            .unwrap(),
        Decision::RetryAfter(Duration::from_secs(899))
    );
    let out = tracker
        .record_failure(&throttled, ms(1_767_226_600_000))
        .await
        .unwrap();
    assert_eq!(out.count, 20);
    let n = out
        .notification
        .expect("the 20th failure of the old record notifies");
    assert_eq!(n.first_failure, ms(1_767_225_600_000));

    // Locked until unlocked, with the hash of the all-zero token ("A" x 43).
    let locked = Subject::account("golden-locked@example.com");
    assert_eq!(
        tracker.check(&locked, ms(1_767_225_800_000)).await.unwrap(),
        Decision::Locked { until: None }
    );
    let token = rampart_attempts::UnlockToken::parse(&"A".repeat(43)).unwrap();
    assert!(tracker.unlock(&locked, &token).await.unwrap());
    assert_eq!(
        tracker.check(&locked, ms(1_767_225_800_000)).await.unwrap(),
        Decision::Allow
    );
}
