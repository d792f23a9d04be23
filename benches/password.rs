//! rampart-password against its baselines, each in the same criterion group so ratios come
//! from one run.
//!
//! - `hash` / `verify` at OWASP defaults (argon2id m=19456 KiB, t=2, p=1): ours (limiter
//!   worker memory, wiped after every hash) vs the `argon2` crate called directly with the same
//!   parameters (allocates fresh blocks per call, never wipes them). For context, the reference
//!   C implementation via Debian's `argon2` command, including a process spawn; the
//!   `c_cli_spawn_only` entry (m=8 KiB, t=1) estimates that spawn overhead.
//! - `dummy_vs_real`: a real verification (valid, no upgrade) vs the dummy one for unknown users,
//!   then their ratio again from 41 interleaved rounds (`paired/...`).
//!
//! Where an entry has an `_again` twin, it was measured before and after its baseline, and the
//! ratio uses the mean of the two: the shared machine's load drifts within a run.
//! - `limiter_throughput`: 8 async logins (`hash_async`) on a 2-thread tokio runtime with a
//!   limiter of 1 worker vs 2 workers, then the same limiter called synchronously (`hash`) from
//!   1 or 2 plain threads; beside them, the machine's ceiling in the same run:
//!   8 hashes with the `argon2` crate on 1 plain thread vs 2, with fresh memory per hash
//!   (`direct`) and with memory reused per thread, unwiped and wiped (what a limiter worker does).
//!   Then the async limiter's and the wiped plain threads' speed-ups again, from 25 interleaved
//!   rounds (`paired/...`), which a load drifting between criterion's entries cannot skew.
//!   Run only the paired measurements with `--bench paired`.
//!
//! `cargo bench -p rampart --no-default-features --features password,tokio --bench password`
#![allow(missing_docs)] // criterion_group! generates an undocumented pub fn

use std::hint::black_box;
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordVerifier as _};
use criterion::{Criterion, criterion_group, criterion_main};
use rampart::password::{Hasher, LimiterConfig, Password};
use zeroize::Zeroize;

#[path = "common/paired.rs"]
mod paired;
use paired::paired_ratios;

const PW: &str = "correct horse battery staple";

fn argon2_direct() -> argon2::Argon2<'static> {
    argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(19 * 1024, 2, 1, Some(32)).expect("params"),
    )
}

/// How a plain thread treats its reused blocks after each hash.
#[derive(Clone, Copy)]
enum Wipe {
    No,
    /// `zeroize`, as a limiter worker does.
    Volatile,
}

/// One argon2 hash: into fresh memory (`reuse` None), or into `blocks`, treated afterwards as
/// `reuse` says.
fn hash_on_thread(
    direct: &argon2::Argon2<'_>,
    blocks: &mut [argon2::Block],
    reuse: Option<Wipe>,
) -> [u8; 32] {
    let mut out = [0u8; 32];
    let (pw, salt) = (PW.as_bytes(), b"somesaltsomesalt");
    match reuse {
        None => direct.hash_password_into(pw, salt, &mut out),
        Some(wipe) => {
            let r = direct.hash_password_into_with_memory(pw, salt, &mut out, &mut *blocks);
            match wipe {
                Wipe::No => {}
                Wipe::Volatile => blocks.iter_mut().for_each(Zeroize::zeroize),
            }
            r
        }
    }
    .expect("argon2");
    out
}

