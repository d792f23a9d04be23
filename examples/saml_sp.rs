//! A multi-tenant SAML service provider, end to end, against test IdPs whose keys are in the
//! repository: tenants in one `TenantRegistry`, a login per tenant (globex's assertion
//! arrives encrypted), a response refused by the tenant it was not meant for, and
//! SP-initiated Single Logout.
//!
//! `cargo run -p rampart --features encrypted-assertions --example saml_sp`
//!
//! The IdP half (the helpers at the bottom, which sign responses with the in-repo
//! rampart-xmldsig signer) stands in for Okta, Entra ID or Keycloak: a real service has only
//! the SP half. The clock is fixed at 2030-01-01T00:01:00Z so the committed encrypted response
//! stays valid: `examples/fixtures/saml_sp/globex_encrypted_response.xml`, signed and then
//! encrypted for the SP's certificate by xmlsec1 (`gen.sh` beside it regenerates it).

use std::error::Error;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rampart_saml::{
    Certificate, DecryptionKey, Expected, IdentityProvider, MemoryReplayCache, MemoryRequestIds,
    ServiceProvider, ServiceProviderBuilder, SigningKey, TenantRegistry, TenantRequestIds,
};

const SP_ENTITY: &str = "https://sp.example.com/metadata";
/// One ACS for every tenant: the tenant is the one that issued the request in the session.
const ACS: &str = "https://sp.example.com/saml/acs";
const SLO: &str = "https://sp.example.com/saml/slo";
/// acme and initech sign in at a multi-tenant IdP that signs for both with one key.
const ACME_IDP: &str = "https://idp.example.com/acme";
const INITECH_IDP: &str = "https://idp.example.com/initech";
const GLOBEX_IDP: &str = "https://sso.globex.example/idp";

const SHARED_IDP_CERT: &[u8] = include_bytes!("../crates/rampart-saml/tests/keys/idp.cert.pem");
const SHARED_IDP_KEY: &[u8] = include_bytes!("../crates/rampart-saml/tests/keys/idp.key.pem");
const GLOBEX_IDP_CERT: &[u8] = include_bytes!("fixtures/saml_sp/globex_idp.cert.pem");
const SP_CERT: &[u8] = include_bytes!("../crates/rampart-saml/tests/keys/sp.cert.pem");
const SP_KEY: &[u8] = include_bytes!("../crates/rampart-saml/tests/keys/sp.key.pem");
const TEMPLATE: &str = include_str!("../crates/rampart-saml/tests/fixtures/response.template.xml");
/// globex's IdP answering the request `GLOBEX_REQUEST`, its signed assertion encrypted.
const GLOBEX_RESPONSE: &str = include_str!("fixtures/saml_sp/globex_encrypted_response.xml");
const GLOBEX_REQUEST: &str = "_req0123456789abcdef0123456789abcdef";

