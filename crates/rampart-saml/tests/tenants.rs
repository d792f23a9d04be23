//! Tenants and metadata that refreshes itself, through the public API: metadata signed by
//! `xmlsec1` and served over HTTP from 127.0.0.1 by a server that rotates keys mid-test.
mod common;

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use common::*;
use rampart_saml::{
    Certificate, Expected, FetchError, IdentityProvider, MemoryRequestIds, MetadataFetcher,
    MetadataRefresher, RefreshError, ServiceProvider, TenantError, TenantRegistry,
    TenantRequestIds,
};
use rampart_testkit::block_on_ready as block_on;

const TENANT: &str = "acme";
const OTHER_IDP: &str = "https://idp.example.com/globex";

// ---- a tiny HTTP server for metadata -----------------------------------------------------

/// Serves `body` with `status` to every GET, counting requests; both can change mid-test.
struct MetadataServer {
    addr: std::net::SocketAddr,
    served: Arc<Mutex<(u16, Vec<u8>)>>,
    hits: Arc<AtomicUsize>,
}

impl MetadataServer {
    fn start(body: Vec<u8>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let served = Arc::new(Mutex::new((200, body)));
        let hits = Arc::new(AtomicUsize::new(0));
        let (s, h) = (served.clone(), hits.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut req = Vec::new();
                let mut buf = [0u8; 1024];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                h.fetch_add(1, Ordering::SeqCst);
                let (status, body) = s.lock().unwrap().clone();
                let head = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: application/samlmetadata+xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            }
        });
        Self { addr, served, hits }
    }

    fn serve(&self, status: u16, body: Vec<u8>) {
        *self.served.lock().unwrap() = (status, body);
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    fn fetcher(&self) -> HttpFetcher {
        HttpFetcher(self.addr)
    }
}

/// A blocking HTTP/1.1 GET, enough for the test server (a real service uses its HTTP client
/// or `ReqwestFetcher`).
struct HttpFetcher(std::net::SocketAddr);

