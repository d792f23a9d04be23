//! The settings a service gives a Rampart SQL store.

use std::time::Duration;

/// Connection and housekeeping settings of a Rampart SQL store (`rampart-apikey`'s key store,
/// `rampart-saml`'s replay and request-ID store). The connection settings apply to every
/// store; [`with_decoded_records`](Self::with_decoded_records) is read by the key store only
/// and [`with_sweep_every`](Self::with_sweep_every) by the SAML store only (each store's docs
/// say which it reads; the others leave them be).
///
/// ```
/// use std::time::Duration;
/// use rampart_sql::SqlStoreOptions;
/// let options = SqlStoreOptions::new().with_timeout(Duration::from_secs(2)).with_max_connections(16);
/// assert_eq!(options.timeout(), Duration::from_secs(2));
/// assert_eq!(options.max_connections(), 16);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SqlStoreOptions {
    timeout: Duration,
    max_connections: u32,
    decoded_records: usize,
    sweep_every: u64,
}

impl Default for SqlStoreOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(5),
            max_connections: 10,
            decoded_records: 1024,
            sweep_every: 64,
        }
    }
}

impl SqlStoreOptions {
    /// A 5-second timeout, at most 10 connections, 1 024 decoded records kept (key store), a
    /// sweep every 64 writes (SAML store).
    ///
    /// ```
    /// let options = rampart_sql::SqlStoreOptions::new();
    /// assert_eq!(options.timeout(), std::time::Duration::from_secs(5));
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The longest any call may take, waiting for a connection included (also PostgreSQL's
    /// `statement_timeout` and SQLite's busy timeout). At least 1 ms.
    ///
    /// ```
    /// use std::time::Duration;
    /// let options = rampart_sql::SqlStoreOptions::new().with_timeout(Duration::ZERO);
    /// assert_eq!(options.timeout(), Duration::from_millis(1));
    /// ```
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// The most connections the store's pool opens (at least 1).
    ///
    /// ```
    /// let options = rampart_sql::SqlStoreOptions::new().with_max_connections(0);
    /// assert_eq!(options.max_connections(), 1);
    /// ```
    #[must_use]
    pub fn with_max_connections(mut self, n: u32) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// Key store (`rampart-apikey`): how many decoded records it keeps (0: none) so that a
    /// check of a key whose row has not changed skips parsing it again. The row is still
    /// read on every check, and reused only when its text is byte for byte the text
    /// decoded: never a stale record.
    ///
    /// ```
    /// let options = rampart_sql::SqlStoreOptions::new().with_decoded_records(0);
    /// assert_eq!(options.decoded_records(), 0);
    /// ```
    #[must_use]
    pub fn with_decoded_records(mut self, n: usize) -> Self {
        self.decoded_records = n;
        self
    }

    /// SAML store (`rampart-saml`): sweeps expired rows after every `n`-th write of the store
    /// (1: after each one; 0: never, when a job calls its `sweep_expired` instead).
    ///
    /// ```
    /// let options = rampart_sql::SqlStoreOptions::new().with_sweep_every(100);
    /// assert_eq!(options.sweep_every(), 100);
    /// ```
    #[must_use]
    pub fn with_sweep_every(mut self, n: u64) -> Self {
        self.sweep_every = n;
        self
    }

    /// The timeout set.
    ///
    /// ```
    /// # use std::time::Duration;
    /// assert_eq!(rampart_sql::SqlStoreOptions::new().timeout(), Duration::from_secs(5));
    /// ```
    #[must_use]
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The connection limit set.
    ///
    /// ```
    /// assert_eq!(rampart_sql::SqlStoreOptions::new().max_connections(), 10);
    /// ```
    #[must_use]
    pub fn max_connections(&self) -> u32 {
        self.max_connections
    }

    /// The number of decoded records the key store keeps.
    ///
    /// ```
    /// assert_eq!(rampart_sql::SqlStoreOptions::new().decoded_records(), 1024);
    /// ```
    #[must_use]
    pub fn decoded_records(&self) -> usize {
        self.decoded_records
    }

    /// The SAML store's sweep interval, in writes (0: no automatic sweep).
    ///
    /// ```
    /// assert_eq!(rampart_sql::SqlStoreOptions::new().sweep_every(), 64);
    /// ```
    #[must_use]
    pub fn sweep_every(&self) -> u64 {
        self.sweep_every
    }
}
