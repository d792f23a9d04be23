//! Envelope encryption for values a service keeps at rest: OAuth tokens, database
//! credentials, webhook secrets, personal data columns.
//!
//! ```
//! use std::time::SystemTime;
//! use rampart_envelope::{Context, Keyring, LocalMasterKey};
//!
//! let master = LocalMasterKey::generate()?; // in production: LocalMasterKey::from_file(path)?
//! let mut ring = Keyring::create("oauth-tokens", "eu-central", &master, SystemTime::now())?;
//! let ctx = Context::new().with("tenant", "42").with("column", "oauth_token");
//! let column = ring.seal_text(b"ya29.a0Af...", &ctx)?;          // store this text
//! assert_eq!(&ring.open_text(&column, &ctx)?[..], b"ya29.a0Af...");
//! assert!(ring.open_text(&column, &Context::new().with("tenant", "43")).is_err());
//! ring.rotate(&master, SystemTime::now())?;                    // old values still open
//! # Ok::<(), rampart_envelope::Error>(())
//! ```
#![forbid(unsafe_code)]

mod context;
mod error;
mod keyring;
mod keyring_file;
mod master_key;
mod primitives;
mod sealed;
mod subkey;

pub mod reencrypt;
pub mod retention;
pub mod stream;

pub use context::{Context, MAX_ENCODED_LEN, MAX_KEY_LEN, MAX_PAIRS};
pub use error::{ContextError, Error, FileError, KeyringFileError, MasterKeyError};
pub use keyring::{
    Keyring, KeyringId, KeyringKind, MAX_FILE_LEN, MAX_LABEL_LEN, MAX_VERSIONS, VersionInfo,
    VersionState,
};
pub use master_key::{
    KeyMaterial, LocalMasterKey, MASTER_KEY_ENV, MasterKey, MasterKeyId, WrappedKey,
};
pub use sealed::{MAX_PLAINTEXT_LEN, OVERHEAD, SealedValue};
pub use subkey::{NonceSource, reseed};
