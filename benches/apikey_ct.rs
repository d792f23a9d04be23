//! dudect-style constant-time test of API key verification (BENCHMARKS.md, "rampart-apikey").
//!
//! Two classes of wrong secrets are timed through the real check; Welch's t-test tells
//! whether their timing distributions differ (|t| > 4.5 is the usual "leak" threshold).
//!
//! - `check_secret_prefix`: the full [`ApiKeys::check`] with forged secret keys (valid
//!   checksums: CRC32 is public) that share all but the last random character with the
//!   right key (Left) versus keys that differ in the first random character (Right).
//!   HMAC makes the compared hashes unrelated, so this also shows the rest of the pipeline
//!   does not depend on how much of the secret was right.
//! - `parse_secret_prefix`: the same two classes through the parser alone (shape and
//!   checksum). The first version of the parser validated characters with branches and
//!   showed |t| = 32 here (and 40 for the full check): the branch predictor learned the
//!   characters of recent keys. It is now branch-free over the secret part.
//! - `compare_stored_hash`: the right secret against records whose stored MAC equals the
//!   right one except in the last byte (Left) versus records whose MAC differs in the first
//!   byte (Right): the comparison itself, which an early-exit `==` would leak.
//!
//! `cargo bench -p rampart --no-default-features --features apikey --bench apikey_ct`
//! (dudect's binary does not take cargo's `--bench` flag; if it refuses it, run the built
//! binary `target/release/deps/apikey_ct-*` directly).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use dudect_bencher::rand::RngExt as _;
use dudect_bencher::{BenchRng, Class, CtRunner, ctbench_main};
use rampart_apikey::{
    ApiKeyRecord, ApiKeys, HashingKey, InMemoryStore, KeyOptions, KeyPrefix, Keyset,
};
use ring::hmac;

const SAMPLES: usize = 200_000;
const HASHING_KEY: [u8; 32] = [0x6b; 32];
const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// Index of the first random character in `rk_live_<16>_`.
const RANDOM_START: usize = 25;
/// Index of the last random character (the checksum's 6 characters follow).
const RANDOM_LAST: usize = RANDOM_START + 31;

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

fn service() -> ApiKeys {
    ApiKeys::new(
        KeyPrefix::new("rk", "live").expect("prefix"),
        Keyset::new(1, HashingKey::from_bytes(&HASHING_KEY).expect("key")),
    )
}

/// `key` with the random character at `index` replaced by a different one, checksum fixed.
fn forge(key: &str, index: usize, rng: &mut BenchRng) -> String {
    let mut bytes = key.as_bytes().to_vec();
    loop {
        let c = ALPHABET[rng.random_range(0..62)];
        if c != bytes[index] {
            bytes[index] = c;
            break;
        }
    }
    let body_len = bytes.len() - 6;
    let mut v = crc32fast::hash(&bytes[..body_len]);
    for slot in bytes[body_len..].iter_mut().rev() {
        *slot = ALPHABET[(v % 62) as usize];
        v /= 62;
    }
    String::from_utf8(bytes).expect("ascii")
}

fn check_secret_prefix(runner: &mut CtRunner, rng: &mut BenchRng) {
    let keys = service();
    let store = InMemoryStore::new();
    let issued = keys.issue(KeyOptions::new(), now()).expect("issue");
    store.insert(issued.record).expect("insert");
    let right = issued.secret_key.expose_secret();

    let mut inputs = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        if rng.random::<bool>() {
            inputs.push((Class::Left, forge(right, RANDOM_LAST, rng)));
        } else {
            inputs.push((Class::Right, forge(right, RANDOM_START, rng)));
        }
    }
    for (class, text) in inputs {
        runner.run_one(class, || keys.check(&store, &text, &[], now()).is_err());
    }
}

fn compare_stored_hash(runner: &mut CtRunner, rng: &mut BenchRng) {
    let keys = service();
    let issued = keys.issue(KeyOptions::new(), now()).expect("issue");
    let secret = issued.secret_key.expose_secret();
    let parsed = keys.parse(secret).expect("parse");
    let right_mac = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, &HASHING_KEY),
        secret.as_bytes(),
    );
    let mut json = serde_json::to_value(&issued.record).expect("json");

    let mut record_with_mac = |byte: usize, rng: &mut BenchRng| {
        let mut mac = right_mac.as_ref().to_vec();
        mac[byte] ^= rng.random_range(1..=255u8);
        json["hash"]["mac"] = serde_json::Value::from(STANDARD.encode(&mac));
        Arc::new(serde_json::from_value::<ApiKeyRecord>(json.clone()).expect("record"))
    };
    // A pool of records per class; samples pick from it so allocation patterns match.
    let left: Vec<_> = (0..256).map(|_| record_with_mac(31, rng)).collect();
    let right: Vec<_> = (0..256).map(|_| record_with_mac(0, rng)).collect();

    let mut inputs = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let i = rng.random_range(0..256usize);
        if rng.random::<bool>() {
            inputs.push((Class::Left, Arc::clone(&left[i])));
        } else {
            inputs.push((Class::Right, Arc::clone(&right[i])));
        }
    }
    for (class, record) in inputs {
        runner.run_one(class, || {
            keys.verify(&parsed, Some(Arc::clone(&record)), &[], now())
                .is_err()
        });
    }
}

fn parse_secret_prefix(runner: &mut CtRunner, rng: &mut BenchRng) {
    let keys = service();
    let issued = keys.issue(KeyOptions::new(), now()).expect("issue");
    let right = issued.secret_key.expose_secret();
    let mut inputs = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        if rng.random::<bool>() {
            inputs.push((Class::Left, forge(right, RANDOM_LAST, rng)));
        } else {
            inputs.push((Class::Right, forge(right, RANDOM_START, rng)));
        }
    }
    for (class, text) in inputs {
        runner.run_one(class, || {
            rampart_apikey::ParsedApiKey::parse(&text).is_err()
        });
    }
}

ctbench_main!(
    check_secret_prefix,
    compare_stored_hash,
    parse_secret_prefix
);
