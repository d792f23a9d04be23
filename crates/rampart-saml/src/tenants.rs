//! Many identity providers, one service provider: a registry from tenant id to that tenant's
//! [`ServiceProvider`] (its IdP's pinned entity id and certificates, and its own options such
//! as [`accept_idp_initiated_unsolicited_responses`](crate::ServiceProviderBuilder::accept_idp_initiated_unsolicited_responses)).
//!
//! The tenant is always chosen before anything is verified (from the ACS path, or at a shared
//! ACS from the request id the tenant issued) and the response is then validated with that
//! tenant's configuration only. The Issuer check of that validation is the pin: one IdP
//! certificate often signs for every tenant of a multi-tenant IdP, so a signature alone says
//! nothing about which tenant the user belongs to.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::SystemTime;

use rampart_xmldsig::{Document, Limits, collapse_white_space};

use crate::config::{DEFAULT_MAX_RESPONSE_BYTES, ServiceProvider};
use crate::error::Error;
use crate::ns;
use crate::request_ids::RequestIdStore;
use crate::response::{Expected, ValidatedResponse, decode_response_within};

mod request_ids;

pub use request_ids::TenantRequestIds;

/// Why a tenant's response was not accepted.
///
/// ```
/// let e = rampart_saml::TenantError::UnknownTenant("acme".into());
/// assert_eq!(e.kind(), "unknown_tenant");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TenantError {
    /// No tenant has this id (never configured, or removed).
    #[error("unknown tenant {0:?}")]
    UnknownTenant(String),
    /// At a shared ACS: no candidate tenant issued the session's request id (unknown,
    /// expired, consumed before, or issued by a tenant whose IdP did not send this response).
    #[error("no tenant issued the outstanding request")]
    RequestNotIssued,
    /// The tenant's validation refused the response; [`Error::kind`] says why.
    #[error("tenant {tenant:?}: {source}")]
    Response {
        /// The tenant whose configuration refused it.
        tenant: String,
        /// The refusal.
        #[source]
        source: Box<Error>,
    },
    /// A metadata refresh the validation triggered (on an unknown signing key) failed; the
    /// response was refused with the last good metadata.
    #[error(
        "tenant {tenant:?}: {source} (metadata refresh after an unknown key failed: {refresh})"
    )]
    ResponseAfterFailedRefresh {
        /// The tenant.
        tenant: String,
        /// The refusal with the last good metadata.
        #[source]
        source: Box<Error>,
        /// Why the refresh failed.
        refresh: Box<crate::refresh::RefreshError>,
    },
}

impl TenantError {
    /// A stable, machine-readable name: `unknown_tenant`, `request_not_issued`, or the
    /// [`Error::kind`] of the refusal.
    ///
    /// ```
    /// assert_eq!(rampart_saml::TenantError::RequestNotIssued.kind(), "request_not_issued");
    /// ```
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            TenantError::UnknownTenant(_) => "unknown_tenant",
            TenantError::RequestNotIssued => "request_not_issued",
            TenantError::Response { source, .. }
            | TenantError::ResponseAfterFailedRefresh { source, .. } => source.kind(),
        }
    }

    /// The validation error, when the tenant's configuration refused the response.
    ///
    /// ```
    /// assert!(rampart_saml::TenantError::RequestNotIssued.response_error().is_none());
    /// ```
    #[must_use]
    pub fn response_error(&self) -> Option<&Error> {
        match self {
            TenantError::Response { source, .. }
            | TenantError::ResponseAfterFailedRefresh { source, .. } => Some(&**source),
            _ => None,
        }
    }
}

/// A response validated with one tenant's configuration: every check but replay passed.
#[derive(Debug)]
#[non_exhaustive]
#[must_use = "the assertion is not yet protected against replay: call response.check_replay"]
pub struct TenantResponse {
    /// The tenant whose configuration validated it.
    pub tenant: String,
    /// The validated response; turn it into a [`Login`](crate::Login) with
    /// [`ValidatedResponse::check_replay`].
    pub response: ValidatedResponse,
}

