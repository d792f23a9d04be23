//! Property tests: seal/open round trips over random plaintexts and contexts; random bytes
//! and random keyring documents never panic and never open.

use std::sync::OnceLock;
use std::time::SystemTime;

use proptest::prelude::*;
use rampart_envelope::{Context, Keyring, LocalMasterKey, OVERHEAD};

fn fixture() -> &'static (LocalMasterKey, Keyring) {
    static F: OnceLock<(LocalMasterKey, Keyring)> = OnceLock::new();
    F.get_or_init(|| {
        let m = LocalMasterKey::generate().unwrap();
        let r = Keyring::create("prop", "eu", &m, SystemTime::UNIX_EPOCH).unwrap();
        (m, r)
    })
}

fn context() -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::btree_map("[a-z_]{1,12}", "\\PC{0,24}", 0..6)
        .prop_map(|m| m.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn seal_open_round_trip(pt in proptest::collection::vec(any::<u8>(), 0..2048), pairs in context()) {
        let (_, ring) = fixture();
        let ctx: Context = pairs.iter().cloned().collect();
        let ct = ring.seal(&pt, &ctx).unwrap();
        prop_assert_eq!(ct.len(), pt.len() + OVERHEAD);
        prop_assert_eq!(&ring.open(&ct, &ctx).unwrap()[..], &pt[..]);
        let text = ring.seal_text(&pt, &ctx).unwrap();
        prop_assert_eq!(&ring.open_text(&text, &ctx).unwrap()[..], &pt[..]);
    }

    #[test]
    fn any_changed_context_value_fails(pt in proptest::collection::vec(any::<u8>(), 0..64),
                                       pairs in context(), extra in "[a-z]{1,8}") {
        let (_, ring) = fixture();
        let ctx: Context = pairs.iter().cloned().collect();
        let ct = ring.seal(&pt, &ctx).unwrap();
        let changed: Context = pairs
            .iter()
            .cloned()
            .chain(std::iter::once((format!("zz{extra}"), extra.clone())))
            .collect();
        prop_assert!(ring.open(&ct, &changed).is_err());
    }

    #[test]
    fn random_bytes_never_open(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let (_, ring) = fixture();
        prop_assert!(ring.open(&bytes, &Context::new()).is_err());
    }

    #[test]
    fn random_header_on_own_keyring_never_opens(tail in proptest::collection::vec(any::<u8>(), 76..200)) {
        // Valid format, suite, keyring id, region and version: the rest is random.
        let (_, ring) = fixture();
        let mut ct = ring.seal(b"", &Context::new()).unwrap()[..12].to_vec();
        ct.extend_from_slice(&tail);
        prop_assert!(ring.open(&ct, &Context::new()).is_err());
    }

    #[test]
    fn random_json_never_loads(text in "\\PC{0,200}") {
        let (m, _) = fixture();
        prop_assert!(Keyring::from_json(&text, m).is_err());
    }
}
