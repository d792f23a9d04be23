//! Rampart's reference service: every crate of the workspace wired into one axum server,
//! the way a SaaS back end would use them. It starts on a fresh machine with no server
//! (SQLite files, keyrings and uploads under a data directory) and switches to PostgreSQL
//! and Redis with a flag.
//!
//! | module | owns | crates |
//! |---|---|---|
//! | `accounts` | sign-up, password login (rampart-axum's `PasswordLogin`, throttled), role grants | rampart-axum, rampart-password, rampart-attempts |
//! | `keys` | API key pairs per user; the Bearer check (401/429/403), owner notification | rampart-apikey, rampart-attempts, rampart-authz |
//! | `tokens` | OAuth tokens in an encrypted column; rotation, background re-encryption | rampart-envelope |
//! | `uploads` | files encrypted on write, readable 1 hour; results kept 14 days | rampart-envelope retention keyrings |
//! | `regions` | tenants pinned to EU or US keys; cross-region reads refused | rampart-envelope |
//! | `saml` | SAML SSO per tenant (rampart-axum's `SamlRoutes` over the session), IdP groups mapped to roles | rampart-axum, rampart-saml, rampart-authz |
//! | `pages` | login form, dashboards behind roles | rampart-authz |
//! | `stores` | SQLite / PostgreSQL / Redis back ends of the crates' stores | all |
//!
//! Bad requests get a 4xx with a short JSON body (`{"error": "kind"}`) that never echoes
//! what was sent; store failures a 503. Sessions are tower-sessions' (in memory); every
//! `now` comes from one [`Clock`], which tests move by hand.
//!
//! ```no_run
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use rampart_service::{Clock, Config};
//! let dir = tempfile::tempdir()?;
//! let clock = Clock::system();
//! let config = Config::new(dir.path()).with_clock(clock.clone());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let running = rampart_service::start(listener, config).await?;
//! println!("open {}/login", running.url());
//! clock.advance(std::time::Duration::from_secs(3_600)); // uploads made before are now gone
//! running.stop().await?;
//! # Ok(()) }
//! ```
//!
//! Run it with `cargo run --example service` (flags: `--listen`, `--data-dir`, `--postgres`,
//! `--redis`, `--smtp`, `--smoke`); [`ROUTES`] lists what it serves.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

/// One call on whichever back end an enum of store types holds (`Attempts`, `KeyStore`,
/// `PasswordLogins`): they are generic, so each variant is its own type.
macro_rules! each {
    ($value:expr, $ty:ident :: { $($variant:ident),+ }, |$inner:ident| $body:expr) => {
        match $value {
            $($ty::$variant($inner) => $body,)+
        }
    };
}

mod accounts;
mod app;
mod clock;
mod config;
mod db;
mod error;
mod keys;
mod notify;
mod pages;
mod regions;
mod roles;
mod saml;
mod stores;
mod tokens;
mod uploads;

pub use app::{ROUTES, Running, serve, start};
pub use clock::Clock;
pub use config::{Config, ConfigError, DEFAULT_ROLE_MAP, IdpConfig, SmtpConfig, TenantConfig};
pub use error::{AppError, StartError};
pub use regions::{RESULT_RETENTION, Region, UPLOAD_RETENTION};
pub use saml::{MAX_ACS_BYTES, acs_url, entity_id};
pub use uploads::MAX_UPLOAD_BYTES;
