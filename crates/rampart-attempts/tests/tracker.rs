//! Behaviour of the tracker over the memory store, through the public API (no runtime).

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Collect, block_on, t0};
use rampart_attempts::{
    Decision, Error, MemoryConfig, MemoryStore, Notification, Notifier, NotifyError, Policies,
    Subject, SubjectKind, Tracker, UnlockToken,
};

#[test]
fn memory_store_passes_the_shared_scenarios() {
    block_on(common::scenarios(MemoryStore::default(), "mem", |_| true));
}

#[test]
fn default_policy_never_throttles_or_locks_a_public_key() {
    let tracker = Tracker::new(MemoryStore::default());
    let key = Subject::api_key("pk_public");
    for i in 0..1000u64 {
        let out = block_on(tracker.record_failure(&key, t0() + Duration::from_millis(i))).unwrap();
        assert!(out.retry_after.is_none() && !out.locked && out.unlock_token.is_none());
    }
    assert_eq!(
        block_on(tracker.check(&key, t0())).unwrap(),
        Decision::Allow
    );
}

#[test]
fn default_policy_throttles_the_key_ip_pair_and_the_ip() {
    let tracker = Tracker::new(MemoryStore::default());
    let ip = "203.0.113.5".parse().unwrap();
    let pair = Subject::api_key_from_ip("pk_public", ip);
    let from_ip = Subject::ip(ip);
    for _ in 0..6 {
        block_on(tracker.record_failure(&pair, t0())).unwrap();
    }
    assert_eq!(
        block_on(tracker.check(&pair, t0())).unwrap(),
        Decision::RetryAfter(Duration::from_secs(1))
    );
    let mut last = None;
    for _ in 0..51 {
        last = block_on(tracker.record_failure(&from_ip, t0()))
            .unwrap()
            .retry_after;
    }
    assert_eq!(last, Some(Duration::from_secs(1)));
}

#[test]
fn default_notify_threshold_is_20_and_fires_once_per_streak() {
    let notes = Collect::default();
    let tracker = Tracker::new(MemoryStore::default()).with_notifier(notes.clone());
    let key = Subject::api_key("pk_x");
    for round in 0..2u64 {
        for i in 0..30u64 {
            block_on(tracker.record_failure(&key, t0() + Duration::from_secs(round * 100 + i)))
                .unwrap();
        }
        block_on(tracker.record_success(&key, t0() + Duration::from_secs(round * 100 + 50)));
    }
    let n = notes.all();
    assert_eq!(n.len(), 2, "one per streak");
    assert_ne!(n[0].idempotency_key, n[1].idempotency_key);
    assert!(n.iter().all(|n| n.count == 20));
}

