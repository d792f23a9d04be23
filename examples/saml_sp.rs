//! A minimal SAML service provider flow with the test IdP key kept in the repository:
//! build the redirect that starts a login, let the (test) IdP answer with a signed response,
//! validate it, and print the login.
//!
//! `cargo run -p rampart --no-default-features --features saml --example saml_sp`
//!
//! The IdP half (signing a response) stands in for Okta, Entra ID or Keycloak: in a real
//! service only the SP half exists, and the response arrives as the `SAMLResponse` form field
//! POSTed to the ACS URL.

use std::error::Error;
use std::time::SystemTime;

use base64::Engine as _;
use rampart_saml::{
    Certificate, Expected, IdentityProvider, MemoryReplayCache, ServiceProvider, Trace,
};

const IDP_CERT: &[u8] = include_bytes!("../crates/rampart-saml/tests/keys/idp.cert.pem");
const IDP_KEY: &[u8] = include_bytes!("../crates/rampart-saml/tests/keys/idp.key.pem");
const TEMPLATE: &str = include_str!("../crates/rampart-saml/tests/fixtures/response.template.xml");

fn main() -> Result<(), Box<dyn Error>> {
    // 1. Configuration: our entity id and ACS URL, the IdP's entity id and signing certificate
    //    (from its metadata in real life: rampart_saml::IdpMetadata::parse).
    let idp = IdentityProvider::new(
        "https://idp.example.com/metadata",
        [Certificate::from_pem(IDP_CERT)?],
    )?
    .with_sso_redirect_url("https://idp.example.com/sso");
    let sp = ServiceProvider::builder(
        "https://sp.example.com/metadata",
        "https://sp.example.com/saml/acs",
    )
    .identity_provider(idp)
    .build()?;

    // 2. The user clicks "Sign in with SSO": redirect them to the IdP, keep the request id.
    let now = SystemTime::now();
    let request = sp.authn_request("https://idp.example.com/sso").build(now)?;
    let url = request.redirect_url(&sp, Some("/dashboard"))?;
    println!(
        "redirect the browser to:\n  {}...\n",
        &url[..url.len().min(120)]
    );
    println!("remember in the session: request id {}\n", request.id());

    // 3. The IdP authenticates the user and POSTs back a signed response (simulated here).
    let saml_response = test_idp_response(request.id(), now)?;

    // 4. The ACS endpoint validates it and records the assertion against replay.
    let replay_cache = MemoryReplayCache::new();
    let mut trace = Trace::default();
    let login = sp
        .validate_response_explained(
            saml_response.as_bytes(),
            Expected::Request(request.id()),
            now,
            &mut trace,
        )?
        .check_replay_in_memory(&replay_cache)?;
    println!("checks made:\n{trace}");
    println!(
        "logged in: {} (format {:?})",
        login.name_id.value, login.name_id.format
    );
    println!("session index: {:?}", login.session_index);
    for a in &login.attributes {
        println!(
            "  {} = {:?}",
            a.friendly_name.as_deref().unwrap_or(&a.name),
            a.values.iter().take(3).collect::<Vec<_>>()
        );
    }
    println!(
        "\nas stored in a session (serde, a LoginRecord): {}",
        serde_json::to_string(&login.to_record())?
            .chars()
            .take(160)
            .collect::<String>()
            + "..."
    );

    // 5. The same response again is a replay.
    let again = sp
        .validate_response(
            saml_response.as_bytes(),
            Expected::Request(request.id()),
            now,
        )?
        .check_replay_in_memory(&replay_cache);
    // A second acceptance would be a replay hole: fail the example (non-zero exit).
    match again {
        Ok(_) => Err("posting it a second time was accepted: replay protection failed".into()),
        Err(e) => {
            println!("\nposting it a second time: {e}");
            Ok(())
        }
    }
}

/// What the test IdP would POST: the fixture template with current times and our request id,
/// the assertion signed (RSA-SHA256, exclusive c14n) with the test IdP key, base64-encoded.
fn test_idp_response(request_id: &str, now: SystemTime) -> Result<String, Box<dyn Error>> {
    let at = |offset: i64| -> Result<String, Box<dyn Error>> {
        let t = time::OffsetDateTime::from(now).replace_nanosecond(0)?
            + time::Duration::seconds(offset);
        Ok(t.format(&time::format_description::well_known::Rfc3339)?)
    };
    let xml = TEMPLATE
        .replace("@RESPONSE_SIG@", "")
        .replace("@ASSERTION_SIG@", "")
        .replace("_req0123456789abcdef0123456789abcdef", request_id)
        .replace("2030-01-01T00:00:00Z", &at(0)?)
        .replace("2029-12-31T23:59:00Z", &at(-60)?)
        .replace("2030-01-01T00:05:00Z", &at(300)?)
        .replace("2029-12-31T23:58:00Z", &at(-120)?)
        .replace("2030-01-01T08:00:00Z", &at(8 * 3600)?);
    let key = rampart_xmldsig::SigningKey::from_pkcs8_pem(IDP_KEY)?;
    let cert = Certificate::from_pem(IDP_CERT)?;
    let options = rampart_xmldsig::SignOptions::new()
        .with_placement(rampart_saml::signature_placement())
        .with_certificate_der(cert.der());
    let signed = rampart_xmldsig::sign_enveloped_with(
        xml.as_bytes(),
        "_a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b",
        &key,
        &options,
    )?;
    Ok(base64::engine::general_purpose::STANDARD.encode(signed))
}
