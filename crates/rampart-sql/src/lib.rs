//! Internal plumbing of Rampart's SQL stores: the one home of what `rampart-apikey`'s key
//! store, `rampart-saml`'s replay and request-ID store and `rampart-attempts`' streak store
//! do alike (issue #28). Not a public API: the store crates depend on it, the `rampart`
//! facade does not re-export it, and it may change in any release. Each store keeps its own
//! SQL statements, migrations and error type; only the plumbing lives here:
//!
//! - [`SqlStoreOptions`]: the one options type of the stores (each re-exports it);
//! - [`pool`]: a pool per database with the settings every store wants (PostgreSQL's
//!   `statement_timeout`, SQLite's WAL file with `synchronous = FULL` and busy timeout, no
//!   ping before each acquire);
//! - [`migrations`]: a crate's embedded migrations, recorded in its own
//!   `_rampart_<crate>_migrations` table, and the "schema too new" check;
//! - [`call`]: the per-call deadline, and the ping that lets a write replace a connection
//!   a restarted server left dead before any statement is sent on it;
//! - [`Db`]: a store's pool, migrated, with the deadline of its calls.
//!
//! ```
//! use std::time::Duration;
//! let options = rampart_sql::SqlStoreOptions::new().with_timeout(Duration::from_secs(2));
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! let answer = rampart_sql::call::bounded(options.timeout(), async { Ok::<_, sqlx::Error>(42) }).await;
//! assert_eq!(answer.ok(), Some(42));
//! # });
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod call;
mod db;
pub mod migrations;
mod options;
pub mod pool;

pub use call::CallError;
pub use db::Db;
pub use migrations::{Backend, MigrationError};
pub use options::SqlStoreOptions;

/// Implements `From<`[`CallError`]`>` and `From<`[`MigrationError`]`>` for a store's own
/// error, whose variants of the same names carry the same values: `Database(sqlx::Error)`,
/// `Timeout(Duration)`, `SchemaTooNew { found, supported }` and
/// `Migrate(sqlx::migrate::MigrateError)`. So each store keeps its typed variants and the
/// plumbing's failures reach its callers as they always did.
///
/// ```
/// #[derive(Debug)]
/// enum StoreError {
///     Database(sqlx::Error),
///     Timeout(std::time::Duration),
///     SchemaTooNew { found: i64, supported: i64 },
///     Migrate(sqlx::migrate::MigrateError),
/// }
/// rampart_sql::store_error_from_plumbing!(StoreError);
/// let e = StoreError::from(rampart_sql::MigrationError::SchemaTooNew { found: 2, supported: 1 });
/// assert!(matches!(e, StoreError::SchemaTooNew { found: 2, supported: 1 }));
/// let e = StoreError::from(rampart_sql::MigrationError::Database(sqlx::Error::PoolTimedOut));
/// assert!(matches!(e, StoreError::Database(sqlx::Error::PoolTimedOut)));
/// ```
#[macro_export]
macro_rules! store_error_from_plumbing {
    ($error:ty) => {
        impl ::core::convert::From<$crate::CallError> for $error {
            fn from(e: $crate::CallError) -> Self {
                match e {
                    $crate::CallError::Database(e) => Self::Database(e),
                    $crate::CallError::Timeout(t) => Self::Timeout(t),
                }
            }
        }
        impl ::core::convert::From<$crate::MigrationError> for $error {
            fn from(e: $crate::MigrationError) -> Self {
                match e {
                    $crate::MigrationError::SchemaTooNew { found, supported } => {
                        Self::SchemaTooNew { found, supported }
                    }
                    $crate::MigrationError::Migrate(e) => Self::Migrate(e),
                    $crate::MigrationError::Database(e) => Self::Database(e),
                }
            }
        }
    };
}
