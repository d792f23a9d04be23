//! Single Logout against messages made by third-party tools: HTTP-Redirect query signatures
//! computed by `openssl dgst -sign` over the exact query bytes, HTTP-POST messages signed by
//! `xmlsec1`. Our own outgoing signatures are checked the other way round by the same tools.
//! A missing tool skips loudly (fails under CI=true).

mod common;

use std::io::Write as _;
use std::process::Command;
use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::{ACS, IDP_ENTITY, SP_ENTITY, builder, cert, dir, now, read};
use flate2::Compression;
use flate2::write::DeflateEncoder;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use rampart_saml::{
    Error, LogoutError, LogoutSession, MemoryReplayCache, MemoryRequestIds, NameId,
    ServiceProvider, SigningKey, binding,
};
use rampart_testkit::tool::run;

const SLO: &str = "https://sp.example.com/saml/slo";
const IDP_SLO: &str = "https://idp.example.com/slo";
const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
const RSA_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
const EMAIL: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";

/// Uppercase percent-encoding of everything but RFC 3986 unreserved characters.
const ENC: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn tools(names: &[&str]) -> bool {
    names.iter().all(|t| rampart_testkit::tool::available(t))
}

fn sp() -> ServiceProvider {
    let key = SigningKey::from_pkcs8_pem(&read("keys/sp.key.pem"))
        .unwrap()
        .with_certificate(cert("keys/sp.cert.pem"))
        .unwrap();
    builder().with_signing_key(key).build().unwrap()
}

fn session() -> LogoutSession {
    let mut n = NameId::new("alice@example.com");
    n.format = Some(EMAIL.into());
    LogoutSession::new(n).with_session_index("_s1")
}

/// A LogoutRequest as an IdP writes it.
fn idp_logout_request(id: &str, session_index: &str, sig: &str) -> String {
    format!(
        r#"<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="2030-01-01T00:00:30Z" NotOnOrAfter="2030-01-01T00:05:30Z" Destination="{SLO}"><saml:Issuer>{IDP_ENTITY}</saml:Issuer>{sig}<saml:NameID Format="{EMAIL}" SPNameQualifier="{SP_ENTITY}">alice@example.com</saml:NameID><samlp:SessionIndex>{session_index}</samlp:SessionIndex></samlp:LogoutRequest>"#
    )
}

/// A LogoutResponse as an IdP writes it.
fn idp_logout_response(in_response_to: &str, status: &str, sig: &str) -> String {
    format!(
        r#"<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_lr1" Version="2.0" IssueInstant="2030-01-01T00:00:30Z" Destination="{SLO}" InResponseTo="{in_response_to}"><saml:Issuer>{IDP_ENTITY}</saml:Issuer>{sig}<samlp:Status>{status}</samlp:Status></samlp:LogoutResponse>"#
    )
}

const SUCCESS: &str = r#"<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>"#;

fn deflate_b64(xml: &[u8]) -> String {
    let mut d = DeflateEncoder::new(Vec::new(), Compression::default());
    d.write_all(xml).unwrap();
    STANDARD.encode(d.finish().unwrap())
}

/// `openssl dgst -<digest> -sign <key_file>` over exactly `data`: the signature as openssl
/// writes it (PKCS#1 for RSA, DER for ECDSA).
fn openssl_sign_raw(data: &str, digest: &str, key_file: &std::path::Path) -> Vec<u8> {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("data");
    let out = tmp.path().join("sig");
    std::fs::write(&input, data).unwrap();
    run(Command::new("openssl")
        .args(["dgst", &format!("-{digest}"), "-sign"])
        .arg(key_file)
        .arg("-out")
        .arg(&out)
        .arg(&input));
    std::fs::read(out).unwrap()
}

/// `openssl dgst -<digest> -sign tests/keys/<key>.key.pem` over exactly `data`, base64.
fn openssl_sign(data: &str, digest: &str, key: &str) -> String {
    STANDARD.encode(openssl_sign_raw(
        data,
        digest,
        &dir().join(format!("keys/{key}.key.pem")),
    ))
}

