//! Rampart: security crates for Rust services, behind one dependency.
//!
//! Each module is one crate of the workspace, enabled by the feature of the same name (all on
//! by default but `axum`, which pulls a web framework); the `redis`, `smtp`, `postgres` and
//! `sqlite` back ends are opt-in.
//!
//! ```
//! # #[cfg(all(feature = "password", feature = "envelope"))] {
//! use rampart::envelope::{Context, Keyring, LocalMasterKey};
//! use rampart::password::{Hasher, Password};
//!
//! let stored = Hasher::new().hash(&Password::new("correct horse battery staple"))?;
//! assert!(Hasher::new().verify(&Password::new("correct horse battery staple"), &stored)?.is_valid());
//!
//! let master = LocalMasterKey::generate()?; // production: LocalMasterKey::from_file(path)?
//! let ring = Keyring::create("oauth-tokens", "eu-central", &master, std::time::SystemTime::now())?;
//! let column = ring.seal_text(b"ya29.token", &Context::new().with("user", "42"))?;
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! | module | crate | what it does |
//! |---|---|---|
//! | [`password`] | `rampart-password` | argon2id hashing with pepper rotation, upgrades on login, legacy formats (`legacy`), NIST policy, bounded concurrency (`tokio`) |
//! | [`attempts`] | `rampart-attempts` | consecutive failures per subject, owner notification once per streak, backoff and lockout; memory store, Redis store (`redis`), PostgreSQL (`postgres`) and SQLite (`sqlite`) stores, email (`smtp`) |
//! | [`apikey`] | `rampart-apikey` | API key pairs: prefixed, checksummed secrets, keyed-hash records, constant-time check, scanning and redaction; records in memory or SQL (`postgres`, `sqlite`) |
//! | [`saml`] | `rampart-saml` | SAML 2.0 service provider: responses, AuthnRequests, metadata, replay cache and issued request IDs (memory, `redis`, `postgres`, `sqlite`) |
//! | [`xmldsig`] | `rampart-xmldsig` | hardened XML tree, exclusive c14n, XML-DSig verification and signing (under `saml`) |
//! | [`mfa`] | `rampart-mfa` | TOTP second factors with once-only codes, otpauth enrolment URI and QR code, hashed single-use recovery codes |
//! | [`envelope`] | `rampart-envelope` | envelope encryption: keyrings under a master key (local, HSM with `pkcs11`, AWS KMS with `aws-kms`), rotation, sealed values, encrypted files, retention |
//! | [`authz`] | `rampart-authz` | roles to permissions with API-key scope syntax: role maps from TOML or JSON validated and flattened at load, SAML attribute to role mappings per tenant, decisions naming the granting role or the missing permission |
//! | `axum` (feature `axum`, off by default) | `rampart-axum` | tower layers and axum extractors wiring the crates in: `ApiKeyLayer` (attempt check before the secret, failures counted per key, pair and IP), `require(permission)`, `ClientIp` with trusted proxies, password login, SAML routes per tenant |
//! | [`audit`] | `rampart-audit` | tamper-evident audit trail: OCSF-shaped events as JSON lines, HMAC chain, Ed25519 checkpoints, rotating append-only files, verifier |
//!
//! The `rampart` command-line tool (crate `rampart-cli`) does the operator's side of the same
//! jobs: keyrings, encrypted files, a first admin password hash, API keys, SAML debugging.
//!
//! # A service's typical integration
//!
//! The four sections below are one service's wiring, in the order a request meets it. Every
//! example compiles and runs as a test; only the SAML one needs an identity provider and
//! stops at the function boundary.
#![cfg_attr(
    all(feature = "password", feature = "attempts", feature = "tokio"),
    doc = r#"
## 1. Log in with a password, counting failed attempts

