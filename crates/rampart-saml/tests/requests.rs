//! AuthnRequests: HTTP-Redirect (deflate, base64, URL-encoding, RelayState, SigAlg and
//! Signature over the query string in SAML bindings 3.4.4.1 order) and HTTP-POST (enveloped
//! signature, auto-submitting form with escaping).

mod common;

use std::io::Read as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::*;
use rampart_saml::{
    AuthnContextComparison, IdentityProvider, ServiceProvider, SigningKey, name_id_format,
};
use rampart_xmldsig::{DSIG_NS, Document, TrustedKey, VerifyOptions, verify};

const IDP_SSO: &str = "https://idp.example.com/sso?tenant=acme";

fn signing_sp() -> ServiceProvider {
    let key = SigningKey::from_pkcs8_pem(&read("keys/sp.key.pem"))
        .unwrap()
        .with_certificate(rampart_saml::Certificate::from_pem(&read("keys/sp.cert.pem")).unwrap())
        .unwrap();
    builder()
        .with_signing_key(key)
        .with_name_id_format(name_id_format::EMAIL)
        .build()
        .unwrap()
}

/// Splits a query string into raw (still URL-encoded) name/value pairs, in order.
fn pairs(query: &str) -> Vec<(&str, &str)> {
    query
        .split('&')
        .map(|p| p.split_once('=').unwrap())
        .collect()
}

fn url_decode(s: &str) -> String {
    percent_decode(s)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn inflate(b64: &str) -> String {
    let raw = STANDARD.decode(b64).unwrap();
    let mut s = String::new();
    flate2::read::DeflateDecoder::new(&raw[..])
        .read_to_string(&mut s)
        .unwrap();
    s
}

#[test]
fn redirect_url_is_deflated_signed_in_bindings_order() {
    let sp = signing_sp();
    let req = sp.authn_request(IDP_SSO).build(now()).unwrap();
    let url = req.redirect_url(&sp, Some("/after login?x=1&y=2")).unwrap();
    // The destination's own query is kept and ours appended with '&'.
    let query = url
        .strip_prefix("https://idp.example.com/sso?tenant=acme&")
        .unwrap();
    let p = pairs(query);
    let names: Vec<&str> = p.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["SAMLRequest", "RelayState", "SigAlg", "Signature"]);
    let xml = inflate(&url_decode(p[0].1));
    assert_eq!(xml, req.xml());
    assert_eq!(url_decode(p[1].1), "/after login?x=1&y=2");
    assert_eq!(
        url_decode(p[2].1),
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    );
    // Signature over "SAMLRequest=..&RelayState=..&SigAlg=.." exactly as sent (3.4.4.1).
    let signed = &query.as_bytes()[..query.find("&Signature=").unwrap()];
    let sig = STANDARD.decode(url_decode(p[3].1)).unwrap();
    let cert = read("keys/sp.cert.pem");
    let pem = x509_parser::pem::parse_x509_pem(&cert).unwrap().1;
    let x509 = pem.parse_x509().unwrap();
    let spki = x509.public_key().subject_public_key.data.to_vec();
    ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, spki)
        .verify(signed, &sig)
        .unwrap();
    // Any change to the signed part breaks the signature.
    let mut tampered = signed.to_vec();
    tampered[20] ^= 1;
    let spki = x509.public_key().subject_public_key.data.to_vec();
    assert!(
        ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, spki)
            .verify(&tampered, &sig)
            .is_err()
    );
}

#[test]
fn unsigned_redirect_has_no_sigalg() {
    let sp = sp();
    let req = sp
        .authn_request("https://idp.example.com/sso")
        .build(now())
        .unwrap();
    let url = req.redirect_url(&sp, None).unwrap();
    let query = url.strip_prefix("https://idp.example.com/sso?").unwrap();
    let names: Vec<&str> = pairs(query).iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["SAMLRequest"]);
}

#[test]
fn request_carries_policy_elements() {
    let sp = signing_sp();
    let req = sp
        .authn_request(IDP_SSO)
        .with_force_authn(true)
        .with_is_passive(true)
        .with_name_id_policy(name_id_format::PERSISTENT, false)
        .requested_authn_context(
            AuthnContextComparison::Minimum,
            ["urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"],
        )
        .build(now())
        .unwrap();
    let doc = Document::parse(req.xml().as_bytes()).unwrap();
    let root = doc.root();
    assert!(root.is("urn:oasis:names:tc:SAML:2.0:protocol", "AuthnRequest"));
    assert_eq!(root.attribute("ID"), Some(req.id()));
    assert_eq!(root.attribute("Destination"), Some(IDP_SSO));
    assert_eq!(root.attribute("AssertionConsumerServiceURL"), Some(ACS));
    assert_eq!(root.attribute("ForceAuthn"), Some("true"));
    assert_eq!(root.attribute("IsPassive"), Some("true"));
    assert_eq!(root.attribute("IssueInstant"), Some("2030-01-01T00:01:00Z"));
    let kids: Vec<_> = root.children().collect();
    assert_eq!(kids[0].local_name(), "Issuer");
    assert_eq!(kids[0].text(), SP_ENTITY);
    assert_eq!(kids[1].local_name(), "NameIDPolicy");
    assert_eq!(
        kids[1].attribute("Format"),
        Some(name_id_format::PERSISTENT)
    );
    assert_eq!(kids[1].attribute("AllowCreate"), Some("false"));
    assert_eq!(kids[2].local_name(), "RequestedAuthnContext");
    assert_eq!(kids[2].attribute("Comparison"), Some("minimum"));
}

