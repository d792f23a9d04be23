//! Property tests: every generated key parses and verifies; every single-character change is
//! caught by the checksum or by the hash comparison.

use std::sync::LazyLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use proptest::prelude::*;
use rampart_apikey::{
    ApiKeys, Error, HashingKey, InMemoryStore, KeyOptions, KeyPrefix, Keyset, ParsedApiKey,
    SecretKey, find_keys, redact,
};

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

struct Fixture {
    keys: ApiKeys,
    store: InMemoryStore,
    secret: SecretKey,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let keys = ApiKeys::new(
        KeyPrefix::new("rk", "live").unwrap(),
        Keyset::new(1, HashingKey::from_bytes(&[7; 32]).unwrap()),
    );
    let store = InMemoryStore::new();
    let issued = keys.issue(KeyOptions::new(), now()).unwrap();
    store.insert(issued.record).unwrap();
    Fixture {
        keys,
        store,
        secret: issued.secret_key,
    }
});

fn prefix_part() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9]{0,15}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn generated_keys_parse_verify_and_are_found(service in prefix_part(), env in "[a-z0-9]{1,16}") {
        let keys = ApiKeys::new(
            KeyPrefix::new(&service, &env).unwrap(),
            Keyset::new(3, HashingKey::from_bytes(&[9; 32]).unwrap()),
        );
        let store = InMemoryStore::new();
        let issued = keys.issue(KeyOptions::new().with_scopes(["s"]), now()).unwrap();
        store.insert(issued.record).unwrap();
        let text = issued.secret_key.expose_secret();
        let parsed = ParsedApiKey::parse(text).unwrap();
        prop_assert_eq!(parsed.prefix(), format!("{service}_{env}"));
        let v = keys.check(&store, text, &["s"], now()).unwrap();
        prop_assert_eq!(v.public_id(), issued.public_key.public_id());
        let log = format!("x={text};");
        let found = find_keys(&log);
        prop_assert_eq!(found.len(), 1);
        prop_assert_eq!(&log[found[0].range.clone()], text);
        prop_assert!(!redact(&log).contains(&text[25..]));
    }

    #[test]
    fn any_single_character_change_is_rejected(pos in 0usize..63, replacement in any::<char>()) {
        let f = &*FIXTURE;
        let original = f.secret.expose_secret();
        let mut chars: Vec<char> = original.chars().collect();
        prop_assume!(chars[pos] != replacement);
        chars[pos] = replacement;
        let changed: String = chars.into_iter().collect();
        match f.keys.check(&f.store, &changed, &[], now()) {
            Err(Error::Malformed(_) | Error::BadChecksum { .. } | Error::UnexpectedPrefix { .. }
                | Error::UnknownKey { .. } | Error::Mismatch { .. }) => {}
            other => prop_assert!(false, "change at {} accepted or odd: {:?}", pos, other),
        }
    }

    #[test]
    fn any_single_base62_change_fails_the_checksum(pos in 0usize..63, digit in "[0-9A-Za-z]") {
        // Changes that keep the shape (so the parser cannot reject them on form alone) are
        // exactly what CRC32 is for: it detects every error burst of up to 32 bits.
        let f = &*FIXTURE;
        let original = f.secret.expose_secret();
        let c = digit.chars().next().unwrap();
        let mut bytes = original.as_bytes().to_vec();
        prop_assume!(bytes[pos] != b'_' && bytes[pos] != c as u8 && pos >= 8);
        bytes[pos] = c as u8;
        let changed = String::from_utf8(bytes).unwrap();
        let is_bad_checksum = matches!(ParsedApiKey::parse(&changed), Err(Error::BadChecksum { .. }));
        prop_assert!(is_bad_checksum);
    }

    #[test]
    fn parser_never_panics_on_arbitrary_text(s in "\\PC{0,120}") {
        let _ = ParsedApiKey::parse(&s);
        let _ = find_keys(&s);
        let _ = redact(&s);
    }
}
