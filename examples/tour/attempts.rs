//! Tour stop: rampart-attempts.

use std::error::Error;
use std::time::{Duration, SystemTime};

use rampart::attempts::{
    Decision, FnNotifier, Lockout, MemoryStore, Notification, Policies, Policy, Subject,
    SubjectKind, Tracker,
};

fn tell_owner(n: &Notification) {
    println!(
        "   notification: {} failed {} times in a row (once per streak)",
        n.subject, n.count
    );
}

pub(crate) async fn run() -> Result<(), Box<dyn Error>> {
    println!("== rampart-attempts: failed-attempt counting, notification, backoff, lockout");
    let policies = Policies::default().with(
        SubjectKind::Account,
        Policy::notify_only(20).with_lockout(Lockout::until_unlocked(30)),
    );
    let tracker = Tracker::new(MemoryStore::default())
        .with_notifier(FnNotifier(tell_owner))
        .with_policies(policies)?;
    let mut now = SystemTime::now();

    // A public API key: anyone can fail against it, so by default it is never blocked,
    // only its owner notified (OWASP: lockout can be abused for denial of service).
    let key = Subject::api_key("pk_live_0123456789ABCDEF");
    println!("   25 wrong secrets against {key}:");
    for _ in 0..25 {
        tracker.record_failure(&key, now).await?;
    }
    println!(
        "   check({key}) -> {} (notify-only by default)",
        decision(tracker.check(&key, now).await?)
    );

    // The attacker's (key, IP) pair is throttled: 5 free attempts, then 1 s, 2 s, 4 s...
    let pair = Subject::api_key_from_ip("pk_live_0123456789ABCDEF", "203.0.113.66".parse()?);
    let mut delays = Vec::new();
    for _ in 0..9 {
        let o = tracker.record_failure(&pair, now).await?;
        delays.push(
            o.retry_after
                .map_or("0s".to_owned(), |d| format!("{}s", d.as_secs())),
        );
    }
    println!("   {pair}: delays after each failure {}", delays.join(", "));
    println!(
        "   check now -> {}",
        decision(tracker.check(&pair, now).await?)
    );
    now += Duration::from_secs(16);
    println!(
        "   check 16 s later -> {}",
        decision(tracker.check(&pair, now).await?)
    );

    // An account with a hard lockout after 30: the locking failure issues an unlock token.
    let account = Subject::account("ann@example.com");
    let mut token = None;
    for _ in 0..30 {
        let out = tracker.record_failure(&account, now).await?;
        token = token.or(out.unlock_token);
    }
    let token = token.ok_or("lockout issued no token")?;
    println!(
        "   {account} after 30 failures -> {}",
        decision(tracker.check(&account, now).await?)
    );
    println!(
        "   unlock with the emailed token -> {}",
        tracker.unlock(&account, &token).await?
    );
    println!(
        "   the same token again -> {} (single use)",
        tracker.unlock(&account, &token).await?
    );
    assert_eq!(tracker.check(&account, now).await?, Decision::Allow);
    tracker.record_success(&account, now).await;
    println!(
        "   a success ends the streak; shared counts across replicas: RedisStore (feature redis)"
    );
    Ok(())
}

/// A tracker's decision, in words.
fn decision(d: Decision) -> String {
    match d {
        Decision::Allow => "allowed".to_owned(),
        Decision::RetryAfter(wait) => format!("refused, retry after {} s", wait.as_secs()),
        Decision::Locked { until: Some(_) } => "locked for a while".to_owned(),
        Decision::Locked { until: None } => "locked until unlocked with the token".to_owned(),
        _ => "refused".to_owned(),
    }
}
