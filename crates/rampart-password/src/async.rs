//! Async hashing and verification (feature `tokio`).
//!
//! Each call is queued for the limiter's worker threads ([`crate::pool`]) and its future waits
//! for the reply, so a login storm queues as cheap futures and the executor never blocks.
//! A future dropped while its call waits takes the call out of the work: it is skipped, and
//! stops counting against `max_queue` when the queue is full.

use tokio::sync::oneshot;

use crate::error::{Error, Result};
use crate::hasher::Hasher;
use crate::pool::Task;
use crate::secret::Password;
use crate::verify::Verdict;

/// One async call: the work, and where its caller waits for the result.
struct Call<F, T> {
    work: F,
    reply: oneshot::Sender<Result<T>>,
}

impl<F, T> Task for Call<F, T>
where
    F: FnOnce() -> Result<T> + Send,
    T: Send,
{
    fn cancelled(&self) -> bool {
        self.reply.is_closed()
    }

    fn run(self: Box<Self>) {
        let _ = self.reply.send((self.work)());
    }
}

impl Hasher {
    async fn run_blocking<T, F>(&self, job: F) -> Result<T>
    where
        F: FnOnce(&Hasher) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let this = self.clone();
        let call = Call {
            work: move || job(&this),
            reply,
        };
        self.inner
            .pool
            .submit(Box::new(call), &self.inner.limiter)?;
        answer.await.map_err(|_| Error::TaskFailed)?
    }

    /// [`Hasher::hash`] on the limiter's worker threads.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), rampart_password::Error> {
    /// use rampart_password::{Hasher, Params, Password, Verdict};
    /// let hasher = Hasher::builder().with_params(Params::new(64, 1, 1)?).build()?;
    /// let stored = hasher.hash_async(Password::new("correct horse")).await?;
    /// let verdict = hasher.verify_async(Password::new("correct horse"), stored).await?;
    /// assert_eq!(verdict, Verdict::Valid);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`Hasher::hash`], plus [`Error::TaskFailed`] if the hash panicked.
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    pub async fn hash_async(&self, password: Password) -> Result<String> {
        self.run_blocking(move |h| h.hash(&password)).await
    }

    /// [`Hasher::verify`] on the limiter's worker threads.
    ///
    /// # Errors
    /// As [`Hasher::verify`], plus [`Error::TaskFailed`] if the hash panicked.
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    pub async fn verify_async(&self, password: Password, stored: String) -> Result<Verdict> {
        self.run_blocking(move |h| h.verify(&password, &stored))
            .await
    }

    /// [`Hasher::dummy_verify`] on the limiter's worker threads.
    ///
    /// # Errors
    /// As [`Hasher::dummy_verify`], plus [`Error::TaskFailed`].
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    pub async fn dummy_verify_async(&self, password: Password) -> Result<Verdict> {
        self.run_blocking(move |h| h.dummy_verify(&password)).await
    }

    /// [`Hasher::verify_or_dummy`] on the limiter's worker threads.
    ///
    /// # Errors
    /// As [`Hasher::verify`], plus [`Error::TaskFailed`].
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    pub async fn verify_or_dummy_async(
        &self,
        password: Password,
        stored: Option<String>,
    ) -> Result<Verdict> {
        self.run_blocking(move |h| h.verify_or_dummy(&password, stored.as_deref()))
            .await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use crate::pool::Task;
    use crate::{Error, Hasher, LimiterConfig, Params, Password, Verdict};

    /// Occupies a worker until its sender is dropped or sends.
    struct Occupy {
        started: mpsc::Sender<()>,
        release: mpsc::Receiver<()>,
    }

    impl Task for Occupy {
        fn cancelled(&self) -> bool {
            false
        }
        fn run(self: Box<Self>) {
            let _ = self.started.send(());
            let _ = self.release.recv();
        }
    }

    /// Returns once the worker runs the occupying task.
    fn occupy_the_worker(h: &Hasher) -> mpsc::Sender<()> {
        let (release, wait) = mpsc::channel();
        let (started, is_started) = mpsc::channel();
        let task = Occupy {
            started,
            release: wait,
        };
        h.inner
            .pool
            .submit(Box::new(task), &h.inner.limiter)
            .unwrap();
        is_started.recv().unwrap();
        release
    }

    fn hasher(workers: usize, max_queue: usize) -> Hasher {
        Hasher::builder()
            .with_params(Params::new(64, 1, 1).unwrap())
            .with_limiter(
                LimiterConfig::default()
                    .with_max_workers(workers)
                    .with_max_queue(max_queue),
            )
            .build()
            .unwrap()
    }

    /// Async calls cancelled while they wait for the (occupied) worker must leave the queue:
    /// with `max_queue(1)`, leaked places would make every later call `Overloaded`.
    #[tokio::test(flavor = "current_thread")]
    async fn cancelled_async_calls_do_not_fill_the_queue() {
        let h = hasher(1, 1);
        let stored = h.hash(&Password::new("pw")).unwrap();
        let held = occupy_the_worker(&h);
        let wait = Duration::from_millis(1);
        for _ in 0..20 {
            let verify = h.verify_async(Password::new("pw"), stored.clone());
            assert!(tokio::time::timeout(wait, verify).await.is_err());
            let hash = h.hash_async(Password::new("pw"));
            assert!(tokio::time::timeout(wait, hash).await.is_err());
            drop(h.dummy_verify_async(Password::new("pw"))); // dropped before its first poll
        }
        let (next, ()) = tokio::join!(h.verify_async(Password::new("pw"), stored), async move {
            tokio::task::yield_now().await;
            drop(held);
        });
        assert_eq!(next.unwrap(), Verdict::Valid);
        // One caller waits, a second is refused: the bound itself still holds.
        let held = occupy_the_worker(&h);
        let mut first = Box::pin(h.hash_async(Password::new("a")));
        let polled =
            std::future::poll_fn(|cx| std::task::Poll::Ready(first.as_mut().poll(cx).is_pending()))
                .await;
        assert!(polled, "the first waits");
        let second = h.hash_async(Password::new("b")).await;
        assert!(matches!(second, Err(Error::Overloaded)));
        drop(held);
        assert!(
            first.await.is_ok(),
            "the waiting call runs once the worker is free"
        );
    }

    /// Many concurrent calls all complete, each on one of the limiter's workers and never on
    /// the executor's threads.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_calls_run_on_the_limiters_workers() {
        let h = hasher(2, 1000);
        let stored = h.hash(&Password::new("pw")).unwrap();
        let calls: Vec<_> = (0..32)
            .map(|i| {
                let h = h.clone();
                let stored = stored.clone();
                tokio::spawn(async move {
                    if i % 2 == 0 {
                        h.verify_async(Password::new("pw"), stored)
                            .await
                            .map(|v| v.is_valid())
                    } else {
                        h.hash_async(Password::new("pw"))
                            .await
                            .map(|s| s.starts_with("$argon2id$"))
                    }
                })
            })
            .collect();
        for c in calls {
            assert!(c.await.unwrap().unwrap());
        }
        assert!(h.inner.pool.threads() <= 2, "more threads than workers");
        assert_eq!(
            h.inner.limiter.waiting(),
            0,
            "nobody left counted as waiting"
        );
    }
}
