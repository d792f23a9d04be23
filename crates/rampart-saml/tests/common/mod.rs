//! Shared helpers for the integration tests: the test IdP/SP of `tests/fixtures/` and times.
#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;
use std::time::SystemTime;

use rampart_saml::{
    Certificate, Expected, IdentityProvider, ServiceProvider, ServiceProviderBuilder,
};

pub const SP_ENTITY: &str = "https://sp.example.com/metadata";
pub const ACS: &str = "https://sp.example.com/saml/acs";
pub const IDP_ENTITY: &str = "https://idp.example.com/metadata";
pub const REQUEST_ID: &str = "_req0123456789abcdef0123456789abcdef";
pub const RESPONSE_ID: &str = "_r1f3c0d9a8b7e6f5a4b3c2d1e0f9a8b7c";
pub const ASSERTION_ID: &str = "_a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b";

pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests")
}

pub fn read(rel: &str) -> Vec<u8> {
    std::fs::read(dir().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

pub fn fixture(name: &str) -> String {
    String::from_utf8(read(&format!("fixtures/{name}"))).unwrap()
}

pub fn cert(rel: &str) -> Certificate {
    Certificate::from_pem(&read(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// An xs:dateTime as a SystemTime.
pub fn at(s: &str) -> SystemTime {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).unwrap();
    SystemTime::from(t)
}

/// Inside the fixtures' validity window.
pub fn now() -> SystemTime {
    at("2030-01-01T00:01:00Z")
}

pub fn builder() -> ServiceProviderBuilder<IdentityProvider> {
    ServiceProvider::builder(SP_ENTITY, ACS)
        .identity_provider(IdentityProvider::new(IDP_ENTITY, [cert("keys/idp.cert.pem")]).unwrap())
}

pub fn sp() -> ServiceProvider {
    builder().build().unwrap()
}

pub fn expected() -> Expected<'static> {
    Expected::Request(REQUEST_ID)
}

/// Replaces exactly one occurrence of `from` (panics otherwise, so a mutation cannot silently
/// do nothing).
pub fn replace_once(s: &str, from: &str, to: &str) -> String {
    assert_eq!(s.matches(from).count(), 1, "expected one {from:?}");
    s.replacen(from, to, 1)
}

/// The `<saml:Assertion ...>...</saml:Assertion>` element text.
pub fn assertion_text(xml: &str) -> &str {
    let start = xml.find("<saml:Assertion").unwrap();
    let end = xml.rfind("</saml:Assertion>").unwrap() + "</saml:Assertion>".len();
    &xml[start..end]
}

/// The first `<ds:Signature ...>...</ds:Signature>` in `xml`.
pub fn signature_text(xml: &str) -> &str {
    let start = xml.find("<ds:Signature").unwrap();
    let end = start + xml[start..].find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
    &xml[start..end]
}

/// The unsigned response of `fixtures/response.template.xml` (no signatures).
pub fn unsigned_template() -> String {
    fixture("response.template.xml")
        .replace("@RESPONSE_SIG@", "")
        .replace("@ASSERTION_SIG@", "")
}

/// Signs the element with ID `id` in `xml` (enveloped, after its Issuer; RSA-SHA256, exc-c14n)
/// with `tests/keys/<key>.key.pem`, its certificate in KeyInfo. Lets a test change a value and
/// sign again, so the rule under test is the only one the document breaks.
pub fn sign_with(xml: &str, id: &str, key: &str) -> String {
    use rampart_xmldsig::{SignOptions, SigningKey, sign_enveloped_with};
    let k = SigningKey::from_pkcs8_pem(&read(&format!("keys/{key}.key.pem"))).unwrap();
    let c = cert(&format!("keys/{key}.cert.pem"));
    let options = SignOptions::new()
        .with_placement(rampart_saml::signature_placement())
        .with_certificate_der(c.der());
    String::from_utf8(sign_enveloped_with(xml.as_bytes(), id, &k, &options).unwrap()).unwrap()
}

/// `xml` with its assertion signed by the test IdP.
pub fn sign_assertion(xml: &str) -> String {
    sign_with(xml, ASSERTION_ID, "idp")
}

/// `xml` with its Response signed by the test IdP (sign the assertion first, if at all).
pub fn sign_response(xml: &str) -> String {
    sign_with(xml, RESPONSE_ID, "idp")
}

/// The enveloped signature template of `fixtures/sig.template.xml` (RSA-SHA256, SHA-256
/// digest, exclusive c14n) over the element with ID `id`, on one line, for `xmlsec1 --sign`.
pub fn sig_template(id: &str) -> String {
    fixture("sig.template.xml")
        .replace('\n', "")
        .replace("@ID@", id)
        .replace(
            "@SIGALG@",
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        )
        .replace("@DIGALG@", "http://www.w3.org/2001/04/xmlenc#sha256")
}

/// `unsigned` (carrying a [`sig_template`]) signed by `xmlsec1`, the third-party signer, with
/// `tests/keys/<key>.key.pem` and its certificate; `id_attr` is the `--id-attr:ID` element
/// (`namespace:LocalName`), `node_xpath` picks the template when there is more than one.
pub fn xmlsec1_sign(unsigned: &str, key: &str, id_attr: &str, node_xpath: Option<&str>) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in.xml");
    let output = tmp.path().join("out.xml");
    std::fs::write(&input, unsigned).unwrap();
    let k = dir().join(format!("keys/{key}.key.pem"));
    let c = dir().join(format!("keys/{key}.cert.pem"));
    let mut cmd = std::process::Command::new("xmlsec1");
    cmd.arg("--sign")
        .arg("--privkey-pem")
        .arg(format!("{},{}", k.display(), c.display()))
        .args(["--id-attr:ID", id_attr]);
    if let Some(xpath) = node_xpath {
        cmd.args(["--node-xpath", xpath]);
    }
    rampart_testkit::tool::run(cmd.arg("--output").arg(&output).arg(&input));
    std::fs::read_to_string(output).unwrap()
}

/// `template` (a response with `@ASSERTION_SIG@` where the assertion's signature goes, as in
/// `fixtures/response.template.xml`) with its assertion signed by `xmlsec1`, the third-party
/// signer, with the test IdP key (RSA-SHA256, exclusive c14n), the way `fixtures/gen.sh`
/// signs the committed fixtures. Any `@RESPONSE_SIG@` is removed (response unsigned).
pub fn xmlsec1_sign_assertion(template: &str) -> String {
    let unsigned = template
        .replace("@RESPONSE_SIG@", "")
        .replace("@ASSERTION_SIG@", &sig_template(ASSERTION_ID));
    xmlsec1_sign(
        &unsigned,
        "idp",
        "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
        Some("/*/*[local-name()='Assertion']/*[local-name()='Signature']"),
    )
}
