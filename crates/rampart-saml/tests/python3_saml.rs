//! python3-saml's response suite (tests/samples/python3-saml/, MIT), each file with the verdict
//! README.md and MANIFEST.md's closing note give. The SP is python3-saml's settings1.json (with
//! the other IdP certificates of the suite trusted too, so a refusal is never "wrong key"
//! by accident); `now` is one minute after the Response's IssueInstant and the outstanding
//! request is the one the Response names. All of the suite is RSA-1024/SHA-1, so every case
//! runs with the legacy opt-in, and the accepted ones are also checked to be refused by
//! default with an algorithm error.

mod common;

use std::time::Duration;

use rampart_saml::{Certificate, Expected, IdentityProvider, ServiceProvider, Trace};

const DIR: &str = "samples/python3-saml/data/responses/";
const SP: &str = "http://stuff.com/endpoints/metadata.php";
const ACS: [&str; 2] = [
    "http://stuff.com/endpoints/endpoints/acs.php",
    "https://pitbulk.no-ip.org/newonelogin/demo1/index.php?acs",
];
const IDP: &str = "http://idp.example.com/";
/// The SP of the `*_reference_uri` responses.
const LOCALHOST_SP: &str = "http://localhost:9001/";
const LOCALHOST_ACS: &str = "http://localhost:9001/v1/users/authorize/saml";

fn settings_cert(name: &str) -> Certificate {
    let v: serde_json::Value = serde_json::from_slice(&common::read(&format!(
        "samples/python3-saml/settings/{name}"
    )))
    .unwrap();
    Certificate::from_base64(v["idp"]["x509cert"].as_str().unwrap()).unwrap()
}

/// The certificate (SHA-1 657302a5...) that signed the `*_reference_uri` responses, which
/// the suite's tests configure by fingerprint: taken from the response's KeyInfo here, as
/// test configuration (rampart-saml itself never trusts KeyInfo).
fn reference_uri_cert() -> Certificate {
    let xml = decode(&common::read(&format!(
        "{DIR}response_without_reference_uri.xml.base64"
    )));
    let start = xml.find("X509Certificate>").unwrap() + "X509Certificate>".len();
    let b64: String = xml[start..start + xml[start..].find('<').unwrap()]
        .split_ascii_whitespace()
        .collect();
    let cert = Certificate::from_base64(&b64).unwrap();
    let sha1 = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, cert.der());
    assert_eq!(&sha1.as_ref()[..4], [0x65, 0x73, 0x02, 0xa5]);
    cert
}

fn sp(entity: &str, idp: &str, legacy: bool) -> ServiceProvider {
    let certs = [
        settings_cert("settings1.json"),
        settings_cert("settings2.json"),
        Certificate::from_pem(&common::read("samples/python3-saml/certs/certificate1")).unwrap(),
        reference_uri_cert(),
    ];
    let mut b = ServiceProvider::builder(entity, ACS[0])
        .with_additional_acs_url(ACS[1])
        .with_additional_acs_url(LOCALHOST_ACS)
        .with_additional_acs_url("http://pytoolkit.com:8000/?acs")
        .identity_provider(IdentityProvider::new(idp, certs).unwrap())
        .accept_idp_initiated_unsolicited_responses();
    if legacy {
        b = b.allow_sha1_signatures().allow_small_rsa_keys();
    }
    b.build().unwrap()
}

fn attr<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let key = format!("{name}=\"");
    let s = xml.find(&key)? + key.len();
    Some(&xml[s..s + xml[s..].find('"')?])
}

/// (file, SP entity id, IdP entity id, expected: Ok(NameID) or Err(kind)).
type Row = (
    &'static str,
    &'static str,
    &'static str,
    Result<&'static str, &'static str>,
);

const PITBULK_SP: &str = "https://pitbulk.no-ip.org/newonelogin/demo1/metadata.php";
const TOOLKIT_SP: &str = "http://pytoolkit.com:8000/metadata/";
const IDP_PB: &str = "https://pitbulk.no-ip.org/simplesaml/saml2/idp/metadata.php";
const IDP2: &str = "https://idp.example.com/simplesaml/saml2/idp/metadata.php";

