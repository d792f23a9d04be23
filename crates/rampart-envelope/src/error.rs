//! The crate's one error type and its nested families (`docs/envelope.md` §12).
//!
//! Messages are lower-case and never contain key bytes, plaintext or wrapped keys. Callers
//! that only need "did it open" match [`Error::is_tampered`]; operators read the specific
//! variant.

use std::path::PathBuf;
use std::time::SystemTime;

use crate::keyring::KeyringId;

/// Everything that can go wrong in this crate.
///
/// `#[non_exhaustive]`: new variants may appear in minor releases.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // ---- header and format -------------------------------------------------------------
    /// The input ended before a complete header (or a complete stream) was read.
    #[error("ciphertext is truncated")]
    Truncated,
    /// The format version byte names a format this crate does not know.
    #[error("unsupported ciphertext format version {version}")]
    UnsupportedFormat {
        /// The version byte found.
        version: u8,
    },
    /// The suite byte names an algorithm suite this crate does not know.
    #[error("unsupported algorithm suite {suite}")]
    UnsupportedSuite {
        /// The suite byte found.
        suite: u8,
    },
    /// The text form was not valid unpadded base64url.
    #[error("sealed text is not valid unpadded base64url")]
    MalformedText,
    /// A plaintext is larger than [`crate::MAX_PLAINTEXT_LEN`].
    #[error("plaintext of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// Length given.
        len: usize,
        /// The limit.
        max: usize,
    },

    // ---- keyring, region, version --------------------------------------------------------
    /// The ciphertext was sealed by another keyring.
    #[error("ciphertext belongs to keyring {found}, not to keyring {expected}")]
    KeyringMismatch {
        /// This keyring's id.
        expected: KeyringId,
        /// The id named in the ciphertext.
        found: KeyringId,
    },
    /// The ciphertext was sealed in another region.
    #[error("ciphertext was sealed in another region (code {found_code:04x}), not in {expected:?}")]
    RegionMismatch {
        /// This keyring's region label.
        expected: String,
        /// The 2-byte region code named in the ciphertext.
        found_code: u16,
    },
    /// The ciphertext names a key version this keyring has never had.
    #[error("unknown key version {version}")]
    UnknownKeyVersion {
        /// The version named in the ciphertext.
        version: u32,
    },
    /// The version exists but is below the keyring's minimum decryption version.
    #[error("key version {version} is below the minimum decryption version {min}")]
    BelowMinDecrypt {
        /// The version named in the ciphertext.
        version: u32,
        /// The keyring's minimum decryption version.
        min: u32,
    },
    /// The version was retired: its key material is destroyed and the data is unreadable.
    #[error("key version {version} was retired and its key destroyed")]
    KeyRetired {
        /// The retired version.
        version: u32,
        /// When it was retired (from the tombstone).
        retired_at: SystemTime,
    },
    /// A retention bucket was purged: the data sealed in it has expired on purpose.
    #[error("retention bucket {bucket} was purged; the data has expired")]
    Expired {
        /// The bucket (key version) named in the ciphertext.
        bucket: u32,
        /// When the bucket key was destroyed.
        purged_at: SystemTime,
    },
    /// The keyring has no primary version, so it cannot seal.
    #[error("keyring has no primary version to seal with")]
    NoPrimary,
    /// A keyring operation was asked for something its state does not allow.
    #[error("invalid keyring operation: {0}")]
    InvalidOperation(&'static str),
    /// A version with this number already exists (or existed and was retired).
    #[error("key version {version} already exists")]
    VersionExists {
        /// The version asked for.
        version: u32,
    },

    /// Re-encryption (or re-keying a file) was asked of a retention keyring. It would move
    /// data into the current bucket and so extend its life past the retention period,
    /// defeating crypto-shredding: retention data is never re-encrypted.
    #[error(
        "retention keyrings never re-encrypt: moving data into the current bucket would extend its retention"
    )]
    RetentionReencrypt,
    /// A retention keyring was asked to seal in a bucket it does not hold. Buckets are
    /// created only by the single writer's `prepare` (then saved): a replica that made its
    /// own key would seal data no other copy of the keyring can open. Reload the keyring file
    /// (or have the writer prepare further ahead).
    #[error(
        "retention bucket {bucket} is not prepared (newest prepared: {}); reload the keyring file or prepare further ahead",
        .newest.map_or_else(|| "none".to_owned(), |n| n.to_string())
    )]
    BucketNotPrepared {
        /// The bucket of the time asked for.
        bucket: u32,
        /// The newest bucket this keyring holds, if any.
        newest: Option<u32>,
    },
    /// A re-encryption checkpoint was written for another target version than the
    /// keyring's primary (a rotation happened mid-job), or by a version of this crate that
    /// did not record it. Resuming would mix targets; clear the checkpoint and run again
    /// (the job is idempotent: items already under the primary are skipped).
    #[error(
        "re-encryption checkpoint targets version {} but the primary is {primary}; clear it and run again",
        .recorded.map_or_else(|| "(not recorded)".to_owned(), |n| n.to_string())
    )]
    CheckpointTargetChanged {
        /// The target version recorded in the checkpoint (`None`: not recorded).
        recorded: Option<u32>,
        /// The keyring's primary version now.
        primary: u32,
    },

    // ---- keyring storage -----------------------------------------------------------------
    /// Compare-and-swap refused a save: the stored keyring is not the generation this one
    /// was loaded from (another writer saved in between, or it was removed). Nothing was
    /// written; load again and redo the change.
    #[error(
        "the keyring changed while this change was made (loaded generation {}, stored generation {}); nothing was written",
        .expected.map_or_else(|| "none".to_owned(), |n| n.to_string()),
        .found.map_or_else(|| "none".to_owned(), |n| n.to_string())
    )]
    KeyringChanged {
        /// The generation this keyring was loaded at (`None`: a new keyring).
        expected: Option<u64>,
        /// The generation stored now (`None`: nothing stored).
        found: Option<u64>,
    },
    /// Creating a keyring where one (or anything else, such as a symlink) already exists:
    /// keyrings are never overwritten. Nothing was written.
    #[error("a keyring already exists there; a keyring is never overwritten")]
    KeyringExists,
    /// An operation of values keyrings was asked of a retention keyring, whose versions are
    /// time buckets made by `prepare` and destroyed by `purge` in time order.
    #[error(
        "{operation} does not apply to a retention keyring: its versions are time buckets, created by prepare and destroyed by purge"
    )]
    NotForRetention {
        /// The refused operation (`"rotate"`, `"retire"`...).
        operation: &'static str,
    },
    /// A [`KeyringHandle`](crate::KeyringHandle) refused to seal: the stored keyring, which
    /// could not be loaded, shows its primary version retired.
    #[error(
        "refusing to seal under key version {version}: the stored keyring has retired it (and could not be reloaded)"
    )]
    PrimaryRetiredInStore {
        /// The version the handle would have sealed under.
        version: u32,
    },

    // ---- integrity -----------------------------------------------------------------------
    /// The key commitment in the header does not match the key. Either the ciphertext was
    /// tampered with or forged, or this keyring holds a different key under the version the
    /// value names: the keyring lost the version it was sealed under (a keyring file replaced
    /// by another one's version of the same number, as two rotations that bypass the lock and
    /// compare-and-swap could make). Both mean the value does not open with this keyring.
    #[error(
        "key commitment mismatch: the ciphertext was tampered with, or this keyring lost the key version it was sealed under (its version number now holds another key)"
    )]
    CommitmentMismatch,
    /// The authentication tag did not verify: the ciphertext or its context was altered.
    #[error("authentication failed: ciphertext or context was altered")]
    Authentication,

    // ---- context -------------------------------------------------------------------------
    /// The context breaks one of its documented rules or limits.
    #[error("invalid context: {0}")]
    Context(#[from] ContextError),

    // ---- families ------------------------------------------------------------------------
    /// Master key problems: missing, malformed, wrong key, provider failure.
    #[error("master key: {0}")]
    MasterKey(#[from] MasterKeyError),
    /// The keyring file could not be read, parsed, verified or written.
    #[error("keyring file: {0}")]
    KeyringFile(#[from] KeyringFileError),
    /// Encrypted file (stream) problems.
    #[error("encrypted file: {0}")]
    File(#[from] FileError),
    /// The operating system random generator failed.
    #[error("the operating system random generator failed")]
    Random,
}

impl Error {
    /// A stable, machine-readable name for the error, e.g. `"commitment_mismatch"`: for logs,
    /// metrics and the CLI's `"error"` field. The strings do not change between releases (a
    /// new variant gets a new string); the message ([`Display`](std::fmt::Display)) may.
    ///
    /// ```
    /// use rampart_envelope::{Error, MasterKeyError};
    /// assert_eq!(Error::CommitmentMismatch.kind(), "commitment_mismatch");
    /// assert_eq!(Error::MasterKey(MasterKeyError::Unwrap).kind(), "wrong_master_key");
    /// ```
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Truncated => "truncated",
            Error::UnsupportedFormat { .. } | Error::UnsupportedSuite { .. } => {
                "unsupported_format"
            }
            Error::MalformedText => "malformed_input",
            Error::TooLarge { .. } => "too_large",
            Error::KeyringMismatch { .. } => "keyring_mismatch",
            Error::RegionMismatch { .. } => "region_mismatch",
            Error::UnknownKeyVersion { .. } => "unknown_key_version",
            Error::BelowMinDecrypt { .. } => "below_min_decrypt",
            Error::KeyRetired { .. } => "key_retired",
            Error::Expired { .. } => "expired",
            Error::NoPrimary => "no_primary",
            Error::InvalidOperation(_) => "invalid_operation",
            Error::VersionExists { .. } => "version_exists",
            Error::RetentionReencrypt | Error::NotForRetention { .. } => "retention_keyring",
            Error::BucketNotPrepared { .. } => "bucket_not_prepared",
            Error::CheckpointTargetChanged { .. } => "checkpoint_target_changed",
            Error::KeyringChanged { .. } => "keyring_changed",
            Error::KeyringExists => "keyring_exists",
            Error::PrimaryRetiredInStore { .. } => "primary_retired_in_store",
            Error::CommitmentMismatch => "commitment_mismatch",
            Error::Authentication => "authentication_failed",
            Error::Context(_) => "malformed_context",
            Error::MasterKey(e) => e.kind(),
            Error::KeyringFile(e) => e.kind(),
            Error::File(e) => e.kind(),
            Error::Random => "random_failed",
        }
    }

    /// True when the error means "this ciphertext was altered or forged": callers must treat
    /// [`Error::CommitmentMismatch`] and [`Error::Authentication`] alike
    /// (`docs/envelope.md` §12), and their file-format counterparts
    /// [`FileError::HeaderCommitment`] and [`FileError::SegmentAuthentication`] (which also
    /// covers data appended after the final segment: that segment then fails as a non-final
    /// one).
    pub fn is_tampered(&self) -> bool {
        matches!(
            self,
            Error::CommitmentMismatch
                | Error::Authentication
                | Error::File(
                    FileError::HeaderCommitment | FileError::SegmentAuthentication { .. }
                )
        )
    }
}

/// Problems with a context (`docs/envelope.md` §5).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ContextError {
    /// More than [`crate::context::MAX_PAIRS`] pairs.
    #[error("more than {max} pairs")]
    TooManyPairs {
        /// The limit.
        max: usize,
    },
    /// A key is empty or longer than [`crate::context::MAX_KEY_LEN`] bytes.
    #[error("a key is empty or longer than {max} bytes")]
    BadKeyLength {
        /// The limit.
        max: usize,
    },
    /// The canonical encoding is larger than [`crate::context::MAX_ENCODED_LEN`] bytes.
    #[error("encoded context exceeds {max} bytes")]
    TooLarge {
        /// The limit.
        max: usize,
    },
    /// The same key appears twice.
    #[error("duplicate key {key:?}")]
    DuplicateKey {
        /// The duplicated key.
        key: String,
    },
    /// Keys starting with `rampart:` are reserved for the library.
    #[error("key {key:?} uses the reserved prefix \"rampart:\"")]
    ReservedKey {
        /// The offending key.
        key: String,
    },
}

