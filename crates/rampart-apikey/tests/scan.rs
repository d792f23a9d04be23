//! Scanning text for secret keys and redacting them.

use std::time::SystemTime;

use rampart_apikey::{
    ApiKeys, HashingKey, KeyOptions, KeyPrefix, Keyset, SCANNER_REGEX, SecretKey, find_keys,
    redact, redact_key,
};
use regex::Regex;

fn issue(service: &str, env: &str) -> SecretKey {
    let keys = ApiKeys::new(
        KeyPrefix::new(service, env).unwrap(),
        Keyset::new(1, HashingKey::from_bytes(&[1; 32]).unwrap()),
    );
    keys.issue(KeyOptions::new(), SystemTime::now())
        .unwrap()
        .secret_key
}

#[test]
fn finds_every_key_in_a_log_with_their_positions() {
    let a = issue("rk", "live");
    let b = issue("acme", "test");
    let log = format!(
        "GET /a Authorization: Bearer {}\nPOST /b {{\"key\":\"{}\"}}\n",
        a.expose_secret(),
        b.expose_secret()
    );
    let found = find_keys(&log);
    assert_eq!(found.len(), 2);
    assert_eq!(&log[found[0].range.clone()], a.expose_secret());
    assert_eq!(found[0].public_id, a.public_id());
    assert_eq!(found[0].prefix, "rk_live");
    assert_eq!(&log[found[1].range.clone()], b.expose_secret());
    assert_eq!(found[1].prefix, "acme_test");
}

#[test]
fn key_glued_to_a_preceding_word_with_underscore_is_found() {
    // The leftmost regex match starts at `token` and fails the checksum; the scanner must
    // retry further on and still find the key.
    let k = issue("rk", "live");
    let text = format!("token_{}", k.expose_secret());
    let found = find_keys(&text);
    assert_eq!(found.len(), 1);
    assert_eq!(&text[found[0].range.clone()], k.expose_secret());
}

#[test]
fn two_keys_back_to_back_are_both_found() {
    let (a, b) = (issue("rk", "live"), issue("rk", "live"));
    let text = format!("{}{}", a.expose_secret(), b.expose_secret());
    assert_eq!(find_keys(&text).len(), 2);
}

#[test]
fn look_alike_with_bad_checksum_is_not_reported() {
    let k = issue("rk", "live");
    let s = k.expose_secret();
    let fake = format!(
        "{}{}",
        &s[..s.len() - 1],
        if s.ends_with('0') { '1' } else { '0' }
    );
    assert!(find_keys(&format!("x {fake} y")).is_empty());
    assert!(matches!(redact(&fake), std::borrow::Cow::Borrowed(_)));
}

#[test]
fn redaction_keeps_prefix_public_id_and_last_four_only() {
    let k = issue("rk", "live");
    let s = k.expose_secret();
    let line = format!("auth ok key={s} user=42");
    let red = redact(&line);
    let expected = format!(
        "auth ok key=rk_live_{}_****{} user=42",
        k.public_id(),
        k.last_four()
    );
    assert_eq!(red, expected);
    assert!(!red.contains(&s[25..57]));
    assert!(find_keys(&red).is_empty());
    assert_eq!(
        redact_key(&k.parse().unwrap()),
        format!("rk_live_{}_****{}", k.public_id(), k.last_four())
    );
}

#[test]
fn text_without_keys_is_returned_borrowed() {
    assert!(matches!(
        redact("nothing here rk_live_"),
        std::borrow::Cow::Borrowed(_)
    ));
}

#[test]
fn scanner_regexes_match_issued_keys_and_not_public_keys() {
    let re = Regex::new(SCANNER_REGEX).unwrap();
    let k = issue("rk", "live");
    assert!(re.is_match(k.expose_secret()));
    let public = format!("rk_live_{}", k.public_id());
    assert!(!re.is_match(&public));
    let specific = Regex::new(&KeyPrefix::new("rk", "live").unwrap().scanner_regex()).unwrap();
    assert!(specific.is_match(&format!("key: {}.", k.expose_secret())));
    assert!(!specific.is_match(issue("rk", "test").expose_secret()));
}

#[test]
fn crate_docs_show_the_same_regex_as_the_constant() {
    let docs = include_str!("../src/lib.rs");
    assert!(docs.contains(&format!("//! {SCANNER_REGEX}\n")));
}

#[test]
fn key_overlapping_the_end_of_another_key_is_redacted_too() {
    // Build a second key whose service part is the last four characters of the first key
    // (forcing them to start with a lowercase letter), so the two overlap in the text.
    loop {
        let first = issue("rk", "live");
        let tail = &first.expose_secret()[first.expose_secret().len() - 4..];
        let Ok(prefix) = KeyPrefix::new(tail, "x") else {
            continue;
        };
        let keys = ApiKeys::new(
            prefix,
            Keyset::new(1, HashingKey::from_bytes(&[1; 32]).unwrap()),
        );
        let second = keys
            .issue(KeyOptions::new(), SystemTime::now())
            .unwrap()
            .secret_key;
        let text = format!("{}{}", first.expose_secret(), &second.expose_secret()[4..]);
        let red = redact(&text);
        assert!(!red.contains(&first.expose_secret()[25..57]));
        assert!(!red.contains(&second.expose_secret()[30..]), "{red}");
        assert!(find_keys(&red).is_empty());
        return;
    }
}
