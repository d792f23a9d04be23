//! The xmlsec1-signed fixtures of `tests/fixtures/` (regenerate with `tests/fixtures/gen.sh`)
//! validate, with every field read.

mod common;

use common::*;
use rampart_saml::{MemoryReplayCache, SignedParts, Trace};

#[test]
fn assertion_signed_response_validates_with_every_field() {
    let xml = fixture("assertion_signed.xml");
    let login = sp()
        .validate_response(xml.as_bytes(), expected(), now())
        .unwrap()
        .check_replay_in_memory(&MemoryReplayCache::new())
        .unwrap();
    assert_eq!(login.issuer, IDP_ENTITY);
    assert_eq!(login.name_id.value, "alice@example.com");
    assert_eq!(
        login.name_id.format.as_deref(),
        Some("urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress")
    );
    assert_eq!(login.name_id.name_qualifier.as_deref(), Some(IDP_ENTITY));
    assert_eq!(login.name_id.sp_name_qualifier.as_deref(), Some(SP_ENTITY));
    assert_eq!(login.assertion_id, ASSERTION_ID);
    assert_eq!(
        login.response_id, None,
        "response is unsigned: its ID is not reported"
    );
    assert_eq!(login.in_response_to.as_deref(), Some(REQUEST_ID));
    assert_eq!(
        login.session_index.as_deref(),
        Some("_s1a2b3c4d5e6f7a8b9c0")
    );
    assert_eq!(
        login.authn_context_class_ref.as_deref(),
        Some("urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport")
    );
    assert!(login.one_time_use);
    assert_eq!(login.signed, SignedParts::Assertion);
    assert_eq!(
        login.signing_certificate_sha256,
        cert("keys/idp.cert.pem").fingerprint_sha256().to_string()
    );
    assert_eq!(
        login.attribute("mail"),
        Some(&["alice@example.com".to_string()][..])
    );
    assert_eq!(
        login.attribute("urn:oid:2.5.4.4"),
        Some(&["Liddell & Co".to_string()][..])
    );
    let groups = login.attribute("groups").unwrap();
    assert_eq!(groups.len(), 40);
    assert_eq!(groups[39], "engineering-team-39");
    assert_eq!(login.attribute("nickname"), Some(&[String::new()][..]));
    let mail = &login.attributes[0];
    assert_eq!(
        mail.name_format.as_deref(),
        Some("urn:oasis:names:tc:SAML:2.0:attrname-format:uri")
    );
    assert_eq!(mail.friendly_name.as_deref(), Some("mail"));
    // valid until the earliest NotOnOrAfter (00:05) plus the default skew (90 s).
    assert_eq!(
        login.valid_until,
        time::macros::datetime!(2030-01-01 00:06:30 UTC)
    );
}

#[test]
fn assertion_without_one_time_use_is_reported_as_such() {
    let xml = replace_once(&unsigned_template(), "<saml:OneTimeUse/>", "");
    let validated = sp()
        .validate_response(sign_assertion(&xml).as_bytes(), expected(), now())
        .unwrap();
    assert!(!validated.login_unchecked_for_replay().one_time_use);
}

/// `xsi:nil` (XML Schema's "true" or "1") makes a value empty whatever the element holds;
/// any other value of it ("false", "0") leaves the text as it is.
#[test]
fn nil_attribute_values_are_empty_and_not_nil_ones_keep_their_text() {
    let xml = replace_once(
        &unsigned_template(),
        r#"<saml:AttributeValue xsi:nil="true"/>"#,
        concat!(
            r#"<saml:AttributeValue xsi:nil="true">ignored</saml:AttributeValue>"#,
            r#"<saml:AttributeValue xsi:nil="1">ignored</saml:AttributeValue>"#,
            r#"<saml:AttributeValue xsi:nil="false">kept</saml:AttributeValue>"#,
            r#"<saml:AttributeValue xsi:nil="0">also kept</saml:AttributeValue>"#,
        ),
    );
    let validated = sp()
        .validate_response(sign_assertion(&xml).as_bytes(), expected(), now())
        .unwrap();
    assert_eq!(
        validated
            .login_unchecked_for_replay()
            .attribute("nickname")
            .unwrap(),
        ["", "", "kept", "also kept"]
    );
}

