//! One test per attack shape, each named for it. Built from the xmlsec1-signed fixtures by
//! rearranging them the way the attack does (SAML Raider's XSW1-XSW8 numbering).

mod common;

use common::*;
use rampart_saml::{
    Error, Expected, MemoryReplayCache, MismatchError, ServiceProvider, SignatureAlgorithm,
    SignatureError,
};
use std::future::Future as _;

fn reject(xml: &str) -> Error {
    match sp().validate_response(xml.as_bytes(), expected(), now()) {
        Ok(v) => panic!("accepted: {:?}", v.login_unchecked_for_replay().name_id),
        Err(e) => e,
    }
}

fn reject_with(
    sp: &ServiceProvider,
    xml: &str,
    expected: Expected<'_>,
    now: std::time::SystemTime,
) -> Error {
    match sp.validate_response(xml.as_bytes(), expected, now) {
        Ok(v) => panic!("accepted: {:?}", v.login_unchecked_for_replay().name_id),
        Err(e) => e,
    }
}

/// The signed assertion with its NameID changed to the attacker's choice, its signature
/// removed, and a new ID.
fn evil_assertion(original: &str, id: &str) -> String {
    let unsigned = original.replace(signature_text(original), "");
    let evil = replace_once(
        &unsigned,
        ">alice@example.com</saml:NameID>",
        ">admin@example.com</saml:NameID>",
    );
    replace_once(
        &evil,
        &format!("ID=\"{ASSERTION_ID}\""),
        &format!("ID=\"{id}\""),
    )
}

// ---- XSW1-XSW8 ---------------------------------------------------------------------------

#[test]
fn xsw1_signed_response_cloned_into_signature_object_is_rejected() {
    // Evil root Response carries the original Signature; the original Response sits in a
    // ds:Object inside that Signature.
    let xml = fixture("response_signed.xml");
    let body = &xml[xml.find("<samlp:Response").unwrap()..];
    let sig = signature_text(body);
    let original_unsigned = body.replace(sig, "");
    let evil = replace_once(&original_unsigned, RESPONSE_ID, "_evil_response");
    let evil = replace_once(
        &evil,
        &format!("ID=\"{ASSERTION_ID}\""),
        "ID=\"_evil_assertion\"",
    );
    let evil = replace_once(
        &evil,
        ">alice@example.com</saml:NameID>",
        ">admin@example.com</saml:NameID>",
    );
    let sig_with_object = sig.replace(
        "</ds:Signature>",
        &format!("<ds:Object>{original_unsigned}</ds:Object></ds:Signature>"),
    );
    let attack = evil.replacen(
        "</saml:Issuer>",
        &format!("</saml:Issuer>{sig_with_object}"),
        1,
    );
    let e = reject(&attack);
    assert_eq!(e.kind(), "assertion_count", "{e}");
}

#[test]
fn xsw2_detached_signature_over_sibling_original_response_is_rejected() {
    // Evil root Response; the original (unsigned copy) Response is its first child and the
    // Signature, now detached, references it.
    let xml = fixture("response_signed.xml");
    let body = &xml[xml.find("<samlp:Response").unwrap()..];
    let sig = signature_text(body);
    let original_unsigned = body.replace(sig, "");
    let evil = replace_once(&original_unsigned, RESPONSE_ID, "_evil_response");
    let evil = replace_once(
        &evil,
        &format!("ID=\"{ASSERTION_ID}\""),
        "ID=\"_evil_assertion\"",
    );
    let evil = replace_once(
        &evil,
        ">alice@example.com</saml:NameID>",
        ">admin@example.com</saml:NameID>",
    );
    let attack = evil.replacen(
        "</saml:Issuer>",
        &format!("</saml:Issuer>{original_unsigned}{sig}"),
        1,
    );
    let e = reject(&attack);
    assert_eq!(e.kind(), "assertion_count", "{e}");
}

#[test]
fn xsw2_detached_signature_without_stray_assertion_is_not_enveloped() {
    // The same detached shape, with the inner original's assertion removed, so only the
    // signature-placement rule can catch it.
    let xml = fixture("response_signed.xml");
    let body = &xml[xml.find("<samlp:Response").unwrap()..];
    let sig = signature_text(body);
    let original_unsigned = body.replace(sig, "");
    let evil = replace_once(&original_unsigned, RESPONSE_ID, "_evil_response");
    let evil = replace_once(
        &evil,
        ">alice@example.com</saml:NameID>",
        ">admin@example.com</saml:NameID>",
    );
    let evil = replace_once(
        &evil,
        &format!("ID=\"{ASSERTION_ID}\""),
        "ID=\"_evil_assertion\"",
    );
    // A signed sibling element the Signature references, placed inside the evil response.
    let attack = evil.replacen("</saml:Issuer>", &format!("</saml:Issuer>{sig}"), 1);
    let e = reject(&attack);
    // The reference #RESPONSE_ID no longer resolves (the original is gone) or does not
    // cover the signature's parent: either way the signature is refused.
    assert!(
        matches!(e.kind(), "signature_invalid" | "signature_not_enveloped"),
        "{e}"
    );
}