impl HttpFetcher {
    fn get(&self) -> Result<Vec<u8>, FetchError> {
        let mut s = TcpStream::connect(self.0).map_err(FetchError::Io)?;
        s.write_all(b"GET /metadata HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            .map_err(FetchError::Io)?;
        let mut all = Vec::new();
        s.read_to_end(&mut all).map_err(FetchError::Io)?;
        let split = all
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or(FetchError::Status(0))?;
        let head = String::from_utf8_lossy(&all[..split]);
        let status: u16 = head
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        if status != 200 {
            return Err(FetchError::Status(status));
        }
        Ok(all[split + 4..].to_vec())
    }
}

impl MetadataFetcher for HttpFetcher {
    fn fetch(&self) -> impl std::future::Future<Output = Result<Vec<u8>, FetchError>> + Send {
        std::future::ready(self.get())
    }
}

// ---- metadata documents ------------------------------------------------------------------

/// IdP metadata for `entity` listing the certificate `tests/keys/<key>.cert.pem`.
fn metadata(entity: &str, key: &str, valid_until: &str, cache: &str, signature: &str) -> String {
    let der = cert(&format!("keys/{key}.cert.pem")).der().to_vec();
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    format!(
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" ID="_md1" entityID="{entity}" validUntil="{valid_until}" cacheDuration="{cache}">{signature}<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{b64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>"#
    )
}

/// Unsigned metadata for the test IdP listing `key`'s certificate, valid through 2030.
fn unsigned_md(key: &str) -> String {
    metadata(IDP_ENTITY, key, "2030-12-31T00:00:00Z", "PT1H", "")
}

/// Metadata listing `key`'s certificate, signed by `xmlsec1` with `tests/keys/<signer>.key.pem`
/// (an enveloped RSA-SHA256 signature over the EntityDescriptor).
fn signed_md_with(
    entity: &str,
    key: &str,
    valid_until: &str,
    cache: &str,
    signer: &str,
) -> Vec<u8> {
    let unsigned = metadata(entity, key, valid_until, cache, &sig_template("_md1"));
    xmlsec1_sign(
        &unsigned,
        signer,
        "urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor",
        None,
    )
    .into_bytes()
}

/// Metadata listing `key`'s certificate, signed by the metadata signer (the `sp` test key).
fn signed_md(key: &str) -> Vec<u8> {
    signed_md_with(IDP_ENTITY, key, "2030-12-31T00:00:00Z", "PT1H", "sp")
}

fn xmlsec1() -> bool {
    rampart_testkit::tool::available("xmlsec1")
}

// ---- responses and configuration ---------------------------------------------------------

/// The fixture response (assertion and response signed) with both signatures made by
/// `tests/keys/<key>.key.pem`.
fn response_signed_by(key: &str) -> Vec<u8> {
    let xml = sign_with(&unsigned_template(), ASSERTION_ID, key);
    sign_with(&xml, RESPONSE_ID, key).into_bytes()
}

fn tenant_sp(idp: IdentityProvider) -> Result<ServiceProvider, rampart_saml::Error> {
    ServiceProvider::builder(SP_ENTITY, ACS)
        .identity_provider(idp)
        .build()
}

fn refresher(fetcher: HttpFetcher) -> MetadataRefresher<HttpFetcher> {
    MetadataRefresher::builder(TENANT, IDP_ENTITY, fetcher, tenant_sp)
        .with_metadata_signing_certificate(cert("keys/sp.cert.pem"))
        .build()
        .unwrap()
}

/// A metadata server serving `body`, an empty registry and a refresher fetching from it.
fn serving(
    body: Vec<u8>,
) -> (
    MetadataServer,
    TenantRegistry,
    MetadataRefresher<HttpFetcher>,
) {
    let server = MetadataServer::start(body);
    let r = refresher(server.fetcher());
    (server, TenantRegistry::new(), r)
}

fn validate(registry: &TenantRegistry, tenant: &str, response: &[u8]) -> Result<(), TenantError> {
    registry
        .validate_response(tenant, response, expected(), now())
        .map(|v| drop(v.response.into_login_without_replay_check()))
}

fn minutes(n: u64) -> Duration {
    Duration::from_secs(60 * n)
}

// ---- tenants -----------------------------------------------------------------------------

#[test]
fn one_idp_certificate_shared_by_two_tenants_cannot_log_a_user_into_the_other_tenant() {
    // A multi-tenant IdP signs for every tenant with one key; only the entity id differs.
    let registry = TenantRegistry::new();
    let shared = cert("keys/idp.cert.pem");
    registry.insert(
        "acme",
        tenant_sp(IdentityProvider::new(IDP_ENTITY, [shared.clone()]).unwrap()).unwrap(),
    );
    registry.insert(
        "globex",
        tenant_sp(IdentityProvider::new(OTHER_IDP, [shared]).unwrap()).unwrap(),
    );
    let acme_user = response_signed_by("idp");

    validate(&registry, "acme", &acme_user).unwrap();
    let e = validate(&registry, "globex", &acme_user).unwrap_err();
    assert_eq!(e.kind(), "issuer_mismatch", "{e}");

    // At a shared ACS the session's request was globex's: acme's response cannot answer it.
    let ids = TenantRequestIds::new(MemoryRequestIds::new());
    block_on(ids.remember("globex", REQUEST_ID, now() + minutes(10), now())).unwrap();
    let e =
        block_on(registry.validate_at_shared_acs(&acme_user, REQUEST_ID, &ids, now())).unwrap_err();
    assert_eq!(e.kind(), "request_not_issued");
    // ... and the peek that chose the candidates is not a login.
    let peek = registry.peek_issuer(&acme_user).unwrap();
    assert_eq!(peek.tenants(), ["acme"]);
    assert_eq!(peek.unverified_in_response_to(), Some(REQUEST_ID));
}

#[test]
fn a_response_with_a_forged_issuer_for_another_tenant_fails_its_signature() {
    // The attacker rewrites the Issuers to globex's IdP: the signatures no longer verify.
    let registry = TenantRegistry::new();
    let shared = cert("keys/idp.cert.pem");
    registry.insert(
        "globex",
        tenant_sp(IdentityProvider::new(OTHER_IDP, [shared]).unwrap()).unwrap(),
    );
    let forged = String::from_utf8(response_signed_by("idp"))
        .unwrap()
        .replace(&format!(">{IDP_ENTITY}<"), &format!(">{OTHER_IDP}<"));
    let e = validate(&registry, "globex", forged.as_bytes()).unwrap_err();
    assert_eq!(e.kind(), "signature_invalid", "{e}");
}

#[test]
fn shared_acs_finds_the_tenant_that_issued_the_request_and_consumes_it_once() {
    let registry = TenantRegistry::new();
    registry.insert("acme", sp());
    let ids = TenantRequestIds::new(MemoryRequestIds::new());
    block_on(ids.remember("acme", REQUEST_ID, now() + minutes(10), now())).unwrap();
    let response = fixture("both_signed.xml");
    let v = block_on(registry.validate_at_shared_acs(response.as_bytes(), REQUEST_ID, &ids, now()))
        .unwrap();
    assert_eq!(v.tenant, "acme");
    let _ = v.response.into_login_without_replay_check();
    let again =
        block_on(registry.validate_at_shared_acs(response.as_bytes(), REQUEST_ID, &ids, now()));
    assert_eq!(again.unwrap_err().kind(), "request_not_issued");
}

#[test]
fn unknown_and_removed_tenants_are_refused() {
    let registry = TenantRegistry::new();
    let response = fixture("both_signed.xml");
    assert_eq!(
        validate(&registry, "acme", response.as_bytes())
            .unwrap_err()
            .kind(),
        "unknown_tenant"
    );
    registry.insert("acme", sp());
    validate(&registry, "acme", response.as_bytes()).unwrap();
    registry.remove("acme");
    assert_eq!(
        validate(&registry, "acme", response.as_bytes())
            .unwrap_err()
            .kind(),
        "unknown_tenant"
    );
    assert!(
        registry
            .peek_issuer(response.as_bytes())
            .unwrap()
            .tenants()
            .is_empty()
    );
}

#[test]
fn idp_initiated_responses_stay_opt_in_per_tenant() {
    let registry = TenantRegistry::new();
    registry.insert("strict", sp());
    registry.insert(
        "lenient",
        builder()
            .accept_idp_initiated_unsolicited_responses()
            .build()
            .unwrap(),
    );
    let xml = unsigned_template().replace(&format!(" InResponseTo=\"{REQUEST_ID}\""), "");
    let xml = sign_response(&sign_assertion(&xml));
    let e = registry
        .validate_response("strict", xml.as_bytes(), Expected::Unsolicited, now())
        .unwrap_err();
    assert_eq!(e.kind(), "unsolicited_response");
    let ok = registry.validate_response("lenient", xml.as_bytes(), Expected::Unsolicited, now());
    let _ = ok.unwrap().response.into_login_without_replay_check();
}

#[test]
fn tenants_change_while_validations_run_on_other_threads() {
    let registry = TenantRegistry::new();
    registry.insert("acme", sp());
    let response = fixture("both_signed.xml");
    std::thread::scope(|s| {
        for _ in 0..2 {
            let (registry, response) = (registry.clone(), response.clone());
            s.spawn(move || {
                for _ in 0..50 {
                    validate(&registry, "acme", response.as_bytes()).unwrap();
                }
            });
        }
        s.spawn(|| {
            for i in 0..200 {
                registry.insert(format!("t{i}"), sp());
                registry.insert("acme", sp());
                registry.remove(&format!("t{i}"));
            }
        });
    });
    assert_eq!(registry.len(), 1);
}

// ---- metadata refresh --------------------------------------------------------------------

#[test]
fn rotated_idp_key_is_picked_up_by_a_refresh_and_the_old_key_is_then_refused() {
    if !xmlsec1() {
        return;
    }
    let (server, registry, r) = serving(signed_md("idp"));
    assert!(block_on(r.refresh(&registry, now())).unwrap());
    validate(&registry, TENANT, &response_signed_by("idp")).unwrap();
    assert_eq!(
        validate(&registry, TENANT, &response_signed_by("attacker"))
            .unwrap_err()
            .kind(),
        "untrusted_key"
    );

    // The IdP rotates to its new key ("attacker" plays the new key here).
    server.serve(200, signed_md("attacker"));
    assert!(block_on(r.refresh(&registry, now() + minutes(61))).unwrap());
    validate(&registry, TENANT, &response_signed_by("attacker")).unwrap();
    assert_eq!(
        validate(&registry, TENANT, &response_signed_by("idp"))
            .unwrap_err()
            .kind(),
        "untrusted_key"
    );
    let status = r.status();
    assert_eq!(status.successes, 2);
    assert_eq!(status.last_success, Some(now() + minutes(61)));
}

#[test]
fn an_unknown_signing_key_triggers_one_refresh_and_further_ones_are_rate_limited() {
    if !xmlsec1() {
        return;
    }
    let (server, registry, r) = serving(signed_md("idp"));
    block_on(r.refresh(&registry, now())).unwrap();
    assert_eq!(server.hits(), 1);

    server.serve(200, signed_md("attacker"));
    let v = block_on(r.validate_response(
        &registry,
        &response_signed_by("attacker"),
        expected(),
        now(),
    ));
    let _ = v.unwrap().response.into_login_without_replay_check();
    assert_eq!(server.hits(), 2, "one refresh, then the retry succeeded");
    assert_eq!(r.status().triggered, 1);

    // Responses under keys nobody publishes: no refresh within the interval (5 minutes).
    for i in 0..5 {
        let e = block_on(r.validate_response(
            &registry,
            &response_signed_by("idp"),
            expected(),
            now() + Duration::from_secs(i * 30),
        ));
        assert_eq!(e.unwrap_err().kind(), "untrusted_key");
    }
    assert_eq!(server.hits(), 2);
    // After the interval, one more.
    let e = block_on(r.validate_response(
        &registry,
        &response_signed_by("idp"),
        expected(),
        now() + minutes(6),
    ));
    assert_eq!(e.unwrap_err().kind(), "untrusted_key");
    assert_eq!(server.hits(), 3);
    assert_eq!(r.status().triggered, 2);
}

#[test]
fn a_failed_refresh_keeps_the_last_good_metadata_and_reports_it() {
    if !xmlsec1() {
        return;
    }
    let (server, registry, r) = serving(signed_md("idp"));
    block_on(r.refresh(&registry, now())).unwrap();

    server.serve(500, b"oops".to_vec());
    let later = now() + minutes(61);
    let e = block_on(r.refresh(&registry, later)).unwrap_err();
    assert_eq!(e.kind(), "metadata_fetch_failed");
    let status = r.status();
    assert_eq!(status.last_success, Some(now()));
    let (at, kind, message) = status.last_error.clone().unwrap();
    assert_eq!((at, kind), (later, "metadata_fetch_failed"));
    assert!(message.contains("500"), "{message}");
    assert_eq!(
        status.next_attempt,
        Some(later + minutes(5)),
        "retry interval"
    );
    validate(&registry, TENANT, &response_signed_by("idp")).unwrap();

    // A document signed by someone else is a failure too, and the last good stays.
    server.serve(
        200,
        signed_md_with(
            IDP_ENTITY,
            "attacker",
            "2030-12-31T00:00:00Z",
            "PT1H",
            "attacker",
        ),
    );
    let e = block_on(r.refresh(&registry, later + minutes(5))).unwrap_err();
    assert_eq!(e.kind(), "metadata_signature_invalid");
    validate(&registry, TENANT, &response_signed_by("idp")).unwrap();
    assert_eq!(r.status().failures, 2);

    // Recovery clears the error.
    server.serve(200, signed_md("idp"));
    assert!(block_on(r.refresh_if_due(&registry, later + minutes(10))).unwrap());
    assert!(r.status().last_error.is_none());
}

#[test]
fn expired_metadata_is_refused_and_expired_last_good_metadata_removes_the_tenant() {
    if !xmlsec1() {
        return;
    }
    let (server, registry, r) = serving(signed_md_with(
        IDP_ENTITY,
        "idp",
        "2029-12-31T00:00:00Z",
        "PT1H",
        "sp",
    ));
    let e = block_on(r.refresh(&registry, now())).unwrap_err();
    assert!(matches!(e, RefreshError::Expired { .. }), "{e}");
    assert!(registry.get(TENANT).is_none());

    // Good until 00:30: the next refresh is scheduled no later than that.
    server.serve(
        200,
        signed_md_with(IDP_ENTITY, "idp", "2030-01-01T00:30:00Z", "PT1H", "sp"),
    );
    block_on(r.refresh(&registry, now())).unwrap();
    assert_eq!(r.status().next_attempt, Some(at("2030-01-01T00:30:00Z")));
    // The IdP's server breaks; past validUntil the tenant is gone (fail closed).
    server.serve(503, Vec::new());
    assert!(block_on(r.refresh_if_due(&registry, at("2030-01-01T00:31:00Z"))).is_err());
    assert!(registry.get(TENANT).is_none());
}

#[test]
fn unsigned_metadata_is_refused_when_a_signing_certificate_is_pinned() {
    let (_server, registry, r) = serving(unsigned_md("idp").into_bytes());
    let e = block_on(r.refresh(&registry, now())).unwrap_err();
    assert_eq!(e.kind(), "metadata_unsigned");
    assert!(registry.is_empty());
}

#[test]
fn tampered_signed_metadata_is_refused() {
    if !xmlsec1() {
        return;
    }
    // The attacker swaps the IdP certificate inside signed metadata for their own.
    let good = String::from_utf8(signed_md("idp")).unwrap();
    let b64 = |key: &str| {
        base64::engine::general_purpose::STANDARD
            .encode(cert(&format!("keys/{key}.cert.pem")).der())
    };
    let tampered = replace_once(&good, &b64("idp"), &b64("attacker"));
    let (_server, registry, r) = serving(tampered.into_bytes());
    let e = block_on(r.refresh(&registry, now())).unwrap_err();
    assert_eq!(e.kind(), "metadata_signature_invalid", "{e}");
    assert!(registry.is_empty());
}

#[test]
fn signed_metadata_about_another_entity_is_refused() {
    if !xmlsec1() {
        return;
    }
    let server = MetadataServer::start(signed_md_with(
        OTHER_IDP,
        "idp",
        "2030-12-31T00:00:00Z",
        "PT1H",
        "sp",
    ));
    let registry = TenantRegistry::new();
    let e = block_on(refresher(server.fetcher()).refresh(&registry, now())).unwrap_err();
    assert_eq!(e.kind(), "invalid_metadata", "{e}");
}

#[test]
fn cache_duration_schedules_the_next_refresh_within_the_clamp() {
    if !xmlsec1() {
        return;
    }
    let server = MetadataServer::start(signed_md_with(
        IDP_ENTITY,
        "idp",
        "2030-12-31T00:00:00Z",
        "PT1S",
        "sp",
    ));
    let registry = TenantRegistry::new();
    let r = MetadataRefresher::builder(TENANT, IDP_ENTITY, server.fetcher(), tenant_sp)
        .with_metadata_signing_certificate(cert("keys/sp.cert.pem"))
        .with_min_refresh_interval(minutes(10))
        .with_max_refresh_interval(minutes(120))
        .build()
        .unwrap();
    block_on(r.refresh(&registry, now())).unwrap();
    assert_eq!(r.status().next_attempt, Some(now() + minutes(10)));
    assert!(!block_on(r.refresh_if_due(&registry, now() + minutes(9))).unwrap());
    assert_eq!(server.hits(), 1);
    server.serve(
        200,
        signed_md_with(IDP_ENTITY, "idp", "2030-12-31T00:00:00Z", "P30D", "sp"),
    );
    assert!(block_on(r.refresh_if_due(&registry, now() + minutes(10))).unwrap());
    assert_eq!(r.status().next_attempt, Some(now() + minutes(130)));
    server.serve(
        200,
        signed_md_with(IDP_ENTITY, "idp", "2030-12-31T00:00:00Z", "PT30M", "sp"),
    );
    assert!(block_on(r.refresh_if_due(&registry, now() + minutes(130))).unwrap());
    assert_eq!(r.status().next_attempt, Some(now() + minutes(160)));
}

#[test]
fn a_refresher_without_a_signing_certificate_needs_the_loud_opt_in() {
    let f = |_| -> Result<ServiceProvider, rampart_saml::Error> { unreachable!() };
    let e = MetadataRefresher::builder(TENANT, IDP_ENTITY, rampart_saml::FileFetcher::new("x"), f)
        .build()
        .unwrap_err();
    assert_eq!(e.kind(), "config");
    assert!(
        MetadataRefresher::builder(TENANT, IDP_ENTITY, rampart_saml::FileFetcher::new("x"), f)
            .accept_unsigned_metadata()
            .build()
            .is_ok()
    );
}

#[test]
fn a_file_fetcher_refreshes_from_disk() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("idp.xml");
    std::fs::write(&path, unsigned_md("idp")).unwrap();
    let registry = TenantRegistry::new();
    let r = MetadataRefresher::builder(
        TENANT,
        IDP_ENTITY,
        rampart_saml::FileFetcher::new(&path),
        tenant_sp,
    )
    .accept_unsigned_metadata()
    .build()
    .unwrap();
    block_on(r.refresh(&registry, now())).unwrap();
    let certs: Vec<Certificate> = registry
        .get(TENANT)
        .unwrap()
        .identity_provider()
        .certificates()
        .to_vec();
    assert_eq!(certs, [cert("keys/idp.cert.pem")]);
    std::fs::remove_file(&path).unwrap();
    assert_eq!(
        block_on(r.refresh(&registry, now())).unwrap_err().kind(),
        "metadata_fetch_failed"
    );
    assert!(registry.get(TENANT).is_some(), "last good kept");
}