const ROWS: &[Row] = &[
    // Verify with settings1's certificate (MANIFEST closing note).
    (
        "valid_response.xml.base64",
        SP,
        IDP,
        Ok("492882615acf31c8096b627245d76ae53036c090"),
    ),
    (
        "valid_response_with_namequalifier.xml.base64",
        SP,
        IDP,
        Ok("492882615acf31c8096b627245d76ae53036c090"),
    ),
    (
        "valid_response_without_inresponseto.xml.base64",
        PITBULK_SP,
        IDP_PB,
        Ok("492882615acf31c8096b627245d76ae53036c090"),
    ),
    (
        "signed_message_response.xml.base64",
        PITBULK_SP,
        IDP_PB,
        Ok("_b98f98bb1ab512ced653b58baaff543448daed535d"),
    ),
    (
        "signed_assertion_response.xml.base64",
        PITBULK_SP,
        IDP_PB,
        Ok("_3af62f1d03513bdd61dd5bf04d3deb7aa617480e22"),
    ),
    (
        "double_signed_response.xml.base64",
        PITBULK_SP,
        IDP_PB,
        Ok("_2126dd19b8a9a28238d88fdc7385e60995004a7782"),
    ),
    (
        "response_encrypted_nameid.xml.base64",
        SP,
        IDP_PB,
        Err("encrypted_not_supported"),
    ),
    (
        "invalids/wrong_spnamequalifier.xml.base64",
        PITBULK_SP,
        IDP_PB,
        Err("sp_name_qualifier_mismatch"),
    ),
    // Edited after signing upstream (the EncryptedID was altered): digest mismatch.
    (
        "invalids/encrypted_nameID_without_EncMethod.xml.base64",
        PITBULK_SP,
        IDP_PB,
        Err("signature_invalid"),
    ),
    (
        "invalids/encrypted_nameID_without_keyinfo.xml.base64",
        PITBULK_SP,
        IDP_PB,
        Err("signature_invalid"),
    ),
    // The *2 twins verify with settings2's certificate.
    (
        "valid_response2.xml.base64",
        TOOLKIT_SP,
        IDP2,
        Ok("25ddd7d34a7d79db69167625cda56a320adf2876"),
    ),
    (
        "signed_assertion_response2.xml.base64",
        TOOLKIT_SP,
        IDP2,
        Ok("25ddd7d34a7d79db69167625cda56a320adf2876"),
    ),
    (
        "double_signed_response2.xml.base64",
        TOOLKIT_SP,
        IDP2,
        Ok("25ddd7d34a7d79db69167625cda56a320adf2876"),
    ),
    (
        "signed_message_response2.xml.base64",
        TOOLKIT_SP,
        IDP2,
        Err("encrypted_not_supported"),
    ),
    // Encrypted assertions: not supported yet (a later issue adds decryption).
    (
        "double_signed_encrypted_assertion.xml.base64",
        SP,
        IDP,
        Err("encrypted_not_supported"),
    ),
    (
        "double_signed_encrypted_assertion2.xml.base64",
        SP,
        IDP,
        Err("encrypted_not_supported"),
    ),
    (
        "signed_encrypted_assertion.xml.base64",
        SP,
        IDP,
        Err("encrypted_not_supported"),
    ),
    (
        "signed_encrypted_assertion2.xml.base64",
        SP,
        IDP,
        Err("encrypted_not_supported"),
    ),
    (
        "signed_message_encrypted_assertion.xml.base64",
        SP,
        IDP,
        Err("encrypted_not_supported"),
    ),
    (
        "signed_message_encrypted_assertion2.xml.base64",
        SP,
        IDP,
        Err("encrypted_not_supported"),
    ),
    (
        "valid_encrypted_assertion.xml.base64",
        SP,
        IDP,
        Err("encrypted_not_supported"),
    ),
    (
        "valid_encrypted_assertion_encrypted_nameid.xml.base64",
        SP,
        IDP,
        Err("encrypted_not_supported"),
    ),
    // Parse-only fixtures whose signatures do not verify (MANIFEST closing note).
    (
        "adfs_response.xml.base64",
        SP,
        IDP,
        Err("signature_invalid"),
    ),
    ("open_saml_response.xml", SP, IDP, Err("signature_invalid")),
    ("simple_saml_php.xml", SP, IDP, Err("signature_invalid")),
    ("response1.xml.base64", SP, IDP, Err("signature_invalid")),
    (
        "response1_with_duplicate_attributes.xml.base64",
        SP,
        IDP,
        Err("signature_invalid"),
    ),
    ("response2.xml.base64", SP, IDP, Err("signature_invalid")),
    ("response3.xml.base64", SP, IDP, Err("signature_invalid")),
    ("response5.xml.base64", SP, IDP, Err("signature_invalid")),
    (
        "response_node_text_attack.xml.base64",
        SP,
        IDP,
        Err("signature_invalid"),
    ),
    (
        "response_with_nested_nameid_values.xml.base64",
        SP,
        IDP,
        Err("signature_invalid"),
    ),
    (
        "pretty_signed_message_response.xml",
        PITBULK_SP,
        IDP_PB,
        Err("signature_invalid"),
    ),
    (
        "response_with_ampersands.xml",
        SP,
        IDP,
        Err("signature_invalid"),
    ),
    (
        "invalids/signed_assertion_response.xml.base64",
        PITBULK_SP,
        IDP_PB,
        Err("signature_invalid"),
    ),
    (
        "invalids/bad_reference.xml.base64",
        SP,
        IDP,
        Err("signature_invalid"),
    ),
    (
        "invalids/no_key.xml.base64",
        SP,
        IDP,
        Err("signature_invalid"),
    ),
    // Reference URI="" (the whole document) from a signature on the Response: accepted, as
    // python3-saml, php-saml and java-saml accept it (testIsValidSignWithEmptyReferenceURI).
    (
        "response_without_reference_uri.xml.base64",
        LOCALHOST_SP,
        "http://example.com",
        Ok("saml@user.com"),
    ),
    // The same reference from a signature inside the Assertion: refused. It would digest the
    // whole Response, which no peer test relies on; rampart-xmldsig takes "" only from a
    // signature on the document element.
    (
        "response_without_assertion_reference_uri.xml.base64",
        LOCALHOST_SP,
        "http://example.com",
        Err("signature_invalid"),
    ),
    // Destination is the literal "{recipient}" placeholder.
    (
        "response1_with_friendlyname.xml.base64",
        SP,
        IDP,
        Err("destination_mismatch"),
    ),
    // Two assertions (response4/ampersands verify with certificate1 but hold two).
    ("response4.xml.base64", SP, IDP, Err("assertion_count")),
    (
        "response_with_ampersands.xml.base64",
        SP,
        IDP,
        Err("assertion_count"),
    ),
    (
        "invalids/multiple_assertions.xml.base64",
        SP,
        IDP,
        Err("assertion_count"),
    ),
    (
        "invalids/signature_wrapping_attack.xml.base64",
        PITBULK_SP,
        IDP_PB,
        Err("duplicate_id"),
    ),
    (
        "invalids/signature_wrapping_attack2.xml.base64",
        SP,
        IDP,
        Err("assertion_count"),
    ),
    // Unsigned documents (python3-saml checks their other faults with signature checks off;
    // here the missing signature is found first).
    (
        "decrypted_valid_encrypted_assertion.xml",
        SP,
        IDP,
        Err("signature_missing"),
    ),
    (
        "pretty_decrypted_valid_encrypted_assertion.xml",
        SP,
        IDP,
        Err("signature_missing"),
    ),
    (
        "expired_response.xml.base64",
        PITBULK_SP,
        IDP_PB,
        Err("signature_missing"),
    ),
    ("no_audience.xml.base64", SP, IDP, Err("signature_missing")),
    (
        "unsigned_response.xml.base64",
        SP,
        IDP,
        Err("signature_missing"),
    ),
    (
        "unsigned_response_with_miliseconds.xm.base64",
        SP,
        IDP,
        Err("signature_missing"),
    ),
    (
        "valid_unsigned_response.xml",
        PITBULK_SP,
        IDP_PB,
        Err("signature_missing"),
    ),
    (
        "valid_unsigned_response.xml.base64",
        PITBULK_SP,
        IDP_PB,
        Err("signature_missing"),
    ),
    (
        "wrapped_response_2.xml.base64",
        SP,
        IDP,
        Err("signature_missing"),
    ),
    (
        "invalids/encrypted_attrs.xml.base64",
        SP,
        IDP,
        Err("signature_missing"),
    ),
    (
        "invalids/invalid_audience.xml.base64",
        SP,
        IDP,
        Err("signature_missing"),
    ),
    (
        "invalids/invalid_issuer_assertion.xml.base64",
        SP,
        IDP,
        Err("signature_missing"),
    ),
    (
        "invalids/invalid_issuer_message.xml.base64",
        SP,
        IDP,
        Err("signature_missing"),
    ),
    (
        "invalids/invalid_sessionindex.xml.base64",
        SP,
        IDP,
        Err("signature_missing"),
    ),
    (
        "invalids/invalid_subjectconfirmation_inresponse.xml.base64",
        SP,
        IDP,
        Err("signature_missing"),
    ),
    (
        "invalids/invalid_subjectconfirmation_nb.xml.base64",
        SP,
        IDP,
        Err("signature_missing"),
    ),
    (
        "invalids/invalid_subjectconfirmation_noa.xml.base64",
        SP,
        IDP,
        Err("signature_missing"),
    ),
    (
        "invalids/invalid_subjectconfirmation_recipient.xml.base64",
        SP,
        IDP,
        Err("signature_missing"),
    ),
    (
        "invalids/no_nameid.xml.base64",
        SP,
        IDP,
        Err("signature_missing"),
    ),
    (
        "invalids/no_signature.xml.base64",
        SP,
        IDP,
        Err("signature_missing"),
    ),
    (
        "invalids/no_subjectconfirmation_data.xml.base64",
        SP,
        IDP,
        Err("signature_missing"),
    ),
    (
        "invalids/no_subjectconfirmation_method.xml.base64",
        SP,
        IDP,
        Err("signature_missing"),
    ),
    (
        "invalids/response_encrypted_attrs.xml.base64",
        SP,
        IDP,
        Err("signature_missing"),
    ),
    // Signed (pitbulk IdP), each with the one fault its name says. A Response without Issuer
    // is accepted: SAML core 3.2.2 makes it optional (python3-saml is stricter).
    (
        "invalids/duplicated_attributes.xml.base64",
        PITBULK_SP,
        IDP_PB,
        Err("malformed_saml"),
    ),
    (
        "invalids/empty_nameid.xml.base64",
        PITBULK_SP,
        IDP_PB,
        Err("malformed_saml"),
    ),
    (
        "invalids/no_authnstatement.xml.base64",
        PITBULK_SP,
        IDP_PB,
        Err("malformed_saml"),
    ),
    (
        "invalids/no_conditions.xml.base64",
        PITBULK_SP,
        IDP_PB,
        Err("audience_missing"),
    ),
    (
        "invalids/no_issuer_assertion.xml.base64",
        PITBULK_SP,
        IDP_PB,
        Err("issuer_missing"),
    ),
    (
        "invalids/no_issuer_response.xml.base64",
        PITBULK_SP,
        IDP_PB,
        Ok("492882615acf31c8096b627245d76ae53036c090"),
    ),
    // Structure and status.
    (
        "invalids/empty_destination.xml.base64",
        SP,
        IDP,
        Err("destination_mismatch"),
    ),
    ("invalids/no_id.xml.base64", SP, IDP, Err("malformed_saml")),
    (
        "invalids/no_saml2.xml.base64",
        SP,
        IDP,
        Err("malformed_saml"),
    ),
    (
        "invalids/no_status.xml.base64",
        SP,
        IDP,
        Err("malformed_saml"),
    ),
    (
        "invalids/no_status_code.xml.base64",
        SP,
        IDP,
        Err("malformed_saml"),
    ),
    (
        "invalids/not_after_failed.xml.base64",
        SP,
        IDP,
        Err("malformed_saml"),
    ),
    (
        "invalids/not_before_failed.xml.base64",
        SP,
        IDP,
        Err("malformed_saml"),
    ),
    (
        "invalids/status_code_responder.xml.base64",
        SP,
        IDP,
        Err("status_not_success"),
    ),
    (
        "invalids/status_code_responer_and_msg.xml.base64",
        SP,
        IDP,
        Err("status_not_success"),
    ),
    ("unsigned_assertion.xml.base64", SP, IDP, Err("xml_refused")),
];