Check the attempt counters **before** hashing (a throttled client costs no argon2 work),
verify with the dummy hash for unknown accounts (same cost: no account enumeration), store
the upgraded hash when a login says so, and record the outcome for the account, the client
IP and the pair. The policy defaults throttle accounts and IPs with exponential backoff and
notify at 20 consecutive failures ([`attempts::policy`]).

Argon2 takes tens of milliseconds of CPU: inside an async handler, hash and verify with the
`tokio` feature's `_async` methods ([`password::Hasher::verify_or_dummy_async`] here), which
queue for the hasher's limiter and run on its worker threads, never on the executor's
threads. The synchronous [`password::Hasher::verify_or_dummy`] is for threads that may
block (a CLI, a sync server, or your own `spawn_blocking`).

```
use std::net::IpAddr;
use std::time::SystemTime;
use rampart::attempts::{Decision, MemoryStore, Subject, Tracker};
use rampart::password::{Hasher, Password, Verdict};

enum Login { Ok, Denied, RetryLater }

async fn log_in(
    hasher: &Hasher,
    tracker: &Tracker<MemoryStore>,
    users: &mut std::collections::HashMap<String, String>, // account -> PHC string
    account: &str,
    password: Password,
    ip: IpAddr,
) -> Result<Login, Box<dyn std::error::Error>> {
    let now = SystemTime::now();
    let subjects = [Subject::account(account), Subject::ip(ip), Subject::account_from_ip(account, ip)];
    for s in &subjects {
        if tracker.check(s, now).await? != Decision::Allow {
            return Ok(Login::RetryLater); // HTTP 429 with Retry-After
        }
    }
    // Off the executor: on the hasher's limiter workers. Unknown accounts are
    // checked against the dummy hash at the same cost.
    let stored = users.get(account).cloned();
    let verdict = hasher.verify_or_dummy_async(password, stored).await?;
    if let Verdict::ValidNeedsUpgrade { new_hash, .. } = &verdict {
        users.insert(account.to_owned(), new_hash.clone()); // old params, legacy format, old pepper
    }
    if verdict.is_valid() {
        for s in &subjects {
            tracker.record_success(s, now).await;
        }
        Ok(Login::Ok)
    } else {
        for s in &subjects {
            let outcome = tracker.record_failure(s, now).await?;
            if let Some(n) = outcome.notification {
                eprintln!("tell the owner of {}: {} failed logins", n.subject, n.count);
            }
        }
        Ok(Login::Denied)
    }
}

# #[tokio::main(flavor = "current_thread")]
# async fn main() -> Result<(), Box<dyn std::error::Error>> {
let hasher = Hasher::new(); // argon2id, m = 19 MiB, t = 2, p = 1 (OWASP)
let tracker = Tracker::new(MemoryStore::default()); // RedisStore for several replicas
let mut users = std::collections::HashMap::new();
users.insert("ann".to_owned(), hasher.hash_async(Password::new("correct horse battery staple")).await?);
let ip: IpAddr = "203.0.113.7".parse()?;

let ok = log_in(&hasher, &tracker, &mut users, "ann", Password::new("correct horse battery staple"), ip).await?;
assert!(matches!(ok, Login::Ok));
for _ in 0..6 {
    log_in(&hasher, &tracker, &mut users, "ann", Password::new("guess"), ip).await?;
}
let throttled = log_in(&hasher, &tracker, &mut users, "ann", Password::new("guess"), ip).await?;
assert!(matches!(throttled, Login::RetryLater));
let unknown = log_in(&hasher, &tracker, &mut users, "nobody", Password::new("x"), "198.51.100.1".parse()?).await?;
assert!(matches!(unknown, Login::Denied)); // and it cost one argon2 hash, like a real account
# Ok(())
# }
```
"#
)]
#![cfg_attr(
    all(feature = "apikey", feature = "attempts"),
    doc = r#"
## 2. Authenticate API keys, counting failures per public key

