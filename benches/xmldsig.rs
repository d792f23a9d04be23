//! rampart-xmldsig benchmarks (BENCHMARKS.md, "rampart-xmldsig").
//!
//! - `xmldsig_verify`: parse + verify a signed 10 KiB SAML-like response (ID index, two
//!   exclusive canonicalizations, SHA-256, RSA-2048 PKCS#1 v1.5) against its floor, ring's
//!   RSA-2048 verification alone over the same canonical SignedInfo. Target ratio <= 2.
//!   Two more floors in the same group, the parts of the XML work that no design can skip
//!   with the chosen crates: quick-xml tokenizing the same document with nothing built
//!   (`quick_xml_tokenize_alone`) and ring's SHA-256 of the canonical assertion
//!   (`ring_sha256_of_signed_bytes`).
//! - `xmldsig_parse_c14n`: parse + exclusive canonicalization of the whole document, as
//!   throughput (MB/s), for the 10 KiB response and a 1 MiB document, and parse alone.
//!
//! `cargo bench -p rampart --no-default-features --features xmldsig --bench xmldsig`
#![allow(missing_docs)] // criterion_group! generates an undocumented pub fn

mod common;

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rampart_xmldsig::{
    C14nAlgorithm, Canonicalizer, DSIG_NS, Document, Placement, SignOptions, SigningKey,
    TrustedKey, VerifyOptions, sign_enveloped_with, verify,
};
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};

const KEY: &[u8] = include_bytes!("../crates/rampart-xmldsig/tests/vectors/rsa2048.key");
const CERT: &[u8] = include_bytes!("../crates/rampart-xmldsig/tests/vectors/rsa2048.crt");

/// A SAML response of about `attributes * 250` bytes whose assertion carries `attributes`
/// attribute statements.
fn response(attributes: usize) -> String {
    let mut attrs = String::new();
    for i in 0..attributes {
        let _ = write!(
            attrs,
            "\n      <saml:Attribute Name=\"urn:oid:1.3.6.1.4.1.5923.1.1.1.{i}\" NameFormat=\"urn:oasis:names:tc:SAML:2.0:attrname-format:uri\" FriendlyName=\"attr{i}\">\n        <saml:AttributeValue xsi:type=\"xs:string\">value number {i} &amp; more</saml:AttributeValue>\n      </saml:Attribute>"
        );
    }
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_resp" Version="2.0" IssueInstant="2026-01-01T00:00:00Z" Destination="https://sp.example.com/acs" InResponseTo="_req1">
  <saml:Issuer>https://idp.example.com</saml:Issuer>
  <samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>
  <saml:Assertion xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="_assertion" Version="2.0" IssueInstant="2026-01-01T00:00:00Z">
    <saml:Issuer>https://idp.example.com</saml:Issuer>
    <saml:Subject>
      <saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">alice@example.com</saml:NameID>
      <saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">
        <saml:SubjectConfirmationData NotOnOrAfter="2026-01-01T00:05:00Z" Recipient="https://sp.example.com/acs" InResponseTo="_req1"/>
      </saml:SubjectConfirmation>
    </saml:Subject>
    <saml:Conditions NotBefore="2026-01-01T00:00:00Z" NotOnOrAfter="2026-01-01T00:05:00Z">
      <saml:AudienceRestriction><saml:Audience>https://sp.example.com</saml:Audience></saml:AudienceRestriction>
    </saml:Conditions>
    <saml:AttributeStatement>{attrs}
    </saml:AttributeStatement>
  </saml:Assertion>
</samlp:Response>"#
    )
}

fn verify_bench(c: &mut Criterion) {
    let key = SigningKey::from_pkcs8_pem(KEY).expect("test key");
    let trusted = TrustedKey::from_pem_certificate(CERT).expect("test cert");
    // After the assertion's Issuer, where SAML puts it: the document a real IdP sends.
    let after_issuer = SignOptions::new().with_placement(Placement::AfterLeading {
        namespace: "urn:oasis:names:tc:SAML:2.0:assertion".into(),
        local: "Issuer".into(),
    });
    let xml = sign_enveloped_with(response(33).as_bytes(), "_assertion", &key, &after_issuer)
        .expect("sign");
    assert!(
        (9 * 1024..12 * 1024).contains(&xml.len()),
        "{} bytes",
        xml.len()
    );
    let options = VerifyOptions::new(vec![trusted]);

    // The floor: RSA verification of the canonical SignedInfo, as computed by verify.
    let doc = Document::parse(&xml).expect("parse");
    let sig = doc
        .root()
        .descendants()
        .find(|e| e.is(DSIG_NS, "Signature"))
        .expect("signature");
    let signed_info = sig.children().next().expect("SignedInfo");
    let si_bytes = Canonicalizer::new(C14nAlgorithm::Exclusive)
        .element(signed_info)
        .expect("c14n");
    let sig_value = {
        use base64::Engine as _;
        let text = sig.children().nth(1).expect("SignatureValue").text();
        base64::engine::general_purpose::STANDARD
            .decode(text.trim_ascii())
            .expect("base64")
    };
    let public_key = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, key.public_key_bytes());
    let assertion = doc.root().children().nth(2).expect("assertion");
    let signed_bytes = Canonicalizer::new(C14nAlgorithm::Exclusive)
        .element_excluding(assertion, sig)
        .expect("c14n");
    let text = std::str::from_utf8(&xml).expect("utf-8");
    public_key
        .verify(&si_bytes, &sig_value)
        .expect("floor verifies");

    let mut g = c.benchmark_group("xmldsig_verify");
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    g.bench_function("ring_rsa2048_verify_alone", |b| {
        b.iter(|| {
            public_key
                .verify(black_box(&si_bytes), black_box(&sig_value))
                .expect("valid");
        });
    });
    g.bench_function("quick_xml_tokenize_alone", |b| {
        b.iter(|| common::tokenize(black_box(text)));
    });
    g.bench_function("ring_sha256_of_signed_bytes", |b| {
        b.iter(|| ring::digest::digest(&ring::digest::SHA256, black_box(&signed_bytes)));
    });
    g.bench_function("parse_and_verify_10k", |b| {
        b.iter(|| {
            let doc = Document::parse(black_box(&xml)).expect("parse");
            let assertion = doc.root().children().nth(2).expect("assertion");
            let sig = assertion.children().nth(1).expect("signature");
            let v = verify(&doc, sig, &options).expect("valid");
            black_box(v.signed().position());
        });
    });
    g.finish();
}

fn throughput_bench(c: &mut Criterion) {
    let small = response(33);
    let large = response(3800);
    assert!(large.len() < 1 << 20, "{} bytes", large.len());
    let mut g = c.benchmark_group("xmldsig_parse_c14n");
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    let c14n = Canonicalizer::new(C14nAlgorithm::Exclusive);
    for (name, doc) in [("10k", &small), ("1m", &large)] {
        g.throughput(Throughput::Bytes(doc.len() as u64));
        g.bench_function(format!("parse_exc_c14n_{name}"), |b| {
            b.iter(|| {
                let d = Document::parse(black_box(doc.as_bytes())).expect("parse");
                black_box(c14n.document(&d).expect("c14n").len());
            });
        });
        g.bench_function(format!("parse_only_{name}"), |b| {
            b.iter(|| black_box(Document::parse(black_box(doc.as_bytes())).expect("parse")));
        });
    }
    g.finish();
}

criterion_group!(benches, verify_bench, throughput_bench);
criterion_main!(benches);
