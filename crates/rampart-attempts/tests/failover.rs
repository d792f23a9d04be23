//! Redis killed (SIGKILL) and restarted under two replicas (issue #22): a streak is counted
//! whole across the outage and notified exactly once.
#![cfg(feature = "redis")]

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Collect, RedisServer, connection, t0};
use rampart_attempts::{HealthEvent, RedisConfig, RedisStore, Subject, Tracker};
use redis::Commands;

/// Each call's deadline in these tests.
const TIMEOUT: Duration = Duration::from_secs(1);
/// Slack for a loaded 2-core CI machine: a call must end near its deadline, not hang.
const SLACK: Duration = Duration::from_secs(3);

type Replica = Arc<Tracker<RedisStore, Collect>>;

/// A replica: its own store (connection, fallback, pending merges) on the shared server,
/// and the health events it reported.
async fn replica(
    server: &RedisServer,
    notes: &Collect,
    probe: Duration,
) -> (Replica, Arc<Mutex<Vec<HealthEvent>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&events);
    let config = RedisConfig::new(server.url())
        .with_prefix("failover:")
        .with_timeout(TIMEOUT)
        .with_probe_interval(probe)
        .with_on_health_change(move |e| sink.lock().unwrap().push(e.clone()));
    let store = RedisStore::connect(config).await.unwrap();
    (
        Arc::new(Tracker::new(store).with_notifier(notes.clone())),
        events,
    )
}

/// Records a failure, asserting it neither failed nor outlived its deadline.
async fn fail_within_deadline(tracker: &Replica, subject: &Subject) -> u32 {
    let start = Instant::now();
    let out = tracker.record_failure(subject, t0()).await.unwrap();
    let took = start.elapsed();
    assert!(took < TIMEOUT + SLACK, "a call hung: {took:?}");
    out.count
}

/// Waits (bounded) until a restarted durable server has loaded its append-only file: until
/// then it answers `LOADING` errors, which the store rightly takes for an outage. Uses a
/// connection of its own, so the replicas' connections stay as the restart left them.
fn wait_until_loaded(server: &RedisServer) {
    let mut conn = connection(server);
    let deadline = Instant::now() + Duration::from_secs(10);
    while redis::cmd("PING").query::<String>(&mut conn).is_err() {
        assert!(Instant::now() < deadline, "redis did not finish loading");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn stored_count(server: &RedisServer, tracker: &Replica, subject: &Subject) -> u32 {
    connection(server)
        .hget(tracker.store().key_of(subject), "c")
        .unwrap()
}

/// The scenario: Redis restarts (without persistence, as a default Redis does:
/// streaks kept only in Redis are gone, so this test counts only what happens from the
/// kill on). Replica A keeps working through the outage and counts in its fallback, B is
/// idle. Right after the restart a burst of 30 concurrent failures against one account
/// comes through both. A's share while it still sees the outage goes to its memory and is
/// merged into Redis when it sees Redis again; B's first call meets a dead connection and
/// is retried on a fresh one. The streak ends up whole in Redis and its owner hears of it
/// exactly once; no call outlives its deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_during_a_burst_keeps_the_streak_whole_and_notifies_once() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    for round in 0..3 {
        let notes = Collect::default();
        // A short probe interval: A is still in fallback for part of the burst.
        let (a, a_events) = replica(&server, &notes, Duration::from_millis(100)).await;
        let (b, _) = replica(&server, &notes, Duration::from_millis(100)).await;
        let warm = Subject::account(format!("warm{round}"));
        fail_within_deadline(&a, &warm).await;
        fail_within_deadline(&b, &warm).await;
        let victim = Subject::account(format!("victim{round}"));

        server.stop();
        // A keeps working: three failures against the victim, answered from its memory.
        for _ in 0..3 {
            fail_within_deadline(&a, &victim).await;
        }
        let h = a.store().health();
        assert!(!h.available && h.down_since.is_some(), "{h:?}");
        assert_eq!(h.merge_pending, 1);
        server.restart();

        let tasks: Vec<_> = (0..30)
            .map(|i| {
                let tracker = Arc::clone(if i % 2 == 0 { &a } else { &b });
                let victim = victim.clone();
                tokio::spawn(async move { fail_within_deadline(&tracker, &victim).await })
            })
            .collect();
        for t in tasks {
            t.await.expect("no call panicked");
        }
        // Whatever A's memory took during the burst is merged by the time a probe returns;
        // the tracker's next call sends a notification a merge owes.
        assert!(a.store().ping().await && b.store().ping().await);
        a.check(&victim, t0()).await.unwrap();
        b.check(&victim, t0()).await.unwrap();

        let all = notes.all();
        assert_eq!(all.len(), 1, "round {round}: one notification: {all:?}");
        assert!(all[0].count >= 20, "round {round}: {:?}", all[0]);
        assert_eq!(
            stored_count(&server, &a, &victim),
            33,
            "round {round}: every failure is in Redis once"
        );
        let (ha, hb) = (a.store().health(), b.store().health());
        assert!(ha.available && ha.down_since.is_none(), "{ha:?}");
        assert_eq!(ha.outages, 1, "round {round}: {ha:?}");
        assert!(ha.merged_failures >= 3, "round {round}: {ha:?}");
        assert_eq!(ha.merge_pending, 0, "round {round}: {ha:?}");
        assert_eq!(hb.outages, 0, "round {round}: B declared an outage: {hb:?}");
        let events = a_events.lock().unwrap().clone();
        assert!(
            matches!(
                events[..],
                [
                    HealthEvent::Unavailable { .. },
                    HealthEvent::Recovered { merged_failures, .. }
                ] if merged_failures >= 3
            ),
            "round {round}: {events:?}"
        );
    }
}

