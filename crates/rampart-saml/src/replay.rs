//! Replay protection: each assertion ID is accepted once, and remembered until the assertion
//! could no longer be accepted anyway (its NotOnOrAfter plus the clock skew), so the cache
//! stays bounded by the IdP's assertion lifetime (SAML profiles 4.1.4.5).

use std::collections::{BTreeSet, HashSet};
use std::future::Future;
use std::sync::Mutex;
use std::time::SystemTime;

use crate::error::{Error, ReplayCacheError};

/// Remembers assertion IDs. Implementations must be atomic across every replica that shares
/// them: two concurrent calls with the same ID must not both return `Ok(true)`.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use rampart_saml::{MemoryReplayCache, ReplayCache};
/// // Generic over the back end: a memory cache in tests, RedisReplayCache in production.
/// async fn first_use(cache: &impl ReplayCache, id: &str, now: SystemTime) -> bool {
///     cache
///         .insert_if_new("https://idp.example.com", id, now + Duration::from_secs(300), now)
///         .await
///         .unwrap_or(false) // a failing back end refuses the login (fail closed)
/// }
/// let cache = MemoryReplayCache::new();
/// let now = SystemTime::now();
/// let waker = std::task::Waker::noop();
/// let mut cx = std::task::Context::from_waker(&waker);
/// // The memory cache's future is ready at once; a real server would use its runtime.
/// let mut poll = |f: std::pin::Pin<&mut dyn std::future::Future<Output = bool>>| match f.poll(&mut cx) {
///     std::task::Poll::Ready(v) => v,
///     std::task::Poll::Pending => unreachable!(),
/// };
/// assert!(poll(std::pin::pin!(first_use(&cache, "_a1", now))));
/// assert!(!poll(std::pin::pin!(first_use(&cache, "_a1", now))));
/// ```
pub trait ReplayCache: Send + Sync {
    /// Records the pair (`issuer`, `assertion_id`) until `expires_at`. Returns `Ok(true)` when
    /// the pair was new, `Ok(false)` when it was seen before and has not expired (a replay).
    ///
    /// The issuer (the IdP entity id) is part of the key, and the only insert there is takes
    /// it: assertion IDs are unique per issuer only (SAML core 1.3.4), so a cache shared by
    /// several IdPs must not let one use up another's IDs, and an implementation cannot
    /// forget the issuer by leaning on a default method.
    ///
    /// # Errors
    /// [`Error::ReplayCache`] when the back end fails; callers must then refuse the login
    /// (fail closed).
    fn insert_if_new(
        &self,
        issuer: &str,
        assertion_id: &str,
        expires_at: SystemTime,
        now: SystemTime,
    ) -> impl Future<Output = Result<bool, Error>> + Send;
}

/// Largest number of IDs the memory cache holds by default; past it, new logins are refused
/// (fail closed) until entries expire. At one login per millisecond with 5-minute assertions
/// that is 300 000 live entries.
pub const DEFAULT_MEMORY_CAPACITY: usize = 1_000_000;

/// An in-process replay cache, for a single replica. IDs are keyed with their issuer, as in
/// the Redis cache, and each insert first drops the entries that have expired (oldest first,
/// so the cost is per expired entry, not per entry held).
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use rampart_saml::MemoryReplayCache;
/// let cache = MemoryReplayCache::with_capacity(10_000);
/// let idp = "https://idp.example.com";
/// let now = SystemTime::now();
/// let until = now + Duration::from_secs(300); // the assertion's NotOnOrAfter plus skew
/// assert!(cache.insert_if_new_sync(idp, "_a1", until, now)?);
/// let later = now + Duration::from_secs(10);
/// assert!(!cache.insert_if_new_sync(idp, "_a1", until, later)?); // replay
/// // Another IdP's ID space is its own (SAML core 1.3.4).
/// assert!(cache.insert_if_new_sync("https://other.example", "_a1", until, later)?);
/// assert_eq!(cache.len(), 2);
/// # Ok::<(), rampart_saml::Error>(())
/// ```
#[derive(Debug)]
pub struct MemoryReplayCache {
    inner: Mutex<Entries>,
    capacity: usize,
}

/// The live IDs: `keys` for look-up, `by_expiry` for sweeping. Both hold the same keys.
#[derive(Debug, Default)]
struct Entries {
    keys: HashSet<String>,
    by_expiry: BTreeSet<(SystemTime, String)>,
}

