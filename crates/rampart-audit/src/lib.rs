//! A tamper-evident audit trail: OCSF-shaped events as JSON lines, chained with
//! HMAC-SHA256, with Ed25519-signed checkpoints, written off the request path to rotating
//! append-only files, and a verifier that finds the first broken record.
//!
//! ```
//! use rampart_audit::{AuditLog, AuthActivity, ChainKey, Event, FileSink, KeySet, Outcome, User, Verdict, Verifier};
//!
//! let dir = tempfile::tempdir()?;
//! let key_bytes = [7u8; 32]; // production: ChainKey::generate, kept with the app's secrets
//! let log = AuditLog::builder(ChainKey::new("2026-12", &key_bytes)?, FileSink::open(dir.path(), "audit")?)
//!     .start()?;
//! log.append(
//!     Event::authentication(AuthActivity::Logon, Outcome::Failure)
//!         .with_actor(User::named("alice"))
//!         .with_src_ip("203.0.113.5".parse()?),
//! )?;
//! let files = log.shutdown()?;
//!
//! let keys = KeySet::new().with_key(ChainKey::new("2026-12", &key_bytes)?)?;
//! assert!(matches!(Verifier::new().with_keys(keys).verify_files(&files)?, Verdict::Intact(_)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Events
//!
//! [`Event`] follows OCSF 1.1: Authentication (`class_uid` 3002), Account Change (3001) and
//! API Activity (6003), with `time` (epoch milliseconds), `actor.user`, `src_endpoint.ip`,
//! `status_id`/`status`, the target `user` or `api`, `activity_id`, `category_uid`,
//! `class_uid`, `severity_id`, `type_uid` (`class_uid * 100 + activity_id`) and
//! `metadata.product`/`metadata.version`. Typed constructors
//! ([`Event::authentication`], [`Event::account_change`], [`Event::api_activity`]) fix the
//! ids; `with_*` setters add the rest.
//!
//! # Forwarding outcomes from the other crates
//!
//! No Rampart crate depends on this one (docs/design.md, Dependency direction): the
//! application turns a verdict into an event. With rampart-password's
//! `Hasher::verify_or_dummy` or rampart-apikey's `ApiKeys::check`, forward the outcome and
//! the error's stable `kind()` (and, for API keys, the public id, never the secret):
//!
//! ```
//! use std::net::IpAddr;
//! use rampart_audit::{AuditLog, AuthActivity, ChainKey, Event, Outcome, User, WriterSink};
//!
//! /// `checked` is what the API-key check returned: the key's public id, or the error's
//! /// `kind()` and `public_id()` (rampart_apikey::Error).
//! fn audit_api_key(log: &AuditLog, checked: Result<&str, (&'static str, Option<&str>)>, ip: IpAddr)
//!     -> Result<(), rampart_audit::Error>
//! {
//!     let event = match checked {
//!         Ok(public_id) => Event::authentication(AuthActivity::Logon, Outcome::Success)
//!             .with_user(User::named(public_id)),
//!         Err((kind, public_id)) => {
//!             let e = Event::authentication(AuthActivity::Logon, Outcome::Failure).with_status_detail(kind);
//!             match public_id { Some(id) => e.with_user(User::named(id)), None => e }
//!         }
//!     };
//!     log.append(event.with_src_ip(ip).with_message("api key check"))
//! }
//!
//! /// A password login: `valid` from `Verdict::is_valid()`, or the error's `kind()`.
//! fn audit_password(log: &AuditLog, account: &str, valid: Result<bool, &'static str>, ip: IpAddr)
//!     -> Result<(), rampart_audit::Error>
//! {
//!     let event = match valid {
//!         Ok(true) => Event::authentication(AuthActivity::Logon, Outcome::Success),
//!         Ok(false) => Event::authentication(AuthActivity::Logon, Outcome::Failure).with_status_detail("mismatch"),
//!         Err(kind) => Event::authentication(AuthActivity::Logon, Outcome::Failure).with_status_detail(kind),
//!     };
//!     log.append(event.with_user(User::named(account)).with_src_ip(ip))
//! }
//!
//! let log = AuditLog::builder(ChainKey::generate("k1")?, WriterSink::new(Vec::new())).start()?;
//! let ip: IpAddr = "198.51.100.7".parse().unwrap();
//! audit_api_key(&log, Err(("revoked", Some("0123456789ABCDEF"))), ip)?;
//! audit_password(&log, "alice", Ok(true), ip)?;
//! # Ok::<(), rampart_audit::Error>(())
//! ```
//!
//! # Tamper evidence
//!
//! Each line carries `seq` (0, 1, 2, ... across all files), the chain key's id `kid`, and
//! `chain = HMAC-SHA256(key[kid], previous chain || canonical bytes)`; the line format is
//! documented in full in the `record` module source. Keys rotate with
//! [`AuditLog::rotate_key`]; the verifier takes a [`KeySet`] by id. With
//! [`Builder::with_checkpoints`], a worker signs checkpoints (Ed25519) over the position, the
//! chain value, the file, and a public SHA-256 digest of every line so far: someone holding
//! only the [`CheckpointPublicKey`] can check everything up to the last checkpoint.
//!
//! Each file starts with a `file_start` mark naming its position in the trail; a rotated
//! file ends with `file_end`, and a clean shutdown writes `shutdown`. So the verifier
//! detects and locates edited, deleted, inserted and reordered records, files that were
//! dropped (first, middle or last), reordered or cut short, and records re-chained or
//! re-signed with another key ([`BreakReason`]). Cutting whole records off the end of the
//! trail is detectable only when the trail was closed
//! ([`Verifier::with_require_closed`]) or against a checkpoint held elsewhere: no chain
//! alone can tell a trail cut at a line boundary from one still being written.
//!
//! # Writing
//!
//! [`AuditLog::append`] puts the event on a bounded queue and returns; a worker thread
//! chains, checkpoints and writes in batches. When the queue is full, [`WhenFull`] decides:
//! block, drop and count, or fail. [`FileSink`] writes append-only files
//! `PREFIX-NNNNNNNNNN.jsonl`, with an [`Fsync`] policy and rotation by size and/or age, and
//! continues an existing trail after a restart. [`WriterSink`] writes to stdout or any
//! writer; `TracingSink` (feature `tracing`) emits `tracing` events; [`Sink`] is the seam
//! for anything else.
//!
//! A writer that crashed mid-line leaves a torn last line and no end mark: the verifier
//! reports that file as broken there (evidence of the crash), and the next run continues the
//! chain in a new file.
//!
//! # Secrets
//!
//! [`ChainKey`] and [`CheckpointSigner`] zeroize on drop (ring's key pair for the latter),
//! print `[REDACTED]` in `Debug` and implement no `Display`; errors and verdicts never hold
//! key material.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod error;
mod event;
mod key;
mod log;
mod record;
mod sink;
mod verify;

pub use error::{ConfigError, Error};
pub use event::{
    AccountActivity, ApiActivity, AuthActivity, Class, Event, OCSF_VERSION, Outcome, Severity, User,
};
pub use key::{ChainKey, CheckpointPublicKey, CheckpointSigner, KeySet, MIN_CHAIN_KEY_BYTES};
pub use log::{AuditLog, Builder, WhenFull};
#[cfg(feature = "tracing")]
pub use sink::TracingSink;
pub use sink::{FileSink, Fsync, ResumePoint, Sink, WriterSink};
pub use verify::{Break, BreakReason, MAX_LINE_BYTES, Summary, Verdict, Verifier, verify};
