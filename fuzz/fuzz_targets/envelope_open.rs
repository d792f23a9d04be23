#![no_main]
//! Parses and opens arbitrary bytes (binary and text form) against the golden keyring: must
//! never panic, and must never return plaintext for anything but the golden ciphertexts.
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rampart_envelope::{Context, Keyring, LocalMasterKey, SealedValue};

const KEY: &str = include_str!("../../crates/rampart-envelope/tests/vectors/values-v1/master.key");
const RING: &str =
    include_str!("../../crates/rampart-envelope/tests/vectors/values-v1/keyring.json");

fn ring() -> &'static Keyring {
    static R: OnceLock<Keyring> = OnceLock::new();
    R.get_or_init(|| {
        let m = LocalMasterKey::from_base64(KEY).expect("golden master key");
        Keyring::from_json(RING, &m).expect("golden keyring")
    })
}

fuzz_target!(|data: &[u8]| {
    let ring = ring();
    let ctx = Context::new()
        .with("tenant", "42")
        .with("table", "accounts")
        .with("column", "oauth_token");
    let _ = ring.open(data, &ctx);
    let _ = ring.needs_reencrypt(data);
    let _ = ring.version_of(data);
    let _ = format!("{:?}", SealedValue::from_bytes(data.to_vec()));
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = ring.open_text(text, &ctx);
        if let Ok(v) = SealedValue::from_text(text) {
            let _ = ring.open(v.as_bytes(), &Context::new());
        }
    }
});
