//! rampart-saml: what an `EncryptedAssertion` adds to a validation (BENCHMARKS.md,
//! "rampart-saml").
//!
//! The response of `benches/saml.rs` (8.5 KiB, a signed assertion, xmlsec1-signed) against the
//! same response with its assertion encrypted by xmlsec1 for the SP's certificate (RSA-OAEP
//! with SHA-1 and MGF1-SHA1 over RSA-2048, content AES-256-GCM), and the RSA-2048 private-key
//! operation alone (aws-lc-rs, OAEP, on the same wrapped key). Target: encrypted / plain <=
//! 1.0 + (RSA private / plain), i.e. decryption adds no more than its one private-key
//! operation plus small change. The interleaved ratios (`saml_encrypted/paired/...`) are the
//! figures to read. Without xmlsec1 it skips loudly (fails under CI=true).
//!
//! `cargo bench -p rampart --no-default-features --features encrypted-assertions --bench saml_encrypted -- --warm-up-time 1 --measurement-time 3`

// criterion_group! generates an undocumented `pub fn benches`.
#![allow(missing_docs)]

#[path = "common/paired.rs"]
mod paired;

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, SystemTime};

use aws_lc_rs::rsa::{OAEP_SHA1_MGF1SHA1, OaepPrivateDecryptingKey, PrivateDecryptingKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use criterion::Criterion;
use rampart::saml::{Certificate, DecryptionKey, Expected, IdentityProvider, ServiceProvider};

const RESPONSE: &str = include_str!("../crates/rampart-saml/tests/fixtures/assertion_signed.xml");
const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../rampart-saml/tests/keys");
const AES256_GCM: &str = "http://www.w3.org/2009/xmlenc11#aes256-gcm";
const MGF1P: &str = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p";

fn read(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(KEYS).join(name)).expect("test key")
}

/// The response with its assertion inside an `EncryptedAssertion`, encrypted by xmlsec1.
fn encrypted_response() -> String {
    let start = RESPONSE.find("<saml:Assertion").expect("assertion");
    let end =
        RESPONSE.rfind("</saml:Assertion>").expect("assertion end") + "</saml:Assertion>".len();
    let input = format!(
        "{}<saml:EncryptedAssertion>{}</saml:EncryptedAssertion>{}",
        &RESPONSE[..start],
        &RESPONSE[start..end],
        &RESPONSE[end..]
    );
    let template = format!(
        r#"<xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" Type="http://www.w3.org/2001/04/xmlenc#Element"><xenc:EncryptionMethod Algorithm="{AES256_GCM}"/><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><xenc:EncryptedKey><xenc:EncryptionMethod Algorithm="{MGF1P}"/><xenc:CipherData><xenc:CipherValue/></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo><xenc:CipherData><xenc:CipherValue/></xenc:CipherData></xenc:EncryptedData>"#
    );
    let tmp = tempfile::tempdir().expect("temp dir");
    let (doc, tmpl, out) = (
        tmp.path().join("doc.xml"),
        tmp.path().join("tmpl.xml"),
        tmp.path().join("out.xml"),
    );
    std::fs::write(&doc, input).expect("write");
    std::fs::write(&tmpl, template).expect("write");
    let status = std::process::Command::new("xmlsec1")
        .arg("--encrypt")
        .arg("--pubkey-cert-pem")
        .arg(Path::new(KEYS).join("sp.cert.pem"))
        .args(["--session-key", "aes-256", "--xml-data"])
        .arg(&doc)
        .args(["--node-xpath", "//*[local-name()='Assertion']", "--output"])
        .arg(&out)
        .arg(&tmpl)
        .status()
        .expect("xmlsec1 runs");
    assert!(status.success(), "xmlsec1 --encrypt failed");
    std::fs::read_to_string(out).expect("xmlsec1 output")
}

/// The base64 text of the wrapped content key (the first CipherValue xmlsec1 writes).
fn wrapped_key(xml: &str) -> Vec<u8> {
    let open = "<xenc:CipherValue>";
    let start = xml.find(open).expect("CipherValue") + open.len();
    let end = start + xml[start..].find("</xenc:CipherValue>").expect("end");
    let compact: String = xml[start..end]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    STANDARD.decode(compact).expect("base64")
}

/// The SP's RSA key as aws-lc-rs's OAEP decrypting key (PKCS#8 PEM -> DER by base64 only).
fn oaep_key() -> OaepPrivateDecryptingKey {
    let pem = String::from_utf8(read("sp.key.pem")).expect("PEM");
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = STANDARD.decode(body).expect("PEM body");
    OaepPrivateDecryptingKey::new(PrivateDecryptingKey::from_pkcs8(&der).expect("PKCS#8"))
        .expect("OAEP key")
}

fn main() {
    if !rampart_testkit::tool::available("xmlsec1") {
        return;
    }
    let idp = IdentityProvider::new(
        "https://idp.example.com/metadata",
        [Certificate::from_pem(&read("idp.cert.pem")).expect("idp cert")],
    )
    .expect("idp");
    let decryption = DecryptionKey::from_pkcs8_pem(
        &read("sp.key.pem"),
        Certificate::from_pem(&read("sp.cert.pem")).expect("sp cert"),
    )
    .expect("decryption key");
    let sp = ServiceProvider::builder(
        "https://sp.example.com/metadata",
        "https://sp.example.com/saml/acs",
    )
    .identity_provider(idp)
    .with_decryption_key(decryption)
    .build()
    .expect("sp");
    let plain = STANDARD.encode(RESPONSE);
    let encrypted_xml = encrypted_response();
    let encrypted = STANDARD.encode(&encrypted_xml);
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_893_456_060); // 2030-01-01T00:01:00Z
    let expected = Expected::Request("_req0123456789abcdef0123456789abcdef");
    let validate = |form: &str| {
        sp.validate_response(black_box(form.as_bytes()), expected, now)
            .expect("validates")
            .into_login_without_replay_check()
    };
    let a = validate(&plain);
    let b = validate(&encrypted);
    assert_eq!(a.name_id, b.name_id, "the same login either way");

    let key = oaep_key();
    let wrapped = wrapped_key(&encrypted_xml);
    let mut out = vec![0u8; key.min_output_size()];
    let rsa = |out: &mut [u8]| {
        key.decrypt(&OAEP_SHA1_MGF1SHA1, black_box(&wrapped), out, None)
            .expect("OAEP")
            .len()
    };
    assert_eq!(rsa(&mut out), 32, "an AES-256 content key");

    let mut c = Criterion::default().configure_from_args();
    let mut g = c.benchmark_group("saml_encrypted");
    g.bench_function("validate_plain", |b| b.iter(|| validate(&plain)));
    g.bench_function("validate_encrypted_rsa_oaep_aes256_gcm", |b| {
        b.iter(|| validate(&encrypted));
    });
    g.bench_function("rsa2048_oaep_private_key_op_alone", |b| {
        b.iter(|| rsa(&mut out));
    });
    g.finish();

    let calls = 200;
    let mut buf = vec![0u8; key.min_output_size()];
    paired::paired_ratios(
        "saml_encrypted",
        "numerator time / plain validation time",
        31,
        &mut [
            ("encrypted_over_plain", &mut |side| {
                let form = if side == 0 { &encrypted } else { &plain };
                for _ in 0..calls {
                    black_box(validate(form));
                }
            }),
            ("rsa_private_op_over_plain", &mut |side| {
                for _ in 0..calls {
                    if side == 0 {
                        black_box(rsa(&mut buf));
                    } else {
                        black_box(validate(&plain));
                    }
                }
            }),
        ],
    );
    c.final_summary();
}
