//! rampart-mfa benchmarks (BENCHMARKS.md, "rampart-mfa").
//!
//! - `mfa_totp_verify`: `ActiveFactor::verify` with the default window (3 steps, the code
//!   at the last step checked; every step is computed whatever matches) against one
//!   HMAC-SHA1 of the same counter with ring directly, as a one-off HMAC is done (key set up,
//!   then signed: `hmac_sha1_one_shot`), and with the key already set up
//!   (`hmac_sha1_precomputed_key`, the floor of one step). Target ratio to the one-shot
//!   HMAC <= 3; the floor for a 3-step window is 3 precomputed-key HMACs plus one key setup.
//! - `mfa_recovery_consume`: consuming a recovery code from a full set of 10 (one
//!   HMAC-SHA256, 10 constant-time compares, a copy of the set) against one HMAC-SHA256 of
//!   the same input with a precomputed key.
//!
//! `cargo bench -p rampart --no-default-features --features mfa --bench mfa -- --warm-up-time 1 --measurement-time 3`

// criterion_group! generates an undocumented `pub fn benches`.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::{Duration, UNIX_EPOCH};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use rampart_mfa::{
    ActiveFactor, FactorState, RecoveryCodes, RecoveryPepper, TotpParams, TotpSecret,
};
use ring::hmac;

const SECRET: &[u8; 20] = b"12345678901234567890";
const NOW: u64 = 1_700_000_010;

fn totp(c: &mut Criterion) {
    let params = TotpParams::default();
    let now = UNIX_EPOCH + Duration::from_secs(NOW);
    let current = NOW / 30;
    let secret = TotpSecret::from_bytes(SECRET).expect("20 bytes");
    // The window is current-1 ..= current+1: the code of the last step checked.
    let code = params
        .code_at(&secret, now + Duration::from_secs(30))
        .expect("clock")
        .expose_secret()
        .to_owned();
    let counter = (current + 1).to_be_bytes();
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, SECRET);

    let mut g = c.benchmark_group("mfa_totp_verify");
    g.bench_function("hmac_sha1_one_shot", |b| {
        b.iter(|| {
            let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, black_box(SECRET));
            hmac::sign(&key, black_box(&counter))
        });
    });
    g.bench_function("hmac_sha1_precomputed_key", |b| {
        b.iter(|| hmac::sign(&key, black_box(&counter)));
    });
    g.bench_function("verify_window_3", |b| {
        b.iter_batched(
            || {
                ActiveFactor::restore(
                    TotpSecret::from_bytes(SECRET).expect("20 bytes"),
                    FactorState::new(params),
                )
            },
            |mut factor| {
                let accepted = factor.verify(black_box(&code), now).expect("valid code");
                assert_eq!(accepted.step(), current + 1);
                factor // dropped (and zeroized) outside the timing
            },
            BatchSize::SmallInput,
        );
    });
    g.finish();
}

fn recovery(c: &mut Criterion) {
    let pepper = RecoveryPepper::from_bytes(1, &[0x42; 32]).expect("32 bytes");
    let issued = RecoveryCodes::generate(&pepper).expect("rng");
    let code = issued.codes[9].expose_secret().to_owned();
    let key = hmac::Key::new(hmac::HMAC_SHA256, &[0x42; 32]);
    let input = [0x5a_u8; 16 + 12 + 29];

    let mut g = c.benchmark_group("mfa_recovery_consume");
    g.bench_function("hmac_sha256_alone", |b| {
        b.iter(|| hmac::sign(&key, black_box(&input)));
    });
    g.bench_function("consume_from_10", |b| {
        b.iter(|| {
            issued
                .stored
                .consume(black_box(&code), &pepper)
                .expect("valid code")
        });
    });
    g.finish();
}

criterion_group!(benches, totp, recovery);
criterion_main!(benches);
