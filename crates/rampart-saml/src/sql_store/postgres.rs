//! Opening the PostgreSQL store.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::{SqlStore, SqlStoreError, SqlStoreOptions};

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
        let millis = options.timeout.as_millis().to_string();
        let connect = url
            .parse::<PgConnectOptions>()
            .map_err(SqlStoreError::Database)?
            .application_name("rampart-saml")
            .options([("statement_timeout", millis.as_str())]);
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.timeout)
            .test_before_acquire(false)
            .connect_lazy_with(connect);
        Self::from_pool(pool, options).await
    }
}
