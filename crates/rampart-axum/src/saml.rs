//! SAML service-provider routes per tenant, over rampart-saml's `TenantRegistry`.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::request::Parts;
use http::{HeaderValue, StatusCode, header};
use rampart_saml::{
    Expected, Login, LogoutSession, MemoryReplayCache, MemoryRequestIds, ReplayCache,
    RequestIdStore, ServiceProvider, TenantRegistry, TenantRequestIds,
};

use crate::authz::Authorizer;
use crate::clock::Clock;
use crate::error::{BoxError, Error};
use crate::form::{Fields, read_body};
use crate::principal::{AuthMethod, Principal};

/// Largest ACS or SLO form body read, in bytes; more is 413 before any parsing. A response
/// of rampart-saml's default limit (256 KiB of XML) is about 342 KiB in base64, and
/// percent-encoding of its `+`, `/` and `=` adds a few percent: 768 KiB leaves room for
/// that and no more. Raise it with [`SamlRoutes::with_max_form_bytes`] together with a
/// tenant's `with_max_response_bytes`.
pub const DEFAULT_MAX_SAML_FORM_BYTES: usize = 768 * 1024;

/// How long an AuthnRequest's id stays valid for its response (the user's time at the IdP).
pub const DEFAULT_REQUEST_LIFETIME: Duration = Duration::from_secs(10 * 60);

/// Largest query string read on the SAML routes (a redirect-binding LogoutRequest is
/// deflated and small; rampart-saml bounds the inflated message too).
const MAX_QUERY_BYTES: usize = 16 * 1024;

/// A successful SAML login, handed to [`SamlSessions::logged_in`].
#[derive(Debug)]
#[non_exhaustive]
pub struct SamlLogin {
    /// The tenant (from the ACS path) whose IdP signed the assertion.
    pub tenant: String,
    /// Every value of the login, from the signed part of the response, after the replay
    /// check. Keep `name_id` and `session_index` for Single Logout
    /// ([`LogoutSession::from_login`]).
    pub login: Login,
    /// The principal: owner = NameID value, roles = the tenant's mapping of the login's
    /// attributes (rampart-authz `tenants.<tenant>.mappings`).
    pub principal: Principal,
    /// Where the user wanted to go: the `return_to` of the login route, echoed by the IdP
    /// as RelayState and checked again to be a local path.
    pub return_to: Option<String>,
}

