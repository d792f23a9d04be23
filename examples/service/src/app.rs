//! The shared state, the router, and the server's life cycle.

use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Redirect, Response};
use axum::routing::{get, post, put};
use rampart_apikey::{ApiKeys, HashingKey, KeyPrefix, Keyset, VerifiedKey};
use rampart_attempts::{Backoff, Policies, Policy, SubjectKind, Tracker};
use rampart_axum::{ApiKeyLayer, ClientIpLayer, TrustedProxies};
use rampart_password::Hasher;
use rampart_saml::TenantRegistry;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, MemoryStore, SessionManagerLayer};

use crate::accounts::PasswordLogins;
use crate::clock::Clock;
use crate::config::{Config, ConfigError, TenantConfig};
use crate::error::{AppError, StartError};
use crate::notify::{OwnerNotifier, Owners};
use crate::regions::Regions;
use crate::stores::{Attempts, Stores};
use crate::{accounts, keys, pages, saml, tokens, uploads};

/// Body limit of every route but uploads and the SAML ACS.
const MAX_BODY_BYTES: usize = 64 * 1024;
/// A signed-in session ends after this long without a request.
const SESSION_IDLE: i64 = 8 * 3600;

/// Every route the service serves, as `(method and path, what it does)`.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET  /healthz", "liveness"),
    (
        "GET  /login, POST /login, POST /signup, POST /logout",
        "password sign-up and sign-in (argon2id, throttled: 401, 429 + Retry-After)",
    ),
    (
        "GET  /dashboard, GET /dashboard/admin",
        "HTML dashboards behind dashboard:view / dashboard:admin (403 without the role)",
    ),
    (
        "PUT  /api/users/{email}/roles",
        "grant roles in the admin's tenant (users:manage)",
    ),
    (
        "GET|POST /api/keys, DELETE /api/keys/{public_key}",
        "API key pairs per user: list, issue (secret shown once), revoke",
    ),
    (
        "GET  /api/v1/whoami, GET /api/v1/reports",
        "Bearer API key: 401 / 429 + Retry-After / 403 missing scope; owner told at the 20th failure",
    ),
    (
        "GET|PUT /api/{region}/tokens/{provider}",
        "OAuth token in an encrypted column, region-pinned (403 cross_region)",
    ),
    (
        "GET  /api/{region}/keyrings/tokens, POST .../rotate",
        "keyring status; rotate + background re-encryption (keyrings:manage)",
    ),
    (
        "GET|PUT /api/{region}/uploads/{name}, GET .../result",
        "uploads encrypted on write, readable 1 hour (then 410); results kept 14 days",
    ),
    (
        "GET  /api/{region}/retention",
        "retention buckets of uploads and results (keyrings:manage)",
    ),
    (
        "GET  /saml/{tenant}/metadata|login, POST /saml/{tenant}/acs, GET|POST /saml/{tenant}/slo",
        "SAML SSO per tenant (rampart-axum's SamlRoutes), IdP groups mapped to roles; IdP-initiated logout",
    ),
];

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct AppState(Arc<Inner>);

pub(crate) struct Inner {
    pub(crate) clock: Clock,
    pub(crate) stores: Stores,
    pub(crate) keys: Arc<ApiKeys>,
    pub(crate) owners: Owners,
    pub(crate) logins: PasswordLogins,
    pub(crate) password_policy: rampart_password::Policy,
    pub(crate) regions: Regions,
    pub(crate) policy: Arc<rampart_authz::Policy>,
    pub(crate) tenants: Vec<TenantConfig>,
    pub(crate) saml: TenantRegistry,
    /// Proxies whose `X-Forwarded-For` is believed, for the client address that failed
    /// attempts count against (logins and API keys alike). None: the service is reached
    /// directly; list the load balancer here when one is in front.
    pub(crate) trusted_proxies: TrustedProxies,
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// The tenant `id`, or 404 `unknown_tenant`.
    pub(crate) fn tenant(&self, id: &str) -> Result<&TenantConfig, AppError> {
        self.tenants
            .iter()
            .find(|t| t.id() == id)
            .ok_or(AppError::NotFound("unknown_tenant"))
    }

