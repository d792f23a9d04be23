//! Live interop with xmlsec1 (libxml2 + OpenSSL), the reference implementation most IdPs and
//! SPs build on: it signs and we verify; we sign and it verifies. The signed content comes
//! from the namespace-heavy generator, and the signed element sits below ancestors that
//! declare namespaces and `xml:` attributes, so document-subset canonicalization is compared
//! with libxml2's real implementation, for every canonicalization algorithm.

mod common;

use std::path::Path;
use std::process::Command;

use rampart_xmldsig::{
    DSIG_NS, Document, Placement, SignOptions, SigningKey, TrustedKey, VerifyOptions,
    sign_enveloped_with, verify,
};

const ROOT_NS: &str = "urn:example:root";
const ROUNDS: usize = 24;

fn vectors() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors"))
}

/// Generated content with its XML declaration removed, so it can be embedded.
fn body(seed: u64) -> String {
    let xml = common::generate::generate(&mut common::Rng(seed));
    match xml.strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n") {
        Some(rest) => rest.to_owned(),
        None => xml,
    }
}

/// The signed element `r:Signed ID=...` inside a wrapper with a default namespace, another
/// prefix and `xml:lang`, with `signature` (a template, or nothing) first in it.
fn wrapped(i: usize, signature: &str) -> String {
    format!(
        "<w:Wrap xmlns:w=\"urn:example:wrap\" xmlns=\"urn:example:default\" xmlns:unused=\"urn:u\" xml:lang=\"en\">\n  <r:Signed xmlns:r=\"{ROOT_NS}\" ID=\"_live{i}\">{signature}\n{}\n  </r:Signed>\n</w:Wrap>\n",
        body(0x1234_5678 + i as u64)
    )
}

const C14NS: [&str; 4] = [
    "http://www.w3.org/2001/10/xml-exc-c14n#",
    "http://www.w3.org/2001/10/xml-exc-c14n#WithComments",
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments",
];

fn template(i: usize) -> String {
    let c14n = C14NS[i % C14NS.len()];
    let prefixes = if i.is_multiple_of(8) {
        "<ec:InclusiveNamespaces xmlns:ec=\"http://www.w3.org/2001/10/xml-exc-c14n#\" PrefixList=\"#default a\"/>"
    } else {
        ""
    };
    let prefixes = if c14n.contains("exc") { prefixes } else { "" };
    format!(
        "<ds:Signature xmlns:ds=\"{DSIG_NS}\"><ds:SignedInfo>\
         <ds:CanonicalizationMethod Algorithm=\"{c14n}\"/>\
         <ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\"/>\
         <ds:Reference URI=\"#_live{i}\"><ds:Transforms>\
         <ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>\
         <ds:Transform Algorithm=\"{c14n}\">{prefixes}</ds:Transform></ds:Transforms>\
         <ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/>\
         <ds:DigestValue></ds:DigestValue></ds:Reference></ds:SignedInfo>\
         <ds:SignatureValue></ds:SignatureValue></ds:Signature>"
    )
}

/// Has xmlsec1 sign the template `tmpl` (with `key`) and returns the signed document.
fn xmlsec1_sign(xmlsec1: &str, dir: &Path, name: &str, tmpl: &str, key: &Path) -> Vec<u8> {
    let input = dir.join(format!("{name}.tmpl.xml"));
    let out = dir.join(format!("{name}.xml"));
    std::fs::write(&input, tmpl).unwrap();
    rampart_testkit::tool::run(
        Command::new(xmlsec1)
            .arg("--sign")
            .arg("--privkey-pem")
            .arg(key)
            .arg("--id-attr:ID")
            .arg(format!("{ROOT_NS}:Signed"))
            .arg("--output")
            .arg(&out)
            .arg(&input),
    );
    std::fs::read(&out).unwrap()
}

fn signed_signature(doc: &Document) -> rampart_xmldsig::Element<'_> {
    doc.root()
        .descendants()
        .find(|e| e.is(DSIG_NS, "Signature"))
        .expect("signature")
}

#[test]
fn xmlsec1_signs_we_verify() {
    let Some(xmlsec1) = common::xmlsec1() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let key = vectors().join("rsa2048.key");
    let cert =
        TrustedKey::from_pem_certificate(&std::fs::read(vectors().join("rsa2048.crt")).unwrap())
            .unwrap();
    let options = VerifyOptions::new(vec![cert]);
    for i in 0..ROUNDS {
        let xml = xmlsec1_sign(
            xmlsec1,
            dir.path(),
            &format!("s{i}"),
            &wrapped(i, &template(i)),
            &key,
        );
        let doc = Document::parse(&xml).unwrap();
        let v = verify(&doc, signed_signature(&doc), &options).unwrap_or_else(|e| {
            panic!(
                "round {i} ({}): {e}\n{}",
                C14NS[i % 4],
                String::from_utf8_lossy(&xml)
            )
        });
        assert_eq!(
            v.signed().attribute("ID"),
            Some(format!("_live{i}").as_str())
        );
    }
}

