//! The Redis store (feature `redis`): streaks shared by every replica of a service.
//!
//! # Atomicity
//!
//! Recording a failure (with the unlock-token hash of the lock it may start), reading a
//! streak (or the streaks of all the subjects of one request, for
//! [`Tracker::check_all`](crate::Tracker::check_all)), ending it after a success and using an
//! unlock token are each one Lua script (`src/redis_store/*.lua`, sent with `EVALSHA`, loaded
//! again automatically after `NOSCRIPT`, e.g. when Redis restarted). A script runs alone on
//! the server, so when many replicas record failures for one subject at the same moment,
//! exactly one of them sees the count reach the threshold and sends the notification.
//! An unlock reads the stored token hash, compares it in constant time here, then deletes the
//! streak with a compare-and-delete script, so a token works once even when two requests
//! race. Keys are `<prefix><kind>:<ip>|<id>` hashes (fields `c f l n u t`) that expire after
//! the policy's idle period (`PEXPIRE`).
//!
//! # The success path does not wait on Redis
//!
//! [`Tracker::record_success`](crate::Tracker::record_success) returns at once: the reset is
//! queued to a background task that pipelines queued resets in one round trip. A replica
//! skips the reset when it knows there is no streak: it read a count of zero in the same
//! request's `check`, or sent a reset itself, less than [`RedisConfig::with_hint_ttl`] ago
//! (default 2 s), with no failure recorded since. The consistency this gives:
//!
//! - a success ends every failure recorded by this replica before it, and every failure
//!   recorded by any replica more than `hint_ttl` before it (once the queued reset lands,
//!   normally within a millisecond);
//! - a failure recorded by another replica less than `hint_ttl` before a success may survive
//!   that success (the next success after the window ends it). For a streak to reach the
//!   notify threshold this way, an attacker would have to interleave with the owner's
//!   successes within the window, and the cost is at most an early notification;
//! - a reset carries the success time and never erases a failure recorded after it, even if
//!   it arrives late (the scripts compare timestamps; replicas' clocks should agree within
//!   the backoff delays, as with NTP);
//! - if the queue is full (a burst larger than [`RedisConfig::with_reset_queue`]) the reset is
//!   dropped and counted in [`Health::resets_dropped`].
//!
//! # When Redis is unreachable
//!
//! Every call has a timeout ([`RedisConfig::with_timeout`], default 250 ms). A connection error
//! (a restarted or failed-over server met on a connection that was open before) is retried
//! once on a fresh connection within that deadline, and only then counts: a replica that was
//! idle while Redis restarted keeps counting in Redis ([`Health::reconnect_retries`]). On an
//! error or a timeout the store reports the outage ([`RedisStore::health`]: `available`,
//! `down_since`; and the hook of [`RedisConfig::with_on_health_change`]) and, by default
//! ([`FailureMode::FailOpen`]), answers from a per-replica [`MemoryStore`]: a Redis outage
//! does not become a login outage. While Redis is down, calls go straight to the fallback
//! and one call per [`RedisConfig::with_probe_interval`] (default 1 s) tries Redis again;
//! [`RedisStore::ping`] probes at once (a readiness check ends an outage as soon as Redis
//! answers). With [`FailureMode::FailClosed`] the tracker's calls return
//! [`StoreError::Unavailable`] instead, and the caller denies. Nothing here panics.
//!
//! # After an outage: the merge
//!
//! What the fallback answered is also kept for Redis, per subject: the failures (how many,
//! the first and last, whether the fallback notified, a lock it started and its token's
//! hash), and the successes whose reset did not reach Redis. When Redis answers again, a
//! background task (the request does not wait; [`RedisStore::ping`] does) writes them, one
//! script per 128 subjects (`src/redis_store/merge.lua`): first a success, with the rule of
//! a reset; then the failures, added to the streak Redis holds if it was still live at the
//! first of them (else they start one); a lock the fallback started holds in Redis unless
//! Redis has its own. The outage ends once that is written ([`HealthEvent::Recovered`] says
//! how many failures were merged; [`Health::merged_failures`] adds them up). A failure the
//! fallback answered while the merge ran is merged by a later call that reaches Redis
//! ([`Health::merge_pending`] counts what waits).
//!
//! What this guarantees:
//!
//! - **A merge counts nothing twice.** Each kept item has an id, and the script applies an
//!   id once (it leaves a marker key `<prefix>m:<store>:<id>` that expires with the idle
//!   period). An item never changes once sent, so a merge call that timed out, and may have
//!   run, is kept and sent again as it was: the second run only reads the first's answer.
//!   The fallback forgets what was merged, so a later outage starts from zero.
//! - **The count in Redis after the merges is the sum** of what Redis counted and what each
//!   replica's fallback counted, less what successes ended (with the rule of a reset: never
//!   a later failure, never a lock), and less failures whose streak expired meanwhile.
//! - **The owner hears of a streak once across the merge.** Whichever comes first claims the
//!   streak's notification in Redis, atomically: the failure that crosses the threshold in
//!   Redis, as always; or the merge that crosses it (the store then owes the notification,
//!   and the tracker's next call, for any subject, sends it to its notifier; it is in no
//!   [`FailureOutcome`](crate::FailureOutcome), the request at hand did not cross); or the
//!   fallback that crossed it during the outage (the merge marks the Redis streak notified,
//!   so it does not cross again).
//!
//! What does not hold while Redis is down:
//!
//! - Counts are per replica: each fallback throttles, locks and notifies from its own part
//!   of the streak. A streak spread over replicas is throttled late, and notified during the
//!   outage only by a replica whose part alone reaches the threshold; if two replicas' parts
//!   each reach it, or one replica's part does while Redis, still reachable for others (a
//!   partition rather than a restart), crosses it too, the owner is told more than once
//!   (with different idempotency keys: the parts start at different times).
//! - A merged count past the lockout threshold locks on the next failure, which issues the
//!   unlock token as usual, not at the merge. When both sides locked, the Redis lock and its
//!   token stand, and the token the fallback issued no longer works.
//! - Redis without persistence loses its streaks when it restarts: only what the fallbacks
//!   counted during the outage comes back. A Redis holding security state should persist
//!   (`appendfsync always`) or fail over to a replica.
//! - A call that timed out may still run on Redis later (a frozen server runs what it had
//!   queued when it thaws), so a failure answered by the fallback can be counted in Redis
//!   too: counts err towards more failures, never fewer.
//! - What is kept for the merge is bounded like the fallback (its capacity, in subjects);
//!   past it a new subject is counted only by the fallback ([`Health::merge_dropped`]), as
//!   are items a working Redis refused in 8 merge calls (a poisoned key must not hold every
//!   recovery back).
//! - The merge's "now" is the latest time a caller passed: callers' clocks, as everywhere.