A secret key carries its public id and a checksum: typos and garbage are refused before any
lookup, and every later failure names the public id ([`apikey::Error::public_id`]), so it is
counted against that key. A public key is never locked by default (anyone who sees it could
lock its owner out); its owner is notified after 20 consecutive failures, and throttling
applies per (key, IP) and per IP.

```
use std::net::IpAddr;
use std::time::SystemTime;
use rampart::apikey::{ApiKeys, HashingKey, InMemoryStore, KeyOptions, KeyPrefix, Keyset};
use rampart::attempts::{Decision, FnNotifier, MemoryStore, Notification, Subject, Tracker};

async fn authenticate<N: rampart::attempts::Notifier>(
    keys: &ApiKeys,
    store: &InMemoryStore,
    tracker: &Tracker<MemoryStore, N>,
    secret: &str,
    ip: IpAddr,
) -> Result<Option<String>, rampart::attempts::Error> {
    let now = SystemTime::now();
    if tracker.check(&Subject::ip(ip), now).await? != Decision::Allow {
        return Ok(None); // 429
    }
    match keys.check(store, secret, &["orders:read"], now) {
        Ok(who) => {
            let id = who.public_id().to_string();
            tracker.record_success(&Subject::api_key(id.as_str()), now).await;
            tracker.record_success(&Subject::api_key_from_ip(id.as_str(), ip), now).await;
            Ok(Some(id))
        }
        Err(err) => {
            // Answer a plain 401 whatever the variant: telling why is an oracle.
            tracker.record_failure(&Subject::ip(ip), now).await?;
            if let Some(id) = err.public_id() {
                let id = id.to_string();
                tracker.record_failure(&Subject::api_key(id.as_str()), now).await?;
                tracker.record_failure(&Subject::api_key_from_ip(id.as_str(), ip), now).await?;
            }
            Ok(None)
        }
    }
}

# #[tokio::main(flavor = "current_thread")]
# async fn main() -> Result<(), Box<dyn std::error::Error>> {
// The hashing key lives outside the database (environment, secrets manager, or sealed with
// rampart-envelope): a stolen table alone cannot even confirm a leaked key.
let keys = ApiKeys::new(KeyPrefix::new("rk", "live")?, Keyset::new(1, HashingKey::generate()?));
let store = InMemoryStore::new(); // implement KeyStore over your database
let issued = keys.issue(KeyOptions::new().with_scopes(["orders:read"]), SystemTime::now())?;
let public_id = issued.public_key.public_id().to_string();
store.insert(issued.record)?; // show issued.secret_key to the customer once

let notified = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
let counter = notified.clone();
let tracker = Tracker::new(MemoryStore::default()).with_notifier(FnNotifier(move |n: &Notification| {
    counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst); // e.g. SmtpNotifier with `smtp`
    eprintln!("notify the owner of {}: {} failures", n.subject, n.count);
}));

let client: IpAddr = "192.0.2.10".parse()?;
let who = authenticate(&keys, &store, &tracker, issued.secret_key.expose_secret(), client).await?;
assert_eq!(who.as_deref(), Some(public_id.as_str()));

// An attacker who knows the public key tries secrets from many addresses.
let mut forged = issued.secret_key.expose_secret().to_owned();
forged.replace_range(forged.len() - 8.., "AAAAAAAA"); // fails its checksum, still names the key
for i in 0..25u8 {
    let ip = IpAddr::from([198, 51, 100, i]);
    assert_eq!(authenticate(&keys, &store, &tracker, &forged, ip).await?, None);
}
assert_eq!(notified.load(std::sync::atomic::Ordering::SeqCst), 1, "once per streak");
// The owner is not locked out.
let who = authenticate(&keys, &store, &tracker, issued.secret_key.expose_secret(), client).await?;
assert!(who.is_some());
# Ok(())
# }
```
"#
)]
#![cfg_attr(
    feature = "saml",
    doc = r#"
## 3. SAML single sign-on

