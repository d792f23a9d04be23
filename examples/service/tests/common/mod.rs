//! The service on a real socket, a reqwest client with a cookie jar, and a test IdP that
//! signs SAML responses with the repository's test keys (rampart-xmldsig's signer).

#![allow(dead_code, unreachable_pub)]

use rampart_testkit::http::Sent;

use std::io::Read as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rampart_service::{Clock, Config, IdpConfig, Region, Running, TenantConfig};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub const ACME_IDP: &str = "https://idp.example.com/acme";
pub const GLOBEX_IDP: &str = "https://sso.globex.example/idp";
const SHARED_IDP_CERT: &[u8] =
    include_bytes!("../../../../crates/rampart-saml/tests/keys/idp.cert.pem");
const SHARED_IDP_KEY: &[u8] =
    include_bytes!("../../../../crates/rampart-saml/tests/keys/idp.key.pem");
const GLOBEX_IDP_CERT: &[u8] = include_bytes!("../../../fixtures/saml_sp/globex_idp.cert.pem");
const GLOBEX_IDP_KEY: &[u8] = include_bytes!("../../../fixtures/saml_sp/globex_idp.key.pem");

/// A running service with its own data directory and a clock the test moves.
pub struct Service {
    pub running: Running,
    pub clock: Clock,
    pub dir: tempfile::TempDir,
}

impl Service {
    /// Tenants: acme (EU, SSO), globex (US, SSO), initech (EU, password only). The IdPs'
    /// SSO URLs point at `idp_base` (a test IdP page) when given.
    pub async fn start_with_idp(idp_base: Option<&str>, clock: Clock) -> Service {
        Self::start_configured(idp_base, clock, |c| c).await
    }

    /// As [`start_with_idp`](Self::start_with_idp), with `configure` applied last (back ends).
    pub async fn start_configured(
        idp_base: Option<&str>,
        clock: Clock,
        configure: impl FnOnce(Config) -> Config,
    ) -> Service {
        let dir = tempfile::tempdir().expect("temp dir");
        let sso = |tenant: &str, default: String| {
            idp_base.map_or(default, |base| format!("{base}/{tenant}/sso"))
        };
        let tenants = vec![
            TenantConfig::new("acme", Region::Eu).with_idp(IdpConfig::new(
                ACME_IDP,
                SHARED_IDP_CERT.to_vec(),
                sso("acme", format!("{ACME_IDP}/sso")),
            )),
            TenantConfig::new("globex", Region::Us).with_idp(IdpConfig::new(
                GLOBEX_IDP,
                GLOBEX_IDP_CERT.to_vec(),
                sso("globex", format!("{GLOBEX_IDP}/sso")),
            )),
            TenantConfig::new("initech", Region::Eu),
        ];
        let config = configure(
            Config::new(dir.path())
                .with_clock(clock.clone())
                .with_tenants(tenants),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let running = rampart_service::start(listener, config)
            .await
            .expect("service starts");
        Service {
            running,
            clock,
            dir,
        }
    }

    pub async fn start() -> Service {
        Self::start_with_idp(None, manual_clock_now()).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.url())
    }

    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }
}

/// A manual clock at the current second (cookies and TLS-free HTTP do not care).
pub fn manual_clock_now() -> Clock {
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    Clock::manual_at_unix(now)
}

/// A browser-like client: a cookie jar, no redirects followed (tests look at them).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// Signs up `email` in `tenant` with a fixed good password; returns the client holding
/// the session.
pub async fn signed_up(service: &Service, email: &str, tenant: &str) -> reqwest::Client {
    let client = client();
    let response = client
        .post(service.url("/signup"))
        .form(&[("email", email), ("password", PASSWORD), ("tenant", tenant)])
        .sent()
        .await;
    assert_eq!(response.status(), 303, "sign-up of {email}");
    client
}

pub const PASSWORD: &str = "correct horse battery staple";

fn rfc3339(t: SystemTime) -> String {
    OffsetDateTime::from(t).format(&Rfc3339).expect("format")
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{prefix}{nanos:08x}{n:08x}{:016x}", std::process::id())
}

/// The ID of the AuthnRequest in a Redirect-binding URL (raw DEFLATE, base64, URL-encoded).
pub fn request_id_from_redirect(url: &str) -> String {
    let query = url.split_once('?').expect("query").1;
    let value = query
        .split('&')
        .find_map(|p| p.strip_prefix("SAMLRequest="))
        .expect("SAMLRequest");
    let value = percent_encoding::percent_decode_str(value)
        .decode_utf8()
        .expect("utf-8");
    let deflated = STANDARD.decode(value.as_bytes()).expect("base64");
    let mut xml = String::new();
    flate2::read::DeflateDecoder::new(&deflated[..])
        .read_to_string(&mut xml)
        .expect("inflate");
    let start = xml.find(" ID=\"").expect("ID attribute") + 5;
    let end = start + xml[start..].find('"').expect("end of ID");
    xml[start..end].to_owned()
}

