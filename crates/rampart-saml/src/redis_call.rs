//! What the Redis replay cache and the Redis request-id store share: a connection whose
//! reconnection fits a call's deadline, and one bounded call retried once on a broken
//! connection. Each store turns the outcome into its own error.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// How a bounded call failed.
pub(crate) enum CallError {
    /// The deadline passed (ours, or the connection's own reply timeout: the same event).
    TimedOut,
    /// Redis or the connection failed.
    Redis(redis::RedisError),
}

/// Connects to `url` with `timeout` (at least 1 ms) as the deadline of each connection
/// attempt and reply.
pub(crate) async fn connect(
    url: &str,
    timeout: Duration,
) -> Result<ConnectionManager, redis::RedisError> {
    let client = redis::Client::open(url)?;
    // Reconnection must fit in a call's deadline: one quick retry, not the manager's default
    // of six with growing delays.
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(timeout))
        .set_response_timeout(Some(timeout))
        .set_number_of_retries(1)
        .set_min_delay(Duration::from_millis(10))
        .set_max_delay(timeout);
    ConnectionManager::new_with_config(client, config).await
}

/// Runs `cmd` within `timeout`, once more on a fresh connection if the first attempt met a
/// broken one.
pub(crate) async fn query<T: redis::FromRedisValue>(
    conn: &ConnectionManager,
    cmd: &redis::Cmd,
    timeout: Duration,
) -> Result<T, CallError> {
    let deadline = tokio::time::Instant::now() + timeout;
    let attempt = || {
        let mut conn = conn.clone();
        async move { cmd.query_async::<T>(&mut conn).await }
    };
    let mut reply = tokio::time::timeout_at(deadline, attempt()).await;
    if matches!(&reply, Ok(Err(e)) if is_broken_connection(e)) {
        reply = tokio::time::timeout_at(deadline, attempt()).await;
    }
    match reply {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) if e.is_timeout() => Err(CallError::TimedOut),
        Ok(Err(e)) => Err(CallError::Redis(e)),
        Err(_) => Err(CallError::TimedOut),
    }
}

/// An error of the connection rather than of the command: worth one retry on a fresh one.
/// A reply that timed out is not one: the server is alive but slow or frozen, and a second
/// copy of the command would only queue behind the first (and run twice).
fn is_broken_connection(e: &redis::RedisError) -> bool {
    !e.is_timeout() && (e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal())
}
