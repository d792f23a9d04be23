//! Signing: placements, key types, errors; and RSA-PSS verification (xmlsec1 1.2 cannot
//! sign PSS, so the PSS signature is made here with ring over our SignedInfo).

use base64::Engine as _;
use rampart_xmldsig::{
    C14nAlgorithm, Canonicalizer, DSIG_NS, Document, Error, Placement, SignError, SignOptions,
    SignatureAlgorithm, SignatureError, SigningKey, TrustedKey, VerifyOptions, sign_enveloped,
    sign_enveloped_with, verify,
};

const SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const REQUEST: &str = r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_req1" Version="2.0" IssueInstant="2026-01-01T00:00:00Z"><saml:Issuer>https://sp.example.com</saml:Issuer><samlp:NameIDPolicy AllowCreate="true"/></samlp:AuthnRequest>"#;

fn vector(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/vectors/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn signing(name: &str) -> SigningKey {
    SigningKey::from_pkcs8_pem(&vector(&format!("{name}.key"))).unwrap()
}

fn options(name: &str) -> VerifyOptions {
    VerifyOptions::new(vec![
        TrustedKey::from_pem_certificate(&vector(&format!("{name}.crt"))).unwrap(),
    ])
}

/// Where SAML puts the signature: after a leading `saml:Issuer`, else first.
fn after_saml_issuer() -> SignOptions {
    SignOptions::new().with_placement(Placement::AfterLeading {
        namespace: SAML.into(),
        local: "Issuer".into(),
    })
}

fn child_names(doc: &Document) -> Vec<String> {
    doc.root()
        .children()
        .map(|c| c.local_name().to_owned())
        .collect()
}

fn verify_root_signature(xml: &[u8], opts: &VerifyOptions) -> Result<SignatureAlgorithm, Error> {
    let doc = Document::parse(xml)?;
    let sig = doc
        .root()
        .children_named(DSIG_NS, "Signature")
        .next()
        .expect("signature child");
    let v = verify(&doc, sig, opts)?;
    assert!(v.signed().is_element(doc.root()));
    Ok(v.signature_algorithm())
}

#[test]
fn rsa_signature_goes_after_the_saml_issuer_and_verifies() {
    let signed = sign_enveloped_with(
        REQUEST.as_bytes(),
        "_req1",
        &signing("rsa2048"),
        &after_saml_issuer(),
    )
    .unwrap();
    let doc = Document::parse(&signed).unwrap();
    assert_eq!(child_names(&doc), ["Issuer", "Signature", "NameIDPolicy"]);
    assert!(doc.root().children().next().unwrap().is(SAML, "Issuer"));
    assert_eq!(
        verify_root_signature(&signed, &options("rsa2048")).unwrap(),
        SignatureAlgorithm::RsaSha256
    );
}

#[test]
fn ecdsa_p256_signature_verifies() {
    let signed = sign_enveloped(REQUEST.as_bytes(), "_req1", &signing("ec-p256"), None).unwrap();
    assert_eq!(
        verify_root_signature(&signed, &options("ec-p256")).unwrap(),
        SignatureAlgorithm::EcdsaSha256
    );
}

#[test]
fn without_issuer_the_signature_is_the_first_child() {
    let xml = br#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" ID="_m" entityID="https://sp.example.com"><md:SPSSODescriptor/></md:EntityDescriptor>"#;
    let signed = sign_enveloped_with(xml, "_m", &signing("rsa2048"), &after_saml_issuer()).unwrap();
    let doc = Document::parse(&signed).unwrap();
    assert_eq!(child_names(&doc), ["Signature", "SPSSODescriptor"]);
    verify_root_signature(&signed, &options("rsa2048")).unwrap();
}

#[test]
fn empty_element_is_opened_to_hold_the_signature() {
    let signed = sign_enveloped(
        br#"<x:e xmlns:x="urn:x" ID="_e" a="/"/>"#,
        "_e",
        &signing("rsa2048"),
        None,
    )
    .unwrap();
    let doc = Document::parse(&signed).unwrap();
    assert_eq!(child_names(&doc), ["Signature"]);
    assert_eq!(doc.root().attribute("a"), Some("/"));
    verify_root_signature(&signed, &options("rsa2048")).unwrap();
}

#[test]
fn last_child_and_after_named_child_placements() {
    let key = signing("rsa2048");
    let last = sign_enveloped_with(
        REQUEST.as_bytes(),
        "_req1",
        &key,
        &SignOptions::new().with_placement(Placement::LastChild),
    )
    .unwrap();
    let doc = Document::parse(&last).unwrap();
    assert_eq!(child_names(&doc), ["Issuer", "NameIDPolicy", "Signature"]);
    let after = sign_enveloped_with(
        REQUEST.as_bytes(),
        "_req1",
        &key,
        &SignOptions::new().with_placement(Placement::After {
            namespace: "urn:oasis:names:tc:SAML:2.0:protocol".into(),
            local: "NameIDPolicy".into(),
        }),
    )
    .unwrap();
    assert_eq!(last, after);
    let missing = sign_enveloped_with(
        REQUEST.as_bytes(),
        "_req1",
        &key,
        &SignOptions::new().with_placement(Placement::After {
            namespace: "urn:x".into(),
            local: "Nope".into(),
        }),
    );
    assert!(matches!(
        missing,
        Err(Error::Sign(SignError::InsertionPoint(_)))
    ));
}

#[test]
fn certificate_goes_in_key_info() {
    let der = pem_body(&vector("rsa2048.crt"));
    let signed =
        sign_enveloped(REQUEST.as_bytes(), "_req1", &signing("rsa2048"), Some(&der)).unwrap();
    let doc = Document::parse(&signed).unwrap();
    let cert = doc
        .root()
        .descendants()
        .find(|e| e.is(DSIG_NS, "X509Certificate"))
        .unwrap()
        .text()
        .into_owned();
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(cert)
            .unwrap(),
        der
    );
    verify_root_signature(&signed, &options("rsa2048")).unwrap();
}