#[test]
fn xsw3_evil_assertion_before_signed_assertion_is_rejected() {
    let xml = fixture("assertion_signed.xml");
    let original = assertion_text(&xml);
    let attack = xml.replacen(
        original,
        &format!("{}{original}", evil_assertion(original, "_evil")),
        1,
    );
    let e = reject(&attack);
    assert_eq!(e.kind(), "assertion_count", "{e}");
}

#[test]
fn xsw4_signed_assertion_wrapped_inside_evil_assertion_is_rejected() {
    let xml = fixture("assertion_signed.xml");
    let original = assertion_text(&xml);
    let evil = evil_assertion(original, "_evil");
    let wrapped = replace_once(
        &evil,
        "</saml:Assertion>",
        &format!("{original}</saml:Assertion>"),
    );
    let attack = xml.replacen(original, &wrapped, 1);
    let e = reject(&attack);
    assert_eq!(e.kind(), "signature_missing", "{e}");
}

#[test]
fn xsw5_signature_moved_to_evil_assertion_with_original_appended_is_rejected() {
    let xml = fixture("assertion_signed.xml");
    let original = assertion_text(&xml);
    let sig = signature_text(original);
    // Evil assertion keeps the original signature (its ID stays, so the reference resolves to
    // it), and an unsigned copy of the original goes to the end of the response.
    let evil = replace_once(
        original,
        ">alice@example.com</saml:NameID>",
        ">admin@example.com</saml:NameID>",
    );
    let copy = original.replace(sig, "").replace(ASSERTION_ID, "_copy");
    let attack = xml.replacen(original, &format!("{evil}{copy}"), 1);
    let e = reject(&attack);
    assert_eq!(e.kind(), "assertion_count", "{e}");
}

#[test]
fn xsw5_modified_signed_assertion_alone_fails_digest() {
    let xml = fixture("assertion_signed.xml");
    let attack = replace_once(
        &xml,
        ">alice@example.com</saml:NameID>",
        ">admin@example.com</saml:NameID>",
    );
    let e = reject(&attack);
    assert_eq!(e.kind(), "signature_invalid", "{e}");
}

#[test]
fn xsw6_original_assertion_inside_signature_of_evil_assertion_is_rejected() {
    let xml = fixture("assertion_signed.xml");
    let original = assertion_text(&xml);
    let sig = signature_text(original);
    let original_unsigned = original.replace(sig, "");
    let evil = evil_assertion(original, "_evil");
    let sig_with_original = sig.replace(
        "</ds:Signature>",
        &format!("<ds:Object>{original_unsigned}</ds:Object></ds:Signature>"),
    );
    let evil = evil.replacen(
        "</saml:Issuer>",
        &format!("</saml:Issuer>{sig_with_original}"),
        1,
    );
    let attack = xml.replacen(original, &evil, 1);
    let e = reject(&attack);
    // rampart-xmldsig refuses a reference into its own Signature; our own check refuses a
    // signature that does not cover its parent. Either way: refused as a signature problem.
    assert!(
        matches!(e.kind(), "signature_invalid" | "signature_not_enveloped"),
        "{e}"
    );
}

#[test]
fn xsw7_signed_assertion_hidden_in_extensions_is_rejected() {
    let xml = fixture("assertion_signed.xml");
    let original = assertion_text(&xml);
    let evil = evil_assertion(original, "_evil");
    let without = xml.replacen(original, &evil, 1);
    let attack = without.replacen(
        "</saml:Issuer>",
        &format!("</saml:Issuer><samlp:Extensions>{original}</samlp:Extensions>"),
        1,
    );
    let e = reject(&attack);
    assert_eq!(e.kind(), "assertion_count", "{e}");
}

/// The count in the error is every assertion in the document: the direct one and the strays.
#[test]
fn assertion_count_error_counts_the_direct_assertion_and_every_stray_one() {
    let xml = fixture("assertion_signed.xml");
    let original = assertion_text(&xml);
    // The Response's Issuer is the first.
    let attack = xml.replacen(
        "</saml:Issuer>",
        &format!(
            "</saml:Issuer><samlp:Extensions>{}{}</samlp:Extensions>",
            evil_assertion(original, "_stray1"),
            evil_assertion(original, "_stray2")
        ),
        1,
    );
    let e = reject(&attack);
    assert!(matches!(e, Error::AssertionCount { found: 3 }), "{e}");
}