mod merge;
mod pending;

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{RedisResult, Script};
use ring::digest;
use ring::rand::{SecureRandom, SystemRandom};
use tokio::sync::mpsc;

use crate::error::{Error, StoreError};
use crate::memory::{MemoryConfig, MemoryStore};
use crate::policy::Rule;
use crate::store::{Store, sealed::Backend};
use crate::streak::{LOCKED_UNTIL_UNLOCKED, Owed, Recorded, Streak};
use crate::subject::Subject;
use crate::token::TokenHash;
use merge::OwedQueue;
use pending::Pending;

/// Longest subject key stored verbatim; longer ones are stored as their SHA-256, so a huge
/// id cannot make huge Redis keys.
const MAX_VERBATIM_KEY: usize = 256;
/// Resets sent in one pipelined round trip at most.
const RESET_BATCH: usize = 256;

/// What the store does when Redis is unreachable or slow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum FailureMode {
    /// Answer from a per-replica in-memory store (the default: an outage of Redis must not
    /// become an outage of logins).
    #[default]
    FailOpen,
    /// Return [`StoreError::Unavailable`]; the caller denies the attempt.
    FailClosed,
}

/// A change of the store's health, given to the hook of [`RedisConfig::with_on_health_change`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HealthEvent {
    /// Redis stopped answering (error or timeout).
    Unavailable {
        /// What failed (no credentials).
        error: String,
    },
    /// Redis answered again after an outage and what the fallback counted meanwhile was
    /// merged into it.
    Recovered {
        /// How long the outage lasted (until the merge was written).
        after: Duration,
        /// Failures the fallback had counted that the merge added to Redis.
        merged_failures: u64,
    },
}

/// A snapshot of the store's health and counters, from [`RedisStore::health`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Health {
    /// Whether the last call to Redis succeeded (and, after an outage, the merge too).
    pub available: bool,
    /// When the current outage started (`None` while available).
    pub down_since: Option<SystemTime>,
    /// Outages seen since start.
    pub outages: u64,
    /// Calls answered by the in-memory fallback (fail-open).
    pub fallback_operations: u64,
    /// Calls refused because Redis was unavailable (fail-closed).
    pub failed_closed: u64,
    /// Resets queued for the background task.
    pub resets_queued: u64,
    /// Resets skipped because this replica knew there was no streak.
    pub resets_skipped: u64,
    /// Resets dropped because the queue was full.
    pub resets_dropped: u64,
    /// Resets in batches Redis acknowledged.
    pub resets_applied: u64,
    /// Reset batches that failed (Redis unavailable).
    pub reset_batches_failed: u64,
    /// Calls retried once on a fresh connection after their connection broke (a restarted
    /// server); each one that then succeeded was not an outage.
    pub reconnect_retries: u64,
    /// Failures counted by the fallback during outages that merges added to Redis (each
    /// once).
    pub merged_failures: u64,
    /// Subjects with failures or successes waiting for a merge into Redis.
    pub merge_pending: u64,
    /// What the fallback counted that no merge will write: subjects not kept because the
    /// pending list was full (as many as the fallback holds), and items given up after 8
    /// merge calls failed while Redis answered otherwise (say, a foreign key of another type
    /// under the prefix). Those failures stayed in this replica.
    pub merge_dropped: u64,
    /// Streaks whose notify threshold was crossed by a merge: the tracker's next call sent
    /// (or tried to send) the notification.
    pub merge_notifications: u64,
    /// Of those, notifications lost: the notifier failed, or too many were waiting.
    pub merge_notify_failed: u64,
    /// The last error seen, if any.
    pub last_error: Option<String>,
}

