//! Issued AuthnRequest IDs, shared by every replica: each is remembered when the request is
//! sent and consumed by the one response that answers it (SAML profiles 4.1.4.3 asks the SP to
//! check InResponseTo against the requests it sent). A browser's session alone cannot make an
//! ID single-use, since a copied cookie carries it again; the store does.
//!
//! IdP-initiated (unsolicited) responses answer no request and stay refused unless a
//! tenant's [`ServiceProvider`](crate::ServiceProvider) was built with
//! [`accept_idp_initiated_unsolicited_responses`](crate::ServiceProviderBuilder::accept_idp_initiated_unsolicited_responses).

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use crate::error::{Error, RequestIdStoreError};

#[cfg(feature = "redis")]
mod redis;

#[cfg(feature = "redis")]
pub use redis::RedisRequestIds;

/// Where issued AuthnRequest IDs wait for their response. Implementations must be atomic
/// across every replica that shares them: of two concurrent `consume` calls for one ID, at
/// most one returns `Ok(true)`.
///
/// The whole flow, with the memory store (a service with several replicas uses
/// `RedisRequestIds`, `PostgresStore` or `SqliteStore` the same way):
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use rampart_saml::{Certificate, Expected, IdentityProvider, MemoryReplayCache, MemoryRequestIds, RequestIdStore, ServiceProvider};
/// # use rampart_testkit::block_on_ready as block_on; // a real service awaits in its runtime
/// # let cert_pem = std::fs::read("tests/keys/idp.cert.pem")?;
/// # let saml_response = std::fs::read("tests/fixtures/both_signed.xml")?;
/// # let now = SystemTime::from(time::macros::datetime!(2030-01-01 00:01 UTC));
/// let idp = IdentityProvider::new("https://idp.example.com/metadata", [Certificate::from_pem(&cert_pem)?])?;
/// let sp = ServiceProvider::builder("https://sp.example.com/metadata", "https://sp.example.com/saml/acs")
///     .identity_provider(idp)
///     .build()?;
/// let ids = MemoryRequestIds::new();
///
/// // 1. Issue the request, remember its ID for ten minutes, keep the ID in the user's session.
/// let request = sp.authn_request("https://idp.example.com/sso").build(now)?;
/// block_on(ids.remember(request.id(), now + Duration::from_secs(600), now))?;
/// let _redirect_to = request.redirect_url(&sp, None)?;
/// # let request_id = "_req0123456789abcdef0123456789abcdef"; // the ID the fixture answers
/// # block_on(ids.remember(request_id, now + Duration::from_secs(600), now))?;
///
/// // 2. On the ACS: consume the session's ID (once, on any replica), then validate the
/// //    response as the answer to exactly that request, then record the assertion.
/// assert!(block_on(ids.consume(request_id, now))?, "unknown, expired or already used: refuse");
/// let login = sp
///     .validate_response(&saml_response, Expected::Request(request_id), now)?
///     .check_replay_in_memory(&MemoryReplayCache::new())?;
/// assert_eq!(login.name_id.value, "alice@example.com");
///
/// // The same ID again (a copied session cookie, a second tab): refused before validation.
/// assert!(!block_on(ids.consume(request_id, now))?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait RequestIdStore: Send + Sync {
    /// Remembers `request_id` until `expires_at` (remembering it again sets the new expiry).
    ///
    /// # Errors
    /// [`Error::RequestIdStore`] when the back end fails; do not send the request then, as
    /// its response could not be accepted.
    fn remember(
        &self,
        request_id: &str,
        expires_at: SystemTime,
        now: SystemTime,
    ) -> impl Future<Output = Result<(), Error>> + Send;

    /// Forgets `request_id`, and returns `Ok(true)` when it was remembered and had not
    /// expired at `now`: the response may then be validated with
    /// [`Expected::Request`](crate::Expected::Request). `Ok(false)` (unknown, expired, or
    /// consumed before) refuses the response.
    ///
    /// # Errors
    /// [`Error::RequestIdStore`] when the back end fails; refuse the login (fail closed).
    fn consume(
        &self,
        request_id: &str,
        now: SystemTime,
    ) -> impl Future<Output = Result<bool, Error>> + Send;
}

/// Largest number of request IDs the memory store holds by default; past it, new requests
/// are refused until entries expire (fail closed rather than grow without bound).
pub const DEFAULT_REQUEST_ID_CAPACITY: usize = 100_000;

/// Issued request IDs in memory, for a single replica. Each remember first drops the IDs
/// that have expired (oldest first).
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use rampart_saml::MemoryRequestIds;
/// let ids = MemoryRequestIds::with_capacity(1_000);
/// let now = SystemTime::now();
/// ids.remember_sync("_r1", now + Duration::from_secs(600), now)?;
/// assert!(ids.consume_sync("_r1", now));
/// assert!(!ids.consume_sync("_r1", now)); // once
/// ids.remember_sync("_r2", now + Duration::from_secs(600), now)?;
/// assert!(!ids.consume_sync("_r2", now + Duration::from_secs(600))); // expired
/// # Ok::<(), rampart_saml::Error>(())
/// ```
#[derive(Debug)]
pub struct MemoryRequestIds {
    inner: Mutex<Issued>,
    capacity: usize,
}

