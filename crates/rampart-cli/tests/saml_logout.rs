//! `rampart saml logout-request | verify-logout` and `saml metadata --slo-url`, against the
//! test IdP of rampart-saml. The IdP's signed query strings are made by `rampart saml
//! logout-request` run with the IdP's key, and once more with the signature replaced by one
//! `openssl dgst -sign` computed over the exact query bytes (a third-party signer).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine as _;
use common::saml::{IDP_ENTITY, NOW, SP_ENTITY, assert_refused, fixture, metadata};
use common::{assert_exit, json_stdout, private_file, rampart};
use tempfile::TempDir;

const SLO: &str = "https://sp.example.com/saml/slo";

/// The test IdP's private key (rampart-saml's), copied owner-only as the CLI requires.
fn idp_key(dir: &TempDir) -> PathBuf {
    let text = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../rampart-saml/tests/keys/idp.key.pem"),
    )
    .unwrap();
    private_file(dir.path(), "idp.key.pem", &text)
}

/// A LogoutRequest query as the IdP sends it to our SLO URL (signed with the IdP's key).
fn idp_query(dir: &TempDir, session_index: &str) -> String {
    let out = rampart()
        .args(["saml", "logout-request", "--idp-cert"])
        .arg(fixture("sp.cert.pem"))
        .args(["--destination", SLO, "--sp-entity-id", IDP_ENTITY])
        .args([
            "--name-id",
            "alice@example.com",
            "--session-index",
            session_index,
        ])
        .args(["--relay-state", "/home", "--now", NOW, "--sign-key"])
        .arg(idp_key(dir))
        .arg("--cert")
        .arg(fixture("idp.cert.pem"))
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let json = json_stdout(&out);
    let url = json["redirect_url"].as_str().unwrap().to_owned();
    url.split_once('?').unwrap().1.to_owned()
}

fn verify_logout(dir: &TempDir, query: &str, extra: &[&str]) -> Output {
    let input = dir.path().join("query.txt");
    std::fs::write(&input, query).unwrap();
    rampart()
        .args(["saml", "verify-logout", "--idp-cert"])
        .arg(fixture("idp.cert.pem"))
        .args(["--idp-entity-id", IDP_ENTITY, "--sp-entity-id", SP_ENTITY])
        .args(["--slo-url", SLO, "--now", NOW])
        .args(extra)
        .arg(&input)
        .output()
        .unwrap()
}

/// `verify-logout` of `query` for the session `session_index` of `name_id`.
fn verify_session(dir: &TempDir, query: &str, name_id: &str, session_index: &str) -> Output {
    verify_logout(
        dir,
        query,
        &["--name-id", name_id, "--session-index", session_index],
    )
}

/// `saml logout-request` from the test SP to the IdP's SLO URL with `args`, signed with `key`.
fn sp_logout_request(key: &Path, args: &[&str]) -> Output {
    rampart()
        .args(["saml", "logout-request", "--idp-cert"])
        .arg(fixture("idp.cert.pem"))
        .args(["--destination", "https://idp.example.com/slo"])
        .args(["--sp-entity-id", SP_ENTITY])
        .args(args)
        .arg("--sign-key")
        .arg(key)
        .arg("--cert")
        .arg(fixture("sp.cert.pem"))
        .output()
        .unwrap()
}

fn assert_rejected(out: &Output, kind: &str) {
    assert_refused(out, kind);
}

#[test]
fn logout_request_prints_a_signed_redirect_url() {
    let dir = TempDir::new().unwrap();
    let key = private_file(
        dir.path(),
        "sp.key.pem",
        &std::fs::read_to_string(fixture("sp.key.pem")).unwrap(),
    );
    let out = sp_logout_request(
        &key,
        &[
            "--name-id",
            "alice@example.com",
            "--name-id-format",
            "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
            "--session-index",
            "_s1",
        ],
    );
    assert_exit(&out, 0);
    let json = json_stdout(&out);
    assert_eq!(json["signed"], true);
    let url = json["redirect_url"].as_str().unwrap();
    assert!(url.starts_with("https://idp.example.com/slo?SAMLRequest="));
    assert!(url.contains("&SigAlg=") && url.contains("&Signature="));
    let xml = json["xml"].as_str().unwrap();
    assert!(xml.contains("<samlp:SessionIndex>_s1</samlp:SessionIndex>"));
    assert!(xml.contains(&format!("ID=\"{}\"", json["id"].as_str().unwrap())));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("PRIVATE KEY"));
}

#[test]
fn logout_request_refuses_a_key_file_others_can_read() {
    let dir = TempDir::new().unwrap();
    let key = dir.path().join("sp.key.pem");
    std::fs::copy(fixture("sp.key.pem"), &key).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let out = sp_logout_request(&key, &["--name-id", "alice"]);
    assert_exit(&out, 2);
}

