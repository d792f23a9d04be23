//! API key pairs for services: prefixed, checksummed secret keys, a stored record holding
//! only a keyed hash, and a constant-time check with typed errors.
//!
//! ```
//! use rampart_apikey::{ApiKeys, HashingKey, InMemoryStore, KeyOptions, KeyPrefix, Keyset};
//! use std::time::SystemTime;
//!
//! let keys = ApiKeys::new(KeyPrefix::new("rk", "live")?, Keyset::new(1, HashingKey::generate()?));
//! let store = InMemoryStore::new();
//! let now = SystemTime::now();
//! let issued = keys.issue(KeyOptions::new().with_scopes(["orders:read"]), now)?;
//! store.insert(issued.record)?; // the secret itself is never stored
//! let who = keys.check(&store, issued.secret_key.expose_secret(), &["orders:read"], now)?;
//! assert_eq!(who.public_id(), issued.public_key.public_id());
//! # Ok::<(), rampart_apikey::Error>(())
//! ```
//!
//! # Keys
//!
//! Each credential is a pair. The **public key** (`rk_live_0123456789ABCDEF`) names it and
//! may appear in logs and dashboards. The **secret key** is shown once:
//!
//! ```text
//! rk_live_0123456789ABCDEF_abcdefghijklmnopqrstuvwxyzABCDEF1a2B3c
//! service_environment_publicid_random(32)checksum(6)
//! ```
//!
//! - service `[a-z][a-z0-9]{0,15}` and environment `[a-z0-9]{1,16}` form the [`KeyPrefix`];
//! - the public id is 16 base62 characters, so the secret key alone authenticates (the pair
//!   form, [`ApiKeys::check_pair`], is accepted too);
//! - 32 random base62 characters from the OS CSPRNG: 190 bits;
//! - a CRC32 of everything before it in 6 base62 characters, as in GitHub's token format:
//!   a typo or truncation is rejected ([`Error::BadChecksum`]) before any lookup, and
//!   scanners confirm candidates without false positives. [`ParsedApiKey`] can only be
//!   obtained by passing it.
//!
//! # Records and hashing
//!
//! [`ApiKeyRecord`] holds the public id, HMAC-SHA256 of the secret key under a server-side
//! [`HashingKey`] with its version (a [`Keyset`] holds several so the hashing key can
//! rotate), creation time, optional expiry, scopes, revocation time, the last four characters
//! and, after [`ApiKeys::rotate`], the previous secret's hash with the end of its grace
//! period. Its serde form is versioned and documented on [`ApiKeyRecord`]; `tests/vectors/` holds golden records that must keep verifying.
//!
//! # Checking
//!
//! [`ApiKeys::check`]: parse, checksum, accepted prefix, lookup by public id through a
//! [`KeyStore`] ([`AsyncKeyStore`] and [`ApiKeys::check_async`] for async databases, or
//! [`ApiKeys::verify`] with a record you loaded), constant-time comparison
//! (`subtle`), then revocation, expiry, rotation grace and scopes. Every path computes exactly
//! one HMAC (unknown id, wrong secret, a rotated record's previous secret under another
//! hashing key version): timing does not tell which case a guess hit. Errors name the public id ([`Error::public_id`]) for
//! counting failures per key, never the secret.
//!
//! # Stores
//!
//! [`InMemoryStore`] for tests and single processes; with feature `postgres` or `sqlite`,
//! `SqlKeyStore` (`PostgresKeyStore`, `SqliteKeyStore`) keeps records in a database
//! over sqlx, with embedded migrations, compare-and-swap saves, bounded timeouts, and typed
//! errors naming the row for anything it cannot read. Any other database plugs in through
//! [`KeyStore`] / [`AsyncKeyStore`].
//!
//! # Scanning and redaction
//!
//! [`find_keys`] finds checksum-valid keys in any text; [`redact`] replaces them by
//! `rk_live_0123456789ABCDEF_****wXyZ` (prefix, public id, last four). The regular
//! expression for secret scanners ([`SCANNER_REGEX`]) is
//!
//! ```text
//! [a-z][a-z0-9]{0,15}_[a-z0-9]{1,16}_[0-9A-Za-z]{16}_[0-9A-Za-z]{38}
//! ```
//!
//! and, for one prefix ([`KeyPrefix::scanner_regex`]), for example
//! `\brk_live_[0-9A-Za-z]{16}_[0-9A-Za-z]{38}\b`. Confirm matches with the checksum.
//!
//! # Secrets in memory
//!
//! [`SecretKey`], [`ParsedApiKey`] and [`HashingKey`] zeroize on drop, print `[REDACTED]` in
//! `Debug`, implement no `Display` and are read with `expose_secret()`.

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod base62;
mod error;
mod hashing;
mod key;
mod record;
mod scan;
mod service;
#[cfg(any(feature = "postgres", feature = "sqlite"))]
mod sql_store;
mod store;

pub use error::{ConfigError, Error, MalformedKey};
pub use hashing::{HashingKey, Keyset, MIN_HASHING_KEY_LEN, SecretHash};
pub use key::{
    KeyPrefix, MAX_PREFIX_PART_LEN, MAX_SECRET_KEY_LEN, PUBLIC_ID_LEN, ParsedApiKey, PublicId,
    PublicKey, SECRET_RANDOM_LEN, SecretKey,
};
pub use record::{ApiKeyRecord, MAX_SCOPE_LEN, MAX_SCOPES, PreviousSecret, RECORD_VERSION};
pub use scan::{FoundKey, SCANNER_REGEX, find_keys, redact, redact_key};
pub use service::{ApiKeys, IssuedKey, KeyOptions, VerifiedKey};
#[cfg(feature = "postgres")]
pub use sql_store::PostgresKeyStore;
#[cfg(feature = "sqlite")]
pub use sql_store::SqliteKeyStore;
#[cfg(any(feature = "postgres", feature = "sqlite"))]
pub use sql_store::{
    CorruptRecord, MAX_RECORD_BYTES, Revision, SqlBackend, SqlKeyStore, SqlStoreOptions,
    StoreError, StoredRecord,
};
/// The sqlx this crate's SQL stores are built on (their pools and `from_pool` take its types),
/// re-exported so a service names the same version.
#[cfg(any(feature = "postgres", feature = "sqlite"))]
#[doc(no_inline)]
pub use sqlx;
pub use store::{AsyncKeyStore, InMemoryStore, KeyStore};
