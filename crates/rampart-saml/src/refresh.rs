//! IdP metadata that refreshes itself: fetched by the caller's [`MetadataFetcher`] (a file, a
//! URL), refused when expired (`validUntil`), unsigned or badly signed (when a
//! metadata-signing certificate is pinned) or about another entity, refreshed after its
//! `cacheDuration` (clamped), and kept at its last good version when a refresh fails.
//!
//! Each [`MetadataRefresher`] serves one tenant of a [`TenantRegistry`]: a good refresh
//! replaces the tenant's configuration there, so validations pick up rotated IdP keys.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use rampart_xmldsig::{self as xmldsig, Certificate, Document, Limits, VerifyOptions};

use crate::config::{Algorithms, IdentityProvider, ServiceProvider};
use crate::error::{Error, SignatureError};
use crate::metadata::{IdpMetadata, MAX_METADATA_BYTES};
use crate::ns;
use crate::response::Expected;
use crate::tenants::{TenantError, TenantRegistry, TenantResponse};
use crate::xsd;

mod fetch;

#[cfg(feature = "fetch-reqwest")]
pub use fetch::ReqwestFetcher;
pub use fetch::{FetchError, FileFetcher, MetadataFetcher};

/// Default shortest time between two scheduled refreshes: 5 minutes, whatever
/// `cacheDuration` says (an IdP publishing `PT0S` must not make us poll it in a loop).
pub const DEFAULT_MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(5 * 60);
/// Default longest time between two refreshes, and the interval when the metadata has no
/// `cacheDuration`: 24 hours.
pub const DEFAULT_MAX_REFRESH_INTERVAL: Duration = Duration::from_secs(24 * 3600);
/// Default wait after a failed refresh before the next attempt: 5 minutes.
pub const DEFAULT_RETRY_INTERVAL: Duration = Duration::from_secs(5 * 60);
/// Default shortest time between two refreshes triggered by a response signed with an
/// unknown key: 5 minutes (such responses cost an attacker nothing to send).
pub const DEFAULT_UNKNOWN_KEY_REFRESH_INTERVAL: Duration = Duration::from_secs(5 * 60);

