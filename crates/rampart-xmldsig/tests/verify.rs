//! Verification: xmlsec1-signed fixtures verify; every tamper and attack shape is rejected,
//! one test per shape.

use rampart_xmldsig::{
    DSIG_NS, DigestAlgorithm, Document, Error, SignatureAlgorithm, SignatureError, SigningKey,
    TrustedKey, VerifyOptions, sign_enveloped, verify,
};

const SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";

fn vector(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/vectors/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn key(name: &str) -> TrustedKey {
    TrustedKey::from_pem_certificate(&vector(&format!("{name}.crt"))).unwrap()
}

fn options(name: &str) -> VerifyOptions {
    VerifyOptions::new(vec![key(name)])
}

/// The first ds:Signature of the document, wherever it is.
fn first_signature(doc: &Document) -> rampart_xmldsig::Element<'_> {
    doc.root()
        .descendants()
        .find(|e| e.is(DSIG_NS, "Signature"))
        .expect("a signature")
}

fn verify_bytes(xml: &[u8], options: &VerifyOptions) -> Result<(), Error> {
    let doc = Document::parse(xml)?;
    let sig = first_signature(&doc);
    verify(&doc, sig, options).map(|_| ())
}

fn reason(xml: &[u8], options: &VerifyOptions) -> SignatureError {
    match verify_bytes(xml, options) {
        Err(Error::Signature { reason, .. }) => reason,
        other => panic!("expected a signature error, got {other:?}"),
    }
}

fn replace(xml: &[u8], from: &str, to: &str) -> Vec<u8> {
    let s = std::str::from_utf8(xml).unwrap();
    assert!(s.contains(from), "fixture does not contain {from:?}");
    s.replacen(from, to, 1).into_bytes()
}

#[test]
fn xmlsec1_rsa_sha256_exclusive_with_prefix_list_verifies() {
    let xml = vector("xmlsec1-rsa-sha256.xml");
    let doc = Document::parse(&xml).unwrap();
    let sig = first_signature(&doc);
    let v = verify(&doc, sig, &options("rsa2048")).unwrap();
    assert_eq!(v.signature_algorithm(), SignatureAlgorithm::RsaSha256);
    assert_eq!(v.digest_algorithm(), DigestAlgorithm::Sha256);
    assert_eq!(v.key().subject(), "CN=idp.example.com");
    let signed = v.signed();
    assert!(signed.is(SAML, "Assertion"));
    assert!(signed.is_element(doc.root()));
    let name_id = signed.descendants().find(|e| e.is(SAML, "NameID")).unwrap();
    assert_eq!(name_id.text(), "alice@example.com");
}

#[test]
fn xmlsec1_rsa_sha512_inclusive_c14n_verifies() {
    verify_bytes(&vector("xmlsec1-rsa-sha512-c14n.xml"), &options("rsa2048")).unwrap();
}

#[test]
fn xmlsec1_rsa_sha384_with_comments_and_default_prefix_verifies() {
    verify_bytes(
        &vector("xmlsec1-rsa-sha384-comments.xml"),
        &options("rsa2048"),
    )
    .unwrap();
}

#[test]
fn xmlsec1_ecdsa_p256_verifies() {
    verify_bytes(&vector("xmlsec1-ecdsa-p256.xml"), &options("ec-p256")).unwrap();
}

#[test]
fn xmlsec1_ecdsa_p384_verifies() {
    verify_bytes(&vector("xmlsec1-ecdsa-p384.xml"), &options("ec-p384")).unwrap();
}

#[test]
fn xmlsec1_signed_assertion_inside_response_verifies() {
    let xml = vector("xmlsec1-response.xml");
    let doc = Document::parse(&xml).unwrap();
    let sig = first_signature(&doc);
    let v = verify(&doc, sig, &options("rsa2048")).unwrap();
    assert_eq!(v.signed().attribute("ID"), Some("_assertion2"));
}

#[test]
fn sha1_is_rejected_by_default() {
    let xml = vector("xmlsec1-rsa-sha1.xml");
    assert_eq!(
        reason(&xml, &options("rsa2048")),
        SignatureError::Sha1NotAllowed
    );
}

