//! Opening the store, and its names per database: PostgreSQL by URL, SQLite by file, each
//! with the pool settings of `rampart_sql::pool`.

use super::{SqlStore, SqlStoreError, SqlStoreOptions};

/// [`SqlStore`] in PostgreSQL: [`connect`](SqlStore::connect) with a URL.
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub type PostgresStore = SqlStore<sqlx::Postgres>;

#[cfg(feature = "postgres")]
impl SqlStore<sqlx::Postgres> {
    /// Connects to `url` (`postgres://user@host/db`, `?host=/run/postgresql` for a socket)
    /// and runs the embedded migrations.
    ///
    /// The pool waits at most [`SqlStoreOptions::with_timeout`] for a connection, and the server
    /// cancels any statement running longer (`statement_timeout`).
    ///
    /// # Errors
    /// [`SqlStoreError::Database`] for a bad URL or an unreachable server;
    /// [`SqlStoreError::SchemaTooNew`] and [`SqlStoreError::Migrate`] as for
    /// [`from_pool`](Self::from_pool).
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
    /// use rampart_saml::{PostgresStore, SqlStoreOptions};
    /// let store = PostgresStore::connect("postgres://app@db.internal/app", &SqlStoreOptions::new()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect(url: &str, options: &SqlStoreOptions) -> Result<Self, SqlStoreError> {
        let connect = rampart_sql::pool::postgres(url, options.timeout())
            .map_err(SqlStoreError::Database)?
            .application_name("rampart-saml");
        let pool = rampart_sql::pool::options(options.timeout(), options.max_connections())
            .connect_lazy_with(connect);
        Self::from_pool(pool, options).await
    }
}

/// [`SqlStore`] in an SQLite file: [`open`](SqlStore::open) with a path.
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub type SqliteStore = SqlStore<sqlx::Sqlite>;

#[cfg(feature = "sqlite")]
impl SqlStore<sqlx::Sqlite> {
    /// Opens (creating it if needed) the database file at `path` and runs the embedded
    /// migrations.
    ///
    /// The file is in WAL mode with `synchronous = FULL`: an accepted assertion is on disk
    /// before the login proceeds, even across a power cut. Writers wait for each other up to
    /// [`SqlStoreOptions::with_timeout`].
    ///
    /// SQLite suits one host: processes sharing the file see each other's writes, and when
    /// several open a new file at the same moment, one creates the schema while the others
    /// wait for it (up to the timeout) and find it done.
    ///
    /// # Errors
    /// [`SqlStoreError::Database`] when the file cannot be opened or created;
    /// [`SqlStoreError::SchemaTooNew`] and [`SqlStoreError::Migrate`] as for
    /// [`from_pool`](Self::from_pool).
    ///
    /// ```
    /// use rampart_saml::{SqliteStore, SqlStoreOptions};
    /// # let dir = tempfile::tempdir()?;
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let store = SqliteStore::open(dir.path().join("saml.db"), &SqlStoreOptions::new()).await?;
    /// # Ok::<(), rampart_saml::SqlStoreError>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn open(
        path: impl AsRef<std::path::Path>,
        options: &SqlStoreOptions,
    ) -> Result<Self, SqlStoreError> {
        let connect = rampart_sql::pool::sqlite(path, options.timeout());
        let pool = rampart_sql::pool::options(options.timeout(), options.max_connections())
            .connect_lazy_with(connect);
        Self::from_pool(pool, options).await
    }
}