/// Why a metadata refresh was refused. The tenant keeps its last good metadata.
///
/// ```
/// let e = rampart_saml::RefreshError::Unsigned;
/// assert_eq!(e.kind(), "metadata_unsigned");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RefreshError {
    /// The fetcher failed.
    #[error("metadata fetch failed: {0}")]
    Fetch(#[source] FetchError),
    /// A metadata-signing certificate is pinned and the document carries no signature on its
    /// root element.
    #[error("metadata is not signed and a metadata signing certificate is pinned")]
    Unsigned,
    /// The metadata's signature does not verify with the pinned certificate, or is not an
    /// enveloped signature over the whole document.
    #[error("metadata signature refused: {0}")]
    Signature(#[source] SignatureError),
    /// `validUntil` has passed (SAML metadata 2.0, 2.2.1): the IdP no longer vouches for it.
    #[error("metadata expired at {at} (validUntil)")]
    Expired {
        /// The `validUntil`, as xs:dateTime.
        at: String,
    },
    /// The document is not usable IdP metadata for the pinned entity id.
    #[error("invalid metadata: {0}")]
    Metadata(#[source] Error),
    /// The tenant's configuration could not be built from the metadata.
    #[error("tenant configuration refused: {0}")]
    Config(#[source] Error),
}

impl RefreshError {
    /// A stable, machine-readable name for logs and status pages.
    ///
    /// ```
    /// let e = rampart_saml::RefreshError::Expired { at: "2029-12-31T00:00:00Z".into() };
    /// assert_eq!(e.kind(), "metadata_expired");
    /// ```
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            RefreshError::Fetch(_) => "metadata_fetch_failed",
            RefreshError::Unsigned => "metadata_unsigned",
            RefreshError::Signature(_) => "metadata_signature_invalid",
            RefreshError::Expired { .. } => "metadata_expired",
            RefreshError::Metadata(_) => "invalid_metadata",
            RefreshError::Config(_) => "config",
        }
    }
}

/// Builds a tenant's [`ServiceProvider`] around the IdP read from fresh metadata.
type BuildSp = dyn Fn(IdentityProvider) -> Result<ServiceProvider, Error> + Send + Sync;

/// Where a tenant's metadata refresh stands, for health checks and status pages.
///
/// ```
/// # use rampart_saml::{FileFetcher, MetadataRefresher, ServiceProvider};
/// let refresher = MetadataRefresher::builder("acme", "https://idp.example.com/metadata", FileFetcher::new("idp.xml"),
///     |idp| ServiceProvider::builder("https://sp.example.com/metadata", "https://sp.example.com/saml/acs").identity_provider(idp).build())
///     .accept_unsigned_metadata()
///     .build()?;
/// let status = refresher.status();
/// assert!(status.last_success.is_none() && status.last_error.is_none());
/// # Ok::<(), rampart_saml::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefreshStatus {
    /// When metadata was last accepted.
    pub last_success: Option<SystemTime>,
    /// When the last refresh failed, with its [`RefreshError::kind`] and message; cleared by
    /// the next success.
    pub last_error: Option<(SystemTime, &'static str, String)>,
    /// When the next scheduled refresh is due ([`MetadataRefresher::refresh_if_due`]).
    pub next_attempt: Option<SystemTime>,
    /// The accepted metadata's `validUntil`: past it, the tenant is removed unless a refresh
    /// succeeds.
    pub valid_until: Option<SystemTime>,
    /// Accepted refreshes.
    pub successes: u64,
    /// Refused or failed refreshes.
    pub failures: u64,
    /// Refreshes triggered by a response signed with an unknown key.
    pub triggered: u64,
}

#[derive(Debug, Default)]
struct State {
    status: RefreshStatus,
    last_triggered: Option<SystemTime>,
    in_flight: bool,
}

/// Keeps one tenant's IdP metadata fresh in a [`TenantRegistry`]. Every accepted refresh
/// (re)installs the tenant: stop calling it (drop the refresher) when the tenant is removed.
///
/// ```
/// use std::time::SystemTime;
/// use rampart_saml::{FileFetcher, MetadataRefresher, ServiceProvider, TenantRegistry};
/// # use rampart_testkit::block_on_ready as block_on;
/// let registry = TenantRegistry::new();
/// let refresher = MetadataRefresher::builder(
///     "onelogin",
///     "https://app.onelogin.com/saml/metadata/383123",
///     FileFetcher::new("tests/samples/python3-saml/data/metadata/idp_metadata.xml"),
///     |idp| ServiceProvider::builder("https://sp.example.com/metadata", "https://sp.example.com/saml/acs")
///         .identity_provider(idp)
///         .build(),
/// )
/// // Only for a file the operator placed; pin the IdP's metadata signing certificate
/// // with `with_metadata_signing_certificate` for anything fetched.
/// .accept_unsigned_metadata()
/// .build()?;
/// let now = SystemTime::now();
/// block_on(refresher.refresh(&registry, now))?;
/// assert!(registry.get("onelogin").is_some());
/// assert!(refresher.status().next_attempt.is_some_and(|t| t > now));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct MetadataRefresher<F> {
    tenant: String,
    entity_id: String,
    fetcher: F,
    build_sp: Box<BuildSp>,
    verify: Option<VerifyOptions>,
    min_interval: Duration,
    max_interval: Duration,
    retry_interval: Duration,
    unknown_key_interval: Duration,
    state: Mutex<State>,
}

impl<F> std::fmt::Debug for MetadataRefresher<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetadataRefresher")
            .field("tenant", &self.tenant)
            .field("entity_id", &self.entity_id)
            .field("signed", &self.verify.is_some())
            .finish_non_exhaustive()
    }
}

