#![no_main]
//! Key parsing and scanning on arbitrary input: never panics, and whatever parses is a
//! well-formed key that round-trips.
use libfuzzer_sys::fuzz_target;
use rampart_apikey::{ParsedApiKey, PublicKey, find_keys, redact};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(parsed) = ParsedApiKey::parse(&text) {
        assert_eq!(parsed.expose_secret(), text);
        assert!(text.starts_with(parsed.prefix()));
        let public = parsed.public_key().to_string();
        assert!(text.starts_with(&public));
        assert!(ParsedApiKey::parse_pair(&public, &text).is_ok());
    }
    if let Ok(public) = PublicKey::parse(&text) {
        assert_eq!(public.to_string(), text);
    }
    // Scanning: every reported range is a key that parses; redaction removes them all.
    for found in find_keys(&text) {
        let key = ParsedApiKey::parse(&text[found.range.clone()]).expect("found keys parse");
        assert_eq!(key.public_id(), found.public_id);
    }
    let redacted = redact(&text);
    assert!(find_keys(&redacted).is_empty());
    // Pair form with the input split in two.
    if let Some((a, b)) = text.split_once(':') {
        let _ = ParsedApiKey::parse_pair(a, b);
    }
});
