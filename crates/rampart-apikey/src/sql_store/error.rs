//! What a SQL key store can report: the database's failures, the write conflicts a caller
//! handles, and rows it refuses to read.

use std::time::Duration;

use crate::error::Error;
use crate::key::PublicId;

/// A SQL key store's failure. Reported by a check as [`Error::Store`] (a server error, never
/// a credential failure); returned as is by the store's own methods.
///
/// ```
/// use rampart_apikey::{PublicId, StoreError};
/// let id = PublicId::parse("0123456789ABCDEF")?;
/// let e = StoreError::Conflict { public_id: id };
/// assert_eq!(e.kind(), "conflict");
/// assert_eq!(e.public_id(), Some(id));
/// # Ok::<(), rampart_apikey::Error>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database failed or could not be reached (including sqlx's pool timeout while the
    /// server is down).
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// The call did not finish within the store's timeout (a hung server, a lock held too
    /// long). Whether a write committed is then unknown: read the record back.
    #[error("the database did not answer within {0:?}")]
    Timeout(Duration),
    /// [`insert`](crate::SqlKeyStore::insert): a record with this public id is stored already.
    #[error("api key {public_id} is already stored")]
    Duplicate {
        /// The public id.
        public_id: PublicId,
    },
    /// A save, update or revocation named a record that is not stored.
    #[error("api key {public_id} is not stored")]
    NotFound {
        /// The public id.
        public_id: PublicId,
    },
    /// [`save`](crate::SqlKeyStore::save): the record changed since it was read (another
    /// rotation, revocation or rehash won); read it again and redo the change.
    #[error("api key {public_id} changed since it was read")]
    Conflict {
        /// The public id.
        public_id: PublicId,
    },
    /// The stored row cannot be read as a record: hand-edited, truncated, or written by a
    /// newer version. The key it holds is never used to authenticate.
    #[error("stored api key {public_id} is unreadable: {reason}")]
    Corrupt {
        /// The row's public id (the key it is stored under).
        public_id: PublicId,
        /// What is wrong with it.
        #[source]
        reason: CorruptRecord,
    },
    /// The database's schema was migrated by a newer version of this crate: refused rather
    /// than misread. Run the newer version, or restore the matching schema.
    #[error("database schema version {found} is newer than this code's version {supported}")]
    SchemaTooNew {
        /// The highest migration applied to the database.
        found: i64,
        /// The highest migration this code knows.
        supported: i64,
    },
    /// The embedded migrations failed (or an applied one was edited since: sqlx compares
    /// checksums).
    #[error("migration failed: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    /// The record could not be written as JSON (a time beyond year 9999).
    #[error("record could not be encoded: {0}")]
    Encode(#[source] serde_json::Error),
}

/// Why a stored row is not a record.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CorruptRecord {
    /// The record text is longer than any record this crate writes.
    #[error("record is {len} bytes, more than {max}")]
    TooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The record's format version (`"v"`) is not the one this code reads.
    #[error("record format version {found} is not {supported}")]
    UnsupportedVersion {
        /// The version found.
        found: u64,
        /// The version this code reads.
        supported: u32,
    },
    /// The record is not a valid record of the supported version (bad JSON, a truncated
    /// hash, an unknown field, a time out of range...).
    #[error("not a valid record: {0}")]
    Invalid(#[source] serde_json::Error),
    /// The record names another public id than the row it is stored under.
    #[error("record holds public id {found}")]
    IdMismatch {
        /// The public id inside the record.
        found: PublicId,
    },
    /// The column itself cannot be decoded (not UTF-8, wrong type).
    #[error("column cannot be read: {0}")]
    Unreadable(#[source] sqlx::Error),
}

impl StoreError {
    /// A stable, machine-readable name (for logs and metrics); it does not change between
    /// releases.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Database(_) => "database",
            Self::Timeout(_) => "timeout",
            Self::Duplicate { .. } => "duplicate_public_id",
            Self::NotFound { .. } => "not_found",
            Self::Conflict { .. } => "conflict",
            Self::Corrupt { .. } => "corrupt_record",
            Self::SchemaTooNew { .. } => "schema_too_new",
            Self::Migrate(_) => "migration",
            Self::Encode(_) => "encode",
        }
    }

    /// The public id of the row concerned, when there is one.
    #[must_use]
    pub fn public_id(&self) -> Option<PublicId> {
        match self {
            Self::Duplicate { public_id }
            | Self::NotFound { public_id }
            | Self::Conflict { public_id }
            | Self::Corrupt { public_id, .. } => Some(*public_id),
            Self::Database(_)
            | Self::Timeout(_)
            | Self::SchemaTooNew { .. }
            | Self::Migrate(_)
            | Self::Encode(_) => None,
        }
    }
}

impl CorruptRecord {
    /// A stable, machine-readable name for the finer reason (the enclosing
    /// [`StoreError::kind`] is `corrupt_record` for all of them).
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "too_large",
            Self::UnsupportedVersion { .. } => "unsupported_version",
            Self::Invalid(_) => "invalid",
            Self::IdMismatch { .. } => "id_mismatch",
            Self::Unreadable(_) => "unreadable",
        }
    }
}

/// A store failure inside the crate's error (what [`update`](crate::SqlKeyStore::update)
/// returns when the change itself is a crate operation such as a rotation).
impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Error::Store(Box::new(e))
    }
}

// The shared plumbing's failures (`rampart-sql`), as this store's variants of the same names.
rampart_sql::store_error_from_plumbing!(StoreError);
