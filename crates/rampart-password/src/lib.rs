//! Password hashing for services: argon2id with OWASP defaults, a rotatable pepper,
//! verification that upgrades old hashes, legacy formats for migration, no user enumeration,
//! a NIST SP 800-63B policy, and bounded concurrency with wiped argon2 memory.
//!
//! ```
//! use rampart_password::{Hasher, Password, Verdict};
//!
//! # let hasher = Hasher::builder().with_params(rampart_password::Params::new(64, 1, 1)?).build()?;
//! // let hasher = Hasher::new(); // argon2id, m = 19 MiB, t = 2, p = 1
//! let stored = hasher.hash(&Password::new("correct horse battery staple"))?; // PHC string
//! match hasher.verify(&Password::new("correct horse battery staple"), &stored)? {
//!     Verdict::Valid => println!("welcome back"),
//!     Verdict::ValidNeedsUpgrade { new_hash, .. } => println!("welcome; store {new_hash}"),
//!     Verdict::Invalid => println!("wrong password"),
//! }
//! // An unknown user costs the same as a known one:
//! assert_eq!(hasher.dummy_verify(&Password::new("guess"))?, Verdict::Invalid);
//! # Ok::<(), rampart_password::Error>(())
//! ```
//!
//! # What it guarantees
//! - New hashes are argon2id v1.3 PHC strings (`$argon2id$v=19$m=..,t=..,p=..$salt$hash`),
//!   readable by any argon2 implementation; with a pepper, its version is the `keyid`.
//! - [`Hasher::verify`] returns [`Verdict::ValidNeedsUpgrade`] with the replacement hash when
//!   the stored one uses another algorithm, weaker parameters or an older pepper.
//! - Costs read from stored hashes are capped ([`Caps`], default 4x current) and refused with
//!   [`Error::ParamsAboveCap`] before any memory is allocated.
//! - Hashes run on at most [`Hasher::workers`] workers, each owning its argon2 memory,
//!   which is zeroized after every hash. With the `tokio` feature, `hash_async` and
//!   `verify_async` wait for a worker without blocking the executor.
//! - Passwords are [`Password`] values: zeroized on drop, `[REDACTED]` in `Debug`.
//!
//! # Features
//! - `legacy`: verify bcrypt, scrypt, PBKDF2 and Django hashes (always upgraded on success).
//! - `tokio`: async hashing and verification.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "tokio")]
mod r#async;
mod error;
mod hasher;
#[cfg(feature = "legacy")]
mod legacy;
mod limiter;
mod normalize;
mod params;
mod pepper;
mod policy;
#[cfg(feature = "tokio")]
mod pool;
mod secret;
mod stored;
mod verify;

pub use error::{ConfigError, Error, MalformedHash, Result};
pub use hasher::{DEFAULT_MAX_PASSWORD_BYTES, Hasher, HasherBuilder};
pub use limiter::{DEFAULT_MEMORY_BUDGET, LimiterConfig};
pub use params::{Caps, Params};
pub use pepper::{MAX_PEPPER_LEN, Pepper};
pub use policy::{
    BreachedCheck, BreachedSet, ContextWord, Policy, PolicyBuilder, PolicyContext, Rejection,
};
pub use secret::Password;
pub use stored::{Algorithm, HashInfo, MAX_STORED_HASH_LEN, inspect};
pub use verify::{UpgradeReason, Verdict};