#[test]
fn sha1_verifies_with_the_loud_opt_in() {
    let xml = vector("xmlsec1-rsa-sha1.xml");
    verify_bytes(&xml, &options("rsa2048").allow_sha1_signatures()).unwrap();
}

#[test]
fn small_rsa_key_is_rejected_by_default() {
    let xml = vector("xmlsec1-rsa1024.xml");
    assert_eq!(
        reason(&xml, &options("rsa1024")),
        SignatureError::KeyTooSmall
    );
}

#[test]
fn small_rsa_key_verifies_with_the_loud_opt_in() {
    let xml = vector("xmlsec1-rsa1024.xml");
    verify_bytes(&xml, &options("rsa1024").allow_small_rsa_keys()).unwrap();
}

#[test]
fn untrusted_key_is_rejected() {
    let xml = vector("xmlsec1-rsa-sha256.xml");
    assert_eq!(
        reason(&xml, &options("rsa2048-other")),
        SignatureError::SignatureInvalid
    );
}

#[test]
fn key_rollover_any_trusted_key_verifies_and_is_reported() {
    let xml = vector("xmlsec1-rsa-sha256.xml");
    let opts = VerifyOptions::new(vec![key("rsa2048-other"), key("ec-p256"), key("rsa2048")]);
    let doc = Document::parse(&xml).unwrap();
    let v = verify(&doc, first_signature(&doc), &opts).unwrap();
    assert_eq!(
        v.key().fingerprint_sha256(),
        key("rsa2048").fingerprint_sha256()
    );
}

#[test]
fn no_trusted_keys_is_rejected() {
    let xml = vector("xmlsec1-rsa-sha256.xml");
    assert_eq!(
        reason(&xml, &VerifyOptions::new(vec![])),
        SignatureError::NoTrustedKeys
    );
}

#[test]
fn tampered_name_id_is_a_digest_mismatch() {
    let xml = replace(
        &vector("xmlsec1-rsa-sha256.xml"),
        "alice@example.com",
        "admin@example.com",
    );
    assert_eq!(
        reason(&xml, &options("rsa2048")),
        SignatureError::DigestMismatch
    );
}

#[test]
fn tampered_attribute_is_a_digest_mismatch() {
    let xml = replace(
        &vector("xmlsec1-rsa-sha256.xml"),
        "Version=\"2.0\"",
        "Version=\"2.1\"",
    );
    assert_eq!(
        reason(&xml, &options("rsa2048")),
        SignatureError::DigestMismatch
    );
}

#[test]
fn tampered_signed_info_is_an_invalid_signature() {
    // Changing a byte of the DigestValue (and the content to match) still breaks SignedInfo.
    let xml = replace(
        &vector("xmlsec1-rsa-sha256.xml"),
        "<ds:Reference URI=\"#_assertion1\">",
        "<ds:Reference URI=\"#_assertion1\" Id=\"x\">",
    );
    assert_eq!(
        reason(&xml, &options("rsa2048")),
        SignatureError::SignatureInvalid
    );
}

#[test]
fn comment_injected_into_name_id_changes_nothing_signed_and_reads_whole() {
    // Comments are not covered by a same-document reference, and text() reads all of it:
    // the classic "alice@example.com<!---->.evil.com" truncation is impossible.
    let xml = replace(
        &vector("xmlsec1-rsa-sha256.xml"),
        "alice@example.com",
        "alice@exam<!-- x -->ple.com",
    );
    let doc = Document::parse(&xml).unwrap();
    let v = verify(&doc, first_signature(&doc), &options("rsa2048")).unwrap();
    let name_id = v
        .signed()
        .descendants()
        .find(|e| e.is(SAML, "NameID"))
        .unwrap();
    assert_eq!(name_id.text(), "alice@example.com");
}

#[test]
fn comment_inside_digest_value_does_not_change_what_is_compared() {
    // SignedInfo is canonicalized without comments, so the signature still holds; the
    // DigestValue is read as all of its text, so the comment cannot truncate it. A verifier
    // that read only the first text node would compare 4 characters and fail (or worse).
    let xml = vector("xmlsec1-rsa-sha256.xml");
    let s = std::str::from_utf8(&xml).unwrap();
    let start = s.find("<ds:DigestValue>").unwrap() + "<ds:DigestValue>".len();
    let with_comment = format!("{}<!-- c -->{}", &s[..start + 4], &s[start + 4..]);
    verify_bytes(with_comment.as_bytes(), &options("rsa2048")).unwrap();
}