#[test]
fn response_signed_only_validates_and_reports_response_id() {
    let login = sp()
        .validate_response(fixture("response_signed.xml").as_bytes(), expected(), now())
        .unwrap()
        .into_login_without_replay_check();
    assert_eq!(login.signed, SignedParts::Response);
    assert_eq!(login.response_id.as_deref(), Some(RESPONSE_ID));
    assert_eq!(login.name_id.value, "alice@example.com");
}

#[test]
fn both_signed_validates() {
    let login = sp()
        .validate_response(fixture("both_signed.xml").as_bytes(), expected(), now())
        .unwrap()
        .into_login_without_replay_check();
    assert_eq!(login.signed, SignedParts::ResponseAndAssertion);
}

#[test]
fn base64_form_value_is_accepted_like_raw_xml() {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(fixture("both_signed.xml"));
    // Some IdPs wrap the base64 at 76 columns.
    let wrapped: String = b64
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join("\r\n");
    let login = sp()
        .validate_response(wrapped.as_bytes(), expected(), now())
        .unwrap();
    assert_eq!(
        login.login_unchecked_for_replay().name_id.value,
        "alice@example.com"
    );
}

#[test]
fn rollover_second_certificate_verifies() {
    let sp = rampart_saml::ServiceProvider::builder(SP_ENTITY, ACS)
        .identity_provider(
            rampart_saml::IdentityProvider::new(
                IDP_ENTITY,
                [cert("keys/attacker.cert.pem"), cert("keys/idp.cert.pem")],
            )
            .unwrap(),
        )
        .build()
        .unwrap();
    let login = sp
        .validate_response(fixture("both_signed.xml").as_bytes(), expected(), now())
        .unwrap();
    assert_eq!(
        login
            .login_unchecked_for_replay()
            .signing_certificate_sha256,
        cert("keys/idp.cert.pem").fingerprint_sha256().to_string()
    );
}

#[test]
fn explain_lists_every_check_in_order() {
    let mut trace = Trace::default();
    let _ = sp()
        .validate_response_explained(
            fixture("both_signed.xml").as_bytes(),
            expected(),
            now(),
            &mut trace,
        )
        .unwrap();
    let checks: Vec<&str> = trace.steps.iter().map(|s| s.check).collect();
    for c in [
        "input",
        "xml",
        "root",
        "status",
        "assertion",
        "signature.response",
        "signature.assertion",
        "destination",
        "issuer.response",
        "in_response_to.response",
        "issuer.assertion",
        "name_id",
        "subject_confirmation",
        "conditions",
        "authn_statement",
        "attributes",
    ] {
        assert!(checks.contains(&c), "missing {c} in {checks:?}");
    }
    assert!(trace.steps.iter().all(|s| s.passed));
    let text = trace.to_string();
    assert!(
        text.contains("rampart test idp"),
        "trace names the matching certificate:\n{text}"
    );
    assert!(text.contains("skew 90 s"), "{text}");
    // Details are formatted lazily, only for a recording trace: each is still there.
    for detail in [
        "answer to request \"_req0123456789abcdef0123456789abcdef\" expected",
        "exactly one assertion (ID \"",
        "\"https://sp.example.com/saml/acs\" is our acs url",
        "response issuer \"https://idp.example.com/metadata\" is the configured idp",
        "\"_req0123456789abcdef0123456789abcdef\" matches the outstanding request",
        "(now 2030-01-01T00:01:00Z, skew 90 s",
    ] {
        assert!(text.contains(detail), "missing {detail:?} in\n{text}");
    }
}

#[test]
fn explain_marks_the_failing_check() {
    let mut trace = Trace::default();
    let other = rampart_saml::ServiceProvider::builder("https://other.example.com", ACS)
        .identity_provider(
            rampart_saml::IdentityProvider::new(IDP_ENTITY, [cert("keys/idp.cert.pem")]).unwrap(),
        )
        .build()
        .unwrap();
    let err = other
        .validate_response_explained(
            fixture("both_signed.xml").as_bytes(),
            expected(),
            now(),
            &mut trace,
        )
        .unwrap_err();
    assert_eq!(err.kind(), "sp_name_qualifier_mismatch");
    let last = trace.steps.last().unwrap();
    assert!(!last.passed);
    assert_eq!(last.check, "name_id");
}
