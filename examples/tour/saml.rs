//! Tour stop: rampart-saml, a SAML 2.0 service provider that cannot be fooled.

use std::error::Error;
use std::time::SystemTime;

use base64::Engine as _;
use rampart_saml::{
    Certificate, Expected, IdentityProvider, MemoryReplayCache, ServiceProvider, Trace,
};

const IDP_CERT: &[u8] = include_bytes!("../../crates/rampart-saml/tests/keys/idp.cert.pem");
const IDP_KEY: &[u8] = include_bytes!("../../crates/rampart-saml/tests/keys/idp.key.pem");
const TEMPLATE: &str =
    include_str!("../../crates/rampart-saml/tests/fixtures/response.template.xml");
const ASSERTION_ID: &str = "_a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b";

pub(crate) fn run() -> Result<(), Box<dyn Error>> {
    println!("== rampart-saml: SAML 2.0 service provider");
    let idp = IdentityProvider::new(
        "https://idp.example.com/metadata",
        [Certificate::from_pem(IDP_CERT)?],
    )?;
    let sp = ServiceProvider::builder(
        "https://sp.example.com/metadata",
        "https://sp.example.com/saml/acs",
    )
    .identity_provider(idp)
    .build()?;
    println!(
        "   SP configured: audience {}, clock skew {} s; IdP-initiated logins refused",
        sp.entity_id(),
        sp.clock_skew().as_secs()
    );
    println!(
        "   SP metadata for the IdP admin: {} bytes of XML",
        sp.metadata_xml().len()
    );

    let now = SystemTime::now();
    let request = sp
        .authn_request("https://idp.example.com/sso")
        .with_force_authn(true)
        .build(now)?;
    let url = request.redirect_url(&sp, None)?;
    println!(
        "   AuthnRequest {} -> redirect URL of {} bytes (deflated, base64, URL-encoded)",
        request.id(),
        url.len()
    );

    let response = signed_response(request.id(), now)?;
    let mut trace = Trace::default();
    let cache = MemoryReplayCache::new();
    let login = sp
        .validate_response_explained(
            response.as_bytes(),
            Expected::Request(request.id()),
            now,
            &mut trace,
        )?
        .check_replay_in_memory(&cache)?;
    println!(
        "   response validated in {} checks; logged in as {}",
        trace.steps.len(),
        login.name_id.value
    );
    for s in trace
        .steps
        .iter()
        .filter(|s| s.check.starts_with("signature") || s.check == "conditions")
    {
        println!("     {}: {}", s.check, s.detail);
    }

    // The attacks it refuses, each with its stable error kind.
    let xml = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(&response)?)?;
    let tampered = xml.replace(
        ">alice@example.com</saml:NameID>",
        ">admin@example.com</saml:NameID>",
    );
    let doctype = format!(
        "<!DOCTYPE x [<!ENTITY e 'boom'>]>{}",
        &xml[xml.find("<samlp:Response").unwrap_or(0)..]
    );
    // Each must be refused: an acceptance ends the tour with an error (CI runs it).
    let refused = |label: &str, r: Result<(), rampart_saml::Error>| -> Result<(), Box<dyn Error>> {
        match r {
            Ok(()) => Err(format!("{label}: accepted, but it must be refused").into()),
            Err(e) => {
                println!("   {label}: refused ({})", e.kind());
                Ok(())
            }
        }
    };
    let try_one = |label: &str, input: &str| -> Result<(), Box<dyn Error>> {
        let r = sp.validate_response(input.as_bytes(), Expected::Request(request.id()), now);
        refused(label, r.map(|_| ()))
    };
    try_one("NameID changed after signing", &tampered)?;
    try_one("DOCTYPE with an entity", &doctype)?;
    let other = sp.validate_response(
        response.as_bytes(),
        Expected::Request("_some_other_request"),
        now,
    );
    refused("answer to another request", other.map(|_| ()))?;
    let replay = sp
        .validate_response(response.as_bytes(), Expected::Request(request.id()), now)?
        .check_replay_in_memory(&cache);
    refused("same response twice", replay.map(|_| ()))?;
    Ok(())
}

/// What the test IdP would POST: the fixture template with current times, signed.
fn signed_response(request_id: &str, now: SystemTime) -> Result<String, Box<dyn Error>> {
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
    let options =
        rampart_xmldsig::SignOptions::new().with_placement(rampart_saml::signature_placement());
    let signed =
        rampart_xmldsig::sign_enveloped_with(xml.as_bytes(), ASSERTION_ID, &key, &options)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(signed))
}