#[test]
fn xsw8_original_in_object_of_evil_assertion_signature_is_rejected() {
    // Evil assertion with the original ID keeps the Signature; the original assertion, signature
    // removed, sits in a ds:Object of that Signature (the reference now has two targets).
    let xml = fixture("assertion_signed.xml");
    let original = assertion_text(&xml);
    let sig = signature_text(original);
    let original_unsigned = original.replace(sig, "");
    let evil = replace_once(
        original,
        ">alice@example.com</saml:NameID>",
        ">admin@example.com</saml:NameID>",
    );
    let evil = evil.replacen(
        "</ds:Signature>",
        &format!("<ds:Object>{original_unsigned}</ds:Object></ds:Signature>"),
        1,
    );
    let attack = xml.replacen(original, &evil, 1);
    let e = reject(&attack);
    assert_eq!(e.kind(), "duplicate_id", "{e}");
}

// ---- other shapes ------------------------------------------------------------------------

#[test]
fn comment_injection_in_name_id_reads_the_whole_value() {
    let xml = fixture("assertion_signed.xml");
    let attack = replace_once(
        &xml,
        ">alice@example.com</saml:NameID>",
        ">alice@example.com<!--.evil.com-->.evil.com</saml:NameID>",
    );
    // The comment is outside exclusive c14n, so the digest changes only through the text after
    // it: the signature must fail, and no truncated value may ever be read.
    let e = reject(&attack);
    assert_eq!(e.kind(), "signature_invalid", "{e}");
    let harmless = replace_once(
        &xml,
        ">alice@example.com</saml:NameID>",
        ">alice@<!-- attack -->example.com</saml:NameID>",
    );
    let login = sp()
        .validate_response(harmless.as_bytes(), expected(), now())
        .unwrap();
    assert_eq!(
        login.login_unchecked_for_replay().name_id.value,
        "alice@example.com",
        "comment must not truncate the NameID"
    );
}

#[test]
fn duplicate_ids_are_rejected() {
    let xml = fixture("assertion_signed.xml");
    let attack = xml.replacen(
        "</saml:Issuer>",
        &format!("</saml:Issuer><samlp:Extensions><x:Note xmlns:x=\"urn:x\" ID=\"{ASSERTION_ID}\"/></samlp:Extensions>"),
        1,
    );
    let e = reject(&attack);
    assert_eq!(e.kind(), "duplicate_id", "{e}");
}

#[test]
fn two_signed_assertions_are_rejected() {
    let xml = fixture("both_signed.xml");
    let response_unsigned = xml.replacen(signature_text(&xml), "", 1);
    let original = assertion_text(&response_unsigned).to_string();
    let second = original.replace(ASSERTION_ID, "_second");
    let attack = response_unsigned.replacen(&original, &format!("{original}{second}"), 1);
    let e = reject(&attack);
    assert_eq!(e.kind(), "assertion_count", "{e}");
}

#[test]
fn unsigned_assertion_as_sibling_of_signed_assertion_is_rejected() {
    let xml = fixture("assertion_signed.xml");
    let original = assertion_text(&xml);
    let attack = xml.replacen(
        original,
        &format!("{original}{}", evil_assertion(original, "_unsigned")),
        1,
    );
    let e = reject(&attack);
    assert_eq!(e.kind(), "assertion_count", "{e}");
}

#[test]
fn unsigned_response_and_assertion_is_rejected() {
    let xml = fixture("assertion_signed.xml");
    let attack = xml.replacen(signature_text(&xml), "", 1);
    let e = reject(&attack);
    assert_eq!(e.kind(), "signature_missing", "{e}");
}

#[test]
fn signature_by_untrusted_key_is_rejected() {
    let xml = fixture("attacker_signed.xml");
    // Keep only the assertion's signature and strip its KeyInfo: the signature is simply by a
    // key we do not trust. Without a certificate to name the signer, a value no trusted key
    // verifies cannot be told from a changed one: reported as an invalid signature.
    let mut stripped = xml.replacen(signature_text(&xml), "", 1);
    while let Some(s) = stripped.find("<ds:KeyInfo>") {
        let e = s + stripped[s..].find("</ds:KeyInfo>").unwrap() + "</ds:KeyInfo>".len();
        stripped.replace_range(s..e, "");
    }
    let e = reject(&stripped);
    assert_eq!(e.kind(), "signature_invalid", "{e}");
}

#[test]
fn signature_by_untrusted_key_named_in_keyinfo_is_untrusted_key() {
    // Only the assertion signed, by the attacker, whose certificate KeyInfo carries.
    let xml = sign_with(&unsigned_template(), ASSERTION_ID, "attacker");
    let e = reject(&xml);
    assert!(
        matches!(e, Error::Signature(SignatureError::UntrustedKey)),
        "{e}"
    );
}