#[test]
fn verify_logout_accepts_the_idps_signed_logout_request() {
    let dir = TempDir::new().unwrap();
    let query = idp_query(&dir, "_s1");
    let out = verify_session(&dir, &query, "alice@example.com", "_s1");
    assert_exit(&out, 0);
    let json = json_stdout(&out);
    assert_eq!(json["valid"], true);
    assert_eq!(json["kind"], "logout_request");
    assert_eq!(json["issuer"], IDP_ENTITY);
    assert_eq!(json["session_indexes"][0], "_s1");
    assert_eq!(json["relay_state"], "/home");
    assert_eq!(json["replay_checked"], false);
}

/// The same query, its signature replaced by one openssl computed over the exact bytes.
#[test]
fn verify_logout_accepts_a_query_signed_by_openssl() {
    if !rampart_testkit::tool::available("openssl") {
        return;
    }
    let dir = TempDir::new().unwrap();
    let query = idp_query(&dir, "_s1");
    let (signed, _) = query.rsplit_once("&Signature=").unwrap();
    let data = dir.path().join("signed.txt");
    let sig = dir.path().join("sig.bin");
    std::fs::write(&data, signed).unwrap();
    rampart_testkit::tool::run(
        Command::new("openssl")
            .args(["dgst", "-sha256", "-sign"])
            .arg(idp_key(&dir))
            .arg("-out")
            .arg(&sig)
            .arg(&data),
    );
    let b64 = base64::engine::general_purpose::STANDARD.encode(std::fs::read(&sig).unwrap());
    let query = format!(
        "{signed}&Signature={}",
        b64.replace('+', "%2B")
            .replace('/', "%2F")
            .replace('=', "%3D")
    );
    let out = verify_session(&dir, &format!("?{query}\n"), "alice@example.com", "_s1");
    assert_exit(&out, 0);
}

#[test]
fn verify_logout_refuses_a_tampered_relay_state() {
    let dir = TempDir::new().unwrap();
    let query = idp_query(&dir, "_s1").replace("RelayState=%2Fhome", "RelayState=%2Fevil");
    let out = verify_session(&dir, &query, "alice@example.com", "_s1");
    assert_rejected(&out, "signature_invalid");
}

#[test]
fn verify_logout_refuses_another_session() {
    let dir = TempDir::new().unwrap();
    let query = idp_query(&dir, "_s1");
    let out = verify_session(&dir, &query, "alice@example.com", "_s2");
    assert_rejected(&out, "session_index_mismatch");
    let out = verify_session(&dir, &query, "bob@example.com", "_s1");
    assert_rejected(&out, "name_id_mismatch");
}

#[test]
fn verify_logout_refuses_an_unsigned_query_and_a_request_as_a_response() {
    let dir = TempDir::new().unwrap();
    let query = idp_query(&dir, "_s1");
    let unsigned = query.split("&SigAlg=").next().unwrap();
    let out = verify_logout(&dir, unsigned, &["--name-id", "alice@example.com"]);
    assert_rejected(&out, "logout_unsigned");
    let out = verify_logout(&dir, &query, &["--request-id", "_ours"]);
    assert_rejected(&out, "malformed_query");
}

#[test]
fn metadata_publishes_the_slo_url_for_both_bindings() {
    let out = metadata(&["--slo-url".as_ref(), SLO.as_ref()]);
    assert_exit(&out, 0);
    let xml = json_stdout(&out)["metadata"].as_str().unwrap().to_owned();
    for b in ["HTTP-Redirect", "HTTP-POST"] {
        assert!(
            xml.contains(&format!(
                "<md:SingleLogoutService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:{b}\" Location=\"{SLO}\"/>"
            )),
            "{xml}"
        );
    }
}

/// `saml metadata --encryption-cert` with the SP certificate.
fn metadata_with_encryption_cert() -> Output {
    let cert = fixture("sp.cert.pem");
    metadata(&["--encryption-cert".as_ref(), cert.as_os_str()])
}

#[cfg(feature = "encrypted-assertions")]
#[test]
fn metadata_publishes_encryption_certificates() {
    let out = metadata_with_encryption_cert();
    assert_exit(&out, 0);
    let xml = json_stdout(&out)["metadata"].as_str().unwrap().to_owned();
    assert!(xml.contains("<md:KeyDescriptor use=\"encryption\">"));
}

#[cfg(not(feature = "encrypted-assertions"))]
#[test]
fn decryption_options_need_the_feature() {
    let out = metadata_with_encryption_cert();
    assert_exit(&out, 2);
}

