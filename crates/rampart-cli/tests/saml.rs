//! `rampart saml verify|metadata|authn-request` against the test IdP of rampart-saml
//! (fixtures in `tests/fixtures/`, see its README).

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use base64::Engine as _;
use common::saml::{ACS, IDP_ENTITY, NOW, SP_ENTITY, assert_refused, fixture, metadata, read};
use common::{assert_exit, assert_no_secret, json_stdout, private_file, rampart};
use serde_json::Value;
use tempfile::TempDir;

const REQUEST_ID: &str = "_req0123456789abcdef0123456789abcdef";
/// ID of the assertion in `assertion_signed.xml` (the element its signature covers).
const ASSERTION_ID: &str = "_a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b";
/// `openssl x509 -in tests/fixtures/idp.cert.pem -noout -fingerprint -sha256`
const IDP_SHA256: &str = "DD:24:76:11:95:89:C5:6F:FA:5F:35:31:CE:95:4C:85:16:FB:06:32:8B:A0:1D:3C:0E:5F:7C:5D:9E:E1:68:84";
/// The same for `attacker.cert.pem`, the certificate in `attacker_signed.xml`'s KeyInfo.
const ATTACKER_SHA256: &str = "AC:DA:7D:E6:91:95:D4:F4:F3:20:05:B7:21:02:45:C5:D5:2F:3C:64:8C:10:D8:9B:A8:B1:7B:89:96:25:9A:63";

/// `saml verify` of `response` (a path) with the usual settings plus `extra`.
fn verify(response: &Path, extra: &[&str]) -> Output {
    verify_at(NOW, response, extra)
}

fn verify_at(now: &str, response: &Path, extra: &[&str]) -> Output {
    verify_trusting(&fixture("idp.cert.pem"), now, response, extra)
}

fn verify_trusting(idp_cert: &Path, now: &str, response: &Path, extra: &[&str]) -> Output {
    rampart()
        .args(["saml", "verify", "--idp-cert"])
        .arg(idp_cert)
        .args(["--sp-entity-id", SP_ENTITY, "--acs-url", ACS, "--now", now])
        .args(extra)
        .arg(response)
        .output()
        .unwrap()
}

fn strict(extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = ["--idp-entity-id", IDP_ENTITY, "--request-id", REQUEST_ID]
        .map(String::from)
        .to_vec();
    v.extend(extra.iter().map(|s| (*s).to_owned()));
    v
}

fn verify_strict(response: &Path, extra: &[&str]) -> Output {
    let args = strict(extra);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    verify(response, &args)
}

fn assert_rejected(out: &Output, kind: &str) -> Value {
    let json = assert_refused(out, kind);
    assert!(json["message"].is_string());
    json
}

#[test]
fn verify_accepts_a_signed_assertion_and_prints_the_login() {
    let out = verify_strict(&fixture("assertion_signed.xml"), &[]);
    assert_exit(&out, 0);
    let json = json_stdout(&out);
    assert_eq!(json["valid"], true);
    assert_eq!(json["issuer"], IDP_ENTITY);
    assert_eq!(json["name_id"], "alice@example.com");
    assert_eq!(json["session_index"], "_s1a2b3c4d5e6f7a8b9c0");
    assert_eq!(json["issuer_checked"], true);
    assert_eq!(
        json["attributes"]["displayName"],
        serde_json::json!(["Alice Liddell"])
    );
    assert_eq!(
        json["attributes"]["urn:oid:2.5.4.4"],
        serde_json::json!(["Liddell & Co"]),
        "entities decoded"
    );
    assert_eq!(json["attributes"]["groups"].as_array().unwrap().len(), 40);
    assert!(json.get("checks").is_none(), "checks only with --explain");
}

#[test]
fn verify_accepts_the_base64_form_value_and_stdin() {
    let dir = TempDir::new().unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(read("response_signed.xml"));
    // Some IdPs wrap the form value at 76 columns.
    let wrapped: String = b64
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join("\r\n");
    let path = dir.path().join("response.b64");
    std::fs::write(&path, &wrapped).unwrap();
    let out = verify_strict(&path, &[]);
    assert_exit(&out, 0);
    assert_eq!(json_stdout(&out)["signed"], "response");

    let args = strict(&[]);
    let out = rampart()
        .args(["saml", "verify", "--idp-cert"])
        .arg(fixture("idp.cert.pem"))
        .args(["--sp-entity-id", SP_ENTITY, "--acs-url", ACS, "--now", NOW])
        .args(&args)
        .arg("-")
        .write_stdin(b64)
        .output()
        .unwrap();
    assert_exit(&out, 0);
}