#[test]
fn python3_saml_verdicts() {
    let mut failures = Vec::new();
    for (file, entity, idp, expected) in ROWS {
        let input = common::read(&format!("{DIR}{file}"));
        let xml = decode(&input);
        let now = common::at(attr(&xml, "IssueInstant").unwrap()) + Duration::from_secs(60);
        let request = attr(&xml, "InResponseTo");
        let exp = request.map_or(Expected::Unsolicited, Expected::Request);
        let mut trace = Trace::default();
        let got = sp(entity, idp, true)
            .validate_response_explained(&input, exp, now, &mut trace)
            .map(|v| v.into_login_without_replay_check().name_id.value);
        let ok = match (expected, &got) {
            (Ok(name), Ok(n)) => name == n,
            (Err(kind), Err(e)) => *kind == e.kind(),
            _ => false,
        };
        if !ok {
            failures.push(format!(
                "{file}: expected {expected:?}, got {:?}\n{trace}",
                got.as_ref().map_err(|e| (e.kind(), e.to_string()))
            ));
        }
        if expected.is_ok() {
            let strict = sp(entity, idp, false).validate_response(&input, exp, now);
            match strict {
                Err(e) if e.kind() == "algorithm_refused" => {}
                other => failures.push(format!(
                    "{file}: default config should refuse the algorithm, got {:?}",
                    other.map(|_| ()).map_err(|e| e.kind())
                )),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn decode(input: &[u8]) -> String {
    use base64::Engine as _;
    let t: Vec<u8> = input
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    if t.first() == Some(&b'<') {
        return String::from_utf8(t).unwrap();
    }
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(t).unwrap()).unwrap()
}

#[test]
#[ignore = "survey: prints the outcome of every file"]
fn survey() {
    let mut files = Vec::new();
    for sub in ["", "invalids/"] {
        for e in std::fs::read_dir(common::dir().join(format!("{DIR}{sub}"))).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_file() {
                files.push(format!("{sub}{}", e.file_name().to_string_lossy()));
            }
        }
    }
    files.sort();
    for file in files {
        let input = common::read(&format!("{DIR}{file}"));
        let xml = decode(&input);
        let Some(ii) = attr(&xml, "IssueInstant") else {
            println!("{file}: no IssueInstant");
            continue;
        };
        let now = common::at(ii) + Duration::from_secs(60);
        let request = attr(&xml, "InResponseTo");
        let exp = request.map_or(Expected::Unsolicited, Expected::Request);
        let got = sp(SP, IDP, true).validate_response(&input, exp, now);
        println!(
            "{file}: {:?}",
            got.map(|v| v.into_login_without_replay_check().name_id.value)
                .map_err(|e| (e.kind(), e.to_string()))
        );
    }
}

#[test]
fn every_response_file_has_a_row() {
    let mut missing = Vec::new();
    for sub in ["", "invalids/"] {
        for e in std::fs::read_dir(common::dir().join(format!("{DIR}{sub}"))).unwrap() {
            let e = e.unwrap();
            let name = format!("{sub}{}", e.file_name().to_string_lossy());
            if e.file_type().unwrap().is_file() && !ROWS.iter().any(|r| r.0 == name) {
                missing.push(name);
            }
        }
    }
    assert!(missing.is_empty(), "no verdict for {missing:?}");
}
