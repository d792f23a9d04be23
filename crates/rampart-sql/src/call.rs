//! Every call under one deadline, and the ping a write takes before its statement.

use std::future::Future;
use std::time::Duration;

use sqlx::Pool;
use sqlx::pool::PoolConnection;

/// A bounded call's failure, which each store turns into its own error's variants.
///
/// ```
/// let e = rampart_sql::CallError::Timeout(std::time::Duration::from_secs(1));
/// assert_eq!(e.to_string(), "the database did not answer within 1s");
/// ```
// Exhaustive on purpose: every store maps each variant to its own error, so a new one must
// be handled there (this crate is internal; its API may change).
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The database failed or could not be reached (including sqlx's pool timeout).
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// The call did not finish within the deadline. Whether a write committed is unknown.
    #[error("the database did not answer within {0:?}")]
    Timeout(Duration),
}

impl CallError {
    /// A stable, machine-readable name (the stores' own errors use the same names).
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Database(_) => "database",
            Self::Timeout(_) => "timeout",
        }
    }
}

/// Runs `op` within `timeout`: its result, or [`CallError::Timeout`] (the future is dropped,
/// which cancels it on our side; the server's own timeout ends it on theirs).
///
/// ```
/// use std::time::Duration;
/// use rampart_sql::{CallError, call::bounded};
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let slow = tokio::time::sleep(Duration::from_secs(60));
/// let late = bounded(Duration::from_millis(5), async { slow.await; Ok::<_, sqlx::Error>(()) }).await;
/// assert!(matches!(late, Err(CallError::Timeout(_))));
/// # });
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`CallError::Database`] with `op`'s error, [`CallError::Timeout`] past the deadline.
pub async fn bounded<T>(
    timeout: Duration,
    op: impl Future<Output = Result<T, sqlx::Error>>,
) -> Result<T, CallError> {
    match tokio::time::timeout(timeout, op).await {
        Ok(result) => result.map_err(CallError::Database),
        Err(_) => Err(CallError::Timeout(timeout)),
    }
}

/// A pooled connection that just answered a ping, to send a write on. The stores' pools
/// skip sqlx's ping before every acquire (a round trip on each call), and a write is never
/// retried once sent (it may have committed), so a connection left dead by a server restart
/// must fail this ping instead, before anything was sent; the next one is then tried (each
/// pooled connection may be dead, hence up to the pool's size plus a fresh one).
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// # #[cfg(feature = "sqlite")] {
/// let pool = sqlx::SqlitePool::connect("sqlite::memory:").await?;
/// let mut conn = rampart_sql::call::pinged(&pool).await?;
/// sqlx::query("CREATE TABLE t (x INTEGER)").execute(&mut *conn).await?;
/// # }
/// # Ok::<(), sqlx::Error>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// The pool's error when no connection can be had, or the last ping's error.
pub async fn pinged<DB: sqlx::Database>(
    pool: &Pool<DB>,
) -> Result<PoolConnection<DB>, sqlx::Error> {
    use sqlx::Connection as _;
    let mut last = None;
    for _ in 0..=pool.options().get_max_connections() {
        let mut conn = pool.acquire().await?;
        match conn.ping().await {
            Ok(()) => return Ok(conn),
            // Dropped, the connection fails sqlx's own ping on release and is closed.
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or(sqlx::Error::PoolTimedOut))
}