#[test]
fn truncated_digest_value_is_a_mismatch() {
    let xml = vector("xmlsec1-rsa-sha256.xml");
    let s = std::str::from_utf8(&xml).unwrap();
    let start = s.find("<ds:DigestValue>").unwrap() + "<ds:DigestValue>".len();
    let end = s.find("</ds:DigestValue>").unwrap();
    let short = format!("{}{}{}", &s[..start], &s[start..start + 8], &s[end..]);
    assert_eq!(
        reason(short.as_bytes(), &options("rsa2048")),
        SignatureError::DigestMismatch
    );
}

#[test]
fn duplicate_id_anywhere_is_rejected() {
    let xml = replace(
        &vector("xmlsec1-rsa-sha256.xml"),
        "<saml:Subject>",
        "<saml:Subject><saml:Evidence ID=\"_assertion1\"/>",
    );
    assert_eq!(
        reason(&xml, &options("rsa2048")),
        SignatureError::DuplicateId("_assertion1".into())
    );
}

#[test]
fn reference_to_missing_id_is_rejected() {
    let xml = replace(
        &vector("xmlsec1-rsa-sha256.xml"),
        "ID=\"_assertion1\"",
        "ID=\"_other\"",
    );
    assert_eq!(
        reason(&xml, &options("rsa2048")),
        SignatureError::ReferenceNotFound("_assertion1".into())
    );
}

#[test]
fn id_attribute_must_be_declared() {
    // With only "Id" declared, the assertion's "ID" is not an ID: nothing is found.
    let xml = vector("xmlsec1-rsa-sha256.xml");
    assert_eq!(
        reason(&xml, &options("rsa2048").with_id_attribute("Id")),
        SignatureError::ReferenceNotFound("_assertion1".into())
    );
}

#[test]
fn empty_uri_from_a_signature_below_the_document_element_is_rejected() {
    // The signature sits in the Assertion, not on the Response: "" would cover the whole
    // response, which is not what a signature placed there is expected to vouch for.
    let xml = replace(
        &vector("xmlsec1-response.xml"),
        "URI=\"#_assertion2\"",
        "URI=\"\"",
    );
    assert!(matches!(
        reason(&xml, &options("rsa2048")),
        SignatureError::UnsupportedReferenceUri(_)
    ));
}

#[test]
fn empty_uri_on_the_document_element_digests_the_whole_document() {
    // In this vector the signed assertion is the document element and holds the signature,
    // so the whole document's canonical form is the assertion's: "" verifies, and the signed
    // element is the document element.
    let xml = replace(
        &vector("xmlsec1-rsa-sha256.xml"),
        "URI=\"#_assertion1\"",
        "URI=\"\"",
    );
    // The SignedInfo changed, so the signature no longer matches; the digest still must.
    assert!(matches!(
        reason(&xml, &options("rsa2048")),
        SignatureError::SignatureInvalid
    ));
    // A processing instruction before the root is part of the whole document: the digest
    // now differs.
    let text = String::from_utf8(xml).unwrap();
    let with_pi = text.replacen("?>", "?>\n<?audit x?>", 1);
    assert!(matches!(
        reason(with_pi.as_bytes(), &options("rsa2048")),
        SignatureError::DigestMismatch
    ));
}

#[test]
fn xpointer_reference_is_rejected() {
    let xml = replace(
        &vector("xmlsec1-rsa-sha256.xml"),
        "URI=\"#_assertion1\"",
        "URI=\"#xpointer(id('_assertion1'))\"",
    );
    assert!(matches!(
        reason(&xml, &options("rsa2048")),
        SignatureError::UnsupportedReferenceUri(_)
    ));
}

#[test]
fn external_reference_is_rejected() {
    let xml = replace(
        &vector("xmlsec1-rsa-sha256.xml"),
        "URI=\"#_assertion1\"",
        "URI=\"http://evil.example/x.xml\"",
    );
    assert!(matches!(
        reason(&xml, &options("rsa2048")),
        SignatureError::UnsupportedReferenceUri(_)
    ));
}