/// What a response claims before anything is verified, for choosing a tenant at a shared
/// ACS. Nothing here is trusted: it cannot become a [`Login`](crate::Login); only
/// [`TenantRegistry::validate_response`] with one of [`Self::tenants`] can.
///
/// ```
/// use rampart_saml::{Certificate, IdentityProvider, ServiceProvider, TenantRegistry};
/// # let cert = Certificate::from_pem(&std::fs::read("tests/keys/idp.cert.pem")?)?;
/// # let response = std::fs::read("tests/fixtures/both_signed.xml")?;
/// let registry = TenantRegistry::new();
/// registry.insert("acme", ServiceProvider::builder("https://sp.example.com/metadata", "https://sp.example.com/saml/acs")
///     .identity_provider(IdentityProvider::new("https://idp.example.com/metadata", [cert])?)
///     .build()?);
/// let peek = registry.peek_issuer(&response)?;
/// assert_eq!(peek.unverified_issuer(), Some("https://idp.example.com/metadata"));
/// assert_eq!(peek.tenants(), ["acme"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct IssuerCandidates {
    issuer: Option<String>,
    in_response_to: Option<String>,
    tenants: Vec<String>,
}

impl IssuerCandidates {
    /// The Issuer the response names (the Response's, else its assertion's), unverified.
    ///
    /// ```
    /// # use rampart_saml::TenantRegistry;
    /// # let response = std::fs::read("tests/fixtures/both_signed.xml")?;
    /// let peek = TenantRegistry::new().peek_issuer(&response)?;
    /// assert_eq!(peek.unverified_issuer(), Some("https://idp.example.com/metadata"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn unverified_issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// The Response's InResponseTo, unverified: never a substitute for the request id kept
    /// in the user's session (an attacker's own request id would bind the victim's browser to
    /// the attacker's login).
    ///
    /// ```
    /// # use rampart_saml::TenantRegistry;
    /// # let response = std::fs::read("tests/fixtures/both_signed.xml")?;
    /// let peek = TenantRegistry::new().peek_issuer(&response)?;
    /// assert_eq!(peek.unverified_in_response_to(), Some("_req0123456789abcdef0123456789abcdef"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn unverified_in_response_to(&self) -> Option<&str> {
        self.in_response_to.as_deref()
    }

    /// The tenants whose IdP entity id is the claimed Issuer, sorted: candidates to try.
    ///
    /// ```
    /// # use rampart_saml::TenantRegistry;
    /// # let response = std::fs::read("tests/fixtures/both_signed.xml")?;
    /// let peek = TenantRegistry::new().peek_issuer(&response)?;
    /// assert!(peek.tenants().is_empty()); // no tenant trusts that IdP
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn tenants(&self) -> &[String] {
        &self.tenants
    }
}

