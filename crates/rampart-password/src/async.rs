//! Async hashing and verification (feature `tokio`).
//!
//! Each call first waits for a limiter admission permit on the async side (so a login storm
//! queues as cheap futures, not as parked blocking threads), then runs the hash on tokio's
//! blocking pool, off the executor's worker threads.

use crate::error::{Error, Result};
use crate::hasher::Hasher;
use crate::secret::Password;
use crate::verify::Verdict;

impl Hasher {
    async fn run_blocking<T, F>(&self, job: F) -> Result<T>
    where
        F: FnOnce(&Hasher) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let permit = self.inner.limiter.admit().await?;
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            job(&this)
        })
        .await
        .map_err(|_| Error::TaskFailed)?
    }

    /// [`Hasher::hash`] on the blocking pool, behind the limiter.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), rampart_password::Error> {
    /// use rampart_password::{Hasher, Params, Password, Verdict};
    /// let hasher = Hasher::builder().params(Params::new(64, 1, 1)?).build()?;
    /// let stored = hasher.hash_async(Password::new("correct horse")).await?;
    /// let verdict = hasher.verify_async(Password::new("correct horse"), stored).await?;
    /// assert_eq!(verdict, Verdict::Valid);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`Hasher::hash`], plus [`Error::TaskFailed`] if the blocking task panicked.
    pub async fn hash_async(&self, password: Password) -> Result<String> {
        self.run_blocking(move |h| h.hash(&password)).await
    }

    /// [`Hasher::verify`] on the blocking pool, behind the limiter.
    ///
    /// # Errors
    /// As [`Hasher::verify`], plus [`Error::TaskFailed`] if the blocking task panicked.
    pub async fn verify_async(&self, password: Password, stored: String) -> Result<Verdict> {
        self.run_blocking(move |h| h.verify(&password, &stored))
            .await
    }

    /// [`Hasher::dummy_verify`] on the blocking pool, behind the limiter.
    ///
    /// # Errors
    /// As [`Hasher::dummy_verify`], plus [`Error::TaskFailed`].
    pub async fn dummy_verify_async(&self, password: Password) -> Result<Verdict> {
        self.run_blocking(move |h| h.dummy_verify(&password)).await
    }

    /// [`Hasher::verify_or_dummy`] on the blocking pool, behind the limiter.
    ///
    /// # Errors
    /// As [`Hasher::verify`], plus [`Error::TaskFailed`].
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
    use std::time::Duration;

    use crate::{Error, Hasher, LimiterConfig, Params, Password, Verdict};

    /// Async calls cancelled while they wait for the (occupied) worker must leave the queue:
    /// with `max_queue(1)`, leaked places would make every later call `Overloaded`.
    #[tokio::test(flavor = "current_thread")]
    async fn cancelled_async_calls_do_not_fill_the_queue() {
        let h = Hasher::builder()
            .params(Params::new(64, 1, 1).unwrap())
            .limiter(LimiterConfig::default().max_workers(1).max_queue(1))
            .build()
            .unwrap();
        let stored = h.hash(&Password::new("pw")).unwrap();
        let held = h.inner.limiter.admit().await.unwrap();
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
        let held = h.inner.limiter.admit().await.unwrap();
        let mut first = Box::pin(h.hash_async(Password::new("a")));
        let polled =
            std::future::poll_fn(|cx| std::task::Poll::Ready(first.as_mut().poll(cx).is_pending()))
                .await;
        assert!(polled, "the first waits");
        let second = h.hash_async(Password::new("b")).await;
        assert!(matches!(second, Err(Error::Overloaded)));
        drop(first);
        drop(held);
    }
}