#[test]
fn verify_with_idp_metadata_checks_the_issuer() {
    let out = rampart()
        .args(["saml", "verify", "--idp-metadata"])
        .arg(fixture("idp-metadata.xml"))
        .args(["--sp-entity-id", SP_ENTITY, "--acs-url", ACS, "--now", NOW])
        .args(["--request-id", REQUEST_ID])
        .arg(fixture("assertion_signed.xml"))
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(json_stdout(&out)["issuer_checked"], true);
}

#[test]
fn verify_without_idp_entity_id_says_the_issuer_was_not_compared() {
    let out = verify(
        &fixture("assertion_signed.xml"),
        &["--request-id", REQUEST_ID],
    );
    assert_exit(&out, 0);
    let json = json_stdout(&out);
    assert_eq!(json["issuer"], IDP_ENTITY);
    assert_eq!(json["issuer_checked"], false);
    assert!(
        stderr(&out).contains("warning: the Issuer was not checked"),
        "{}",
        stderr(&out)
    );
    // With the entity id, no warning.
    let out = verify_strict(&fixture("assertion_signed.xml"), &[]);
    assert_exit(&out, 0);
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
}

/// `--idp-cert bundle.pem` with the next certificate first and the current one second (an
/// IdP mid-rollover): every certificate of the file is trusted, not only the first.
#[test]
fn idp_cert_bundle_trusts_every_certificate_in_it() {
    let dir = TempDir::new().unwrap();
    let bundle = dir.path().join("bundle.pem");
    std::fs::write(&bundle, read("sp.cert.pem") + &read("idp.cert.pem")).unwrap();
    // The signer's certificate is the second one: trusting only the first would refuse.
    let strict_args = strict(&[]);
    let strict_args: Vec<&str> = strict_args.iter().map(String::as_str).collect();
    let response = fixture("assertion_signed.xml");
    let out = verify_trusting(&bundle, NOW, &response, &strict_args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json_stdout(&out)["name_id"], "alice@example.com");
    // A bundle with a private key block in it is refused, not partly read.
    let bad = dir.path().join("bad.pem");
    std::fs::write(&bad, read("idp.cert.pem") + &read("sp.key.pem")).unwrap();
    let out = verify_trusting(&bad, NOW, &response, &strict_args);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(json_stdout(&out)["error"], "invalid_certificate");
}

#[test]
fn utf16_response_is_refused_with_a_clear_error() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("utf16.xml");
    let mut bytes = vec![0xFF, 0xFE];
    for unit in read("assertion_signed.xml").encode_utf16() {
        bytes.extend(unit.to_le_bytes());
    }
    std::fs::write(&path, bytes).unwrap();
    let out = verify_strict(&path, &[]);
    assert_ne!(out.status.code(), Some(0));
    let json = json_stdout(&out);
    assert!(
        json["message"].as_str().unwrap().contains("utf-16"),
        "{json}"
    );
}

#[test]
fn explain_lists_every_check_on_stdout_and_stderr() {
    let out = verify_strict(&fixture("assertion_signed.xml"), &["--explain"]);
    assert_exit(&out, 0);
    let json = json_stdout(&out);
    let checks = json["checks"].as_array().unwrap();
    let names: Vec<&str> = checks
        .iter()
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    for wanted in [
        "issuer",
        "conditions",
        "destination",
        "subject_confirmation",
    ] {
        assert!(
            names.iter().any(|n| n.contains(wanted)),
            "{wanted} missing from {names:?}"
        );
    }
    assert!(names.iter().any(|n| n.contains("signature")), "{names:?}");
    assert!(checks.iter().all(|c| c["passed"] == true));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("audience"), "{stderr}");
    assert!(stderr.contains("replay: not checked"));
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// The first check whose name starts with `prefix`.
fn check<'a>(json: &'a Value, prefix: &str) -> &'a Value {
    json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"].as_str().unwrap().starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix} check in {json}"))
}

#[test]
fn explain_shows_skew_covered_element_and_matched_certificate() {
    let out = verify_strict(&fixture("assertion_signed.xml"), &["--explain"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json = json_stdout(&out);
    assert_eq!(json["clock"]["now"], NOW);
    assert_eq!(json["clock"]["skew_seconds"], 90);
    let signature = check(&json, "signature.assertion")["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        signature.contains(&format!("covers <saml:Assertion> ID \"{ASSERTION_ID}\"")),
        "{signature}"
    );
    assert!(signature.contains(IDP_SHA256), "{signature}");
    assert!(signature.contains("CN=rampart test idp"), "{signature}");
    let conditions = check(&json, "conditions")["detail"].as_str().unwrap();
    assert!(conditions.contains("skew 90 s"), "{conditions}");
    assert!(
        conditions.contains(SP_ENTITY),
        "audience compared: {conditions}"
    );
    let text = stderr(&out);
    assert!(
        text.lines()
            .any(|l| l == format!("[note] now={NOW}, skew=90s")),
        "{text}"
    );
    assert!(text.contains(IDP_SHA256), "{text}");
}