#[test]
fn xpath_transform_is_rejected() {
    let xml = replace(
        &vector("xmlsec1-rsa-sha256.xml"),
        "<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>",
        "<ds:Transform Algorithm=\"http://www.w3.org/TR/1999/REC-xpath-19991116\"><ds:XPath>1</ds:XPath></ds:Transform>",
    );
    assert!(matches!(
        reason(&xml, &options("rsa2048")),
        SignatureError::TransformNotAllowed(_)
    ));
}

#[test]
fn xslt_transform_is_rejected() {
    let xml = replace(
        &vector("xmlsec1-rsa-sha256.xml"),
        "<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>",
        "<ds:Transform Algorithm=\"http://www.w3.org/TR/1999/REC-xslt-19991116\"/>",
    );
    assert!(matches!(
        reason(&xml, &options("rsa2048")),
        SignatureError::TransformNotAllowed(_)
    ));
}

#[test]
fn two_signed_infos_are_rejected() {
    let xml = vector("xmlsec1-rsa-sha256.xml");
    let s = std::str::from_utf8(&xml).unwrap();
    let a = s.find("<ds:SignedInfo>").unwrap();
    let b = s.find("</ds:SignedInfo>").unwrap() + "</ds:SignedInfo>".len();
    let doubled = format!("{}{}{}", &s[..b], &s[a..b], &s[b..]);
    assert!(matches!(
        reason(doubled.as_bytes(), &options("rsa2048")),
        SignatureError::Structure(_)
    ));
}

#[test]
fn second_reference_is_rejected_by_default() {
    let xml = vector("xmlsec1-rsa-sha256.xml");
    let s = std::str::from_utf8(&xml).unwrap();
    let a = s.find("<ds:Reference ").unwrap();
    let b = s.find("</ds:Reference>").unwrap() + "</ds:Reference>".len();
    let doubled = format!("{}{}{}", &s[..b], &s[a..b], &s[b..]);
    assert_eq!(
        reason(doubled.as_bytes(), &options("rsa2048")),
        SignatureError::TooManyReferences {
            found: 2,
            allowed: 1
        }
    );
}

#[test]
fn hmac_signature_method_is_rejected() {
    let xml = replace(
        &vector("xmlsec1-rsa-sha256.xml"),
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        "http://www.w3.org/2000/09/xmldsig#hmac-sha1",
    );
    assert!(matches!(
        reason(&xml, &options("rsa2048")),
        SignatureError::UnsupportedAlgorithm(_)
    ));
}

#[test]
fn key_info_certificate_is_never_trusted() {
    // The attacker re-signs with their own key and puts their certificate in KeyInfo.
    let attacker = SigningKey::from_pkcs8_pem(&vector("rsa2048-other.key")).unwrap();
    let cert = x509_der(&vector("rsa2048-other.crt"));
    let unsigned = br#"<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a"><saml:Issuer>https://idp.example.com</saml:Issuer></saml:Assertion>"#;
    let forged = sign_enveloped(unsigned, "_a", &attacker, Some(&cert)).unwrap();
    assert_eq!(
        reason(&forged, &options("rsa2048")),
        SignatureError::SignatureInvalid
    );
}

#[test]
fn signature_wrapping_copy_is_not_reachable_through_signed_element() {
    // XSW: the signed assertion is moved into an Extensions-like wrapper and an evil copy
    // takes its place. Duplicate IDs are refused outright...
    let xml = vector("xmlsec1-response.xml");
    let s = std::str::from_utf8(&xml).unwrap();
    let a = s.find("<Assertion ").unwrap();
    let b = s.find("</Assertion>").unwrap() + "</Assertion>".len();
    let evil = s[a..b].replace("bob@example.com", "admin@example.com");
    let wrapped = format!(
        "{}<samlp:Extensions>{}</samlp:Extensions>{}{}",
        &s[..a],
        &s[a..b],
        evil,
        &s[b..]
    );
    assert!(matches!(
        reason(wrapped.as_bytes(), &options("rsa2048")),
        SignatureError::DuplicateId(_)
    ));
    // ...and with the evil copy's ID changed, the verified handle is the original, whose
    // content is bob's: the evil sibling is not reachable from it.
    let evil = evil.replace("ID=\"_assertion2\"", "ID=\"_evil\"");
    let wrapped = format!(
        "{}<samlp:Extensions>{}</samlp:Extensions>{}{}",
        &s[..a],
        &s[a..b],
        evil,
        &s[b..]
    );
    let doc = Document::parse(wrapped.as_bytes()).unwrap();
    let v = verify(&doc, first_signature(&doc), &options("rsa2048")).unwrap();
    let texts: Vec<String> = v
        .signed()
        .descendants()
        .map(|e| e.text().into_owned())
        .collect();
    assert!(texts.contains(&"bob@example.com".to_owned()));
    assert!(!texts.iter().any(|t| t.contains("admin")));
}