/// The application's sessions, as the SAML routes use them. This crate owns no session: each
/// hook gets the request's [`Parts`], from which a session layer's handle is extracted
/// (tower-sessions: `Session::from_request_parts(parts, &())`).
pub trait SamlSessions: Send + Sync + 'static {
    /// The session store's own failure (answered 503, [`Error::Application`]).
    type Error: std::error::Error + Send + Sync + 'static;

    /// Keeps `request_id` in the user's session: a login for `tenant` just started.
    fn remember_request(
        &self,
        parts: &mut Parts,
        tenant: &str,
        request_id: &str,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// Takes the request id kept for `tenant` out of the session (so a response is answered
    /// once): `None` when this session started no login (400,
    /// [`Error::NoLoginInProgress`]).
    fn take_request(
        &self,
        parts: &mut Parts,
        tenant: &str,
    ) -> impl Future<Output = Result<Option<String>, Self::Error>> + Send;

    /// A login succeeded: start the application's session (rotate its id) and answer,
    /// typically with a redirect to `login.return_to`.
    fn logged_in(
        &self,
        parts: &mut Parts,
        login: SamlLogin,
    ) -> impl Future<Output = Result<Response, Self::Error>> + Send;

    /// The SAML session of `tenant` this browser holds (the login's NameID and
    /// SessionIndex), which an IdP's LogoutRequest must name; `None` when there is none.
    fn logout_session(
        &self,
        parts: &mut Parts,
        tenant: &str,
    ) -> impl Future<Output = Result<Option<LogoutSession>, Self::Error>> + Send;

    /// A validated LogoutRequest named this session: end it.
    fn logged_out(
        &self,
        parts: &mut Parts,
        tenant: &str,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

/// The SAML routes of every tenant in a [`TenantRegistry`], as an axum [`Router`]:
///
/// | route | does |
/// |---|---|
/// | `GET /saml/{tenant}/metadata` | the tenant's SP metadata (`application/samlmetadata+xml`) |
/// | `GET /saml/{tenant}/login?return_to=/path` | an AuthnRequest: its id remembered in the request-id store and the session, then 303 to the IdP (RelayState = `return_to`, a local path) |
/// | `POST /saml/{tenant}/acs` | the response: the session's request id taken and consumed, validated by the tenant's configuration, the replay check, roles mapped, then [`SamlSessions::logged_in`] |
/// | `GET`/`POST /saml/{tenant}/slo` | an IdP's LogoutRequest (redirect or POST binding): validated against the session's [`LogoutSession`], replay-checked, [`SamlSessions::logged_out`], then a LogoutResponse to the IdP's SLO URL |
///
/// Refusals, each through [`Error`]: an unknown tenant is 404; an ACS body over
/// [`DEFAULT_MAX_SAML_FORM_BYTES`] is 413 before parsing; a form value that is not UTF-8,
/// a missing or repeated field, a RelayState that is not a local path are 400; no login in
/// progress in this session (or a request id not issued, expired or used) is 400; a refused
/// response or a replayed assertion is 401; a failing store is 503.
///
/// ```
/// use rampart_axum::SamlRoutes;
/// # use rampart_axum::SamlSessions;
/// # fn routes<H: SamlSessions>(sessions: H) -> axum::Router {
/// let registry = rampart_saml::TenantRegistry::new(); // one ServiceProvider per tenant
/// SamlRoutes::new(registry, sessions).into_router()
/// # }
/// ```
pub struct SamlRoutes<H, I = MemoryRequestIds, R = MemoryReplayCache> {
    registry: TenantRegistry,
    sessions: H,
    request_ids: TenantRequestIds<I>,
    replay: R,
    authz: Option<Authorizer>,
    idp_slo_urls: HashMap<String, String>,
    max_form_bytes: usize,
    request_lifetime: Duration,
    clock: Clock,
}

impl<H, I, R> std::fmt::Debug for SamlRoutes<H, I, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SamlRoutes")
            .field("tenants", &self.registry.len())
            .field("max_form_bytes", &self.max_form_bytes)
            .field("request_lifetime", &self.request_lifetime)
            .finish_non_exhaustive()
    }
}

impl<H: SamlSessions> SamlRoutes<H> {
    /// The routes of `registry`'s tenants, with `sessions`, in-memory request ids and replay
    /// cache (one process; see [`with_request_ids`](Self::with_request_ids) and
    /// [`with_replay_cache`](Self::with_replay_cache) for several replicas), no role mapping.
    #[must_use]
    pub fn new(registry: TenantRegistry, sessions: H) -> Self {
        Self {
            registry,
            sessions,
            request_ids: TenantRequestIds::new(MemoryRequestIds::new()),
            replay: MemoryReplayCache::new(),
            authz: None,
            idp_slo_urls: HashMap::new(),
            max_form_bytes: DEFAULT_MAX_SAML_FORM_BYTES,
            request_lifetime: DEFAULT_REQUEST_LIFETIME,
            clock: Clock::system(),
        }
    }
}

