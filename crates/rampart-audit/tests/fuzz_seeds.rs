//! Writes the fuzz target's seed trails (`fuzz/seeds/audit_reader/`) when
//! `AUDIT_FUZZ_SEEDS=DIR` is set, and replays the crash inputs the fuzzer found
//! (`tests/fuzz_regressions/`) through the same checks as the target.

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rampart_audit::{
    AuditLog, ChainKey, CheckpointPublicKey, CheckpointSigner, FileSink, KeySet, Verifier,
};

/// The seeds' checkpoint signing key (a test key, public on purpose); the fuzz target holds
/// its public key.
const SEED_SIGNER_PKCS8: &str = include_str!("fuzz_signer.pkcs8.b64");

/// Files of one input are separated by this byte (not valid in a JSON line).
const FILE_SEPARATOR: u8 = 0x1e;

fn signer() -> CheckpointSigner {
    CheckpointSigner::from_pkcs8(&STANDARD.decode(SEED_SIGNER_PKCS8.trim_ascii()).unwrap()).unwrap()
}

#[test]
fn write_fuzz_seeds_when_asked() {
    let Some(out) = std::env::var_os("AUDIT_FUZZ_SEEDS") else {
        return;
    };
    let out = std::path::PathBuf::from(out);
    std::fs::create_dir_all(&out).unwrap();
    println!("public key: {}", signer().public_key().to_base64());
    for (name, events, max_bytes, every) in [
        ("one_file", 3, 1 << 20, 2),
        ("rotated", 10, 1500, 3),
        ("many_small", 6, 600, 1),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let sink = FileSink::open(dir.path(), "audit")
            .unwrap()
            .with_max_bytes(max_bytes)
            .unwrap();
        let log = AuditLog::builder(common::key(), sink)
            .with_checkpoints(signer(), every)
            .start()
            .unwrap();
        for i in 0..events {
            log.append(common::event(i)).unwrap();
            if i == events / 2 {
                log.rotate_key(ChainKey::new("k2", &[0x6b; 32]).unwrap())
                    .unwrap();
            }
        }
        let files = log.shutdown().unwrap();
        let mut seed = Vec::new();
        for (i, f) in files.iter().enumerate() {
            if i > 0 {
                seed.push(FILE_SEPARATOR);
            }
            seed.extend(std::fs::read(f).unwrap());
        }
        std::fs::write(out.join(name), seed).unwrap();
    }
}

/// What the fuzz target does with one input (kept in step with
/// fuzz/fuzz_targets/audit_reader.rs).
fn check(data: &[u8], public: CheckpointPublicKey) {
    let parts: Vec<&[u8]> = data.split(|&b| b == FILE_SEPARATOR).collect();
    let files: Vec<(&str, &[u8])> = parts.iter().map(|p| ("f", *p)).collect();
    let keys = || {
        KeySet::new()
            .with_key(common::key())
            .unwrap()
            .with_key(ChainKey::new("k2", &[0x6b; 32]).unwrap())
            .unwrap()
    };
    let _ = Verifier::new()
        .with_keys(keys())
        .verify_bytes(&files)
        .unwrap();
    let _ = Verifier::new()
        .with_checkpoint_key(public)
        .verify_bytes(&files)
        .unwrap();
    let _ = Verifier::new()
        .with_keys(keys())
        .with_checkpoint_key(public)
        .with_require_closed(true)
        .verify_bytes(&files)
        .unwrap();
}

#[test]
fn fuzz_seeds_and_regressions_never_panic() {
    let public = signer().public_key();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in [
        root.join("tests/fuzz_regressions"),
        root.join("../../fuzz/seeds/audit_reader"),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let data = std::fs::read(entry.unwrap().path()).unwrap();
            check(&data, public);
        }
    }
}