/// Tenant id -> that tenant's [`ServiceProvider`], shared by every request handler.
///
/// Cloning is cheap (one `Arc`); every clone sees the same tenants. Lookups are a hash lookup
/// under a read lock held only to clone the tenant's `Arc`: validations run outside the lock,
/// so adding, replacing or removing a tenant (an admin action, a metadata refresh) never
/// waits for a validation, and a validation in progress finishes with the configuration it
/// started with.
///
/// ```
/// use std::time::SystemTime;
/// use rampart_saml::{Certificate, Expected, IdentityProvider, MemoryReplayCache, ServiceProvider, TenantRegistry};
/// # let cert = Certificate::from_pem(&std::fs::read("tests/keys/idp.cert.pem")?)?;
/// # let saml_response = std::fs::read("tests/fixtures/both_signed.xml")?;
/// # let now = SystemTime::from(time::macros::datetime!(2030-01-01 00:01 UTC));
/// let tenant_sp = |idp_entity_id: &str| {
///     ServiceProvider::builder("https://sp.example.com/metadata", "https://sp.example.com/saml/acs")
///         .identity_provider(IdentityProvider::new(idp_entity_id, [cert.clone()])?)
///         .build()
/// };
/// let registry = TenantRegistry::new();
/// registry.insert("acme", tenant_sp("https://idp.example.com/metadata")?);
/// registry.insert("globex", tenant_sp("https://idp.example.com/globex")?);
///
/// // The ACS at /saml/acme/acs: the path names the tenant.
/// let request_id = "_req0123456789abcdef0123456789abcdef"; // from the user's session
/// let login = registry
///     .validate_response("acme", &saml_response, Expected::Request(request_id), now)?
///     .response
///     .check_replay_in_memory(&MemoryReplayCache::new())?;
/// assert_eq!(login.name_id.value, "alice@example.com");
///
/// // The same IdP key signs for globex, but acme's Issuer is not globex's IdP.
/// let e = registry.validate_response("globex", &saml_response, Expected::Request(request_id), now).unwrap_err();
/// assert_eq!(e.kind(), "issuer_mismatch");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct TenantRegistry {
    inner: Arc<RwLock<Tenants>>,
}

#[derive(Debug, Default)]
struct Tenants {
    by_id: HashMap<String, Arc<ServiceProvider>>,
    /// IdP entity id -> tenants trusting it (sorted), for the shared-ACS peek.
    by_issuer: HashMap<String, Vec<String>>,
    /// The largest response any tenant accepts (never shrinks), so the peek refuses nothing
    /// a tenant would have validated.
    peek_limit: usize,
}

impl Tenants {
    fn unindex(&mut self, tenant: &str, sp: &ServiceProvider) {
        let issuer = sp.identity_provider().entity_id();
        if let Some(list) = self.by_issuer.get_mut(issuer) {
            list.retain(|t| t != tenant);
            if list.is_empty() {
                self.by_issuer.remove(issuer);
            }
        }
    }
}

