#![no_main]
//! Loads arbitrary text as a keyring document with the golden master key, and reads it
//! unverified: must never panic; anything accepted must serialize again and load again, and
//! read unverified as it loaded.
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rampart_envelope::{Keyring, KeyringSummary, LocalMasterKey};

const KEY: &str = include_str!("../../crates/rampart-envelope/tests/vectors/values-v1/master.key");

fn master() -> &'static LocalMasterKey {
    static M: OnceLock<LocalMasterKey> = OnceLock::new();
    M.get_or_init(|| LocalMasterKey::from_base64(KEY).expect("golden master key"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let unverified = KeyringSummary::read_unverified(text);
    if let Ok(ring) = Keyring::from_json(text, master()) {
        let json = ring.to_json().expect("accepted keyring serializes");
        Keyring::from_json(&json, master()).expect("serialized keyring loads");
        let read = unverified.expect("a keyring that loads reads unverified");
        assert_eq!(read.versions, ring.versions());
        assert_eq!(read.primary_version, ring.primary_version());
    }
});