impl<H, I, R> SamlRoutes<H, I, R>
where
    H: SamlSessions,
    I: RequestIdStore + 'static,
    R: ReplayCache + 'static,
{
    /// Issued request ids in `store` (`RedisRequestIds`, an SQL store, for several replicas).
    #[must_use]
    pub fn with_request_ids<J: RequestIdStore>(self, store: J) -> SamlRoutes<H, J, R> {
        SamlRoutes {
            registry: self.registry,
            sessions: self.sessions,
            request_ids: TenantRequestIds::new(store),
            replay: self.replay,
            authz: self.authz,
            idp_slo_urls: self.idp_slo_urls,
            max_form_bytes: self.max_form_bytes,
            request_lifetime: self.request_lifetime,
            clock: self.clock,
        }
    }

    /// The replay cache (`RedisReplayCache`, an SQL store, for several replicas).
    #[must_use]
    pub fn with_replay_cache<S: ReplayCache>(self, cache: S) -> SamlRoutes<H, I, S> {
        SamlRoutes {
            registry: self.registry,
            sessions: self.sessions,
            request_ids: self.request_ids,
            replay: cache,
            authz: self.authz,
            idp_slo_urls: self.idp_slo_urls,
            max_form_bytes: self.max_form_bytes,
            request_lifetime: self.request_lifetime,
            clock: self.clock,
        }
    }

    /// Maps each login's attributes to roles with `authz`'s policy
    /// (`tenants.<tenant>.mappings`).
    #[must_use]
    pub fn with_authorizer(mut self, authz: Authorizer) -> Self {
        self.authz = Some(authz);
        self
    }

    /// The IdP's SingleLogoutService URL for `tenant` (HTTP-Redirect), where the
    /// LogoutResponse goes. Without one, a validated LogoutRequest ends the session and is
    /// answered with a plain 200.
    #[must_use]
    pub fn with_idp_single_logout_url(
        mut self,
        tenant: impl Into<String>,
        url: impl Into<String>,
    ) -> Self {
        self.idp_slo_urls.insert(tenant.into(), url.into());
        self
    }

    /// Largest ACS/SLO form body (default [`DEFAULT_MAX_SAML_FORM_BYTES`]).
    #[must_use]
    pub fn with_max_form_bytes(mut self, bytes: usize) -> Self {
        self.max_form_bytes = bytes;
        self
    }

    /// How long a login may take at the IdP (default [`DEFAULT_REQUEST_LIFETIME`]).
    #[must_use]
    pub fn with_request_lifetime(mut self, lifetime: Duration) -> Self {
        self.request_lifetime = lifetime;
        self
    }

    /// The clock validations and request-id lifetimes use (default `SystemTime::now`): the
    /// service's own clock, or a fixed one for tests against fixed documents.
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// use rampart_axum::SamlRoutes;
    /// # use rampart_axum::SamlSessions;
    /// # fn routes<H: SamlSessions>(sessions: H) -> axum::Router {
    /// let issued_at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_900_000_000);
    /// SamlRoutes::new(rampart_saml::TenantRegistry::new(), sessions)
    ///     .with_clock(move || issued_at + Duration::from_secs(30))
    ///     .into_router()
    /// # }
    /// ```
    #[must_use]
    pub fn with_clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Clock::from_fn(clock);
        self
    }

    /// The routes, to `merge` into the application's router.
    pub fn into_router<S: Clone + Send + Sync + 'static>(self) -> Router<S> {
        let shared = Arc::new(self);
        Router::new()
            .route(
                "/saml/{tenant}/metadata",
                get(|s, p, r| serve(s, p, r, Route::Metadata)),
            )
            .route(
                "/saml/{tenant}/login",
                get(|s, p, r| serve(s, p, r, Route::Login)),
            )
            .route(
                "/saml/{tenant}/acs",
                axum::routing::post(|s, p, r| serve(s, p, r, Route::Acs)),
            )
            .route(
                "/saml/{tenant}/slo",
                get(|s, p, r| serve(s, p, r, Route::SloRedirect))
                    .post(|s, p, r| serve(s, p, r, Route::SloPost)),
            )
            .with_state(shared)
    }

    /// What every route starts from: the tenant named by the path (404 for any other, or a
    /// segment axum cannot decode), then the route's own work.
    async fn handle(
        &self,
        route: Route,
        path: TenantPath,
        request: Request,
    ) -> Result<Response, Error> {
        let tenant = path.map(|Path(t)| t).map_err(|_| Error::UnknownTenant)?;
        let sp = self.registry.get(&tenant).ok_or(Error::UnknownTenant)?;
        let (mut parts, body) = request.into_parts();
        match route {
            Route::Metadata => Ok((
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/samlmetadata+xml"),
                )],
                sp.metadata_xml(),
            )
                .into_response()),
            Route::Login => self.start_login(&tenant, &sp, &mut parts).await,
            Route::Acs => {
                let body = read_body(body, self.max_form_bytes).await?;
                self.finish_login(&tenant, &body, &mut parts).await
            }
            Route::SloRedirect => {
                let query = bounded_query(&parts)?.to_owned();
                let incoming = Incoming::Redirect(&query);
                self.logout(&tenant, &sp, &mut parts, incoming).await
            }
            Route::SloPost => {
                let body = read_body(body, self.max_form_bytes).await?;
                let fields = Fields::parse(&body)?;
                let incoming = Incoming::Post {
                    message: fields.require("SAMLRequest")?,
                    relay_state: checked_relay_state(fields.get("RelayState")?)?,
                };
                self.logout(&tenant, &sp, &mut parts, incoming).await
            }
        }
    }
}

