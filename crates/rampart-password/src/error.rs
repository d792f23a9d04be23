//! The crate's one error type.
//!
//! Messages are lower-case and never contain a password, a pepper, a salt or a hash output:
//! at most the algorithm name and the offending public parameter.

use crate::policy::Rejection;

/// Everything that can go wrong while hashing or verifying.
///
/// A wrong password is **not** an error: [`crate::Hasher::verify`] returns
/// [`crate::Verdict::Invalid`] for it. Errors mean the stored hash, the configuration or the
/// environment is at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The stored hash could not be parsed.
    #[error("malformed stored hash: {0}")]
    Malformed(#[from] MalformedHash),

    /// The stored hash names an algorithm this build does not verify.
    #[error("unsupported password hash algorithm `{algorithm}`")]
    UnsupportedAlgorithm {
        /// The algorithm identifier as written in the hash (public, e.g. `pbkdf2-sha1`).
        algorithm: String,
    },

    /// The stored hash is a legacy format, but the crate was built without the `legacy` feature.
    #[error("legacy hash format `{format}` needs the `legacy` feature")]
    LegacyFormatDisabled {
        /// Which legacy format was recognised (`bcrypt`, `scrypt`, `pbkdf2`, `django`).
        format: &'static str,
    },

    /// A cost parameter read from the stored hash is above the configured cap. Nothing was
    /// hashed: a planted hash cannot make verification allocate or run without bound.
    #[error("stored hash parameter `{param}` = {value} exceeds the cap {cap}")]
    ParamsAboveCap {
        /// Which parameter (`m`, `t`, `p`, `bcrypt cost`, `scrypt memory`, ...).
        param: &'static str,
        /// The value found in the stored hash.
        value: u64,
        /// The configured maximum.
        cap: u64,
    },

    /// The stored hash needs more working memory than the limiter's whole budget (possible
    /// when the caps allow more than the budget), so it could never run within it. Nothing was
    /// allocated; raise [`crate::LimiterConfig::with_memory_budget_bytes`] or lower the caps.
    #[error(
        "stored hash needs {needed_bytes} bytes of working memory, above the budget of {budget_bytes}"
    )]
    AboveMemoryBudget {
        /// Working memory the hash needs.
        needed_bytes: usize,
        /// The limiter's memory budget (in whole argon2 blocks).
        budget_bytes: usize,
    },

    /// The stored hash was made with a pepper version this hasher does not hold.
    #[error("unknown pepper version {version}")]
    UnknownPepperVersion {
        /// The version read from the hash's `keyid` parameter.
        version: u32,
    },

    /// The password is longer than the hasher's byte cap (a defence against hashing DoS).
    #[error("password is longer than {max_bytes} bytes")]
    PasswordTooLong {
        /// The configured cap in bytes.
        max_bytes: usize,
    },

    /// The hasher or limiter configuration is invalid.
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),

    /// A password was rejected by the policy.
    #[error("password rejected: {0}")]
    Policy(#[from] Rejection),

    /// The limiter's queue is full: too many hashes are waiting.
    #[error("too many password hashes in flight; try again later")]
    Overloaded,

    /// The operating system's random generator failed.
    #[error("the system random number generator failed")]
    Rng,

    /// The hash of an async call failed on its worker thread (it panicked, or no worker
    /// thread could be started).
    #[error("the hashing task failed")]
    TaskFailed,

    /// Reading a breached-password list failed.
    #[error("could not read the breached-password list: {0}")]
    BreachedList(#[from] std::io::Error),
}

impl Error {
    /// A stable, machine-readable name for the error (for logs, metrics and the CLI's
    /// `"error"` field); it does not change between releases.
    ///
    /// ```
    /// use rampart_password::{Error, Hasher, Password};
    /// let err = Hasher::new().verify(&Password::new("pw"), "not a hash").unwrap_err();
    /// assert_eq!(err.kind(), "malformed_hash");
    /// ```
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Malformed(_) => "malformed_hash",
            Error::UnsupportedAlgorithm { .. } | Error::LegacyFormatDisabled { .. } => {
                "unsupported_algorithm"
            }
            Error::ParamsAboveCap { .. } => "params_above_cap",
            Error::AboveMemoryBudget { .. } => "above_memory_budget",
            Error::UnknownPepperVersion { .. } => "pepper_required",
            Error::PasswordTooLong { .. } => "password_too_long",
            Error::Config(_) => "invalid_config",
            Error::Policy(_) => "policy_rejected",
            Error::Overloaded => "overloaded",
            Error::Rng => "random_failed",
            Error::TaskFailed => "task_failed",
            Error::BreachedList(_) => "breached_list_unreadable",
        }
    }
}

/// Why a stored hash could not be parsed. Each variant names the broken part, never its value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MalformedHash {
    /// The hash is empty.
    #[error("empty")]
    Empty,
    /// The hash is longer than the parser accepts.
    #[error("longer than {max} bytes")]
    TooLong {
        /// The limit in bytes.
        max: usize,
    },
    /// The text is not a PHC string, a bcrypt hash or a Django hash.
    #[error("unrecognised format")]
    UnknownFormat,
    /// The PHC string does not follow the PHC grammar.
    #[error("invalid phc string")]
    Phc,
    /// A parameter is missing, repeated, unknown or out of range.
    #[error("invalid parameter `{0}`")]
    Param(&'static str),
    /// The version field is not one this algorithm defines.
    #[error("invalid version")]
    Version,
    /// The salt is missing or has an invalid length or encoding.
    #[error("invalid salt")]
    Salt,
    /// The hash output is missing or has an invalid length or encoding.
    #[error("invalid hash output")]
    Output,
    /// The `keyid` (pepper version) is not a 4-byte big-endian version.
    #[error("invalid keyid")]
    KeyId,
}

/// A configuration value is out of range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// argon2 parameters are outside what the algorithm (RFC 9106 section 3.1) allows.
    #[error("argon2 parameters out of range: {0}")]
    Argon2Params(#[source] argon2::Error),
    /// The caps are below the parameters the hasher itself produces.
    #[error("caps are below the current parameters")]
    CapsBelowParams,
    /// A pepper is empty or longer than 64 bytes, or two peppers share a version.
    #[error("invalid pepper: {0}")]
    Pepper(&'static str),
    /// A policy setting is out of range (for example a maximum below 64 characters).
    #[error("invalid policy: {0}")]
    Policy(&'static str),
    /// The limiter needs at least one worker.
    #[error("invalid limiter: {0}")]
    Limiter(&'static str),
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