/// `unsigned` (the signed part of a query) with `&Signature=` and the base64 `sig` after it.
fn with_signature(unsigned: &str, sig: &str) -> String {
    format!("{unsigned}&Signature={}", utf8_percent_encode(sig, ENC))
}

/// The signed part of a query, as the sender writes it: `param=..[&RelayState=..]&SigAlg=..`.
fn unsigned_query(param: &str, xml: &str, relay_state: Option<&str>, sig_alg: &str) -> String {
    let mut q = format!(
        "{param}={}",
        utf8_percent_encode(&deflate_b64(xml.as_bytes()), ENC)
    );
    if let Some(rs) = relay_state {
        q.push_str(&format!("&RelayState={}", utf8_percent_encode(rs, ENC)));
    }
    q.push_str(&format!("&SigAlg={}", utf8_percent_encode(sig_alg, ENC)));
    q
}

/// A complete query string, signed by openssl with the test IdP's key.
fn signed_query(param: &str, xml: &str, relay_state: Option<&str>) -> String {
    let q = unsigned_query(param, xml, relay_state, RSA_SHA256);
    with_signature(&q, &openssl_sign(&q, "sha256", "idp"))
}

/// The IdP's LogoutRequest `_idp1` for the session of [`session`], as a query signed by
/// openssl with the IdP's key.
fn signed_request_query(relay_state: Option<&str>) -> String {
    signed_query(
        "SAMLRequest",
        &idp_logout_request("_idp1", "_s1", ""),
        relay_state,
    )
}

/// Why the SP refuses the Redirect LogoutRequest `query` for `session` at `at`.
fn redirect_request_error(query: &str, session: &LogoutSession, at: SystemTime) -> LogoutError {
    sp().single_logout(SLO)
        .validate_logout_request_redirect(query, session, at)
        .unwrap_err()
}

/// Why the SP refuses the Redirect LogoutResponse `query` to our request `_ours`.
fn redirect_response_error(query: &str) -> LogoutError {
    sp().single_logout(SLO)
        .validate_logout_response_redirect(query, "_ours", now())
        .unwrap_err()
}

/// Why the SP refuses the POST LogoutRequest `form_value` for `session`.
fn post_request_error(form_value: &[u8], session: &LogoutSession) -> LogoutError {
    sp().single_logout(SLO)
        .validate_logout_request_post(form_value, None, session, now())
        .unwrap_err()
}

/// The IdP's LogoutRequest `_idp2` for the session of [`session`], signed by xmlsec1 with
/// `tests/keys/<key>.key.pem`.
fn xmlsec1_signed_request(key: &str) -> String {
    xmlsec1_sign(
        &idp_logout_request("_idp2", "_s1", "@SIG@"),
        "_idp2",
        "LogoutRequest",
        key,
    )
}

/// `xml` with the signature template after its Issuer signed by xmlsec1 (the IdP's key,
/// RSA-SHA256, exclusive c14n), `root` naming the root element for `--id-attr`.
fn xmlsec1_sign(xml_with_template_marker: &str, id: &str, root: &str, key: &str) -> String {
    common::xmlsec1_sign(
        &xml_with_template_marker.replace("@SIG@", &common::sig_template(id)),
        key,
        &format!("urn:oasis:names:tc:SAML:2.0:protocol:{root}"),
        Some("/*/*[local-name()='Signature']"),
    )
}

// --- HTTP-Redirect, IdP-initiated LogoutRequest ------------------------------------------------

