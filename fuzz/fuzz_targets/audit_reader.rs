#![no_main]
//! The audit trail reader and verifier on arbitrary files: never panics, never errors on
//! content (a bad trail is a verdict, not an error), and a verdict of "intact" is the same
//! whichever keys check it. Files of one input are separated by 0x1e (kept in step with
//! crates/rampart-audit/tests/fuzz_seeds.rs, which writes the seeds and replays crashes).
use libfuzzer_sys::fuzz_target;
use rampart_audit::{ChainKey, CheckpointPublicKey, KeySet, Verdict, Verifier};

/// Public key of the test signer in crates/rampart-audit/tests/fuzz_signer.pkcs8.b64.
const SEED_PUBLIC_KEY: &str = "v7_3fwjUsmDBjewFoWbYuwYovzvVgUOkiqwiAXVn6fo";

fn keys() -> KeySet {
    KeySet::new()
        .with_key(ChainKey::new("k1", &[0x5a; 32]).expect("key"))
        .expect("k1")
        .with_key(ChainKey::new("k2", &[0x6b; 32]).expect("key"))
        .expect("k2")
}

fuzz_target!(|data: &[u8]| {
    let public = CheckpointPublicKey::from_base64(SEED_PUBLIC_KEY).expect("public key");
    let parts: Vec<&[u8]> = data.split(|&b| b == 0x1e).collect();
    let files: Vec<(&str, &[u8])> = parts.iter().map(|p| ("f", *p)).collect();
    let by_keys = Verifier::new()
        .with_keys(keys())
        .verify_bytes(&files)
        .expect("content is never an error");
    let by_both = Verifier::new()
        .with_keys(keys())
        .with_checkpoint_key(public)
        .verify_bytes(&files)
        .expect("content is never an error");
    let by_public = Verifier::new()
        .with_checkpoint_key(public)
        .verify_bytes(&files)
        .expect("content is never an error");
    // More keys can only find more wrong, never less.
    if let Verdict::Intact(both) = &by_both {
        let Verdict::Intact(k) = &by_keys else {
            panic!("intact with both keys but not with the chain keys alone")
        };
        assert_eq!(k.records, both.records);
        assert!(
            matches!(by_public, Verdict::Intact(_)),
            "intact with both but not with the public key"
        );
    }
});