/// Both replicas fail open through an outage and count the same account in memory, neither
/// reaching the threshold alone. On recovery each merge adds its count to the streak Redis
/// kept (a durable Redis: the five failures from before the kill survive it): the sum is
/// exact, the merge that crosses 20 claims the one notification, and merging again (a
/// second probe) adds nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_kept_in_memory_during_an_outage_are_merged_once_and_notified_once() {
    let Some(mut server) = RedisServer::start_durable() else {
        return;
    };
    let notes = Collect::default();
    let (a, a_events) = replica(&server, &notes, Duration::from_secs(30)).await;
    let (b, _) = replica(&server, &notes, Duration::from_secs(30)).await;
    let victim = Subject::account("merged");
    for _ in 0..5 {
        fail_within_deadline(&a, &victim).await;
    }

    server.stop();
    let outage_start = std::time::SystemTime::now();
    for i in 0..8 {
        assert_eq!(fail_within_deadline(&a, &victim).await, i + 1, "A's memory");
        assert_eq!(fail_within_deadline(&b, &victim).await, i + 1, "B's memory");
    }
    let down_since = a.store().health().down_since.expect("an outage");
    assert!(down_since <= outage_start + SLACK);
    assert!(notes.all().is_empty(), "neither replica reached 20 alone");

    server.restart();
    wait_until_loaded(&server);
    assert!(a.store().ping().await, "A merges its 8");
    assert_eq!(stored_count(&server, &a, &victim), 13);
    assert!(b.store().ping().await, "B merges its 8 and crosses 20");
    assert_eq!(stored_count(&server, &a, &victim), 21);
    assert!(notes.all().is_empty(), "owed until B's tracker is called");
    b.check(&victim, t0()).await.unwrap();
    let all = notes.all();
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0].count, 21);
    assert_eq!(
        all[0].first_failure,
        t0(),
        "the streak began before the kill"
    );

    // Nothing is merged twice, and the streak goes on in Redis with its notification spent.
    assert!(a.store().ping().await && b.store().ping().await);
    assert_eq!(stored_count(&server, &a, &victim), 21);
    assert_eq!(fail_within_deadline(&a, &victim).await, 22);
    assert_eq!(fail_within_deadline(&b, &victim).await, 23);
    a.check(&victim, t0()).await.unwrap();
    assert_eq!(notes.all().len(), 1);

    for h in [a.store().health(), b.store().health()] {
        assert!(h.available && h.down_since.is_none(), "{h:?}");
        assert_eq!(h.merged_failures, 8, "{h:?}");
        assert_eq!(h.merge_pending, 0, "{h:?}");
        assert_eq!(h.fallback_operations, 8, "{h:?}");
    }
    assert_eq!(b.store().health().merge_notifications, 1);
    assert!(matches!(
        a_events.lock().unwrap().last(),
        Some(HealthEvent::Recovered {
            merged_failures: 8,
            ..
        })
    ));
}

/// The fallback notified during the outage (A alone reached 20 in memory): the merge marks
/// the Redis streak notified, so nothing crosses again when Redis counts on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_sent_from_memory_is_not_sent_again_after_the_merge() {
    let Some(mut server) = RedisServer::start_durable() else {
        return;
    };
    let notes = Collect::default();
    let (a, _) = replica(&server, &notes, Duration::from_secs(30)).await;
    let victim = Subject::account("noisy");
    fail_within_deadline(&a, &victim).await;
    server.stop();
    for _ in 0..20 {
        fail_within_deadline(&a, &victim).await;
    }
    assert_eq!(notes.all().len(), 1, "the fallback's own streak reached 20");
    server.restart();
    wait_until_loaded(&server);
    assert!(a.store().ping().await);
    assert_eq!(stored_count(&server, &a, &victim), 21);
    for _ in 0..5 {
        fail_within_deadline(&a, &victim).await;
    }
    a.check(&victim, t0()).await.unwrap();
    assert_eq!(notes.all().len(), 1, "{:?}", notes.all());
    assert_eq!(a.store().health().merge_notifications, 0);
}

/// A success seen during the outage reached no Redis: the merge applies it, so the failures
/// before it (in Redis and in memory) no longer count, and those after it do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_success_during_the_outage_is_merged_too() {
    let Some(mut server) = RedisServer::start_durable() else {
        return;
    };
    let notes = Collect::default();
    let (a, _) = replica(&server, &notes, Duration::from_secs(30)).await;
    let victim = Subject::account("forgetful");
    let at = |s: u64| t0() + Duration::from_secs(s);
    for s in 0..4 {
        a.record_failure(&victim, at(s)).await.unwrap();
    }
    server.stop();
    a.record_failure(&victim, at(10)).await.unwrap();
    a.record_success(&victim, at(11)).await;
    a.record_failure(&victim, at(12)).await.unwrap();
    a.record_failure(&victim, at(13)).await.unwrap();
    // The background reset fails against the dead server and is kept for the merge.
    for _ in 0..200 {
        if a.store().health().reset_batches_failed > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.restart();
    wait_until_loaded(&server);
    assert!(a.store().ping().await);
    let mut conn = connection(&server);
    let key = a.store().key_of(&victim);
    assert_eq!(conn.hget::<_, _, u32>(&key, "c").unwrap(), 2);
    assert_eq!(conn.hget::<_, _, u64>(&key, "f").unwrap(), unix_ms(at(12)));
}

fn unix_ms(t: std::time::SystemTime) -> u64 {
    u64::try_from(t.duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()).unwrap()
}
