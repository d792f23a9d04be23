//! The crate's one error type.
//!
//! Authentication failures carry the public id they concern (public by design) so a service
//! can count failures per public key; no variant ever holds secret key text.
//! Tell the client only "invalid API key": the variants are for logs and counters, and
//! telling a client *why* would be an oracle (for example, which public ids exist).

use std::time::SystemTime;

use crate::key::PublicId;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The text is not shaped like a secret or public key; nothing was looked up.
    #[error("malformed api key: {0}")]
    Malformed(#[from] MalformedKey),
    /// The key is well formed but its checksum does not match: a typo, a truncation or a
    /// forgery. Rejected before any store lookup.
    #[error("api key {public_id} failed its checksum")]
    BadChecksum {
        /// The public id written in the rejected text (may itself be mistyped).
        public_id: PublicId,
    },
    /// The key is valid but its prefix (service and environment) is not accepted here, for
    /// example a `_test_` key sent to a live service.
    #[error("api key {public_id} has a prefix that is not accepted here")]
    UnexpectedPrefix {
        /// The public id of the key.
        public_id: PublicId,
    },
    /// In the pair form, the public key names another id than the one inside the secret.
    #[error("public key {public_id} does not match the secret key's public id")]
    PairMismatch {
        /// The public id named by the public key.
        public_id: PublicId,
    },
    /// No record has this public id.
    #[error("no api key has public id {public_id}")]
    UnknownKey {
        /// The public id that was looked up.
        public_id: PublicId,
    },
    /// A record exists but the secret does not match it (neither the current secret nor a
    /// previous one still in its grace period).
    #[error("secret does not match api key {public_id}")]
    Mismatch {
        /// The public id whose secret was wrong.
        public_id: PublicId,
    },
    /// The secret matched but the key expired at `expired_at`.
    #[error("api key {public_id} has expired")]
    Expired {
        /// The public id of the expired key.
        public_id: PublicId,
        /// When it expired.
        expired_at: SystemTime,
    },
    /// The secret matched a previous (rotated) secret whose grace period is over.
    #[error("a replaced secret of api key {public_id} was used after its grace period")]
    RotatedOut {
        /// The public id of the key.
        public_id: PublicId,
        /// When the grace period of the old secret ended.
        grace_ended_at: SystemTime,
    },
    /// The secret matched but the key was revoked.
    #[error("api key {public_id} has been revoked")]
    Revoked {
        /// The public id of the revoked key.
        public_id: PublicId,
        /// When it was revoked.
        revoked_at: SystemTime,
    },
    /// The secret matched but the key lacks a scope the request needs.
    #[error("api key {public_id} lacks the scope {scope:?}")]
    MissingScope {
        /// The public id of the key.
        public_id: PublicId,
        /// The first required scope the key does not have.
        scope: String,
    },
    /// The record was hashed under a hashing key version this server does not hold: a
    /// configuration error (a retired key version, or the wrong keyset).
    #[error("api key {public_id} is hashed under unknown hashing key version {version}")]
    UnknownHashingKeyVersion {
        /// The public id of the record.
        public_id: PublicId,
        /// The hashing key version the record names.
        version: u32,
    },
    /// The key store failed (database down, timeout...). The source is the store's error.
    #[error("api key store failed")]
    Store(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
    /// A prefix, scope, key or option given to this crate is invalid.
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),
    /// The operating system's random number generator failed; no key was produced.
    #[error("the operating system's random number generator failed")]
    Random,
}

impl Error {
    /// The public id this failure concerns, for counting failed attempts per public key
    /// (see rampart-attempts). `None` for malformed input and configuration or store errors.
    ///
    /// ```
    /// # use rampart_apikey::ParsedApiKey;
    /// let err = ParsedApiKey::parse("rk_live_0123456789ABCDEF_00000000000000000000000000000000000000")
    ///     .unwrap_err();
    /// assert_eq!(err.public_id().unwrap().as_str(), "0123456789ABCDEF");
    /// ```
    #[must_use]
    pub fn public_id(&self) -> Option<PublicId> {
        match self {
            Self::BadChecksum { public_id }
            | Self::UnexpectedPrefix { public_id }
            | Self::PairMismatch { public_id }
            | Self::UnknownKey { public_id }
            | Self::Mismatch { public_id }
            | Self::Expired { public_id, .. }
            | Self::RotatedOut { public_id, .. }
            | Self::Revoked { public_id, .. }
            | Self::MissingScope { public_id, .. }
            | Self::UnknownHashingKeyVersion { public_id, .. } => Some(*public_id),
            Self::Malformed(_) | Self::Store(_) | Self::Config(_) | Self::Random => None,
        }
    }

