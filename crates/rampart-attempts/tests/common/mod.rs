//! Shared test helpers: a real redis-server on a unix socket, a collecting notifier, and
//! the behaviour scenarios every store must pass.
#![allow(dead_code, unreachable_pub, unused_imports)]

#[cfg(any(feature = "postgres", feature = "sqlite"))]
pub mod sql;
pub mod suite;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rampart_attempts::{
    Backoff, Decision, Lockout, Notification, Notifier, NotifyError, Policies, Policy, Store,
    Subject, SubjectKind, Tracker,
};

pub use rampart_testkit::RedisServer;
pub use rampart_testkit::block_on_ready as block_on;

/// A fixed test clock origin: 2026-01-01T00:00:00Z.
pub fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_767_225_600)
}

/// Records every notification it is given.
#[derive(Clone, Default)]
pub struct Collect(pub Arc<Mutex<Vec<Notification>>>);

impl Collect {
    pub fn all(&self) -> Vec<Notification> {
        self.0.lock().unwrap().clone()
    }
}

impl Notifier for Collect {
    async fn notify(&self, n: &Notification) -> Result<(), NotifyError> {
        self.0.lock().unwrap().push(n.clone());
        Ok(())
    }
}

/// A plain connection to `server` (to inspect keys).
#[cfg(feature = "redis")]
pub fn connection(server: &RedisServer) -> redis::Connection {
    redis::Client::open(server.url())
        .unwrap()
        .get_connection()
        .unwrap()
}

/// Policies used by the scenarios: everything on, small numbers.
pub fn scenario_policies() -> Policies {
    let backoff = Backoff::new(2, Duration::from_secs(1), Duration::from_secs(8));
    Policies::default()
        .with(SubjectKind::ApiKey, Policy::notify_only(20))
        .with(
            SubjectKind::Account,
            Policy::notify_only(5)
                .with_backoff(backoff)
                .with_lockout(Lockout::until_unlocked(6))
                .with_idle_expiry(Duration::from_secs(600)),
        )
        .with(
            SubjectKind::AccountIp,
            Policy::throttle(backoff)
                .with_lockout(Lockout::for_duration(4, Duration::from_secs(30))),
        )
}

/// The behaviour every store must show, through the public API. `tag` keeps subjects of
/// different runs apart when they share a store.
///
/// `drained` says whether the store's background resets have landed (always true for the
/// memory store).
pub async fn scenarios<S: Store>(store: S, tag: &str, drained: impl Fn(&S) -> bool) {
    let notes = Collect::default();
    let tracker = Tracker::new(store)
        .with_notifier(notes.clone())
        .with_policies(scenario_policies())
        .unwrap();
    let now = t0();
    let at = |s: u64| now + Duration::from_secs(s);

    // Public key: notify-only, exactly one notification at 20, never blocks.
    let key = Subject::api_key(format!("pk_{tag}"));
    for i in 1..=25u32 {
        let out = tracker
            .record_failure(&key, at(u64::from(i)))
            .await
            .unwrap();
        assert_eq!(out.count, i);
        assert_eq!(out.notification.is_some(), i == 20, "failure {i}");
        assert!(out.retry_after.is_none() && !out.locked);
    }
    assert_eq!(tracker.check(&key, at(26)).await.unwrap(), Decision::Allow);
    let n = notes.all();
    assert_eq!(n.len(), 1);
    assert_eq!((n[0].count, &n[0].subject), (20, &key));
    assert_eq!(n[0].first_failure, at(1));
    assert_eq!(n[0].last_failure, at(20));
    assert_eq!(
        n[0].idempotency_key,
        format!("k:pk_{tag}@{}", (1_767_225_600u64 + 1) * 1000)
    );

    // Success resets; a fresh streak starts from one.
    tracker.record_success(&key, at(30)).await;
    settle(|| drained(tracker.store())).await;
    assert_eq!(tracker.record_failure(&key, at(31)).await.unwrap().count, 1);

    // Account: backoff after 2 free attempts, doubling; notify at 5; lock at 6.
    let acct = Subject::account(format!("ann_{tag}"));
    let mut delays = Vec::new();
    for i in 0..5u64 {
        let out = tracker
            .record_failure(&acct, at(100 + i * 100))
            .await
            .unwrap();
        delays.push(out.retry_after.map(|d| d.as_secs()));
    }
    assert_eq!(delays, [None, None, Some(1), Some(2), Some(4)]);
    assert_eq!(
        tracker.check(&acct, at(501)).await.unwrap(),
        Decision::RetryAfter(Duration::from_secs(3))
    );
    assert_eq!(
        tracker.check(&acct, at(504)).await.unwrap(),
        Decision::Allow
    );
    assert_eq!(notes.all().len(), 2, "the account's 5th failure notified");
    let locking = tracker.record_failure(&acct, at(600)).await.unwrap();
    assert!(locking.locked);
    let token = locking
        .unlock_token
        .expect("the locking failure issues a token");
    assert_eq!(
        tracker.check(&acct, at(1100)).await.unwrap(),
        Decision::Locked { until: None }
    );
    // A success does not lift a lock.
    tracker.record_success(&acct, at(601)).await;
    settle(|| drained(tracker.store())).await;
    assert!(matches!(
        tracker.check(&acct, at(602)).await.unwrap(),
        Decision::Locked { .. }
    ));
    // A wrong token does nothing; the right one works once.
    let wrong = rampart_attempts::UnlockToken::parse(&"A".repeat(43)).unwrap();
    assert!(!tracker.unlock(&acct, &wrong).await.unwrap());
    assert!(tracker.unlock(&acct, &token).await.unwrap());
    assert!(
        !tracker.unlock(&acct, &token).await.unwrap(),
        "tokens are single use"
    );
    assert_eq!(
        tracker.check(&acct, at(603)).await.unwrap(),
        Decision::Allow
    );
    assert_eq!(
        tracker.record_failure(&acct, at(604)).await.unwrap().count,
        1
    );

    // Account+IP: timed lockout at 4 for 30 s, relocks on the next failure after it ends.
    let pair = Subject::account_from_ip(format!("bob_{tag}"), "198.51.100.4".parse().unwrap());
    for i in 0..3 {
        assert!(
            !tracker
                .record_failure(&pair, at(1000 + i))
                .await
                .unwrap()
                .locked
        );
    }
    let out = tracker.record_failure(&pair, at(1003)).await.unwrap();
    assert!(out.locked && out.unlock_token.is_some());
    assert_eq!(
        tracker.check(&pair, at(1010)).await.unwrap(),
        Decision::Locked {
            until: Some(at(1033))
        }
    );
    // After the lock ends, the backoff of the streak still applies (count 4: 4 s after 1003).
    assert_eq!(
        tracker.check(&pair, at(1034)).await.unwrap(),
        Decision::Allow
    );
    assert!(
        tracker
            .record_failure(&pair, at(1040))
            .await
            .unwrap()
            .locked
    );

    // Idle expiry: the account+IP streak (idle 1 h default for throttle) is gone after it.
    let later = at(1040 + 3600);
    assert_eq!(tracker.check(&pair, later).await.unwrap(), Decision::Allow);
    assert_eq!(tracker.record_failure(&pair, later).await.unwrap().count, 1);

    // A late reset never erases a newer failure.
    let ip = Subject::ip("192.0.2.99".parse().unwrap());
    tracker.record_failure(&ip, at(5000)).await.unwrap();
    tracker.record_success(&ip, at(4999)).await;
    settle(|| drained(tracker.store())).await;
    assert_eq!(
        tracker.record_failure(&ip, at(5001)).await.unwrap().count,
        2
    );
}