/// Builds a [`MetadataRefresher`]; `build()` refuses a configuration that neither pins a
/// metadata signing certificate nor says loudly that unsigned metadata is accepted.
///
/// ```
/// use std::time::Duration;
/// use rampart_saml::{Certificate, FileFetcher, MetadataRefresher, ServiceProvider};
/// let signer = Certificate::from_pem(&std::fs::read("tests/keys/sp.cert.pem")?)?;
/// let build_sp = |idp| ServiceProvider::builder("https://sp.example.com/metadata", "https://sp.example.com/saml/acs")
///     .identity_provider(idp)
///     .build();
/// let refresher = MetadataRefresher::builder("acme", "https://idp.example.com/metadata", FileFetcher::new("idp.xml"), build_sp)
///     .with_metadata_signing_certificate(signer)
///     .with_min_refresh_interval(Duration::from_secs(600))
///     .with_max_refresh_interval(Duration::from_secs(6 * 3600))
///     .with_retry_interval(Duration::from_secs(120))
///     .with_unknown_key_refresh_interval(Duration::from_secs(300))
///     .build()?;
/// // Neither a signing certificate nor the loud opt-in: refused.
/// assert!(MetadataRefresher::builder("acme", "https://idp.example.com/metadata", FileFetcher::new("idp.xml"), build_sp)
///     .build()
///     .is_err());
/// # let _ = refresher;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use]
pub struct MetadataRefresherBuilder<F> {
    tenant: String,
    entity_id: String,
    fetcher: F,
    build_sp: Box<BuildSp>,
    signing: Vec<Certificate>,
    unsigned: bool,
    min_interval: Duration,
    max_interval: Duration,
    retry_interval: Duration,
    unknown_key_interval: Duration,
}

impl<F> std::fmt::Debug for MetadataRefresherBuilder<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetadataRefresherBuilder")
            .field("tenant", &self.tenant)
            .field("entity_id", &self.entity_id)
            .finish_non_exhaustive()
    }
}

impl<F: MetadataFetcher> MetadataRefresher<F> {
    /// Starts a refresher for `tenant`, whose IdP must have the entity id `entity_id` (the
    /// pin: metadata about any other entity is refused), fetched by `fetcher`; `build_sp`
    /// makes the tenant's [`ServiceProvider`] around each accepted IdP (our entity id, ACS
    /// and the tenant's options stay the caller's).
    pub fn builder(
        tenant: impl Into<String>,
        entity_id: impl Into<String>,
        fetcher: F,
        build_sp: impl Fn(IdentityProvider) -> Result<ServiceProvider, Error> + Send + Sync + 'static,
    ) -> MetadataRefresherBuilder<F> {
        MetadataRefresherBuilder {
            tenant: tenant.into(),
            entity_id: entity_id.into(),
            fetcher,
            build_sp: Box::new(build_sp),
            signing: Vec::new(),
            unsigned: false,
            min_interval: DEFAULT_MIN_REFRESH_INTERVAL,
            max_interval: DEFAULT_MAX_REFRESH_INTERVAL,
            retry_interval: DEFAULT_RETRY_INTERVAL,
            unknown_key_interval: DEFAULT_UNKNOWN_KEY_REFRESH_INTERVAL,
        }
    }