fn main() -> Result<(), Box<dyn Error>> {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_893_456_060); // 2030-01-01T00:01Z
    let rt = tokio::runtime::Builder::new_current_thread().build()?;
    let replay_cache = MemoryReplayCache::new();

    // 1. One registry, a tenant per customer: its IdP's entity id and signing certificate
    //    (from the IdP's metadata in real life); globex's IdP encrypts, so that tenant also
    //    holds our decryption key.
    let registry = TenantRegistry::new();
    registry.insert("acme", tenant(ACME_IDP, SHARED_IDP_CERT)?.build()?);
    registry.insert("initech", tenant(INITECH_IDP, SHARED_IDP_CERT)?.build()?);
    let decryption_key = DecryptionKey::from_pkcs8_pem(SP_KEY, Certificate::from_pem(SP_CERT)?)?;
    let globex = tenant(GLOBEX_IDP, GLOBEX_IDP_CERT)?.with_decryption_key(decryption_key);
    registry.insert("globex", globex.build()?);
    println!("tenant acme: IdP {ACME_IDP}");
    println!("tenant initech: IdP {INITECH_IDP} (signs with the same key as acme's)");
    println!("tenant globex: IdP {GLOBEX_IDP} (encrypts its assertions for us)");

    // 2. "Sign in with SSO": a signed redirect to the tenant's IdP; the request id is
    //    remembered with the tenant that sent it (memory here; Redis or SQL across replicas).
    let ids = TenantRequestIds::new(MemoryRequestIds::new());
    let mut sessions = Vec::new();
    for name in ["acme", "globex"] {
        let sp = registry.get(name).ok_or("tenant not configured")?;
        let sso = sp
            .identity_provider()
            .sso_redirect_url()
            .ok_or("no sso url")?;
        let request = sp.authn_request(sso).build(now)?;
        let url = request.redirect_url(&sp, Some("/dashboard"))?;
        rt.block_on(ids.remember(name, request.id(), now + Duration::from_secs(600), now))?;
        println!("{name}: redirect to {}...", &url[..url.len().min(72)]);
        println!("{name}: request {} remembered in the session", request.id());
        sessions.push(request.id().to_owned());
    }

    // 3. acme's IdP POSTs a signed response to the ACS: the session's request id finds the
    //    tenant that issued it (and is consumed), then acme's configuration validates it.
    let acme_session = &sessions[0];
    let acme_response = shared_idp_response(ACME_IDP, acme_session)?;
    let at_acs = rt.block_on(registry.validate_at_shared_acs(
        acme_response.as_bytes(),
        acme_session,
        &ids,
        now,
    ))?;
    assert_eq!(at_acs.tenant, "acme");
    let login = at_acs.response.check_replay_in_memory(&replay_cache)?;
    let session_index = login.session_index.clone().ok_or("no session index")?;
    assert_eq!(login.issuer, ACME_IDP);
    assert_eq!(login.name_id.value, "alice@example.com");
    println!(
        "acme: logged in {} (session {session_index})",
        login.name_id.value
    );
    let again = rt.block_on(registry.validate_at_shared_acs(
        acme_response.as_bytes(),
        acme_session,
        &ids,
        now,
    ));
    assert_eq!(again.err().map(|e| e.kind()), Some("request_not_issued"));
    println!("acme's response posted again: refused, its request id was consumed");

    // 4. The same response offered to other tenants (say by a RelayState naming them, even
    //    with the request id it answers) is refused: globex's IdP did not sign it, and
    //    initech's IdP entity id is pinned although its IdP signs with the same key.
    for (name, expected_kind) in [("globex", "untrusted_key"), ("initech", "issuer_mismatch")] {
        let e = registry
            .validate_response(
                name,
                acme_response.as_bytes(),
                Expected::Request(acme_session),
                now,
            )
            .err()
            .ok_or("another tenant accepted acme's response")?;
        let why = e
            .response_error()
            .map_or(e.to_string(), ToString::to_string);
        println!("acme's response at {name}: refused, {why}");
        assert_eq!(e.kind(), expected_kind);
    }

    // 5. globex's login: the committed response answers the request GLOBEX_REQUEST (the
    //    fixture was made for it), so the session holds that id; the EncryptedAssertion is
    //    decrypted with our key, then validated like a plain one.
    rt.block_on(ids.remember(
        "globex",
        GLOBEX_REQUEST,
        now + Duration::from_secs(600),
        now,
    ))?;
    let at_acs = rt.block_on(registry.validate_at_shared_acs(
        GLOBEX_RESPONSE.as_bytes(),
        GLOBEX_REQUEST,
        &ids,
        now,
    ))?;
    assert_eq!(at_acs.tenant, "globex");
    let globex_login = at_acs.response.check_replay_in_memory(&replay_cache)?;
    assert_eq!(globex_login.issuer, GLOBEX_IDP);
    assert_eq!(globex_login.name_id.value, "alice@example.com");
    // The subject travelled only inside the ciphertext.
    assert!(GLOBEX_RESPONSE.contains("<saml:EncryptedAssertion>"));
    assert!(!GLOBEX_RESPONSE.contains("alice@example.com"));
    println!(
        "globex: decrypted the assertion and logged in {}",
        globex_login.name_id.value
    );

    // 6. acme's user signs out (SP-initiated logout): a LogoutRequest for the login's NameID
    //    and SessionIndex, signed over the redirect query with our signing key.
    let acme = registry.get("acme").ok_or("tenant not configured")?;
    let slo = acme.single_logout(SLO);
    let request = slo
        .logout_request(format!("{ACME_IDP}/slo"), login.name_id.clone())
        .with_session_index(session_index)
        .build(now)?;
    let url = request.redirect_url(&acme, None)?;
    assert!(url.contains("&SigAlg=") && url.contains("&Signature="));
    let expires = now + Duration::from_secs(600);
    rt.block_on(ids.remember("acme", request.id(), expires, now))?;
    println!("acme: logout redirect to {}...", &url[..url.len().min(72)]);

    // 7. The IdP answers with a signed LogoutResponse (HTTP-POST here): the logout request id
    //    is consumed, then the response is verified, names our request and reports success,
    //    so the session ends.
    let logout_response = shared_idp_logout_response(ACME_IDP, request.id())?;
    assert!(rt.block_on(ids.consume("acme", request.id(), now))?); // accepted once
    let outcome =
        slo.validate_logout_response_post(logout_response.as_bytes(), request.id(), now)?;
    assert_eq!(outcome.in_response_to, request.id());
    assert!(!outcome.partial);
    println!(
        "acme: the IdP confirmed the logout of request {}",
        outcome.in_response_to
    );
    Ok(())
}