type Shared<H, I, R> = State<Arc<SamlRoutes<H, I, R>>>;

/// The tenant path segment; a segment axum cannot decode is an unknown tenant too.
type TenantPath = Result<Path<String>, axum::extract::rejection::PathRejection>;

/// The routes [`SamlRoutes::into_router`] serves.
#[derive(Clone, Copy)]
enum Route {
    Metadata,
    Login,
    Acs,
    SloRedirect,
    SloPost,
}

/// Every route's handler: its refusal answered with the error's own status and short body.
async fn serve<H, I, R>(
    State(routes): Shared<H, I, R>,
    path: TenantPath,
    request: Request,
    route: Route,
) -> Response
where
    H: SamlSessions,
    I: RequestIdStore + 'static,
    R: ReplayCache + 'static,
{
    routes
        .handle(route, path, request)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

/// The request's query string, refused (413) above [`MAX_QUERY_BYTES`].
fn bounded_query(parts: &Parts) -> Result<&str, Error> {
    let query = parts.uri.query().unwrap_or("");
    if query.len() > MAX_QUERY_BYTES {
        return Err(Error::PayloadTooLarge);
    }
    Ok(query)
}

/// A session hook's own failure (503).
fn hook_failed<E: std::error::Error + Send + Sync + 'static>(e: E) -> Error {
    Error::Application(BoxError::from(e))
}

/// A LogoutRequest as received.
enum Incoming<'a> {
    Redirect(&'a str),
    Post {
        message: &'a str,
        relay_state: Option<&'a str>,
    },
}

