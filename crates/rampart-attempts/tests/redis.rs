//! The Redis store against a real redis-server started by each test on a unix socket.
#![cfg(feature = "redis")]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Collect, RedisServer, connection, suite, t0};
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
        .with_prefix("test:attempts:")
        .with_probe_interval(Duration::from_millis(100))
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
    // A generous timeout: 1000 scripts from 200 tasks on a loaded 2-core CI machine must not
    // fall back to memory (that would break the exact counts this test checks).
    let cfg = || config(&server).with_timeout(Duration::from_secs(10));
    let a = Arc::new(Tracker::new(store(&server, cfg()).await).with_notifier(notes.clone()));
    let b = Arc::new(Tracker::new(store(&server, cfg()).await).with_notifier(notes.clone()));
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
    let s = store(&server, config(&server).with_prefix("svc1:")).await;
    let tracker = Tracker::new(s.clone());
    let subject = Subject::account("carol");
    tracker.record_failure(&subject, t0()).await.unwrap();
    let key = s.key_of(&subject);
    assert_eq!(key, "svc1:a:carol");
    let mut conn = connection(&server);
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
    let cfg = config(&server).with_timeout(Duration::from_secs(20));
    let tracker = Tracker::new(store(&server, cfg).await);
    let subject = Subject::api_key("pk_fast");
    tracker.record_failure(&subject, t0()).await.unwrap();
    server.signal("-STOP");
    // The future is complete at its first poll: no round trip is awaited.
    let mut fut = std::pin::pin!(tracker.record_success(&subject, t0() + Duration::from_secs(1)));
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    assert!(fut.as_mut().poll(&mut cx).is_ready());
    server.signal("-CONT");
    let mut conn = connection(&server);
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
    let cfg = config(&server).with_on_health_change(move |e| sink.lock().unwrap().push(e.clone()));
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
    let mut tries = 0;
    for _ in 0..200 {
        tries += 1;
        tracker
            .record_failure(&acct, t0() + Duration::from_secs(2000))
            .await
            .unwrap();
        if tracker.store().health().available {
            recovered = true;
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
    // Every failure during recovery is in the (fresh, empty) Redis exactly once: those the
    // fallback did not take directly, those it took through the merge that ended the
    // outage (#22); plus the last one. (The six failures of the outage were ended by the
    // success recorded in it, which the merge applied too.)
    let to_fallback = u32::try_from(after - before).unwrap();
    assert!(to_fallback < tries, "the try that recovered went to Redis");
    assert_eq!(count, tries + 1);
    let mut conn = connection(&server);
    let stored: u32 = conn.hget(tracker.store().key_of(&acct), "c").unwrap();
    assert_eq!(stored, count);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outage_with_fail_closed_denies_without_panicking() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let cfg = config(&server).with_failure_mode(FailureMode::FailClosed);
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
    let mut conn = connection(server);
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

/// Scripts the server has run (EVAL and EVALSHA calls; the commands inside a script are
/// counted apart, under their own names).
fn server_calls(conn: &mut redis::Connection) -> u64 {
    let info: String = redis::cmd("INFO").arg("commandstats").query(conn).unwrap();
    info.lines()
        .filter(|l| l.starts_with("cmdstat_evalsha:") || l.starts_with("cmdstat_eval:"))
        .filter_map(|l| {
            l.split("calls=")
                .nth(1)?
                .split(',')
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum()
}

fn lockout_policies(after: u32) -> rampart_attempts::Policies {
    rampart_attempts::Policies::default().with(
        rampart_attempts::SubjectKind::Account,
        rampart_attempts::Policy::notify_only(3)
            .with_lockout(rampart_attempts::Lockout::until_unlocked(after)),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_locking_failure_stores_its_token_in_the_same_script() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let tracker = Tracker::new(store(&server, config(&server)).await)
        .with_policies(lockout_policies(3))
        .unwrap();
    let acct = Subject::account("grace");
    let key = tracker.store().key_of(&acct);
    let mut conn = connection(&server);
    tracker.record_failure(&acct, t0()).await.unwrap();
    let mut per_failure = Vec::new();
    let mut token = None;
    for _ in 0..2 {
        let calls = server_calls(&mut conn);
        let out = tracker.record_failure(&acct, t0()).await.unwrap();
        per_failure.push(server_calls(&mut conn) - calls);
        token = token.or(out.unlock_token);
    }
    // One round trip for a plain failure and for the one that locks: no separate write of
    // the token that an outage could split from the lock.
    assert_eq!(per_failure, [1, 1]);
    let token = token.expect("the third failure locks");
    let stored: Vec<u8> = conn.hget(&key, "t").unwrap();
    let raw = base64::Engine::decode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        token.expose_secret(),
    )
    .unwrap();
    assert_eq!(
        stored,
        ring::digest::digest(&ring::digest::SHA256, &raw).as_ref()
    );
    // A failure that does not newly lock leaves the token alone.
    tracker.record_failure(&acct, t0()).await.unwrap();
    assert_eq!(conn.hget::<_, _, Vec<u8>>(&key, "t").unwrap(), stored);
    assert!(tracker.unlock(&acct, &token).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_unlocks_with_one_token_succeed_exactly_once() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let cfg = || config(&server).with_timeout(Duration::from_secs(10));
    let a = Arc::new(
        Tracker::new(store(&server, cfg()).await)
            .with_policies(lockout_policies(2))
            .unwrap(),
    );
    let b = Arc::new(
        Tracker::new(store(&server, cfg()).await)
            .with_policies(lockout_policies(2))
            .unwrap(),
    );
    for round in 0..10 {
        let acct = Subject::account(format!("henry{round}"));
        a.record_failure(&acct, t0()).await.unwrap();
        let token = a
            .record_failure(&acct, t0())
            .await
            .unwrap()
            .unlock_token
            .expect("locked");
        let text = token.expose_secret().to_owned();
        suite::concurrent_unlocks_succeed_once(&a, &b, &acct, &text, round).await;
        assert_eq!(a.check(&acct, t0()).await.unwrap(), Decision::Allow);
    }
    assert_eq!(a.store().health().fallback_operations, 0);
    assert_eq!(b.store().health().fallback_operations, 0);
}

/// Runs `f` and returns its output and how long it took.
async fn timed<T>(f: impl std::future::Future<Output = T>) -> (T, Duration) {
    let start = std::time::Instant::now();
    let out = f.await;
    (out, start.elapsed())
}

const HANG_TIMEOUT: Duration = Duration::from_millis(300);
/// Slack for a loaded CI machine: the call must end near the timeout, not hang.
const HANG_SLACK: Duration = Duration::from_secs(3);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hung_redis_times_out_and_fails_open_to_memory_then_recovers() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let cfg = config(&server).with_timeout(HANG_TIMEOUT);
    let tracker = Tracker::new(store(&server, cfg).await);
    let pair = Subject::account_from_ip("iris", "192.0.2.30".parse().unwrap());
    for _ in 0..6 {
        tracker.record_failure(&pair, t0()).await.unwrap();
    }
    assert!(matches!(
        tracker.check(&pair, t0()).await.unwrap(),
        Decision::RetryAfter(_)
    ));

    server.signal("-STOP");
    // check: Redis accepts the request but never answers; the timeout ends the wait and the
    // fallback (which has seen nothing of this subject) answers.
    let (decision, took) = timed(tracker.check(&pair, t0())).await;
    assert_eq!(decision.unwrap(), Decision::Allow);
    assert!(
        took >= HANG_TIMEOUT && took < HANG_TIMEOUT + HANG_SLACK,
        "{took:?}"
    );
    let h = tracker.store().health();
    assert!(!h.available);
    assert!(h.last_error.is_some(), "{h:?}");
    // record_failure: the outage is known, so it goes straight to the fallback.
    let (out, took) = timed(tracker.record_failure(&pair, t0())).await;
    assert_eq!(out.unwrap().count, 1, "the fallback's own streak");
    assert!(took < HANG_SLACK, "{took:?}");
    // Past the probe interval a call tries Redis again, and times out again.
    tokio::time::sleep(Duration::from_millis(150)).await;
    let (out, took) = timed(tracker.record_failure(&pair, t0())).await;
    assert_eq!(out.unwrap().count, 2);
    assert!(
        took >= HANG_TIMEOUT && took < HANG_TIMEOUT + HANG_SLACK,
        "{took:?}"
    );
    assert!(tracker.store().health().fallback_operations >= 3);

    server.signal("-CONT");
    eventually_async_ping(tracker.store()).await;
    assert!(tracker.store().health().available);
    // Redis kept its streak (six failures, plus whatever the frozen server ran late).
    let out = tracker.record_failure(&pair, t0()).await.unwrap();
    assert!(out.count >= 7, "count {}", out.count);
    assert!(out.retry_after.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hung_redis_times_out_and_fails_closed_then_recovers() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let cfg = config(&server)
        .with_timeout(HANG_TIMEOUT)
        .with_failure_mode(FailureMode::FailClosed);
    let tracker = Tracker::new(store(&server, cfg).await);
    let pair = Subject::account_from_ip("jack", "192.0.2.31".parse().unwrap());
    tracker.record_failure(&pair, t0()).await.unwrap();

    server.signal("-STOP");
    let (decision, took) = timed(tracker.check(&pair, t0())).await;
    assert!(matches!(
        decision,
        Err(Error::Store(StoreError::Unavailable))
    ));
    assert!(
        took >= HANG_TIMEOUT && took < HANG_TIMEOUT + HANG_SLACK,
        "{took:?}"
    );
    tokio::time::sleep(Duration::from_millis(150)).await; // let the next call probe Redis
    let (out, took) = timed(tracker.record_failure(&pair, t0())).await;
    assert!(matches!(out, Err(Error::Store(StoreError::Unavailable))));
    assert!(
        took >= HANG_TIMEOUT && took < HANG_TIMEOUT + HANG_SLACK,
        "{took:?}"
    );
    let h = tracker.store().health();
    assert!(!h.available && h.failed_closed >= 2 && h.fallback_operations == 0);

    server.signal("-CONT");
    eventually_async_ping(tracker.store()).await;
    assert_eq!(tracker.check(&pair, t0()).await.unwrap(), Decision::Allow);
    assert!(tracker.record_failure(&pair, t0()).await.unwrap().count >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_all_reads_every_subject_in_one_script() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let tracker = Tracker::new(store(&server, config(&server)).await)
        .with_policies(common::check_all_policies())
        .unwrap();
    common::check_all_scenario(&tracker, "redis").await;
    assert_eq!(tracker.store().health().fallback_operations, 0);

    let ip = "192.0.2.78".parse().unwrap();
    let subjects = [
        Subject::ip(ip),
        Subject::account_from_ip("mia", ip),
        Subject::account("mia"),
        Subject::api_key("pk_mia"),
    ];
    let refs: Vec<&Subject> = subjects.iter().collect();
    for _ in 0..3 {
        tracker.record_failure(&subjects[1], t0()).await.unwrap();
    }
    let mut conn = connection(&server);
    let calls = server_calls(&mut conn);
    let decision = tracker.check_all(&refs, t0()).await.unwrap();
    assert_eq!(decision, Decision::RetryAfter(Duration::from_secs(1)));
    assert_eq!(
        server_calls(&mut conn) - calls,
        1,
        "three throttleable subjects, one round trip"
    );
    // Fail-open applies to the call as a whole: the fallback answers for every subject.
    server.stop();
    assert_eq!(
        tracker.check_all(&refs, t0()).await.unwrap(),
        Decision::Allow
    );
    assert!(tracker.store().health().fallback_operations >= 1);
}

/// Redis killed (SIGKILL) and restarted on the same socket while replica A keeps working and
/// replica B sits idle. B's first call after the restart meets its dead connection: it is
/// retried on a fresh one instead of starting an outage, so a streak that crosses the
/// threshold after the restart is counted in one place and notified exactly once. (Before,
/// B fell back to memory for its probe interval and the streak was split: no notification.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_and_restarted_redis_loses_no_count_and_notifies_once() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    // A probe interval far longer than the test: any outage B declared would split counts.
    let base = config(&server)
        .with_timeout(Duration::from_secs(2))
        .with_probe_interval(Duration::from_secs(30));
    let cfg = || base.clone();
    for round in 0..5 {
        let notes = Collect::default();
        let a = Arc::new(Tracker::new(store(&server, cfg()).await).with_notifier(notes.clone()));
        let b = Arc::new(Tracker::new(store(&server, cfg()).await).with_notifier(notes.clone()));
        let warm = Subject::api_key(format!("pk_warm_{round}"));
        a.record_failure(&warm, t0()).await.unwrap();
        b.record_failure(&warm, t0()).await.unwrap();

        server.stop();
        // A keeps working during the outage (fail-open to its memory); B is idle.
        let (_, took) = timed(a.record_failure(&warm, t0())).await;
        assert!(
            took < Duration::from_secs(2) + HANG_SLACK,
            "a call hung: {took:?}"
        );
        server.restart();
        // A's outage ends when it sees Redis again (a readiness probe would do the same).
        assert!(a.store().ping().await, "A reaches the restarted server");

        let key = Subject::api_key(format!("pk_after_restart_{round}"));
        let tasks: Vec<_> = (0..30)
            .map(|i| {
                let tracker = Arc::clone(if i % 2 == 0 { &a } else { &b });
                let key = key.clone();
                tokio::spawn(async move {
                    let (out, took) = timed(tracker.record_failure(&key, t0())).await;
                    out.unwrap();
                    assert!(
                        took < Duration::from_secs(2) + HANG_SLACK,
                        "a call hung: {took:?}"
                    );
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let hb = b.store().health();
        assert_eq!(hb.outages, 0, "round {round}: B declared an outage: {hb:?}");
        assert!(
            hb.reconnect_retries >= 1,
            "round {round}: B never met its dead connection"
        );
        assert_eq!(hb.fallback_operations, 0, "round {round}: {hb:?}");
        assert_eq!(
            notes.all().len(),
            1,
            "round {round}: exactly one notification for the streak across both replicas"
        );
        assert_eq!(notes.all()[0].count, 20);
        let mut conn = connection(&server);
        let stored: u32 = conn.hget(a.store().key_of(&key), "c").unwrap();
        assert_eq!(stored, 30, "round {round}: every failure is in Redis");
    }
}