#[test]
fn tampered_signature_value_under_the_trusted_key_is_signature_invalid() {
    // KeyInfo names the trusted certificate and the digest matches: only the SignatureValue
    // is wrong. Reporting untrusted_key here would send an operator after the wrong fault.
    let xml = fixture("assertion_signed.xml");
    let start = xml.find("<ds:SignatureValue>").unwrap() + "<ds:SignatureValue>".len();
    let mut tampered = xml.clone();
    let flipped = if &xml[start..=start] == "A" { "B" } else { "A" };
    tampered.replace_range(start..=start, flipped);
    let e = reject(&tampered);
    assert!(
        matches!(e, Error::Signature(SignatureError::Invalid(_))),
        "{e}"
    );
    assert_eq!(e.kind(), "signature_invalid");
}

#[test]
fn bearer_confirmation_without_data_has_its_own_error() {
    let xml = replace_once(
        &unsigned_template(),
        r#"<saml:SubjectConfirmationData NotOnOrAfter="2030-01-01T00:05:00Z" Recipient="https://sp.example.com/saml/acs" InResponseTo="_req0123456789abcdef0123456789abcdef"/>"#,
        "",
    );
    let e = reject(&sign_assertion(&xml));
    assert!(
        matches!(
            e,
            Error::Mismatch(MismatchError::MissingSubjectConfirmationData)
        ),
        "{e}"
    );
    assert_eq!(e.kind(), "subject_confirmation_data_missing");
}

#[test]
fn signature_algorithm_outside_the_allow_list_is_refused() {
    let xml = fixture("assertion_signed.xml");
    // RSA-SHA256 only: the fixture (RSA-SHA256) passes.
    let rsa256_only = builder()
        .allowed_signature_algorithms([SignatureAlgorithm::RsaSha256])
        .build()
        .unwrap();
    let login = rsa256_only
        .validate_response(xml.as_bytes(), expected(), now())
        .unwrap()
        .into_login_without_replay_check();
    assert_eq!(login.name_id.value, "alice@example.com");
    // ECDSA only: the same valid RSA-SHA256 signature is refused, by name.
    let ecdsa_only = builder()
        .allowed_signature_algorithms([SignatureAlgorithm::EcdsaSha256])
        .build()
        .unwrap();
    let e = reject_with(&ecdsa_only, &xml, expected(), now());
    assert!(
        matches!(&e, Error::Signature(SignatureError::AlgorithmNotAllowed(uri)) if uri.ends_with("rsa-sha256")),
        "{e}"
    );
    assert_eq!(e.kind(), "algorithm_not_allowed");
    assert!(
        !ecdsa_only
            .algorithms()
            .allows_signature_algorithm(SignatureAlgorithm::RsaSha256)
    );
    // The default allows every supported method; an empty list is a configuration error.
    assert_eq!(sp().algorithms().allowed_signature_algorithms(), None);
    let e = builder()
        .allowed_signature_algorithms([])
        .build()
        .unwrap_err();
    assert_eq!(e.kind(), "config", "{e}");
}

#[test]
fn keyinfo_carrying_attacker_certificate_is_rejected() {
    let xml = fixture("attacker_signed.xml");
    assert!(
        xml.contains("<ds:X509Certificate>"),
        "fixture carries the attacker certificate"
    );
    let e = reject(&xml);
    assert_eq!(e.kind(), "untrusted_key", "{e}");
}

#[test]
fn keyinfo_is_ignored_for_trust_when_it_names_another_certificate() {
    // A genuine signature whose KeyInfo was swapped for the attacker's certificate still
    // verifies with the configured key (KeyInfo is not signed and never used).
    let xml = fixture("assertion_signed.xml");
    let attacker = String::from_utf8(read("keys/attacker.cert.pem")).unwrap();
    let attacker_b64: String = attacker
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let s = xml.find("<ds:X509Certificate>").unwrap() + "<ds:X509Certificate>".len();
    let e = s + xml[s..].find("</ds:X509Certificate>").unwrap();
    let mut swapped = xml.clone();
    swapped.replace_range(s..e, &attacker_b64);
    let login = sp()
        .validate_response(swapped.as_bytes(), expected(), now())
        .unwrap();
    assert_eq!(
        login
            .login_unchecked_for_replay()
            .signing_certificate_sha256,
        cert("keys/idp.cert.pem").fingerprint_sha256().to_string()
    );
}

#[test]
fn sha1_downgrade_is_refused_by_default() {
    let xml = fixture("assertion_signed_sha1.xml");
    let e = reject(&xml);
    assert_eq!(e.kind(), "algorithm_refused", "{e}");
    assert!(e.to_string().contains("sha-1"), "{e}");
    let legacy = builder().allow_sha1_signatures().build().unwrap();
    assert!(
        legacy
            .validate_response(xml.as_bytes(), expected(), now())
            .is_ok()
    );
}

