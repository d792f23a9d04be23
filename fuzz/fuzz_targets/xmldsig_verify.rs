#![no_main]
//! Signature verification on arbitrary documents (seeded with xmlsec1-signed fixtures, so
//! mutations reach the digest and signature checks): never panics, under strict and loose
//! options, and whatever verifies can be read through the signed handle.
use libfuzzer_sys::fuzz_target;
use rampart_xmldsig::{DSIG_NS, Document, TrustedKey, VerifyOptions, verify};

const CERT: &[u8] = include_bytes!("../../crates/rampart-xmldsig/tests/vectors/rsa2048.crt");
const EC_CERT: &[u8] = include_bytes!("../../crates/rampart-xmldsig/tests/vectors/ec-p256.crt");

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = Document::parse(data) else {
        return;
    };
    let keys = vec![
        TrustedKey::from_pem_certificate(CERT).expect("test cert"),
        TrustedKey::from_pem_certificate(EC_CERT).expect("test cert"),
    ];
    let strict = VerifyOptions::new(keys.clone());
    let loose = VerifyOptions::new(keys)
        .with_id_attribute("ID")
        .with_id_attribute("Id")
        .allow_sha1_signatures()
        .allow_small_rsa_keys()
        .with_max_references(4);
    let root = doc.root();
    for sig in std::iter::once(root)
        .chain(root.descendants())
        .filter(|e| e.is(DSIG_NS, "Signature"))
        .take(4)
    {
        for options in [&strict, &loose] {
            if let Ok(v) = verify(&doc, sig, options) {
                // Whatever verified is reachable and readable through the signed handle.
                for s in v.signed_elements() {
                    let _ = s.descendants().map(|d| d.text()).count();
                }
            }
        }
    }
});