#[test]
fn request_ids_are_random_ncnames() {
    let sp = sp();
    let a = sp.authn_request(IDP_SSO).build(now()).unwrap();
    let b = sp.authn_request(IDP_SSO).build(now()).unwrap();
    assert_ne!(a.id(), b.id());
    assert_eq!(a.id().len(), 33);
    assert!(a.id().starts_with('_'));
    assert!(a.id()[1..].bytes().all(|c| c.is_ascii_hexdigit()));
}

#[test]
fn relay_state_over_80_bytes_is_refused() {
    let sp = sp();
    let req = sp.authn_request(IDP_SSO).build(now()).unwrap();
    let long = "x".repeat(81);
    assert_eq!(
        req.redirect_url(&sp, Some(&long)).unwrap_err().kind(),
        "config"
    );
    assert_eq!(
        req.post_form(&sp, Some(&long)).unwrap_err().kind(),
        "config"
    );
}

#[test]
fn post_form_is_signed_enveloped_and_escaped() {
    let sp = signing_sp();
    let req = sp
        .authn_request("https://idp.example.com/sso?a=1&b=\"2\"")
        .build(now())
        .unwrap();
    let form = req
        .post_form(&sp, Some("<script>alert(1)</script>\""))
        .unwrap();
    assert!(
        form.html
            .contains("action=\"https://idp.example.com/sso?a=1&amp;b=&quot;2&quot;\"")
    );
    assert!(
        form.html
            .contains("value=\"&lt;script&gt;alert(1)&lt;/script&gt;&quot;\"")
    );
    assert!(!form.html.contains("<script>alert"));
    assert!(form.html.contains("document.forms[0].submit()"));
    assert!(form.html.contains(&format!(
        "name=\"SAMLRequest\" value=\"{}\"",
        form.saml_request
    )));
    // The posted XML carries a valid enveloped signature over the request, by our key.
    let xml = STANDARD.decode(&form.saml_request).unwrap();
    let doc = Document::parse(&xml).unwrap();
    let sig = doc
        .root()
        .children_named(DSIG_NS, "Signature")
        .next()
        .expect("signed");
    let key = TrustedKey::from_pem_certificate(&read("keys/sp.cert.pem")).unwrap();
    let v = verify(&doc, sig, &VerifyOptions::new(vec![key])).unwrap();
    assert!(v.signed().is_element(doc.root()));
    assert_eq!(doc.root().attribute("ID"), Some(req.id()));
}

#[test]
fn post_form_signature_verifies_with_xmlsec1() {
    if !rampart_testkit::tool::available("xmlsec1") {
        return;
    }
    let sp = signing_sp();
    let req = sp.authn_request(IDP_SSO).build(now()).unwrap();
    let form = req.post_form(&sp, None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("req.xml");
    std::fs::write(&path, STANDARD.decode(&form.saml_request).unwrap()).unwrap();
    rampart_testkit::tool::run(
        std::process::Command::new("xmlsec1")
            .args(["--verify", "--pubkey-cert-pem"])
            .arg(dir_file("keys/sp.cert.pem"))
            .args([
                "--id-attr:ID",
                "urn:oasis:names:tc:SAML:2.0:protocol:AuthnRequest",
            ])
            .arg(&path),
    );
}

fn dir_file(rel: &str) -> std::path::PathBuf {
    common::dir().join(rel)
}

#[test]
fn signing_key_refuses_mismatched_certificate_and_hides_itself() {
    let e = SigningKey::from_pkcs8_pem(&read("keys/sp.key.pem"))
        .unwrap()
        .with_certificate(rampart_saml::Certificate::from_pem(&read("keys/idp.cert.pem")).unwrap())
        .unwrap_err();
    assert_eq!(e.kind(), "certificate_mismatch");
    let key = SigningKey::from_pkcs8_pem(&read("keys/sp.key.pem"))
        .unwrap()
        .with_certificate(rampart_saml::Certificate::from_pem(&read("keys/sp.cert.pem")).unwrap())
        .unwrap();
    let dbg = format!("{key:?}");
    assert!(dbg.contains("[REDACTED]"));
    assert!(!dbg.contains("MII"));
}

#[test]
fn builder_requires_idp_keys_and_checks_values() {
    assert_eq!(
        IdentityProvider::new(IDP_ENTITY, []).unwrap_err().kind(),
        "config"
    );
    assert_eq!(
        IdentityProvider::new(" ", [cert("keys/idp.cert.pem")])
            .unwrap_err()
            .kind(),
        "config"
    );
    let idp = IdentityProvider::new(IDP_ENTITY, [cert("keys/idp.cert.pem")]).unwrap();
    assert!(
        ServiceProvider::builder("", ACS)
            .identity_provider(idp.clone())
            .build()
            .is_err()
    );
    assert!(
        ServiceProvider::builder(SP_ENTITY, "")
            .identity_provider(idp.clone())
            .build()
            .is_err()
    );
    assert!(
        ServiceProvider::builder(SP_ENTITY, ACS)
            .identity_provider(idp)
            .with_clock_skew(std::time::Duration::from_secs(3600))
            .build()
            .is_err()
    );
    let sp = sp();
    assert_eq!(sp.clock_skew(), rampart_saml::DEFAULT_CLOCK_SKEW);
    assert_eq!(sp.algorithms(), rampart_saml::Algorithms::default());
}
