//! Where records live: a small lookup trait (sync and async) and an in-memory store.
//!
//! Checking needs only "find the record with this public id". Writing (insert on issue,
//! save after rotate/revoke/rehash) is the service's own business with its own database,
//! so it is not part of the traits.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::sync::{Arc, PoisonError, RwLock};

use crate::error::{ConfigError, Error};
use crate::key::PublicId;
use crate::record::ApiKeyRecord;

/// A blocking lookup of records by public id, for stores that answer without waiting on
/// I/O (memory, an embedded database, a cache).
///
/// Records are returned in an [`Arc`] so a cache hands out a shared record without copying
/// it (a check must stay close to the cost of one HMAC); a database wraps what it loaded.
///
/// Plugging in your own storage: implement `find` (here over a `HashMap` of serialized
/// records, standing in for a database table keyed by public id).
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::Arc;
/// use std::time::SystemTime;
/// use rampart_apikey::{ApiKeyRecord, ApiKeys, HashingKey, KeyOptions, KeyPrefix, KeyStore, Keyset, PublicId};
///
/// /// Rows of `(public_id, record_json)`.
/// struct Table(HashMap<String, String>);
///
/// #[derive(Debug, thiserror::Error)]
/// #[error("corrupt api key row")]
/// struct CorruptRow;
///
/// impl KeyStore for Table {
///     type Error = CorruptRow;
///     fn find(&self, id: &PublicId) -> Result<Option<Arc<ApiKeyRecord>>, CorruptRow> {
///         let Some(json) = self.0.get(id.as_str()) else { return Ok(None) };
///         let record: ApiKeyRecord = serde_json::from_str(json).map_err(|_| CorruptRow)?;
///         Ok(Some(Arc::new(record)))
///     }
/// }
///
/// let keys = ApiKeys::new(KeyPrefix::default(), Keyset::new(1, HashingKey::generate()?));
/// let now = SystemTime::now();
/// let issued = keys.issue(KeyOptions::new(), now)?;
/// let row = serde_json::to_string(&issued.record).unwrap();
/// let table = Table(HashMap::from([(issued.public_key.public_id().to_string(), row)]));
/// let who = keys.check(&table, issued.secret_key.expose_secret(), &[], now)?;
/// assert_eq!(who.public_id(), issued.public_key.public_id());
/// # Ok::<(), rampart_apikey::Error>(())
/// ```
pub trait KeyStore {
    /// The store's own failure (reported as [`Error::Store`]).
    type Error: std::error::Error + Send + Sync + 'static;

    /// The record whose public id is `id`, or `None` when there is none.
    ///
    /// # Errors
    /// The store's failure; never "not found", which is `Ok(None)`.
    fn find(&self, id: &PublicId) -> Result<Option<Arc<ApiKeyRecord>>, Self::Error>;
}

/// The async form of [`KeyStore`], for services whose database client is async
/// (sqlx, tokio-postgres, redis). Use with [`ApiKeys::check_async`](crate::ApiKeys::check_async);
/// the rest of a check is CPU work of about a microsecond, done inline.
///
/// A store can also be kept out of this crate entirely: parse with
/// [`ApiKeys::parse`](crate::ApiKeys::parse), load the record yourself, then call
/// [`ApiKeys::verify`](crate::ApiKeys::verify).
///
/// An async database client plugs in the same way (here a `HashMap` behind an async
/// `find`, standing in for a query):
///
/// ```
/// use std::collections::HashMap;
/// use std::convert::Infallible;
/// use std::sync::Arc;
/// use std::time::SystemTime;
/// use rampart_apikey::{ApiKeyRecord, ApiKeys, AsyncKeyStore, HashingKey, KeyOptions, KeyPrefix, Keyset, PublicId};
///
/// struct Db(HashMap<PublicId, Arc<ApiKeyRecord>>);
///
/// impl AsyncKeyStore for Db {
///     type Error = Infallible;
///     async fn find(&self, id: &PublicId) -> Result<Option<Arc<ApiKeyRecord>>, Infallible> {
///         Ok(self.0.get(id).cloned()) // a real one awaits its query here
///     }
/// }
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
/// # }
///
/// let keys = ApiKeys::new(KeyPrefix::default(), Keyset::new(1, HashingKey::generate()?));
/// let now = SystemTime::now();
/// let issued = keys.issue(KeyOptions::new(), now)?;
/// let db = Db(HashMap::from([(issued.record.public_id(), Arc::new(issued.record))]));
/// let who = block_on(keys.check_async(&db, issued.secret_key.expose_secret(), &[], now))?;
/// assert_eq!(who.public_id(), issued.public_key.public_id());
/// # Ok::<(), rampart_apikey::Error>(())
/// ```
pub trait AsyncKeyStore {
    /// The store's own failure (reported as [`Error::Store`]).
    type Error: std::error::Error + Send + Sync + 'static;

