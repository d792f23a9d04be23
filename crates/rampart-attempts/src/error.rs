//! The crate's one error type.

/// Everything that can go wrong in this crate.
///
/// Messages are lower-case and never contain an unlock token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The shared store could not be used (see [`StoreError`]).
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// A notifier failed to deliver a notification (see [`NotifyError`]).
    #[error("notify: {0}")]
    Notify(#[from] NotifyError),
    /// The text given as an unlock token is not one this crate issued (wrong length or
    /// alphabet). Nothing was looked up.
    #[error("malformed unlock token")]
    MalformedUnlockToken,
    /// The operating system's random generator failed; no unlock token could be issued.
    /// Reported in [`FailureOutcome::unlock_token_error`](crate::FailureOutcome::unlock_token_error):
    /// the failure itself was recorded.
    #[error("the operating system's random generator failed")]
    Random,
    /// A policy or store configuration is out of range.
    #[error("invalid configuration: {reason}")]
    InvalidConfig {
        /// What is wrong, in words.
        reason: &'static str,
    },
}

impl Error {
    /// A stable, machine-readable name for the error (for logs and metrics); it does not
    /// change between releases.
    ///
    /// ```
    /// use rampart_attempts::{Error, StoreError};
    /// assert_eq!(Error::Store(StoreError::Unavailable).kind(), "store_unavailable");
    /// assert_eq!(Error::MalformedUnlockToken.kind(), "malformed_unlock_token");
    /// ```
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Store(StoreError::Unavailable) => "store_unavailable",
            Error::Store(StoreError::UnexpectedReply) => "store_unexpected_reply",
            Error::Store(StoreError::Setup { .. }) => "store_setup",
            Error::Store(StoreError::BadRow { .. }) => "store_bad_row",
            Error::Store(StoreError::SchemaTooNew { .. }) => "store_schema_too_new",
            Error::Notify(NotifyError::InvalidAddress) => "notify_invalid_address",
            Error::Notify(NotifyError::Message { .. }) => "notify_message",
            Error::Notify(NotifyError::Delivery { .. }) => "notify_delivery",
            Error::MalformedUnlockToken => "malformed_unlock_token",
            Error::Random => "random_failed",
            Error::InvalidConfig { .. } => "invalid_config",
        }
    }
}

/// Failures of a store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The shared store is unreachable or timed out and the store is configured to fail
    /// closed; the caller should deny the attempt.
    #[error("shared store unavailable (failing closed)")]
    Unavailable,
    /// The shared store answered with something this crate did not write.
    #[error("unexpected reply from the shared store")]
    UnexpectedReply,
    /// The store could not be set up (bad URL, no async runtime, unreachable database,
    /// failed migration).
    #[error("store setup failed: {reason}")]
    Setup {
        /// What went wrong, in this crate's words, without credentials.
        reason: String,
        /// The database's or Redis client's own error when there is one, typed (downcast
        /// it to `sqlx::Error`, `sqlx::migrate::MigrateError` or `redis::RedisError`). A
        /// malformed URL has none: the parser's error may quote the URL, and a URL may carry a
        /// password.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// A stored row holds what this release did not write (a hand-edited row, a row of a
    /// newer layout, a truncated value). Refused, never read as a streak or a token: the
    /// caller denies, and an operator finds the row by its key.
    #[error("unreadable row {key:?} in the store: {problem}")]
    BadRow {
        /// The row's key (the subject's storage key, or `h:` and its SHA-256 for a long one).
        key: String,
        /// What is wrong with it.
        problem: RowProblem,
    },
    /// The database holds a schema from a newer release: refused rather than misread. Roll
    /// this release forward (or the database back).
    #[error("store schema version {found} is newer than this release reads ({supported})")]
    SchemaTooNew {
        /// The version found in the database.
        found: i64,
        /// The newest version this release reads.
        supported: i64,
    },
}

impl StoreError {
    /// [`StoreError::Setup`] in this crate's words alone.
    #[cfg(any(feature = "redis", feature = "postgres", feature = "sqlite"))]
    pub(crate) fn setup(reason: impl Into<String>) -> Error {
        Error::Store(StoreError::Setup {
            reason: reason.into(),
            source: None,
        })
    }

    /// [`StoreError::Setup`] caused by the lower layer's `source`.
    #[cfg(any(feature = "redis", feature = "postgres", feature = "sqlite"))]
    pub(crate) fn setup_caused_by(
        reason: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Error {
        Error::Store(StoreError::Setup {
            reason: reason.into(),
            source: Some(Box::new(source)),
        })
    }
}

/// What is wrong with a stored row ([`StoreError::BadRow`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RowProblem {
    /// Written by a newer release in a layout this one does not read.
    #[error("row layout {found}, this release reads layout 1")]
    Layout {
        /// The layout number found.
        found: i64,
    },
    /// A column holds a value outside the range this crate writes.
    #[error("column {column} out of range")]
    OutOfRange {
        /// The column's name.
        column: &'static str,
    },
    /// A column holds a value of another type (or none).
    #[error("column {column} has the wrong type or is empty")]
    Type {
        /// The column's name.
        column: &'static str,
    },
    /// The unlock-token hash is not 32 bytes (a truncated value).
    #[error("unlock-token hash of {len} bytes, not 32")]
    TokenLength {
        /// Its length.
        len: usize,
    },
}

/// Failures of a [`Notifier`](crate::Notifier).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotifyError {
    /// An address (sender or recipient) is not a valid mailbox.
    #[error("invalid mailbox address")]
    InvalidAddress,
    /// The message could not be built.
    #[error("message could not be built: {reason}")]
    Message {
        /// Why: the message builder's own error, typed (a message alone converts too:
        /// `reason: "no body".into()`).
        #[source]
        reason: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The transport (SMTP server, queue, webhook) refused or failed the delivery.
    #[error("delivery failed: {reason}")]
    Delivery {
        /// Why: the transport's own error (server reply or I/O error), typed, never a
        /// token (a message alone converts too: `reason: "smtp down".into()`).
        #[source]
        reason: Box<dyn std::error::Error + Send + Sync>,
    },
}