type HealthHook = Arc<dyn Fn(&HealthEvent) + Send + Sync>;

/// Configuration of a [`RedisStore`].
///
/// ```
/// use std::time::Duration;
/// use rampart_attempts::{FailureMode, RedisConfig};
/// let config = RedisConfig::new("redis://127.0.0.1:6379/")
///     .with_prefix("myapp:attempts:")
///     .with_timeout(Duration::from_millis(100))
///     .with_failure_mode(FailureMode::FailClosed);
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct RedisConfig {
    /// `redis://host:port/db`, `rediss://...`, or `redis+unix:///path/to/socket`.
    pub url: String,
    /// Prefix of every key (default `rampart:attempts:`).
    pub prefix: String,
    /// Deadline of each call to Redis (default 250 ms).
    pub timeout: Duration,
    /// What to do when Redis is unreachable (default fail-open).
    pub failure_mode: FailureMode,
    /// While Redis is down, how often a call tries it again (default 1 s).
    pub probe_interval: Duration,
    /// The fail-open fallback store's configuration (default capacity 100,000).
    pub fallback: MemoryConfig,
    /// Capacity of the background reset queue (default 65,536).
    pub reset_queue: usize,
    /// How long this replica trusts what it saw about a subject to skip a reset (default 2 s).
    pub hint_ttl: Duration,
    on_health: Option<HealthHook>,
}

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may carry a password: never print it.
        f.debug_struct("RedisConfig")
            .field("url", &"[REDACTED]")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("failure_mode", &self.failure_mode)
            .field("probe_interval", &self.probe_interval)
            .field("fallback", &self.fallback)
            .field("reset_queue", &self.reset_queue)
            .field("hint_ttl", &self.hint_ttl)
            .finish_non_exhaustive()
    }
}

impl RedisConfig {
    /// Defaults for the Redis server at `url`.
    pub fn new(url: impl Into<String>) -> Self {
        RedisConfig {
            url: url.into(),
            prefix: "rampart:attempts:".to_owned(),
            timeout: Duration::from_millis(250),
            failure_mode: FailureMode::FailOpen,
            probe_interval: Duration::from_secs(1),
            fallback: MemoryConfig::default().with_capacity(100_000),
            reset_queue: 65_536,
            hint_ttl: Duration::from_secs(2),
            on_health: None,
        }
    }

    /// Sets the key prefix.
    #[must_use]
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Sets the deadline of each call.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the failure mode.
    #[must_use]
    pub fn with_failure_mode(mut self, mode: FailureMode) -> Self {
        self.failure_mode = mode;
        self
    }

    /// Sets how often Redis is tried again during an outage.
    #[must_use]
    pub fn with_probe_interval(mut self, interval: Duration) -> Self {
        self.probe_interval = interval;
        self
    }

    /// Sets the fail-open fallback store's configuration.
    #[must_use]
    pub fn with_fallback(mut self, fallback: MemoryConfig) -> Self {
        self.fallback = fallback;
        self
    }

    /// Sets the capacity of the background reset queue.
    #[must_use]
    pub fn with_reset_queue(mut self, capacity: usize) -> Self {
        self.reset_queue = capacity;
        self
    }

    /// Sets how long a replica trusts its own view to skip a reset (0: never skip).
    #[must_use]
    pub fn with_hint_ttl(mut self, ttl: Duration) -> Self {
        self.hint_ttl = ttl;
        self
    }

    /// Calls `hook` on every change of health (outage, recovery), e.g. to log or raise an
    /// alert. Called on the request's task: keep it quick.
    #[must_use]
    pub fn with_on_health_change(
        mut self,
        hook: impl Fn(&HealthEvent) + Send + Sync + 'static,
    ) -> Self {
        self.on_health = Some(Arc::new(hook));
        self
    }
}

struct Scripts {
    fail: Script,
    merge: Script,
    peek: Script,
    peek_many: Script,
    reset: Script,
    get_token: Script,
    take_token: Script,
}

impl Scripts {
    fn new() -> Self {
        Scripts {
            fail: Script::new(include_str!("redis_store/fail.lua")),
            merge: Script::new(include_str!("redis_store/merge.lua")),
            peek: Script::new(include_str!("redis_store/peek.lua")),
            peek_many: Script::new(include_str!("redis_store/peek_many.lua")),
            reset: Script::new(include_str!("redis_store/reset.lua")),
            get_token: Script::new(include_str!("redis_store/get_token.lua")),
            take_token: Script::new(include_str!("redis_store/take_token.lua")),
        }
    }
}

