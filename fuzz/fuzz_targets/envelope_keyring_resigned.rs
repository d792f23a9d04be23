#![no_main]
//! Keyring documents past the integrity MAC: the input is a keyring document whose MAC is
//! recomputed (through rampart-envelope's `fuzzing` hook) with the keyring key the golden
//! master key unwraps, so mutations of versions, states, times, `primary`, `min_decrypt`
//! and `retention` reach the validation that runs after the MAC. Seeds are real documents
//! (a values keyring with tombstones, a retention keyring) under the golden master key.
//!
//! Must never panic; anything accepted must serialize and load again, seal and open (values
//! with a primary), and, for retention keyrings, list, prepare and purge buckets.
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use libfuzzer_sys::fuzz_target;
use rampart_envelope::retention::RetentionKeyring;
use rampart_envelope::{Context, Keyring, KeyringKind, LocalMasterKey};

const KEY: &str = include_str!("../../crates/rampart-envelope/tests/vectors/values-v1/master.key");

fn master() -> &'static LocalMasterKey {
    static M: OnceLock<LocalMasterKey> = OnceLock::new();
    M.get_or_init(|| LocalMasterKey::from_base64(KEY).expect("golden master key"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Some(signed) = rampart_envelope::fuzzing::resign_keyring_json(text, master()) else {
        return;
    };
    let Ok(ring) = Keyring::from_json(&signed, master()) else {
        return;
    };
    let json = ring.to_json().expect("accepted keyring serializes");
    let again = Keyring::from_json(&json, master()).expect("serialized keyring loads");
    assert_eq!(again.versions(), ring.versions());
    let ctx = Context::new().with("fuzz", "1");
    match ring.kind() {
        KeyringKind::Retention => {
            let mut r = RetentionKeyring::from_keyring(ring).expect("loaded retention keyring");
            let _ = r.buckets();
            let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
            if r.prepare(now, 1).is_ok() {
                let ct = r.seal(b"x", &ctx, now).expect("prepared bucket seals");
                assert_eq!(&r.open(&ct, &ctx).expect("opens")[..], b"x");
            }
            for secs in [0, 1_800_000_000, 4_000_000_000, u64::from(u32::MAX) * 86_400] {
                let _ = r.purge(SystemTime::UNIX_EPOCH + Duration::from_secs(secs));
                let _ = r.buckets();
            }
        }
        _ => {
            if ring.primary_version().is_some() {
                let ct = ring.seal(b"x", &ctx).expect("primary seals");
                assert_eq!(&ring.open(&ct, &ctx).expect("opens")[..], b"x");
            }
        }
    }
});