#[test]
fn explain_of_an_untrusted_key_lists_trusted_and_document_certificates() {
    let out = verify_strict(&fixture("attacker_signed.xml"), &["--explain"]);
    let json = assert_rejected(&out, "untrusted_key");
    let trusted = json["trusted_certificates"].as_array().unwrap();
    assert_eq!(trusted.len(), 1, "{json}");
    assert_eq!(trusted[0]["sha256"], IDP_SHA256);
    assert_eq!(trusted[0]["subject"], "CN=rampart test idp");
    let found = json["document_certificates"].as_array().unwrap();
    assert_eq!(found.len(), 1, "one certificate, in two signatures: {json}");
    assert_eq!(found[0]["sha256"], ATTACKER_SHA256);
    assert_eq!(found[0]["subject"], "CN=rampart test attacker");
    assert_eq!(found[0]["trusted"], false);
    assert_eq!(found[0]["locations"].as_array().unwrap().len(), 2);
    assert_eq!(
        check(&json, "signature.response")["passed"],
        false,
        "{json}"
    );

    let text = stderr(&out);
    assert!(
        text.contains(&format!(
            "[cert] trusted: CN=rampart test idp, sha-256 {IDP_SHA256}"
        )),
        "{text}"
    );
    let doc_line = text
        .lines()
        .find(|l| l.contains(ATTACKER_SHA256))
        .unwrap_or_else(|| panic!("no document certificate in {text}"));
    assert!(
        doc_line.starts_with(
            "[cert] in the document, for information only, not trusted: CN=rampart test attacker"
        ),
        "{doc_line}"
    );
    assert!(doc_line.contains("<samlp:Response>") && doc_line.contains("<saml:Assertion>"));
    assert!(
        text.lines()
            .any(|l| l == format!("[note] now={NOW}, skew=90s"))
    );
    // The attacker's certificate is never presented as trusted.
    assert!(
        !text
            .lines()
            .any(|l| l.starts_with("[cert] trusted: CN=rampart test attacker")),
        "{text}"
    );
}

#[test]
fn explain_reads_document_certificates_from_the_base64_form_too() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("attacker.b64");
    let b64 = base64::engine::general_purpose::STANDARD.encode(read("attacker_signed.xml"));
    std::fs::write(&path, b64).unwrap();
    let out = verify_strict(&path, &["--explain"]);
    let json = assert_rejected(&out, "untrusted_key");
    assert_eq!(json["document_certificates"][0]["sha256"], ATTACKER_SHA256);
    assert!(stderr(&out).contains(ATTACKER_SHA256));
}