impl Entries {
    /// Drops every entry whose expiry is not after `now`.
    fn sweep(&mut self, now: SystemTime) {
        while self.by_expiry.first().is_some_and(|(exp, _)| *exp <= now) {
            if let Some((_, key)) = self.by_expiry.pop_first() {
                self.keys.remove(&key);
            }
        }
    }
}

/// One string per (issuer, ID) pair; the length prefix keeps `("a", "bc")` and `("ab", "c")`
/// apart.
fn entry_key(issuer: &str, assertion_id: &str) -> String {
    format!("{}:{issuer}{assertion_id}", issuer.len())
}

impl Default for MemoryReplayCache {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryReplayCache {
    /// An empty cache with [`DEFAULT_MEMORY_CAPACITY`].
    #[must_use]
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_MEMORY_CAPACITY)
    }

    /// An empty cache holding at most `capacity` live IDs.
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        MemoryReplayCache {
            inner: Mutex::new(Entries::default()),
            capacity,
        }
    }

    /// The synchronous form of [`ReplayCache::insert_if_new`].
    ///
    /// # Errors
    /// [`Error::ReplayCache`] when the cache is full of unexpired IDs.
    pub fn insert_if_new_sync(
        &self,
        issuer: &str,
        assertion_id: &str,
        expires_at: SystemTime,
        now: SystemTime,
    ) -> Result<bool, Error> {
        let key = entry_key(issuer, assertion_id);
        let mut entries = self.lock();
        entries.sweep(now);
        if entries.keys.contains(&key) {
            return Ok(false);
        }
        if entries.keys.len() >= self.capacity {
            return Err(Error::ReplayCache(ReplayCacheError::Full));
        }
        entries.by_expiry.insert((expires_at, key.clone()));
        entries.keys.insert(key);
        Ok(true)
    }

    /// Number of IDs held (expired ones included until the next insert drops them).
    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().keys.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // A poisoned lock only means another thread panicked while holding it. Nothing
        // between an insert's two updates can panic, so the collections still agree: keep
        // serving rather than failing every login.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// True when no ID is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl ReplayCache for MemoryReplayCache {
    fn insert_if_new(
        &self,
        issuer: &str,
        assertion_id: &str,
        expires_at: SystemTime,
        now: SystemTime,
    ) -> impl Future<Output = Result<bool, Error>> + Send {
        std::future::ready(self.insert_if_new_sync(issuer, assertion_id, expires_at, now))
    }
}

#[cfg(feature = "redis")]
mod redis_cache {
    use std::time::{Duration, SystemTime};

    use redis::aio::ConnectionManager;

    use super::ReplayCache;
    use crate::error::{Error, ReplayCacheError};
    use crate::redis_call::{self, CallError};

    fn unavailable(e: redis::RedisError) -> Error {
        Error::ReplayCache(ReplayCacheError::Redis(e))
    }