#[derive(Default)]
struct Counters {
    outages: AtomicU64,
    fallback_operations: AtomicU64,
    failed_closed: AtomicU64,
    resets_queued: AtomicU64,
    resets_skipped: AtomicU64,
    resets_dropped: AtomicU64,
    resets_applied: AtomicU64,
    reset_batches_failed: AtomicU64,
    reconnect_retries: AtomicU64,
    merged_failures: AtomicU64,
    merge_dropped: AtomicU64,
    merge_notifications: AtomicU64,
    merge_notify_failed: AtomicU64,
}

struct Outage {
    /// When the outage started, by the monotonic clock (for its length) and the wall clock
    /// (for reports).
    down_since: Option<(Instant, SystemTime)>,
    next_probe: Instant,
    last_error: Option<String>,
}

/// Subject hash -> (a streak may exist, when it was seen in Unix ms).
type HintMap = HashMap<u64, (bool, u64)>;

/// What this replica last saw of subjects.
struct Hints {
    shards: Box<[Mutex<HintMap>]>,
    hasher: RandomState,
    ttl_ms: u64,
}

/// Hints kept per shard at most; a full shard is cleared (losing hints only costs resets).
const HINTS_PER_SHARD: usize = 4096;

impl Hints {
    fn new(ttl: Duration) -> Self {
        Hints {
            shards: (0..16).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
            ttl_ms: crate::policy::duration_ms(ttl),
        }
    }

    fn set(&self, subject: &Subject, streak: bool, at_ms: u64) {
        if self.ttl_ms == 0 {
            return;
        }
        let h = self.hasher.hash_one(subject);
        let mut shard = lock(&self.shards[(h >> 60) as usize]);
        if shard.len() >= HINTS_PER_SHARD && !shard.contains_key(&h) {
            shard.clear();
        }
        shard.insert(h, (streak, at_ms));
    }

    /// True when this replica saw, within the ttl, that `subject` has no streak.
    fn knows_no_streak(&self, subject: &Subject, now_ms: u64) -> bool {
        if self.ttl_ms == 0 {
            return false;
        }
        let h = self.hasher.hash_one(subject);
        let shard = lock(&self.shards[(h >> 60) as usize]);
        shard
            .get(&h)
            .is_some_and(|(streak, at)| !streak && now_ms.saturating_sub(*at) < self.ttl_ms)
    }
}

struct Inner {
    conn: ConnectionManager,
    scripts: Arc<Scripts>,
    prefix: String,
    timeout: Duration,
    mode: FailureMode,
    probe_interval: Duration,
    fallback: MemoryStore,
    outage: Mutex<Outage>,
    counters: Arc<Counters>,
    hints: Hints,
    resets: mpsc::Sender<(String, u64)>,
    on_health: Option<HealthHook>,
    /// What the fallback counted (and resets Redis missed), until merged.
    pending: Arc<Pending>,
    /// Notifications merges owe, for the tracker.
    owed: OwedQueue,
    /// One merge at a time.
    merge_lock: Arc<tokio::sync::Mutex<()>>,
    /// The last merge call failed: send one subject per call until one succeeds.
    merge_narrow: std::sync::atomic::AtomicBool,
    /// Latest time a caller passed (Unix ms): the merge's "now", in the callers' clock.
    clock_ms: AtomicU64,
    /// `<prefix>m:<random>:`: marker keys of merged items, unique to this store instance.
    marker_prefix: String,
    runtime: tokio::runtime::Handle,
}

