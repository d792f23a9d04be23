//! Brute force against one API key, and what rampart-attempts does about it.
//!
//! An attacker who has seen a customer's public key (`rk_live_...`, it appears in logs and
//! support tickets) tries 25 wrong secrets from one IP: well-formed keys with valid checksums
//! (the format is public), so each reaches the HMAC comparison. Every rampart-apikey failure names
//! the public id it concerns, so the service counts it against three subjects: the key
//! (owner notified at 20, never locked: strangers must not be able to switch a customer's
//! key off), the (key, IP) pair and the IP (both throttled with growing delays; here the
//! pair also locks after 25 and issues an unlock token). The owner, calling from elsewhere,
//! is never slowed down; after unlocking, the right secret works from the attacker's
//! address too (think: the attack came from a compromised machine behind the owner's NAT).
//!
//! `cargo run -p rampart --no-default-features --features apikey,attempts --example brute_force`
//!
//! With `--sqlite PATH` the streaks live in a SQLite file (created if missing; no server to
//! run), as a single-machine service would keep them across restarts:
//!
//! `cargo run -p rampart --no-default-features --features apikey,sqlite --example brute_force -- --sqlite /tmp/attempts.db`

use std::error::Error;
use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use rampart::apikey::{
    ApiKeys, HashingKey, InMemoryStore, KeyOptions, KeyPrefix, Keyset, ParsedApiKey,
};
use rampart::attempts::{
    Backoff, Decision, FnNotifier, Lockout, MemoryStore, Notification, Policies, Policy, Store,
    Subject, SubjectKind, Tracker, UnlockToken,
};

type Service<S> = Tracker<S, FnNotifier<fn(&Notification)>>;

/// The owner's notification (a real service uses `SmtpNotifier`, feature `smtp`).
fn email_owner(n: &Notification) {
    let since = OffsetDateTime::from(n.first_failure)
        .format(&Rfc3339)
        .unwrap_or_default();
    println!(
        "   >>> EMAIL to the owner of {}: {} consecutive failed attempts since {since} \
         (idempotency key {})",
        n.subject, n.count, n.idempotency_key
    );
}

/// The public id a presented secret names, even when the secret is wrong or mistyped.
fn public_id_of(secret: &str) -> Option<String> {
    match ParsedApiKey::parse(secret) {
        Ok(parsed) => Some(parsed.public_id().to_string()),
        Err(e) => e.public_id().map(|id| id.to_string()),
    }
}

/// What the handler answered (an HTTP status line), and what it learnt.
#[derive(Default)]
struct Reply {
    line: String,
    /// How long the client must wait before its next try (a 429's Retry-After, or the delay
    /// a 401 started).
    retry_after: Option<Duration>,
    /// Set when this failure locked the (key, IP) pair: goes to the owner, not the client.
    unlock_token: Option<UnlockToken>,
}

/// A request handler: throttle check, key check, then count the outcome.
async fn handle<S: Store>(
    keys: &ApiKeys,
    store: &InMemoryStore,
    tracker: &Service<S>,
    secret: &str,
    ip: IpAddr,
    now: SystemTime,
) -> Result<Reply, Box<dyn Error>> {
    let mut subjects = vec![Subject::ip(ip)];
    if let Some(id) = public_id_of(secret) {
        subjects.push(Subject::api_key_from_ip(id.clone(), ip));
        subjects.push(Subject::api_key(id)); // notify-only: its check never refuses
    }
    // All subjects in one store round trip; the most restrictive answer wins.
    let refs: Vec<&Subject> = subjects.iter().collect();
    match tracker.check_all(&refs, now).await? {
        Decision::Allow => {}
        Decision::RetryAfter(d) => {
            return Ok(Reply {
                line: format!("429, Retry-After: {}", ceil_secs(d)),
                retry_after: Some(d),
                ..Reply::default()
            });
        }
        Decision::Locked { .. } => {
            return Ok(Reply {
                line: "423 locked".to_owned(),
                ..Reply::default()
            });
        }
        _ => {
            return Ok(Reply {
                line: "429".to_owned(),
                ..Reply::default()
            });
        }
    }
    match keys.check(store, secret, &["orders:read"], now) {
        Ok(who) => {
            for s in &subjects {
                tracker.record_success(s, now).await;
            }
            Ok(Reply {
                line: format!("200 OK for {}", who.public_id()),
                ..Reply::default()
            })
        }
        Err(e) if e.is_credential_failure() => {
            let mut reply = Reply {
                line: format!("401 ({e})"),
                ..Reply::default()
            };
            for s in &subjects {
                let out = tracker.record_failure(s, now).await?;
                if s.kind() == SubjectKind::ApiKey {
                    reply.line.push_str(&format!(" [key streak {}]", out.count));
                }
                if s.kind() == SubjectKind::ApiKeyIp {
                    if let Some(d) = out.retry_after {
                        let note = format!(" [next try from this IP in {}s]", ceil_secs(d));
                        reply.line.push_str(&note);
                        reply.retry_after = Some(d);
                    }
                    if out.unlock_token.is_some() {
                        reply
                            .line
                            .push_str(" [key+IP locked; unlock token sent to the owner]");
                        reply.unlock_token = out.unlock_token;
                    }
                }
            }
            Ok(reply)
        }
        Err(e) => Ok(Reply {
            line: format!("503 ({e})"),
            ..Reply::default()
        }),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => run(MemoryStore::default()).await,
        [flag, path] if flag == "--sqlite" => run_on_sqlite(path).await,
        _ => Err("usage: brute_force [--sqlite PATH]".into()),
    }
}

