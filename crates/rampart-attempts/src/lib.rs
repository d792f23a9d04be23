//! Failed-attempt counting for authentication: consecutive failures per subject, owner
//! notification once per streak, exponential backoff, optional hard lockout with a
//! single-use unlock token; an in-memory store, and Redis, PostgreSQL and SQLite stores.
//!
//! ```
//! use std::time::SystemTime;
//! use rampart_attempts::{Decision, MemoryStore, Subject, Tracker};
//! # fn block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     let mut f = std::pin::pin!(f);
//! #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
//! #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
//! # }
//! # block_on(async {
//! let tracker = Tracker::new(MemoryStore::default()); // or RedisStore (feature `redis`)
//! let key = Subject::api_key("pk_live_4f9a");
//! let now = SystemTime::now();
//! assert_eq!(tracker.check(&key, now).await?, Decision::Allow);
//! let mut notified = 0;
//! for _ in 0..25 {
//!     let out = tracker.record_failure(&key, now).await?; // wrong secret
//!     notified += usize::from(out.notification.is_some()); // the 20th failure
//! }
//! assert_eq!(notified, 1);
//! tracker.record_success(&key, now).await; // the owner's right secret ends the streak
//! # Ok::<(), rampart_attempts::Error>(()) }).unwrap();
//! ```
//!
//! # Model
//!
//! - A [`Subject`] is a public API key id, an account, a client IP, or a (key or account,
//!   IP) pair; each [`SubjectKind`] has its own [`Policy`] in [`Policies`]. The defaults,
//!   and the OWASP and NIST SP 800-63B guidance behind them, are explained in
//!   [`policy`]: **a public API key is never locked or throttled by default
//!   (strangers could lock its owner out); its owner is notified at 20 consecutive
//!   failures, and throttling applies per (key, IP) and per IP.** A service checks and
//!   records all three subjects for each attempt.
//! - [`Tracker::check`] before authenticating ([`Decision::Allow`], `RetryAfter`, `Locked`),
//!   [`Tracker::record_failure`] after a failure (count, delay, the [`Notification`] on the
//!   crossing failure, the [`UnlockToken`] when a lockout starts),
//!   [`Tracker::record_success`] after a success (never waits on the network), and
//!   [`Tracker::unlock`]. [`Tracker::check_all`] checks all the subjects of one attempt in
//!   one store round trip.
//! - A streak is the run of consecutive failures: a success ends it, and so does an idle
//!   period with no failure. Exactly one failure per streak crosses the notify threshold,
//!   also with many replicas on one Redis store (each failure is one atomic script).
//!
//! # Stores
//!
//! [`MemoryStore`]: sharded, bounded, expiring, with an eviction order a flood of fresh
//! subjects cannot use to wipe a victim's streak (see [`memory`] for the
//! choice and the measured bytes per subject). `RedisStore` (feature `redis`): every
//! operation one Lua script under a key prefix, timeouts, fail-open to a per-replica memory
//! store (or fail-closed), health reporting, and recovery that merges what the replicas
//! counted in memory back into Redis (notifying once across the merge); see its module docs
//! for the consistency of background resets and what holds during an outage.
//! `PostgresStore` (feature `postgres`) and `SqliteStore` (feature `sqlite`, a local file, no
//! server): every operation one SQL statement, embedded migrations, bad rows refused by name,
//! fail closed; see the `sql` module docs for the schema. `SmtpNotifier` (feature `smtp`)
//! emails the owner.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod clock;
mod error;
pub mod memory;
mod notify;
pub mod policy;
mod store;
mod streak;
mod subject;
mod token;
mod tracker;

#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub mod redis_store;
#[cfg(feature = "smtp")]
mod smtp;
#[cfg(any(feature = "postgres", feature = "sqlite"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "postgres", feature = "sqlite"))))]
pub mod sql;

pub use error::{Error, NotifyError, RowProblem, StoreError};
pub use memory::{MemoryConfig, MemoryStats, MemoryStore};
pub use notify::{FnNotifier, NoNotifier, Notification, Notifier};
pub use policy::{Backoff, DEFAULT_NOTIFY_AFTER, Lockout, Policies, Policy};
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use redis_store::{FailureMode, Health, HealthEvent, RedisConfig, RedisStore};
#[cfg(feature = "smtp")]
#[cfg_attr(docsrs, doc(cfg(feature = "smtp")))]
pub use smtp::SmtpNotifier;
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use sql::PostgresStore;
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use sql::SqliteStore;
#[cfg(any(feature = "postgres", feature = "sqlite"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "postgres", feature = "sqlite"))))]
pub use sql::{SqlConfig, SqlStats, SqlStore};
pub use store::Store;
pub use subject::{MAX_SUBJECT_ID_LEN, Subject, SubjectKind};
pub use token::UnlockToken;
pub use tracker::{Decision, FailureOutcome, Tracker};