/// Streaks in Redis, shared by every replica; see the [module docs](self) for atomicity,
/// the success path's consistency and the failure mode. Cheap to clone (one shared state).
///
/// Needs a Tokio runtime (the `redis` crate's async connection manager and the background
/// reset task run on it).
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.inner.prefix)
            .field("mode", &self.inner.mode)
            .field("health", &self.health())
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Connects (lazily: an unreachable Redis at start-up is an outage, handled by the
    /// failure mode, not an error) and starts the background reset task.
    ///
    /// Errors: [`StoreError::Setup`] for a malformed URL or when not called inside a Tokio
    /// runtime.
    ///
    /// ```no_run
    /// use std::time::{Duration, SystemTime};
    /// use rampart_attempts::{Decision, RedisConfig, RedisStore, Subject, Tracker};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), rampart_attempts::Error> {
    /// let config = RedisConfig::new("redis://127.0.0.1:6379/")
    ///     .with_prefix("orders-api:attempts:")
    ///     .with_timeout(Duration::from_millis(100))
    ///     .with_on_health_change(|event| eprintln!("attempts store: {event:?}"));
    /// let store = RedisStore::connect(config).await?; // Redis down is an outage, not an error
    /// let tracker = Tracker::new(store.clone());
    /// let who = Subject::ip("203.0.113.9".parse().unwrap());
    /// assert_eq!(tracker.check(&who, SystemTime::now()).await?, Decision::Allow);
    /// assert!(store.health().available, "a readiness probe would report this");
    /// # Ok(()) }
    /// ```
    pub async fn connect(config: RedisConfig) -> Result<Self, Error> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(StoreError::setup("the Redis store needs a Tokio runtime"));
        }
        let client = redis::Client::open(config.url.as_str())
            .map_err(|e| StoreError::setup_caused_by("invalid Redis URL", e))?;
        // Reconnection is driven by our own probes; the manager must not sit in long retry
        // loops inside a request (our per-call timeout bounds it anyway).
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.timeout))
            .set_response_timeout(Some(config.timeout))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(10))
            .set_max_delay(config.probe_interval);
        let conn = ConnectionManager::new_lazy_with_config(client, manager_config)
            .map_err(|e| StoreError::setup_caused_by("cannot create the connection manager", e))?;
        let (tx, rx) = mpsc::channel(config.reset_queue.max(1));
        let counters = Arc::new(Counters::default());
        let scripts = Arc::new(Scripts::new());
        // Pending operations are bounded like the fallback they come from.
        let pending = Arc::new(Pending::new(config.fallback.capacity));
        let mut tag = [0u8; 8];
        SystemRandom::new()
            .fill(&mut tag)
            .map_err(|_| StoreError::setup("the operating system's random generator failed"))?;
        // `m:` is no subject kind's tag (nor `h:`, the hashed keys'): markers live apart.
        let marker_prefix = format!("{}m:{:016x}:", config.prefix, u64::from_be_bytes(tag));
        let runtime = tokio::runtime::Handle::current();
        runtime.spawn(reset_task(
            rx,
            conn.clone(),
            Arc::clone(&scripts),
            Arc::clone(&counters),
            Arc::clone(&pending),
            config.timeout,
        ));
        let store = RedisStore {
            inner: Arc::new(Inner {
                conn,
                scripts,
                prefix: config.prefix,
                timeout: config.timeout,
                mode: config.failure_mode,
                probe_interval: config.probe_interval,
                fallback: MemoryStore::new(config.fallback),
                outage: Mutex::new(Outage {
                    down_since: None,
                    next_probe: Instant::now(),
                    last_error: None,
                }),
                counters,
                hints: Hints::new(config.hint_ttl),
                resets: tx,
                on_health: config.on_health,
                pending,
                owed: OwedQueue::default(),
                merge_lock: Arc::new(tokio::sync::Mutex::new(())),
                merge_narrow: std::sync::atomic::AtomicBool::new(false),
                clock_ms: AtomicU64::new(0),
                marker_prefix,
                runtime,
            }),
        };
        // Learn the initial health now rather than on the first request.
        store.ping().await;
        Ok(store)
    }

    /// Health and counters (outages, fallback use, resets). Never blocks on Redis.
    pub fn health(&self) -> Health {
        let c = &self.inner.counters;
        let outage = lock(&self.inner.outage);
        Health {
            available: outage.down_since.is_none(),
            down_since: outage.down_since.map(|(_, wall)| wall),
            outages: c.outages.load(Ordering::Relaxed),
            fallback_operations: c.fallback_operations.load(Ordering::Relaxed),
            failed_closed: c.failed_closed.load(Ordering::Relaxed),
            resets_queued: c.resets_queued.load(Ordering::Relaxed),
            resets_skipped: c.resets_skipped.load(Ordering::Relaxed),
            resets_dropped: c.resets_dropped.load(Ordering::Relaxed),
            resets_applied: c.resets_applied.load(Ordering::Relaxed),
            reset_batches_failed: c.reset_batches_failed.load(Ordering::Relaxed),
            reconnect_retries: c.reconnect_retries.load(Ordering::Relaxed),
            merged_failures: c.merged_failures.load(Ordering::Relaxed),
            merge_pending: self.inner.pending.len() as u64,
            merge_dropped: c.merge_dropped.load(Ordering::Relaxed),
            merge_notifications: c.merge_notifications.load(Ordering::Relaxed),
            merge_notify_failed: c.merge_notify_failed.load(Ordering::Relaxed),
            last_error: outage.last_error.clone(),
        }
    }

    /// The per-replica fail-open fallback store (for its statistics).
    pub fn fallback(&self) -> &MemoryStore {
        &self.inner.fallback
    }

    /// Sends `PING` (with the timeout) and updates the health; returns whether Redis answered.
    /// Useful in a readiness probe, or to end an outage without waiting for traffic.
    ///
    /// Unlike a request, it also waits for the merge of what the fallback counted (one
    /// round trip per 128 subjects, each with the timeout, after any merge already running):
    /// when it returns `true` after an outage, that merge is written unless Redis failed
    /// again meanwhile ([`Health::available`] says which).
    pub async fn ping(&self) -> bool {
        // An explicit probe: due now, whatever the probe interval says.
        lock(&self.inner.outage).next_probe = Instant::now();
        let cmd = redis::cmd("PING");
        let reply = self
            .try_redis(|mut c| {
                let cmd = &cmd;
                async move { cmd.query_async::<String>(&mut c).await }
            })
            .await;
        if reply.is_err() {
            return false;
        }
        let waited = tokio::time::timeout(
            self.inner.timeout,
            Arc::clone(&self.inner.merge_lock).lock_owned(),
        )
        .await;
        if let Ok(_guard) = waited {
            self.merge_and_recover().await;
        }
        true
    }

    /// The Redis key of `subject` under this store's prefix.
    pub fn key_of(&self, subject: &Subject) -> String {
        let sk = subject.storage_key();
        let mut key = String::with_capacity(self.inner.prefix.len() + sk.len().min(70));
        key.push_str(&self.inner.prefix);
        if sk.len() > MAX_VERBATIM_KEY {
            key.push_str("h:");
            for b in digest::digest(&digest::SHA256, sk.as_bytes()).as_ref() {
                key.push_str(&format!("{b:02x}"));
            }
        } else {
            key.push_str(&sk);
        }
        key
    }

    /// True while an outage is known and the next probe is not due: skip Redis entirely.
    fn skip_redis(&self) -> bool {
        let o = lock(&self.inner.outage);
        o.down_since.is_some() && Instant::now() < o.next_probe
    }

    /// Runs one Redis call with the timeout and tracks health (and, once it succeeds, starts
    /// the merge that ends an outage, in the background). `Err(())` means "use the failure
    /// mode".
    async fn call<T, Fut>(&self, op: impl FnMut(ConnectionManager) -> Fut) -> Result<T, ()>
    where
        Fut: Future<Output = RedisResult<T>>,
    {
        let v = self.try_redis(op).await?;
        self.after_success();
        Ok(v)
    }

    /// One Redis call with the timeout; an error or timeout starts (or extends) an outage.
    ///
    /// A connection that broke (a restarted or failed-over server, a dropped socket) fails
    /// the first command sent on it; the connection manager reconnects on the next one. So a
    /// connection error is retried once, on the fresh connection and within the same
    /// deadline, before it counts as an outage: otherwise a replica that was idle while Redis
    /// restarted would fall back to memory for a whole probe interval and split a streak's
    /// count between Redis and itself. A command that reached the server before its
    /// connection dropped may run twice; counts then err towards more failures, never fewer.
    async fn try_redis<T, Fut>(&self, mut op: impl FnMut(ConnectionManager) -> Fut) -> Result<T, ()>
    where
        Fut: Future<Output = RedisResult<T>>,
    {
        if self.skip_redis() {
            return Err(());
        }
        let deadline = tokio::time::Instant::now() + self.inner.timeout;
        let mut reply = tokio::time::timeout_at(deadline, op(self.inner.conn.clone())).await;
        if matches!(&reply, Ok(Err(e)) if is_broken_connection(e)) {
            self.inner
                .counters
                .reconnect_retries
                .fetch_add(1, Ordering::Relaxed);
            reply = tokio::time::timeout_at(deadline, op(self.inner.conn.clone())).await;
        }
        match reply {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => {
                self.mark_down(format!("redis error: {:?}", e.kind()));
                Err(())
            }
            Err(_) => {
                self.mark_down(format!("redis timeout after {:?}", self.inner.timeout));
                Err(())
            }
        }
    }

    /// Ends the outage, once the merge of `merged_failures` is written.
    fn mark_up(&self, merged_failures: u64) {
        let event = {
            let mut o = lock(&self.inner.outage);
            o.down_since
                .take()
                .map(|(since, _)| HealthEvent::Recovered {
                    after: since.elapsed(),
                    merged_failures,
                })
        };
        if let (Some(event), Some(hook)) = (event, &self.inner.on_health) {
            hook(&event);
        }
    }

    fn mark_down(&self, error: String) {
        let event = {
            let mut o = lock(&self.inner.outage);
            o.next_probe = Instant::now() + self.inner.probe_interval;
            o.last_error = Some(error.clone());
            if o.down_since.is_none() {
                o.down_since = Some((Instant::now(), SystemTime::now()));
                self.inner.counters.outages.fetch_add(1, Ordering::Relaxed);
                Some(HealthEvent::Unavailable { error })
            } else {
                None
            }
        };
        if let (Some(event), Some(hook)) = (event, &self.inner.on_health) {
            hook(&event);
        }
    }

    /// The failure mode: the fallback's answer, or `Unavailable`.
    fn degraded<T>(&self, fallback: impl FnOnce(&MemoryStore) -> T) -> Result<T, StoreError> {
        match self.inner.mode {
            FailureMode::FailOpen => {
                self.inner
                    .counters
                    .fallback_operations
                    .fetch_add(1, Ordering::Relaxed);
                Ok(fallback(&self.inner.fallback))
            }
            FailureMode::FailClosed => {
                self.inner
                    .counters
                    .failed_closed
                    .fetch_add(1, Ordering::Relaxed);
                Err(StoreError::Unavailable)
            }
        }
    }

    /// Moves the merge's clock forward to a time a caller passed.
    fn saw_time(&self, now_ms: u64) {
        self.inner.clock_ms.fetch_max(now_ms, Ordering::Relaxed);
    }

    /// Keeps a failure the fallback answered, for the merge after the outage.
    fn note_fallback_failure(
        &self,
        subject: &Subject,
        rule: &Rule,
        now_ms: u64,
        recorded: &Recorded,
        token: Option<&TokenHash>,
    ) {
        let key = self.key_of(subject);
        if !self
            .inner
            .pending
            .note_failure(&key, subject, rule, now_ms, recorded, token)
        {
            self.inner
                .counters
                .merge_dropped
                .fetch_add(1, Ordering::Relaxed);
        }
    }

    async fn redis_fail(
        &self,
        key: String,
        rule: &Rule,
        now_ms: u64,
        token: Option<&TokenHash>,
    ) -> Result<Vec<i64>, ()> {
        let mut inv = self.inner.scripts.fail.key(key);
        inv.arg(now_ms)
            .arg(rule.idle_ms)
            .arg(rule.notify_at)
            .arg(rule.lock_after);
        // An empty argument: no token (a lock started without one keeps no stale token).
        inv.arg(rule.lock_ms)
            .arg(token.map_or(&[][..], |t| &t.0[..]));
        self.call(|mut c| {
            let inv = &inv;
            async move { inv.invoke_async::<Vec<i64>>(&mut c).await }
        })
        .await
    }
}

