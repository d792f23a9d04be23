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
    pub trait Dialect: rampart_sql::Backend {
        /// The embedded migrations, recorded in this crate's own migrations table.
        fn migrator() -> sqlx::migrate::Migrator;

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

/// `fail.sql`'s parameters bound in its order (`$1` to `$11`), the same on both databases.
macro_rules! bind_fail {
    ($query:expr, $key:expr, $p:expr) => {
        $query
            .bind($key)
            .bind($p.now_ms)
            .bind($p.idle_ms)
            .bind($p.notify_at)
            .bind($p.lock_after)
            .bind($p.lock_value)
            .bind($p.token)
            .bind($p.fresh_notified)
            .bind($p.fresh_lock_until)
            .bind($p.fresh_token)
            .bind($p.fresh_outcome)
    };
}
pub(crate) use bind_fail;

/// The statements whose Rust side is the same on both databases (only their SQL text,
/// `src/sql/<dir>/*.sql` and `$exists`, differs), stamped into each `Dialect` impl.
macro_rules! alike_statements {
    ($dir:literal, schema_table_exists: $exists:literal) => {
        async fn schema_version(pool: &Pool<Self>) -> Result<Option<i64>, sqlx::Error> {
            let exists: bool = sqlx::query_scalar($exists).fetch_one(pool).await?;
            if !exists {
                return Ok(None);
            }
            sqlx::query_scalar("SELECT version FROM rampart_attempts_schema")
                .fetch_optional(pool)
                .await
        }

        async fn take_token(
            pool: &Pool<Self>,
            key: &str,
            hash: &[u8],
        ) -> Result<bool, sqlx::Error> {
            let done = sqlx::query(include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/src/sql/",
                $dir,
                "/take_token.sql"
            )))
            .bind(key)
            .bind(hash)
            .execute(pool)
            .await?;
            Ok(done.rows_affected() == 1)
        }

        async fn sweep(pool: &Pool<Self>, now_ms: i64, limit: i64) -> Result<u64, sqlx::Error> {
            let done = sqlx::query(include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/src/sql/",
                $dir,
                "/sweep.sql"
            )))
            .bind(now_ms)
            .bind(limit)
            .execute(pool)
            .await?;
            Ok(done.rows_affected())
        }
    };
}
pub(crate) use alike_statements;