    pub(crate) fn tenant_ids(&self) -> impl Iterator<Item = &str> {
        self.tenants.iter().map(TenantConfig::id)
    }

    pub(crate) fn tenant_ids_with_sso(&self) -> impl Iterator<Item = &str> {
        self.tenants
            .iter()
            .filter(|t| t.idp().is_some())
            .map(TenantConfig::id)
    }
}

/// The attempt policies: rampart-attempts' defaults for accounts (5 free failures per
/// account and address, then 1 s doubling to 15 min) and addresses; for API keys, 20 free
/// failures per key and per key and address, then the same backoff, with the owner told at
/// the 20th consecutive failure against the key (only that kind notifies). Secrets are 190
/// random bits: the throttle is against noise, and the owner hears of a streak before it
/// slows anyone down.
fn attempt_policies() -> Policies {
    let fifteen_min = Duration::from_secs(15 * 60);
    let backoff = Backoff::new(20, Duration::from_secs(1), fifteen_min);
    Policies::default()
        .with(
            SubjectKind::ApiKey,
            Policy::throttle(backoff)
                .with_notify_after(Some(rampart_attempts::DEFAULT_NOTIFY_AFTER)),
        )
        .with(SubjectKind::ApiKeyIp, Policy::throttle(backoff))
}

/// The API-key hashing key, created (0600) on first start.
fn hashing_key(config: &Config) -> Result<HashingKey, StartError> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let dir = config.data_dir.join("keys");
    std::fs::create_dir_all(&dir).map_err(StartError::Io)?;
    let path = dir.join("api-key-hashing.key");
    if !path.exists() {
        let key = HashingKey::generate()?;
        let text = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            key.expose_secret(),
        );
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(StartError::Io)?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(StartError::Io)?;
    }
    let text = zeroize::Zeroizing::new(std::fs::read_to_string(&path).map_err(StartError::Io)?);
    Ok(HashingKey::from_base64(text.trim_ascii())?)
}

fn valid_tenant_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl AppState {
    async fn new(config: &Config, base_url: &str) -> Result<Self, StartError> {
        for t in &config.tenants {
            if !valid_tenant_id(t.id()) {
                return Err(ConfigError::Usage(format!(
                    "tenant id {:?} is not [a-z0-9-]{{1,64}}",
                    t.id()
                ))
                .into());
            }
        }
        std::fs::create_dir_all(&config.data_dir).map_err(StartError::Io)?;
        let now = config.clock.now();
        let owners = Owners::default();
        let notifier = match &config.smtp {
            Some(smtp) => {
                OwnerNotifier::smtp(owners.clone(), smtp.host(), smtp.port(), smtp.from())?
            }
            None => OwnerNotifier::log(owners.clone(), config.data_dir.join("notifications.log")),
        };
        let stores = Stores::open(config, notifier, attempt_policies()).await?;
        for (public_id, owner) in stores.db.key_owners().await? {
            owners.insert(public_id, owner);
        }
        let keys = Arc::new(ApiKeys::new(
            KeyPrefix::new("rk", "live")?,
            Keyset::new(1, hashing_key(config)?),
        ));
        let logins = PasswordLogins::new(&stores.attempts, &Hasher::new(), &config.clock);
        Ok(Self(Arc::new(Inner {
            clock: config.clock.clone(),
            keys,
            owners,
            logins,
            password_policy: rampart_password::Policy::default(),
            regions: Regions::open(&config.data_dir, now)?,
            policy: Arc::new(rampart_authz::Policy::from_toml(&config.role_map)?),
            tenants: config.tenants.clone(),
            saml: saml::registry(base_url, &config.tenants)?,
            trusted_proxies: TrustedProxies::none(),
            stores,
        })))
    }
}