/// An error of the connection rather than of the command: worth one retry on a fresh one.
fn is_broken_connection(e: &redis::RedisError) -> bool {
    // A reply that timed out is not one: the server is alive but slow or frozen, and a
    // second copy of the command would only queue behind the first (and run twice).
    !e.is_timeout() && (e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal())
}

fn streak_from(reply: &[i64]) -> Result<Streak, StoreError> {
    let [c, f, l, n, u, ..] = *reply else {
        return Err(StoreError::UnexpectedReply);
    };
    let to_u64 = |v: i64| u64::try_from(v).map_err(|_| StoreError::UnexpectedReply);
    Ok(Streak {
        count: u32::try_from(c).map_err(|_| StoreError::UnexpectedReply)?,
        first_ms: to_u64(f)?,
        last_ms: to_u64(l)?,
        notified: n != 0,
        lock_until_ms: if u == -1 {
            LOCKED_UNTIL_UNLOCKED
        } else {
            to_u64(u)?
        },
    })
}

#[allow(private_interfaces)]
impl Backend for RedisStore {
    async fn fail(
        &self,
        subject: &Subject,
        rule: &Rule,
        now_ms: u64,
        token: Option<&TokenHash>,
    ) -> Result<Recorded, StoreError> {
        self.inner.hints.set(subject, true, now_ms);
        self.saw_time(now_ms);
        match self
            .redis_fail(self.key_of(subject), rule, now_ms, token)
            .await
        {
            Ok(reply) => {
                let streak = streak_from(&reply)?;
                let (notify, newly_locked) = match reply[..] {
                    [_, _, _, _, _, crossed, newly] => (crossed == 1, newly == 1),
                    _ => return Err(StoreError::UnexpectedReply),
                };
                Ok(Recorded {
                    streak,
                    notify,
                    newly_locked,
                })
            }
            Err(()) => self.degraded(|m| {
                let recorded = m.record_failure(subject, rule, now_ms, token);
                self.note_fallback_failure(subject, rule, now_ms, &recorded, token);
                recorded
            }),
        }
    }