#[test]
fn rsa_1024_key_is_refused_by_default() {
    let xml = fixture("assertion_signed_rsa1024.xml");
    let idp =
        rampart_saml::IdentityProvider::new(IDP_ENTITY, [cert("keys/idp1024.cert.pem")]).unwrap();
    let strict = ServiceProvider::builder(SP_ENTITY, ACS)
        .identity_provider(idp.clone())
        .build()
        .unwrap();
    let e = reject_with(&strict, &xml, expected(), now());
    assert_eq!(e.kind(), "algorithm_refused", "{e}");
    let legacy = ServiceProvider::builder(SP_ENTITY, ACS)
        .identity_provider(idp)
        .allow_small_rsa_keys()
        .build()
        .unwrap();
    assert!(
        legacy
            .validate_response(xml.as_bytes(), expected(), now())
            .is_ok()
    );
}

#[test]
fn doctype_with_entities_is_rejected_before_parsing() {
    let xml = fixture("assertion_signed.xml");
    let body = &xml[xml.find("<samlp:Response").unwrap()..];
    let attack = format!(
        "<!DOCTYPE samlp:Response [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;\">]>{}",
        body.replacen(">alice@example.com<", ">&b;<", 1)
    );
    let e = reject(&attack);
    assert_eq!(e.kind(), "xml_refused", "{e}");
    let external = format!("<!DOCTYPE r SYSTEM \"file:///etc/passwd\">{body}");
    assert_eq!(reject(&external).kind(), "xml_refused");
}

#[test]
fn undeclared_entity_reference_is_rejected() {
    let xml = fixture("assertion_signed.xml");
    let attack = replace_once(
        &xml,
        ">alice@example.com</saml:NameID>",
        ">&xxe;</saml:NameID>",
    );
    assert_eq!(reject(&attack).kind(), "xml_refused");
}

#[test]
fn wrong_audience_is_rejected() {
    let e = reject(&fixture("wrong_audience.xml"));
    assert_eq!(e.kind(), "audience_mismatch", "{e}");
}

#[test]
fn wrong_recipient_is_rejected() {
    let e = reject(&fixture("wrong_recipient.xml"));
    assert_eq!(e.kind(), "recipient_mismatch", "{e}");
}

#[test]
fn wrong_destination_is_rejected() {
    let e = reject(&fixture("wrong_destination.xml"));
    assert_eq!(e.kind(), "destination_mismatch", "{e}");
}

#[test]
fn signed_response_without_destination_is_rejected() {
    let e = reject(&fixture("missing_destination.xml"));
    assert_eq!(e.kind(), "destination_missing", "{e}");
}

#[test]
fn wrong_issuer_is_rejected() {
    let e = reject(&fixture("wrong_issuer.xml"));
    assert_eq!(e.kind(), "issuer_mismatch", "{e}");
}