    /// The tenant this refresher serves.
    ///
    /// ```
    /// # use rampart_saml::{FileFetcher, MetadataRefresher, ServiceProvider};
    /// # let r = MetadataRefresher::builder("acme", "https://idp.example.com/metadata", FileFetcher::new("idp.xml"),
    /// #     |idp| ServiceProvider::builder("https://sp.example.com/metadata", "https://sp.example.com/saml/acs").identity_provider(idp).build())
    /// #     .accept_unsigned_metadata().build()?;
    /// assert_eq!(r.tenant(), "acme");
    /// # Ok::<(), rampart_saml::Error>(())
    /// ```
    #[must_use]
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// A copy of the current status.
    ///
    /// ```
    /// # use std::time::{Duration, SystemTime};
    /// # use rampart_saml::{FileFetcher, MetadataRefresher, ServiceProvider, TenantRegistry};
    /// # use rampart_testkit::block_on_ready as block_on;
    /// # let registry = TenantRegistry::new();
    /// # let refresher = MetadataRefresher::builder("onelogin", "https://app.onelogin.com/saml/metadata/383123",
    /// #     FileFetcher::new("tests/samples/python3-saml/data/metadata/idp_metadata.xml"),
    /// #     |idp| ServiceProvider::builder("https://sp.example.com/metadata", "https://sp.example.com/saml/acs").identity_provider(idp).build())
    /// #     .accept_unsigned_metadata().build()?;
    /// # let now = SystemTime::now();
    /// block_on(refresher.refresh(&registry, now))?;
    /// let status = refresher.status();
    /// assert_eq!((status.last_success, status.successes), (Some(now), 1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn status(&self) -> RefreshStatus {
        self.lock().status.clone()
    }

    /// Fetches, checks and installs the metadata now. On success the tenant's configuration
    /// in `registry` is replaced and the next refresh is scheduled after `cacheDuration`
    /// (clamped to the minimum and maximum intervals, and never after `validUntil`). On
    /// failure the last good configuration stays, the error is recorded in the status and
    /// returned, and the next attempt is scheduled after the retry interval; if the last
    /// good metadata has expired by then, the tenant is removed (fail closed).
    ///
    /// A refresh already running (another task's) makes this one return `Ok(false)` at once.
    ///
    /// ```
    /// # use std::time::{Duration, SystemTime};
    /// # use rampart_saml::{FileFetcher, MetadataRefresher, ServiceProvider, TenantRegistry};
    /// # use rampart_testkit::block_on_ready as block_on;
    /// # let registry = TenantRegistry::new();
    /// # let refresher = MetadataRefresher::builder("onelogin", "https://app.onelogin.com/saml/metadata/383123",
    /// #     FileFetcher::new("tests/samples/python3-saml/data/metadata/idp_metadata.xml"),
    /// #     |idp| ServiceProvider::builder("https://sp.example.com/metadata", "https://sp.example.com/saml/acs").identity_provider(idp).build())
    /// #     .accept_unsigned_metadata().build()?;
    /// # let now = SystemTime::now();
    /// assert!(block_on(refresher.refresh(&registry, now))?); // installed
    /// assert!(registry.get("onelogin").is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// The [`RefreshError`] that refused the metadata.
    pub async fn refresh(
        &self,
        registry: &TenantRegistry,
        now: SystemTime,
    ) -> Result<bool, RefreshError> {
        {
            let mut s = self.lock();
            if s.in_flight {
                return Ok(false);
            }
            s.in_flight = true;
        }
        // Cleared on every exit, a cancelled fetch (the caller's timeout dropping this
        // future) included: a flag left set would stop every later refresh.
        let mut flight = InFlight {
            state: &self.state,
            armed: true,
        };
        let fetched = self.fetcher.fetch().await;
        let result = fetched
            .map_err(RefreshError::Fetch)
            .and_then(|xml| self.accept(&xml, now));
        // Cleared under the same lock that installs the result, so a refresh started after
        // this one cannot finish first and then be overwritten by older metadata.
        let mut s = self.lock();
        s.in_flight = false;
        flight.armed = false;
        match result {
            Ok((sp, valid_until, cache)) => {
                registry.insert(self.tenant.clone(), sp);
                let wait = cache
                    .unwrap_or(self.max_interval)
                    .clamp(self.min_interval, self.max_interval);
                let mut next = now.checked_add(wait).unwrap_or(now);
                if let Some(until) = valid_until {
                    next = next.min(until);
                }
                let st = &mut s.status;
                st.last_success = Some(now);
                st.last_error = None;
                st.next_attempt = Some(next);
                st.valid_until = valid_until;
                st.successes += 1;
                Ok(true)
            }
            Err(e) => {
                let st = &mut s.status;
                st.last_error = Some((now, e.kind(), e.to_string()));
                st.next_attempt = Some(now.checked_add(self.retry_interval).unwrap_or(now));
                st.failures += 1;
                if st.valid_until.is_some_and(|until| now >= until) {
                    registry.remove(&self.tenant);
                }
                Err(e)
            }
        }
    }

    /// Refreshes when the scheduled time has come (or no metadata was ever accepted), and
    /// removes the tenant from `registry` once its last good metadata has expired. Call it
    /// from a timer; returns whether new metadata was installed.
    ///
    /// ```
    /// # use std::time::{Duration, SystemTime};
    /// # use rampart_saml::{FileFetcher, MetadataRefresher, ServiceProvider, TenantRegistry};
    /// # use rampart_testkit::block_on_ready as block_on;
    /// # let registry = TenantRegistry::new();
    /// # let refresher = MetadataRefresher::builder("onelogin", "https://app.onelogin.com/saml/metadata/383123",
    /// #     FileFetcher::new("tests/samples/python3-saml/data/metadata/idp_metadata.xml"),
    /// #     |idp| ServiceProvider::builder("https://sp.example.com/metadata", "https://sp.example.com/saml/acs").identity_provider(idp).build())
    /// #     .accept_unsigned_metadata().build()?;
    /// # let now = SystemTime::now();
    /// assert!(block_on(refresher.refresh_if_due(&registry, now))?); // never refreshed: due
    /// assert!(!block_on(refresher.refresh_if_due(&registry, now + Duration::from_secs(60)))?); // not yet
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`MetadataRefresher::refresh`].
    pub async fn refresh_if_due(
        &self,
        registry: &TenantRegistry,
        now: SystemTime,
    ) -> Result<bool, RefreshError> {
        let due = {
            let s = self.lock();
            if s.status.valid_until.is_some_and(|until| now >= until) {
                registry.remove(&self.tenant);
            }
            s.status.next_attempt.is_none_or(|t| now >= t)
        };
        if due {
            self.refresh(registry, now).await
        } else {
            Ok(false)
        }
    }

    /// Validates a response for this refresher's tenant (as
    /// [`TenantRegistry::validate_response`]); when its signature does not verify with the
    /// IdP keys we hold (the IdP may have rotated), refreshes the metadata once, at most once
    /// per unknown-key interval for this tenant, and validates again once.
    ///
    /// ```
    /// # use std::time::{Duration, SystemTime};
    /// # use rampart_saml::{FileFetcher, MetadataRefresher, ServiceProvider, TenantRegistry};
    /// # use rampart_testkit::block_on_ready as block_on;
    /// # let registry = TenantRegistry::new();
    /// # let refresher = MetadataRefresher::builder("onelogin", "https://app.onelogin.com/saml/metadata/383123",
    /// #     FileFetcher::new("tests/samples/python3-saml/data/metadata/idp_metadata.xml"),
    /// #     |idp| ServiceProvider::builder("https://sp.example.com/metadata", "https://sp.example.com/saml/acs").identity_provider(idp).build())
    /// #     .accept_unsigned_metadata().build()?;
    /// # let now = SystemTime::now();
    /// # block_on(refresher.refresh(&registry, now))?;
    /// # let saml_response = std::fs::read("tests/fixtures/both_signed.xml")?;
    /// // Signed by a key the IdP's metadata does not list: one refresh, then refused.
    /// let expected = rampart_saml::Expected::Request("_req0123456789abcdef0123456789abcdef");
    /// let e = block_on(refresher.validate_response(&registry, &saml_response, expected, now))
    ///     .unwrap_err();
    /// assert_eq!(refresher.status().triggered, 1);
    /// # let _ = e;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`TenantRegistry::validate_response`]; [`TenantError::ResponseAfterFailedRefresh`]
    /// when the triggered refresh failed.
    pub async fn validate_response(
        &self,
        registry: &TenantRegistry,
        input: &[u8],
        expected: Expected<'_>,
        now: SystemTime,
    ) -> Result<TenantResponse, TenantError> {
        {
            let s = self.lock();
            if s.status.valid_until.is_some_and(|until| now >= until) {
                registry.remove(&self.tenant);
            }
        }
        let first = registry.validate_response(&self.tenant, input, expected, now);
        let source = match first {
            Err(TenantError::Response { source, .. }) if unknown_key(&source) => source,
            other => return other,
        };
        {
            let mut s = self.lock();
            let allowed = s
                .last_triggered
                .is_none_or(|t| now >= t.checked_add(self.unknown_key_interval).unwrap_or(t));
            if !allowed || s.in_flight {
                return Err(TenantError::Response {
                    tenant: self.tenant.clone(),
                    source,
                });
            }
            s.last_triggered = Some(now);
            s.status.triggered += 1;
        }
        match self.refresh(registry, now).await {
            Ok(_) => registry.validate_response(&self.tenant, input, expected, now),
            Err(refresh) => Err(TenantError::ResponseAfterFailedRefresh {
                tenant: self.tenant.clone(),
                source,
                refresh: Box::new(refresh),
            }),
        }
    }

    /// Checks fetched bytes: signature (when pinned), the pinned entity, validUntil; then
    /// builds the tenant's configuration.
    fn accept(
        &self,
        xml: &[u8],
        now: SystemTime,
    ) -> Result<(ServiceProvider, Option<SystemTime>, Option<Duration>), RefreshError> {
        let m = check_metadata(xml, &self.entity_id, self.verify.as_ref(), now)?;
        let idp = m
            .to_identity_provider(now)
            .map_err(RefreshError::Metadata)?;
        let sp = (self.build_sp)(idp).map_err(RefreshError::Config)?;
        if sp.identity_provider().entity_id() != self.entity_id {
            return Err(RefreshError::Config(Error::Config(
                "build_sp replaced the identity provider read from the metadata".into(),
            )));
        }
        Ok((sp, m.valid_until, m.cache_duration))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Fields are plain values written together: a poisoned lock still holds a usable state.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<F: MetadataFetcher> MetadataRefresherBuilder<F> {
    /// Pins a certificate that must sign the metadata (an enveloped signature over its root
    /// element); unsigned metadata is then refused. Call again for a rollover: either may
    /// sign.
    pub fn with_metadata_signing_certificate(mut self, certificate: Certificate) -> Self {
        self.signing.push(certificate);
        self
    }

    /// DANGER: accepts metadata that carries no signature, trusting the channel alone (a
    /// file the operator placed, an HTTPS URL). Whoever can change the document chooses the
    /// keys every login of this tenant is verified with. Ignored when a signing certificate
    /// is pinned.
    pub fn accept_unsigned_metadata(mut self) -> Self {
        self.unsigned = true;
        self
    }

    /// Shortest time between scheduled refreshes (default [`DEFAULT_MIN_REFRESH_INTERVAL`]).
    pub fn with_min_refresh_interval(mut self, interval: Duration) -> Self {
        self.min_interval = interval;
        self
    }

    /// Longest time between refreshes, and the interval without `cacheDuration` (default
    /// [`DEFAULT_MAX_REFRESH_INTERVAL`]).
    pub fn with_max_refresh_interval(mut self, interval: Duration) -> Self {
        self.max_interval = interval;
        self
    }

    /// Wait after a failed refresh (default [`DEFAULT_RETRY_INTERVAL`]).
    pub fn with_retry_interval(mut self, interval: Duration) -> Self {
        self.retry_interval = interval;
        self
    }

    /// Shortest time between two refreshes triggered by unknown signing keys (default
    /// [`DEFAULT_UNKNOWN_KEY_REFRESH_INTERVAL`]).
    pub fn with_unknown_key_refresh_interval(mut self, interval: Duration) -> Self {
        self.unknown_key_interval = interval;
        self
    }

    /// Checks and finishes the configuration.
    ///
    /// # Errors
    /// [`Error::Config`] when the tenant or entity id is empty, the minimum interval exceeds
    /// the maximum, or neither a signing certificate nor `accept_unsigned_metadata` was
    /// given; [`Error::Key`] when a signing certificate's key cannot verify signatures.
    pub fn build(self) -> Result<MetadataRefresher<F>, Error> {
        if self.tenant.is_empty() || crate::config::blank_or_padded(&self.entity_id) {
            return Err(Error::Config(
                "tenant id empty, or entity id empty or padded with white space".into(),
            ));
        }
        if self.min_interval > self.max_interval {
            return Err(Error::Config(
                "min refresh interval above max refresh interval".into(),
            ));
        }
        let verify = if self.signing.is_empty() {
            if !self.unsigned {
                return Err(Error::Config(
                    "no metadata signing certificate: pin one, or call accept_unsigned_metadata"
                        .into(),
                ));
            }
            None
        } else {
            Some(crate::dsig::verify_options(
                &self.signing,
                Algorithms::default(),
            )?)
        };
        Ok(MetadataRefresher {
            tenant: self.tenant,
            entity_id: self.entity_id,
            fetcher: self.fetcher,
            build_sp: self.build_sp,
            verify,
            min_interval: self.min_interval,
            max_interval: self.max_interval,
            retry_interval: self.retry_interval,
            unknown_key_interval: self.unknown_key_interval,
            state: Mutex::new(State::default()),
        })
    }
}

/// Clears `in_flight` when dropped while still armed (the refresh was cancelled).
struct InFlight<'a> {
    state: &'a Mutex<State>,
    armed: bool,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.state
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .in_flight = false;
        }
    }
}

