//! SAML routes over real HTTP, with tower-sessions holding the request id, and responses
//! signed by the test IdP key of rampart-saml's tests.

mod common;

use rampart_testkit::http::Sent;

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use common::{client, serve};
use http::request::Parts;
use rampart_axum::{Authorizer, SamlLogin, SamlRoutes, SamlSessions};
use rampart_saml::{
    Certificate, IdentityProvider, LogoutSession, MemoryRequestIds, RequestIdStore,
    ServiceProvider, TenantRegistry,
};
use tower_sessions::{MemoryStore, Session, SessionManagerLayer};

const SP_ENTITY: &str = "https://sp.example.com/metadata";
const ACS: &str = "https://sp.example.com/saml/acs";
const IDP_ENTITY: &str = "https://idp.example.com/metadata";
const IDP_SSO: &str = "https://idp.example.com/sso";
const TEMPLATE_REQUEST_ID: &str = "_req0123456789abcdef0123456789abcdef";
const ASSERTION_ID: &str = "_a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b";
const SLO: &str = "https://sp.example.com/saml/slo";
const IDP_SLO: &str = "https://idp.example.com/slo";
const SESSION_INDEX: &str = "_s1a2b3c4d5e6f7a8b9c0";

fn saml_tests() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../rampart-saml/tests")
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(saml_tests().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Inside the fixtures' validity window.
fn fixture_now() -> SystemTime {
    SystemTime::from(time::macros::datetime!(2030-01-01 00:01 UTC))
}

/// The response template answering `request_id`, its assertion signed by the test IdP (as
/// rampart-saml's tests sign: enveloped, after the Issuer, RSA-SHA256, exc-c14n).
fn signed_response(request_id: &str) -> String {
    use rampart_xmldsig::{SignOptions, SigningKey, sign_enveloped_with};
    let xml = String::from_utf8(read("fixtures/response.template.xml"))
        .unwrap()
        .replace("@RESPONSE_SIG@", "")
        .replace("@ASSERTION_SIG@", "")
        .replace(TEMPLATE_REQUEST_ID, request_id);
    let key = SigningKey::from_pkcs8_pem(&read("keys/idp.key.pem")).unwrap();
    let cert = Certificate::from_pem(&read("keys/idp.cert.pem")).unwrap();
    let options = SignOptions::new()
        .with_placement(rampart_saml::signature_placement())
        .with_certificate_der(cert.der());
    let signed = sign_enveloped_with(xml.as_bytes(), ASSERTION_ID, &key, &options).unwrap();
    base64::engine::general_purpose::STANDARD.encode(signed)
}

fn form_value(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[derive(Debug)]
struct SessionError;
impl std::fmt::Display for SessionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("session layer failed")
    }
}
impl std::error::Error for SessionError {}

/// The application's side: tower-sessions holds the request id and, after login, the owner.
struct Sessions;

async fn session(parts: &mut Parts) -> Result<Session, SessionError> {
    Session::from_request_parts(parts, &())
        .await
        .map_err(|_| SessionError)
}

impl SamlSessions for Sessions {
    type Error = SessionError;

    async fn remember_request(
        &self,
        parts: &mut Parts,
        tenant: &str,
        request_id: &str,
    ) -> Result<(), SessionError> {
        let s = session(parts).await?;
        s.insert(&format!("saml_request:{tenant}"), request_id)
            .await
            .map_err(|_| SessionError)
    }

    async fn take_request(
        &self,
        parts: &mut Parts,
        tenant: &str,
    ) -> Result<Option<String>, SessionError> {
        let s = session(parts).await?;
        s.remove::<String>(&format!("saml_request:{tenant}"))
            .await
            .map_err(|_| SessionError)
    }

    async fn logged_in(
        &self,
        parts: &mut Parts,
        login: SamlLogin,
    ) -> Result<Response, SessionError> {
        let s = session(parts).await?;
        s.cycle_id().await.map_err(|_| SessionError)?; // no session fixation across login
        s.insert("owner", login.principal.owner())
            .await
            .map_err(|_| SessionError)?;
        // What Single Logout needs: the NameID (with its format) and the SessionIndex.
        let saved = (
            &login.login.name_id.value,
            &login.login.name_id.format,
            &login.login.session_index,
        );
        s.insert(&format!("saml_session:{}", login.tenant), saved)
            .await
            .map_err(|_| SessionError)?;
        Ok(format!(
            "{} [{}] {}",
            login.principal.owner(),
            login.principal.roles().collect::<Vec<_>>().join(","),
            login.return_to.as_deref().unwrap_or("-")
        )
        .into_response())
    }

