//! A store's pool with the deadline of every call on it.

use std::future::Future;
use std::time::Duration;

use sqlx::Pool;
use sqlx::migrate::Migrator;

use crate::call::{CallError, bounded};
use crate::migrations::{Backend, MigrationError, migrate};

/// A store's connection pool and the deadline of every call on it, after the store's
/// migrations ran. Cloning shares the pool.
///
/// ```
/// # #[cfg(feature = "sqlite")]
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// use std::time::Duration;
/// use rampart_sql::{Db, migrations::own_table};
/// let pool = sqlx::SqlitePool::connect("sqlite::memory:").await?;
/// let migrator = own_table(sqlx::migrate::Migrator::DEFAULT, "_rampart_doc_migrations");
/// let db = Db::migrated(pool, Duration::from_secs(1), &migrator).await?;
/// let one: i64 = db.call(sqlx::query_scalar("SELECT 1").fetch_one(db.pool())).await?;
/// assert_eq!(one, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Db<DB: sqlx::Database> {
    pool: Pool<DB>,
    timeout: Duration,
}

impl<DB: sqlx::Database> Clone for Db<DB> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            timeout: self.timeout,
        }
    }
}

impl<DB: sqlx::Database> std::fmt::Debug for Db<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("database", &DB::NAME)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl<DB: Backend> Db<DB> {
    /// Runs `migrator` on `pool` ([`migrate`]), then keeps both with `timeout`.
    ///
    /// # Errors
    /// As [`migrate`].
    pub async fn migrated(
        pool: Pool<DB>,
        timeout: Duration,
        migrator: &Migrator,
    ) -> Result<Self, MigrationError> {
        migrate(&pool, migrator).await?;
        Ok(Self { pool, timeout })
    }

    /// The pool.
    #[must_use]
    pub fn pool(&self) -> &Pool<DB> {
        &self.pool
    }

    /// The deadline of each call.
    #[must_use]
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Runs `op` within the deadline ([`bounded`]).
    ///
    /// # Errors
    /// As [`bounded`].
    pub async fn call<T>(
        &self,
        op: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, CallError> {
        bounded(self.timeout, op).await
    }
}
