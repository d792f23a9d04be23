//! What the SQL store can report.

use std::time::Duration;

/// The SQL store's failure. The replay cache reports it inside
/// [`ReplayCacheError::Sql`](crate::ReplayCacheError::Sql) and the request ID store inside
/// [`RequestIdStoreError::Sql`](crate::RequestIdStoreError::Sql): either way the login is
/// refused (fail closed).
///
/// ```
/// let e = rampart_saml::SqlStoreError::SchemaTooNew { found: 3, supported: 1 };
/// assert_eq!(e.kind(), "schema_too_new");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SqlStoreError {
    /// The database failed or could not be reached (including sqlx's pool timeout while the
    /// server is down).
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// The call did not finish within the store's timeout (a hung server, a lock held too
    /// long). Whether a write committed is then unknown; either way the login was refused.
    #[error("the database did not answer within {0:?}")]
    Timeout(Duration),
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
    /// A row's column cannot be read (a hand-edited value of the wrong type).
    #[error("row {digest} of {table} is unreadable: {reason}")]
    Corrupt {
        /// The table.
        table: &'static str,
        /// The row's key (the hex digest stored in its `digest` column).
        digest: String,
        /// sqlx's decoding error.
        #[source]
        reason: sqlx::Error,
    },
}

impl SqlStoreError {
    /// A stable, machine-readable name (for logs and metrics).
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Database(_) => "database",
            Self::Timeout(_) => "timeout",
            Self::SchemaTooNew { .. } => "schema_too_new",
            Self::Migrate(_) => "migration",
            Self::Corrupt { .. } => "corrupt_row",
        }
    }
}

// The shared plumbing's failures (`rampart-sql`), as this store's variants of the same names.
rampart_sql::store_error_from_plumbing!(SqlStoreError);
