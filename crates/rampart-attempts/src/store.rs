//! The store seam: where streaks live. Sealed: the rules of a streak must be applied
//! atomically by the store itself, which only this crate's stores promise.

use std::future::{Future, ready};
use std::sync::Arc;

use crate::error::StoreError;
use crate::memory::MemoryStore;
use crate::policy::Rule;
use crate::streak::{Owed, Recorded, Streak};
use crate::subject::Subject;
use crate::token::TokenHash;

// The sealed trait is unnameable outside this crate, so the crate-private types in its
// signatures never leak: the `private_interfaces` lint does not apply in substance.
#[allow(private_interfaces)]
pub(crate) mod sealed {
    use super::{Future, Owed, Recorded, Rule, StoreError, Streak, Subject, TokenHash};

    /// The operations a store performs, each atomic with respect to the others.
    #[allow(private_interfaces)]
    pub trait Backend: Send + Sync {
        /// Records a failure (the streak rules of `crate::streak`). When this failure newly
        /// locks the subject, `token` (the hash of the unlock token the tracker will hand
        /// out) is stored in the same atomic step: a lock never exists without its token.
        #[allow(private_interfaces)]
        fn fail(
            &self,
            subject: &Subject,
            rule: &Rule,
            now_ms: u64,
            token: Option<&TokenHash>,
        ) -> impl Future<Output = Result<Recorded, StoreError>> + Send;

        /// The live streak, if any.
        #[allow(private_interfaces)]
        fn peek(
            &self,
            subject: &Subject,
            idle_ms: u64,
            now_ms: u64,
        ) -> impl Future<Output = Result<Option<Streak>, StoreError>> + Send;

        /// The live streaks of several subjects (each with its idle period), in order, read
        /// in one round trip and as one consistent snapshot.
        #[allow(private_interfaces)]
        fn peek_many(
            &self,
            subjects: &[(&Subject, u64)],
            now_ms: u64,
        ) -> impl Future<Output = Result<Vec<Option<Streak>>, StoreError>> + Send;

        /// Ends the streak unless locked or a later failure exists. Must not wait on I/O.
        fn reset(&self, subject: &Subject, success_ms: u64);

        /// Lifts the lock and ends the streak when the hash matches (constant time); single use.
        fn unlock(
            &self,
            subject: &Subject,
            hash: &TokenHash,
        ) -> impl Future<Output = Result<bool, StoreError>> + Send;

        /// One notification owed for a streak that crossed the notify threshold outside
        /// `fail` (the Redis store's merge, after an outage, of what its fallback counted);
        /// the tracker sends it. Taken one at a time, so a cancelled request loses at most
        /// the one it was sending. None by default.
        #[allow(private_interfaces)]
        fn take_owed(&self) -> Option<Owed> {
            None
        }

        /// The notifier failed to deliver an owed notification (counted in the store's
        /// health; the tracker has nobody else to tell).
        fn owed_undelivered(&self) {}
    }
}

/// Where streaks live: [`MemoryStore`] for one process, `RedisStore` (feature `redis`) or
/// `PostgresStore` (feature `postgres`) for several replicas, `SqliteStore` (feature
/// `sqlite`) for one machine that keeps its counts across restarts. Sealed.
pub trait Store: sealed::Backend {}

#[allow(private_interfaces)]
impl sealed::Backend for MemoryStore {
    fn fail(
        &self,
        subject: &Subject,
        rule: &Rule,
        now_ms: u64,
        token: Option<&TokenHash>,
    ) -> impl Future<Output = Result<Recorded, StoreError>> + Send {
        ready(Ok(self.record_failure(subject, rule, now_ms, token)))
    }

    fn peek(
        &self,
        subject: &Subject,
        idle_ms: u64,
        now_ms: u64,
    ) -> impl Future<Output = Result<Option<Streak>, StoreError>> + Send {
        ready(Ok(MemoryStore::peek(self, subject, idle_ms, now_ms)))
    }

    fn peek_many(
        &self,
        subjects: &[(&Subject, u64)],
        now_ms: u64,
    ) -> impl Future<Output = Result<Vec<Option<Streak>>, StoreError>> + Send {
        ready(Ok(subjects
            .iter()
            .map(|(s, idle)| MemoryStore::peek(self, s, *idle, now_ms))
            .collect()))
    }

    fn reset(&self, subject: &Subject, success_ms: u64) {
        MemoryStore::reset(self, subject, success_ms);
    }

    fn unlock(
        &self,
        subject: &Subject,
        hash: &TokenHash,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        ready(Ok(MemoryStore::unlock(self, subject, hash)))
    }
}

impl Store for MemoryStore {}

#[allow(private_interfaces)]
impl<S: Store> sealed::Backend for Arc<S> {
    fn fail(
        &self,
        subject: &Subject,
        rule: &Rule,
        now_ms: u64,
        token: Option<&TokenHash>,
    ) -> impl Future<Output = Result<Recorded, StoreError>> + Send {
        (**self).fail(subject, rule, now_ms, token)
    }

    fn peek(
        &self,
        subject: &Subject,
        idle_ms: u64,
        now_ms: u64,
    ) -> impl Future<Output = Result<Option<Streak>, StoreError>> + Send {
        (**self).peek(subject, idle_ms, now_ms)
    }

    fn peek_many(
        &self,
        subjects: &[(&Subject, u64)],
        now_ms: u64,
    ) -> impl Future<Output = Result<Vec<Option<Streak>>, StoreError>> + Send {
        (**self).peek_many(subjects, now_ms)
    }

    fn reset(&self, subject: &Subject, success_ms: u64) {
        (**self).reset(subject, success_ms);
    }

    fn unlock(
        &self,
        subject: &Subject,
        hash: &TokenHash,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        (**self).unlock(subject, hash)
    }

    fn take_owed(&self) -> Option<Owed> {
        (**self).take_owed()
    }

    fn owed_undelivered(&self) {
        (**self).owed_undelivered();
    }
}

impl<S: Store> Store for Arc<S> {}