/// Waits (bounded, 10 s) until the background resets have landed.
pub async fn settle(drained: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !drained() {
        assert!(Instant::now() < deadline, "background resets did not land");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Policies for `check_all`: a locking account, a throttled (account, IP) pair and IP.
pub fn check_all_policies() -> Policies {
    let backoff = Backoff::new(2, Duration::from_secs(1), Duration::from_secs(60));
    Policies::default()
        .with(
            SubjectKind::Account,
            Policy::notify_only(20).with_lockout(Lockout::until_unlocked(4)),
        )
        .with(SubjectKind::AccountIp, Policy::throttle(backoff))
        .with(SubjectKind::Ip, Policy::throttle(backoff))
}

/// `check_all` gives the most restrictive of the per-subject decisions, through any store.
pub async fn check_all_scenario<S: Store>(tracker: &Tracker<S>, tag: &str) {
    let now = t0();
    let ip = "192.0.2.77".parse().unwrap();
    let acct = Subject::account(format!("lee_{tag}"));
    let pair = Subject::account_from_ip(format!("lee_{tag}"), ip);
    let by_ip = Subject::ip(ip);
    let key = Subject::api_key(format!("pk_{tag}")); // notify-only: never blocks
    let all = [&by_ip, &pair, &acct, &key];
    assert_eq!(tracker.check_all(&all, now).await.unwrap(), Decision::Allow);
    assert_eq!(tracker.check_all(&[], now).await.unwrap(), Decision::Allow);
    for _ in 0..4 {
        tracker.record_failure(&pair, now).await.unwrap();
    }
    tracker.record_failure(&by_ip, now).await.unwrap();
    // pair: 4 failures, 2 free -> 2 s; ip: 1 failure -> free.
    let each: Vec<Decision> = {
        let mut v = Vec::new();
        for s in all {
            v.push(tracker.check(s, now).await.unwrap());
        }
        v
    };
    assert_eq!(
        each,
        [
            Decision::Allow,
            Decision::RetryAfter(Duration::from_secs(2)),
            Decision::Allow,
            Decision::Allow
        ]
    );
    assert_eq!(
        tracker.check_all(&all, now).await.unwrap(),
        Decision::RetryAfter(Duration::from_secs(2))
    );
    let mut token = None;
    for _ in 0..4 {
        token = token.or(tracker
            .record_failure(&acct, now)
            .await
            .unwrap()
            .unlock_token);
    }
    assert_eq!(
        tracker.check_all(&all, now).await.unwrap(),
        Decision::Locked { until: None },
        "a lock outranks a delay"
    );
    assert!(tracker.unlock(&acct, &token.unwrap()).await.unwrap());
    assert_eq!(
        tracker.check_all(&all, now).await.unwrap(),
        Decision::RetryAfter(Duration::from_secs(2))
    );
    assert_eq!(
        tracker.check_all(&[&key], now).await.unwrap(),
        Decision::Allow
    );
}