/// Which test IdP signs.
#[derive(Clone, Copy)]
pub enum Idp {
    Acme,
    Globex,
}

/// The base64 SAMLResponse the tenant's IdP would POST: answering `request_id`, for the SP
/// of `tenant` at `base_url`, naming `email` with these `groups`, signed over the assertion.
pub fn signed_response(
    idp: Idp,
    base_url: &str,
    tenant: &str,
    request_id: &str,
    email: &str,
    groups: &[&str],
    now: SystemTime,
) -> String {
    let (issuer, key, cert) = idp.parts();
    let acs = rampart_service::acs_url(base_url, tenant);
    let audience = rampart_service::entity_id(base_url, tenant);
    let (now_s, before, after) = (
        rfc3339(now),
        rfc3339(now - Duration::from_secs(60)),
        rfc3339(now + Duration::from_secs(300)),
    );
    let assertion_id = unique("_a");
    let values: String = groups
        .iter()
        .map(|g| format!("<saml:AttributeValue>{g}</saml:AttributeValue>"))
        .collect();
    let xml = format!(
        r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{rid}" Version="2.0" IssueInstant="{now_s}" Destination="{acs}" InResponseTo="{request_id}"><saml:Issuer>{issuer}</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status><saml:Assertion ID="{assertion_id}" Version="2.0" IssueInstant="{now_s}"><saml:Issuer>{issuer}</saml:Issuer><saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">{email}</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="{after}" Recipient="{acs}" InResponseTo="{request_id}"/></saml:SubjectConfirmation></saml:Subject><saml:Conditions NotBefore="{before}" NotOnOrAfter="{after}"><saml:AudienceRestriction><saml:Audience>{audience}</saml:Audience></saml:AudienceRestriction></saml:Conditions><saml:AuthnStatement AuthnInstant="{now_s}" SessionIndex="{sid}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement><saml:AttributeStatement><saml:Attribute Name="groups">{values}</saml:Attribute></saml:AttributeStatement></saml:Assertion></samlp:Response>"#,
        rid = unique("_r"),
        sid = unique("_s"),
    );
    let key = rampart_saml::SigningKey::from_pkcs8_pem(key).expect("IdP key");
    let options = rampart_xmldsig::SignOptions::new()
        .with_placement(rampart_saml::signature_placement())
        .with_certificate_der(
            rampart_saml::Certificate::from_pem(cert)
                .expect("cert")
                .der(),
        );
    let signed =
        rampart_xmldsig::sign_enveloped_with(xml.as_bytes(), &assertion_id, &key, &options)
            .expect("sign");
    STANDARD.encode(signed)
}

impl Idp {
    /// Entity id, private key and certificate (PEM).
    fn parts(self) -> (&'static str, &'static [u8], &'static [u8]) {
        match self {
            Idp::Acme => (ACME_IDP, SHARED_IDP_KEY, SHARED_IDP_CERT),
            Idp::Globex => (GLOBEX_IDP, GLOBEX_IDP_KEY, GLOBEX_IDP_CERT),
        }
    }
}

/// The SessionIndex of a response [`signed_response`] made.
pub fn session_index(response: &str) -> String {
    let xml = String::from_utf8(STANDARD.decode(response).expect("base64")).expect("utf-8");
    let (_, rest) = xml.split_once("SessionIndex=\"").expect("a SessionIndex");
    rest.split_once('"').expect("quoted").0.to_owned()
}

/// `idp`'s LogoutRequest for `email`'s session `session_index` at `tenant`, as the signed
/// HTTP-Redirect query the IdP sends to the tenant's SLO URL.
pub fn signed_logout_query(
    idp: Idp,
    base_url: &str,
    tenant: &str,
    email: &str,
    session_index: &str,
    now: SystemTime,
) -> String {
    let (issuer, key, _) = idp.parts();
    let xml = format!(
        r#"<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{now_s}" NotOnOrAfter="{until}" Destination="{base_url}/saml/{tenant}/slo"><saml:Issuer>{issuer}</saml:Issuer><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">{email}</saml:NameID><samlp:SessionIndex>{session_index}</samlp:SessionIndex></samlp:LogoutRequest>"#,
        id = unique("_l"),
        now_s = rfc3339(now),
        until = rfc3339(now + Duration::from_secs(300)),
    );
    rampart_testkit::saml_idp::signed_redirect_query("SAMLRequest", &xml, key)
}