#[cfg(feature = "sqlite")]
async fn run_on_sqlite(path: &str) -> Result<(), Box<dyn Error>> {
    use rampart::attempts::{SqlConfig, SqliteStore};
    println!("streaks in the SQLite file {path}\n");
    let store = SqliteStore::open(path, SqlConfig::default()).await?;
    run(store.clone()).await?;
    // The last successes' resets go to the file in the background: wait for them before
    // the process ends, or the next run would find this run's IP streak still open.
    store.flush().await?;
    Ok(())
}

#[cfg(not(feature = "sqlite"))]
async fn run_on_sqlite(_path: &str) -> Result<(), Box<dyn Error>> {
    Err("--sqlite needs the `sqlite` feature: add `--features sqlite`".into())
}

async fn run<S: Store>(attempts_store: S) -> Result<(), Box<dyn Error>> {
    let keys = ApiKeys::new(
        KeyPrefix::new("rk", "live")?,
        Keyset::new(1, HashingKey::generate()?),
    );
    let store = InMemoryStore::new();
    let mut now = SystemTime::now();
    let issued = keys.issue(KeyOptions::new().with_scopes(["orders:read"]), now)?;
    store.insert(issued.record)?;
    let secret = issued.secret_key;
    let public = issued.public_key.to_string();
    println!("customer's public key: {public} (public: it is in their logs)\n");

    // Defaults, except that the (key, IP) pair also locks after 25 failures.
    let pair_policy = Policy::throttle(Backoff::new(
        5,
        Duration::from_secs(1),
        Duration::from_secs(900),
    ))
    .with_lockout(Lockout::until_unlocked(25));
    let policies = Policies::default().with(SubjectKind::ApiKeyIp, pair_policy);
    let tracker: Service<S> = Tracker::new(attempts_store)
        .with_notifier(FnNotifier(email_owner as fn(&Notification)))
        .with_policies(policies)?;

    let attacker: IpAddr = "203.0.113.66".parse()?;
    let owner_ip: IpAddr = "198.51.100.7".parse()?;
    println!("attacker at {attacker} tries 25 wrong secrets, waiting as told between tries:");
    let mut owners_mailbox = None;
    for attempt in 1..=25 {
        // A guess: the right public id, 32 guessed characters and a valid checksum, so it
        // passes parsing and reaches the HMAC comparison, as a real attacker's would.
        let guess = well_formed_guess(&public, attempt);
        assert!(
            ParsedApiKey::parse(&guess).is_ok(),
            "the guess is well formed"
        );
        let reply = handle(&keys, &store, &tracker, &guess, attacker, now).await?;
        println!("   try {attempt:>2}: {}", reply.line);
        assert!(
            reply.line.contains("secret does not match"),
            "a checked guess fails the HMAC comparison, not the checksum: {}",
            reply.line
        );
        owners_mailbox = owners_mailbox.or(reply.unlock_token);
        if attempt == 10 {
            let early = handle(&keys, &store, &tracker, &guess, attacker, now).await?;
            println!(
                "   impatient retry at once: {} (no key check done)",
                early.line
            );
        }
        // The attacker waits exactly as long as told (or 100 ms when not slowed down).
        now += reply.retry_after.unwrap_or(Duration::from_millis(100));
    }

    println!("\nmeanwhile the owner, from {owner_ip}, is not slowed down at all:");
    let owner = handle(
        &keys,
        &store,
        &tracker,
        secret.expose_secret(),
        owner_ip,
        now,
    )
    .await?;
    println!("   {}", owner.line);
    assert!(owner.line.starts_with("200"), "{}", owner.line);

    println!("\nfrom the attacker's address, even the right secret is refused while locked:");
    let locked = handle(
        &keys,
        &store,
        &tracker,
        secret.expose_secret(),
        attacker,
        now,
    )
    .await?;
    println!("   {}", locked.line);
    assert!(locked.line.starts_with("423"), "{}", locked.line);

    let token = owners_mailbox.ok_or("no unlock token was issued")?;
    let pair = Subject::api_key_from_ip(issued.public_key.public_id().to_string(), attacker);
    let forged = UnlockToken::parse(&"A".repeat(43))?;
    let with_forged = tracker.unlock(&pair, &forged).await?;
    println!("\nunlock with a forged token: {with_forged}");
    let with_token = tracker.unlock(&pair, &token).await?;
    println!("unlock with the owner's token: {with_token}");
    let again = tracker.unlock(&pair, &token).await?;
    println!("the same token again (single use): {again}");
    assert!(!with_forged && with_token && !again);
    let after = handle(
        &keys,
        &store,
        &tracker,
        secret.expose_secret(),
        attacker,
        now,
    )
    .await?;
    println!("   {}", after.line);
    assert!(after.line.starts_with("200"), "{}", after.line);
    Ok(())
}

/// HTTP's Retry-After is in whole seconds: round up, never invite an early retry.
fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// An attacker's guess at the secret of `public` (`rk_live_<id>`): 32 guessed base62
/// characters (deterministic for a readable run) and the checksum anyone can compute, the
/// CRC32 of everything before it in six base62 digits (the format is public, as GitHub's).
fn well_formed_guess(public: &str, n: u32) -> String {
    let mut key = format!("{public}_");
    key.extend((0..32u32).map(|i| char::from(BASE62[((n * 7919 + i * 104_729) % 62) as usize])));
    let mut sum = crc32fast::hash(key.as_bytes());
    let mut digits = [b'0'; 6];
    for d in digits.iter_mut().rev() {
        *d = BASE62[(sum % 62) as usize];
        sum /= 62;
    }
    key.extend(digits.iter().map(|&d| char::from(d)));
    key
}
