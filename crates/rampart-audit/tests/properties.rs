//! Any single-byte change anywhere in a trail is detected (with the chain keys and the
//! checkpoint public key together, every byte is covered).

mod common;

use common::*;
use proptest::prelude::*;
use rampart_audit::Verifier;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_single_byte_change_is_detected(file_pick in any::<prop::sample::Index>(), at in any::<prop::sample::Index>(), xor in 1u8..=255) {
        let t = std::sync::LazyLock::force(&TRAIL);
        let f = file_pick.index(t.1.len());
        let mut contents = t.1.clone();
        let i = at.index(contents[f].len());
        contents[f][i] ^= xor;
        let names: Vec<String> = (0..contents.len()).map(|k| format!("audit-{k:010}.jsonl")).collect();
        let files: Vec<(&str, &[u8])> = names.iter().map(String::as_str).zip(contents.iter().map(Vec::as_slice)).collect();
        let v = Verifier::new().with_keys(keys()).with_checkpoint_key(t.0).with_require_closed(true);
        let verdict = v.verify_bytes(&files).unwrap();
        let b = broken(verdict);
        prop_assert_eq!(b.file.to_str().unwrap(), names[f].as_str());
    }
}

static TRAIL: std::sync::LazyLock<(rampart_audit::CheckpointPublicKey, Vec<Vec<u8>>)> =
    std::sync::LazyLock::new(|| {
        let t = trail(12, 1500);
        let contents = t.files.iter().map(|p| std::fs::read(p).unwrap()).collect();
        (t.public, contents)
    });

#[test]
fn random_mutations_never_verify_and_never_panic() {
    use rand::Rng;
    let t = &*TRAIL;
    use rand::SeedableRng;
    let rounds: u64 = std::env::var("AUDIT_MUTATION_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    for round in 0..rounds {
        let mut rng = rand::rngs::StdRng::seed_from_u64(round);
        let mut contents = t.1.clone();
        let f = rng.random_range(0..contents.len());
        let op = rng.random_range(0..3);
        let what = match op {
            0 => {
                let i = rng.random_range(0..contents[f].len());
                let what = format!("remove {} at {i} of {}", contents[f][i], contents[f].len());
                contents[f].remove(i);
                what
            }
            1 => {
                let i = rng.random_range(0..=contents[f].len());
                let byte: u8 = rng.random();
                let what = format!("insert {byte} at {i} of {}", contents[f].len());
                contents[f].insert(i, byte);
                what
            }
            _ => {
                let i = rng.random_range(0..contents[f].len());
                let what = format!("truncate at {i} of {}", contents[f].len());
                contents[f].truncate(i);
                what
            }
        };
        let files: Vec<(&str, &[u8])> = contents.iter().map(|c| ("f", c.as_slice())).collect();
        let v = Verifier::new()
            .with_keys(keys())
            .with_checkpoint_key(t.0)
            .with_require_closed(true);
        assert!(
            matches!(
                v.verify_bytes(&files).unwrap(),
                rampart_audit::Verdict::Broken(_)
            ),
            "round {round}: op {op} file {f}: {what}"
        );
    }
}
