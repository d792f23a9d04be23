//! The seam between the store's logic (one home, in `sql.rs`) and each database's SQL: a
//! sealed trait implemented for `sqlx::Postgres` and `sqlx::Sqlite` only.

use std::future::Future;

use sqlx::Pool;

use crate::error::RowProblem;
use crate::sql::row::{FailParams, RawRow};

/// A row read back: its key and its values, or the column whose type was wrong.
pub(crate) type ReadRow = (String, Result<RawRow, RowProblem>);
/// What `fail.sql` returned: the new row (or the column whose type was wrong) and its
/// `outcome`; `None` when the statement's checks refused the stored row.
pub(crate) type FailReply = Option<(Result<RawRow, RowProblem>, i64)>;

// Unnameable outside the crate (as `store::sealed`): the crate-private types in its
// signatures never leak.
#[allow(private_interfaces, private_bounds)]
pub(crate) mod sealed {
    use super::{FailParams, FailReply, Future, Pool, ReadRow};

    /// The statements of one database. Each is one atomic statement (or, for a batch of
    /// resets on SQLite, one transaction).
    #[allow(private_interfaces, private_bounds)]
    pub trait Dialect: sqlx::Database {
        /// Runs the embedded migrations (under the migrations table of this crate).
        fn migrate(
            pool: &Pool<Self>,
        ) -> impl Future<Output = Result<(), sqlx::migrate::MigrateError>> + Send;

        /// The schema version row, if the table exists and has one.
        fn schema_version(
            pool: &Pool<Self>,
        ) -> impl Future<Output = Result<Option<i64>, sqlx::Error>> + Send;

        /// `fail.sql`: the new row and its `outcome`, or `None` when the stored row was
        /// refused by the statement's checks (and left as it was).
        #[allow(private_interfaces, private_bounds)]
        fn fail(
            pool: &Pool<Self>,
            key: &str,
            p: &FailParams<'_>,
        ) -> impl Future<Output = Result<FailReply, sqlx::Error>> + Send;

        /// The rows of `keys` (those that exist), read as one snapshot.
        #[allow(private_interfaces, private_bounds)]
        fn read(
            pool: &Pool<Self>,
            keys: &[&str],
        ) -> impl Future<Output = Result<Vec<ReadRow>, sqlx::Error>> + Send;

        /// Deletes the row if its token hash is still `hash` (compared by the database,
        /// after the store compared it in constant time). True if a row was deleted.
        fn take_token(
            pool: &Pool<Self>,
            key: &str,
            hash: &[u8],
        ) -> impl Future<Output = Result<bool, sqlx::Error>> + Send;

        /// Applies a batch of resets `(key, success_ms)`: `Streak::reset_by_success`.
        fn reset_batch(
            pool: &Pool<Self>,
            batch: &[(String, i64)],
        ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send;

        /// Deletes at most `limit` rows whose streak expired by `now_ms`.
        fn sweep(
            pool: &Pool<Self>,
            now_ms: i64,
            limit: i64,
        ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send;
    }
}