#[cfg(feature = "fetch-reqwest")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reqwest_fetcher_follows_a_rotation_served_over_http() {
    if !xmlsec1() {
        return;
    }
    let server = MetadataServer::start(signed_md("idp"));
    let url = format!("http://{}/metadata", server.addr);
    let registry = TenantRegistry::new();
    let r = MetadataRefresher::builder(
        TENANT,
        IDP_ENTITY,
        rampart_saml::ReqwestFetcher::new(&url).unwrap(),
        tenant_sp,
    )
    .with_metadata_signing_certificate(cert("keys/sp.cert.pem"))
    .build()
    .unwrap();
    assert!(r.refresh(&registry, now()).await.unwrap());
    validate(&registry, TENANT, &response_signed_by("idp")).unwrap();

    server.serve(200, signed_md("attacker"));
    let v = r
        .validate_response(
            &registry,
            &response_signed_by("attacker"),
            expected(),
            now(),
        )
        .await
        .unwrap();
    let _ = v.response.into_login_without_replay_check();
    assert_eq!(server.hits(), 2);

    server.serve(404, Vec::new());
    let e = r.refresh(&registry, now() + minutes(61)).await.unwrap_err();
    assert_eq!(e.kind(), "metadata_fetch_failed");
    assert!(e.to_string().contains("404"), "{e}");
    validate(&registry, TENANT, &response_signed_by("attacker")).unwrap();
}