impl<H, I, R> SamlRoutes<H, I, R>
where
    H: SamlSessions,
    I: RequestIdStore + 'static,
    R: ReplayCache + 'static,
{
    async fn start_login(
        &self,
        tenant: &str,
        sp: &ServiceProvider,
        parts: &mut Parts,
    ) -> Result<Response, Error> {
        let fields = Fields::parse(bounded_query(parts)?.as_bytes())?;
        let return_to = checked_relay_state(fields.get("return_to")?)?.map(str::to_owned);
        let sso = sp
            .identity_provider()
            .sso_redirect_url()
            .ok_or(Error::Config("the tenant's IdP has no SSO redirect URL"))?
            .to_owned();
        let now = self.clock.now();
        let request = sp
            .authn_request(sso)
            .build(now)
            .map_err(Error::SamlConfig)?;
        let url = request
            .redirect_url(sp, return_to.as_deref())
            .map_err(Error::SamlConfig)?;
        self.request_ids
            .remember(tenant, request.id(), now + self.request_lifetime, now)
            .await
            .map_err(Error::SamlStore)?;
        self.sessions
            .remember_request(parts, tenant, request.id())
            .await
            .map_err(hook_failed)?;
        Ok(see_other(&url))
    }

    async fn finish_login(
        &self,
        tenant: &str,
        body: &[u8],
        parts: &mut Parts,
    ) -> Result<Response, Error> {
        let fields = Fields::parse(body)?;
        let saml_response = fields.require("SAMLResponse")?;
        let return_to = checked_relay_state(fields.get("RelayState")?)?.map(str::to_owned);
        let request_id = self
            .sessions
            .take_request(parts, tenant)
            .await
            .map_err(hook_failed)?
            .ok_or(Error::NoLoginInProgress)?;
        let now = self.clock.now();
        // Issued by this tenant, not expired, not answered before (on any replica).
        let issued = self
            .request_ids
            .consume(tenant, &request_id, now)
            .await
            .map_err(Error::SamlStore)?;
        if !issued {
            return Err(Error::NoLoginInProgress);
        }
        let validated = self
            .registry
            .validate_response(
                tenant,
                saml_response.as_bytes(),
                Expected::Request(&request_id),
                now,
            )
            .map_err(Error::SamlResponse)?;
        let login = validated
            .response
            .check_replay(&self.replay)
            .await
            .map_err(|e| match e {
                rampart_saml::Error::Replay { .. } => Error::SamlReplay(e),
                other => Error::SamlStore(other),
            })?;
        let roles = self
            .authz
            .as_ref()
            .map_or_else(Vec::new, |a| a.saml_roles(tenant, &login));
        let principal = Principal::build(
            AuthMethod::Saml {
                tenant: tenant.to_owned(),
            },
            login.name_id.value.clone(),
            None,
            roles,
            std::iter::empty(),
        );
        let done = SamlLogin {
            tenant: tenant.to_owned(),
            login,
            principal,
            return_to,
        };
        self.sessions
            .logged_in(parts, done)
            .await
            .map_err(hook_failed)
    }

    async fn logout(
        &self,
        tenant: &str,
        sp: &ServiceProvider,
        parts: &mut Parts,
        incoming: Incoming<'_>,
    ) -> Result<Response, Error> {
        let slo_url = sp
            .single_logout_url()
            .ok_or(Error::Config("the tenant has no single logout URL"))?;
        let session = self
            .sessions
            .logout_session(parts, tenant)
            .await
            .map_err(hook_failed)?
            .ok_or(Error::NoLoginInProgress)?;
        let slo = sp.single_logout(slo_url);
        let now = self.clock.now();
        let validated = match incoming {
            Incoming::Redirect(query) => slo.validate_logout_request_redirect(query, &session, now),
            Incoming::Post {
                message,
                relay_state,
            } => slo.validate_logout_request_post(message.as_bytes(), relay_state, &session, now),
        }
        .map_err(Error::SamlLogout)?;
        let request = validated
            .check_replay(&self.replay)
            .await
            .map_err(Error::SamlLogout)?;
        self.sessions
            .logged_out(parts, tenant)
            .await
            .map_err(hook_failed)?;
        let Some(idp_slo) = self.idp_slo_urls.get(tenant) else {
            return Ok((StatusCode::OK, "logged out\n").into_response());
        };
        let relay_state = checked_relay_state(request.relay_state())?;
        let url = request
            .response(&slo, idp_slo.clone(), now)
            .and_then(|r| r.redirect_url(sp, relay_state))
            .map_err(Error::SamlLogout)?;
        Ok(see_other(&url))
    }
}

/// 303 to `url`, never cached.
fn see_other(url: &str) -> Response {
    match HeaderValue::from_str(url) {
        Ok(location) => (
            StatusCode::SEE_OTHER,
            [
                (header::LOCATION, location),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
        )
            .into_response(),
        // rampart-saml builds these URLs percent-encoded: not reachable with a valid config.
        Err(_) => Error::Config("redirect url is not a valid header value").into_response(),
    }
}

/// A RelayState or `return_to` is used as a redirect target after login: only a local path
/// (`/...`, not `//host` or `/\host`, which browsers read as another origin) of at most 80
/// bytes (SAML bindings 3.4.3) of visible ASCII, or an open redirect follows.
fn checked_relay_state(value: Option<&str>) -> Result<Option<&str>, Error> {
    let Some(v) = value else {
        return Ok(None);
    };
    let local = v.len() <= rampart_saml::MAX_RELAY_STATE_BYTES
        && v.starts_with('/')
        && !v.starts_with("//")
        && !v.starts_with("/\\")
        && v.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    if local {
        Ok(Some(v))
    } else {
        Err(Error::BadRelayState)
    }
}

#[cfg(test)]
mod tests {
    use super::checked_relay_state;

    #[test]
    fn relay_state_to_another_origin_is_refused() {
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "dashboard",
            "/a b",
        ] {
            assert!(checked_relay_state(Some(bad)).is_err(), "{bad}");
        }
        assert_eq!(
            checked_relay_state(Some("/dashboard?x=1")).unwrap(),
            Some("/dashboard?x=1")
        );
        assert!(checked_relay_state(Some(&format!("/{}", "a".repeat(80)))).is_err());
    }
}