/// The live IDs with their expiry, and the same pairs ordered by expiry for sweeping.
#[derive(Debug, Default)]
struct Issued {
    expiry: HashMap<String, SystemTime>,
    by_expiry: BTreeSet<(SystemTime, String)>,
}

impl Issued {
    fn take(&mut self, id: &str) -> Option<SystemTime> {
        let (id, exp) = self.expiry.remove_entry(id)?;
        self.by_expiry.remove(&(exp, id));
        Some(exp)
    }

    fn sweep(&mut self, now: SystemTime) {
        while self.by_expiry.first().is_some_and(|(exp, _)| *exp <= now) {
            if let Some((_, id)) = self.by_expiry.pop_first() {
                self.expiry.remove(&id);
            }
        }
    }
}

impl Default for MemoryRequestIds {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryRequestIds {
    /// An empty store holding at most [`DEFAULT_REQUEST_ID_CAPACITY`] IDs.
    #[must_use]
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_REQUEST_ID_CAPACITY)
    }

    /// An empty store holding at most `capacity` unexpired IDs.
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            inner: Mutex::new(Issued::default()),
            capacity,
        }
    }

    /// The synchronous form of [`RequestIdStore::remember`].
    ///
    /// # Errors
    /// [`Error::RequestIdStore`] with [`RequestIdStoreError::Full`] when the store holds its
    /// capacity of unexpired IDs.
    pub fn remember_sync(
        &self,
        request_id: &str,
        expires_at: SystemTime,
        now: SystemTime,
    ) -> Result<(), Error> {
        let mut issued = self.lock();
        issued.sweep(now);
        let known = issued.take(request_id).is_some();
        if !known && issued.expiry.len() >= self.capacity {
            return Err(Error::RequestIdStore(RequestIdStoreError::Full));
        }
        issued.expiry.insert(request_id.to_owned(), expires_at);
        issued.by_expiry.insert((expires_at, request_id.to_owned()));
        Ok(())
    }

    /// The synchronous form of [`RequestIdStore::consume`].
    #[must_use = "false means the response must be refused"]
    pub fn consume_sync(&self, request_id: &str, now: SystemTime) -> bool {
        self.lock().take(request_id).is_some_and(|exp| exp > now)
    }

    /// Number of IDs held (expired ones included until the next remember drops them).
    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().expiry.len()
    }

    /// True when no ID is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, Issued> {
        // Nothing between the two collections' updates can panic, so a poisoned lock still
        // guards consistent data: keep serving.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl RequestIdStore for MemoryRequestIds {
    fn remember(
        &self,
        request_id: &str,
        expires_at: SystemTime,
        now: SystemTime,
    ) -> impl Future<Output = Result<(), Error>> + Send {
        std::future::ready(self.remember_sync(request_id, expires_at, now))
    }

    fn consume(
        &self,
        request_id: &str,
        now: SystemTime,
    ) -> impl Future<Output = Result<bool, Error>> + Send {
        std::future::ready(Ok(self.consume_sync(request_id, now)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn t0() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000)
    }

    #[test]
    fn an_id_is_consumed_once_and_never_after_it_expires() {
        let ids = MemoryRequestIds::new();
        let exp = t0() + Duration::from_secs(60);
        ids.remember_sync("_a", exp, t0()).unwrap();
        ids.remember_sync("_b", exp, t0()).unwrap();
        assert!(!ids.consume_sync("_never", t0()));
        assert!(ids.consume_sync("_a", t0() + Duration::from_secs(59)));
        assert!(!ids.consume_sync("_a", t0()));
        assert!(!ids.consume_sync("_b", exp), "expiry is exclusive");
        assert!(ids.is_empty());
    }

    #[test]
    fn remembering_again_sets_the_new_expiry() {
        let ids = MemoryRequestIds::new();
        ids.remember_sync("_a", t0() + Duration::from_secs(10), t0())
            .unwrap();
        ids.remember_sync("_a", t0() + Duration::from_secs(100), t0())
            .unwrap();
        assert_eq!(ids.len(), 1);
        assert!(ids.consume_sync("_a", t0() + Duration::from_secs(50)));
    }

    #[test]
    fn full_store_fails_closed_until_ids_expire() {
        let ids = MemoryRequestIds::with_capacity(2);
        let exp = t0() + Duration::from_secs(10);
        ids.remember_sync("_a", exp, t0()).unwrap();
        ids.remember_sync("_b", exp, t0()).unwrap();
        let full = ids.remember_sync("_c", exp, t0()).unwrap_err();
        assert_eq!(full.kind(), "request_id_store_unavailable");
        // Renewing a held ID is not growth.
        ids.remember_sync("_b", exp, t0()).unwrap();
        // Once they expire, the next remember sweeps them.
        ids.remember_sync("_c", exp + Duration::from_secs(10), exp)
            .unwrap();
        assert_eq!(ids.len(), 1);
    }
}