    async fn logout_session(
        &self,
        parts: &mut Parts,
        tenant: &str,
    ) -> Result<Option<LogoutSession>, SessionError> {
        let s = session(parts).await?;
        let saved: Option<(String, Option<String>, Option<String>)> = s
            .get(&format!("saml_session:{tenant}"))
            .await
            .map_err(|_| SessionError)?;
        Ok(saved.map(|(value, format, index)| {
            let mut name_id = rampart_saml::NameId::new(value);
            name_id.format = format;
            let session = LogoutSession::new(name_id);
            match index {
                Some(i) => session.with_session_index(i),
                None => session,
            }
        }))
    }

    async fn logged_out(&self, parts: &mut Parts, _tenant: &str) -> Result<(), SessionError> {
        session(parts)
            .await?
            .flush()
            .await
            .map_err(|_| SessionError)
    }
}

/// The request-id store, shared with the test so it can look inside.
#[derive(Clone, Default)]
struct Ids(Arc<MemoryRequestIds>);

impl RequestIdStore for Ids {
    async fn remember(
        &self,
        request_id: &str,
        expires_at: SystemTime,
        now: SystemTime,
    ) -> Result<(), rampart_saml::Error> {
        self.0.remember_sync(request_id, expires_at, now)
    }

    async fn consume(
        &self,
        request_id: &str,
        now: SystemTime,
    ) -> Result<bool, rampart_saml::Error> {
        Ok(self.0.consume_sync(request_id, now))
    }
}

struct Sp {
    base: String,
    ids: Ids,
}

async fn start() -> Sp {
    let idp = IdentityProvider::new(
        IDP_ENTITY,
        [Certificate::from_pem(&read("keys/idp.cert.pem")).unwrap()],
    )
    .unwrap()
    .with_sso_redirect_url(IDP_SSO);
    let sp_key = rampart_saml::SigningKey::from_pkcs8_pem(&read("keys/sp.key.pem"))
        .unwrap()
        .with_certificate(Certificate::from_pem(&read("keys/sp.cert.pem")).unwrap())
        .unwrap();
    let sp = ServiceProvider::builder(SP_ENTITY, ACS)
        .identity_provider(idp)
        .with_signing_key(sp_key)
        .with_single_logout_url(SLO)
        .build()
        .unwrap();
    let registry = TenantRegistry::new();
    registry.insert("acme", sp);
    let authz = Authorizer::new(
        rampart_authz::Policy::from_toml(
            r#"
            permissions = ["reports:read"]
            [roles.viewer]
            permissions = ["reports:read"]
            [tenants.acme.mappings]
            "groups=engineering-team-07" = "viewer"
            "#,
        )
        .unwrap(),
    );
    let ids = Ids::default();
    let routes = SamlRoutes::new(registry, Sessions)
        .with_request_ids(ids.clone())
        .with_authorizer(authz)
        .with_clock(fixture_now)
        .with_idp_single_logout_url("acme", IDP_SLO)
        .into_router();
    let app = Router::new()
        .merge(routes)
        .layer(SessionManagerLayer::new(MemoryStore::default()).with_secure(false));
    Sp {
        base: serve(app).await,
        ids,
    }
}

/// The `name=value` of the session cookie a response sets.
fn cookie_of(r: &reqwest::Response) -> String {
    let set = r.headers()["set-cookie"].to_str().unwrap();
    set.split(';').next().unwrap().to_owned()
}

/// The ID of the AuthnRequest inside a redirect URL (SAML bindings 3.4.4.1: deflate, base64,
/// URL-encode).
fn request_id_in(location: &str) -> String {
    let query = location.split_once('?').unwrap().1;
    let value = query
        .split('&')
        .find_map(|p| p.strip_prefix("SAMLRequest="))
        .unwrap();
    let b64 = percent_encoding::percent_decode_str(value)
        .decode_utf8()
        .unwrap();
    let deflated = base64::engine::general_purpose::STANDARD
        .decode(b64.as_bytes())
        .unwrap();
    let mut xml = String::new();
    flate2::read::DeflateDecoder::new(&deflated[..])
        .read_to_string(&mut xml)
        .unwrap();
    let start = xml.find(" ID=\"").unwrap() + 5;
    xml[start..start + xml[start..].find('"').unwrap()].to_owned()
}

/// Starts a login; returns (session cookie, request id).
async fn begin(sp: &Sp) -> (String, String) {
    let r = client()
        .get(format!(
            "{}/saml/acme/login?return_to=%2Fdashboard",
            sp.base
        ))
        .sent()
        .await;
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    (cookie_of(&r), request_id_in(&location))
}

