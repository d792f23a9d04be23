//! `ApiKeyLayer`: API keys checked through rampart-apikey, failures counted through
//! rampart-attempts, a [`Principal`] for the handlers.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::SystemTime;

use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderMap, HeaderName, HeaderValue, Request, header};
use rampart_apikey::{ApiKeys, AsyncKeyStore, VerifiedKey};
use rampart_attempts::{NoNotifier, Notifier, Store, Subject, Tracker};

use crate::client_ip::TrustedProxies;
use crate::clock::Clock;
use crate::error::{BoxError, Error};
use crate::principal::{AuthMethod, Principal};

/// Longest credential header value read, in bytes (the scheme included). A secret key is at
/// most [`rampart_apikey::MAX_SECRET_KEY_LEN`] bytes; anything longer is refused as
/// malformed before any parsing, lookup or counting work beyond the client IP.
pub const DEFAULT_MAX_CREDENTIAL_BYTES: usize = 512;

/// Who an API key belongs to, and the roles that owner holds.
///
/// ```
/// let owner = rampart_axum::KeyOwner::new("acme-billing").with_roles(["viewer"]);
/// # let _ = owner;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyOwner {
    owner: String,
    roles: Vec<String>,
}

impl KeyOwner {
    /// A key owned by `owner` (an account id, a customer id), with no roles.
    #[must_use]
    pub fn new(owner: impl Into<String>) -> Self {
        Self {
            owner: owner.into(),
            roles: Vec::new(),
        }
    }

    /// Adds roles the owner holds (checked by rampart-authz next to the key's scopes).
    #[must_use]
    pub fn with_roles<I, S>(mut self, roles: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.roles.extend(roles.into_iter().map(Into::into));
        self
    }
}

/// Finds the owner of a checked API key (rampart-apikey's records name no owner: the
/// application keeps that relation). `Ok(None)` refuses the key with 401 (an orphaned key,
/// for example of a deleted account) without counting a failed attempt: its secret was right.
///
/// Implemented for closures `Fn(&VerifiedKey) -> Option<KeyOwner>`; the default,
/// [`KeyIsOwner`], names the key's public id as its own owner, with no roles.
///
/// ```
/// use rampart_axum::{KeyOwner, KeyOwners};
/// use rampart_apikey::VerifiedKey;
///
/// struct Accounts; // your database
/// impl KeyOwners for Accounts {
///     type Error = std::io::Error;
///     async fn owner_of(&self, key: &VerifiedKey) -> Result<Option<KeyOwner>, std::io::Error> {
///         let _ = key.public_id(); // SELECT account, roles FROM api_key_owners WHERE public_id = $1
///         Ok(Some(KeyOwner::new("acme").with_roles(["viewer"])))
///     }
/// }
/// ```
pub trait KeyOwners: Send + Sync + 'static {
    /// The lookup's own failure (answered 503, [`Error::Application`]).
    type Error: std::error::Error + Send + Sync + 'static;

    /// The owner of `key`, or `None` to refuse it.
    fn owner_of(
        &self,
        key: &VerifiedKey,
    ) -> impl Future<Output = Result<Option<KeyOwner>, Self::Error>> + Send;
}

impl<F> KeyOwners for F
where
    F: Fn(&VerifiedKey) -> Option<KeyOwner> + Send + Sync + 'static,
{
    type Error = Infallible;

    fn owner_of(
        &self,
        key: &VerifiedKey,
    ) -> impl Future<Output = Result<Option<KeyOwner>, Infallible>> + Send {
        std::future::ready(Ok(self(key)))
    }
}

/// The default [`KeyOwners`]: a key is owned by its own public id and holds no roles, so only
/// its scopes grant permissions.
#[derive(Debug, Clone, Copy, Default)]
pub struct KeyIsOwner;

impl KeyOwners for KeyIsOwner {
    type Error = Infallible;