Configure the service provider once from the customer's IdP metadata; send the browser to the
AuthnRequest's redirect URL and keep its id in the user's session; on the POST back to the ACS
URL, validate the response against that id and record the assertion in the replay cache
(`RedisReplayCache` with the `redis` feature when several replicas serve the ACS URL).
Every value of the login comes from the signed part of the response. To see why an IdP's
response is refused, run `rampart saml verify --explain`.

```
use std::time::SystemTime;
use rampart::saml::{Expected, IdpMetadata, Login, MemoryReplayCache, ServiceProvider};

fn service_provider(idp_metadata_xml: &[u8]) -> Result<ServiceProvider, rampart::saml::Error> {
    let idp = IdpMetadata::parse(idp_metadata_xml)?.to_identity_provider(SystemTime::now())?;
    ServiceProvider::builder("https://app.example.com/saml", "https://app.example.com/saml/acs")
        .identity_provider(idp)
        .build()
}

/// GET /login: returns (the URL to redirect to, the request id to keep in the session).
fn start_login(sp: &ServiceProvider) -> Result<(String, String), rampart::saml::Error> {
    let sso = sp.identity_provider().sso_redirect_url().unwrap_or_default().to_owned();
    let request = sp.authn_request(sso).build(SystemTime::now())?;
    Ok((request.redirect_url(sp, Some("/dashboard"))?, request.id().to_owned()))
}

/// POST /saml/acs with the `SAMLResponse` form value.
fn finish_login(
    sp: &ServiceProvider,
    cache: &MemoryReplayCache,
    saml_response: &str,
    request_id_from_session: &str,
) -> Result<Login, rampart::saml::Error> {
    let login = sp
        .validate_response(saml_response.as_bytes(), Expected::Request(request_id_from_session), SystemTime::now())?
        .check_replay_in_memory(cache)?;
    // login.issuer, login.name_id.value, login.session_index, login.attribute("mail") ...
    Ok(login)
}
# let _ = (service_provider, start_login, finish_login);
```
"#
)]
#![cfg_attr(
    feature = "envelope",
    doc = r#"
## 4. Encrypted columns

One keyring per kind of data, wrapped by a master key from a file or `RAMPART_MASTER_KEY`
(an HSM or KMS later, behind the same trait); the master key is used when the keyring loads,
never per value. Bind each value to where it lives (tenant, table, column, row) so a value
copied to another row does not decrypt. Rotate, re-encrypt in the background, then retire old
versions; `rampart keyring ...` does the same from a shell.