/// `/api/v1` behind rampart-axum's `ApiKeyLayer` (one instance per attempt-store type: the
/// layer is generic over it).
fn api_v1<T: rampart_attempts::Store + 'static>(
    state: &AppState,
    tracker: Arc<Tracker<T, OwnerNotifier>>,
) -> Router<AppState> {
    let owners = state.owners.clone();
    let owner_of = move |key: &VerifiedKey| {
        owners
            .of(key.public_id().as_str())
            .map(rampart_axum::KeyOwner::new)
    };
    let clock = state.clock.clone();
    let layer = ApiKeyLayer::new(
        state.keys.clone(),
        Arc::new(state.stores.keys.clone()),
        tracker,
    )
    .with_owners(owner_of)
    .with_trusted_proxies(state.trusted_proxies.clone())
    .with_clock(move || clock.now());
    Router::new()
        .route("/api/v1/whoami", get(keys::whoami))
        .route("/api/v1/reports", get(keys::reports))
        .route_layer(layer)
}

/// The router over `state`.
fn router(state: AppState, secure_cookies: bool) -> Router {
    // SAML's POST binding arrives as a cross-site POST from the IdP: with Secure cookies
    // (https) the session cookie is SameSite=None so it comes along; over plain http
    // (local runs, tests with the IdP on the same host) Lax is enough and safer.
    let same_site = if secure_cookies {
        SameSite::None
    } else {
        SameSite::Lax
    };
    let sessions = SessionManagerLayer::new(MemoryStore::default())
        .with_secure(secure_cookies)
        .with_http_only(true)
        .with_same_site(same_site)
        .with_name("rampart_session")
        .with_expiry(Expiry::OnInactivity(
            tower_sessions::cookie::time::Duration::seconds(SESSION_IDLE),
        ));
    let api_v1 = match &state.stores.attempts {
        Attempts::Sqlite(tracker) => api_v1(&state, tracker.clone()),
        Attempts::Postgres(tracker) => api_v1(&state, tracker.clone()),
        Attempts::Redis(tracker) => api_v1(&state, tracker.clone()),
    };
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/", get(|| async { Redirect::to("/login") }))
        .route("/login", get(pages::login).post(accounts::login))
        .route("/signup", post(accounts::sign_up))
        .route("/logout", post(accounts::logout))
        .route("/dashboard", get(pages::dashboard))
        .route("/dashboard/admin", get(pages::admin))
        .route("/api/users/{email}/roles", put(accounts::set_roles))
        .route("/api/keys", get(keys::list).post(keys::issue))
        .route(
            "/api/keys/{public_key}",
            axum::routing::delete(keys::revoke),
        )
        .route(
            "/api/{region}/tokens/{provider}",
            get(tokens::get).put(tokens::put),
        )
        .route("/api/{region}/keyrings/tokens", get(tokens::status))
        .route("/api/{region}/keyrings/tokens/rotate", post(tokens::rotate))
        .route(
            "/api/{region}/uploads/{name}",
            get(uploads::get)
                .put(uploads::put)
                .layer(DefaultBodyLimit::max(uploads::MAX_UPLOAD_BYTES)),
        )
        .route("/api/{region}/uploads/{name}/result", get(uploads::result))
        .route("/api/{region}/retention", get(uploads::buckets))
        .merge(saml::routes(&state))
        .merge(api_v1)
        .fallback(|| async { AppError::NotFound("not_found") })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(ClientIpLayer::new(state.trusted_proxies.clone()))
        .layer(sessions)
        .layer(middleware::from_fn(scrub_plain_errors))
        .with_state(state)
}

