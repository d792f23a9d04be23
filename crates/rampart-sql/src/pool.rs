//! A connection pool per database, with the settings every Rampart store wants.

use std::time::Duration;

use sqlx::pool::PoolOptions;

/// Pool settings shared by the stores: at most `max_connections`, a connection within
/// `timeout`, and no ping before each acquire (it would double every call's round trips; a
/// read meeting a dead connection is retried, a write pings first: [`crate::call::pinged`]).
///
/// ```
/// use std::time::Duration;
/// # #[cfg(feature = "sqlite")] {
/// let options = rampart_sql::pool::options::<sqlx::Sqlite>(Duration::from_secs(1), 4);
/// assert_eq!(options.get_max_connections(), 4);
/// assert!(!options.get_test_before_acquire());
/// # }
/// ```
#[must_use]
pub fn options<DB: sqlx::Database>(timeout: Duration, max_connections: u32) -> PoolOptions<DB> {
    PoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(timeout)
        .test_before_acquire(false)
}

/// The connection options of PostgreSQL `url` (`postgres://user@host/db`,
/// `?host=/run/postgresql` for a socket), with `statement_timeout` set to `timeout`: the
/// server ends a statement the store stopped waiting for (a row lock held by a stuck
/// transaction), rather than applying it long after the caller was told no.
///
/// ```
/// use std::time::Duration;
/// let options = rampart_sql::pool::postgres("postgres://app@db.internal/app", Duration::from_secs(2))?;
/// assert_eq!(options.get_database(), Some("app"));
/// # Ok::<(), sqlx::Error>(())
/// ```
///
/// # Errors
/// [`sqlx::Error::Configuration`] for a malformed URL.
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub fn postgres(
    url: &str,
    timeout: Duration,
) -> Result<sqlx::postgres::PgConnectOptions, sqlx::Error> {
    let millis = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
    Ok(url
        .parse::<sqlx::postgres::PgConnectOptions>()?
        .options([("statement_timeout", millis)]))
}

/// The connection options of the SQLite file at `path`, created if missing, in WAL mode
/// (reads go on while a write is in progress) with `synchronous = FULL` (what a call
/// acknowledged is on disk, even after a power cut), and writers waiting for each other up
/// to `busy_timeout`. A store that accepts weaker durability says so by overriding
/// `synchronous` on what this returns.
///
/// ```
/// use std::time::Duration;
/// let options = rampart_sql::pool::sqlite("/var/lib/app/keys.db", Duration::from_secs(2));
/// assert_eq!(options.get_filename(), std::path::Path::new("/var/lib/app/keys.db"));
/// ```
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
#[must_use]
pub fn sqlite(
    path: impl AsRef<std::path::Path>,
    busy_timeout: Duration,
) -> sqlx::sqlite::SqliteConnectOptions {
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(busy_timeout)
}
