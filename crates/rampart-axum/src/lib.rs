//! Tower layers, axum extractors and SAML routes that wire the Rampart crates into an axum
//! 0.8 service, in the order that keeps authentication safe.
//!
//! Drop into axum:
//!
//! ```no_run
//! use std::{net::SocketAddr, sync::Arc};
//! use axum::{Router, routing::get};
//! use rampart_apikey::{ApiKeys, HashingKey, InMemoryStore, KeyPrefix, Keyset};
//! use rampart_attempts::{MemoryStore, Tracker};
//! use rampart_axum::{ApiKeyLayer, Principal};
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let keys = Arc::new(ApiKeys::new(KeyPrefix::new("rk", "live")?, Keyset::new(1, HashingKey::generate()?)));
//! let (store, tracker) = (Arc::new(InMemoryStore::new()), Arc::new(Tracker::new(MemoryStore::default())));
//! let app = Router::new()
//!     .route("/whoami", get(|who: Principal| async move { who.owner().to_owned() }))
//!     .layer(ApiKeyLayer::new(keys, store, tracker).with_required_scopes(["orders:read"]));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await?;
//! # Ok(()) }
//! ```
//!
//! # What it wires
//!
//! - [`ApiKeyLayer`]: `Authorization: Bearer <secret key>` (or a configured header) checked
//!   by rampart-apikey against any `AsyncKeyStore`; **the attempt check before the secret
//!   check**, failures counted by rampart-attempts per key, per (key, client IP) and per
//!   IP (the key's owner notified once per streak), only failures written; 401 with no
//!   detail, 429 with `Retry-After`, 403 for a missing scope; a [`Principal`] for the
//!   handlers.
//! - [`Authorizer::require`] (a route layer) and [`RequirePermission`] (an extractor):
//!   permissions granted by roles or scopes through rampart-authz; 401 without a principal,
//!   403 without the permission.
//! - [`ClientIp`] with [`TrustedProxies`]: `X-Forwarded-For` is never trusted by default;
//!   with trusted proxies it is read from the right, skipping trusted hops.
//! - [`PasswordLogin`]: attempt check, rampart-password's verification on its own worker
//!   threads (never the executor), the dummy verify for unknown accounts, the upgraded hash
//!   handed back, the outcome recorded. [`PasswordForm`] reads the login form strictly.
//! - [`SamlRoutes`]: metadata, login, ACS and Single Logout per tenant of rampart-saml's
//!   `TenantRegistry`, with the request id kept in the application's session
//!   ([`SamlSessions`]: this crate owns no session and works with `tower-sessions`), the
//!   replay check after validation, and roles from rampart-authz's SAML mappings.
//!
//! # Time
//!
//! Attempt streaks, key validity and SAML validity read one clock per builder: the system
//! clock, or the application's through `with_clock` ([`ApiKeyLayer::with_clock`],
//! [`PasswordLogin::with_clock`], [`SamlRoutes::with_clock`]); give them all the service's
//! clock so its tests move every delay and window together.
//!
//! # Errors and status codes
//!
//! Every refusal is an [`Error`]; its `IntoResponse` is the only place a status code is
//! chosen, and the body is the error's [`kind`](Error::kind) (`invalid_api_key`,
//! `throttled`, ...): never the presented secret, public id, tenant or SAML message. Bad
//! input never reaches a 500: 500 is kept for deployment errors (no `ConnectInfo`, a tenant
//! without an SSO URL).
//!
//! # Size limits (defaults)
//!
//! | what | limit | beyond |
//! |---|---|---|
//! | credential header (scheme included) | [`DEFAULT_MAX_CREDENTIAL_BYTES`] = 512 B | 401 `malformed_credentials` |
//! | login form body ([`PasswordForm`]) | [`MAX_LOGIN_FORM_BYTES`] = 16 KiB | 413 |
//! | SAML ACS/SLO form body | [`DEFAULT_MAX_SAML_FORM_BYTES`] = 768 KiB | 413, before parsing |
//! | form fields | 16 per form, each exactly once, UTF-8 | 400 `bad_form` |
//! | `X-Forwarded-For` hops read | [`MAX_FORWARDED_HOPS`] = 16 | the last trusted hop |
//! | all request headers together | hyper's default (about 400 KiB, 100 headers) | 431 from hyper |
//!
//! Bodies are read through `http_body_util::Limited` at the limit, so a large upload is
//! stopped at the limit, never buffered whole. For the application's own routes, keep axum's
//! `DefaultBodyLimit` (2 MiB) or set `tower_http::limit::RequestBodyLimitLayer`.
//!
//! # Dependency direction
//!
//! This is the one Rampart crate that knows a web framework and depends on its siblings
//! (`rampart-apikey`, `rampart-attempts`, `rampart-password` with `tokio`, `rampart-saml`,
//! `rampart-authz`); see docs/design.md, Dependency direction.
#![forbid(unsafe_code)]

mod api_key;
mod authz;
mod client_ip;
mod clock;
mod error;
mod form;
mod password;
mod principal;
mod saml;

pub use api_key::{
    ApiKeyLayer, ApiKeyService, DEFAULT_MAX_CREDENTIAL_BYTES, KeyIsOwner, KeyOwner, KeyOwners,
};
pub use authz::{Authorizer, Permission, RequireLayer, RequirePermission, RequireService};
pub use client_ip::{ClientIp, ClientIpLayer, ClientIpService, MAX_FORWARDED_HOPS, TrustedProxies};
pub use error::{BoxError, Error};
pub use password::{Accounts, MAX_LOGIN_FORM_BYTES, PasswordForm, PasswordLogin, StoredAccount};
pub use principal::{AuthMethod, Principal};
pub use saml::{
    DEFAULT_MAX_SAML_FORM_BYTES, DEFAULT_REQUEST_LIFETIME, SamlLogin, SamlRoutes, SamlSessions,
};