```
use std::time::SystemTime;
use rampart::envelope::{Context, Keyring, LocalMasterKey};

fn context(tenant: &str, row: u64) -> Context {
    Context::new()
        .with("tenant", tenant)
        .with("table", "integrations")
        .with("column", "oauth_token")
        .with("row", row.to_string())
}

# fn main() -> Result<(), Box<dyn std::error::Error>> {
# let dir = tempfile::tempdir()?;
# let path = dir.path().join("oauth-tokens.json");
let master = LocalMasterKey::generate()?; // production: LocalMasterKey::from_file("/run/credentials/master.key")?
let mut ring = Keyring::create("oauth-tokens", "eu-central", &master, SystemTime::now())?;
ring.save(&path)?; // atomic write; load it at start-up with Keyring::load(&path, &master)

let stored = ring.seal(b"ya29.a0Af-token", &context("acme", 7))?; // a BYTEA column
// (seal_text/open_text give the base64url text form for a TEXT column)
assert_eq!(&ring.open(&stored, &context("acme", 7))?[..], b"ya29.a0Af-token");
assert!(ring.open(&stored, &context("acme", 8)).is_err(), "copied to another row");

// Rotation: new values use version 2, old ones still open; re-encrypt them in the background
// (rampart::envelope::reencrypt runs resumable batch jobs).
ring.rotate(&master, SystemTime::now())?;
assert!(ring.needs_reencrypt(&stored)?);
let upgraded = ring.reencrypt(&stored, &context("acme", 7))?;
ring.retire_below(2, SystemTime::now())?; // destroys version 1: what is left under it is unreadable
assert!(ring.open(&stored, &context("acme", 7)).is_err());
assert_eq!(&ring.open(&upgraded, &context("acme", 7))?[..], b"ya29.a0Af-token");
ring.save(&path)?;
# Ok(())
# }
```
"#
)]
//! # Features
//!
//! | feature | default | adds |
//! |---|---|---|
//! | `envelope`, `password`, `apikey`, `xmldsig`, `saml`, `attempts`, `mfa`, `audit`, `authz` | yes | the crate of the same name |
//! | `legacy` | yes | bcrypt, scrypt, PBKDF2 and Django hashes in [`password`], for migration |
//! | `tokio` | yes | async hashing on the limiter's worker threads |
//! | `redis` | no | Redis attempt store, SAML replay cache and issued request IDs, for several replicas |
//! | `smtp` | no | email notifications of failed-attempt streaks |
//! | `encrypted-assertions` | no | decryption of SAML `EncryptedAssertion` (XML Encryption, through aws-lc-rs, a C build) |
//! | `fetch-reqwest` | no | IdP metadata fetched over HTTPS by the SAML metadata refresher (reqwest, rustls) |
//! | `pkcs11` | no | master keys in an HSM through PKCS#11 (`Pkcs11MasterKey`, cryptoki: loads the token's C module at run time) |
//! | `aws-kms` | no | master keys in AWS KMS (`AwsKmsMasterKey`, the AWS SDK and tokio) |
//! | `authz-cedar` | no | a Cedar policy backend in [`authz`] (`CedarPolicy`, cedar-policy: pure Rust, a large dependency tree) behind the same `Authorizer` check as the static role map |
//! | `axum` | no | the `axum` module: the axum 0.8 integration (pulls axum, hyper and tower; turns on `apikey`, `attempts`, `password`, `tokio`, `saml`, `authz`) |
//! | `postgres`, `sqlite` | no | SQL stores (sqlx, embedded migrations) for attempts, API key records, the SAML replay cache and issued request IDs: PostgreSQL for several replicas, SQLite for one machine with no server |
#![forbid(unsafe_code)]

#[cfg(feature = "apikey")]
#[doc(inline)]
pub use rampart_apikey as apikey;
#[cfg(feature = "attempts")]
#[doc(inline)]
pub use rampart_attempts as attempts;
#[cfg(feature = "audit")]
#[doc(inline)]
pub use rampart_audit as audit;
#[cfg(feature = "authz")]
#[doc(inline)]
pub use rampart_authz as authz;
#[cfg(feature = "axum")]
#[doc(inline)]
pub use rampart_axum as axum;
#[cfg(feature = "envelope")]
#[doc(inline)]
pub use rampart_envelope as envelope;
#[cfg(feature = "mfa")]
#[doc(inline)]
pub use rampart_mfa as mfa;
#[cfg(feature = "password")]
#[doc(inline)]
pub use rampart_password as password;
#[cfg(feature = "saml")]
#[doc(inline)]
pub use rampart_saml as saml;
#[cfg(feature = "xmldsig")]
#[doc(inline)]
pub use rampart_xmldsig as xmldsig;

/// The README's snippets, compiled and run as doctests so the front page cannot drift from
/// the API (they use every default feature).
#[cfg(all(
    doctest,
    feature = "envelope",
    feature = "password",
    feature = "apikey",
    feature = "saml",
    feature = "attempts",
    feature = "mfa",
    feature = "audit"
))]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;

/// The integration guide for several replicas (`docs/guides/replicas.md`), compiled and run as
/// doctests: its Redis blocks start their own `redis-server`.
#[cfg(all(
    doctest,
    feature = "envelope",
    feature = "saml",
    feature = "attempts",
    feature = "redis"
))]
#[doc = include_str!("../../../docs/guides/replicas.md")]
struct ReplicasGuideDoctests;