    /// A replay cache in Redis, shared by every replica: `SET key 1 NX PX ttl`, atomic on the
    /// server, so exactly one replica wins an assertion ID.
    ///
    /// Key layout version 2: `prefix + "v2:" + hex(SHA-256(len(issuer) as u64 BE || issuer
    /// || assertion id))` (see [`RedisReplayCache::key`]). The issuer is part of the key, so
    /// several IdPs (or SPs) sharing a prefix cannot burn each other's IDs, and the hash
    /// bounds the key length whatever the IdP sends. Version 1 (`prefix + assertion id`) keys
    /// are never read: during an upgrade an assertion accepted just before it could be
    /// accepted once more within its few minutes of validity.
    ///
    /// # When Redis fails
    ///
    /// It fails closed: there is no fallback to memory, which would let an assertion be
    /// accepted once per replica. Each check has a deadline
    /// ([`DEFAULT_TIMEOUT`](Self::DEFAULT_TIMEOUT), or [`with_timeout`](Self::with_timeout));
    /// an unreachable, frozen or failing server gives [`ReplayCacheError::Timeout`] or
    /// [`ReplayCacheError::Redis`] within it, and the login is refused. A connection that
    /// broke (Redis restarted) fails the first command sent on it: that command is retried
    /// once on a fresh connection within the same deadline, so the first login after a
    /// restart is not refused for nothing. If the lost command had reached Redis before the
    /// connection broke, the retry finds the ID taken and refuses the login as a replay: the
    /// error is always on the side of refusing. What survives a restart is what Redis
    /// persisted: a Redis holding replay state should run with `appendfsync always` (or
    /// fail over to a replica), or an assertion accepted just before a crash could be
    /// accepted again within its validity.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), rampart_saml::Error> {
    /// use rampart_saml::{RedisReplayCache, ReplayCache};
    /// let cache = RedisReplayCache::connect("redis://127.0.0.1:6379", "saml:replay:").await?;
    /// let now = std::time::SystemTime::now();
    /// let until = now + std::time::Duration::from_secs(300);
    /// let idp = "https://idp.example.com/metadata";
    /// assert!(cache.insert_if_new(idp, "_a1", until, now).await?);
    /// assert!(!cache.insert_if_new(idp, "_a1", until, now).await?); // a replay
    /// # Ok(()) }
    /// ```
    #[derive(Clone)]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub struct RedisReplayCache {
        conn: ConnectionManager,
        prefix: String,
        timeout: Duration,
    }

    impl std::fmt::Debug for RedisReplayCache {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("RedisReplayCache")
                .field("prefix", &self.prefix)
                .field("timeout", &self.timeout)
                .finish_non_exhaustive()
        }
    }

    impl RedisReplayCache {
        /// The deadline of one check, retry included, unless set otherwise: 1 s.
        ///
        /// ```
        /// assert_eq!(rampart_saml::RedisReplayCache::DEFAULT_TIMEOUT.as_millis(), 1000);
        /// ```
        pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);

        /// Uses `conn`, with keys under `prefix` (e.g. `"saml:replay:"`; layout above) and
        /// [`DEFAULT_TIMEOUT`](Self::DEFAULT_TIMEOUT). The deadline bounds each check
        /// whatever `conn`'s own timeouts are.
        #[must_use]
        pub fn new(conn: ConnectionManager, prefix: impl Into<String>) -> Self {
            RedisReplayCache {
                conn,
                prefix: prefix.into(),
                timeout: Self::DEFAULT_TIMEOUT,
            }
        }

        /// Sets the deadline of each check (at least 1 ms).
        ///
        /// ```no_run
        /// # async fn f() -> Result<(), rampart_saml::Error> {
        /// use std::time::Duration;
        /// let cache = rampart_saml::RedisReplayCache::connect("redis://127.0.0.1:6379", "saml:")
        ///     .await?
        ///     .with_timeout(Duration::from_millis(200));
        /// # Ok(()) }
        /// ```
        #[must_use]
        pub fn with_timeout(mut self, timeout: Duration) -> Self {
            self.timeout = timeout.max(Duration::from_millis(1));
            self
        }

        /// Connects to `url` (`redis://host:port`, `unix:///path/redis.sock`) with
        /// [`DEFAULT_TIMEOUT`](Self::DEFAULT_TIMEOUT).
        ///
        /// # Errors
        /// [`Error::ReplayCache`] when the URL is bad or the server unreachable.
        pub async fn connect(url: &str, prefix: impl Into<String>) -> Result<Self, Error> {
            Self::connect_with_timeout(url, prefix, Self::DEFAULT_TIMEOUT).await
        }

        /// Connects to `url` with `timeout` as the deadline of each check, and of each
        /// connection attempt and reply on the connection (so a frozen server or a
        /// reconnection does not hold a login).
        ///
        /// ```no_run
        /// # async fn f() -> Result<(), rampart_saml::Error> {
        /// use std::time::Duration;
        /// use rampart_saml::RedisReplayCache;
        /// let cache =
        ///     RedisReplayCache::connect_with_timeout("redis://127.0.0.1:6379", "saml:", Duration::from_millis(200))
        ///         .await?;
        /// # Ok(()) }
        /// ```
        ///
        /// # Errors
        /// [`Error::ReplayCache`] when the URL is bad or the server unreachable.
        pub async fn connect_with_timeout(
            url: &str,
            prefix: impl Into<String>,
            timeout: Duration,
        ) -> Result<Self, Error> {
            let timeout = timeout.max(Duration::from_millis(1));
            let conn = redis_call::connect(url, timeout)
                .await
                .map_err(unavailable)?;
            Ok(Self::new(conn, prefix).with_timeout(timeout))
        }
    }

    impl RedisReplayCache {
        /// The Redis key for `assertion_id` from `issuer` (layout version 2, above).
        #[must_use]
        pub fn key(&self, issuer: &str, assertion_id: &str) -> String {
            use std::fmt::Write as _;
            let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
            // Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
            ctx.update(
                &u64::try_from(issuer.len())
                    .unwrap_or(u64::MAX)
                    .to_be_bytes(),
            );
            ctx.update(issuer.as_bytes());
            ctx.update(assertion_id.as_bytes());
            let mut key = format!("{}v2:", self.prefix);
            for b in ctx.finish().as_ref() {
                let _ = write!(key, "{b:02x}");
            }
            key
        }
    }

    impl ReplayCache for RedisReplayCache {
        fn insert_if_new(
            &self,
            issuer: &str,
            assertion_id: &str,
            expires_at: SystemTime,
            now: SystemTime,
        ) -> impl Future<Output = Result<bool, Error>> + Send {
            let key = self.key(issuer, assertion_id);
            let conn = self.conn.clone();
            let timeout = self.timeout;
            async move {
                // At least 1 ms: PX 0 is an error, and an already-expired assertion was refused
                // before we get here anyway.
                let ttl_ms = expires_at
                    .duration_since(now)
                    .map_or(1, |d| d.as_millis().max(1));
                let ttl_ms = u64::try_from(ttl_ms).unwrap_or(u64::MAX);
                let mut set = redis::cmd("SET");
                set.arg(&key).arg(1).arg("NX").arg("PX").arg(ttl_ms);
                match redis_call::query::<Option<String>>(&conn, &set, timeout).await {
                    Ok(set) => Ok(set.is_some()),
                    Err(CallError::TimedOut) => {
                        Err(Error::ReplayCache(ReplayCacheError::Timeout {
                            after: timeout,
                        }))
                    }
                    Err(CallError::Redis(e)) => Err(unavailable(e)),
                }
            }
        }
    }
}