impl TenantRegistry {
    /// An empty registry.
    ///
    /// ```
    /// assert!(rampart_saml::TenantRegistry::new().is_empty());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `tenant`, or replaces its configuration (validations already running finish with
    /// the old one). Returns the configuration it replaced.
    ///
    /// ```
    /// # use rampart_saml::{Certificate, IdentityProvider, ServiceProvider, TenantRegistry};
    /// # let cert = Certificate::from_pem(&std::fs::read("tests/keys/idp.cert.pem")?)?;
    /// # let sp = || ServiceProvider::builder("https://sp.example.com/metadata", "https://sp.example.com/saml/acs")
    /// #     .identity_provider(IdentityProvider::new("https://idp.example.com/metadata", [cert.clone()]).unwrap()).build().unwrap();
    /// let registry = TenantRegistry::new();
    /// assert!(registry.insert("acme", sp()).is_none());
    /// assert!(registry.insert("acme", sp()).is_some()); // replaced
    /// assert_eq!(registry.len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn insert(
        &self,
        tenant: impl Into<String>,
        sp: ServiceProvider,
    ) -> Option<Arc<ServiceProvider>> {
        let tenant = tenant.into();
        let sp = Arc::new(sp);
        let issuer = sp.identity_provider().entity_id().to_owned();
        let limit = sp.max_response_bytes;
        let mut t = self.write();
        t.peek_limit = t.peek_limit.max(limit);
        let old = t.by_id.insert(tenant.clone(), sp);
        if let Some(old) = &old {
            t.unindex(&tenant, old);
        }
        let list = t.by_issuer.entry(issuer).or_default();
        if let Err(at) = list.binary_search(&tenant) {
            list.insert(at, tenant);
        }
        old
    }

    /// Removes `tenant`; its responses are refused from now on
    /// ([`TenantError::UnknownTenant`]). Returns its configuration.
    ///
    /// ```
    /// # use rampart_saml::{Certificate, IdentityProvider, ServiceProvider, TenantRegistry};
    /// # let cert = Certificate::from_pem(&std::fs::read("tests/keys/idp.cert.pem")?)?;
    /// # let sp = ServiceProvider::builder("https://sp.example.com/metadata", "https://sp.example.com/saml/acs")
    /// #     .identity_provider(IdentityProvider::new("https://idp.example.com/metadata", [cert])?).build()?;
    /// let registry = TenantRegistry::new();
    /// registry.insert("acme", sp);
    /// assert!(registry.remove("acme").is_some());
    /// assert!(registry.get("acme").is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn remove(&self, tenant: &str) -> Option<Arc<ServiceProvider>> {
        let mut t = self.write();
        let old = t.by_id.remove(tenant)?;
        t.unindex(tenant, &old);
        Some(old)
    }

    /// The tenant's current configuration.
    ///
    /// ```
    /// assert!(rampart_saml::TenantRegistry::new().get("acme").is_none());
    /// ```
    #[must_use]
    pub fn get(&self, tenant: &str) -> Option<Arc<ServiceProvider>> {
        self.read().by_id.get(tenant).cloned()
    }

    /// Number of tenants.
    ///
    /// ```
    /// assert_eq!(rampart_saml::TenantRegistry::new().len(), 0);
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.read().by_id.len()
    }

    /// True when there is no tenant.
    ///
    /// ```
    /// assert!(rampart_saml::TenantRegistry::new().is_empty());
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Validates `input` (as [`ServiceProvider::validate_response`]) with `tenant`'s
    /// configuration only: its IdP's keys, its pinned IdP entity id as the only accepted
    /// Issuer (checked on the signed values), its options. See [`TenantRegistry`] for an
    /// example.
    ///
    /// # Errors
    /// [`TenantError::UnknownTenant`]; [`TenantError::Response`] with the validation's
    /// [`Error`].
    ///
    /// ```
    /// # use std::time::SystemTime;
    /// use rampart_saml::{Expected, TenantRegistry};
    /// # let saml_response = std::fs::read("tests/fixtures/both_signed.xml")?;
    /// let e = TenantRegistry::new()
    ///     .validate_response("acme", &saml_response, Expected::Unsolicited, SystemTime::now())
    ///     .unwrap_err();
    /// assert_eq!(e.kind(), "unknown_tenant");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn validate_response(
        &self,
        tenant: &str,
        input: &[u8],
        expected: Expected<'_>,
        now: SystemTime,
    ) -> Result<TenantResponse, TenantError> {
        let sp = self
            .get(tenant)
            .ok_or_else(|| TenantError::UnknownTenant(tenant.to_owned()))?;
        match sp.validate_response(input, expected, now) {
            Ok(response) => Ok(TenantResponse {
                tenant: tenant.to_owned(),
                response,
            }),
            Err(source) => Err(TenantError::Response {
                tenant: tenant.to_owned(),
                source: Box::new(source),
            }),
        }
    }

    /// Reads the Issuer and InResponseTo a response claims, without verifying anything, and
    /// lists the tenants whose IdP has that entity id. For a shared ACS; see
    /// [`IssuerCandidates`].
    ///
    /// # Errors
    /// [`Error::Input`] / [`Error::Xml`] when the input is not a parseable response (at most
    /// [`DEFAULT_MAX_RESPONSE_BYTES`], or the largest `max_response_bytes` of any tenant).
    ///
    /// ```
    /// assert!(rampart_saml::TenantRegistry::new().peek_issuer(b"not base64!").is_err());
    /// ```
    pub fn peek_issuer(&self, input: &[u8]) -> Result<IssuerCandidates, Error> {
        let limit = self.read().peek_limit.max(DEFAULT_MAX_RESPONSE_BYTES);
        let xml = decode_response_within(input, limit)?;
        let limits = Limits::default().with_max_bytes(limit);
        let doc = Document::parse_with_limits(&xml, &limits).map_err(Error::Xml)?;
        let root = doc.root();
        let issuer_of = |el: rampart_xmldsig::Element<'_>| {
            el.children_named(ns::ASSERTION, "Issuer")
                .next()
                .map(|i| collapse_white_space(&i.text()).into_owned())
        };
        let issuer = issuer_of(root).or_else(|| {
            root.children_named(ns::ASSERTION, "Assertion")
                .next()
                .and_then(issuer_of)
        });
        let tenants = issuer
            .as_deref()
            .and_then(|i| self.read().by_issuer.get(i).cloned())
            .unwrap_or_default();
        Ok(IssuerCandidates {
            issuer,
            in_response_to: root.attribute("InResponseTo").map(str::to_owned),
            tenants,
        })
    }

    /// A shared ACS: the tenant is the candidate (by the claimed Issuer) that issued
    /// `session_request_id`, the request id kept in the user's session since the redirect.
    /// That id is consumed (once, on any replica) and the response is validated with that
    /// tenant's configuration as its answer.
    ///
    /// Where the RelayState names the tenant instead, it is a claim like any other: consume
    /// the session's id with that tenant ([`TenantRequestIds::consume`], which finds nothing
    /// for a tenant that did not issue it) and then call [`Self::validate_response`] for it.
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// use rampart_saml::{Certificate, IdentityProvider, MemoryRequestIds, ServiceProvider, TenantRegistry, TenantRequestIds};
    /// # use rampart_testkit::block_on_ready as block_on;
    /// # let cert = Certificate::from_pem(&std::fs::read("tests/keys/idp.cert.pem")?)?;
    /// # let saml_response = std::fs::read("tests/fixtures/both_signed.xml")?;
    /// # let now = SystemTime::from(time::macros::datetime!(2030-01-01 00:01 UTC));
    /// let registry = TenantRegistry::new();
    /// registry.insert("acme", ServiceProvider::builder("https://sp.example.com/metadata", "https://sp.example.com/saml/acs")
    ///     .identity_provider(IdentityProvider::new("https://idp.example.com/metadata", [cert])?)
    ///     .build()?);
    /// let ids = TenantRequestIds::new(MemoryRequestIds::new());
    /// let request_id = "_req0123456789abcdef0123456789abcdef"; // sent by acme, kept in the session
    /// block_on(ids.remember("acme", request_id, now + Duration::from_secs(600), now))?;
    ///
    /// let validated = block_on(registry.validate_at_shared_acs(&saml_response, request_id, &ids, now))?;
    /// assert_eq!(validated.tenant, "acme");
    /// // Once only.
    /// assert!(block_on(registry.validate_at_shared_acs(&saml_response, request_id, &ids, now)).is_err());
    /// # let _ = validated.response.into_login_without_replay_check();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`TenantError::RequestNotIssued`] when no candidate issued the id;
    /// [`TenantError::Response`] when validation fails (also for a failing id store).
    pub async fn validate_at_shared_acs<S: RequestIdStore>(
        &self,
        input: &[u8],
        session_request_id: &str,
        ids: &TenantRequestIds<S>,
        now: SystemTime,
    ) -> Result<TenantResponse, TenantError> {
        let peek = self
            .peek_issuer(input)
            .map_err(|source| TenantError::Response {
                tenant: String::new(),
                source: Box::new(source),
            })?;
        for tenant in peek.tenants() {
            let issued = ids
                .consume(tenant, session_request_id, now)
                .await
                .map_err(|source| TenantError::Response {
                    tenant: tenant.clone(),
                    source: Box::new(source),
                })?;
            if issued {
                return self.validate_response(
                    tenant,
                    input,
                    Expected::Request(session_request_id),
                    now,
                );
            }
        }
        Err(TenantError::RequestNotIssued)
    }

    fn read(&self) -> RwLockReadGuard<'_, Tenants> {
        // Every update leaves both maps consistent before anything that can panic.
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Tenants> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }
}