fn c_cli(m_kib: u32, t: u32) -> Option<()> {
    let mut child = Command::new("argon2")
        .args([
            "somesaltsomesalt",
            "-id",
            "-t",
            &t.to_string(),
            "-k",
            &m_kib.to_string(),
            "-p",
            "1",
            "-r",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(PW.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    out.status.success().then_some(())
}

fn group<'a>(
    c: &'a mut Criterion,
    name: &str,
) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    g
}

fn hash_and_verify(c: &mut Criterion) {
    let hasher = Hasher::builder()
        .with_limiter(LimiterConfig::default().with_max_workers(1))
        .build()
        .expect("hasher");
    let direct = argon2_direct();
    let have_cli = c_cli(8, 1).is_some();
    if !have_cli {
        eprintln!(
            "!!! SKIPPING the C reference: the `argon2` command is not installed (apt-get install argon2)"
        );
    }

    let mut g = group(c, "password/hash");
    g.bench_function("rampart_wiped", |b| {
        let pw = Password::new(PW);
        b.iter(|| black_box(hasher.hash(&pw).expect("hash")));
    });
    g.bench_function("argon2_crate_direct", |b| {
        b.iter(|| {
            let mut salt = [0u8; 16];
            rand::RngCore::fill_bytes(&mut rand::rng(), &mut salt);
            let mut out = [0u8; 32];
            direct
                .hash_password_into(black_box(PW.as_bytes()), &salt, &mut out)
                .expect("hash");
            black_box(out)
        });
    });
    // Measured again after the baseline: on a shared machine the load drifts during a run,
    // and the mean of the two brackets the baseline in time.
    g.bench_function("rampart_wiped_again", |b| {
        let pw = Password::new(PW);
        b.iter(|| black_box(hasher.hash(&pw).expect("hash")));
    });
    if have_cli {
        g.bench_function("c_cli_reference", |b| b.iter(|| c_cli(19 * 1024, 2)));
        g.bench_function("c_cli_spawn_only", |b| b.iter(|| c_cli(8, 1)));
    }
    g.finish();

    let stored = hasher.hash(&Password::new(PW)).expect("hash");
    let mut g = group(c, "password/verify");
    g.bench_function("rampart_wiped", |b| {
        let pw = Password::new(PW);
        b.iter(|| black_box(hasher.verify(&pw, &stored).expect("verify")));
    });
    g.bench_function("argon2_crate_direct", |b| {
        b.iter(|| {
            let parsed = PasswordHash::new(&stored).expect("phc");
            black_box(
                argon2::Argon2::default()
                    .verify_password(PW.as_bytes(), &parsed)
                    .is_ok(),
            )
        });
    });
    g.bench_function("rampart_wiped_again", |b| {
        let pw = Password::new(PW);
        b.iter(|| black_box(hasher.verify(&pw, &stored).expect("verify")));
    });
    g.finish();

    let mut g = group(c, "password/dummy_vs_real");
    g.bench_function("real_verify", |b| {
        let pw = Password::new(PW);
        b.iter(|| black_box(hasher.verify(&pw, &stored).expect("verify")));
    });
    g.bench_function("dummy_verify", |b| {
        let pw = Password::new(PW);
        b.iter(|| black_box(hasher.dummy_verify(&pw).expect("dummy")));
    });
    g.bench_function("real_verify_again", |b| {
        let pw = Password::new(PW);
        b.iter(|| black_box(hasher.verify(&pw, &stored).expect("verify")));
    });
    g.finish();
    let pw = Password::new(PW);
    let mut dummy_or_real = |side: usize| {
        black_box(if side == 0 {
            hasher.dummy_verify(&pw)
        } else {
            hasher.verify(&pw, &stored)
        })
        .expect("verify");
    };
    paired_ratios(
        "password/dummy_vs_real",
        "time of a dummy / a real verification",
        41,
        &mut [("dummy_verify", &mut dummy_or_real)],
    );
}

/// 8 jobs split evenly over one plain thread per element of `per_thread`, each thread
/// handed its own element (its reused memory, or nothing).
fn eight_jobs_on_threads<T: Send>(per_thread: &mut [T], job: impl Fn(&mut T) + Sync) {
    let jobs_each = 8 / per_thread.len();
    std::thread::scope(|s| {
        for own in per_thread {
            let job = &job;
            s.spawn(move || {
                for _ in 0..jobs_each {
                    job(own);
                }
            });
        }
    });
}

/// 8 concurrent `hash_async` logins on `rt`, until all are done.
fn eight_async_logins(rt: &tokio::runtime::Runtime, hasher: &Hasher) {
    rt.block_on(async {
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let h = hasher.clone();
                tokio::spawn(async move { h.hash_async(Password::new(PW)).await })
            })
            .collect();
        for t in tasks {
            black_box(t.await.expect("join").expect("hash"));
        }
    });
}

fn limiter_throughput(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut g = group(c, "password/limiter_throughput");
    g.measurement_time(Duration::from_secs(8));
    g.sample_size(10);
    let hashers = [1usize, 2].map(|workers| {
        let hasher = Hasher::builder()
            .with_limiter(LimiterConfig::default().with_max_workers(workers))
            .build()
            .expect("hasher");
        assert_eq!(
            hasher.workers(),
            workers,
            "need {workers} cores for this bench"
        );
        hasher
    });
    for hasher in &hashers {
        g.bench_function(format!("8_logins_{}_worker", hasher.workers()), |b| {
            b.iter(|| eight_async_logins(&rt, hasher));
        });
    }
    // The same limiters called synchronously from plain threads: separates the limiter's
    // own cost from the async hand-off (queue, worker threads, reply channel).
    for hasher in &hashers {
        let workers = hasher.workers();
        g.bench_function(format!("8_logins_sync_{workers}_worker"), |b| {
            let mut threads = vec![(); workers];
            b.iter(|| {
                eight_jobs_on_threads(&mut threads, |()| {
                    black_box(hasher.hash(&Password::new(PW)).expect("hash"));
                });
            });
        });
    }
    // The machine's own ceiling in the same run: the argon2 crate on 1 vs 2 plain threads,
    // first as a caller would use it (fresh blocks per hash), then with each thread reusing
    // its own blocks like a limiter worker, without and with the wipe. The reused-memory
    // pairs show what the machine's shared memory bandwidth allows warm workers.
    let direct = argon2_direct();
    let variants: [(&str, Option<Wipe>); 3] = [
        ("direct", None),
        ("reused_memory", Some(Wipe::No)),
        ("reused_memory_wiped", Some(Wipe::Volatile)),
    ];
    for (name, reuse) in variants {
        for threads in [1usize, 2] {
            g.bench_function(format!("8_hashes_argon2_{name}_{threads}_thread"), |b| {
                let mut mem: Vec<Vec<argon2::Block>> = (0..threads)
                    .map(|_| reuse.map_or_else(Vec::new, |_| vec![argon2::Block::new(); 19 * 1024]))
                    .collect();
                b.iter(|| {
                    eight_jobs_on_threads(&mut mem, |blocks| {
                        black_box(hash_on_thread(&direct, blocks, reuse));
                    });
                });
            });
        }
    }
    g.finish();
    // Criterion measures each entry over its own seconds; on a shared machine the load moves
    // between them. The same ratios from interleaved runs:
    let mut memory: Vec<Vec<argon2::Block>> = (0..2)
        .map(|_| vec![argon2::Block::new(); 19 * 1024])
        .collect();
    let mut limiter = |side: usize| eight_async_logins(&rt, &hashers[side]);
    let mut plain_wiped = |side: usize| {
        eight_jobs_on_threads(&mut memory[..=side], |blocks| {
            black_box(hash_on_thread(&direct, blocks, Some(Wipe::Volatile)));
        });
    };
    paired_ratios(
        "password/limiter_throughput",
        "time with 1 worker / 2 workers (the speed-up)",
        25,
        &mut [
            ("limiter_async", &mut limiter),
            ("argon2_reused_memory_wiped", &mut plain_wiped),
        ],
    );
}

criterion_group!(benches, hash_and_verify, limiter_throughput);
criterion_main!(benches);