/// Problems with a master key or its provider.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MasterKeyError {
    /// No key where one was expected (unset variable, missing or empty file).
    #[error("no master key found in {source_name}")]
    Missing {
        /// Where we looked (an environment variable name or a path).
        source_name: String,
    },
    /// The key text is not canonical base64.
    #[error(
        "master key is not valid base64 (expected 32 bytes in base64, e.g. `head -c 32 /dev/urandom | base64`)"
    )]
    Malformed,
    /// The key decodes to the wrong number of bytes.
    #[error("master key is {got} bytes long; expected 32")]
    WrongLength {
        /// Decoded length.
        got: usize,
    },
    /// The key file may be read by group or others.
    #[error(
        "master key file {path} is readable by group or others (mode {mode:o}); fix with `chmod 600 {path}`"
    )]
    InsecurePermissions {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The key file could not be read.
    #[error("cannot read master key file {path}: {source}")]
    Io {
        /// The key file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The keyring was wrapped by a different master key (identifiers differ).
    #[error("wrong master key: the keyring was wrapped by {expected}, the key given is {got}")]
    WrongMasterKey {
        /// Identifier stored in the keyring file.
        expected: String,
        /// Identifier of the key given.
        got: String,
    },
    /// A wrapped key did not unwrap with this master key (corrupted or wrong key).
    #[error("the wrapped keyring key does not unwrap with this master key")]
    Unwrap,
    /// The provider (HSM, KMS) reported a failure: its own error, typed (a message alone
    /// converts too: `MasterKeyError::Provider("kms: throttled".into())`).
    #[error("provider failure: {0}")]
    Provider(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The master key lives in another region than the keyring it would wrap: refused
    /// before any call to the provider (one KMS key per region).
    #[error(
        "master key {key_id} is in region {key_region}, but keyring region {keyring_region:?} admits only {admits}"
    )]
    RegionMismatch {
        /// The keyring's region label.
        keyring_region: String,
        /// The master key's identifier.
        key_id: String,
        /// The region the master key lives in.
        key_region: String,
        /// What the keyring's region admits, in words (e.g. `"eu-*"`).
        admits: String,
    },
    /// A PKCS#11 (HSM) master key problem.
    #[cfg(feature = "pkcs11")]
    #[error("pkcs11: {0}")]
    Pkcs11(#[from] Pkcs11Error),
    /// An AWS KMS master key problem.
    #[cfg(feature = "aws-kms")]
    #[error("aws kms: {0}")]
    AwsKms(#[from] AwsKmsError),
}

/// Problems with a PKCS#11 master key ([`crate::Pkcs11MasterKey`]): each names what to fix.
/// Messages never contain the PIN.
#[cfg(feature = "pkcs11")]
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Pkcs11Error {
    /// The `pkcs11:` URI does not follow RFC 7512 or names something we refuse.
    #[error("invalid pkcs11 URI: {reason}")]
    InvalidUri {
        /// What is wrong with it.
        reason: String,
    },
    /// The module (the vendor's PKCS#11 library) is missing or does not load.
    #[error("cannot load PKCS#11 module {path}: {reason}")]
    Module {
        /// The `module-path` of the URI.
        path: std::path::PathBuf,
        /// Why (no such file, does not load, refuses to initialize).
        reason: &'static str,
        /// The loader's or module's own error, when it reported one.
        #[source]
        cause: Option<cryptoki::error::Error>,
    },
    /// No initialized token matches the URI's token attributes.
    #[error("no token {token:?} in PKCS#11 module {module}")]
    TokenNotFound {
        /// The token label (or serial) asked for.
        token: String,
        /// The module searched.
        module: std::path::PathBuf,
    },
    /// The PIN source is missing, unreadable or empty.
    #[error("cannot read the token PIN from {source_name}: {reason}")]
    Pin {
        /// The file or environment variable.
        source_name: String,
        /// Why.
        reason: &'static str,
        /// The file system's error, for a PIN file that cannot be opened or read.
        #[source]
        cause: Option<std::io::Error>,
    },
    /// The token refused the PIN.
    #[error("the token {token:?} refused the PIN (wrong PIN)")]
    WrongPin {
        /// The token label.
        token: String,
    },
    /// The token's user PIN is locked after too many failures.
    #[error("the PIN of token {token:?} is locked")]
    PinLocked {
        /// The token label.
        token: String,
    },
    /// No AES secret key object matches the URI's object attributes.
    #[error("no AES key object {object} on token {token:?}")]
    KeyNotFound {
        /// The object label or id asked for.
        object: String,
        /// The token searched.
        token: String,
    },
    /// More than one object matches: a master key must be named unambiguously.
    #[error("{count} key objects match {object} on token {token:?}; name one (add id=...)")]
    AmbiguousKey {
        /// The object label or id asked for.
        object: String,
        /// The token searched.
        token: String,
        /// How many matched.
        count: usize,
    },
    /// The key object can leave the token (`CKA_EXTRACTABLE` true, or `CKA_SENSITIVE`
    /// false): a master key must never exist outside the HSM.
    #[error("key object {object} is {reason}: a master key must be non-extractable and sensitive")]
    KeyExportable {
        /// The object.
        object: String,
        /// `"extractable"` or `"not sensitive"`.
        reason: &'static str,
    },
    /// The key object is not an AES-256 key allowed to encrypt and decrypt.
    #[error("key object {object} is not usable: {reason}")]
    WrongKey {
        /// The object.
        object: String,
        /// What it lacks.
        reason: &'static str,
    },
    /// The token does not offer the mechanism we wrap with.
    #[error("token {token:?} does not support {mechanism}")]
    MechanismUnsupported {
        /// The token label.
        token: String,
        /// The mechanism (`CKM_AES_GCM`).
        mechanism: &'static str,
    },
    /// Any other failure the module reported.
    #[error("PKCS#11 call failed: {0}")]
    Device(#[source] cryptoki::error::Error),
    /// The module answered a call with output of the wrong shape.
    #[error("PKCS#11 module returned {0}")]
    UnexpectedOutput(&'static str),
}

#[cfg(feature = "pkcs11")]
impl Pkcs11Error {
    /// The stable name of the error (see [`Error::kind`]).
    ///
    /// ```
    /// use rampart_envelope::Pkcs11Error;
    /// assert_eq!(Pkcs11Error::WrongPin { token: "t".into() }.kind(), "pkcs11_wrong_pin");
    /// ```
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Pkcs11Error::InvalidUri { .. } => "pkcs11_uri",
            Pkcs11Error::Module { .. } => "pkcs11_module",
            Pkcs11Error::TokenNotFound { .. } => "pkcs11_token_missing",
            Pkcs11Error::Pin { .. } => "pkcs11_pin_source",
            Pkcs11Error::WrongPin { .. } | Pkcs11Error::PinLocked { .. } => "pkcs11_wrong_pin",
            Pkcs11Error::KeyNotFound { .. } | Pkcs11Error::AmbiguousKey { .. } => {
                "pkcs11_key_missing"
            }
            Pkcs11Error::KeyExportable { .. } => "pkcs11_key_extractable",
            Pkcs11Error::WrongKey { .. } => "pkcs11_wrong_key",
            Pkcs11Error::MechanismUnsupported { .. } => "pkcs11_mechanism",
            Pkcs11Error::Device(_) | Pkcs11Error::UnexpectedOutput(_) => "pkcs11_device",
        }
    }
}

/// Problems with an AWS KMS master key ([`crate::AwsKmsMasterKey`]).
#[cfg(feature = "aws-kms")]
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AwsKmsError {
    /// The key identifier is not a key id, alias, key ARN or alias ARN.
    #[error("invalid KMS key identifier {key:?}: {reason}")]
    InvalidKeyId {
        /// The identifier given.
        key: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// No region: the identifier is not an ARN and the SDK configuration names none.
    #[error("no AWS region for KMS key {key:?}: use a key ARN or set AWS_REGION")]
    NoRegion {
        /// The identifier given.
        key: String,
    },
    /// KMS could not be reached (connection refused, timeout, DNS): the SDK's error.
    #[error("cannot reach AWS KMS: {0}")]
    Unreachable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The key does not exist (or is not visible to these credentials).
    #[error("KMS key {key} not found")]
    KeyNotFound {
        /// The key.
        key: String,
    },
    /// The key is disabled.
    #[error("KMS key {key} is disabled")]
    KeyDisabled {
        /// The key.
        key: String,
    },
    /// The key is scheduled for deletion (or otherwise not usable in its state).
    #[error("KMS key {key} is not usable in its state (pending deletion?)")]
    KeyUnavailable {
        /// The key.
        key: String,
    },
    /// The credentials were refused.
    #[error("AWS refused the credentials: {0}")]
    AccessDenied(String),
    /// Any other failure KMS reported, as it reported it.
    #[error("KMS call failed: {code}: {message}")]
    Service {
        /// The service's error code (`ThrottlingException`...), `unknown` if it sent none.
        code: String,
        /// The service's message.
        message: String,
    },
    /// The SDK failed before or after the call (a request it could not build, a response
    /// it could not read): its error.
    #[error("KMS call failed: {0}")]
    Sdk(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// KMS answered with output of the wrong shape.
    #[error("KMS returned {0}")]
    UnexpectedOutput(&'static str),
}

#[cfg(feature = "aws-kms")]
impl AwsKmsError {
    /// The stable name of the error (see [`Error::kind`]).
    ///
    /// ```
    /// use rampart_envelope::AwsKmsError;
    /// assert_eq!(AwsKmsError::Unreachable("x".into()).kind(), "kms_unreachable");
    /// ```
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            AwsKmsError::InvalidKeyId { .. } | AwsKmsError::NoRegion { .. } => "kms_key_id",
            AwsKmsError::Unreachable(_) => "kms_unreachable",
            AwsKmsError::KeyNotFound { .. } => "kms_key_missing",
            AwsKmsError::KeyDisabled { .. } | AwsKmsError::KeyUnavailable { .. } => {
                "kms_key_unavailable"
            }
            AwsKmsError::AccessDenied(_) => "kms_access_denied",
            AwsKmsError::Service { .. }
            | AwsKmsError::Sdk(_)
            | AwsKmsError::UnexpectedOutput(_) => "kms_service",
        }
    }
}

impl MasterKeyError {
    /// The stable name of the error (see [`Error::kind`]).
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            MasterKeyError::Missing { .. } => "missing_master_key",
            MasterKeyError::Malformed | MasterKeyError::WrongLength { .. } => {
                "malformed_master_key"
            }
            MasterKeyError::InsecurePermissions { .. } => "insecure_key_file",
            MasterKeyError::Io { .. } => "io",
            MasterKeyError::WrongMasterKey { .. } | MasterKeyError::Unwrap => "wrong_master_key",
            MasterKeyError::Provider(_) => "master_key",
            MasterKeyError::RegionMismatch { .. } => "master_key_region",
            #[cfg(feature = "pkcs11")]
            MasterKeyError::Pkcs11(e) => e.kind(),
            #[cfg(feature = "aws-kms")]
            MasterKeyError::AwsKms(e) => e.kind(),
        }
    }
}

/// Problems with a keyring file (`docs/envelope.md` §11).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyringFileError {
    /// Reading or writing the file failed.
    #[error("i/o error on {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is larger than [`crate::keyring::MAX_FILE_LEN`].
    #[error("keyring file exceeds {max} bytes")]
    TooLarge {
        /// The limit.
        max: usize,
    },
    /// The JSON does not parse into the documented format.
    #[error("malformed keyring document: {0}")]
    Json(#[source] serde_json::Error),
    /// The `format` field is not `rampart-keyring`.
    #[error("not a rampart keyring file")]
    NotAKeyring,
    /// The `format_version` is not one this crate reads.
    #[error("unsupported keyring format version {version}")]
    UnsupportedVersion {
        /// The version found.
        version: u32,
    },
    /// A field holds a value outside its documented form.
    #[error("invalid field {field}: {reason}")]
    InvalidField {
        /// The field name.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Two entries have the same version number.
    #[error("duplicate key version {version}")]
    DuplicateVersion {
        /// The repeated version.
        version: u32,
    },
    /// The version states and the `primary`/`min_decrypt` fields disagree.
    #[error("inconsistent versions: {0}")]
    Inconsistent(&'static str),
    /// The `integrity` MAC is missing or does not verify: the file was edited or corrupted.
    #[error("integrity check failed: the keyring file was modified outside rampart")]
    IntegrityMismatch,
    /// A wrapped version key does not unwrap under the keyring key.
    #[error("wrapped key of version {version} does not unwrap")]
    VersionUnwrap {
        /// The version.
        version: u32,
    },
    /// More versions than [`crate::keyring::MAX_VERSIONS`].
    #[error("more than {max} versions")]
    TooManyVersions {
        /// The limit.
        max: usize,
    },
    /// The keyring path is a symbolic link. Writers replace the file by rename, which would
    /// replace the link instead of the file it points to; give the real path.
    #[error("{path} is a symbolic link; give the keyring file's real path")]
    Symlink {
        /// The path given.
        path: PathBuf,
    },
    /// Another process held the keyring's lock file for longer than the wait allowed.
    #[error("another process holds the keyring lock {path} (waited {waited_secs} s)")]
    Locked {
        /// The sidecar lock file.
        path: PathBuf,
        /// How long we waited.
        waited_secs: u64,
    },
    /// The store holds no keyring document.
    #[error("no keyring is stored there")]
    Missing,
}

impl KeyringFileError {
    /// The stable name of the error (see [`Error::kind`]). Every way a keyring document can
    /// be unreadable is `malformed_keyring`; its message says which.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            KeyringFileError::Io { .. } => "io",
            KeyringFileError::IntegrityMismatch => "keyring_integrity",
            KeyringFileError::Symlink { .. } => "keyring_symlink",
            KeyringFileError::Locked { .. } => "keyring_locked",
            KeyringFileError::TooLarge { .. }
            | KeyringFileError::Json(_)
            | KeyringFileError::NotAKeyring
            | KeyringFileError::UnsupportedVersion { .. }
            | KeyringFileError::InvalidField { .. }
            | KeyringFileError::DuplicateVersion { .. }
            | KeyringFileError::Inconsistent(_)
            | KeyringFileError::VersionUnwrap { .. }
            | KeyringFileError::TooManyVersions { .. } => "malformed_keyring",
            KeyringFileError::Missing => "keyring_missing",
        }
    }
}

/// Problems specific to encrypted files (streams); see the `stream` module.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// The input does not start with the file magic.
    #[error("not a rampart encrypted file")]
    BadMagic,
    /// The file format version is unknown.
    #[error("unsupported file format version {version}")]
    UnsupportedVersion {
        /// The version byte found.
        version: u8,
    },
    /// The file suite is unknown.
    #[error("unsupported file suite {suite}")]
    UnsupportedSuite {
        /// The suite byte found.
        suite: u8,
    },
    /// The segment size field is not allowed.
    #[error("unsupported segment size exponent {log2}")]
    UnsupportedSegmentSize {
        /// The exponent found.
        log2: u8,
    },
    /// The header fields or payload commitment do not verify.
    #[error("file header commitment mismatch: the header was altered")]
    HeaderCommitment,
    /// A segment failed authentication.
    #[error("segment {segment} failed authentication")]
    SegmentAuthentication {
        /// Zero-based segment index.
        segment: u64,
    },
    /// A seek went outside the plaintext.
    #[error("seek position outside the file")]
    BadSeek,
    /// Reading or writing failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

impl FileError {
    /// The stable name of the error (see [`Error::kind`]).
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            FileError::HeaderCommitment => "header_commitment",
            FileError::SegmentAuthentication { .. } => "segment_authentication",
            FileError::Io(_) => "io",
            FileError::BadMagic
            | FileError::UnsupportedVersion { .. }
            | FileError::UnsupportedSuite { .. }
            | FileError::UnsupportedSegmentSize { .. } => "unsupported_format",
            FileError::BadSeek => "bad_seek",
        }
    }
}