#[test]
fn redirect_logout_request_signed_by_openssl_is_accepted_and_answered() {
    if !tools(&["openssl"]) {
        return;
    }
    let sp = sp();
    let slo = sp.single_logout(SLO);
    let query = signed_query(
        "SAMLRequest",
        &idp_logout_request("_idp1", "_s1", ""),
        Some("/after logout"),
    );
    let request = slo
        .validate_logout_request_redirect(&query, &session(), now())
        .unwrap()
        .check_replay_in_memory(&MemoryReplayCache::new())
        .unwrap();
    assert_eq!(request.id(), "_idp1");
    assert_eq!(request.name_id().value, "alice@example.com");
    assert_eq!(request.session_indexes(), ["_s1"]);
    assert_eq!(request.relay_state(), Some("/after logout"));

    let response = request.response(&slo, IDP_SLO, now()).unwrap();
    assert!(response.xml().contains(r#"InResponseTo="_idp1""#));
    let url = response.redirect_url(&sp, request.relay_state()).unwrap();
    let query = url.strip_prefix(&format!("{IDP_SLO}?")).unwrap();
    assert!(query.starts_with("SAMLResponse="));
    openssl_verify_query(query, "sp");

    // When the application could not end the session, the reply says so (Responder), signed
    // the same way.
    let failed = request
        .reply(&slo, IDP_SLO, rampart_saml::LogoutReply::Failed, now())
        .unwrap();
    assert!(failed.xml().contains(r#"InResponseTo="_idp1""#));
    assert!(
        failed.xml().contains(
            r#"<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"/>"#
        )
    );
    assert!(!failed.xml().contains("status:Success"));
    let url = failed.redirect_url(&sp, None).unwrap();
    openssl_verify_query(url.strip_prefix(&format!("{IDP_SLO}?")).unwrap(), "sp");
}

/// Our signed query checked by openssl with the SP certificate's public key: the signature
/// is over `SAMLResponse=..&RelayState=..&SigAlg=..` exactly as sent.
fn openssl_verify_query(query: &str, key: &str) {
    let (signed, sig) = query.rsplit_once("&Signature=").unwrap();
    let sig = percent_encoding::percent_decode_str(sig)
        .decode_utf8()
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (data, sig_file, pubkey) = (
        tmp.path().join("data"),
        tmp.path().join("sig"),
        tmp.path().join("pub.pem"),
    );
    std::fs::write(&data, signed).unwrap();
    std::fs::write(&sig_file, STANDARD.decode(sig.as_bytes()).unwrap()).unwrap();
    let out = run(Command::new("openssl")
        .args(["x509", "-pubkey", "-noout", "-in"])
        .arg(dir().join(format!("keys/{key}.cert.pem"))));
    std::fs::write(&pubkey, out).unwrap();
    run(Command::new("openssl")
        .args(["dgst", "-sha256", "-verify"])
        .arg(&pubkey)
        .arg("-signature")
        .arg(&sig_file)
        .arg(&data));
}

#[test]
fn logout_request_for_another_session_index_is_refused() {
    if !tools(&["openssl"]) {
        return;
    }
    let query = signed_query(
        "SAMLRequest",
        &idp_logout_request("_idp1", "_other", ""),
        None,
    );
    let e = redirect_request_error(&query, &session(), now());
    assert!(matches!(e, LogoutError::SessionIndexMismatch), "{e:?}");
}

#[test]
fn logout_request_for_another_name_id_is_refused() {
    if !tools(&["openssl"]) {
        return;
    }
    let query = signed_request_query(None);
    let mut bob = NameId::new("bob@example.com");
    bob.format = Some(EMAIL.into());
    let bob = LogoutSession::new(bob).with_session_index("_s1");
    let e = redirect_request_error(&query, &bob, now());
    assert!(matches!(e, LogoutError::NameIdMismatch), "{e:?}");
    assert!(
        !e.to_string().contains("alice"),
        "the name id is not echoed"
    );
}

#[test]
fn replayed_logout_request_is_refused() {
    if !tools(&["openssl"]) {
        return;
    }
    let sp = sp();
    let slo = sp.single_logout(SLO);
    let cache = MemoryReplayCache::new();
    let query = signed_request_query(None);
    let first = slo.validate_logout_request_redirect(&query, &session(), now());
    first.unwrap().check_replay_in_memory(&cache).unwrap();
    let e = slo
        .validate_logout_request_redirect(&query, &session(), now())
        .unwrap()
        .check_replay_in_memory(&cache)
        .unwrap_err();
    assert_eq!(e.kind(), "replay");
}

/// A sender that percent-encodes in lower case (`%2f`) signed those bytes: verifying over
/// the raw received query accepts it, where a verifier that re-encoded would not.
#[test]
fn lower_case_percent_encoding_signed_as_received_is_accepted() {
    if !tools(&["openssl"]) {
        return;
    }
    let sp = sp();
    let xml = idp_logout_request("_idp1", "_s1", "");
    let upper = unsigned_query("SAMLRequest", &xml, Some("/a/b"), RSA_SHA256);
    let lower = lower_percent(&upper);
    assert_ne!(upper, lower);
    let query = with_signature(&lower, &openssl_sign(&lower, "sha256", "idp"));
    let request = sp
        .single_logout(SLO)
        .validate_logout_request_redirect(&query, &session(), now())
        .unwrap()
        .into_request_without_replay_check();
    assert_eq!(request.relay_state(), Some("/a/b"));
}

/// The same values re-encoded after signing (upper case signed, lower case received) are
/// other bytes: refused, since nothing but the received bytes is ever verified.
#[test]
fn re_encoded_query_does_not_verify() {
    if !tools(&["openssl"]) {
        return;
    }
    let query = signed_request_query(Some("/a/b"));
    let (signed, sig) = query.split_once("&Signature=").unwrap();
    let reencoded = format!("{}&Signature={sig}", lower_percent(signed));
    let e = redirect_request_error(&reencoded, &session(), now());
    assert_eq!(e.kind(), "signature_invalid", "{e:?}");
}

/// `%2F` -> `%2f` everywhere.
fn lower_percent(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '%' {
            for _ in 0..2 {
                out.extend(chars.next().map(|h| h.to_ascii_lowercase()));
            }
        }
    }
    out
}

#[test]
fn tampered_relay_state_is_refused() {
    if !tools(&["openssl"]) {
        return;
    }
    let query = signed_request_query(Some("/home"));
    let tampered = query.replace("RelayState=%2Fhome", "RelayState=%2Fevil");
    assert_ne!(tampered, query);
    let e = redirect_request_error(&tampered, &session(), now());
    assert_eq!(e.kind(), "signature_invalid");
}

#[test]
fn unsigned_redirect_logout_request_is_refused() {
    let xml = idp_logout_request("_idp1", "_s1", "");
    let query = format!(
        "SAMLRequest={}",
        utf8_percent_encode(&deflate_b64(xml.as_bytes()), ENC)
    );
    let e = redirect_request_error(&query, &session(), now());
    assert!(matches!(e, LogoutError::Unsigned), "{e:?}");
}

#[test]
fn query_signed_by_another_key_is_refused() {
    if !tools(&["openssl"]) {
        return;
    }
    let q = unsigned_query(
        "SAMLRequest",
        &idp_logout_request("_idp1", "_s1", ""),
        None,
        RSA_SHA256,
    );
    let query = with_signature(&q, &openssl_sign(&q, "sha256", "attacker"));
    let e = redirect_request_error(&query, &session(), now());
    assert_eq!(e.kind(), "signature_invalid");
}

#[test]
fn rsa_sha1_query_signature_is_refused_without_the_legacy_opt_in() {
    if !tools(&["openssl"]) {
        return;
    }
    let xml = idp_logout_request("_idp1", "_s1", "");
    let q = unsigned_query("SAMLRequest", &xml, None, RSA_SHA1);
    let query = with_signature(&q, &openssl_sign(&q, "sha1", "idp"));
    let e = redirect_request_error(&query, &session(), now());
    assert_eq!(e.kind(), "algorithm_refused", "{e:?}");
    let legacy = builder().allow_sha1_signatures().build().unwrap();
    legacy
        .single_logout(SLO)
        .validate_logout_request_redirect(&query, &session(), now())
        .unwrap()
        .into_request_without_replay_check();
}

/// A signed DEFLATE bomb (a megabyte of zeros in a kilobyte) stops at the inflate bound.
#[test]
fn deflate_bomb_is_refused() {
    if !tools(&["openssl"]) {
        return;
    }
    let mut bomb = idp_logout_request("_idp1", "_s1", "");
    bomb.push_str(&" ".repeat(1 << 20));
    let query = signed_query("SAMLRequest", &bomb, None);
    assert!(query.len() < 16 * 1024, "{}", query.len());
    let e = redirect_request_error(&query, &session(), now());
    assert!(matches!(e, LogoutError::TooLarge { limit: 65536 }), "{e:?}");
}

#[test]
fn logout_request_to_another_destination_is_refused() {
    if !tools(&["openssl"]) {
        return;
    }
    let xml = idp_logout_request("_idp1", "_s1", "").replace(SLO, "https://other.example/slo");
    let query = signed_query("SAMLRequest", &xml, None);
    let e = redirect_request_error(&query, &session(), now());
    assert_eq!(e.kind(), "destination_mismatch");
}

#[test]
fn expired_logout_request_is_refused() {
    if !tools(&["openssl"]) {
        return;
    }
    let query = signed_request_query(None);
    let later = now() + std::time::Duration::from_secs(3600);
    let e = redirect_request_error(&query, &session(), later);
    assert_eq!(e.kind(), "expired");
    let early = now() - std::time::Duration::from_secs(3600);
    let e = redirect_request_error(&query, &session(), early);
    assert_eq!(e.kind(), "not_yet_valid");
}

// --- HTTP-Redirect, LogoutResponse to our request ----------------------------------------------

#[test]
fn logout_response_to_our_request_is_accepted_once_through_the_request_id_store() {
    if !tools(&["openssl"]) {
        return;
    }
    let sp = sp();
    let slo = sp.single_logout(SLO);
    let mut name_id = NameId::new("alice@example.com");
    name_id.format = Some(EMAIL.into());
    name_id.sp_name_qualifier = Some(SP_ENTITY.into());
    let request = slo
        .logout_request(IDP_SLO, name_id)
        .with_session_index("_s1")
        .build(now())
        .unwrap();
    // Our request, checked by openssl with our certificate.
    let url = request.redirect_url(&sp, Some("/bye")).unwrap();
    openssl_verify_query(url.split_once('?').unwrap().1, "sp");
    for part in [
        "ID=\"_",
        "IssueInstant=\"2030-01-01T00:01:00Z\"",
        "Destination=\"https://idp.example.com/slo\"",
        "NotOnOrAfter=\"2030-01-01T00:06:00Z\"",
        "<saml:Issuer>https://sp.example.com/metadata</saml:Issuer>",
        "SPNameQualifier=\"https://sp.example.com/metadata\"",
        "<samlp:SessionIndex>_s1</samlp:SessionIndex>",
    ] {
        assert!(request.xml().contains(part), "{part}: {}", request.xml());
    }
    let ids = MemoryRequestIds::new();
    let ttl = std::time::Duration::from_secs(600);
    ids.remember_sync(request.id(), now() + ttl, now()).unwrap();

    let query = signed_query(
        "SAMLResponse",
        &idp_logout_response(request.id(), SUCCESS, ""),
        Some("/bye"),
    );
    assert!(ids.consume_sync(request.id(), now()));
    let outcome = slo
        .validate_logout_response_redirect(&query, request.id(), now())
        .unwrap();
    assert_eq!(outcome.in_response_to, request.id());
    assert!(!outcome.partial);
    // The same response again: its request id is spent.
    assert!(!ids.consume_sync(request.id(), now()));
}

#[test]
fn logout_response_with_wrong_in_response_to_is_refused() {
    if !tools(&["openssl"]) {
        return;
    }
    let query = signed_query(
        "SAMLResponse",
        &idp_logout_response("_someone_else", SUCCESS, ""),
        None,
    );
    let e = redirect_response_error(&query);
    assert_eq!(e.kind(), "in_response_to_mismatch");
}

#[test]
fn logout_response_with_a_failure_status_is_reported_with_its_codes() {
    if !tools(&["openssl"]) {
        return;
    }
    let status = r#"<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:UnknownPrincipal"/></samlp:StatusCode><samlp:StatusMessage>no such session</samlp:StatusMessage>"#;
    let query = signed_query(
        "SAMLResponse",
        &idp_logout_response("_ours", status, ""),
        None,
    );
    let e = redirect_response_error(&query);
    let LogoutError::Saml(Error::Status { codes, message }) = e else {
        panic!("{e:?}")
    };
    assert_eq!(codes.len(), 2);
    assert!(codes[1].ends_with(":UnknownPrincipal"));
    assert_eq!(message.as_deref(), Some("no such session"));
}

#[test]
fn a_logout_request_is_not_accepted_as_a_logout_response() {
    if !tools(&["openssl"]) {
        return;
    }
    // Signed as a SAMLResponse parameter, but the XML is a LogoutRequest.
    let query = signed_query("SAMLResponse", &idp_logout_request("_x", "_s1", ""), None);
    let e = redirect_response_error(&query);
    assert_eq!(e.kind(), "malformed_saml");
}

// --- HTTP-POST ---------------------------------------------------------------------------------

#[test]
fn post_logout_request_signed_by_xmlsec1_is_accepted() {
    if !tools(&["xmlsec1"]) {
        return;
    }
    let signed = xmlsec1_signed_request("idp");
    let form_value = STANDARD.encode(signed.as_bytes());
    let request = sp()
        .single_logout(SLO)
        .validate_logout_request_post(form_value.as_bytes(), Some("rs"), &session(), now())
        .unwrap()
        .check_replay_in_memory(&MemoryReplayCache::new())
        .unwrap();
    assert_eq!(request.id(), "_idp2");
    assert_eq!(request.relay_state(), Some("rs"));
}

#[test]
fn post_logout_request_changed_after_signing_is_refused() {
    if !tools(&["xmlsec1"]) {
        return;
    }
    let tampered = xmlsec1_signed_request("idp").replace(">_s1<", ">_s2<");
    let session = session().with_session_index("_s2");
    let e = post_request_error(tampered.as_bytes(), &session);
    assert_eq!(e.kind(), "signature_invalid", "{e:?}");
}

#[test]
fn post_logout_request_signed_by_an_untrusted_key_is_refused() {
    if !tools(&["xmlsec1"]) {
        return;
    }
    let signed = xmlsec1_signed_request("attacker");
    let e = post_request_error(signed.as_bytes(), &session());
    assert_eq!(e.kind(), "untrusted_key", "{e:?}");
}

#[test]
fn unsigned_post_logout_request_is_refused() {
    let xml = idp_logout_request("_idp2", "_s1", "");
    let e = post_request_error(xml.as_bytes(), &session());
    assert!(matches!(e, LogoutError::Unsigned), "{e:?}");
}

#[test]
fn post_logout_response_signed_by_xmlsec1_reports_a_partial_logout() {
    if !tools(&["xmlsec1"]) {
        return;
    }
    let status = r#"<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:PartialLogout"/></samlp:StatusCode>"#;
    let signed = xmlsec1_sign(
        &idp_logout_response("_ours", status, "@SIG@"),
        "_lr1",
        "LogoutResponse",
        "idp",
    );
    let outcome = sp()
        .single_logout(SLO)
        .validate_logout_response_post(STANDARD.encode(&signed).as_bytes(), "_ours", now())
        .unwrap();
    assert!(outcome.partial);
    assert_eq!(outcome.id, "_lr1");
}

/// Our POST-binding LogoutRequest verifies with xmlsec1 and our certificate.
#[test]
fn our_post_logout_request_verifies_with_xmlsec1() {
    if !tools(&["xmlsec1"]) {
        return;
    }
    let sp = sp();
    let request = sp
        .single_logout(SLO)
        .logout_request(IDP_SLO, NameId::new("alice"))
        .build(now())
        .unwrap();
    let form = request.post_form(&sp, None).unwrap();
    let xml = STANDARD.decode(&form.saml_request).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("req.xml");
    std::fs::write(&file, xml).unwrap();
    run(Command::new("xmlsec1")
        .arg("--verify")
        .arg("--pubkey-cert-pem")
        .arg(dir().join("keys/sp.cert.pem"))
        .args([
            "--id-attr:ID",
            "urn:oasis:names:tc:SAML:2.0:protocol:LogoutRequest",
        ])
        .arg(&file));
}

#[test]
fn logout_messages_are_not_sent_unsigned() {
    let sp = builder().build().unwrap();
    let request = sp
        .single_logout(SLO)
        .logout_request(IDP_SLO, NameId::new("alice"))
        .build(now())
        .unwrap();
    assert_eq!(
        request.redirect_url(&sp, None).unwrap_err().kind(),
        "config"
    );
    assert_eq!(request.post_form(&sp, None).unwrap_err().kind(), "config");
}

#[test]
fn metadata_publishes_single_logout_services() {
    let xml = sp()
        .sp_metadata()
        .with_single_logout_service(binding::HTTP_REDIRECT, SLO)
        .with_single_logout_service(binding::HTTP_POST, SLO)
        .to_xml()
        .unwrap();
    let doc = rampart_xmldsig::Document::parse(xml.as_bytes()).unwrap();
    let sso = doc.root().children().next().unwrap();
    let slo: Vec<_> = sso
        .children()
        .filter(|e| e.local_name() == "SingleLogoutService")
        .map(|e| {
            (
                e.attribute("Binding").unwrap(),
                e.attribute("Location").unwrap(),
            )
        })
        .collect();
    assert_eq!(
        slo,
        [(binding::HTTP_REDIRECT, SLO), (binding::HTTP_POST, SLO)]
    );
    assert!(
        xml.find("SingleLogoutService").unwrap() < xml.find("AssertionConsumerService").unwrap()
    );
    assert!(xml.contains(ACS));
    let bad = rampart_saml::SpMetadata::new(SP_ENTITY, ACS)
        .with_single_logout_service("urn:oasis:names:tc:SAML:2.0:bindings:SOAP", SLO)
        .to_xml();
    assert!(bad.is_err());
}

#[test]
fn garbage_queries_are_refused_without_panicking() {
    let sp = sp();
    let slo = sp.single_logout(SLO);
    for q in [
        "",
        "?",
        "&&&",
        "SAMLRequest",
        "SAMLRequest=%ZZ&SigAlg=%ZZ&Signature=%ZZ",
        "SAMLRequest=a&SAMLRequest=b",
        "SigAlg=x&Signature=y",
        "SAMLRequest=AAAA&SigAlg=http%3A%2F%2Fwww.w3.org%2F2001%2F04%2Fxmldsig-more%23rsa-sha256&Signature=AAAA",
        "SAMLRequest=AAAA&SigAlg=urn%3Ax&Signature=AAAA",
    ] {
        assert!(
            slo.validate_logout_request_redirect(q, &session(), now())
                .is_err(),
            "{q}"
        );
        assert!(
            slo.validate_logout_response_redirect(q, "_r", now())
                .is_err(),
            "{q}"
        );
    }
}

/// ECDSA-SHA256 (an IdP with a P-256 key): openssl signs the query (DER), the binding
/// carries XML-DSig's `r || s` form (RFC 4051), the SP verifies it.
#[test]
fn ecdsa_sha256_query_signature_is_accepted() {
    if !tools(&["openssl"]) {
        return;
    }
    let vectors = dir().join("../../rampart-xmldsig/tests/vectors");
    let idp_cert =
        rampart_saml::Certificate::from_pem(&std::fs::read(vectors.join("ec-p256.crt")).unwrap())
            .unwrap();
    let sp = ServiceProvider::builder(SP_ENTITY, ACS)
        .identity_provider(rampart_saml::IdentityProvider::new(IDP_ENTITY, [idp_cert]).unwrap())
        .build()
        .unwrap();
    let q = unsigned_query(
        "SAMLRequest",
        &idp_logout_request("_idp1", "_s1", ""),
        None,
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
    );
    let der = openssl_sign_raw(&q, "sha256", &vectors.join("ec-p256.key"));
    let query = with_signature(&q, &STANDARD.encode(der_to_raw_p256(&der)));
    sp.single_logout(SLO)
        .validate_logout_request_redirect(&query, &session(), now())
        .unwrap()
        .into_request_without_replay_check();
}

/// An ECDSA-Sig-Value (SEQUENCE of two INTEGERs) as `r || s`, 32 bytes each.
fn der_to_raw_p256(der: &[u8]) -> Vec<u8> {
    assert_eq!(der[0], 0x30);
    let mut i = 2;
    let mut out = Vec::new();
    for _ in 0..2 {
        assert_eq!(der[i], 0x02);
        let len = der[i + 1] as usize;
        let int = &der[i + 2..i + 2 + len];
        let int = &int[int.len().saturating_sub(32)..];
        out.extend(std::iter::repeat_n(0u8, 32 - int.len()));
        out.extend_from_slice(int);
        i += 2 + len;
    }
    out
}