#[test]
fn explain_of_an_untrusted_key_lists_every_trusted_certificate() {
    // Two trusted certificates (a rollover), neither the signer's.
    let out = rampart()
        .args(["saml", "verify", "--idp-cert"])
        .arg(fixture("idp.cert.pem"))
        .arg("--idp-cert")
        .arg(fixture("sp.cert.pem"))
        .args(["--sp-entity-id", SP_ENTITY, "--acs-url", ACS, "--now", NOW])
        .args(strict(&["--explain"]))
        .arg(fixture("attacker_signed.xml"))
        .output()
        .unwrap();
    let json = assert_rejected(&out, "untrusted_key");
    let subjects: Vec<&str> = json["trusted_certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, ["CN=rampart test idp", "CN=rampart test sp"]);
    assert_eq!(
        stderr(&out).matches("[cert] trusted: ").count(),
        2,
        "{}",
        stderr(&out)
    );
}

#[test]
fn explain_of_an_expired_response_prints_now_skew_and_the_times() {
    let now = "2030-01-02T00:00:00Z";
    let out = verify_at(
        now,
        &fixture("assertion_signed.xml"),
        &strict(&["--explain"])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    let json = assert_rejected(&out, "expired");
    assert_eq!(json["clock"]["now"], now);
    assert_eq!(json["clock"]["skew_seconds"], 90);
    let times = json["times"].as_array().unwrap();
    let has = |element: &str, attribute: &str, value: &str| {
        times
            .iter()
            .any(|t| t["element"] == element && t["attribute"] == attribute && t["value"] == value)
    };
    assert!(
        has("saml:Conditions", "NotBefore", "2029-12-31T23:59:00Z"),
        "{json}"
    );
    assert!(
        has("saml:Conditions", "NotOnOrAfter", "2030-01-01T00:05:00Z"),
        "{json}"
    );
    assert!(
        has(
            "saml:SubjectConfirmationData",
            "NotOnOrAfter",
            "2030-01-01T00:05:00Z"
        ),
        "{json}"
    );
    let text = stderr(&out);
    for wanted in [
        format!("[note] now={now}, skew=90s"),
        "[time] <saml:Conditions> NotBefore=2029-12-31T23:59:00Z".to_owned(),
        "[time] <saml:Conditions> NotOnOrAfter=2030-01-01T00:05:00Z".to_owned(),
        "[time] <saml:SubjectConfirmationData> NotOnOrAfter=2030-01-01T00:05:00Z".to_owned(),
    ] {
        assert!(
            text.lines().any(|l| l == wanted),
            "{wanted:?} missing from {text}"
        );
    }
    // 2030-01-02T00:00:00Z is 86100 s after 00:05:00Z the day before.
    assert!(text.contains("86100 s after it"), "{text}");
    assert!(text.contains("90 s skew"), "{text}");
}

#[test]
fn explain_of_a_response_not_yet_valid_says_how_early_it_is() {
    let out = verify_at(
        "2029-12-31T23:00:00Z",
        &fixture("assertion_signed.xml"),
        &strict(&["--explain"])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert_rejected(&out, "not_yet_valid");
    let text = stderr(&out);
    assert!(text.contains("NotBefore 2029-12-31T23:59:00Z"), "{text}");
    assert!(text.contains("3540 s before it"), "{text}");
    assert!(
        text.contains("[note] now=2029-12-31T23:00:00Z, skew=90s"),
        "{text}"
    );
}

#[test]
fn explain_shows_the_failing_check_last() {
    let out = verify_strict(&fixture("wrong_audience.xml"), &["--explain"]);
    let json = assert_rejected(&out, "audience_mismatch");
    let checks = json["checks"].as_array().unwrap();
    let last = checks.last().unwrap();
    assert_eq!(last["passed"], false);
    assert_eq!(last["check"], "conditions", "{last}");
    assert!(
        last["detail"]
            .as_str()
            .unwrap()
            .contains("evil.example.com"),
        "{last}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("FAIL"));
}

#[test]
fn wrong_audience_is_rejected() {
    assert_rejected(
        &verify_strict(&fixture("wrong_audience.xml"), &[]),
        "audience_mismatch",
    );
}

#[test]
fn wrong_issuer_is_rejected() {
    assert_rejected(
        &verify_strict(&fixture("wrong_issuer.xml"), &[]),
        "issuer_mismatch",
    );
}

#[test]
fn signature_by_an_untrusted_key_is_rejected() {
    let out = verify_strict(&fixture("attacker_signed.xml"), &[]);
    assert_exit(&out, 1);
    // The signature is well-formed and its digests match: only the key is wrong.
    let json = assert_rejected(&out, "untrusted_key");
    assert!(
        json.get("trusted_certificates").is_none(),
        "only with --explain"
    );
    assert!(out.stderr.starts_with(b"rampart: "), "no explain notes");
}

#[test]
fn explain_of_altered_content_shows_the_certificates_too() {
    let dir = TempDir::new().unwrap();
    let xml = read("assertion_signed.xml").replacen(
        "alice@example.com</saml:NameID>",
        "admin@example.com</saml:NameID>",
        1,
    );
    let path = dir.path().join("tampered.xml");
    std::fs::write(&path, xml).unwrap();
    let out = verify_strict(&path, &["--explain"]);
    let json = assert_rejected(&out, "signature_invalid");
    assert_eq!(json["trusted_certificates"][0]["sha256"], IDP_SHA256);
    let found = &json["document_certificates"][0];
    assert_eq!(found["sha256"], IDP_SHA256, "{json}");
    assert_eq!(found["trusted"], false, "KeyInfo is never trusted");
    assert_eq!(found["same_as_trusted"], true);
    let text = stderr(&out);
    let doc_line = text
        .lines()
        .find(|l| l.starts_with("[cert] in the document, for information only, not trusted: "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        doc_line.contains("the same as a trusted certificate"),
        "{doc_line}"
    );
}

#[test]
fn sha1_signature_is_refused_by_default() {
    assert_rejected(
        &verify_strict(&fixture("assertion_signed_sha1.xml"), &[]),
        "algorithm_refused",
    );
}

#[test]
fn altered_name_id_breaks_the_signature() {
    let dir = TempDir::new().unwrap();
    let xml = read("assertion_signed.xml").replacen(
        "alice@example.com</saml:NameID>",
        "admin@example.com</saml:NameID>",
        1,
    );
    let path = dir.path().join("tampered.xml");
    std::fs::write(&path, xml).unwrap();
    assert_rejected(&verify_strict(&path, &[]), "signature_invalid");
}

#[test]
fn expired_and_not_yet_valid_responses_are_rejected() {
    let args = ["--idp-entity-id", IDP_ENTITY, "--request-id", REQUEST_ID];
    let response = fixture("assertion_signed.xml");
    assert_rejected(
        &verify_at("2030-01-02T00:00:00Z", &response, &args),
        "expired",
    );
    assert_rejected(
        &verify_at("2029-12-01T00:00:00Z", &response, &args),
        "not_yet_valid",
    );
}

#[test]
fn other_request_id_is_rejected() {
    let args = [
        "--idp-entity-id",
        IDP_ENTITY,
        "--request-id",
        "_someotherrequest",
    ];
    assert_rejected(
        &verify(&fixture("assertion_signed.xml"), &args),
        "in_response_to_mismatch",
    );
}

#[test]
fn junk_input_is_an_input_error() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("junk.txt");
    std::fs::write(&path, "this is neither xml nor base64 !!!").unwrap();
    let out = verify_strict(&path, &[]);
    assert_exit(&out, 2);
    assert_eq!(json_stdout(&out)["error"], "malformed_input");
}

#[test]
fn doctype_is_refused() {
    let dir = TempDir::new().unwrap();
    let xml = read("assertion_signed.xml").replacen(
        "<samlp:Response",
        "<!DOCTYPE r [<!ENTITY x \"y\">]><samlp:Response",
        1,
    );
    let path = dir.path().join("doctype.xml");
    std::fs::write(&path, xml).unwrap();
    let out = verify_strict(&path, &[]);
    assert_exit(&out, 1);
    assert_eq!(json_stdout(&out)["error"], "xml_refused");
}

#[test]
fn malformed_now_and_missing_trust_are_usage_errors() {
    let out = verify(&fixture("assertion_signed.xml"), &["--now", "yesterday"]);
    assert_exit(&out, 2);
    let out = rampart()
        .args([
            "saml",
            "verify",
            "--sp-entity-id",
            SP_ENTITY,
            "--acs-url",
            ACS,
        ])
        .arg(fixture("assertion_signed.xml"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "no --idp-cert and no --idp-metadata"
    );
    assert_eq!(json_stdout(&out)["error"], "usage");
}

#[test]
fn metadata_without_certificate() {
    let out = metadata(&[]);
    assert_exit(&out, 0);
    let xml = json_stdout(&out)["metadata"].as_str().unwrap().to_owned();
    assert!(xml.contains(&format!("entityID=\"{SP_ENTITY}\"")));
    assert!(xml.contains(&format!("Location=\"{ACS}\"")));
    assert!(xml.contains("AuthnRequestsSigned=\"false\""));
    assert!(!xml.contains("X509Certificate"), "no certificate published");
}

/// The SP key copied to a private file, and the PEM body lines (to look for leaks).
fn sp_key(dir: &TempDir) -> (PathBuf, Vec<String>) {
    let text = read("sp.key.pem");
    // Full 64-character lines only (a short last line could occur anywhere by chance), and
    // not those that carry the public modulus, which the certificate holds too.
    let cert: String = read("sp.cert.pem")
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let body: Vec<String> = text
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() == 64 && !cert.contains(*l))
        .map(str::to_owned)
        .collect();
    assert!(body.len() > 10);
    (private_file(dir.path(), "sp.key.pem", &text), body)
}

fn assert_no_key(out: &Output, body: &[String]) {
    for line in body {
        assert_no_secret(out, line.as_bytes());
    }
}

#[test]
fn metadata_with_certificate_and_key_publishes_the_certificate() {
    let dir = TempDir::new().unwrap();
    let (key, body) = sp_key(&dir);
    let cert = fixture("sp.cert.pem");
    let out = metadata(&[
        "--cert".as_ref(),
        cert.as_os_str(),
        "--sign-key".as_ref(),
        key.as_os_str(),
    ]);
    assert_exit(&out, 0);
    assert_no_key(&out, &body);
    let xml = json_stdout(&out)["metadata"].as_str().unwrap().to_owned();
    assert!(xml.contains("AuthnRequestsSigned=\"true\""));
    let cert_line = read("sp.cert.pem").lines().nth(1).unwrap().to_owned();
    assert!(xml.contains(&cert_line), "the SP certificate is published");
}

#[test]
fn metadata_with_certificate_only_publishes_it_without_a_private_key() {
    let cert = fixture("sp.cert.pem");
    let out = metadata(&["--cert".as_ref(), cert.as_os_str()]);
    assert_exit(&out, 0);
    let json = json_stdout(&out);
    let xml = json["metadata"].as_str().unwrap().to_owned();
    assert!(xml.contains(&format!("entityID=\"{SP_ENTITY}\"")));
    assert!(xml.contains(&format!(
        "Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" Location=\"{ACS}\""
    )));
    // A certificate without its key cannot sign requests, so none are promised.
    assert!(xml.contains("AuthnRequestsSigned=\"false\""));
    let body: String = read("sp.cert.pem")
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let published: String = xml
        .split("<ds:X509Certificate>")
        .nth(1)
        .and_then(|rest| rest.split("</ds:X509Certificate>").next())
        .expect("a published certificate")
        .to_owned();
    assert_eq!(published, body, "the whole SP certificate is published");
}

#[test]
fn metadata_with_bad_certificate_file_is_an_input_error() {
    let dir = TempDir::new().unwrap();
    let bad = dir.path().join("bad.pem");
    std::fs::write(
        &bad,
        "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let out = metadata(&["--cert".as_ref(), bad.as_os_str()]);
    assert_exit(&out, 2);
    let json = json_stdout(&out);
    assert_eq!(json["error"], "invalid_certificate", "{json}");
    assert!(json.get("metadata").is_none());
}

#[test]
fn metadata_with_missing_certificate_file_is_an_input_error() {
    let dir = TempDir::new().unwrap();
    let missing = dir.path().join("missing.pem");
    let out = metadata(&["--cert".as_ref(), missing.as_os_str()]);
    assert_exit(&out, 2);
    assert!(json_stdout(&out)["error"].is_string());
}

#[test]
fn metadata_with_key_not_matching_certificate_is_refused() {
    let dir = TempDir::new().unwrap();
    let (key, body) = sp_key(&dir);
    let other = fixture("idp.cert.pem");
    let out = metadata(&[
        "--cert".as_ref(),
        other.as_os_str(),
        "--sign-key".as_ref(),
        key.as_os_str(),
    ]);
    assert_exit(&out, 2);
    assert_no_key(&out, &body);
    assert_eq!(json_stdout(&out)["error"], "invalid_key");
}

#[cfg(unix)]
#[test]
fn world_readable_signing_key_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new().unwrap();
    let (key, body) = sp_key(&dir);
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = rampart()
        .args(["saml", "authn-request", "--idp-metadata"])
        .arg(fixture("idp-metadata.xml"))
        .args(["--sp-entity-id", SP_ENTITY, "--acs-url", ACS, "--sign-key"])
        .arg(&key)
        .arg("--cert")
        .arg(fixture("sp.cert.pem"))
        .output()
        .unwrap();
    assert_exit(&out, 2);
    assert_eq!(json_stdout(&out)["error"], "insecure_key_file");
    assert_no_key(&out, &body);
}

#[test]
fn authn_request_unsigned() {
    let out = rampart()
        .args(["saml", "authn-request", "--idp-metadata"])
        .arg(fixture("idp-metadata.xml"))
        .args(["--sp-entity-id", SP_ENTITY, "--acs-url", ACS])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let json = json_stdout(&out);
    let id = json["id"].as_str().unwrap();
    assert!(id.starts_with('_') && id.len() >= 33, "{id}");
    let url = json["redirect_url"].as_str().unwrap();
    assert!(
        url.starts_with("https://idp.example.com/sso/redirect?SAMLRequest="),
        "{url}"
    );
    assert!(!url.contains("Signature="));
    assert!(json["xml"].as_str().unwrap().contains(id));
}

#[test]
fn authn_request_signed_with_the_sp_key() {
    let dir = TempDir::new().unwrap();
    let (key, body) = sp_key(&dir);
    let out = rampart()
        .args(["saml", "authn-request", "--idp-metadata"])
        .arg(fixture("idp-metadata.xml"))
        .args([
            "--sp-entity-id",
            SP_ENTITY,
            "--acs-url",
            ACS,
            "--relay-state",
            "/after",
        ])
        .arg("--sign-key")
        .arg(&key)
        .arg("--cert")
        .arg(fixture("sp.cert.pem"))
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_no_key(&out, &body);
    let json = json_stdout(&out);
    let url = json["redirect_url"].as_str().unwrap();
    assert!(url.contains("&RelayState=%2Fafter&SigAlg="), "{url}");
    assert!(url.contains("&Signature="));
    assert_eq!(json["signed"], true);
}

#[test]
fn authn_request_with_a_key_that_does_not_match_the_certificate_is_refused() {
    let dir = TempDir::new().unwrap();
    let (key, body) = sp_key(&dir);
    let out = rampart()
        .args(["saml", "authn-request", "--idp-metadata"])
        .arg(fixture("idp-metadata.xml"))
        .args(["--sp-entity-id", SP_ENTITY, "--acs-url", ACS, "--sign-key"])
        .arg(&key)
        .arg("--cert")
        .arg(fixture("idp.cert.pem"))
        .output()
        .unwrap();
    assert_exit(&out, 2);
    assert_eq!(json_stdout(&out)["error"], "invalid_key");
    assert_no_key(&out, &body);
}

#[test]
fn verify_with_expired_metadata_is_refused() {
    let dir = TempDir::new().unwrap();
    let expired = dir.path().join("expired-metadata.xml");
    let xml = read("idp-metadata.xml").replacen(
        "entityID=",
        "validUntil=\"2029-06-01T00:00:00Z\" entityID=",
        1,
    );
    std::fs::write(&expired, xml).unwrap();
    let out = rampart()
        .args(["saml", "verify", "--idp-metadata"])
        .arg(&expired)
        .args(["--sp-entity-id", SP_ENTITY, "--acs-url", ACS, "--now", NOW])
        .args(["--request-id", REQUEST_ID])
        .arg(fixture("assertion_signed.xml"))
        .output()
        .unwrap();
    // Stale metadata is a configuration problem, not a verdict on the response.
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let json = json_stdout(&out);
    assert_eq!(json["error"], "invalid_metadata", "{json}");
    assert!(
        json["message"].as_str().unwrap().contains("validUntil"),
        "{json}"
    );
    assert!(json.get("valid").is_none(), "no verdict was reached");
}

fn authn_request_with(metadata: &Path) -> Output {
    rampart()
        .args(["saml", "authn-request", "--idp-metadata"])
        .arg(metadata)
        .args(["--sp-entity-id", SP_ENTITY, "--acs-url", ACS])
        .output()
        .unwrap()
}

#[test]
fn authn_request_with_malformed_metadata_is_an_input_error() {
    let dir = TempDir::new().unwrap();
    for (name, text) in [
        ("truncated.xml", &read("idp-metadata.xml")[..400]),
        ("not-xml.xml", "this is not metadata"),
        (
            "other-root.xml",
            "<md:SPSSODescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\"/>",
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let out = authn_request_with(&path);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", stderr(&out));
        let json = json_stdout(&out);
        assert_eq!(json["error"], "invalid_metadata", "{name}: {json}");
        assert!(json.get("redirect_url").is_none());
    }
}

#[test]
fn authn_request_without_a_redirect_endpoint_is_an_input_error() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("post-only.xml");
    let xml: String = read("idp-metadata.xml")
        .lines()
        .filter(|l| !l.contains("bindings:HTTP-Redirect"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(xml.contains("bindings:HTTP-POST"));
    std::fs::write(&path, xml).unwrap();
    let out = authn_request_with(&path);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let json = json_stdout(&out);
    assert_eq!(json["error"], "invalid_metadata", "{json}");
    assert!(
        json["message"].as_str().unwrap().contains("HTTP-Redirect"),
        "{json}"
    );
}

// ---- issue #32: messages that lead somewhere, debugging-only opt-ins ----------------------

/// No message names an option of the library (`allow_sha1_signatures`) instead of the
/// CLI's flag.
fn assert_no_library_option(json: &Value, out: &Output) {
    let all = format!("{json} {}", stderr(out));
    for name in [
        "allow_sha1_signatures",
        "allow_small_rsa_keys",
        "opt in with",
    ] {
        assert!(!all.contains(name), "{name} in {all}");
    }
}

#[test]
fn sha1_refusal_names_the_allow_sha1_flag() {
    let out = verify_strict(&fixture("assertion_signed_sha1.xml"), &[]);
    let json = assert_rejected(&out, "algorithm_refused");
    let message = json["message"].as_str().unwrap();
    assert!(message.contains("SHA-1"), "{message}");
    assert!(message.contains("--allow-sha1"), "{message}");
    assert!(message.contains("debugging only"), "{message}");
    assert_no_library_option(&json, &out);
}

#[test]
fn allow_sha1_accepts_and_says_so_in_the_result() {
    let out = verify_strict(&fixture("assertion_signed_sha1.xml"), &["--allow-sha1"]);
    assert_exit(&out, 0);
    let json = json_stdout(&out);
    assert_eq!(json["valid"], true);
    assert_eq!(
        json["debugging_only_allowed"],
        serde_json::json!(["--allow-sha1"])
    );
    assert!(
        stderr(&out).contains("--allow-sha1 given: DEBUGGING ONLY"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn small_rsa_refusal_names_the_allow_small_rsa_flag() {
    let response = fixture("assertion_signed_rsa1024.xml");
    let args = strict(&[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = verify_trusting(&fixture("idp1024.cert.pem"), NOW, &response, &args);
    let json = assert_rejected(&out, "algorithm_refused");
    let message = json["message"].as_str().unwrap();
    assert!(message.contains("smaller than 2048 bits"), "{message}");
    assert!(message.contains("--allow-small-rsa"), "{message}");
    assert_no_library_option(&json, &out);

    let args = strict(&["--allow-small-rsa", "--explain"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = verify_trusting(&fixture("idp1024.cert.pem"), NOW, &response, &args);
    assert_exit(&out, 0);
    let json = json_stdout(&out);
    assert_eq!(
        json["debugging_only_allowed"],
        serde_json::json!(["--allow-small-rsa"])
    );
    assert!(stderr(&out).contains("DEBUGGING ONLY"));
}

/// Trusting the wrong (and small) certificate: the answer is "not the signer's key", not
/// "your key is too small".
#[test]
fn wrong_certificate_is_reported_before_the_key_size_rule() {
    let args = strict(&["--explain"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = verify_trusting(
        &fixture("idp1024.cert.pem"),
        NOW,
        &fixture("assertion_signed.xml"),
        &args,
    );
    let json = assert_rejected(&out, "untrusted_key");
    let message = json["message"].as_str().unwrap();
    assert!(
        message.contains("signed with another key than the trusted certificates'"),
        "{message}"
    );
    assert!(!message.contains("2048"), "{message}");
    assert!(!message.contains("--allow-small-rsa"), "{message}");
    assert!(
        stderr(&out).contains(
            "[cert] the signature does not verify with the key of any trusted certificate"
        ),
        "{}",
        stderr(&out)
    );
    assert!(
        json.get("debugging_only_allowed").is_none(),
        "nothing was relaxed: {json}"
    );
}

#[test]
fn in_response_to_without_request_id_says_no_request_id_was_given() {
    let out = verify(
        &fixture("assertion_signed.xml"),
        &["--idp-entity-id", IDP_ENTITY],
    );
    let json = assert_rejected(&out, "in_response_to_mismatch");
    let message = json["message"].as_str().unwrap();
    assert_eq!(
        message,
        format!(
            "the response answers request \"{REQUEST_ID}\", but no --request-id was given; give \
             --request-id with the id `saml authn-request` printed for that request"
        )
    );
    assert!(!message.contains("outstanding"), "{message}");
    // --explain's failing step says the same.
    let out = verify(
        &fixture("assertion_signed.xml"),
        &["--idp-entity-id", IDP_ENTITY, "--explain"],
    );
    assert!(!stderr(&out).contains("outstanding"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("[FAIL] in_response_to.response: the response answers request"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn expired_metadata_hints_at_now_and_idp_cert() {
    let dir = TempDir::new().unwrap();
    let expired = dir.path().join("expired-metadata.xml");
    let xml = read("idp-metadata.xml").replacen(
        "entityID=",
        "validUntil=\"2029-06-01T00:00:00Z\" entityID=",
        1,
    );
    std::fs::write(&expired, xml).unwrap();
    let out = rampart()
        .args(["saml", "verify", "--idp-metadata"])
        .arg(&expired)
        .args(["--sp-entity-id", SP_ENTITY, "--acs-url", ACS, "--now", NOW])
        .args(["--request-id", REQUEST_ID])
        .arg(fixture("assertion_signed.xml"))
        .output()
        .unwrap();
    assert_exit(&out, 2);
    let message = json_stdout(&out)["message"].as_str().unwrap().to_owned();
    assert!(
        message.contains("metadata expired at 2029-06-01T00:00:00Z"),
        "{message}"
    );
    assert!(
        message.contains("give --now with a time before its validUntil"),
        "{message}"
    );
    assert!(
        message.contains("--idp-cert PEM and --idp-entity-id ID"),
        "{message}"
    );
}

#[test]
fn metadata_output_file_holds_the_raw_xml() {
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("sp-metadata.xml");
    let out = metadata(&["-o".as_ref(), file.as_os_str()]);
    assert_exit(&out, 0);
    assert_eq!(json_stdout(&out)["written"], file.display().to_string());
    let written = std::fs::read_to_string(&file).unwrap();
    let json_form = json_stdout(&metadata(&[]))["metadata"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(written.starts_with('<'), "{written}");
    // The same document as the JSON form, up to its random-free content.
    assert_eq!(written.len(), json_form.len());
    assert!(written.contains(SP_ENTITY));
}

#[test]
fn metadata_output_into_a_missing_directory_is_an_input_error() {
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("no-such-dir").join("sp-metadata.xml");
    let out = metadata(&["-o".as_ref(), file.as_os_str()]);
    assert_exit(&out, 2);
    assert_eq!(json_stdout(&out)["error"], "io");
    assert!(!file.exists());
}

#[test]
fn metadata_raw_prints_the_xml_itself() {
    let out = metadata(&["--raw".as_ref()]);
    assert_exit(&out, 0);
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(text.starts_with('<'), "{text}");
    assert!(text.contains(SP_ENTITY));
    assert!(serde_json::from_str::<Value>(&text).is_err(), "not JSON");
}

#[test]
fn metadata_raw_and_output_together_are_a_usage_error() {
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("m.xml");
    let out = metadata(&["--raw".as_ref(), "-o".as_ref(), file.as_os_str()]);
    assert_exit(&out, 2);
    assert_eq!(json_stdout(&out)["error"], "usage");
    assert!(!file.exists());
}