/// A tenant's SP configuration: our entity id, ACS and signing key; its IdP.
fn tenant(
    idp_entity: &str,
    idp_cert: &[u8],
) -> Result<ServiceProviderBuilder<IdentityProvider>, Box<dyn Error>> {
    let idp = IdentityProvider::new(idp_entity, [Certificate::from_pem(idp_cert)?])?
        .with_sso_redirect_url(format!("{idp_entity}/sso"));
    let key =
        SigningKey::from_pkcs8_pem(SP_KEY)?.with_certificate(Certificate::from_pem(SP_CERT)?)?;
    Ok(ServiceProvider::builder(SP_ENTITY, ACS)
        .identity_provider(idp)
        .with_signing_key(key))
}

/// What the shared IdP POSTs for the tenant `idp_entity`: the tests' response template (times
/// around 2030-01-01T00:00Z) answering `request_id`, its assertion signed with the IdP key.
fn shared_idp_response(idp_entity: &str, request_id: &str) -> Result<String, Box<dyn Error>> {
    let xml = TEMPLATE
        .replace("@RESPONSE_SIG@", "")
        .replace("@ASSERTION_SIG@", "")
        .replace("https://idp.example.com/metadata", idp_entity)
        .replace("_req0123456789abcdef0123456789abcdef", request_id);
    let signed = shared_idp_sign(&xml, "_a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b")?;
    Ok(STANDARD.encode(signed))
}

/// The shared IdP's LogoutResponse (status Success) to our LogoutRequest `request_id`.
fn shared_idp_logout_response(
    idp_entity: &str,
    request_id: &str,
) -> Result<String, Box<dyn Error>> {
    let xml = format!(
        r#"<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_lr1" Version="2.0" IssueInstant="2030-01-01T00:01:00Z" Destination="{SLO}" InResponseTo="{request_id}"><saml:Issuer>{idp_entity}</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status></samlp:LogoutResponse>"#
    );
    Ok(STANDARD.encode(shared_idp_sign(&xml, "_lr1")?))
}

/// An enveloped signature (RSA-SHA256, exclusive c14n) over the element with ID `id`, placed
/// after its Issuer, by the shared IdP's key.
fn shared_idp_sign(xml: &str, id: &str) -> Result<Vec<u8>, Box<dyn Error>> {
    let key = SigningKey::from_pkcs8_pem(SHARED_IDP_KEY)?;
    let options = rampart_xmldsig::SignOptions::new()
        .with_placement(rampart_saml::signature_placement())
        .with_certificate_der(Certificate::from_pem(SHARED_IDP_CERT)?.der());
    Ok(rampart_xmldsig::sign_enveloped_with(
        xml.as_bytes(),
        id,
        &key,
        &options,
    )?)
}