    /// A stable, machine-readable name for the error (for logs, metrics and the CLI's
    /// `"error"` field); it does not change between releases.
    ///
    /// ```
    /// # use rampart_apikey::ParsedApiKey;
    /// let err = ParsedApiKey::parse("rk_live_0123456789ABCDEF_00000000000000000000000000000000000000")
    ///     .unwrap_err();
    /// assert_eq!(err.kind(), "bad_checksum");
    /// ```
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "malformed",
            Self::BadChecksum { .. } => "bad_checksum",
            Self::UnexpectedPrefix { .. } => "unexpected_prefix",
            Self::PairMismatch { .. } => "pair_mismatch",
            Self::UnknownKey { .. } => "unknown_key",
            Self::Mismatch { .. } => "mismatch",
            Self::Expired { .. } => "expired",
            Self::RotatedOut { .. } => "rotated_out",
            Self::Revoked { .. } => "revoked",
            Self::MissingScope { .. } => "missing_scope",
            Self::UnknownHashingKeyVersion { .. } => "unknown_hashing_key_version",
            Self::Store(_) => "store",
            Self::Config(_) => "invalid_option",
            Self::Random => "random_failed",
        }
    }

    /// True for failures caused by the presented credential (malformed, checksum, unknown,
    /// mismatch, expired, rotated out, revoked, scope, prefix, pair), false for server-side
    /// problems (store, configuration, randomness, unknown hashing key version) that should
    /// be answered with a server error, not counted against the client.
    #[must_use]
    pub fn is_credential_failure(&self) -> bool {
        !matches!(
            self,
            Self::Store(_) | Self::Config(_) | Self::Random | Self::UnknownHashingKeyVersion { .. }
        )
    }
}

/// Why a text is not a well-formed key. Limits: a secret key is at most
/// [`MAX_SECRET_KEY_LEN`](crate::MAX_SECRET_KEY_LEN) bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MalformedKey {
    /// The text is empty.
    #[error("empty")]
    Empty,
    /// The text is longer than any key this crate produces.
    #[error("longer than {max} bytes")]
    TooLong {
        /// The limit.
        max: usize,
    },
    /// A character outside `[A-Za-z0-9_]`, or not the `prefix_environment_id_secret` shape.
    #[error("not of the form service_environment_publicid_secret")]
    Shape,
    /// The service part is not 1-16 characters of `[a-z0-9]` starting with a letter.
    #[error("invalid service prefix")]
    Service,
    /// The environment part is not 1-16 characters of `[a-z0-9]`.
    #[error("invalid environment")]
    Environment,
    /// The public id is not exactly 16 base62 characters.
    #[error("public id is not 16 base62 characters")]
    PublicId,
    /// The secret part is not exactly 38 base62 characters (32 random, 6 checksum).
    #[error("secret is not 38 base62 characters")]
    Secret,
}

/// An invalid value given to this crate by the service (not by a client).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A key prefix's service or environment part is invalid.
    #[error("invalid key prefix: {0}")]
    Prefix(MalformedKey),
    /// A scope is empty, longer than 128 bytes or has characters outside
    /// `[A-Za-z0-9:._/-]`.
    #[error("invalid scope")]
    Scope,
    /// More than [`MAX_SCOPES`](crate::MAX_SCOPES) scopes.
    #[error("too many scopes")]
    TooManyScopes,
    /// A hashing key is shorter than 32 bytes or not valid base64.
    #[error("hashing key must be at least 32 bytes (base64 in text form)")]
    HashingKey,
    /// The keyset already holds this hashing key version.
    #[error("hashing key version {0} is already in the keyset")]
    DuplicateKeyVersion(u32),
    /// The keyset does not hold this hashing key version.
    #[error("hashing key version {0} is not in the keyset")]
    MissingKeyVersion(u32),
    /// A time is outside what RFC 3339 can store (years 0000-9999), or an expiry is not after
    /// creation.
    #[error("time out of range")]
    Time,
    /// Rotating a revoked key is refused: revocation is final.
    #[error("a revoked key cannot be rotated")]
    RevokedKey,
    /// The store already holds a record with this public id.
    #[error("a record with this public id already exists")]
    DuplicatePublicId,
}
