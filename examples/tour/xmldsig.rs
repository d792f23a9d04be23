//! Tour stop: rampart-xmldsig, the hardened XML and XML-DSig layer under SAML.

use std::error::Error;

use rampart_xmldsig::{
    C14nAlgorithm, Canonicalizer, DSIG_NS, Document, Placement, SignOptions, SigningKey,
    TrustedKey, VerifyOptions, sign_enveloped_with, verify,
};

// TEST KEYS committed with the crate's test vectors: never use them for anything real.
const KEY: &[u8] = include_bytes!("../../crates/rampart-xmldsig/tests/vectors/rsa2048.key");
const CERT: &[u8] = include_bytes!("../../crates/rampart-xmldsig/tests/vectors/rsa2048.crt");
const SHA1_SIGNED: &[u8] =
    include_bytes!("../../crates/rampart-xmldsig/tests/vectors/xmlsec1-rsa-sha1.xml");

const REQUEST: &str = r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:unused="urn:unused" ID="_req1" Version="2.0" IssueInstant="2026-01-01T00:00:00Z"><saml:Issuer>https://sp.example.com</saml:Issuer><samlp:NameIDPolicy AllowCreate="true"/></samlp:AuthnRequest>"#;

pub(crate) fn run() -> Result<(), Box<dyn Error>> {
    println!("== rampart-xmldsig: hardened XML tree, canonicalization, XML-DSig");

    // 1. The parser refuses the classic tricks before anything reads the document.
    let xxe = br#"<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>"#;
    println!(
        "   XXE / billion laughs: {}",
        Document::parse(xxe).unwrap_err()
    );
    let undeclared = b"<r><p:x/></r>";
    println!(
        "   undeclared prefix:    {}",
        Document::parse(undeclared).unwrap_err()
    );

    // 2. A comment cannot cut a value short: text() reads every text child.
    let doc = Document::parse(b"<NameID>admin@example.com<!---->.evil.example</NameID>")?;
    println!(
        "   comment in a NameID:  reads as '{}' (full text; a comment cannot truncate it)",
        doc.root().text()
    );

    // 3. Exclusive canonicalization: unused namespaces dropped, attributes sorted, empty
    //    elements expanded.
    let doc = Document::parse(REQUEST.as_bytes())?;
    let canonical = Canonicalizer::new(C14nAlgorithm::Exclusive).document(&doc)?;
    println!("   exc-c14n: {}", String::from_utf8_lossy(&canonical));

    // 4. Sign an AuthnRequest: the signature goes right after saml:Issuer, as SAML requires.
    let key = SigningKey::from_pkcs8_pem(KEY)?;
    //    XML-DSig knows no SAML: the caller names the place its schema wants.
    let after_issuer = SignOptions::new().with_placement(Placement::AfterLeading {
        namespace: "urn:oasis:names:tc:SAML:2.0:assertion".into(),
        local: "Issuer".into(),
    });
    let signed = sign_enveloped_with(REQUEST.as_bytes(), "_req1", &key, &after_issuer)?;
    let doc = Document::parse(&signed)?;
    let order: Vec<&str> = doc.root().children().map(|c| c.local_name()).collect();
    println!(
        "   signed ({} bytes); children now {}",
        signed.len(),
        order.join(", ")
    );

    // 5. Verify against a key we trust (never one found in the document's KeyInfo), and read
    //    signed data only through the handle verification returns.
    let trusted = TrustedKey::from_pem_certificate(CERT)?;
    let options = VerifyOptions::new(vec![trusted]);
    let signature = doc
        .root()
        .children_named(DSIG_NS, "Signature")
        .next()
        .ok_or("no signature")?;
    let verified = verify(&doc, signature, &options)?;
    println!(
        "   verified <{}> by {}",
        verified.signed().qualified_name(),
        verified.key().description()
    );

    // 6. Tampering breaks the digest; the error names the element and byte offset.
    let tampered =
        String::from_utf8(signed.clone())?.replace("AllowCreate=\"true\"", "AllowCreate=\"false\"");
    let doc = Document::parse(tampered.as_bytes())?;
    let signature = doc
        .root()
        .children_named(DSIG_NS, "Signature")
        .next()
        .ok_or("no signature")?;
    println!(
        "   tampered: {}",
        verify(&doc, signature, &options).unwrap_err()
    );

    // 7. Signature wrapping needs a second element with the same ID: refused outright.
    let wrapped = String::from_utf8(signed)?.replace(
        "<samlp:NameIDPolicy",
        "<samlp:Extensions ID=\"_req1\"/><samlp:NameIDPolicy",
    );
    let doc = Document::parse(wrapped.as_bytes())?;
    let signature = doc
        .root()
        .children_named(DSIG_NS, "Signature")
        .next()
        .ok_or("no signature")?;
    println!(
        "   wrapped:  {}",
        verify(&doc, signature, &options).unwrap_err()
    );

    // 8. SHA-1 only with a loud opt-in (this fixture was signed by xmlsec1 with rsa-sha1).
    let doc = Document::parse(SHA1_SIGNED)?;
    let signature = doc
        .root()
        .descendants()
        .find(|e| e.is(DSIG_NS, "Signature"))
        .ok_or("no signature")?;
    println!(
        "   sha-1:    {}",
        verify(&doc, signature, &options).unwrap_err()
    );
    let legacy = options.clone().allow_sha1_signatures();
    println!(
        "   sha-1 with allow_sha1_signatures(): verified ({})",
        verify(&doc, signature, &legacy)?
            .signature_algorithm()
            .uri()
    );
    Ok(())
}