fn xmlsec1_verify(xmlsec1: &str, file: &Path, cert: &Path) -> (bool, String) {
    let o = Command::new(xmlsec1)
        .arg("--verify")
        .arg("--pubkey-cert-pem")
        .arg(cert)
        .arg("--id-attr:ID")
        .arg(format!("{ROOT_NS}:Signed"))
        .arg(file)
        .output()
        .unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn we_sign_xmlsec1_verifies(key_name: &str) {
    let Some(xmlsec1) = common::xmlsec1() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::from_pkcs8_pem(
        &std::fs::read(vectors().join(format!("{key_name}.key"))).unwrap(),
    )
    .unwrap();
    let cert = vectors().join(format!("{key_name}.crt"));
    for i in 0..ROUNDS {
        let xml = wrapped(i, "");
        let placement = match i % 3 {
            0 => Placement::FirstChild,
            1 => Placement::LastChild,
            _ => Placement::AfterLeading {
                namespace: "urn:oasis:names:tc:SAML:2.0:assertion".into(),
                local: "Issuer".into(),
            },
        };
        let signed = sign_enveloped_with(
            xml.as_bytes(),
            &format!("_live{i}"),
            &key,
            &SignOptions::new().with_placement(placement),
        )
        .unwrap();
        let file = dir.path().join(format!("ours{i}.xml"));
        std::fs::write(&file, &signed).unwrap();
        let (ok, stderr) = xmlsec1_verify(xmlsec1, &file, &cert);
        assert!(
            ok,
            "xmlsec1 rejected our signature (round {i}): {stderr}\n{}",
            String::from_utf8_lossy(&signed)
        );
    }
    // And xmlsec1 really checks: a tampered document is rejected.
    let signed = sign_enveloped_with(
        wrapped(0, "").as_bytes(),
        "_live0",
        &key,
        &SignOptions::new(),
    )
    .unwrap();
    let tampered = String::from_utf8(signed)
        .unwrap()
        .replacen("</r:Signed>", "<x/></r:Signed>", 1);
    let file = dir.path().join("tampered.xml");
    std::fs::write(&file, tampered).unwrap();
    assert!(
        !xmlsec1_verify(xmlsec1, &file, &cert).0,
        "xmlsec1 accepted a tampered document"
    );
}

#[test]
fn we_sign_rsa_xmlsec1_verifies() {
    we_sign_xmlsec1_verifies("rsa2048");
}

#[test]
fn we_sign_ecdsa_p256_xmlsec1_verifies() {
    we_sign_xmlsec1_verifies("ec-p256");
}

#[test]
fn xmlsec1_whole_document_signature_verifies() {
    // URI="" from a signature on the document element, as IdPs that sign the whole Response
    // write it. Top-level comments are outside the signed data (a "" reference drops
    // comments); top-level processing instructions are inside it.
    let Some(xmlsec1) = common::xmlsec1() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let signature = template(0).replace("URI=\"#_live0\"", "URI=\"\"");
    let doc = format!(
        "<?xml version=\"1.0\"?>\n<!-- before -->\n<?app keep?>\n<r:Doc xmlns:r=\"{ROOT_NS}\">{signature}\n{}\n</r:Doc>\n<!-- after -->\n",
        body(99)
    );
    let key = vectors().join("rsa2048.key");
    let signed = String::from_utf8(xmlsec1_sign(xmlsec1, dir.path(), "s", &doc, &key)).unwrap();
    let cert =
        TrustedKey::from_pem_certificate(&std::fs::read(vectors().join("rsa2048.crt")).unwrap())
            .unwrap();
    let options = VerifyOptions::new(vec![cert]);
    let check = |xml: &str| {
        let doc = Document::parse(xml.as_bytes()).unwrap();
        let sig = signed_signature(&doc);
        verify(&doc, sig, &options).map(|v| v.signed().local_name().to_owned())
    };
    assert_eq!(check(&signed).unwrap(), "Doc");
    assert_eq!(
        check(&signed.replace("<!-- before -->", "<!-- edited -->")).unwrap(),
        "Doc"
    );
    let err = check(&signed.replace("<?app keep?>", "<?app changed?>")).unwrap_err();
    assert!(
        matches!(
            err,
            rampart_xmldsig::Error::Signature {
                reason: rampart_xmldsig::SignatureError::DigestMismatch,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn xmlsec1_ecdsa_with_the_other_curves_digest_is_a_clear_unsupported_error() {
    // RFC 4051 lets a P-256 key sign with ecdsa-sha384 (xmlsec1 does when asked); ring has
    // no raw r||s verifier for that pairing, so it must be named, not "invalid signature".
    let Some(xmlsec1) = common::xmlsec1() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for (i, (key, method)) in [("ec-p256", "ecdsa-sha384"), ("ec-p384", "ecdsa-sha256")]
        .into_iter()
        .enumerate()
    {
        let tmpl = template(1).replace(
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            &format!("http://www.w3.org/2001/04/xmldsig-more#{method}"),
        );
        let xml = xmlsec1_sign(
            xmlsec1,
            dir.path(),
            &format!("ec{i}"),
            &wrapped(1, &tmpl),
            &vectors().join(format!("{key}.key")),
        );
        let cert = TrustedKey::from_pem_certificate(
            &std::fs::read(vectors().join(format!("{key}.crt"))).unwrap(),
        )
        .unwrap();
        let doc = Document::parse(&xml).unwrap();
        match verify(
            &doc,
            signed_signature(&doc),
            &VerifyOptions::new(vec![cert]),
        ) {
            Err(rampart_xmldsig::Error::Signature {
                reason: rampart_xmldsig::SignatureError::UnsupportedAlgorithm(what),
                ..
            }) => assert!(what.contains("ECDSA"), "{what}"),
            other => panic!("{key} with {method}: expected UnsupportedAlgorithm, got {other:?}"),
        }
    }
}
