//! rampart-envelope sealed values against their physical limit.
//!
//! Each size has one criterion group holding the baseline and our code, so ratios come from
//! one run: `ring_seal` / `ring_open` are ring AES-256-GCM with the key already expanded and a
//! counter nonce (no RNG call, no header, empty AAD), copying into a fresh `Vec` as any API
//! returning owned bytes must. `seal`, `open` (subkey cached) and `open_cold` (subkey derived
//! and commitment recomputed on every call) are `Keyring` calls with a two-pair context;
//! `seal` detects fork through a `pthread_atfork` count (the default); `seal_pid_check` is
//! `NonceSource::CounterWithPidCheck` (one getpid per seal).
//! A last group loads a keyring file of 100 versions.
//!
//! `cargo bench -p rampart --no-default-features --features envelope --bench envelope`

// criterion_group! generates an undocumented `pub fn benches`.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rampart::envelope::{Context, Keyring, LocalMasterKey, NonceSource};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};

const SIZES: &[(usize, &str)] = &[
    (64, "64B"),
    (1024, "1KiB"),
    (64 * 1024, "64KiB"),
    (1024 * 1024, "1MiB"),
];

fn counter_nonce(counter: &mut u64) -> Nonce {
    *counter += 1;
    let mut n = [0u8; 12];
    n[4..].copy_from_slice(&counter.to_be_bytes());
    Nonce::assume_unique_for_key(n)
}

fn values(c: &mut Criterion) {
    let master = LocalMasterKey::generate().expect("master key");
    let ring = Keyring::create("bench", "eu-central", &master, SystemTime::now()).expect("ring");
    let ctx = Context::new()
        .with("tenant", "4242")
        .with("column", "oauth_token");
    // Same keyring with the per-seal getpid (for processes that fork without atfork handlers).
    let mut pid_checked =
        Keyring::from_json(&ring.to_json().expect("json"), &master).expect("load");
    pid_checked.set_nonce_source(NonceSource::CounterWithPidCheck);
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[7u8; 32]).expect("key"));

    // A second keyring with a 1-entry open cache: alternating between two values sealed under
    // different salts makes every open a miss (derive subkey + commitment).
    let mut cold =
        Keyring::create("bench-cold", "eu-central", &master, SystemTime::now()).expect("ring");
    cold.set_open_cache_capacity(1);

    for &(size, label) in SIZES {
        let mut g = c.benchmark_group(format!("envelope_values/{label}"));
        g.throughput(Throughput::Bytes(size as u64));
        g.warm_up_time(Duration::from_secs(1));
        g.measurement_time(Duration::from_secs(if size >= 65536 { 4 } else { 3 }));
        let plaintext = vec![0x5au8; size];

        let mut counter = 0u64;
        g.bench_function(BenchmarkId::new("ring_seal", label), |b| {
            b.iter(|| {
                let mut out = Vec::with_capacity(size + 16);
                out.extend_from_slice(black_box(&plaintext));
                key.seal_in_place_append_tag(counter_nonce(&mut counter), Aad::empty(), &mut out)
                    .expect("seal");
                out
            });
        });
        g.bench_function(BenchmarkId::new("seal", label), |b| {
            b.iter(|| ring.seal(black_box(&plaintext), &ctx).expect("seal"));
        });
        g.bench_function(BenchmarkId::new("seal_pid_check", label), |b| {
            b.iter(|| pid_checked.seal(black_box(&plaintext), &ctx).expect("seal"));
        });

        let mut sealed_ring = Vec::with_capacity(size + 16);
        sealed_ring.extend_from_slice(&plaintext);
        let nonce_bytes = [0u8; 12];
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce_bytes),
            Aad::empty(),
            &mut sealed_ring,
        )
        .expect("seal");
        g.bench_function(BenchmarkId::new("ring_open", label), |b| {
            b.iter_with_large_drop(|| {
                let mut buf = black_box(&sealed_ring).clone();
                let n = key
                    .open_in_place(
                        Nonce::assume_unique_for_key(nonce_bytes),
                        Aad::empty(),
                        &mut buf,
                    )
                    .expect("open")
                    .len();
                buf.truncate(n);
                buf
            });
        });
        let sealed = ring.seal(&plaintext, &ctx).expect("seal");
        // The plaintext comes back in a `Zeroizing` buffer whose drop wipes it with volatile
        // byte writes; `open` times the call (drop outside the timing, as for the baseline's
        // plain Vec), `open_and_wipe` includes that drop.
        g.bench_function(BenchmarkId::new("open", label), |b| {
            b.iter_with_large_drop(|| ring.open(black_box(&sealed), &ctx).expect("open"));
        });
        g.bench_function(BenchmarkId::new("open_and_wipe", label), |b| {
            b.iter(|| ring.open(black_box(&sealed), &ctx).expect("open"));
        });

        let first = cold.seal(&plaintext, &ctx).expect("seal");
        rampart::envelope::reseed(); // next seal draws a new salt
        let second = cold.seal(&plaintext, &ctx).expect("seal");
        let pair = [first, second];
        let mut i = 0usize;
        g.bench_function(BenchmarkId::new("open_cold", label), |b| {
            b.iter_with_large_drop(|| {
                i ^= 1;
                cold.open(black_box(&pair[i]), &ctx).expect("open")
            });
        });
        g.finish();
    }
}

fn keyring_load(c: &mut Criterion) {
    let master = LocalMasterKey::generate().expect("master key");
    let now = SystemTime::now();
    let mut ring = Keyring::create("bench-load", "eu-central", &master, now).expect("ring");
    for _ in 1..100 {
        ring.rotate(&master, now).expect("rotate");
    }
    let json = ring.to_json().expect("json");
    let mut g = c.benchmark_group("envelope_keyring");
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(3));
    g.bench_function("load_100_versions", |b| {
        b.iter(|| Keyring::from_json(black_box(&json), &master).expect("load"));
    });
    g.finish();
}

criterion_group!(benches, values, keyring_load);
criterion_main!(benches);
