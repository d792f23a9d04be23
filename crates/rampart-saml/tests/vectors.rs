//! The serde form of a [`Login`] (its [`LoginRecord`], version 1) is stable: the golden file written from the
//! both-signed fixture still loads and equals a fresh validation.

mod common;

use common::*;
use rampart_saml::{LOGIN_FORMAT_VERSION, Login, LoginRecord};

const GOLDEN: &str = "vectors/login_v1.json";

fn fresh() -> Login {
    sp().validate_response(fixture("both_signed.xml").as_bytes(), expected(), now())
        .unwrap()
        .into_login_without_replay_check()
}

#[test]
#[ignore = "writes the golden file; run once when the format version changes"]
fn write_golden_login_v1() {
    let json = serde_json::to_string_pretty(&fresh().to_record()).unwrap();
    std::fs::write(dir().join(GOLDEN), json + "\n").unwrap();
}

#[test]
fn golden_login_v1_still_loads() {
    let text = String::from_utf8(read(GOLDEN)).unwrap();
    let stored: LoginRecord = serde_json::from_str(&text).unwrap();
    assert_eq!(stored.version, 1);
    assert_eq!(stored, fresh().to_record());
    assert_eq!(LOGIN_FORMAT_VERSION, 1);
    // The stored form names its fields in snake_case and writes times in RFC 3339.
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["name_id"]["value"], "alice@example.com");
    assert_eq!(v["authn_instant"], "2029-12-31T23:58:00Z");
    assert_eq!(v["signed"], "response_and_assertion");
}
