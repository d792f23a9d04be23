//! Many requests in flight on a Tokio runtime, as a service's request handlers issue them.

use std::sync::Arc;
use std::time::{Duration, Instant};

/// Runs `iters` calls of `op` (given the call's number) from `in_flight` tasks on `rt`, and
/// returns the wall time.
pub(crate) fn concurrent<F, Fut>(
    rt: &tokio::runtime::Runtime,
    in_flight: u64,
    iters: u64,
    op: F,
) -> Duration
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let op = Arc::new(op);
    rt.block_on(async move {
        let start = Instant::now();
        let tasks: Vec<_> = (0..in_flight)
            .map(|t| {
                let op = Arc::clone(&op);
                tokio::spawn(async move {
                    let mut n = t;
                    while n < iters {
                        op(n).await;
                        n += in_flight;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        start.elapsed()
    })
}
