//! EncryptedAssertion (feature `encrypted-assertions`): documents encrypted by xmlsec1 (a
//! third-party encryptor) for every accepted algorithm pair, real IdP samples, and one test
//! per attack on the encryption (altered ciphertext, swapped key, wrong key, truncated IV,
//! unsigned or doubled assertions). Every refusal that depends on the key or the plaintext
//! must be the one `decryption_failed`.
#![cfg(feature = "encrypted-assertions")]

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::{
    at, builder, cert, dir, expected, now, read, sign_assertion, sign_response, unsigned_template,
};
use rampart_saml::{
    DecryptionKey, Error, Expected, IdentityProvider, Login, ServiceProvider, Trace,
};
use rampart_testkit::tool::run;

const AES128_CBC: &str = "http://www.w3.org/2001/04/xmlenc#aes128-cbc";
const AES256_CBC: &str = "http://www.w3.org/2001/04/xmlenc#aes256-cbc";
const AES128_GCM: &str = "http://www.w3.org/2009/xmlenc11#aes128-gcm";
const AES256_GCM: &str = "http://www.w3.org/2009/xmlenc11#aes256-gcm";
const TRIPLEDES: &str = "http://www.w3.org/2001/04/xmlenc#tripledes-cbc";
const MGF1P: &str = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p";
const RSA_1_5: &str = "http://www.w3.org/2001/04/xmlenc#rsa-1_5";

/// How the content key is wrapped.
#[derive(Clone, Copy, Debug)]
enum Wrap {
    /// `xmlenc#rsa-oaep-mgf1p` (SHA-1, MGF1-SHA1), by xmlsec1.
    Mgf1p,
    /// `xmlenc11#rsa-oaep` with SHA-1 and MGF1-SHA1 named explicitly (the same bytes).
    Oaep11Sha1,
    /// `xmlenc11#rsa-oaep` with SHA-256 and MGF1-SHA256: xmlsec1 1.2 cannot, so the key
    /// xmlsec1 wrapped is unwrapped and wrapped again by `openssl pkeyutl`.
    Oaep11Sha256,
    /// `xmlenc#rsa-1_5`, by xmlsec1 (refused).
    Rsa15,
}

fn sp_key() -> DecryptionKey {
    DecryptionKey::from_pkcs8_pem(&read("keys/sp.key.pem"), cert("keys/sp.cert.pem")).unwrap()
}

fn other_key() -> DecryptionKey {
    DecryptionKey::from_pkcs8_pem(
        &read("keys/crewjam-xmlenc.key.pem"),
        cert("keys/crewjam-xmlenc.cert.pem"),
    )
    .unwrap()
}

fn decrypting_sp() -> ServiceProvider {
    builder().with_decryption_key(sp_key()).build().unwrap()
}

fn validate(sp: &ServiceProvider, xml: &str) -> Result<Login, Error> {
    let mut trace = Trace::default();
    let r = sp
        .validate_response_explained(xml.as_bytes(), expected(), now(), &mut trace)
        .map(rampart_saml::ValidatedResponse::into_login_without_replay_check);
    if let Err(e) = &r {
        eprintln!("{} ({e})\n{trace}", e.kind());
    }
    r
}

fn kind(r: Result<Login, Error>) -> &'static str {
    match r {
        Ok(l) => panic!("accepted {:?}", l.name_id),
        Err(e) => e.kind(),
    }
}

fn tools(names: &[&str]) -> bool {
    names.iter().all(|t| rampart_testkit::tool::available(t))
}

