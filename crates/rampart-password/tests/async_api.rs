//! The `tokio` feature: async hashing behind the limiter, off the executor.
#![cfg(feature = "tokio")]

use std::time::{Duration, Instant};

use rampart_password::{Hasher, LimiterConfig, Params, Password, Verdict};

#[tokio::test(flavor = "current_thread")]
async fn async_hash_and_verify_round_trip() {
    let h = Hasher::builder()
        .with_params(Params::new(64, 1, 1).unwrap())
        .build()
        .unwrap();
    let stored = h.hash_async(Password::new("pw")).await.unwrap();
    assert_eq!(
        h.verify_async(Password::new("pw"), stored.clone())
            .await
            .unwrap(),
        Verdict::Valid
    );
    assert_eq!(
        h.verify_async(Password::new("no"), stored).await.unwrap(),
        Verdict::Invalid
    );
    assert_eq!(
        h.dummy_verify_async(Password::new("x")).await.unwrap(),
        Verdict::Invalid
    );
    assert_eq!(
        h.verify_or_dummy_async(Password::new("x"), None)
            .await
            .unwrap(),
        Verdict::Invalid
    );
}

/// On a single-threaded runtime, a timer keeps ticking while hashes run: the hashes are on
/// the limiter's worker threads, not on the executor.
#[tokio::test(flavor = "current_thread")]
async fn hashing_does_not_block_the_executor() {
    let h = Hasher::builder()
        .with_params(Params::new(8 * 1024, 3, 1).unwrap())
        .with_limiter(LimiterConfig::default().with_max_workers(1))
        .build()
        .unwrap();
    let hashes = tokio::spawn({
        let h = h.clone();
        async move {
            for _ in 0..4 {
                h.hash_async(Password::new("pw")).await.unwrap();
            }
        }
    });
    let mut ticks = 0u32;
    let start = Instant::now();
    while !hashes.is_finished() {
        tokio::time::sleep(Duration::from_millis(1)).await;
        ticks += 1;
    }
    hashes.await.unwrap();
    assert!(
        ticks >= 2,
        "executor starved: {ticks} ticks in {:?}",
        start.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_logins_all_complete() {
    let h = Hasher::builder()
        .with_params(Params::new(64, 1, 1).unwrap())
        .with_limiter(LimiterConfig::default().with_max_workers(2))
        .build()
        .unwrap();
    let stored = h.hash(&Password::new("pw")).unwrap();
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let h = h.clone();
            let stored = stored.clone();
            tokio::spawn(async move {
                let guess = if i % 2 == 0 { "pw" } else { "nope" };
                (
                    i,
                    h.verify_async(Password::new(guess), stored).await.unwrap(),
                )
            })
        })
        .collect();
    for t in tasks {
        let (i, v) = t.await.unwrap();
        assert_eq!(v.is_valid(), i % 2 == 0);
    }
}

#[tokio::test(flavor = "current_thread")]
async fn full_queue_reports_overloaded() {
    let h = Hasher::builder()
        .with_params(Params::new(4 * 1024, 4, 1).unwrap())
        .with_limiter(
            LimiterConfig::default()
                .with_max_workers(1)
                .with_max_queue(1),
        )
        .build()
        .unwrap();
    let futures: Vec<_> = (0..4)
        .map(|_| {
            let h = h.clone();
            async move { h.hash_async(Password::new("pw")).await }
        })
        .collect();
    let results = futures_join(futures).await;
    assert!(
        results
            .iter()
            .any(|r| matches!(r, Err(rampart_password::Error::Overloaded))),
        "{results:?}"
    );
    assert!(results.iter().any(Result::is_ok));
}

async fn futures_join<F>(fs: Vec<F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = fs.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}