/// axum's own refusals (a path that does not decode, a method not allowed, a body over the
/// limit) are plain text that may quote the request, and rampart-axum's are its error kind
/// as plain text: both become the service's `{"error": kind}`. Only a body that is exactly
/// a kind (`[a-z_]`, a few dozen bytes) is kept; anything else is replaced by the status's
/// generic kind, so no request text can pass through.
async fn scrub_plain_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_none_or(|v| v.as_bytes().starts_with(b"text/plain"));
    if !(status.is_client_error() || status.is_server_error()) || !plain {
        return response;
    }
    let generic = match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    };
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64).await.unwrap_or_default();
    let token = text.strip_suffix(b"\n").unwrap_or(&text);
    let kind = if !token.is_empty() && token.iter().all(|b| b.is_ascii_lowercase() || *b == b'_') {
        String::from_utf8_lossy(token).into_owned()
    } else {
        generic.to_owned()
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    let body = serde_json::json!({ "error": kind }).to_string();
    Response::from_parts(parts, axum::body::Body::from(body))
}

/// A started service: its URL, and the handle to stop it.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let running = rampart_service::start(listener, rampart_service::Config::new("/tmp/svc")).await?;
/// println!("serving at {}", running.url());
/// running.stop().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Running {
    url: String,
    shutdown: oneshot::Sender<()>,
    server: JoinHandle<std::io::Result<()>>,
    maintenance: JoinHandle<()>,
}

impl Running {
    /// The base URL (`http://127.0.0.1:PORT` unless a public URL was configured).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Stops accepting, lets requests in flight finish, and returns.
    ///
    /// # Errors
    /// [`StartError::Io`] when the server failed.
    pub async fn stop(self) -> Result<(), StartError> {
        let Running {
            shutdown,
            server,
            maintenance,
            ..
        } = self;
        let _ = shutdown.send(());
        let result = server.await;
        maintenance.abort();
        flatten(result)
    }

    /// Runs until the server stops (it does not on its own: until the process ends).
    ///
    /// # Errors
    /// [`StartError::Io`] when the server failed.
    pub async fn wait(self) -> Result<(), StartError> {
        let Running {
            shutdown,
            server,
            maintenance,
            ..
        } = self;
        let result = server.await;
        drop(shutdown);
        maintenance.abort();
        flatten(result)
    }
}

fn flatten(result: Result<std::io::Result<()>, tokio::task::JoinError>) -> Result<(), StartError> {
    match result {
        Ok(r) => r.map_err(StartError::Io),
        Err(e) => Err(StartError::Io(std::io::Error::other(e))),
    }
}

/// Opens every store and keyring under `config`, and serves on `listener` in a background
/// task. Needs a multi-threaded Tokio runtime.
///
/// # Errors
/// [`StartError`] naming what could not be set up.
pub async fn start(listener: TcpListener, config: Config) -> Result<Running, StartError> {
    let addr = listener.local_addr().map_err(StartError::Io)?;
    let url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    let state = AppState::new(&config, &url).await?;
    let app = router(state.clone(), config.secure_cookies);
    let (shutdown, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stopped.await;
        })
        .await
    });
    // The writer's duties for the retention keyrings (prepare ahead, purge), once a minute;
    // reads also purge first, so expiry does not wait for this tick.
    let maintenance = tokio::spawn(async move {
        // Start already did this once; the first tick is a minute away.
        let minute = Duration::from_secs(60);
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + minute, minute);
        loop {
            tick.tick().await;
            for keys in state.regions.all() {
                if let Err(e) = keys.maintain(state.clock.now()) {
                    eprintln!(
                        "rampart-service: retention upkeep in {}: {e}",
                        keys.region.as_str()
                    );
                }
            }
        }
    });
    Ok(Running {
        url,
        shutdown,
        server,
        maintenance,
    })
}

/// [`start`], then run until the server stops.
///
/// # Errors
/// As [`start`] and [`Running::wait`].
pub async fn serve(listener: TcpListener, config: Config) -> Result<(), StartError> {
    start(listener, config).await?.wait().await
}