/// `xml` (a response whose one `<saml:Assertion>` is plain, signed or not) with the assertion
/// encrypted by `xmlsec1 --encrypt` for the test SP certificate, inside a
/// `saml:EncryptedAssertion`, the content with `data` and the key wrapped as `wrap` says.
fn encrypt(xml: &str, data: &str, wrap: Wrap) -> String {
    let assertion = common::assertion_text(xml);
    let input = xml.replacen(
        assertion,
        &format!("<saml:EncryptedAssertion>{assertion}</saml:EncryptedAssertion>"),
        1,
    );
    let transport = match wrap {
        Wrap::Rsa15 => RSA_1_5,
        _ => MGF1P,
    };
    let encrypted = xmlsec1_encrypt(&input, "//*[local-name()='Assertion']", data, transport);
    match wrap {
        Wrap::Mgf1p | Wrap::Rsa15 => encrypted,
        Wrap::Oaep11Sha1 => encrypted.replacen(
            &format!(r#"<xenc:EncryptionMethod Algorithm="{MGF1P}"/>"#),
            r#"<xenc:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#rsa-oaep"><ds:DigestMethod xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"/><xenc11:MGF xmlns:xenc11="http://www.w3.org/2009/xmlenc11#" Algorithm="http://www.w3.org/2009/xmlenc11#mgf1sha1"/></xenc:EncryptionMethod>"#,
            1,
        ),
        Wrap::Oaep11Sha256 => {
            let (start, end) = key_cipher_value(&encrypted);
            let wrapped = b64(&encrypted[start..end]);
            let cek = pkeyutl(&["-decrypt", "-inkey"], "keys/sp.key.pem", &wrapped, "sha1");
            let rewrapped = pkeyutl(
                &["-encrypt", "-certin", "-inkey"],
                "keys/sp.cert.pem",
                &cek,
                "sha256",
            );
            let mut s = encrypted.clone();
            s.replace_range(start..end, &STANDARD.encode(rewrapped));
            s.replacen(
                &format!(r#"<xenc:EncryptionMethod Algorithm="{MGF1P}"/>"#),
                r#"<xenc:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#rsa-oaep"><ds:DigestMethod xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><xenc11:MGF xmlns:xenc11="http://www.w3.org/2009/xmlenc11#" Algorithm="http://www.w3.org/2009/xmlenc11#mgf1sha256"/></xenc:EncryptionMethod>"#,
                1,
            )
        }
    }
}

/// `xmlsec1 --encrypt` of the element `xpath` selects in `input` (replaced by the
/// EncryptedData), the content key (`data`) wrapped by `transport` for the test SP
/// certificate, in the data's KeyInfo.
fn xmlsec1_encrypt(input: &str, xpath: &str, data: &str, transport: &str) -> String {
    let template = format!(
        r#"<xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" Type="http://www.w3.org/2001/04/xmlenc#Element"><xenc:EncryptionMethod Algorithm="{data}"/><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><xenc:EncryptedKey><xenc:EncryptionMethod Algorithm="{transport}"/><xenc:CipherData><xenc:CipherValue/></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo><xenc:CipherData><xenc:CipherValue/></xenc:CipherData></xenc:EncryptedData>"#
    );
    let session = match data {
        AES128_CBC | AES128_GCM => "aes-128",
        AES256_CBC | AES256_GCM => "aes-256",
        TRIPLEDES => "des-192",
        other => panic!("{other}"),
    };
    let tmp = tempfile::tempdir().unwrap();
    let (doc, tmpl, out) = (
        tmp.path().join("doc.xml"),
        tmp.path().join("tmpl.xml"),
        tmp.path().join("out.xml"),
    );
    std::fs::write(&doc, input).unwrap();
    std::fs::write(&tmpl, template).unwrap();
    run(std::process::Command::new("xmlsec1")
        .arg("--encrypt")
        .arg("--pubkey-cert-pem")
        .arg(dir().join("keys/sp.cert.pem"))
        .args(["--session-key", session])
        .arg("--xml-data")
        .arg(&doc)
        .args(["--node-xpath", xpath])
        .arg("--output")
        .arg(&out)
        .arg(&tmpl));
    std::fs::read_to_string(out).unwrap()
}

fn pkeyutl(args: &[&str], key: &str, input: &[u8], md: &str) -> Vec<u8> {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("in");
    std::fs::write(&path, input).unwrap();
    run(std::process::Command::new("openssl")
        .arg("pkeyutl")
        .args(args)
        .arg(dir().join(key))
        .arg("-in")
        .arg(&path)
        .args(["-pkeyopt", "rsa_padding_mode:oaep"])
        .args(["-pkeyopt", &format!("rsa_oaep_md:{md}")])
        .args(["-pkeyopt", &format!("rsa_mgf1_md:{md}")]))
}

fn b64(s: &str) -> Vec<u8> {
    let compact: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD.decode(compact).unwrap()
}

/// Byte range of the text of the `n`th `CipherValue` in `xml`.
fn cipher_value(xml: &str, n: usize) -> (usize, usize) {
    let mut from = 0;
    for _ in 0..n {
        from += xml[from..].find("<xenc:CipherValue>").unwrap() + 1;
    }
    let start = from + xml[from..].find("<xenc:CipherValue>").unwrap() + "<xenc:CipherValue>".len();
    let end = start + xml[start..].find("</xenc:CipherValue>").unwrap();
    (start, end)
}

/// The wrapped key's CipherValue (xmlsec1 writes the EncryptedKey inside KeyInfo, first).
fn key_cipher_value(xml: &str) -> (usize, usize) {
    cipher_value(xml, 0)
}

/// The EncryptedData's own CipherValue.
fn data_cipher_value(xml: &str) -> (usize, usize) {
    cipher_value(xml, 1)
}

/// `xml` with the data CipherValue decoded, changed by `f`, and encoded again.
fn with_data(xml: &str, f: impl FnOnce(&mut Vec<u8>)) -> String {
    let (start, end) = data_cipher_value(xml);
    let mut bytes = b64(&xml[start..end]);
    f(&mut bytes);
    let mut s = xml.to_owned();
    s.replace_range(start..end, &STANDARD.encode(bytes));
    s
}

fn signed_assertion_template() -> String {
    sign_assertion(&unsigned_template())
}

// ---- every accepted algorithm pair, encrypted by xmlsec1 ----------------------------------

#[test]
fn every_accepted_algorithm_pair_encrypted_by_xmlsec1_is_accepted() {
    if !tools(&["xmlsec1", "openssl"]) {
        return;
    }
    let sp = decrypting_sp();
    let xml = signed_assertion_template();
    for data in [AES128_CBC, AES256_CBC, AES128_GCM, AES256_GCM] {
        for wrap in [Wrap::Mgf1p, Wrap::Oaep11Sha1, Wrap::Oaep11Sha256] {
            let encrypted = encrypt(&xml, data, wrap);
            let login = validate(&sp, &encrypted)
                .unwrap_or_else(|e| panic!("{data} {wrap:?}: {} {e}", e.kind()));
            assert_eq!(login.name_id.value, "alice@example.com", "{data} {wrap:?}");
            assert_eq!(login.attributes.len(), 6);
            assert_eq!(login.signed, rampart_saml::SignedParts::Assertion);
        }
    }
}

#[test]
fn signed_response_over_an_unsigned_encrypted_assertion_is_accepted() {
    if !tools(&["xmlsec1"]) {
        return;
    }
    let encrypted = encrypt(&unsigned_template(), AES256_CBC, Wrap::Mgf1p);
    let login = validate(&decrypting_sp(), &sign_response(&encrypted)).unwrap();
    assert_eq!(login.name_id.value, "alice@example.com");
    assert_eq!(login.signed, rampart_saml::SignedParts::Response);
}

#[test]
fn signed_response_and_signed_encrypted_assertion_are_accepted() {
    if !tools(&["xmlsec1"]) {
        return;
    }
    let encrypted = encrypt(&signed_assertion_template(), AES128_GCM, Wrap::Mgf1p);
    let login = validate(&decrypting_sp(), &sign_response(&encrypted)).unwrap();
    assert_eq!(
        login.signed,
        rampart_saml::SignedParts::ResponseAndAssertion
    );
}

#[test]
fn decrypted_assertion_goes_through_every_check_of_a_plain_one() {
    if !tools(&["xmlsec1"]) {
        return;
    }
    let wrong = sign_assertion(&common::replace_once(
        &unsigned_template(),
        "<saml:Audience>https://sp.example.com/metadata</saml:Audience>",
        "<saml:Audience>https://other.example.com/</saml:Audience>",
    ));
    assert_ne!(wrong, signed_assertion_template());
    let encrypted = encrypt(&wrong, AES256_GCM, Wrap::Mgf1p);
    assert_eq!(
        kind(validate(&decrypting_sp(), &encrypted)),
        "audience_mismatch"
    );
    // and the SP's clock: expired after decryption as before it.
    let mut trace = Trace::default();
    let e = decrypting_sp()
        .validate_response_explained(
            encrypt(&signed_assertion_template(), AES256_GCM, Wrap::Mgf1p).as_bytes(),
            expected(),
            at("2030-01-01T01:00:00Z"),
            &mut trace,
        )
        .unwrap_err();
    assert_eq!(e.kind(), "expired");
}

// ---- refusals -----------------------------------------------------------------------------

#[test]
fn encrypted_assertion_without_decryption_key_is_refused_as_not_supported() {
    if !tools(&["xmlsec1"]) {
        return;
    }
    let encrypted = encrypt(&signed_assertion_template(), AES256_GCM, Wrap::Mgf1p);
    assert_eq!(
        kind(validate(&common::sp(), &encrypted)),
        "encrypted_not_supported"
    );
}

#[test]
fn unsigned_encrypted_assertion_in_unsigned_response_is_rejected() {
    if !tools(&["xmlsec1"]) {
        return;
    }
    for data in [AES128_CBC, AES256_GCM] {
        let encrypted = encrypt(&unsigned_template(), data, Wrap::Mgf1p);
        assert_eq!(
            kind(validate(&decrypting_sp(), &encrypted)),
            "signature_missing"
        );
    }
}

#[test]
fn tripledes_content_encryption_is_refused() {
    if !tools(&["xmlsec1"]) {
        return;
    }
    let encrypted = encrypt(&signed_assertion_template(), TRIPLEDES, Wrap::Mgf1p);
    assert_eq!(
        kind(validate(&decrypting_sp(), &encrypted)),
        "encryption_algorithm_refused"
    );
}

#[test]
fn rsa_1_5_key_transport_is_refused_as_a_padding_oracle() {
    if !tools(&["xmlsec1"]) {
        return;
    }
    let encrypted = encrypt(&signed_assertion_template(), AES256_GCM, Wrap::Rsa15);
    assert_eq!(
        kind(validate(&decrypting_sp(), &encrypted)),
        "encryption_algorithm_refused"
    );
}

#[test]
fn flipped_ciphertext_byte_fails_decryption_uniformly() {
    if !tools(&["xmlsec1"]) {
        return;
    }
    let xml = signed_assertion_template();
    for data in [AES128_CBC, AES256_CBC, AES128_GCM, AES256_GCM] {
        let encrypted = encrypt(&xml, data, Wrap::Mgf1p);
        // Last byte (CBC: the pad length; GCM: the tag), a middle byte, the first IV byte.
        for pick in [usize::MAX, 40, 0] {
            let bad = with_data(&encrypted, |b| {
                let i = pick.min(b.len() - 1);
                b[i] ^= 0x01;
            });
            let e = validate(&decrypting_sp(), &bad).unwrap_err();
            // A flipped IV byte in CBC changes only the first plaintext byte: `<` becomes
            // `=`, which does not parse either.
            assert_eq!(e.kind(), "decryption_failed", "{data} byte {pick}");
            assert_eq!(e.to_string(), "decryption failed");
        }
    }
}

#[test]
fn flipped_ciphertext_byte_under_signed_response_fails_the_signature_first() {
    if !tools(&["xmlsec1"]) {
        return;
    }
    let signed = sign_response(&encrypt(&unsigned_template(), AES256_CBC, Wrap::Mgf1p));
    let bad = with_data(&signed, |b| b[40] ^= 1);
    assert_eq!(kind(validate(&decrypting_sp(), &bad)), "signature_invalid");
}

#[test]
fn swapped_encrypted_key_fails_decryption_uniformly() {
    if !tools(&["xmlsec1"]) {
        return;
    }
    let xml = signed_assertion_template();
    let a = encrypt(&xml, AES256_GCM, Wrap::Mgf1p);
    let b = encrypt(&xml, AES256_GCM, Wrap::Mgf1p);
    let (sa, ea) = key_cipher_value(&a);
    let (sb, eb) = key_cipher_value(&b);
    assert_ne!(a[sa..ea], b[sb..eb], "two session keys");
    let mut swapped = a.clone();
    swapped.replace_range(sa..ea, &b[sb..eb]);
    let e = validate(&decrypting_sp(), &swapped).unwrap_err();
    assert_eq!(e.kind(), "decryption_failed");
}

#[test]
fn garbage_encrypted_key_fails_like_a_bad_tag_or_padding() {
    if !tools(&["xmlsec1"]) {
        return;
    }
    let encrypted = encrypt(&signed_assertion_template(), AES128_CBC, Wrap::Mgf1p);
    let (s, e) = key_cipher_value(&encrypted);
    let mut bad = encrypted.clone();
    // A 2048-bit block that is not OAEP for our key: aws-lc-rs refuses the padding; the
    // response is refused exactly as a bad CBC padding is.
    bad.replace_range(s..e, &STANDARD.encode([0x5a_u8; 256]));
    let oaep = validate(&decrypting_sp(), &bad).unwrap_err();
    let padding = validate(
        &decrypting_sp(),
        &with_data(&encrypted, |b| {
            let n = b.len();
            b[n - 17] ^= 0x80;
        }),
    )
    .unwrap_err();
    assert_eq!(oaep.kind(), "decryption_failed");
    assert_eq!(oaep.kind(), padding.kind());
    assert_eq!(oaep.to_string(), padding.to_string());
}

#[test]
fn wrong_decryption_key_fails_decryption() {
    if !tools(&["xmlsec1"]) {
        return;
    }
    let encrypted = encrypt(&signed_assertion_template(), AES256_CBC, Wrap::Mgf1p);
    let sp = builder().with_decryption_key(other_key()).build().unwrap();
    assert_eq!(kind(validate(&sp, &encrypted)), "decryption_failed");
}

#[test]
fn next_decryption_key_decrypts_during_a_rollover() {
    if !tools(&["xmlsec1"]) {
        return;
    }
    let encrypted = encrypt(&signed_assertion_template(), AES256_CBC, Wrap::Mgf1p);
    let sp = builder()
        .with_decryption_key(other_key())
        .with_decryption_key(sp_key())
        .build()
        .unwrap();
    assert_eq!(
        validate(&sp, &encrypted).unwrap().name_id.value,
        "alice@example.com"
    );
}

#[test]
fn truncated_iv_fails_decryption() {
    if !tools(&["xmlsec1"]) {
        return;
    }
    let xml = signed_assertion_template();
    for data in [AES128_CBC, AES256_GCM] {
        let encrypted = encrypt(&xml, data, Wrap::Mgf1p);
        for keep in [0, 5, 11, 15] {
            let bad = with_data(&encrypted, |b| b.truncate(keep));
            assert_eq!(
                kind(validate(&decrypting_sp(), &bad)),
                "decryption_failed",
                "{data} {keep}"
            );
        }
    }
}

#[test]
fn encrypted_assertion_next_to_a_signed_plain_one_is_rejected() {
    if !tools(&["xmlsec1"]) {
        return;
    }
    let signed = signed_assertion_template();
    let encrypted = encrypt(&signed, AES256_GCM, Wrap::Mgf1p);
    let start = encrypted.find("<saml:EncryptedAssertion").unwrap();
    let end =
        encrypted.find("</saml:EncryptedAssertion>").unwrap() + "</saml:EncryptedAssertion>".len();
    let both = signed.replacen(
        "</samlp:Response>",
        &format!("{}</samlp:Response>", &encrypted[start..end]),
        1,
    );
    assert_eq!(kind(validate(&decrypting_sp(), &both)), "assertion_count");
}

#[test]
fn plaintext_that_is_not_one_assertion_fails_decryption_uniformly() {
    if !tools(&["xmlsec1"]) {
        return;
    }
    // Something else encrypted for our key inside the EncryptedAssertion: an assertion
    // wrapped in another element.
    let xml = signed_assertion_template();
    let assertion = common::assertion_text(&xml).to_owned();
    let input = xml.replacen(
        &assertion,
        &format!(
            "<saml:EncryptedAssertion><x:Evil xmlns:x=\"urn:x\">{assertion}</x:Evil></saml:EncryptedAssertion>"
        ),
        1,
    );
    let encrypted = xmlsec1_encrypt(&input, "//*[local-name()='Evil']", AES256_GCM, MGF1P);
    assert_eq!(
        kind(validate(&decrypting_sp(), &encrypted)),
        "decryption_failed"
    );
}

/// The template with its NameID in an `EncryptedID` and its displayName attribute in an
/// `EncryptedAttribute`, both encrypted by xmlsec1 (assertion still plain and unsigned).
fn encrypted_id_and_attribute(data: &str) -> String {
    let xml = unsigned_template();
    let start = xml.find("<saml:NameID ").unwrap();
    let end = xml.find("</saml:NameID>").unwrap() + "</saml:NameID>".len();
    let name_id = &xml[start..end];
    let xml = xml.replacen(
        name_id,
        &format!("<saml:EncryptedID>{name_id}</saml:EncryptedID>"),
        1,
    );
    let xml = xmlsec1_encrypt(&xml, "//*[local-name()='NameID']", data, MGF1P);
    let start = xml.find(r#"<saml:Attribute Name="displayName""#).unwrap();
    let end = start + xml[start..].find("</saml:Attribute>").unwrap() + "</saml:Attribute>".len();
    let attribute = xml[start..end].to_owned();
    let xml = xml.replacen(
        &attribute,
        &format!("<saml:EncryptedAttribute>{attribute}</saml:EncryptedAttribute>"),
        1,
    );
    // xmlsec1 adds an XML declaration: the assertion signer wants it gone no more than the
    // parser minds it.
    xmlsec1_encrypt(
        &xml,
        "//*[local-name()='Attribute'][@Name='displayName']",
        data,
        MGF1P,
    )
}

#[test]
fn encrypted_id_and_encrypted_attribute_in_a_signed_assertion_are_decrypted() {
    if !tools(&["xmlsec1"]) {
        return;
    }
    for data in [AES128_CBC, AES256_GCM] {
        let xml = sign_assertion(&encrypted_id_and_attribute(data));
        assert!(xml.contains("<saml:EncryptedID>") && !xml.contains("<saml:NameID"));
        let login = validate(&decrypting_sp(), &xml).unwrap();
        assert_eq!(login.name_id.value, "alice@example.com", "{data}");
        assert_eq!(
            login.name_id.sp_name_qualifier.as_deref(),
            Some("https://sp.example.com/metadata")
        );
        let display = login
            .attributes
            .iter()
            .find(|a| a.name == "displayName")
            .unwrap();
        assert_eq!(display.values, ["Alice Liddell"]);
        assert_eq!(login.attributes.len(), 6);
    }
}

#[test]
fn encrypted_id_inside_an_encrypted_assertion_is_decrypted() {
    if !tools(&["xmlsec1"]) {
        return;
    }
    let xml = sign_assertion(&encrypted_id_and_attribute(AES128_GCM));
    let encrypted = encrypt(&xml, AES256_CBC, Wrap::Mgf1p);
    let login = validate(&decrypting_sp(), &encrypted).unwrap();
    assert_eq!(login.name_id.value, "alice@example.com");
}

#[test]
fn encrypted_id_without_decryption_key_is_refused_as_not_supported() {
    if !tools(&["xmlsec1"]) {
        return;
    }
    let xml = sign_assertion(&encrypted_id_and_attribute(AES128_GCM));
    assert_eq!(
        kind(validate(&common::sp(), &xml)),
        "encrypted_not_supported"
    );
}

#[test]
fn tampered_encrypted_id_under_the_assertion_signature_is_rejected() {
    if !tools(&["xmlsec1"]) {
        return;
    }
    // The EncryptedID's ciphertext is part of the signed assertion: changing it breaks the
    // signature before anything is decrypted.
    let xml = sign_assertion(&encrypted_id_and_attribute(AES128_CBC));
    let bad = with_data(&xml, |b| b[20] ^= 1);
    assert_eq!(kind(validate(&decrypting_sp(), &bad)), "signature_invalid");
}

// ---- real IdP samples (content key re-wrapped for the test SP key: fixtures/encrypted/) ----

struct Sample {
    file: &'static str,
    certs: Vec<rampart_saml::Certificate>,
    sp: &'static str,
    acs: &'static str,
    idp: &'static str,
    request: &'static str,
    now: &'static str,
    legacy: bool,
}

impl Sample {
    fn run(&self) -> Result<Login, Error> {
        self.run_with(
            &String::from_utf8(read(&format!("fixtures/encrypted/{}", self.file))).unwrap(),
        )
    }

    fn run_with(&self, xml: &str) -> Result<Login, Error> {
        let mut b = ServiceProvider::builder(self.sp, self.acs)
            .identity_provider(IdentityProvider::new(self.idp, self.certs.clone()).unwrap())
            .with_decryption_key(sp_key());
        if self.legacy {
            b = b.allow_sha1_signatures().allow_small_rsa_keys();
        }
        let mut trace = Trace::default();
        let r = b
            .build()
            .unwrap()
            .validate_response_explained(
                xml.as_bytes(),
                Expected::Request(self.request),
                at(self.now),
                &mut trace,
            )
            .map(rampart_saml::ValidatedResponse::into_login_without_replay_check);
        if let Err(e) = &r {
            eprintln!("{}: {} ({e})\n{trace}", self.file, e.kind());
        }
        r
    }
}

fn okta(file: &'static str, request: &'static str) -> Sample {
    let md = read(
        "samples/crewjam-saml/testdata/TestSPCanHandleOktaSignedResponseEncryptedAssertion_IDPMetadata",
    );
    Sample {
        file,
        certs: rampart_saml::IdpMetadata::parse_all(&md)
            .unwrap()
            .into_iter()
            .flat_map(|m| m.signing_certificates)
            .collect(),
        sp: "http://localhost:8000/saml/metadata",
        acs: "http://localhost:8000/saml/acs",
        idp: "http://www.okta.com/exkppsa1qwuFV4D7z0h7",
        request,
        now: "2020-03-03T19:30:00Z",
        legacy: false,
    }
}

#[test]
fn okta_sibling_encrypted_key_by_retrieval_method_is_accepted() {
    // Okta puts the EncryptedKey beside the EncryptedData and points at it with
    // ds:RetrievalMethod; the assertion inside is signed (RSA-SHA256), the Response is not.
    let login = okta(
        "okta_encrypted_signed_assertion.xml",
        "id-6d976cdde8e76df5df0a8ff58148fc0b7ec6796d",
    )
    .run()
    .unwrap();
    assert_eq!(login.name_id.value, "testuser@testrsc.com");
    assert_eq!(login.signed, rampart_saml::SignedParts::Assertion);
}

#[test]
fn okta_swapped_encrypted_key_under_signed_response_is_rejected() {
    // The re-wrapped key is a swapped EncryptedKey: the Okta Response signature covers the
    // original one, so it no longer verifies, and nothing is decrypted.
    let s = okta(
        "okta_signed_response_encrypted_assertion.xml",
        "id-a7364d1e4432aa9085a7a8bd824ea2fa8fa8f684",
    );
    assert_eq!(kind(s.run()), "signature_invalid");
    let s = okta(
        "okta_both_signed.xml",
        "id-953d4cab69ff475c5901d12e585b0bb15a7b85fe",
    );
    assert_eq!(kind(s.run()), "signature_invalid");
}

#[test]
fn okta_retrieval_method_sample_with_signed_response_is_rejected_after_key_swap() {
    let s = Sample {
        file: "okta_retrieval_method.xml",
        certs: vec![cert("samples/ruby-saml/derived-certs/4aeb06b1.pem")],
        sp: "http://sp.example.com/saml/metadata",
        acs: "http://sp.example.com/saml/acs",
        idp: "http://www.okta.com/exk4jkh2xxJIrTmGP0x7",
        request: "_a20019d0-ccdb-0133-0c29-3888e3304166",
        now: "2016-03-15T13:00:00Z",
        legacy: false,
    };
    assert_eq!(kind(s.run()), "signature_invalid");
    // Without the (now broken) Response signature, the signed assertion inside decrypts and
    // is accepted: the RetrievalMethod structure of the real Okta document works.
    let xml = String::from_utf8(read("fixtures/encrypted/okta_retrieval_method.xml")).unwrap();
    let stripped = strip_response_signature(&xml);
    assert_eq!(s.run_with(&stripped).unwrap().name_id.value, "user1");
}

/// `xml` without the Response's own `ds:Signature` (the first one, before the assertion).
fn strip_response_signature(xml: &str) -> String {
    let start = xml.find("<ds:Signature").unwrap();
    let end = start + xml[start..].find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
    assert!(start < xml.find("EncryptedAssertion").unwrap());
    format!("{}{}", &xml[..start], &xml[end..])
}

#[test]
fn testshib_encrypted_signed_assertion_is_accepted() {
    let md = read("samples/crewjam-saml/samlsp/testdata/idp_metadata.xml");
    let s = Sample {
        file: "testshib_encrypted_signed_assertion.xml",
        certs: rampart_saml::IdpMetadata::parse_all(&md)
            .unwrap()
            .into_iter()
            .flat_map(|m| m.signing_certificates)
            .collect(),
        sp: "https://15661444.ngrok.io/saml2/metadata",
        acs: "https://15661444.ngrok.io/saml2/acs",
        idp: "https://idp.testshib.org/idp/shibboleth",
        request: "id-9e61753d64e928af5a7a341a97f420c9",
        now: "2015-12-01T01:57:00Z",
        legacy: false,
    };
    let login = s.run().unwrap();
    assert_eq!(login.name_id.value, "_41bd295976dadd70e1480f318e772841");
    assert_eq!(login.attributes.len(), 10);
}

fn onelogin(file: &'static str) -> Sample {
    Sample {
        file,
        certs: vec![cert("samples/ruby-saml/derived-certs/5614657a.pem")],
        sp: "http://sp.example.com/demo1/metadata.php",
        acs: "http://sp.example.com/demo1/index.php?acs",
        idp: "http://idp.example.com/metadata.php",
        request: "ONELOGIN_4fee3b046395c4e751011e97f8900b5273d56685",
        now: "2014-07-17T01:02:00Z",
        legacy: true,
    }
}

#[test]
fn onelogin_aes128_gcm_signed_assertion_is_accepted_with_legacy_sha1() {
    let s = onelogin("onelogin_aes128gcm_signed_assertion.xml");
    let login = s.run().unwrap();
    assert_eq!(
        login.name_id.value,
        "_ce3d2948b4cf20146dee0a0b3dd6f69b6cf86f62d7"
    );
    let strict = Sample { legacy: false, ..s };
    assert_eq!(kind(strict.run()), "algorithm_refused");
}

#[test]
fn onelogin_tripledes_and_rsa_1_5_sample_is_refused_for_its_algorithms() {
    // MANIFEST: REJECT by default (3DES content, RSA PKCS#1 v1.5 key transport). Refused
    // from the EncryptionMethod alone, before any key is used (its SP key is RSA-1024).
    let s = onelogin("unused");
    let b64 = read(
        "samples/ruby-saml/test/responses/unsigned_message_des192_encrypted_signed_assertion.xml.base64",
    );
    assert_eq!(
        kind(s.run_with(std::str::from_utf8(&b64).unwrap())),
        "encryption_algorithm_refused"
    );
}

#[test]
fn unsigned_encrypted_sample_is_rejected() {
    let s = Sample {
        file: "unsigned_encrypted.xml",
        certs: vec![cert("samples/ruby-saml/derived-certs/ee174efb.pem")],
        sp: "http://rubysaml.com:3000/saml/metadata",
        acs: "http://rubysaml.com:3000/saml/acs",
        idp: "https://idp.example.com/simplesaml/saml2/idp/metadata.php",
        request: "_3ab7adb0-b06e-0132-5c3b-0090f5dedd77",
        now: "2015-03-19T14:01:00Z",
        legacy: true,
    };
    assert_eq!(kind(s.run()), "signature_missing");
}

#[test]
fn shibboleth_aes128_gcm_sample_decrypts_with_its_own_4096_bit_key() {
    // crewjam's xmlenc vector, decrypted with its own key (no re-wrapping). Its Response
    // signature does not verify (the document was re-serialised after signing): refused.
    let xml =
        String::from_utf8(read("samples/crewjam-saml/xmlenc/testdata/input_gcm.xml")).unwrap();
    let sp = |key| {
        ServiceProvider::builder(
            "https://main.auth-sso.de.qa.medicuja.de/saml/metadata/df0oO2",
            "https://main.auth-sso.de.qa.medicuja.de/saml/acs/df0oO2",
        )
        .identity_provider(
            IdentityProvider::new(
                "https://testidp2.aai.dfn.de/idp/shibboleth",
                [cert("samples/crewjam-saml/derived-certs/be21cfdd.pem")],
            )
            .unwrap(),
        )
        .with_decryption_key(key)
        .build()
        .unwrap()
    };
    let go = |sp: &ServiceProvider, xml: &str| {
        sp.validate_response(
            xml.as_bytes(),
            Expected::Request("id-e6f187b9a8bc8790b976805c5888a8635a0f5b18"),
            at("2021-08-11T15:33:00Z"),
        )
        .map(rampart_saml::ValidatedResponse::into_login_without_replay_check)
    };
    assert_eq!(kind(go(&sp(other_key()), &xml)), "signature_invalid");
    // The assertion inside is signed and verifies once decrypted.
    let login = go(&sp(other_key()), &strip_response_signature(&xml)).unwrap();
    assert!(
        login
            .name_id
            .value
            .starts_with("AAdzZWNyZXQxm924IEWIZegn9l1NChK4GXWETDW/ca4x")
    );
    // The test SP key is not the one it was encrypted for.
    assert_eq!(
        kind(go(&sp(sp_key()), &strip_response_signature(&xml))),
        "decryption_failed"
    );
}

// ---- keys -----------------------------------------------------------------------------------

#[test]
fn decryption_key_prints_redacted_and_refuses_mismatched_certificate() {
    assert_eq!(format!("{:?}", sp_key()), "DecryptionKey([REDACTED])");
    let e = DecryptionKey::from_pkcs8_pem(&read("keys/sp.key.pem"), cert("keys/idp.cert.pem"))
        .unwrap_err();
    assert!(matches!(
        e,
        rampart_saml::DecryptionKeyError::CertificateMismatch
    ));
}

#[test]
fn pkcs1_and_1024_bit_decryption_keys_are_refused() {
    let e = DecryptionKey::from_pkcs8_pem(
        &read("samples/crewjam-saml/testdata/sp_key.pem"),
        cert("samples/crewjam-saml/testdata/sp_cert.pem"),
    )
    .unwrap_err();
    assert!(matches!(e, rampart_saml::DecryptionKeyError::Pkcs1));
    assert_eq!(Error::from(e).kind(), "config");
    let e =
        DecryptionKey::from_pkcs8_pem(&read("keys/idp1024.key.pem"), cert("keys/idp1024.cert.pem"))
            .unwrap_err();
    assert!(matches!(e, rampart_saml::DecryptionKeyError::Rejected));
}

#[test]
fn sp_metadata_publishes_every_encryption_certificate() {
    let sp = builder()
        .with_decryption_key(sp_key())
        .with_decryption_key(other_key())
        .build()
        .unwrap();
    let xml = sp.metadata_xml();
    assert_eq!(
        xml.matches(r#"<md:KeyDescriptor use="encryption">"#)
            .count(),
        2
    );
    for c in [
        cert("keys/sp.cert.pem"),
        cert("keys/crewjam-xmlenc.cert.pem"),
    ] {
        assert!(xml.contains(&c.to_base64()));
    }
    for uri in [
        AES128_GCM,
        AES256_GCM,
        AES128_CBC,
        AES256_CBC,
        MGF1P,
        "http://www.w3.org/2009/xmlenc11#rsa-oaep",
    ] {
        assert!(
            xml.contains(&format!(r#"<md:EncryptionMethod Algorithm="{uri}""#)),
            "{uri}"
        );
    }
    assert!(!xml.contains(TRIPLEDES) && !xml.contains(RSA_1_5));
}

// ---- properties: no change to an encrypted assertion's bytes is accepted -------------------

mod properties {
    use std::sync::OnceLock;

    use proptest::prelude::*;

    use super::{
        AES256_CBC, AES256_GCM, Wrap, b64, data_cipher_value, decrypting_sp, encrypt,
        key_cipher_value, sign_response, signed_assertion_template, tools, unsigned_template,
    };
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use rampart_saml::{Error, Login, ServiceProvider};

    /// Validation without the trace printing of the tests above (hundreds of cases).
    fn check(sp: &ServiceProvider, xml: &str) -> Result<Login, Error> {
        sp.validate_response(xml.as_bytes(), super::expected(), super::now())
            .map(rampart_saml::ValidatedResponse::into_login_without_replay_check)
    }

    /// Documents encrypted once by xmlsec1 (`None` after a loud skip without it).
    struct Docs {
        /// AES-256-GCM around a signed assertion, in an unsigned response.
        gcm: String,
        /// AES-256-CBC around an unsigned assertion, in a signed response.
        cbc_signed_response: String,
        /// AES-256-CBC around a signed assertion, in an unsigned response.
        cbc_signed_assertion: String,
        /// What the untouched CBC document logs in as.
        login: Login,
    }

    fn docs() -> Option<&'static Docs> {
        static DOCS: OnceLock<Option<Docs>> = OnceLock::new();
        DOCS.get_or_init(|| {
            if !tools(&["xmlsec1"]) {
                return None;
            }
            let signed = signed_assertion_template();
            let cbc_signed_assertion = encrypt(&signed, AES256_CBC, Wrap::Mgf1p);
            let login = check(&decrypting_sp(), &cbc_signed_assertion).unwrap();
            Some(Docs {
                gcm: encrypt(&signed, AES256_GCM, Wrap::Mgf1p),
                cbc_signed_response: sign_response(&encrypt(
                    &unsigned_template(),
                    AES256_CBC,
                    Wrap::Mgf1p,
                )),
                cbc_signed_assertion,
                login,
            })
        })
        .as_ref()
    }

    /// `xml` with byte `at` (modulo its length) of the CipherValue in `range` XORed with `x`.
    fn flip(xml: &str, range: (usize, usize), at: usize, x: u8) -> String {
        let mut bytes = b64(&xml[range.0..range.1]);
        let i = at % bytes.len();
        bytes[i] ^= x;
        let mut s = xml.to_owned();
        s.replace_range(range.0..range.1, &STANDARD.encode(bytes));
        s
    }

    fn sp() -> &'static ServiceProvider {
        static SP: OnceLock<ServiceProvider> = OnceLock::new();
        SP.get_or_init(decrypting_sp)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// GCM: any change to the content ciphertext (IV, body or tag) or to the wrapped key
        /// fails, and always as the one uniform `decryption_failed`.
        #[test]
        fn any_changed_gcm_or_wrapped_key_byte_is_refused_uniformly(
            at in any::<usize>(), x in 1u8..=255, in_key in any::<bool>()
        ) {
            let Some(d) = docs() else { return Ok(()) };
            let range = if in_key { key_cipher_value(&d.gcm) } else { data_cipher_value(&d.gcm) };
            let e = check(sp(), &flip(&d.gcm, range, at, x)).unwrap_err();
            prop_assert_eq!(e.kind(), "decryption_failed");
        }

        /// Under a signed response, a change to any character of the EncryptedAssertion's XML
        /// (markup, algorithm names, base64) is refused.
        #[test]
        fn any_changed_character_under_a_signed_response_is_refused(
            at in any::<usize>(), c in proptest::char::range('!', '~')
        ) {
            let Some(d) = docs() else { return Ok(()) };
            let xml = &d.cbc_signed_response;
            let start = xml.find("<saml:EncryptedAssertion").unwrap();
            let end = xml.find("</saml:EncryptedAssertion>").unwrap();
            let i = start + at % (end - start);
            prop_assume!(xml.is_char_boundary(i) && !xml[i..].starts_with(c));
            let mut bad = xml.clone();
            let len = xml[i..].chars().next().unwrap().len_utf8();
            bad.replace_range(i..i + len, &c.to_string());
            prop_assert!(check(sp(), &bad).is_err());
        }

        /// CBC under the assertion's own signature: CBC is malleable, so a changed byte is
        /// refused, except a change the signature cannot see (an IV byte that turns whitespace
        /// between attributes into other whitespace), which then logs in as the very same user
        /// with the very same attributes.
        #[test]
        fn cbc_changes_under_the_assertion_signature_never_change_the_login(
            at in any::<usize>(), x in 1u8..=255, in_key in any::<bool>()
        ) {
            let Some(d) = docs() else { return Ok(()) };
            let xml = &d.cbc_signed_assertion;
            let range = if in_key { key_cipher_value(xml) } else { data_cipher_value(xml) };
            if let Ok(login) = check(sp(), &flip(xml, range, at, x)) {
                prop_assert!(!in_key, "a changed wrapped key was accepted");
                prop_assert!(at % b64(&xml[range.0..range.1]).len() < 16, "a body byte: {}", at);
                prop_assert_eq!(&login.name_id, &d.login.name_id);
                prop_assert_eq!(&login.attributes, &d.login.attributes);
            }
        }
    }
}