#[test]
fn signed_element_skips_the_enveloped_signature() {
    let xml = vector("xmlsec1-rsa-sha256.xml");
    let doc = Document::parse(&xml).unwrap();
    let v = verify(&doc, first_signature(&doc), &options("rsa2048")).unwrap();
    assert!(v.signed().children().all(|c| !c.is(DSIG_NS, "Signature")));
    assert!(
        v.signed()
            .descendants()
            .all(|c| c.namespace() != Some(DSIG_NS))
    );
}

#[test]
fn error_names_the_element_and_position() {
    let xml = replace(
        &vector("xmlsec1-rsa-sha256.xml"),
        "alice@example.com",
        "mallory@example.com",
    );
    let err = verify_bytes(&xml, &options("rsa2048")).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("<ds:DigestValue>"), "{msg}");
    assert!(msg.contains("digest mismatch"), "{msg}");
}

fn x509_der(pem: &[u8]) -> Vec<u8> {
    let s = std::str::from_utf8(pem).unwrap();
    let b64: String = s.lines().filter(|l| !l.starts_with("-----")).collect();
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap()
}

#[test]
fn enveloping_reference_to_an_element_inside_the_signature_is_rejected() {
    // XSW-style: the referenced element hides inside ds:Object of the signature itself.
    let xml = replace(
        &vector("xmlsec1-rsa-sha256.xml"),
        "</ds:KeyInfo>",
        "</ds:KeyInfo><ds:Object><saml:Assertion ID=\"_hidden\"/></ds:Object>",
    );
    let xml = replace(&xml, "URI=\"#_assertion1\"", "URI=\"#_hidden\"");
    assert!(matches!(
        reason(&xml, &options("rsa2048")),
        SignatureError::Structure(_)
    ));
}

#[test]
fn oversized_inclusive_prefix_list_is_rejected() {
    let many = (0..100)
        .map(|i| format!("p{i}"))
        .collect::<Vec<_>>()
        .join(" ");
    let xml = replace(
        &vector("xmlsec1-rsa-sha256.xml"),
        "PrefixList=\"xs\"",
        &format!("PrefixList=\"{many}\""),
    );
    assert!(matches!(
        verify_bytes(&xml, &options("rsa2048")),
        Err(Error::Limit {
            limit: rampart_xmldsig::LimitError::PrefixList(32),
            ..
        })
    ));
}

#[test]
fn duplicate_id_under_another_declared_name_outside_the_signed_element_is_rejected() {
    // A wrapper that carries the assertion's ID in a different ID attribute, outside the
    // signed subtree: which one "#_assertion2" means would depend on the reader.
    let xml = replace(
        &vector("xmlsec1-response.xml"),
        "<samlp:Status>",
        "<samlp:Extensions AssertionID=\"_assertion2\"/><samlp:Status>",
    );
    let opts = options("rsa2048")
        .with_id_attribute("ID")
        .with_id_attribute("AssertionID");
    assert_eq!(
        reason(&xml, &opts),
        SignatureError::DuplicateId("_assertion2".into())
    );
    // Not declared as an ID attribute, the same value is plain data and the signature holds.
    verify_bytes(&xml, &options("rsa2048")).unwrap();
}