    /// The record whose public id is `id`, or `None` when there is none.
    fn find(
        &self,
        id: &PublicId,
    ) -> impl Future<Output = Result<Option<Arc<ApiKeyRecord>>, Self::Error>> + Send;
}

impl<S: KeyStore + ?Sized> KeyStore for &S {
    type Error = S::Error;
    fn find(&self, id: &PublicId) -> Result<Option<Arc<ApiKeyRecord>>, Self::Error> {
        (**self).find(id)
    }
}

impl<S: KeyStore + ?Sized> KeyStore for Arc<S> {
    type Error = S::Error;
    fn find(&self, id: &PublicId) -> Result<Option<Arc<ApiKeyRecord>>, Self::Error> {
        (**self).find(id)
    }
}

/// A thread-safe in-memory store: for tests, examples, the CLI, and as a cache in front of
/// a database. Unbounded: it holds what you insert.
#[derive(Debug, Default)]
pub struct InMemoryStore {
    records: RwLock<HashMap<PublicId, Arc<ApiKeyRecord>>>,
}

impl InMemoryStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a new record.
    ///
    /// # Errors
    /// [`ConfigError::DuplicatePublicId`] when the id is taken (the store is unchanged).
    pub fn insert(&self, record: ApiKeyRecord) -> Result<(), Error> {
        let mut map = self.records.write().unwrap_or_else(PoisonError::into_inner);
        if map.contains_key(&record.public_id()) {
            return Err(ConfigError::DuplicatePublicId.into());
        }
        map.insert(record.public_id(), Arc::new(record));
        Ok(())
    }

    /// Inserts or replaces a record (after rotate, revoke or rehash).
    pub fn save(&self, record: ApiKeyRecord) {
        let mut map = self.records.write().unwrap_or_else(PoisonError::into_inner);
        map.insert(record.public_id(), Arc::new(record));
    }

    /// A copy of the record, to change and [`save`](Self::save).
    #[must_use]
    pub fn get(&self, id: &PublicId) -> Option<ApiKeyRecord> {
        let map = self.records.read().unwrap_or_else(PoisonError::into_inner);
        map.get(id).map(|r| ApiKeyRecord::clone(r))
    }

    /// Removes a record; returns it if it was there.
    pub fn remove(&self, id: &PublicId) -> Option<ApiKeyRecord> {
        let mut map = self.records.write().unwrap_or_else(PoisonError::into_inner);
        map.remove(id)
            .map(|r| Arc::try_unwrap(r).unwrap_or_else(|shared| (*shared).clone()))
    }

    /// How many records are held.
    #[must_use]
    pub fn len(&self) -> usize {
        self.records
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// True when no record is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl KeyStore for InMemoryStore {
    type Error = Infallible;
    fn find(&self, id: &PublicId) -> Result<Option<Arc<ApiKeyRecord>>, Infallible> {
        let map = self.records.read().unwrap_or_else(PoisonError::into_inner);
        Ok(map.get(id).cloned())
    }
}

impl AsyncKeyStore for InMemoryStore {
    type Error = Infallible;
    fn find(
        &self,
        id: &PublicId,
    ) -> impl Future<Output = Result<Option<Arc<ApiKeyRecord>>, Infallible>> + Send {
        std::future::ready(KeyStore::find(self, id))
    }
}