/// A fetcher that never answers: its refresh is dropped by the caller's timeout.
struct Hanging;

impl MetadataFetcher for Hanging {
    fn fetch(&self) -> impl std::future::Future<Output = Result<Vec<u8>, FetchError>> + Send {
        std::future::pending()
    }
}

#[test]
fn a_cancelled_refresh_does_not_block_later_refreshes() {
    let registry = TenantRegistry::new();
    let r = MetadataRefresher::builder(TENANT, IDP_ENTITY, Hanging, tenant_sp)
        .accept_unsigned_metadata()
        .build()
        .unwrap();
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    for _ in 0..2 {
        // Pending: the fetch started (had the flag stayed set, this would be Ready(Ok(false))).
        let mut f = std::pin::pin!(r.refresh(&registry, now()));
        assert!(f.as_mut().poll(&mut cx).is_pending());
        // Another task's refresh meanwhile is skipped, not queued.
        assert!(!block_on(r.refresh(&registry, now())).unwrap());
        // `f` is dropped here, as a caller's timeout drops it.
    }
}

#[test]
fn every_fuzz_seed_goes_through_the_refresh_path_and_the_signed_one_is_accepted() {
    // The fuzz target's seeds (fuzz/seeds/saml_metadata_refresh), as regression inputs.
    let seeds = dir().join("../../../fuzz/seeds/saml_metadata_refresh");
    let mut accepted = Vec::new();
    for entry in std::fs::read_dir(&seeds).unwrap() {
        let path = entry.unwrap().path();
        let registry = TenantRegistry::new();
        let r = refresher_of(rampart_saml::FileFetcher::new(&path));
        if block_on(r.refresh(&registry, now())).is_ok() {
            assert!(registry.get(TENANT).is_some());
            accepted.push(path.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    assert_eq!(accepted, ["signed.xml"]);
}

fn refresher_of<F: MetadataFetcher>(fetcher: F) -> MetadataRefresher<F> {
    MetadataRefresher::builder(TENANT, IDP_ENTITY, fetcher, tenant_sp)
        .with_metadata_signing_certificate(cert("keys/sp.cert.pem"))
        .build()
        .unwrap()
}
