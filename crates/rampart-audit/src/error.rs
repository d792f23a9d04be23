//! The crate's one error type, with a family for key configuration.
//!
//! A broken trail is not an error: [`verify`](crate::verify) returns it as a
//! [`Verdict::Broken`](crate::Verdict::Broken). Errors are what stopped the work (I/O, a full
//! queue, a bad key). No message ever contains key material.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong in this crate.
///
/// ```
/// let err = rampart_audit::ChainKey::new("k1", &[0; 8]).unwrap_err();
/// assert_eq!(err.kind(), "invalid_chain_key");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A key, key id or option given to this crate is invalid.
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),
    /// Reading or writing an audit file failed.
    #[error("i/o error on {path}")]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The sink failed to write or make durable (disk full, permissions, closed pipe).
    #[error("the audit sink failed")]
    Sink(#[source] io::Error),
    /// The sink failed earlier (a write or fsync error); the trail stopped there and nothing
    /// more is accepted, since records the sink may have lost would break the chain.
    #[error("the audit sink failed; no more events are accepted")]
    SinkFailed,
    /// The queue is full and the log's policy is [`WhenFull::Fail`](crate::WhenFull::Fail).
    #[error("the audit queue is full")]
    QueueFull,
    /// The log was shut down.
    #[error("the audit log is shut down")]
    Closed,
    /// The operating system's random number generator failed; no key was produced.
    #[error("the operating system's random number generator failed")]
    Random,
}

impl Error {
    /// A stable, machine-readable name for the error (logs, metrics, the CLI's `"error"`).
    ///
    /// ```
    /// assert_eq!(rampart_audit::Error::QueueFull.kind(), "queue_full");
    /// ```
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Config(e) => e.kind(),
            Self::Io { .. } => "io",
            Self::Sink(_) => "sink",
            Self::SinkFailed => "sink_failed",
            Self::QueueFull => "queue_full",
            Self::Closed => "closed",
            Self::Random => "random_failed",
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}

/// An invalid key or option given by the application (never by the trail's content).
///
/// ```
/// use rampart_audit::{ConfigError, Error, KeySet};
/// let err = KeySet::parse("just-one-field").unwrap_err();
/// assert!(matches!(err, Error::Config(ConfigError::KeyFileLine { line: 1 })));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A chain key is shorter than [`MIN_CHAIN_KEY_BYTES`](crate::MIN_CHAIN_KEY_BYTES) or not
    /// valid base64.
    #[error("a chain key must be at least 32 bytes (base64 in text form)")]
    ChainKey,
    /// A key id is empty, longer than 64 bytes or has characters outside `[A-Za-z0-9._-]`.
    #[error("a key id must be 1-64 characters of [A-Za-z0-9._-]")]
    KeyId,
    /// The key set already holds this key id.
    #[error("key id {0:?} is twice in the key set")]
    DuplicateKeyId(String),
    /// A key file line is not `KEY_ID BASE64`.
    #[error("key file line {line}: expected `KEY_ID BASE64`")]
    KeyFileLine {
        /// 1-based line number.
        line: usize,
    },
    /// A checkpoint signing key is not an Ed25519 PKCS#8 document.
    #[error("the checkpoint signing key is not an Ed25519 PKCS#8 key")]
    SigningKey,
    /// A checkpoint public key is not 32 bytes of base64.
    #[error("the checkpoint public key must be 32 bytes in base64")]
    PublicKey,
    /// An option is out of range (queue capacity 0, checkpoint interval 0, rotation size 0).
    #[error("option out of range: {0}")]
    Option(&'static str),
    /// The audit directory holds a file whose last records cannot be read back to continue
    /// the chain.
    #[error("cannot continue the trail from {0}: its last record is unreadable")]
    Resume(PathBuf),
}

impl ConfigError {
    /// A stable, machine-readable name for the error.
    ///
    /// ```
    /// assert_eq!(rampart_audit::ConfigError::KeyId.kind(), "invalid_key_id");
    /// ```
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::ChainKey => "invalid_chain_key",
            Self::KeyId => "invalid_key_id",
            Self::DuplicateKeyId(_) => "duplicate_key_id",
            Self::KeyFileLine { .. } => "malformed_key_file",
            Self::SigningKey => "invalid_signing_key",
            Self::PublicKey => "invalid_public_key",
            Self::Option(_) => "invalid_option",
            Self::Resume(_) => "unreadable_trail",
        }
    }
}