/// A signature that no key we hold verifies: the IdP may have rotated its key.
fn unknown_key(e: &Error) -> bool {
    matches!(
        e,
        Error::Signature(SignatureError::UntrustedKey | SignatureError::Invalid(_))
    )
}

/// The refresh path's checks on fetched bytes, in order: parse within limits; with `verify`,
/// exactly one `ds:Signature` child of the root, an enveloped signature over the root (the
/// whole document) by a pinned key; the IdP with the pinned `entity_id`; `validUntil` not
/// passed at `now`.
///
/// The IdP is read from the parsed tree after the signature check: the signature covers the
/// root and everything in it (comments excepted, which text reading skips too), so the tree
/// holds only signed values.
pub(crate) fn check_metadata(
    xml: &[u8],
    entity_id: &str,
    verify: Option<&VerifyOptions>,
    now: SystemTime,
) -> Result<IdpMetadata, RefreshError> {
    if let Some(options) = verify {
        let limits = Limits::default()
            .with_max_bytes(MAX_METADATA_BYTES)
            .with_max_nodes(500_000);
        let doc = Document::parse_with_limits(xml, &limits)
            .map_err(|e| RefreshError::Metadata(Error::Xml(e)))?;
        let root = doc.root();
        let mut sigs = root.children_named(ns::DSIG, "Signature");
        let sig = sigs.next().ok_or(RefreshError::Unsigned)?;
        if sigs.next().is_some() {
            return Err(RefreshError::Signature(SignatureError::Multiple(
                "metadata",
            )));
        }
        let v = xmldsig::verify(&doc, sig, options).map_err(|e| {
            RefreshError::Signature(match e {
                xmldsig::Error::Signature {
                    reason: xmldsig::SignatureError::DuplicateId(id),
                    ..
                } => SignatureError::DuplicateId(id),
                e => SignatureError::Invalid(e),
            })
        })?;
        if v.signed_elements().len() != 1 || !v.signed().is_element(root) {
            return Err(RefreshError::Signature(SignatureError::NotEnveloped));
        }
    }
    let m = IdpMetadata::parse_entity(xml, entity_id).map_err(RefreshError::Metadata)?;
    if let Some(until) = m.valid_until
        && now >= until
    {
        return Err(RefreshError::Expired {
            at: xsd::format_datetime(until),
        });
    }
    Ok(m)
}