    async fn peek(
        &self,
        subject: &Subject,
        idle_ms: u64,
        now_ms: u64,
    ) -> Result<Option<Streak>, StoreError> {
        self.saw_time(now_ms);
        let mut inv = self.inner.scripts.peek.key(self.key_of(subject));
        inv.arg(now_ms).arg(idle_ms);
        match self
            .call(|mut c| {
                let inv = &inv;
                async move { inv.invoke_async::<Vec<i64>>(&mut c).await }
            })
            .await
        {
            Ok(reply) if reply.is_empty() => {
                self.inner.hints.set(subject, false, now_ms);
                Ok(None)
            }
            Ok(reply) => {
                self.inner.hints.set(subject, true, now_ms);
                streak_from(&reply).map(Some)
            }
            Err(()) => self.degraded(|m| m.peek(subject, idle_ms, now_ms)),
        }
    }

    async fn peek_many(
        &self,
        subjects: &[(&Subject, u64)],
        now_ms: u64,
    ) -> Result<Vec<Option<Streak>>, StoreError> {
        self.saw_time(now_ms);
        let mut inv = self.inner.scripts.peek_many.prepare_invoke();
        inv.arg(now_ms);
        for (subject, idle_ms) in subjects {
            inv.key(self.key_of(subject)).arg(*idle_ms);
        }
        match self
            .call(|mut c| {
                let inv = &inv;
                async move { inv.invoke_async::<Vec<Vec<i64>>>(&mut c).await }
            })
            .await
        {
            Ok(replies) if replies.len() == subjects.len() => subjects
                .iter()
                .zip(replies)
                .map(|((subject, _), reply)| {
                    self.inner.hints.set(subject, !reply.is_empty(), now_ms);
                    if reply.is_empty() {
                        Ok(None)
                    } else {
                        streak_from(&reply).map(Some)
                    }
                })
                .collect(),
            Ok(_) => Err(StoreError::UnexpectedReply),
            Err(()) => self.degraded(|m| {
                subjects
                    .iter()
                    .map(|(s, idle)| m.peek(s, *idle, now_ms))
                    .collect()
            }),
        }
    }