    fn owner_of(
        &self,
        key: &VerifiedKey,
    ) -> impl Future<Output = Result<Option<KeyOwner>, Infallible>> + Send {
        std::future::ready(Ok(Some(KeyOwner::new(key.public_id().as_str()))))
    }
}

/// A tower layer that authenticates every request with an API key.
///
/// For each request, in this order:
/// 1. the credential: `Authorization: Bearer <secret key>`, or the header named by
///    [`with_key_header`](Self::with_key_header) holding the bare secret key; none is 401
///    ([`Error::MissingCredentials`], not counted); one that is not ASCII, longer than
///    [`DEFAULT_MAX_CREDENTIAL_BYTES`], of another scheme or repeated is 401
///    ([`Error::MalformedCredentials`], counted against the client IP);
/// 2. the client IP ([`ClientIp`](crate::ClientIp), with the layer's [`TrustedProxies`]);
/// 3. the public id the key claims (format and checksum only, no lookup), then **the attempt
///    check before any secret check**: [`Tracker::check_all`] over the client IP, the
///    (key, IP) pair and the key; a refusal is 429 with `Retry-After`
///    ([`Error::Throttled`], [`Error::Locked`]) and costs no lookup or hash;
/// 4. the record looked up by public id in the store (any [`AsyncKeyStore`]), then
///    [`ApiKeys::verify`] (one HMAC whether or not a record exists) with the layer's required
///    scopes: a refused key is 401 ([`Error::InvalidApiKey`], the same body for
///    every reason) and is recorded as a failure for the IP, the pair and the key (the 20th
///    consecutive failure of a key notifies its owner once, through the tracker's notifier);
///    a valid key lacking a required scope is 403 ([`Error::MissingScope`], not counted); a
///    failing store is 503;
/// 5. the [`KeyOwners`] lookup, then a [`Principal`] and the [`ClientIp`](crate::ClientIp) are put in the
///    request's extensions for the handler.
///
/// Only failures write to the attempt store: a successful request reads the streaks (step 3)
/// and writes nothing, so a busy key costs the store no write per call. A streak therefore
/// ends by its policy's idle expiry, not at the next success.
///
/// The server must be started with `into_make_service_with_connect_info::<SocketAddr>()`
/// (the client IP is needed to count failures); otherwise every request is 500
/// ([`Error::MissingConnectInfo`]).
///
/// ```
/// use std::sync::Arc;
/// use axum::{Router, routing::get};
/// use rampart_apikey::{ApiKeys, HashingKey, InMemoryStore, KeyPrefix, Keyset};
/// use rampart_attempts::{MemoryStore, Tracker};
/// use rampart_axum::{ApiKeyLayer, Principal};
///
/// let keys = Arc::new(ApiKeys::new(KeyPrefix::new("rk", "live")?, Keyset::new(1, HashingKey::generate()?)));
/// let store = Arc::new(InMemoryStore::new());
/// let tracker = Arc::new(Tracker::new(MemoryStore::default()));
/// let app: Router = Router::new()
///     .route("/orders", get(|who: Principal| async move { who.owner().to_owned() }))
///     .layer(ApiKeyLayer::new(keys, store, tracker).with_required_scopes(["orders:read"]));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ApiKeyLayer<K, T, N = NoNotifier, O = KeyIsOwner> {
    keys: Arc<ApiKeys>,
    store: Arc<K>,
    tracker: Arc<Tracker<T, N>>,
    owners: Arc<O>,
    key_header: Option<HeaderName>,
    scopes: Vec<String>,
    proxies: TrustedProxies,
    max_credential_bytes: usize,
    clock: Clock,
}

impl<K, T, N, O> Clone for ApiKeyLayer<K, T, N, O> {
    fn clone(&self) -> Self {
        Self {
            keys: self.keys.clone(),
            store: self.store.clone(),
            tracker: self.tracker.clone(),
            owners: self.owners.clone(),
            key_header: self.key_header.clone(),
            scopes: self.scopes.clone(),
            proxies: self.proxies.clone(),
            max_credential_bytes: self.max_credential_bytes,
            clock: self.clock.clone(),
        }
    }
}

