//! Opening a key store, and its names per database: PostgreSQL by URL, SQLite by file, each
//! with the pool settings of `rampart_sql::pool`.

use super::{SqlKeyStore, SqlStoreOptions, StoreError};

/// [`SqlKeyStore`] in PostgreSQL: [`connect`](SqlKeyStore::connect) with a URL.
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub type PostgresKeyStore = SqlKeyStore<sqlx::Postgres>;

#[cfg(feature = "postgres")]
impl SqlKeyStore<sqlx::Postgres> {
    /// Connects to `url` (`postgres://user@host/db`, `?host=/run/postgresql` for a socket)
    /// and runs the embedded migrations.
    ///
    /// The pool waits at most [`SqlStoreOptions::with_timeout`] for a connection, and the server
    /// cancels any statement running longer (`statement_timeout`), so a call never outlives
    /// the timeout on either side.
    ///
    /// # Errors
    /// [`StoreError::Database`] for a bad URL or an unreachable server;
    /// [`StoreError::SchemaTooNew`] and [`StoreError::Migrate`] as for
    /// [`from_pool`](Self::from_pool).
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
    /// use rampart_apikey::{PostgresKeyStore, SqlStoreOptions};
    /// let store = PostgresKeyStore::connect("postgres://app@db.internal/app", &SqlStoreOptions::new()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect(url: &str, options: &SqlStoreOptions) -> Result<Self, StoreError> {
        let connect = rampart_sql::pool::postgres(url, options.timeout())
            .map_err(StoreError::Database)?
            .application_name("rampart-apikey");
        let pool = rampart_sql::pool::options(options.timeout(), options.max_connections())
            .connect_lazy_with(connect);
        Self::from_pool(pool, options).await
    }
}

/// [`SqlKeyStore`] in an SQLite file: [`open`](SqlKeyStore::open) with a path.
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub type SqliteKeyStore = SqlKeyStore<sqlx::Sqlite>;

#[cfg(feature = "sqlite")]
impl SqlKeyStore<sqlx::Sqlite> {
    /// Opens (creating it if needed) the database file at `path` and runs the embedded
    /// migrations.
    ///
    /// The file is in WAL mode (checks read while a write is in progress) with
    /// `synchronous = FULL`: a revocation acknowledged is on disk, even after a power cut.
    /// Writers wait for each other up to [`SqlStoreOptions::with_timeout`].
    ///
    /// SQLite suits one host: processes sharing the file see each other's writes, and when
    /// several open a new file at the same moment, one creates the schema while the others
    /// wait for it (up to the timeout) and find it done.
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
        path: impl AsRef<std::path::Path>,
        options: &SqlStoreOptions,
    ) -> Result<Self, StoreError> {
        let connect = rampart_sql::pool::sqlite(path, options.timeout());
        let pool = rampart_sql::pool::options(options.timeout(), options.max_connections())
            .connect_lazy_with(connect);
        Self::from_pool(pool, options).await
    }
}