    fn reset(&self, subject: &Subject, success_ms: u64) {
        // Keep the fallback in step (cheap, in memory) so a later outage starts clean.
        self.inner.fallback.reset(subject, success_ms);
        self.saw_time(success_ms);
        if self.inner.pending.len() > 0 {
            // Failures the fallback just dropped must not be merged into Redis later. (If
            // the reset itself does not reach Redis, the reset task notes it for the merge.)
            self.inner
                .pending
                .note_reset(&self.key_of(subject), success_ms, false);
        }
        let c = &self.inner.counters;
        if self.inner.hints.knows_no_streak(subject, success_ms) {
            c.resets_skipped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        match self
            .inner
            .resets
            .try_send((self.key_of(subject), success_ms))
        {
            Ok(()) => {
                c.resets_queued.fetch_add(1, Ordering::Relaxed);
                self.inner.hints.set(subject, false, success_ms);
            }
            Err(_) => {
                c.resets_dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    async fn unlock(&self, subject: &Subject, hash: &TokenHash) -> Result<bool, StoreError> {
        let key = self.key_of(subject);
        let get = self.inner.scripts.get_token.key(&key);
        let Ok(stored) = self
            .call(|mut c| {
                let get = &get;
                async move { get.invoke_async::<Option<Vec<u8>>>(&mut c).await }
            })
            .await
        else {
            return self.degraded(|m| self.fallback_unlock(m, subject, &key, hash));
        };
        // Constant-time comparison here, not in Lua (whose string equality is not).
        if !stored.is_some_and(|s| hash.ct_eq(&s)) {
            return Ok(false);
        }
        let mut take = self.inner.scripts.take_token.key(&key);
        take.arg(&hash.0[..]);
        match self
            .call(|mut c| {
                let take = &take;
                async move { take.invoke_async::<i64>(&mut c).await }
            })
            .await
        {
            Ok(n) => {
                self.inner.fallback.unlock(subject, hash);
                Ok(n == 1)
            }
            Err(()) => self.degraded(|m| self.fallback_unlock(m, subject, &key, hash)),
        }
    }

    fn take_owed(&self) -> Option<Owed> {
        self.inner.owed.pop()
    }

    fn owed_undelivered(&self) {
        self.inner
            .counters
            .merge_notify_failed
            .fetch_add(1, Ordering::Relaxed);
    }
}

impl RedisStore {
    /// An unlock answered by the fallback: a lock it started is lifted, and what it noted
    /// for the merge with it (the used token must not come back with the merge).
    fn fallback_unlock(
        &self,
        m: &MemoryStore,
        subject: &Subject,
        key: &str,
        hash: &TokenHash,
    ) -> bool {
        let unlocked = m.unlock(subject, hash);
        if unlocked {
            self.inner.pending.note_unlock(key);
        }
        unlocked
    }
}

impl Store for RedisStore {}

/// Drains the reset queue, one pipelined round trip per batch. Ends when the store is
/// dropped (the sender closes).
async fn reset_task(
    mut rx: mpsc::Receiver<(String, u64)>,
    mut conn: ConnectionManager,
    scripts: Arc<Scripts>,
    counters: Arc<Counters>,
    pending: Arc<Pending>,
    timeout: Duration,
) {
    let mut batch = Vec::with_capacity(RESET_BATCH);
    while rx.recv_many(&mut batch, RESET_BATCH).await > 0 {
        let mut pipe = redis::pipe();
        // Pipelines do not retry after NOSCRIPT: load first (idempotent, cheap).
        pipe.load_script(&scripts.reset).ignore();
        let n = batch.len() as u64;
        for (key, success_ms) in &batch {
            pipe.invoke_script(scripts.reset.key(key).arg(*success_ms))
                .ignore();
        }
        let sent = tokio::time::timeout(timeout, pipe.query_async::<()>(&mut conn)).await;
        if matches!(sent, Ok(Ok(()))) {
            counters.resets_applied.fetch_add(n, Ordering::Relaxed);
        } else {
            counters
                .reset_batches_failed
                .fetch_add(1, Ordering::Relaxed);
            // Kept for the merge (a reset is idempotent: if this batch ran after all,
            // applying it again changes nothing).
            for (key, success_ms) in &batch {
                if !pending.note_reset(key, *success_ms, true) {
                    counters.merge_dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        batch.clear();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Every critical section here is a few field updates: a poisoned lock is still sound.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
