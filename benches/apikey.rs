//! rampart-apikey benchmarks (BENCHMARKS.md, "rampart-apikey").
//!
//! - `apikey_check`: the full check (parse, checksum, prefix, in-memory lookup among 10 000
//!   records, HMAC-SHA256, constant-time compare, expiry/revocation/scopes) against its
//!   floor, HMAC-SHA256 of the same secret key text with a precomputed key. Target ratio
//!   <= 1.5.
//! - `apikey_generate`: issuing a key pair (two OS CSPRNG reads, checksum, HMAC) against
//!   one OS CSPRNG read of 32 bytes.
//! - `apikey_scan`: finding keys in 1 MiB of log text, against counting a fixed substring in
//!   the same text (the cheapest full pass over it).
//!
//! `cargo bench -p rampart --no-default-features --features apikey --bench apikey`

// criterion_group! generates an undocumented `pub fn benches`.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rampart_apikey::{
    ApiKeys, HashingKey, InMemoryStore, KeyOptions, KeyPrefix, Keyset, find_keys, redact,
};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

const HASHING_KEY: [u8; 32] = [0x5a; 32];

fn service() -> ApiKeys {
    ApiKeys::new(
        KeyPrefix::new("rk", "live").expect("valid prefix"),
        Keyset::new(1, HashingKey::from_bytes(&HASHING_KEY).expect("32 bytes")),
    )
}

fn check(c: &mut Criterion) {
    let keys = service();
    let now = SystemTime::now();
    let store = InMemoryStore::new();
    for _ in 0..10_000 {
        let k = keys
            .issue(KeyOptions::new().with_scopes(["read", "write"]), now)
            .expect("issue");
        store.insert(k.record).expect("insert");
    }
    let issued = keys
        .issue(KeyOptions::new().with_scopes(["read", "write"]), now)
        .expect("issue");
    store.insert(issued.record).expect("insert");
    let secret = issued.secret_key.expose_secret().to_owned();
    let ring_key = hmac::Key::new(hmac::HMAC_SHA256, &HASHING_KEY);

    let mut g = c.benchmark_group("apikey_check");
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    g.bench_function("hmac_sha256_alone", |b| {
        b.iter(|| hmac::sign(&ring_key, black_box(secret.as_bytes())));
    });
    g.bench_function("full_check", |b| {
        b.iter(|| {
            keys.check(&store, black_box(&secret), &["read"], now)
                .expect("valid")
        });
    });
    g.finish();
}

fn generate(c: &mut Criterion) {
    let keys = service();
    let now = SystemTime::now();
    let rng = SystemRandom::new();
    let mut g = c.benchmark_group("apikey_generate");
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    g.bench_function("os_random_32_bytes", |b| {
        b.iter(|| {
            let mut buf = [0u8; 32];
            rng.fill(&mut buf).expect("os rng");
            buf
        });
    });
    g.bench_function("issue_key_pair", |b| {
        b.iter(|| keys.issue(KeyOptions::new(), now).expect("issue"));
    });
    g.finish();
}

/// About 1 MiB of access-log lines; one line in 500 leaks a key.
fn log_text(keys: &ApiKeys) -> (String, usize) {
    let now = SystemTime::now();
    let mut text = String::with_capacity(1 << 20);
    let mut leaked = 0;
    let mut i = 0usize;
    while text.len() < (1 << 20) {
        if i.is_multiple_of(500) {
            let k = keys.issue(KeyOptions::new(), now).expect("issue");
            text.push_str(&format!(
                "2026-11-23T10:00:{:02}Z INFO req_id=r{i} POST /v1/orders auth={} status=201\n",
                i % 60,
                k.secret_key.expose_secret()
            ));
            leaked += 1;
        } else {
            text.push_str(&format!(
                "2026-11-23T10:00:{:02}Z INFO req_id=r{i} user_id=u_{} GET /v1/orders/ord_{:016x} status=200 dur_ms={}\n",
                i % 60,
                i * 7,
                i.wrapping_mul(0x9e37_79b9),
                i % 97
            ));
        }
        i += 1;
    }
    (text, leaked)
}

fn scan(c: &mut Criterion) {
    let keys = service();
    let (text, leaked) = log_text(&keys);
    assert_eq!(
        find_keys(&text).len(),
        leaked,
        "scanner must find every leaked key"
    );

    let mut g = c.benchmark_group("apikey_scan");
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("substring_count_1mib", |b| {
        b.iter(|| black_box(&text).matches("status=500").count());
    });
    g.bench_function("find_keys_1mib", |b| {
        b.iter(|| find_keys(black_box(&text)).len());
    });
    g.bench_function("redact_1mib", |b| b.iter(|| redact(black_box(&text)).len()));
    g.finish();
}

criterion_group!(benches, check, generate, scan);
criterion_main!(benches);
