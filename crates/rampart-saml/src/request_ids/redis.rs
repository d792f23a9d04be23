//! Issued request IDs in Redis.

use std::future::Future;
use std::time::{Duration, SystemTime};

use redis::aio::ConnectionManager;

use super::RequestIdStore;
use crate::error::{Error, RequestIdStoreError};
use crate::redis_call::{self, CallError};
use crate::state_key;

fn unavailable(e: redis::RedisError) -> Error {
    Error::RequestIdStore(RequestIdStoreError::Redis(e))
}

/// Issued request IDs in Redis, shared by every replica: remembered with `SET key 1 PX ttl`,
/// consumed with `GETDEL` (Redis 6.2), atomic on the server, so exactly one replica consumes
/// an ID, and Redis drops the ones never answered when they expire.
///
/// Key layout version 1: `prefix + "req:v1:" + hex(SHA-256(request id))` (see
/// [`RedisRequestIds::key`]): bounded whatever the ID's length.
///
/// Each call has a deadline ([`DEFAULT_TIMEOUT`](Self::DEFAULT_TIMEOUT), or
/// [`with_timeout`](Self::with_timeout)): an unreachable, frozen or failing server gives
/// [`RequestIdStoreError::Timeout`] or [`RequestIdStoreError::Redis`] within it, and the
/// login is refused. A command that met a connection broken by a restart is retried once on
/// a fresh one within the same deadline; should the first `GETDEL` have reached Redis
/// anyway, the retry finds the ID gone and the login is refused: never accepted twice.
///
/// ```no_run
/// # async fn f() -> Result<(), rampart_saml::Error> {
/// use std::time::{Duration, SystemTime};
/// use rampart_saml::{RedisRequestIds, RequestIdStore};
/// let ids = RedisRequestIds::connect("redis://127.0.0.1:6379", "saml:").await?;
/// let now = SystemTime::now();
/// ids.remember("_r1", now + Duration::from_secs(600), now).await?;
/// assert!(ids.consume("_r1", now).await?);
/// assert!(!ids.consume("_r1", now).await?); // once
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub struct RedisRequestIds {
    conn: ConnectionManager,
    prefix: String,
    timeout: Duration,
}

impl std::fmt::Debug for RedisRequestIds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisRequestIds")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl RedisRequestIds {
    /// The deadline of one call, retry included, unless set otherwise: 1 s.
    ///
    /// ```
    /// assert_eq!(rampart_saml::RedisRequestIds::DEFAULT_TIMEOUT.as_millis(), 1000);
    /// ```
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);

    /// Uses `conn`, with keys under `prefix` (layout above) and
    /// [`DEFAULT_TIMEOUT`](Self::DEFAULT_TIMEOUT).
    #[must_use]
    pub fn new(conn: ConnectionManager, prefix: impl Into<String>) -> Self {
        Self {
            conn,
            prefix: prefix.into(),
            timeout: Self::DEFAULT_TIMEOUT,
        }
    }

    /// Sets the deadline of each call (at least 1 ms).
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// Connects to `url` (`redis://host:port`, `unix:///path/redis.sock`) with
    /// [`DEFAULT_TIMEOUT`](Self::DEFAULT_TIMEOUT) as the deadline of each call, and of each
    /// connection attempt and reply on the connection.
    ///
    /// # Errors
    /// [`Error::RequestIdStore`] when the URL is bad or the server unreachable.
    pub async fn connect(url: &str, prefix: impl Into<String>) -> Result<Self, Error> {
        Self::connect_with_timeout(url, prefix, Self::DEFAULT_TIMEOUT).await
    }

    /// [`connect`](Self::connect) with `timeout` as the deadline.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), rampart_saml::Error> {
    /// use std::time::Duration;
    /// use rampart_saml::RedisRequestIds;
    /// let ids = RedisRequestIds::connect_with_timeout("redis://127.0.0.1:6379", "saml:", Duration::from_millis(200)).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::RequestIdStore`] when the URL is bad or the server unreachable.
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

    /// Runs `cmd` within the deadline, once more on a fresh connection if the first attempt
    /// met a broken one.
    async fn query<T: redis::FromRedisValue>(&self, cmd: redis::Cmd) -> Result<T, Error> {
        redis_call::query(&self.conn, &cmd, self.timeout)
            .await
            .map_err(|e| match e {
                CallError::TimedOut => Error::RequestIdStore(RequestIdStoreError::Timeout {
                    after: self.timeout,
                }),
                CallError::Redis(e) => unavailable(e),
            })
    }

    /// The Redis key of `request_id` (layout version 1, above).
    #[must_use]
    pub fn key(&self, request_id: &str) -> String {
        format!(
            "{}req:v1:{}",
            self.prefix,
            state_key::hex(&state_key::request_key(request_id))
        )
    }
}

impl RequestIdStore for RedisRequestIds {
    fn remember(
        &self,
        request_id: &str,
        expires_at: SystemTime,
        now: SystemTime,
    ) -> impl Future<Output = Result<(), Error>> + Send {
        // At least 1 ms: PX 0 is an error; an ID already expired then simply vanishes.
        let ttl_ms = expires_at
            .duration_since(now)
            .map_or(1, |d| d.as_millis().max(1));
        let mut set = redis::cmd("SET");
        set.arg(self.key(request_id))
            .arg(1)
            .arg("PX")
            .arg(u64::try_from(ttl_ms).unwrap_or(u64::MAX));
        self.query::<()>(set)
    }

    fn consume(
        &self,
        request_id: &str,
        _now: SystemTime,
    ) -> impl Future<Output = Result<bool, Error>> + Send {
        let mut getdel = redis::cmd("GETDEL");
        getdel.arg(self.key(request_id));
        // Redis expires the key itself (PX), on its own clock: present means unexpired.
        async move { Ok(self.query::<Option<String>>(getdel).await?.is_some()) }
    }
}