async fn post_acs(sp: &Sp, cookie: Option<&str>, body: impl Into<reqwest::Body>) -> (u16, String) {
    let mut req = client()
        .post(format!("{}/saml/acme/acs", sp.base))
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let r = req.body(body).sent().await;
    (r.status().as_u16(), r.text().await.unwrap())
}

fn acs_form(saml_response: &str) -> String {
    format!(
        "SAMLResponse={}&RelayState=%2Fdashboard",
        form_value(saml_response)
    )
}

#[tokio::test]
async fn metadata_is_served() {
    let sp = start().await;
    let r = client()
        .get(format!("{}/saml/acme/metadata", sp.base))
        .sent()
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/samlmetadata+xml");
    let body = r.text().await.unwrap();
    assert!(
        body.contains(&format!("entityID=\"{SP_ENTITY}\"")),
        "{body}"
    );
}

#[tokio::test]
async fn login_redirects_to_the_idp_and_stores_the_request_id() {
    let sp = start().await;
    let r = client()
        .get(format!(
            "{}/saml/acme/login?return_to=%2Fdashboard",
            sp.base
        ))
        .sent()
        .await;
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&format!("{IDP_SSO}?SAMLRequest=")),
        "{location}"
    );
    assert!(location.contains("&RelayState=%2Fdashboard"), "{location}");
    assert!(
        r.headers().contains_key("set-cookie"),
        "the session keeps the id"
    );
    let id = request_id_in(&location);
    assert_eq!(sp.ids.0.len(), 1);
    // The stored id is the one sent: it is accepted exactly once.
    let scoped = format!("4:acme:{id}");
    assert!(sp.ids.0.consume_sync(&scoped, fixture_now()));
}

#[tokio::test]
async fn login_refuses_a_return_to_on_another_origin() {
    let sp = start().await;
    for bad in [
        "https%3A%2F%2Fevil.example",
        "%2F%2Fevil.example",
        "%2F%5Cevil.example",
    ] {
        let r = client()
            .get(format!("{}/saml/acme/login?return_to={bad}", sp.base))
            .sent()
            .await;
        assert_eq!(r.status(), 400, "{bad}");
        assert_eq!(r.text().await.unwrap(), "bad_relay_state\n");
    }
    assert_eq!(sp.ids.0.len(), 0);
}

#[tokio::test]
async fn acs_accepts_a_signed_response_and_hands_the_login_to_the_session() {
    let sp = start().await;
    let (cookie, id) = begin(&sp).await;
    let (status, body) = post_acs(&sp, Some(&cookie), acs_form(&signed_response(&id))).await;
    assert_eq!(
        (status, body.as_str()),
        (200, "alice@example.com [viewer] /dashboard")
    );
    assert_eq!(sp.ids.0.len(), 0, "the request id was consumed");
}

#[tokio::test]
async fn replayed_responses_are_refused() {
    let sp = start().await;
    let (cookie, id) = begin(&sp).await;
    let response = signed_response(&id);
    assert_eq!(
        post_acs(&sp, Some(&cookie), acs_form(&response)).await.0,
        200
    );
    // The same POST again: the session's request id was taken.
    let (status, body) = post_acs(&sp, Some(&cookie), acs_form(&response)).await;
    assert_eq!((status, body.as_str()), (400, "no_login_in_progress\n"));
    // The same assertion answering a new login (an IdP or proxy resending it): the replay
    // cache, checked after validation, refuses it.
    let (cookie2, id2) = begin(&sp).await;
    let (status, body) = post_acs(&sp, Some(&cookie2), acs_form(&signed_response(&id2))).await;
    assert_eq!((status, body.as_str()), (401, "saml_replay\n"));
}

#[tokio::test]
async fn response_answering_another_sessions_request_is_refused() {
    let sp = start().await;
    let (_victim_cookie, victim_id) = begin(&sp).await;
    let (attacker_cookie, _attacker_id) = begin(&sp).await;
    let (status, body) = post_acs(
        &sp,
        Some(&attacker_cookie),
        acs_form(&signed_response(&victim_id)),
    )
    .await;
    assert_eq!((status, body.as_str()), (401, "saml_response_refused\n"));
}

#[tokio::test]
async fn tampered_response_is_401_and_echoes_nothing() {
    let sp = start().await;
    let (cookie, id) = begin(&sp).await;
    let xml = base64::engine::general_purpose::STANDARD
        .decode(signed_response(&id))
        .unwrap();
    let forged = String::from_utf8(xml)
        .unwrap()
        .replace("alice@example.com", "mallory@example.com");
    let forged = base64::engine::general_purpose::STANDARD.encode(forged);
    let (status, body) = post_acs(&sp, Some(&cookie), acs_form(&forged)).await;
    assert_eq!((status, body.as_str()), (401, "saml_response_refused\n"));
}