#[cfg(feature = "redis")]
pub use redis_cache::RedisReplayCache;

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn second_use_is_a_replay_until_expiry() {
        let c = MemoryReplayCache::new();
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let exp = now + Duration::from_secs(300);
        assert!(c.insert_if_new_sync("", "a", exp, now).unwrap());
        assert!(
            !c.insert_if_new_sync("", "a", exp, now + Duration::from_secs(299))
                .unwrap()
        );
        assert!(c.insert_if_new_sync("", "b", exp, now).unwrap());
        // After expiry the ID may be stored again (the assertion itself is refused as expired).
        assert!(c.insert_if_new_sync("", "a", exp, exp).unwrap());
    }

    #[test]
    fn full_cache_fails_closed_then_sweeps() {
        let c = MemoryReplayCache::with_capacity(2);
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let exp = now + Duration::from_secs(10);
        assert!(c.insert_if_new_sync("", "a", exp, now).unwrap());
        assert!(c.insert_if_new_sync("", "b", exp, now).unwrap());
        assert!(matches!(
            c.insert_if_new_sync("", "c", exp, now),
            Err(Error::ReplayCache(_))
        ));
        assert!(
            c.insert_if_new_sync("", "c", exp + Duration::from_secs(10), exp)
                .unwrap()
        );
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn expired_entries_are_dropped_by_the_next_insert() {
        let c = MemoryReplayCache::with_capacity(100);
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let soon = now + Duration::from_secs(10);
        let later = now + Duration::from_secs(60);
        assert!(c.insert_if_new_sync("", "a", soon, now).unwrap());
        assert!(c.insert_if_new_sync("", "b", later, now).unwrap());
        assert!(c.insert_if_new_sync("", "c", soon, now).unwrap());
        assert_eq!(c.len(), 3);
        // Far from full, yet the two expired entries go; the live one stays a replay.
        assert!(c.insert_if_new_sync("", "d", later, soon).unwrap());
        assert_eq!(c.len(), 2);
        assert!(!c.insert_if_new_sync("", "b", later, soon).unwrap());
    }

    #[test]
    fn ids_are_keyed_with_their_issuer() {
        let c = MemoryReplayCache::new();
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let exp = now + Duration::from_secs(300);
        assert!(c.insert_if_new_sync("https://a", "_1", exp, now).unwrap());
        assert!(!c.insert_if_new_sync("https://a", "_1", exp, now).unwrap());
        assert!(c.insert_if_new_sync("https://b", "_1", exp, now).unwrap());
        // The issuer/ID boundary is part of the key.
        assert!(c.insert_if_new_sync("x", "yz", exp, now).unwrap());
        assert!(c.insert_if_new_sync("xy", "z", exp, now).unwrap());
        // The empty issuer is an issuer like any other: its IDs are its own.
        assert!(c.insert_if_new_sync("", "_1", exp, now).unwrap());
        assert!(!c.insert_if_new_sync("", "_1", exp, now).unwrap());
    }
}