#[test]
fn nested_element_with_custom_id_attribute() {
    let xml = br#"<root xmlns="urn:d"><item Id="a1"><v>1</v></item><item Id="a2"/></root>"#;
    let signed = sign_enveloped_with(
        xml,
        "a1",
        &signing("rsa2048"),
        &SignOptions::new().with_id_attribute("Id"),
    )
    .unwrap();
    let doc = Document::parse(&signed).unwrap();
    let item = doc.root().children().next().unwrap();
    let sig = item.children_named(DSIG_NS, "Signature").next().unwrap();
    let v = verify(&doc, sig, &options("rsa2048").with_id_attribute("Id")).unwrap();
    assert!(v.signed().is_element(item));
}

#[test]
fn signing_a_missing_id_fails() {
    let r = sign_enveloped(REQUEST.as_bytes(), "_nope", &signing("rsa2048"), None);
    assert_eq!(
        r.unwrap_err(),
        Error::Sign(SignError::IdNotFound("_nope".into()))
    );
}

#[test]
fn signing_a_duplicate_id_fails() {
    let r = sign_enveloped(
        br#"<a ID="x"><b ID="x"/></a>"#,
        "x",
        &signing("rsa2048"),
        None,
    );
    assert_eq!(
        r.unwrap_err(),
        Error::Sign(SignError::DuplicateId("x".into()))
    );
}

#[test]
fn signing_key_debug_is_redacted() {
    assert_eq!(
        format!("{:?}", signing("rsa2048")),
        "SigningKey([REDACTED])"
    );
}

#[test]
fn non_key_pem_is_rejected() {
    assert!(SigningKey::from_pkcs8_pem(&vector("rsa2048.crt")).is_err());
    assert!(TrustedKey::from_pem_certificate(&vector("rsa2048.key")).is_err());
    assert!(TrustedKey::from_der_certificate(b"not der").is_err());
}

fn pem_body(pem: &[u8]) -> Vec<u8> {
    let s = std::str::from_utf8(pem).unwrap();
    let b64: String = s.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap()
}

/// Rewrites our RSA-SHA256 signature into RSA-PSS-SHA256 (RFC 6931 sha256-rsa-MGF1), signed
/// with ring, and returns the document.
fn pss_signed(uri: &str, pss: &'static dyn ring::signature::RsaEncoding) -> Vec<u8> {
    let signed = sign_enveloped(REQUEST.as_bytes(), "_req1", &signing("rsa2048"), None).unwrap();
    let s = String::from_utf8(signed)
        .unwrap()
        .replace("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", uri);
    let doc = Document::parse(s.as_bytes()).unwrap();
    let sig = doc
        .root()
        .children_named(DSIG_NS, "Signature")
        .next()
        .unwrap();
    let si = sig.children().next().unwrap();
    let si_bytes = Canonicalizer::new(C14nAlgorithm::Exclusive)
        .element(si)
        .unwrap();
    let pair = ring::signature::RsaKeyPair::from_pkcs8(&pem_body(&vector("rsa2048.key"))).unwrap();
    let mut value = vec![0; pair.public().modulus_len()];
    pair.sign(pss, &ring::rand::SystemRandom::new(), &si_bytes, &mut value)
        .unwrap();
    let old = sig.children().nth(1).unwrap().text().into_owned();
    s.replace(
        &old,
        &base64::engine::general_purpose::STANDARD.encode(value),
    )
    .into_bytes()
}

#[test]
fn rsa_pss_sha256_verifies() {
    let xml = pss_signed(
        "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1",
        &ring::signature::RSA_PSS_SHA256,
    );
    assert_eq!(
        verify_root_signature(&xml, &options("rsa2048")).unwrap(),
        SignatureAlgorithm::RsaPssSha256
    );
}

#[test]
fn rsa_pss_sha384_verifies() {
    let xml = pss_signed(
        "http://www.w3.org/2007/05/xmldsig-more#sha384-rsa-MGF1",
        &ring::signature::RSA_PSS_SHA384,
    );
    assert_eq!(
        verify_root_signature(&xml, &options("rsa2048")).unwrap(),
        SignatureAlgorithm::RsaPssSha384
    );
}

#[test]
fn rsa_pss_sha512_verifies() {
    let xml = pss_signed(
        "http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1",
        &ring::signature::RSA_PSS_SHA512,
    );
    assert_eq!(
        verify_root_signature(&xml, &options("rsa2048")).unwrap(),
        SignatureAlgorithm::RsaPssSha512
    );
}

#[test]
fn pss_signature_under_a_pkcs1_uri_is_rejected() {
    // Algorithm confusion: the value is PSS, the URI claims PKCS#1 v1.5.
    let xml = pss_signed(
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        &ring::signature::RSA_PSS_SHA256,
    );
    match verify_root_signature(&xml, &options("rsa2048")) {
        Err(Error::Signature { reason, .. }) => {
            assert_eq!(reason, SignatureError::SignatureInvalid);
        }
        other => panic!("expected rejection, got {other:?}"),
    }
}

#[test]
fn ecdsa_signature_with_rsa_key_is_rejected() {
    let signed = sign_enveloped(REQUEST.as_bytes(), "_req1", &signing("ec-p256"), None).unwrap();
    match verify_root_signature(&signed, &options("rsa2048")) {
        Err(Error::Signature { reason, .. }) => {
            assert_eq!(reason, SignatureError::SignatureInvalid);
        }
        other => panic!("expected rejection, got {other:?}"),
    }
}
