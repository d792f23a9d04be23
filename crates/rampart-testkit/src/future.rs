//! Driving futures that are ready at once (the in-memory stores) without a runtime.

/// Polls `f` once and returns its output; panics if it was not ready, which means the code
/// under test waited on I/O that a ready-only test must not reach.
///
/// ```
/// assert_eq!(rampart_testkit::block_on_ready(async { 6 * 7 }), 42);
/// ```
///
/// # Panics
/// When the future is pending after one poll.
pub fn block_on_ready<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("a future that should be ready at once was pending"),
    }
}
