//! Values at the edges of time's range and of the configuration's caps: each is a typed
//! error, never a panic (a panic in a web handler is a denial of service).

mod common;

use std::time::Duration;

use common::*;
use rampart_saml::{
    Error, MAX_AUTHN_AGE_LIMIT, MAX_RESPONSE_BYTES_LIMIT, ServiceProvider, TimeError,
};

fn validate(sp: &ServiceProvider, xml: &str) -> Result<(), Error> {
    sp.validate_response(xml.as_bytes(), expected(), now())
        .map(|_| ())
}

#[test]
fn year_10000_in_utc_is_an_invalid_time_not_a_panic() {
    // 9999-12-31T23:59:59-01:00 is 10000-01-01T00:59:59Z.
    let xml = replace_once(
        &unsigned_template(),
        r#"<saml:Conditions NotBefore="2029-12-31T23:59:00Z" NotOnOrAfter="2030-01-01T00:05:00Z">"#,
        r#"<saml:Conditions NotBefore="2029-12-31T23:59:00Z" NotOnOrAfter="9999-12-31T23:59:59-01:00">"#,
    );
    let e = validate(&sp(), &sign_assertion(&xml)).unwrap_err();
    assert!(matches!(e, Error::Time(TimeError::Invalid(_))), "{e}");
    assert_eq!(e.kind(), "invalid_time");
}

#[test]
fn not_on_or_after_at_the_end_of_year_9999_is_out_of_range() {
    // Representable, but NotOnOrAfter + skew is not: OffsetDateTime + Duration would panic.
    let xml = unsigned_template().replace(
        r#"NotOnOrAfter="2030-01-01T00:05:00Z""#,
        r#"NotOnOrAfter="9999-12-31T23:59:59Z""#,
    );
    let e = validate(&sp(), &sign_assertion(&xml)).unwrap_err();
    assert!(
        matches!(e, Error::Time(TimeError::OutOfRange { .. })),
        "{e}"
    );
    assert_eq!(e.kind(), "time_out_of_range");
}

#[test]
fn authn_instant_near_year_9999_with_the_largest_age_is_checked_without_panic() {
    // AuthnInstant + MAX_AUTHN_AGE_LIMIT + skew lies past year 9999: computed as SystemTime
    // with checked arithmetic (build() caps the age, so Duration::MAX never gets here).
    let xml = replace_once(
        &unsigned_template(),
        r#"AuthnInstant="2029-12-31T23:58:00Z""#,
        r#"AuthnInstant="9999-12-31T00:00:00Z""#,
    );
    let xml = xml.replace("2030-01-01T00:05:00Z", "9999-12-31T00:05:00Z");
    let xml = xml.replace("2029-12-31T23:59:00Z", "9999-12-30T23:59:00Z");
    let xml = xml.replace("2030-01-01T08:00:00Z", "9999-12-31T08:00:00Z");
    let sp = builder()
        .with_max_authentication_age(MAX_AUTHN_AGE_LIMIT)
        .build()
        .unwrap();
    let late = at("9999-12-31T00:00:30Z");
    let login = sp
        .validate_response(sign_assertion(&xml).as_bytes(), expected(), late)
        .unwrap()
        .into_login_without_replay_check();
    assert_eq!(login.name_id.value, "alice@example.com");
}

#[test]
fn huge_max_authentication_age_is_a_config_error() {
    let e = builder()
        .with_max_authentication_age(Duration::MAX)
        .build()
        .unwrap_err();
    assert!(matches!(e, Error::Config(_)), "{e}");
    let e = builder()
        .with_max_authentication_age(MAX_AUTHN_AGE_LIMIT + Duration::from_secs(1))
        .build()
        .unwrap_err();
    assert!(matches!(e, Error::Config(_)), "{e}");
    builder()
        .with_max_authentication_age(MAX_AUTHN_AGE_LIMIT)
        .build()
        .unwrap();
}

#[test]
fn huge_max_response_bytes_is_a_config_error() {
    for bytes in [usize::MAX, MAX_RESPONSE_BYTES_LIMIT + 1] {
        let e = builder()
            .with_max_response_bytes(bytes)
            .build()
            .unwrap_err();
        assert!(matches!(e, Error::Config(_)), "{bytes}: {e}");
    }
    let sp = builder()
        .with_max_response_bytes(MAX_RESPONSE_BYTES_LIMIT)
        .build()
        .unwrap();
    // The base64 pre-check (limit + limit/8) runs without overflow.
    let e = validate(&sp, &"QUFB".repeat(MAX_RESPONSE_BYTES_LIMIT / 2)).unwrap_err();
    assert_eq!(e.kind(), "malformed_input", "{e}");
}

#[test]
fn far_future_now_is_not_a_panic() {
    let sp = sp();
    let far = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1 << 62);
    let e = sp
        .validate_response(fixture("assertion_signed.xml").as_bytes(), expected(), far)
        .map(|_| ())
        .unwrap_err();
    assert_eq!(e.kind(), "expired", "{e}");
}
