//! Recovery codes through the public API: single use, hashed storage, constant-time
//! consumption, stored form.

use std::collections::HashSet;

use rampart_mfa::{Error, RecoveryCodes, RecoveryPepper};

fn pepper() -> RecoveryPepper {
    RecoveryPepper::from_bytes(7, &[0x42; 32]).unwrap()
}

#[test]
fn ten_distinct_codes_in_display_form() {
    let issued = RecoveryCodes::generate(&pepper()).unwrap();
    assert_eq!(issued.codes.len(), 10);
    assert_eq!(issued.stored.remaining(), 10);
    let distinct: HashSet<_> = issued
        .codes
        .iter()
        .map(|c| c.expose_secret().to_owned())
        .collect();
    assert_eq!(distinct.len(), 10);
    for c in &issued.codes {
        let c = c.expose_secret();
        assert_eq!(c.len(), 14, "{c}");
        assert_eq!(c.as_bytes()[4], b'-');
        assert_eq!(c.as_bytes()[9], b'-');
        assert!(
            c.bytes()
                .all(|b| b == b'-' || b"0123456789ABCDEFGHJKMNPQRSTVWXYZ".contains(&b))
        );
    }
}

#[test]
fn each_code_works_once_and_every_code_works() {
    let pepper = pepper();
    let issued = RecoveryCodes::generate(&pepper).unwrap();
    let mut set = issued.stored.clone();
    for (i, code) in issued.codes.iter().enumerate() {
        set = set.consume(code.expose_secret(), &pepper).unwrap();
        assert_eq!(set.remaining(), 9 - i);
        assert!(matches!(
            set.consume(code.expose_secret(), &pepper),
            Err(Error::InvalidRecoveryCode)
        ));
    }
}

#[test]
fn consume_leaves_the_original_set_for_compare_and_swap() {
    let pepper = pepper();
    let issued = RecoveryCodes::generate(&pepper).unwrap();
    let code = issued.codes[0].expose_secret();
    let after = issued.stored.consume(code, &pepper).unwrap();
    assert_ne!(after, issued.stored);
    assert_eq!(issued.stored.remaining(), 10);
    // Two racing requests both compute `after` from the same stored set: the store's
    // compare-and-swap against `issued.stored` lets only one of them write.
    let racing = issued.stored.consume(code, &pepper).unwrap();
    assert_eq!(racing, after);
}

#[test]
fn typed_codes_are_read_leniently() {
    let pepper = pepper();
    let issued = RecoveryCodes::generate(&pepper).unwrap();
    let code = issued.codes[5].expose_secret();
    let sloppy = format!(
        " {} ",
        code.to_lowercase()
            .replace('-', " ")
            .replace('0', "o")
            .replace('1', "l")
    );
    assert_eq!(
        issued.stored.consume(&sloppy, &pepper).unwrap().remaining(),
        9
    );
}

#[test]
fn wrong_and_malformed_codes_are_refused() {
    let pepper = pepper();
    let issued = RecoveryCodes::generate(&pepper).unwrap();
    for bad in [
        "",
        "0000-0000-0000",
        "ABCD",
        "ABCD-EFGH-JKMU",
        "ÄBCD-EFGH-JKMN",
        &"A".repeat(10_000),
    ] {
        assert!(
            matches!(
                issued.stored.consume(bad, &pepper),
                Err(Error::InvalidRecoveryCode)
            ),
            "{bad}"
        );
    }
}

#[test]
fn a_code_from_another_users_set_is_refused() {
    let pepper = pepper();
    let ann = RecoveryCodes::generate(&pepper).unwrap();
    let bob = RecoveryCodes::generate(&pepper).unwrap();
    let code = ann.codes[0].expose_secret();
    assert!(matches!(
        bob.stored.consume(code, &pepper),
        Err(Error::InvalidRecoveryCode)
    ));
}

#[test]
fn another_pepper_version_is_a_config_error_and_another_pepper_a_wrong_code() {
    let issued = RecoveryCodes::generate(&pepper()).unwrap();
    let code = issued.codes[0].expose_secret();
    let v8 = RecoveryPepper::from_bytes(8, &[0x42; 32]).unwrap();
    assert!(matches!(
        issued.stored.consume(code, &v8),
        Err(Error::PepperMismatch {
            stored: 7,
            given: 8
        })
    ));
    let other = RecoveryPepper::from_bytes(7, &[0x43; 32]).unwrap();
    assert!(matches!(
        issued.stored.consume(code, &other),
        Err(Error::InvalidRecoveryCode)
    ));
}

#[test]
fn short_pepper_is_refused() {
    assert!(matches!(
        RecoveryPepper::from_bytes(1, &[0; 31]),
        Err(Error::Config(_))
    ));
}

#[test]
fn stored_form_holds_no_code_and_round_trips() {
    let pepper = pepper();
    let issued = RecoveryCodes::generate(&pepper).unwrap();
    let json = serde_json::to_string(&issued.stored).unwrap();
    for c in &issued.codes {
        assert!(!json.contains(c.expose_secret()));
        assert!(!json.contains(&c.expose_secret().replace('-', "")));
    }
    let back: RecoveryCodes = serde_json::from_str(&json).unwrap();
    assert_eq!(back, issued.stored);
    assert!(format!("{:?} {:?}", issued.codes[0], pepper).contains("[REDACTED]"));
}

#[test]
fn malformed_stored_forms_are_refused() {
    let ok = serde_json::to_value(RecoveryCodes::generate(&pepper()).unwrap().stored).unwrap();
    let mut bad_version = ok.clone();
    bad_version["v"] = 2.into();
    let mut bad_salt = ok.clone();
    bad_salt["salt"] = "AAAA".into();
    let mut bad_hash = ok.clone();
    bad_hash["hashes"][0] = "not base64!".into();
    let mut too_many = ok.clone();
    too_many["hashes"] = serde_json::Value::Array(vec![ok["hashes"][0].clone(); 65]);
    for v in [bad_version, bad_salt, bad_hash, too_many] {
        assert!(serde_json::from_value::<RecoveryCodes>(v).is_err());
    }
}

#[test]
fn golden_recovery_codes_v1_still_verify() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/");
    let stored: RecoveryCodes = serde_json::from_str(
        &std::fs::read_to_string(format!("{dir}recovery_codes_v1.json")).unwrap(),
    )
    .unwrap();
    let codes = std::fs::read_to_string(format!("{dir}recovery_codes_v1.txt")).unwrap();
    let pepper = pepper();
    let mut set = stored;
    for code in codes.lines() {
        set = set.consume(code, &pepper).unwrap();
    }
    assert_eq!(set.remaining(), 0);
}