impl<K, T, N, O> std::fmt::Debug for ApiKeyLayer<K, T, N, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeyLayer")
            .field("key_header", &self.key_header)
            .field("scopes", &self.scopes)
            .field("proxies", &self.proxies)
            .field("max_credential_bytes", &self.max_credential_bytes)
            .finish_non_exhaustive()
    }
}

impl<K, T, N> ApiKeyLayer<K, T, N, KeyIsOwner>
where
    K: AsyncKeyStore + Send + Sync + 'static,
    T: Store + 'static,
    N: Notifier + 'static,
{
    /// A layer checking keys issued by `keys` against `store`, counting failures in
    /// `tracker` (share it with [`PasswordLogin`](crate::PasswordLogin) and across
    /// replicas through its store). No scope required, no trusted proxy, keys own
    /// themselves ([`KeyIsOwner`]).
    #[must_use]
    pub fn new(keys: Arc<ApiKeys>, store: Arc<K>, tracker: Arc<Tracker<T, N>>) -> Self {
        Self {
            keys,
            store,
            tracker,
            owners: Arc::new(KeyIsOwner),
            key_header: None,
            scopes: Vec::new(),
            proxies: TrustedProxies::none(),
            max_credential_bytes: DEFAULT_MAX_CREDENTIAL_BYTES,
            clock: Clock::system(),
        }
    }
}

impl<K, T, N, O> ApiKeyLayer<K, T, N, O>
where
    K: AsyncKeyStore + Send + Sync + 'static,
    T: Store + 'static,
    N: Notifier + 'static,
    O: KeyOwners,
{
    /// Also accepts the bare secret key in the header `name` (for example `x-api-key`), for
    /// clients that cannot send `Authorization`. `Authorization` wins when both are sent.
    #[must_use]
    pub fn with_key_header(mut self, name: HeaderName) -> Self {
        self.key_header = Some(name);
        self
    }

    /// Scopes every key must hold on these routes; a valid key without one is 403.
    #[must_use]
    pub fn with_required_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes.extend(scopes.into_iter().map(Into::into));
        self
    }

    /// Finds each key's owner and roles with `owners`.
    #[must_use]
    pub fn with_owners<P: KeyOwners>(self, owners: P) -> ApiKeyLayer<K, T, N, P> {
        ApiKeyLayer {
            keys: self.keys,
            store: self.store,
            tracker: self.tracker,
            owners: Arc::new(owners),
            key_header: self.key_header,
            scopes: self.scopes,
            proxies: self.proxies,
            max_credential_bytes: self.max_credential_bytes,
            clock: self.clock,
        }
    }

    /// Believes `X-Forwarded-For` from these proxies (see [`TrustedProxies`]).
    #[must_use]
    pub fn with_trusted_proxies(mut self, proxies: TrustedProxies) -> Self {
        self.proxies = proxies;
        self
    }

    /// Longest credential header accepted (default [`DEFAULT_MAX_CREDENTIAL_BYTES`]).
    #[must_use]
    pub fn with_max_credential_bytes(mut self, bytes: usize) -> Self {
        self.max_credential_bytes = bytes;
        self
    }

    /// The clock the attempt checks, failure records and key validity (expiry, revocation)
    /// use (default `SystemTime::now`): the service's own clock, so streaks and their
    /// delays move with it (a test's manual clock waits out a throttle in no time).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use std::time::{Duration, SystemTime};
    /// use rampart_apikey::{ApiKeys, HashingKey, InMemoryStore, KeyPrefix, Keyset};
    /// use rampart_attempts::{MemoryStore, Tracker};
    /// use rampart_axum::ApiKeyLayer;
    ///
    /// let offset_secs = Arc::new(AtomicU64::new(0)); // moved by the test
    /// let moved = offset_secs.clone();
    /// let start = SystemTime::now();
    /// let keys = Arc::new(ApiKeys::new(KeyPrefix::new("rk", "live")?, Keyset::new(1, HashingKey::generate()?)));
    /// let layer = ApiKeyLayer::new(keys, Arc::new(InMemoryStore::new()), Arc::new(Tracker::new(MemoryStore::default())))
    ///     .with_clock(move || start + Duration::from_secs(moved.load(Ordering::SeqCst)));
    /// offset_secs.fetch_add(3_600, Ordering::SeqCst); // an hour later, for the layer
    /// # let _ = layer;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Clock::from_fn(clock);
        self
    }
}

