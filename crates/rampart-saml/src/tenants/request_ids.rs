//! Issued request ids that remember which tenant issued them, on any [`RequestIdStore`].

use std::time::SystemTime;

use crate::error::Error;
use crate::request_ids::RequestIdStore;

/// A [`RequestIdStore`] whose entries also name the tenant that sent the request: an id is
/// consumed only together with the tenant that remembered it, so at a shared ACS the tenant
/// is learnt from the store, never from what the response or the RelayState claims.
///
/// The entry is stored under a key that holds both (`<tenant length>:<tenant>:<request id>`),
/// so every back end (memory, Redis, SQL) keeps working unchanged and ids remembered without
/// a tenant, through the store itself, are unaffected.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use rampart_saml::{MemoryRequestIds, TenantRequestIds};
/// # use rampart_testkit::block_on_ready as block_on;
/// let ids = TenantRequestIds::new(MemoryRequestIds::new());
/// let now = SystemTime::now();
/// block_on(ids.remember("acme", "_r1", now + Duration::from_secs(600), now))?;
/// assert!(!block_on(ids.consume("globex", "_r1", now))?); // another tenant's request
/// assert!(block_on(ids.consume("acme", "_r1", now))?);
/// assert!(!block_on(ids.consume("acme", "_r1", now))?); // once
/// # Ok::<(), rampart_saml::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct TenantRequestIds<S> {
    store: S,
}

impl<S: RequestIdStore> TenantRequestIds<S> {
    /// Wraps `store`.
    ///
    /// ```
    /// let ids = rampart_saml::TenantRequestIds::new(rampart_saml::MemoryRequestIds::new());
    /// assert!(ids.store().is_empty());
    /// ```
    pub fn new(store: S) -> Self {
        Self { store }
    }

    /// The wrapped store.
    ///
    /// ```
    /// let ids = rampart_saml::TenantRequestIds::new(rampart_saml::MemoryRequestIds::new());
    /// let _store: &rampart_saml::MemoryRequestIds = ids.store();
    /// ```
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Remembers that `tenant` sent the request `request_id`, until `expires_at` (see
    /// [`TenantRequestIds`]).
    ///
    /// ```
    /// # use std::time::{Duration, SystemTime};
    /// # use rampart_testkit::block_on_ready as block_on;
    /// let ids = rampart_saml::TenantRequestIds::new(rampart_saml::MemoryRequestIds::new());
    /// let now = SystemTime::now();
    /// block_on(ids.remember("acme", "_r1", now + Duration::from_secs(600), now))?;
    /// assert!(block_on(ids.consume("acme", "_r1", now))?);
    /// # Ok::<(), rampart_saml::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`RequestIdStore::remember`]: do not send the request then.
    pub async fn remember(
        &self,
        tenant: &str,
        request_id: &str,
        expires_at: SystemTime,
        now: SystemTime,
    ) -> Result<(), Error> {
        self.store
            .remember(&scoped(tenant, request_id), expires_at, now)
            .await
    }

    /// Forgets the request, and returns `Ok(true)` when `tenant` remembered `request_id` and
    /// it had not expired (see [`TenantRequestIds`]). A miss consumes nothing, so several
    /// candidate tenants can be tried.
    ///
    /// ```
    /// # use std::time::{Duration, SystemTime};
    /// # use rampart_testkit::block_on_ready as block_on;
    /// let ids = rampart_saml::TenantRequestIds::new(rampart_saml::MemoryRequestIds::new());
    /// let now = SystemTime::now();
    /// block_on(ids.remember("acme", "_r1", now + Duration::from_secs(600), now))?;
    /// assert!(block_on(ids.consume("acme", "_r1", now))?);
    /// # Ok::<(), rampart_saml::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`RequestIdStore::consume`]: refuse the login.
    pub async fn consume(
        &self,
        tenant: &str,
        request_id: &str,
        now: SystemTime,
    ) -> Result<bool, Error> {
        self.store.consume(&scoped(tenant, request_id), now).await
    }
}

/// The length prefix keeps the split unambiguous whatever the tenant id holds.
fn scoped(tenant: &str, request_id: &str) -> String {
    format!("{}:{tenant}:{request_id}", tenant.len())
}

#[cfg(test)]
mod tests {
    use super::scoped;

    #[test]
    fn tenant_and_id_cannot_be_shifted_into_each_other() {
        assert_ne!(scoped("a:b", "c"), scoped("a", "b:c"));
    }
}
