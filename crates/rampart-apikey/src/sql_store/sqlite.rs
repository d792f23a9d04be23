//! Opening an SQLite key store.

use std::path::Path;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::{SqlKeyStore, SqlStoreOptions, StoreError};

impl SqlKeyStore<sqlx::Sqlite> {
    /// Opens (creating it if needed) the database file at `path` and runs the embedded
    /// migrations.
    ///
    /// The file is in WAL mode (checks read while a write is in progress) with
    /// `synchronous = FULL`: a revocation acknowledged is on disk, even after a power cut.
    /// Writers wait for each other up to [`SqlStoreOptions::with_timeout`].
    ///
    /// SQLite suits one host: processes sharing the file see each other's writes, but when
    /// several open a new file at the same moment, one creates the schema and another may
    /// fail its migration ([`Migrate`](super::StoreError::Migrate)); opening again succeeds.
    ///
    /// # Errors
    /// [`StoreError::Database`] when the file cannot be opened or created;
    /// [`StoreError::SchemaTooNew`] and [`StoreError::Migrate`] as for
    /// [`from_pool`](Self::from_pool).
    ///
    /// ```
    /// use rampart_apikey::{SqliteKeyStore, SqlStoreOptions};
    /// # let dir = tempfile::tempdir()?;
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let store = SqliteKeyStore::open(dir.path().join("keys.db"), &SqlStoreOptions::new()).await?;
    /// # Ok::<(), rampart_apikey::StoreError>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn open(
        path: impl AsRef<Path>,
        options: &SqlStoreOptions,
    ) -> Result<Self, StoreError> {
        let connect = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(options.timeout);
        let pool = SqlitePoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.timeout)
            .test_before_acquire(false)
            .connect_lazy_with(connect);
        Self::from_pool(pool, options).await
    }
}