impl<S, K, T, N, O> tower_layer::Layer<S> for ApiKeyLayer<K, T, N, O> {
    type Service = ApiKeyService<S, K, T, N, O>;

    fn layer(&self, inner: S) -> Self::Service {
        ApiKeyService {
            inner,
            shared: Arc::new(self.clone()),
        }
    }
}

/// The service of [`ApiKeyLayer`].
pub struct ApiKeyService<S, K, T, N, O> {
    inner: S,
    shared: Arc<ApiKeyLayer<K, T, N, O>>,
}

impl<S: Clone, K, T, N, O> Clone for ApiKeyService<S, K, T, N, O> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            shared: self.shared.clone(),
        }
    }
}

impl<S, K, T, N, O> std::fmt::Debug for ApiKeyService<S, K, T, N, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeyService")
            .field("layer", &self.shared)
            .finish_non_exhaustive()
    }
}

impl<S, B, K, T, N, O> tower_service::Service<Request<B>> for ApiKeyService<S, K, T, N, O>
where
    S: tower_service::Service<Request<B>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
    K: AsyncKeyStore + Send + Sync + 'static,
    T: Store + 'static,
    N: Notifier + 'static,
    O: KeyOwners,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        // The clone that was polled ready serves this request (tower's usual swap).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let shared = self.shared.clone();
        Box::pin(async move {
            let (mut parts, body) = req.into_parts();
            match shared.authenticate(&mut parts).await {
                Ok(principal) => {
                    parts.extensions.insert(principal);
                    inner.call(Request::from_parts(parts, body)).await
                }
                Err(e) => Ok(e.into_response()),
            }
        })
    }
}

/// Why no secret could be read from the headers.
enum NoSecret {
    Missing,
    Malformed,
}