/// `saml verify --decryption-key`: Okta's encrypted sample (its content key re-wrapped for
/// the test SP key, see rampart-saml's tests/fixtures/encrypted/) decrypts and verifies.
#[cfg(feature = "encrypted-assertions")]
#[test]
fn verify_decrypts_with_the_decryption_key() {
    let saml = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../rampart-saml/tests");
    let md = std::fs::read(saml.join(
        "samples/crewjam-saml/testdata/TestSPCanHandleOktaSignedResponseEncryptedAssertion_IDPMetadata",
    ))
    .unwrap();
    let dir = TempDir::new().unwrap();
    let mut pem = String::new();
    for m in rampart::saml::IdpMetadata::parse_all(&md).unwrap() {
        for c in m.signing_certificates {
            pem.push_str(&format!(
                "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
                c.to_base64()
            ));
        }
    }
    let idp_certs = dir.path().join("okta.pem");
    std::fs::write(&idp_certs, pem).unwrap();
    let key = private_file(
        dir.path(),
        "sp-decrypt.pem",
        &(std::fs::read_to_string(saml.join("keys/sp.key.pem")).unwrap()
            + &std::fs::read_to_string(saml.join("keys/sp.cert.pem")).unwrap()),
    );
    let response = saml.join("fixtures/encrypted/okta_encrypted_signed_assertion.xml");
    let run = |extra: &[&std::ffi::OsStr]| {
        rampart()
            .args(["saml", "verify", "--idp-cert"])
            .arg(&idp_certs)
            .args([
                "--idp-entity-id",
                "http://www.okta.com/exkppsa1qwuFV4D7z0h7",
            ])
            .args(["--sp-entity-id", "http://localhost:8000/saml/metadata"])
            .args(["--acs-url", "http://localhost:8000/saml/acs"])
            .args([
                "--request-id",
                "id-6d976cdde8e76df5df0a8ff58148fc0b7ec6796d",
            ])
            .args(["--now", "2020-03-03T19:30:00Z"])
            .args(extra)
            .arg(&response)
            .output()
            .unwrap()
    };
    let out = run(&[]);
    assert_rejected(&out, "encrypted_not_supported");
    let out = run(&["--decryption-key".as_ref(), key.as_os_str()]);
    assert_exit(&out, 0);
    assert_eq!(json_stdout(&out)["name_id"], "testuser@testrsc.com");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("PRIVATE KEY"));
}

/// IdP metadata for the test IdP, with `slo` as its HTTP-Redirect SingleLogoutService.
fn idp_metadata(dir: &TempDir, slo: Option<&str>) -> PathBuf {
    let pem = std::fs::read_to_string(fixture("idp.cert.pem")).unwrap();
    let cert: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let slo = slo.map_or(String::new(), |url| {
        format!(
            r#"<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{url}"/>"#
        )
    });
    let xml = format!(
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{IDP_ENTITY}"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>{slo}<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>"#
    );
    let path = dir.path().join("idp-metadata.xml");
    std::fs::write(&path, xml).unwrap();
    path
}

fn logout_request_with_metadata(dir: &TempDir, metadata: &Path) -> Output {
    let key = private_file(dir.path(), "sp.key.pem", &common::saml::read("sp.key.pem"));
    rampart()
        .args(["saml", "logout-request", "--idp-metadata"])
        .arg(metadata)
        .args([
            "--sp-entity-id",
            SP_ENTITY,
            "--name-id",
            "alice@example.com",
        ])
        .args(["--now", NOW, "--sign-key"])
        .arg(key)
        .arg("--cert")
        .arg(fixture("sp.cert.pem"))
        .output()
        .unwrap()
}

#[test]
fn logout_request_goes_to_the_slo_url_the_idp_metadata_names() {
    let dir = TempDir::new().unwrap();
    let md = idp_metadata(&dir, Some("https://idp.example.com/saml/slo-from-metadata"));
    let out = logout_request_with_metadata(&dir, &md);
    assert_exit(&out, 0);
    let json = json_stdout(&out);
    assert_eq!(
        json["destination"],
        "https://idp.example.com/saml/slo-from-metadata"
    );
    assert!(
        json["redirect_url"]
            .as_str()
            .unwrap()
            .starts_with("https://idp.example.com/saml/slo-from-metadata?SAMLRequest=")
    );

    // Metadata without a SingleLogoutService: the user is told to give --destination.
    let md = idp_metadata(&dir, None);
    let out = logout_request_with_metadata(&dir, &md);
    assert_exit(&out, 2);
    let message = json_stdout(&out)["message"].as_str().unwrap().to_owned();
    assert!(
        message.contains("names no HTTP-Redirect SingleLogoutService")
            && message.contains("--destination"),
        "{message}"
    );
}