#[test]
fn concurrent_threads_on_one_memory_store_notify_exactly_once() {
    let notes = Collect::default();
    let tracker = Arc::new(Tracker::new(MemoryStore::default()).with_notifier(notes.clone()));
    let key = Subject::api_key("pk_race");
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (tracker, key) = (Arc::clone(&tracker), key.clone());
            std::thread::spawn(move || {
                for _ in 0..250 {
                    block_on(tracker.record_failure(&key, t0())).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(notes.all().len(), 1);
    assert_eq!(
        block_on(tracker.record_failure(&key, t0())).unwrap().count,
        2001
    );
}

struct Failing;
impl Notifier for Failing {
    async fn notify(&self, _: &Notification) -> Result<(), NotifyError> {
        Err(NotifyError::Delivery {
            reason: "smtp down".into(),
        })
    }
}

#[test]
fn notifier_failure_is_reported_and_the_notification_kept() {
    let tracker = Tracker::new(MemoryStore::default()).with_notifier(Failing);
    let key = Subject::api_key("pk_y");
    let outs: Vec<_> = (0..20)
        .map(|_| block_on(tracker.record_failure(&key, t0())).unwrap())
        .collect();
    let crossing = &outs[19];
    assert!(crossing.notification.is_some());
    assert!(matches!(
        crossing.notify_error,
        Some(NotifyError::Delivery { .. })
    ));
    assert!(outs[..19].iter().all(|o| o.notify_error.is_none()));
}

#[test]
fn unlock_token_of_another_subject_is_rejected() {
    let policies = Policies::default().with(
        SubjectKind::Account,
        rampart_attempts::Policy::notify_only(20)
            .with_lockout(rampart_attempts::Lockout::until_unlocked(3)),
    );
    let tracker = Tracker::new(MemoryStore::default())
        .with_policies(policies)
        .unwrap();
    let (a, b) = (Subject::account("a"), Subject::account("b"));
    let mut tokens = Vec::new();
    for s in [&a, &b] {
        for _ in 0..3 {
            if let Some(t) = block_on(tracker.record_failure(s, t0()))
                .unwrap()
                .unlock_token
            {
                tokens.push(t);
            }
        }
    }
    assert_eq!(tokens.len(), 2);
    assert!(!block_on(tracker.unlock(&a, &tokens[1])).unwrap());
    assert!(block_on(tracker.unlock(&a, &tokens[0])).unwrap());
    assert!(matches!(
        block_on(tracker.check(&b, t0())).unwrap(),
        Decision::Locked { .. }
    ));
}

#[test]
fn malformed_unlock_token_is_a_typed_error() {
    assert!(matches!(
        UnlockToken::parse("not a token"),
        Err(Error::MalformedUnlockToken)
    ));
}

#[test]
fn idle_streak_expires_for_the_memory_store_purge() {
    let store = MemoryStore::new(MemoryConfig::default().with_capacity(1000));
    let tracker = Tracker::new(store);
    block_on(tracker.record_failure(&Subject::account("z"), t0())).unwrap();
    assert_eq!(
        tracker
            .store()
            .purge_expired(t0() + Duration::from_secs(60)),
        0
    );
    assert_eq!(
        tracker
            .store()
            .purge_expired(t0() + Duration::from_secs(24 * 3600)),
        1
    );
    assert!(tracker.store().is_empty());
}

#[test]
fn after_a_saturating_flood_a_new_victim_is_still_tracked_and_throttled() {
    let store = MemoryStore::new(MemoryConfig::default().with_capacity(64).with_shards(1));
    let tracker = Tracker::new(store);
    let flood_ip = "203.0.113.77".parse().unwrap();
    let mut now = t0();
    // The attacker brings 200 fresh (account, IP) pairs to the protection level (5
    // failures each): about 15 x capacity failures, enough to fill the store.
    for i in 0..200 {
        let s = Subject::account_from_ip(format!("flood{i}"), flood_ip);
        for _ in 0..5 {
            now += Duration::from_millis(1);
            block_on(tracker.record_failure(&s, now)).unwrap();
        }
    }
    assert!(tracker.store().stats().evicted_protected > 0, "saturated");
    // Then guesses at a new victim, still flooding two fresh subjects per guess.
    let victim = Subject::account_from_ip("victim", "198.51.100.20".parse().unwrap());
    let mut fresh = 0;
    for i in 1..=6u32 {
        now += Duration::from_millis(1);
        let out = block_on(tracker.record_failure(&victim, now)).unwrap();
        assert_eq!(out.count, i, "the new victim is tracked");
        for _ in 0..2 {
            fresh += 1;
            let s = Subject::account_from_ip(format!("fresh{fresh}"), flood_ip);
            block_on(tracker.record_failure(&s, now)).unwrap();
        }
    }
    assert_eq!(
        block_on(tracker.check(&victim, now)).unwrap(),
        Decision::RetryAfter(Duration::from_secs(1)),
        "5 free attempts, then throttled"
    );
    assert!(tracker.store().len() <= 64);
}

#[test]
fn a_huge_subject_id_gives_a_bounded_notification() {
    let tracker = Tracker::new(MemoryStore::default());
    let key = Subject::api_key("x".repeat(100_000));
    let mut note = None;
    for _ in 0..20 {
        note = note.or(block_on(tracker.record_failure(&key, t0()))
            .unwrap()
            .notification);
    }
    let n = note.expect("the 20th failure notifies");
    assert!(n.subject.id_is_digest());
    assert!(
        n.idempotency_key.len() <= rampart_attempts::MAX_SUBJECT_ID_LEN,
        "{}",
        n.idempotency_key
    );
    assert_eq!(n.subject, Subject::api_key("x".repeat(100_000)));
}

#[test]
fn check_all_gives_the_most_restrictive_decision() {
    let tracker = Tracker::new(MemoryStore::default())
        .with_policies(common::check_all_policies())
        .unwrap();
    block_on(common::check_all_scenario(&tracker, "mem"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store_passes_the_shared_replica_race() {
    // One process, two trackers over one store: the same race the shared stores run.
    let store = Arc::new(MemoryStore::default());
    common::suite::replicas_notify_exactly_once(Arc::clone(&store), store, "mem").await;
}
