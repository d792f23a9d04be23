//! Every database call under one deadline, the one retry rule for connections a restarted
//! server left dead, and the counters an operator reads in [`SqlStats`].

use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use crate::error::StoreError;

/// Counters and state of a SQL store, from
/// [`SqlStore::stats`](crate::sql::SqlStore::stats).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SqlStats {
    /// Whether the last database call succeeded.
    pub available: bool,
    /// Calls that failed (database error or timeout): the tracker's caller got
    /// [`StoreError::Unavailable`], or a background reset batch or sweep was lost.
    pub failed_calls: u64,
    /// Statements retried on another connection after theirs broke (a restarted server).
    pub reconnect_retries: u64,
    /// Rows refused as unreadable ([`StoreError::BadRow`]).
    pub bad_rows: u64,
    /// Resets queued for the background task.
    pub resets_queued: u64,
    /// Resets in batches the database acknowledged.
    pub resets_applied: u64,
    /// Resets dropped because the queue was full.
    pub resets_dropped: u64,
    /// Resets lost because their batch failed (database unavailable).
    pub resets_failed: u64,
    /// Expired rows deleted by sweeps.
    pub rows_swept: u64,
    /// The last error seen, if any (no credentials, no token).
    pub last_error: Option<String>,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) failed_calls: AtomicU64,
    pub(crate) reconnect_retries: AtomicU64,
    pub(crate) bad_rows: AtomicU64,
    pub(crate) resets_queued: AtomicU64,
    pub(crate) resets_applied: AtomicU64,
    pub(crate) resets_dropped: AtomicU64,
    pub(crate) resets_failed: AtomicU64,
    pub(crate) rows_swept: AtomicU64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// The deadline, the retry budget and the counters, shared by the store and its
/// background task.
pub(crate) struct Health {
    timeout: Duration,
    /// Retries after a broken connection: one per pooled connection, each of which may be
    /// a dead one left by a restarted server (the pool drops it after its error).
    retries: u32,
    pub(crate) counters: Counters,
    /// An atomic, not under the mutex: every successful call sets it (the hot path).
    available: AtomicBool,
    last_error: Mutex<Option<String>>,
}

impl Health {
    pub(crate) fn new(timeout: Duration, pool_size: u32) -> Self {
        Health {
            timeout,
            retries: pool_size.saturating_add(1),
            counters: Counters::default(),
            available: AtomicBool::new(true),
            last_error: Mutex::new(None),
        }
    }

    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Runs `op` under the store's deadline. A statement that failed because its connection
    /// broke is retried on another within the same deadline (after a restart every pooled
    /// connection is dead, and each fails once before the pool replaces it); anything else,
    /// or the deadline, is [`StoreError::Unavailable`]. A statement whose connection broke
    /// after the server committed it runs twice: counts then err towards more failures,
    /// never fewer.
    pub(crate) async fn call<T, F, Fut>(&self, mut op: F) -> Result<T, StoreError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, sqlx::Error>>,
    {
        let deadline = tokio::time::Instant::now() + self.timeout;
        let mut retries = 0;
        loop {
            let error = match tokio::time::timeout_at(deadline, op()).await {
                Ok(Ok(v)) => {
                    self.available.store(true, Ordering::Relaxed);
                    return Ok(v);
                }
                Ok(Err(e)) if is_broken_connection(&e) && retries < self.retries => {
                    retries += 1;
                    Counters::add(&self.counters.reconnect_retries, 1);
                    continue;
                }
                Ok(Err(e)) => describe(&e),
                Err(_) => format!("no answer within {:?}", self.timeout),
            };
            Counters::add(&self.counters.failed_calls, 1);
            self.available.store(false, Ordering::Relaxed);
            *self.last_error() = Some(error);
            return Err(StoreError::Unavailable);
        }
    }

    fn last_error(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        // A poisoned lock still holds a sound Option (one assignment in the critical section).
        self.last_error
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn stats(&self) -> SqlStats {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        SqlStats {
            available: self.available.load(Ordering::Relaxed),
            failed_calls: get(&c.failed_calls),
            reconnect_retries: get(&c.reconnect_retries),
            bad_rows: get(&c.bad_rows),
            resets_queued: get(&c.resets_queued),
            resets_applied: get(&c.resets_applied),
            resets_dropped: get(&c.resets_dropped),
            resets_failed: get(&c.resets_failed),
            rows_swept: get(&c.rows_swept),
            last_error: self.last_error().clone(),
        }
    }
}

/// An error of the connection rather than of the statement: the server went away (I/O
/// error, connection exception class 08, shutdown 57P01 and crash 57P02). Worth a retry
/// on another connection; "the server is starting up" (57P03) is not: it is an outage.
fn is_broken_connection(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(d) => d
            .code()
            .is_some_and(|c| c.starts_with("08") || c == "57P01" || c == "57P02"),
        _ => false,
    }
}

/// An error in words for [`SqlStats::last_error`] and setup errors: never the connection
/// options (a URL may carry a password).
pub(crate) fn describe(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Configuration(_) => "invalid connection options".to_owned(),
        sqlx::Error::Database(d) => {
            format!(
                "database error {}: {}",
                d.code().unwrap_or_default(),
                d.message()
            )
        }
        sqlx::Error::Io(io) => format!("i/o error: {:?}", io.kind()),
        sqlx::Error::Tls(_) => "TLS error".to_owned(),
        sqlx::Error::PoolTimedOut => "no connection within the timeout".to_owned(),
        other => other.to_string(),
    }
}