#[tokio::test]
async fn acs_without_a_login_in_the_session_is_400() {
    let sp = start().await;
    let (_cookie, id) = begin(&sp).await;
    let (status, body) = post_acs(&sp, None, acs_form(&signed_response(&id))).await;
    assert_eq!((status, body.as_str()), (400, "no_login_in_progress\n"));
}

#[tokio::test]
async fn unknown_tenant_is_404() {
    let sp = start().await;
    for path in ["metadata", "login"] {
        let r = client()
            .get(format!("{}/saml/globex/{path}", sp.base))
            .sent()
            .await;
        assert_eq!(r.status(), 404, "{path}");
        assert_eq!(r.text().await.unwrap(), "unknown_tenant\n");
    }
    let r = client()
        .post(format!("{}/saml/globex/acs", sp.base))
        .body("SAMLResponse=x")
        .sent()
        .await;
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn megabyte_saml_response_is_413() {
    let sp = start().await;
    let (cookie, _) = begin(&sp).await;
    let huge = format!("SAMLResponse={}", "A".repeat(2 * 1024 * 1024));
    let (status, body) = post_acs(&sp, Some(&cookie), huge).await;
    assert_eq!((status, body.as_str()), (413, "payload_too_large\n"));
}

#[tokio::test]
async fn non_utf8_form_is_400() {
    let sp = start().await;
    let (cookie, _) = begin(&sp).await;
    let (status, body) = post_acs(&sp, Some(&cookie), "SAMLResponse=%FF%FE%FD").await;
    assert_eq!((status, body.as_str()), (400, "bad_form\n"));
    let (status, _) = post_acs(&sp, Some(&cookie), b"SAMLResponse=\xc3\x28".to_vec()).await;
    assert_eq!(status, 400);
}

/// The IdP's LogoutRequest for alice's session, as an HTTP-Redirect query signed with the
/// test IdP key (SAML bindings 3.4.4.1: the signature covers the query as sent).
fn signed_logout_query(session_index: &str) -> String {
    let xml = format!(
        r#"<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_idp1" Version="2.0" IssueInstant="2030-01-01T00:00:30Z" NotOnOrAfter="2030-01-01T00:05:30Z" Destination="{SLO}"><saml:Issuer>{IDP_ENTITY}</saml:Issuer><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress" SPNameQualifier="{SP_ENTITY}">alice@example.com</saml:NameID><samlp:SessionIndex>{session_index}</samlp:SessionIndex></samlp:LogoutRequest>"#
    );
    rampart_testkit::saml_idp::signed_redirect_query("SAMLRequest", &xml, &read("keys/idp.key.pem"))
}

/// Logs alice in; returns the session cookie after login (the id is cycled).
async fn logged_in(sp: &Sp) -> String {
    let (cookie, id) = begin(sp).await;
    let r = client()
        .post(format!("{}/saml/acme/acs", sp.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", &cookie)
        .body(acs_form(&signed_response(&id)))
        .sent()
        .await;
    assert_eq!(r.status(), 200);
    cookie_of(&r)
}

async fn slo(sp: &Sp, cookie: &str, query: &str) -> reqwest::Response {
    client()
        .get(format!("{}/saml/acme/slo?{query}", sp.base))
        .header("cookie", cookie)
        .sent()
        .await
}

#[tokio::test]
async fn idp_logout_request_ends_the_session_and_answers_the_idp() {
    let sp = start().await;
    let cookie = logged_in(&sp).await;
    let query = signed_logout_query(SESSION_INDEX);
    let r = slo(&sp, &cookie, &query).await;
    assert_eq!(r.status(), 303, "{:?}", r.text().await);
    let location = r.headers()["location"].to_str().unwrap();
    assert!(
        location.starts_with(&format!("{IDP_SLO}?SAMLResponse=")),
        "{location}"
    );
    assert!(
        location.contains("&Signature="),
        "signed with the SP key: {location}"
    );
    // The session is gone: the same request again finds no SAML session.
    let r = slo(&sp, &cookie, &query).await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.text().await.unwrap(), "no_login_in_progress\n");
}

#[tokio::test]
async fn idp_logout_request_for_another_session_is_refused() {
    let sp = start().await;
    let cookie = logged_in(&sp).await;
    let r = slo(&sp, &cookie, &signed_logout_query("_another_session")).await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.text().await.unwrap(), "saml_logout_refused\n");
}