#[test]
fn comment_inside_signature_value_does_not_change_what_is_checked() {
    let xml = vector("xmlsec1-rsa-sha256.xml");
    let s = std::str::from_utf8(&xml).unwrap();
    let start = s.find("<ds:SignatureValue>").unwrap() + "<ds:SignatureValue>".len();
    let with_comment = format!("{}<!-- c -->{}", &s[..start + 8], &s[start + 8..]);
    verify_bytes(with_comment.as_bytes(), &options("rsa2048")).unwrap();
    // And a value cut at the comment would not verify: the whole text is what counts.
    let end = s.find("</ds:SignatureValue>").unwrap();
    let cut = format!("{}{}", &s[..start + 8], &s[end..]);
    assert!(verify_bytes(cut.as_bytes(), &options("rsa2048")).is_err());
}

#[test]
fn two_references_verify_when_allowed_and_both_elements_are_returned() {
    // A signature over two sibling elements, both covered by their own Reference.
    let key = SigningKey::from_pkcs8_pem(&vector("rsa2048.key")).unwrap();
    let doc_xml =
        "<r:Root xmlns:r=\"urn:r\"><r:A ID=\"_a\">one</r:A><r:B ID=\"_b\">two</r:B></r:Root>";
    let one = sign_enveloped(doc_xml.as_bytes(), "_a", &key, None).unwrap();
    // Turn the single reference into two: copy it with URI="#_b" and B's digest.
    let s = String::from_utf8(one).unwrap();
    let b_digest = {
        let d = Document::parse(s.as_bytes()).unwrap();
        let b = d
            .root()
            .children()
            .find(|e| e.attribute("ID") == Some("_b"))
            .unwrap();
        let c = rampart_xmldsig::Canonicalizer::new(rampart_xmldsig::C14nAlgorithm::Exclusive)
            .element(b)
            .unwrap();
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            ring::digest::digest(&ring::digest::SHA256, &c),
        )
    };
    let ref_start = s.find("<ds:Reference").unwrap();
    let ref_end = s.find("</ds:Reference>").unwrap() + "</ds:Reference>".len();
    let reference = &s[ref_start..ref_end];
    let digest_start = reference.find("<ds:DigestValue>").unwrap() + "<ds:DigestValue>".len();
    let digest_end = reference.find("</ds:DigestValue>").unwrap();
    let second = format!(
        "{}{}{}",
        &reference[..digest_start],
        b_digest,
        &reference[digest_end..]
    )
    .replace("URI=\"#_a\"", "URI=\"#_b\"")
    .replace(
        "<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>",
        "",
    );
    let unsigned = format!("{}{second}{}", &s[..ref_end], &s[ref_end..]);
    // Re-sign the new SignedInfo with ring so the value covers both references.
    let d = Document::parse(unsigned.as_bytes()).unwrap();
    let sig = first_signature(&d);
    let si = sig.children().next().unwrap();
    let si_c14n = rampart_xmldsig::Canonicalizer::new(rampart_xmldsig::C14nAlgorithm::Exclusive)
        .element(si)
        .unwrap();
    let pem = String::from_utf8(vector("rsa2048.key")).unwrap();
    let der: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, der).unwrap();
    let pair = ring::signature::RsaKeyPair::from_pkcs8(&der).unwrap();
    let mut value = vec![0; pair.public().modulus_len()];
    pair.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        &si_c14n,
        &mut value,
    )
    .unwrap();
    let old_value = sig.children().nth(1).unwrap().text().into_owned();
    let xml = unsigned.replace(
        &old_value,
        &base64::Engine::encode(&base64::engine::general_purpose::STANDARD, value),
    );

    // One reference is the default: two are refused.
    assert_eq!(
        reason(xml.as_bytes(), &options("rsa2048")),
        SignatureError::TooManyReferences {
            found: 2,
            allowed: 1
        }
    );
    let d = Document::parse(xml.as_bytes()).unwrap();
    let v = verify(
        &d,
        first_signature(&d),
        &options("rsa2048").with_max_references(2),
    )
    .unwrap();
    let ids: Vec<_> = v
        .signed_elements()
        .iter()
        .map(|e| e.attribute("ID").unwrap())
        .collect();
    assert_eq!(ids, ["_a", "_b"]);
    assert_eq!(v.signed_elements()[1].text(), "two");
    // Tampering with the second element breaks its digest.
    let tampered = xml.replace(">two<", ">TWO<");
    assert_eq!(
        reason(
            tampered.as_bytes(),
            &options("rsa2048").with_max_references(2)
        ),
        SignatureError::DigestMismatch
    );
}