#[test]
fn error_status_is_reported_with_codes_and_message() {
    let e = reject(&fixture("status_responder.xml"));
    assert_eq!(e.kind(), "status_not_success");
    match e {
        Error::Status { codes, message } => {
            assert_eq!(
                codes,
                [
                    "urn:oasis:names:tc:SAML:2.0:status:Responder",
                    "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"
                ]
            );
            assert_eq!(message.as_deref(), Some("wrong password"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn expired_assertion_is_rejected() {
    // Conditions and SubjectConfirmationData end at 00:05; skew is 90 s.
    let xml = fixture("assertion_signed.xml");
    let e = reject_with(&sp(), &xml, expected(), at("2030-01-01T00:06:30Z"));
    assert_eq!(e.kind(), "expired", "{e}");
    // Still inside the skew: accepted.
    assert!(
        sp().validate_response(xml.as_bytes(), expected(), at("2030-01-01T00:06:29Z"))
            .is_ok()
    );
}

#[test]
fn not_yet_valid_assertion_is_rejected() {
    // NotBefore 23:59:00, AuthnInstant 23:58:00; skew 90 s.
    let xml = fixture("assertion_signed.xml");
    let e = reject_with(&sp(), &xml, expected(), at("2029-12-31T23:56:29Z"));
    assert_eq!(e.kind(), "not_yet_valid", "{e}");
}

#[test]
fn authentication_older_than_max_age_is_rejected() {
    let xml = fixture("assertion_signed.xml");
    let strict = builder()
        .with_max_authentication_age(std::time::Duration::from_secs(60))
        .build()
        .unwrap();
    let e = reject_with(&strict, &xml, expected(), now());
    assert_eq!(e.kind(), "authn_too_old", "{e}");
}

fn accepted_at(sp: &ServiceProvider, xml: &str, now: &str) {
    let validated = sp
        .validate_response(xml.as_bytes(), expected(), at(now))
        .unwrap();
    assert_eq!(
        validated.login_unchecked_for_replay().name_id.value,
        "alice@example.com"
    );
}

/// The fixture's AuthnInstant is 23:58:00 and its Conditions' NotBefore 23:59:00. With no
/// skew and a 60 s age limit, 23:59:00 is on both boundaries, which are inclusive.
fn no_skew_one_minute_age() -> ServiceProvider {
    builder()
        .with_max_authentication_age(std::time::Duration::from_secs(60))
        .with_clock_skew(std::time::Duration::ZERO)
        .build()
        .unwrap()
}

/// Accepted at 23:59:00, refused as `kind` at `refused_at`.
fn inclusive_boundary(refused_at: &str, kind: &str) {
    let xml = fixture("assertion_signed.xml");
    let sp = no_skew_one_minute_age();
    accepted_at(&sp, &xml, "2029-12-31T23:59:00Z");
    let e = reject_with(&sp, &xml, expected(), at(refused_at));
    assert_eq!(e.kind(), kind, "{e}");
}

#[test]
fn authentication_exactly_max_age_old_is_accepted_and_a_second_older_is_not() {
    inclusive_boundary("2029-12-31T23:59:01Z", "authn_too_old");
}

#[test]
fn assertion_is_valid_from_its_not_before_instant_and_not_a_second_earlier() {
    inclusive_boundary("2029-12-31T23:58:59Z", "not_yet_valid");
}

#[test]
fn in_response_to_mismatch_is_rejected() {
    let xml = fixture("assertion_signed.xml");
    let e = reject_with(&sp(), &xml, Expected::Request("_another_request"), now());
    assert_eq!(e.kind(), "in_response_to_mismatch", "{e}");
}

#[test]
fn unsolicited_response_is_rejected_by_default() {
    let xml = fixture("assertion_signed.xml");
    let e = reject_with(&sp(), &xml, Expected::Unsolicited, now());
    assert_eq!(e.kind(), "unsolicited_response", "{e}");
    // Opting in does not accept a response that names a request we do not know of.
    let open = builder()
        .accept_idp_initiated_unsolicited_responses()
        .build()
        .unwrap();
    let e = reject_with(&open, &xml, Expected::Unsolicited, now());
    assert_eq!(e.kind(), "in_response_to_mismatch", "{e}");
}

#[test]
fn replayed_assertion_is_rejected() {
    let xml = fixture("both_signed.xml");
    let cache = MemoryReplayCache::new();
    let sp = sp();
    let validated = || {
        sp.validate_response(xml.as_bytes(), expected(), now())
            .unwrap()
    };
    validated().check_replay_in_memory(&cache).unwrap();
    let e = validated().check_replay_in_memory(&cache).unwrap_err();
    assert_eq!(e.kind(), "replay", "{e}");
    // The async path (what a server generic over ReplayCache calls) keys the memory cache
    // the same way, by issuer and assertion ID. Its future is ready on the first poll.
    let check = validated().check_replay(&cache);
    let waker = std::task::Waker::noop();
    let std::task::Poll::Ready(result) =
        std::pin::pin!(check).poll(&mut std::task::Context::from_waker(waker))
    else {
        panic!("the memory cache never waits");
    };
    assert_eq!(result.unwrap_err().kind(), "replay");
    assert_eq!(cache.len(), 1);
}

/// An SP that does not decrypt refuses any response carrying an EncryptedAssertion as not
/// supported, whatever else it holds (here a valid plain assertion beside it).
#[test]
fn encrypted_assertion_beside_a_plain_one_gets_the_not_supported_error() {
    let xml = fixture("assertion_signed.xml");
    let attack = replace_once(
        &xml,
        "</saml:Assertion></samlp:Response>",
        "</saml:Assertion><saml:EncryptedAssertion><xenc:EncryptedData xmlns:xenc=\"http://www.w3.org/2001/04/xmlenc#\"/></saml:EncryptedAssertion></samlp:Response>",
    );
    assert_eq!(reject(&attack).kind(), "encrypted_not_supported");
}

#[test]
fn encrypted_assertion_gets_a_clear_not_supported_error() {
    let xml = fixture("assertion_signed.xml");
    let original = assertion_text(&xml);
    let attack = xml.replacen(
        original,
        "<saml:EncryptedAssertion><xenc:EncryptedData xmlns:xenc=\"http://www.w3.org/2001/04/xmlenc#\"/></saml:EncryptedAssertion>",
        1,
    );
    let e = reject(&attack);
    assert_eq!(e.kind(), "encrypted_not_supported", "{e}");
    assert!(
        e.to_string().contains("encrypted assertions not supported"),
        "{e}"
    );
}

#[test]
fn oversized_response_is_rejected_before_parsing() {
    let small = builder().with_max_response_bytes(4096).build().unwrap();
    let e = reject_with(&small, &fixture("assertion_signed.xml"), expected(), now());
    assert_eq!(e.kind(), "malformed_input", "{e}");
}

#[test]
fn in_response_to_only_on_unsigned_response_is_not_enough() {
    // The bearer confirmation names no request; the Response does, but it is not signed, so
    // anyone could have added it.
    let e = reject(&fixture("scd_without_irt_assertion_signed.xml"));
    assert_eq!(e.kind(), "in_response_to_mismatch", "{e}");
    // Signed, the Response's InResponseTo binds the login to our request.
    let login = sp()
        .validate_response(
            fixture("scd_without_irt_both_signed.xml").as_bytes(),
            expected(),
            now(),
        )
        .unwrap()
        .into_login_without_replay_check();
    assert_eq!(login.in_response_to.as_deref(), Some(REQUEST_ID));
}

// ---- attack shapes without their side faults ---------------------------------------------
// The sample fixtures of these attacks are refused for reasons beside the attack (a missing
// Version, a root in no namespace, a second assertion). Each variant here is built from a
// valid signed fixture with that side fault removed, so the rule meant for the attack is the
// one that refuses it.

fn signature_invalid_message(e: &Error) -> String {
    match e {
        Error::Signature(SignatureError::Invalid(m)) => m.to_string(),
        other => panic!(
            "expected an invalid signature, got {} ({other})",
            other.kind()
        ),
    }
}

#[test]
fn ancestor_attack_with_a_valid_outer_response_needs_a_direct_child_assertion() {
    // samael's ancestor attack, with an outer Response that is valid SAML (Version, Status,
    // Destination, our IdP as Issuer): the genuine signed Response sits inside its Issuer,
    // so the signed assertion is a descendant but not a child. Only one Assertion exists.
    let xml = fixture("assertion_signed.xml");
    let inner = &xml[xml.find("<samlp:Response").unwrap()..];
    let attack = format!(
        r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_outer" Version="2.0" IssueInstant="2030-01-01T00:00:00Z" Destination="{ACS}"><saml:Issuer>{IDP_ENTITY}{inner}</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status></samlp:Response>"#
    );
    assert_eq!(attack.matches("<saml:Assertion ").count(), 1);
    let e = reject(&attack);
    assert!(matches!(e, Error::AssertionCount { found: 1 }), "{e}");
}

#[test]
fn xpointer_reference_in_a_saml_response_is_refused_by_the_reference_rule() {
    // samael's xpointer attack in a well-formed SAML response: the Reference URI uses the
    // XPointer element() scheme (only "#id" naming the signature's parent is accepted).
    let xml = fixture("response_signed.xml");
    let attack = replace_once(
        &xml,
        &format!(r##"URI="#{RESPONSE_ID}""##),
        r##"URI="#element(/1/3)""##,
    );
    let e = reject(&attack);
    let m = signature_invalid_message(&e);
    assert!(m.contains("not a same-document id reference"), "{m}");
}

#[test]
fn xpath_transform_on_a_single_assertion_is_refused_by_the_transform_rule() {
    // samael's xpath_transform without the second assertion: only the forbidden transform
    // (REC-xpath-19991116) is wrong.
    let xml = fixture("assertion_signed.xml");
    // In place of the exc-c14n transform, so the count of transforms stays legal.
    let attack = replace_once(
        &xml,
        r#"<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>"#,
        r#"<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"><ds:XPath>not(ancestor-or-self::saml:Subject)</ds:XPath></ds:Transform>"#,
    );
    assert_eq!(attack.matches("<saml:Assertion ").count(), 1);
    let e = reject(&attack);
    let m = signature_invalid_message(&e);
    assert!(
        m.contains("REC-xpath-19991116") && m.contains("not allowed"),
        "{m}"
    );
}

#[test]
fn xsw1_without_the_cloned_assertion_is_refused_as_a_reference_into_its_signature() {
    // XSW1 with the copy in ds:Object stripped of its assertion: one assertion in the
    // document, so only the signature-placement rules are left: the reference resolves
    // inside the Signature itself, never the element that contains it.
    let xml = fixture("response_signed.xml");
    let body = &xml[xml.find("<samlp:Response").unwrap()..];
    let sig = signature_text(body);
    let original_unsigned = body.replace(sig, "");
    let original_without_assertion =
        original_unsigned.replace(assertion_text(&original_unsigned), "");
    let evil = replace_once(&original_unsigned, RESPONSE_ID, "_evil_response");
    let evil = replace_once(
        &evil,
        ">alice@example.com</saml:NameID>",
        ">admin@example.com</saml:NameID>",
    );
    let sig_with_object = sig.replace(
        "</ds:Signature>",
        &format!("<ds:Object>{original_without_assertion}</ds:Object></ds:Signature>"),
    );
    let attack = evil.replacen(
        "</saml:Issuer>",
        &format!("</saml:Issuer>{sig_with_object}"),
        1,
    );
    assert_eq!(attack.matches("<saml:Assertion ").count(), 1);
    let e = reject(&attack);
    let m = signature_invalid_message(&e);
    assert!(m.contains("inside its own Signature"), "{m}");
}

#[test]
fn xsw3_without_the_signed_original_the_evil_assertion_is_unsigned() {
    // XSW3 with the signed original removed: the evil assertion alone, carrying no
    // signature, must not be taken on the strength of a signature elsewhere.
    let xml = fixture("assertion_signed.xml");
    let original = assertion_text(&xml);
    let attack = xml.replacen(original, &evil_assertion(original, "_evil"), 1);
    assert_eq!(attack.matches("<saml:Assertion ").count(), 1);
    let e = reject(&attack);
    assert!(
        matches!(e, Error::Signature(SignatureError::Missing)),
        "{e}"
    );
}

#[test]
fn xsw3_evil_assertion_carrying_the_original_signature_is_refused() {
    // The evil assertion (new ID) keeps the original ds:Signature, whose reference now names
    // an ID that no element carries.
    let xml = fixture("assertion_signed.xml");
    let original = assertion_text(&xml);
    let sig = signature_text(original);
    let evil = evil_assertion(original, "_evil").replacen(
        "</saml:Issuer>",
        &format!("</saml:Issuer>{sig}"),
        1,
    );
    let attack = xml.replacen(original, &evil, 1);
    assert_eq!(attack.matches("<saml:Assertion ").count(), 1);
    let e = reject(&attack);
    let m = signature_invalid_message(&e);
    assert!(m.contains(ASSERTION_ID), "{m}");
}

#[test]
fn xsw7_signature_hidden_in_extensions_does_not_sign_the_assertion() {
    // XSW7 without the stray copy: the evil assertion keeps the original ID, and the
    // original's Signature is moved into samlp:Extensions. Only signatures that are direct
    // children of the Response or the Assertion count, so the assertion is unsigned.
    let xml = fixture("assertion_signed.xml");
    let original = assertion_text(&xml);
    let sig = signature_text(original);
    let evil = replace_once(
        &original.replace(sig, ""),
        ">alice@example.com</saml:NameID>",
        ">admin@example.com</saml:NameID>",
    );
    let without = xml.replacen(original, &evil, 1);
    let attack = without.replacen(
        "</saml:Issuer>",
        &format!("</saml:Issuer><samlp:Extensions>{sig}</samlp:Extensions>"),
        1,
    );
    assert_eq!(attack.matches("<saml:Assertion ").count(), 1);
    let e = reject(&attack);
    assert!(
        matches!(e, Error::Signature(SignatureError::Missing)),
        "{e}"
    );
}

#[test]
fn only_the_response_issuer_wrong_is_rejected() {
    // Both signed, the assertion's Issuer right: the Response's Issuer alone is checked.
    let xml = unsigned_template().replacen(
        "<saml:Issuer>https://idp.example.com/metadata</saml:Issuer>",
        "<saml:Issuer>https://evil.example.com/metadata</saml:Issuer>",
        1,
    );
    assert!(assertion_text(&xml).contains(&format!("<saml:Issuer>{IDP_ENTITY}</saml:Issuer>")));
    let e = reject(&sign_response(&sign_assertion(&xml)));
    assert!(
        matches!(&e, Error::Mismatch(MismatchError::Issuer { found }) if found == "https://evil.example.com/metadata"),
        "{e}"
    );
}

#[test]
fn only_the_assertion_issuer_wrong_is_rejected() {
    let xml = unsigned_template();
    let a = assertion_text(&xml);
    let wrong = replace_once(
        a,
        "<saml:Issuer>https://idp.example.com/metadata</saml:Issuer>",
        "<saml:Issuer>https://evil.example.com/metadata</saml:Issuer>",
    );
    let xml = xml.replacen(a, &wrong, 1);
    // The Response's Issuer (the first one) stays right.
    assert!(xml[..xml.find("<saml:Assertion").unwrap()].contains(IDP_ENTITY));
    let e = reject(&sign_response(&sign_assertion(&xml)));
    assert!(
        matches!(&e, Error::Mismatch(MismatchError::Issuer { found }) if found == "https://evil.example.com/metadata"),
        "{e}"
    );
}