impl<K, T, N, O> ApiKeyLayer<K, T, N, O>
where
    K: AsyncKeyStore + Send + Sync + 'static,
    T: Store + 'static,
    N: Notifier + 'static,
    O: KeyOwners,
{
    async fn authenticate(&self, parts: &mut Parts) -> Result<Principal, Error> {
        let ip = self.proxies.resolve(parts)?;
        parts.extensions.insert(ip);
        let now = self.clock.now();
        let by_ip = Subject::ip(ip.0);
        let secret = match self.credential(&parts.headers) {
            Ok(value) => value,
            Err(NoSecret::Missing) => return Err(Error::MissingCredentials),
            Err(NoSecret::Malformed) => {
                self.guard(&[&by_ip], now).await?;
                self.record_failures(&[&by_ip], now).await;
                return Err(Error::MalformedCredentials);
            }
        };
        // `credential` only returns visible ASCII.
        let secret = secret.to_str().map_err(|_| Error::MalformedCredentials)?;
        // Parsed once (format, checksum, accepted prefix; no lookup, no hash): the public id
        // it claims names the key's streaks, checked before its secret is.
        let parsed = self.keys.parse(secret);
        let claimed = match &parsed {
            Ok(p) => Some(p.public_id()),
            Err(e) => e.public_id(),
        };
        let per_key = claimed.map(|id| {
            (
                Subject::api_key_from_ip(id.as_str(), ip.0),
                Subject::api_key(id.as_str()),
            )
        });
        let (all, ip_only);
        let subjects: &[&Subject] = match &per_key {
            Some((pair, key)) => {
                all = [&by_ip, pair, key];
                &all
            }
            None => {
                ip_only = [&by_ip];
                &ip_only
            }
        };
        self.guard(subjects, now).await?;
        let checked = match parsed {
            Err(e) => Err(e),
            // rampart-apikey's documented path for a record the caller looked up: one HMAC
            // whether or not the record exists, then revocation, expiry and scopes.
            Ok(parsed) => match self.store.find(&parsed.public_id()).await {
                Ok(record) => {
                    let scopes: Vec<&str> = self.scopes.iter().map(String::as_str).collect();
                    self.keys.verify(&parsed, record, &scopes, now)
                }
                Err(e) => Err(rampart_apikey::Error::Store(Box::new(e))),
            },
        };
        let verified = match checked {
            Ok(v) => v,
            Err(e @ rampart_apikey::Error::MissingScope { .. }) => {
                return Err(Error::MissingScope(e));
            }
            Err(e) if !e.is_credential_failure() => return Err(Error::KeyStore(e)),
            Err(e) => {
                self.record_failures(subjects, now).await;
                return Err(Error::InvalidApiKey(e));
            }
        };
        let owner = self
            .owners
            .owner_of(&verified)
            .await
            .map_err(|e| Error::Application(BoxError::from(e)))?
            .ok_or(Error::Unauthenticated)?;
        Ok(Principal::build(
            AuthMethod::ApiKey,
            owner.owner,
            Some(verified.public_id().as_str().to_owned()),
            owner.roles,
            verified.scopes().map(str::to_owned),
        ))
    }

    /// The secret key text: `Authorization: Bearer <secret>` or the configured header.
    fn credential(&self, headers: &HeaderMap) -> Result<HeaderValue, NoSecret> {
        if let Some(value) = single(headers, &header::AUTHORIZATION)? {
            let bytes = value.as_bytes();
            if bytes.len() > self.max_credential_bytes {
                return Err(NoSecret::Malformed);
            }
            // RFC 9110 11.1: the scheme is case-insensitive; RFC 6750 2.1: one space.
            let token = match bytes.split_at_checked(7) {
                Some((scheme, token)) if scheme.eq_ignore_ascii_case(b"bearer ") => token,
                _ => return Err(NoSecret::Malformed),
            };
            return token_value(token);
        }
        if let Some(name) = &self.key_header
            && let Some(value) = single(headers, name)?
        {
            if value.as_bytes().len() > self.max_credential_bytes {
                return Err(NoSecret::Malformed);
            }
            return token_value(value.as_bytes());
        }
        Err(NoSecret::Missing)
    }

    /// Refuses the attempt when a subject is throttled or locked (before any secret check).
    async fn guard(&self, subjects: &[&Subject], now: SystemTime) -> Result<(), Error> {
        crate::error::allowed(self.tracker.check_all(subjects, now).await, now)
    }

    /// Records one failure per subject. The answer is already a refusal, so a store that
    /// cannot record changes nothing for this request; the notifier is the tracker's.
    async fn record_failures(&self, subjects: &[&Subject], now: SystemTime) {
        for s in subjects {
            let _ = self.tracker.record_failure(s, now).await;
        }
    }
}

/// The one value of header `name`: `None` when absent, malformed when repeated.
fn single<'h>(
    headers: &'h HeaderMap,
    name: &HeaderName,
) -> Result<Option<&'h HeaderValue>, NoSecret> {
    let mut all = headers.get_all(name).iter();
    match (all.next(), all.next()) {
        (None, _) => Ok(None),
        (Some(v), None) => Ok(Some(v)),
        (Some(_), Some(_)) => Err(NoSecret::Malformed),
    }
}

/// A token: non-empty visible ASCII with no space (the secret key alphabet is narrower still;
/// rampart-apikey refuses the rest).
fn token_value(token: &[u8]) -> Result<HeaderValue, NoSecret> {
    if token.is_empty() || !token.iter().all(u8::is_ascii_graphic) {
        return Err(NoSecret::Malformed);
    }
    HeaderValue::from_bytes(token).map_err(|_| NoSecret::Malformed)
}
