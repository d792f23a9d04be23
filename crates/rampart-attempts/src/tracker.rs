//! The API a service calls: check, record failure, record success, unlock.

use std::time::{Duration, SystemTime};

use crate::clock::{from_unix_ms, unix_ms};
use crate::error::{Error, NotifyError};
use crate::notify::{NoNotifier, Notification, Notifier};
use crate::policy::{Policies, Policy};
use crate::store::Store;
use crate::streak::{LOCKED_UNTIL_UNLOCKED, Streak};
use crate::subject::Subject;
use crate::token::UnlockToken;

/// What to do with an attempt, from [`Tracker::check`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// Go ahead and authenticate.
    Allow,
    /// Refuse without authenticating; the subject may try again after this delay
    /// (an HTTP service answers 429 with `Retry-After`).
    RetryAfter(Duration),
    /// Hard lockout: refuse until `until` (`None`: until the unlock token is used).
    Locked {
        /// When a timed lock ends.
        until: Option<SystemTime>,
    },
}

/// What [`Tracker::record_failure`] did.
#[derive(Debug)]
#[non_exhaustive]
pub struct FailureOutcome {
    /// Consecutive failures of this subject, this one included.
    pub count: u32,
    /// The delay the subject must now wait (`None`: no delay).
    pub retry_after: Option<Duration>,
    /// Whether the subject is now hard-locked.
    pub locked: bool,
    /// Present on the one failure of the streak that crossed the notify threshold
    /// (already given to the tracker's notifier).
    pub notification: Option<Notification>,
    /// Set when the notifier failed; the notification is still in `notification`.
    pub notify_error: Option<NotifyError>,
    /// Present on the failure that started a hard lockout: the single-use token that lifts
    /// it, to be sent to the owner. It is not stored anywhere (only its hash is, by the same
    /// atomic store operation that recorded the failure).
    pub unlock_token: Option<UnlockToken>,
    /// Set ([`Error::Random`]) when this failure started a hard lockout but the OS random
    /// generator could not make its token: the lock holds until it times out or the streak
    /// expires. The failure and the notification are not lost.
    pub unlock_token_error: Option<Error>,
}

/// Counts failed attempts per [`Subject`] in a [`Store`], applies the [`Policies`], and calls
/// the [`Notifier`]. Share it between requests behind an `Arc`.
///
/// Async and runtime-agnostic: with a [`MemoryStore`](crate::MemoryStore) every future is
/// ready at once (no runtime needed); the Redis store needs Tokio.
///
/// ```
/// use std::time::SystemTime;
/// use rampart_attempts::{Decision, MemoryStore, Subject, Tracker};
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
/// # }
/// # block_on(async {
/// let tracker = Tracker::new(MemoryStore::default());
/// let ip = "203.0.113.9".parse().unwrap();
/// let who = Subject::account_from_ip("ann", ip);
/// let now = SystemTime::now();
/// assert_eq!(tracker.check(&who, now).await?, Decision::Allow);
/// for _ in 0..6 {
///     tracker.record_failure(&who, now).await?;
/// }
/// // 5 free attempts, then 1 s, 2 s, 4 s ... up to 15 minutes.
/// assert!(matches!(tracker.check(&who, now).await?, Decision::RetryAfter(_)));
/// tracker.record_success(&who, now).await;
/// # Ok::<(), rampart_attempts::Error>(()) }).unwrap();
/// ```
#[derive(Debug)]
pub struct Tracker<S, N = NoNotifier> {
    store: S,
    notifier: N,
    policies: Policies,
}

impl<S: Store> Tracker<S> {
    /// A tracker with the default [`Policies`] and no notifier.
    pub fn new(store: S) -> Self {
        Tracker {
            store,
            notifier: NoNotifier,
            policies: Policies::default(),
        }
    }
}

impl<S: Store, N: Notifier> Tracker<S, N> {
    /// Replaces the notifier.
    pub fn with_notifier<M: Notifier>(self, notifier: M) -> Tracker<S, M> {
        Tracker {
            store: self.store,
            notifier,
            policies: self.policies,
        }
    }

    /// Replaces the policies; returns [`Error::InvalidConfig`] when they fail
    /// [`Policies::validate`].
    pub fn with_policies(mut self, policies: Policies) -> Result<Self, Error> {
        policies.validate()?;
        self.policies = policies;
        Ok(self)
    }

    /// The policies in force.
    pub fn policies(&self) -> &Policies {
        &self.policies
    }

    /// The store (for its statistics or health).
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Before authenticating: may `subject` attempt now?
    ///
    /// Under a policy that cannot block (the default for public API keys) this returns
    /// `Allow` without touching the store. Errors only when a store configured to fail
    /// closed is unavailable ([`StoreError::Unavailable`](crate::StoreError::Unavailable)):
    /// treat an error as "deny".
    pub async fn check(&self, subject: &Subject, now: SystemTime) -> Result<Decision, Error> {
        let policy = self.policies.get(subject.kind());
        if !policy.can_block() {
            self.send_owed().await;
            return Ok(Decision::Allow);
        }
        let rule = policy.rule();
        let now_ms = unix_ms(now);
        let streak = self.store.peek(subject, rule.idle_ms, now_ms).await?;
        self.send_owed().await;
        Ok(streak.map_or(Decision::Allow, |s| decide(policy, &s, now_ms)))
    }

    /// [`check`](Self::check) for all the subjects of one attempt (typically the IP, the
    /// (key, IP) pair and the key): the most restrictive decision among them (`Locked`
    /// until unlocked, then the latest timed lock, then the longest `RetryAfter`, then
    /// `Allow`).
    ///
    /// Latency: one store round trip whatever the number of subjects (one Lua script on
    /// Redis; none at all when no subject's policy can block), where `check` per subject
    /// costs one each. Consistency: the streaks are read together, as one snapshot taken
    /// by a script that runs alone on the server; the timeout and the failure mode apply to
    /// the call as a whole (fail-open answers every subject from the fallback).
    ///
    /// ```
    /// use std::time::SystemTime;
    /// use rampart_attempts::{Decision, MemoryStore, Subject, Tracker};
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     let mut f = std::pin::pin!(f);
    /// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
    /// # }
    /// # block_on(async {
    /// let tracker = Tracker::new(MemoryStore::default());
    /// let ip = "203.0.113.9".parse().unwrap();
    /// let (by_ip, pair, key) = (Subject::ip(ip), Subject::api_key_from_ip("pk_1", ip), Subject::api_key("pk_1"));
    /// let now = SystemTime::now();
    /// for _ in 0..7 {
    ///     tracker.record_failure(&pair, now).await?; // 5 free, then 1 s, 2 s
    /// }
    /// let decision = tracker.check_all(&[&by_ip, &pair, &key], now).await?;
    /// assert_eq!(decision, Decision::RetryAfter(std::time::Duration::from_secs(2)));
    /// # Ok::<(), rampart_attempts::Error>(()) }).unwrap();
    /// ```
    ///
    /// Errors: as [`check`](Self::check); treat an error as "deny".
    pub async fn check_all(
        &self,
        subjects: &[&Subject],
        now: SystemTime,
    ) -> Result<Decision, Error> {
        let blocking: Vec<(&Subject, &Policy)> = subjects
            .iter()
            .map(|s| (*s, self.policies.get(s.kind())))
            .filter(|(_, p)| p.can_block())
            .collect();
        if blocking.is_empty() {
            self.send_owed().await;
            return Ok(Decision::Allow);
        }
        let now_ms = unix_ms(now);
        let query: Vec<(&Subject, u64)> = blocking
            .iter()
            .map(|(s, p)| (*s, p.rule().idle_ms))
            .collect();
        let streaks = self.store.peek_many(&query, now_ms).await?;
        self.send_owed().await;
        Ok(blocking
            .iter()
            .zip(streaks)
            .filter_map(|((_, p), streak)| streak.map(|s| decide(p, &s, now_ms)))
            .fold(Decision::Allow, most_restrictive))
    }

    /// After a failed authentication: counts it, and on the failure that crosses the
    /// policy's threshold builds the [`Notification`] and awaits the notifier (exactly once
    /// per streak, across replicas sharing a store). On the failure that starts a hard
    /// lockout, issues the [`UnlockToken`].
    ///
    /// The lock and its token's hash are written by one atomic store operation (one Lua
    /// script on Redis), so a lock never exists without a working token, whatever fails
    /// afterwards. Under a policy with a lockout, every failure therefore draws a candidate
    /// token (32 bytes from the OS, one SHA-256) that is discarded unless this failure locks.
    ///
    /// Errors: [`Error::Store`] when a fail-closed store is unavailable (nothing was
    /// recorded, nobody was notified). Nothing can fail after the failure is recorded: a
    /// notifier failure is in [`FailureOutcome::notify_error`].
    ///
    /// ```
    /// use std::time::SystemTime;
    /// use rampart_attempts::{Lockout, MemoryStore, Policies, Policy, Subject, SubjectKind, Tracker};
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     let mut f = std::pin::pin!(f);
    /// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
    /// # }
    /// # block_on(async {
    /// let policies = Policies::default()
    ///     .with(SubjectKind::Account, Policy::notify_only(3).with_lockout(Lockout::until_unlocked(5)));
    /// let tracker = Tracker::new(MemoryStore::default()).with_policies(policies)?;
    /// let ann = Subject::account("ann");
    /// let now = SystemTime::now();
    /// let outcomes: Vec<_> = (0..5).map(|_| block_on(tracker.record_failure(&ann, now))).collect();
    /// let outcomes = outcomes.into_iter().collect::<Result<Vec<_>, _>>()?;
    /// assert_eq!(outcomes[4].count, 5);
    /// assert!(outcomes[2].notification.is_some()); // the 3rd failure notifies the owner
    /// assert!(outcomes[4].locked && outcomes[4].unlock_token.is_some()); // mail it to the owner
    /// # Ok::<(), rampart_attempts::Error>(()) }).unwrap();
    /// ```
    pub async fn record_failure(
        &self,
        subject: &Subject,
        now: SystemTime,
    ) -> Result<FailureOutcome, Error> {
        let policy = self.policies.get(subject.kind());
        let rule = policy.rule();
        let now_ms = unix_ms(now);
        // Drawn before the failure is recorded, so the store can keep its hash in the same
        // atomic step as the lock (two calls could be split by an outage).
        let (candidate, token_error) = if rule.lock_after > 0 {
            match UnlockToken::generate() {
                Ok(t) => (Some(t), None),
                Err(e) => (None, Some(e)),
            }
        } else {
            (None, None)
        };
        let recorded = self
            .store
            .fail(
                subject,
                &rule,
                now_ms,
                candidate.as_ref().map(UnlockToken::hash),
            )
            .await?;
        let streak = recorded.streak;
        let (unlock_token, unlock_token_error) = if recorded.newly_locked {
            (candidate, token_error)
        } else {
            (None, None)
        };
        let (notification, notify_error) = if recorded.notify {
            let n = self.notification(subject, &streak);
            let err = self.notifier.notify(&n).await.err();
            (Some(n), err)
        } else {
            (None, None)
        };
        self.send_owed().await;
        let (retry_after, locked) = match decide(policy, &streak, now_ms) {
            Decision::Allow => (None, false),
            Decision::RetryAfter(d) => (Some(d), false),
            Decision::Locked { .. } => (None, true),
        };
        Ok(FailureOutcome {
            count: streak.count,
            retry_after,
            locked,
            notification,
            notify_error,
            unlock_token,
            unlock_token_error,
        })
    }

    /// After a successful authentication: ends the subject's streak. Never waits on a
    /// network round trip (the Redis store sends the reset in the background; see its docs
    /// for the consistency this gives). A success does not lift a hard lockout, and never
    /// erases a failure recorded after `now`.
    pub async fn record_success(&self, subject: &Subject, now: SystemTime) {
        self.store.reset(subject, unix_ms(now));
    }

    /// Lifts a hard lockout with the token issued when it started, and ends the streak.
    /// Returns `Ok(false)` when the token does not match (compared in constant time) or was
    /// already used: tokens are single use. Errors only when a fail-closed store is
    /// unavailable.
    ///
    /// ```
    /// use std::time::SystemTime;
    /// use rampart_attempts::{Decision, Lockout, MemoryStore, Policies, Policy, Subject, SubjectKind, Tracker, UnlockToken};
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     let mut f = std::pin::pin!(f);
    /// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
    /// # }
    /// # block_on(async {
    /// let policies = Policies::default()
    ///     .with(SubjectKind::Account, Policy::notify_only(20).with_lockout(Lockout::until_unlocked(3)));
    /// let tracker = Tracker::new(MemoryStore::default()).with_policies(policies)?;
    /// let ann = Subject::account("ann");
    /// let now = SystemTime::now();
    /// let mut emailed = None; // the token goes to the owner, e.g. in a link
    /// for _ in 0..3 {
    ///     emailed = emailed.or(tracker.record_failure(&ann, now).await?.unlock_token);
    /// }
    /// assert_eq!(tracker.check(&ann, now).await?, Decision::Locked { until: None });
    /// // The owner follows the link: the service parses the text from it.
    /// let text = emailed.unwrap().expose_secret().to_owned();
    /// let token = UnlockToken::parse(&text)?;
    /// assert!(tracker.unlock(&ann, &token).await?);
    /// assert!(!tracker.unlock(&ann, &token).await?, "single use");
    /// assert_eq!(tracker.check(&ann, now).await?, Decision::Allow);
    /// # Ok::<(), rampart_attempts::Error>(()) }).unwrap();
    /// ```
    pub async fn unlock(&self, subject: &Subject, token: &UnlockToken) -> Result<bool, Error> {
        let unlocked = self.store.unlock(subject, token.hash()).await?;
        self.send_owed().await;
        Ok(unlocked)
    }

    /// The notification for `subject`'s `streak`, which has just crossed the threshold.
    fn notification(&self, subject: &Subject, streak: &Streak) -> Notification {
        Notification {
            subject: subject.clone(),
            count: streak.count,
            first_failure: from_unix_ms(streak.first_ms),
            last_failure: from_unix_ms(streak.last_ms),
            idempotency_key: format!("{}@{}", subject.storage_key(), streak.first_ms),
            policy: *self.policies.get(subject.kind()),
        }
    }

    /// Sends the notifications the store owes (streaks whose threshold was crossed when a
    /// Redis store merged what its fallback counted during an outage). They are not part
    /// of any outcome: the request at hand is not the one that crossed the threshold.
    async fn send_owed(&self) {
        while let Some(owed) = self.store.take_owed() {
            let n = self.notification(&owed.subject, &owed.streak);
            if self.notifier.notify(&n).await.is_err() {
                self.store.owed_undelivered();
            }
        }
    }
}

/// The more restrictive of two decisions (see [`Tracker::check_all`]).
fn most_restrictive(a: Decision, b: Decision) -> Decision {
    fn rank(d: &Decision) -> (u8, Duration) {
        match d {
            Decision::Allow => (0, Duration::ZERO),
            Decision::RetryAfter(wait) => (1, *wait),
            Decision::Locked { until: Some(t) } => (
                2,
                t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default(),
            ),
            Decision::Locked { until: None } => (3, Duration::ZERO),
        }
    }
    if rank(&b) > rank(&a) { b } else { a }
}

/// What a streak means for the next attempt under `policy` at `now_ms`.
fn decide(policy: &Policy, streak: &Streak, now_ms: u64) -> Decision {
    if policy.lockout.is_some() && streak.locked_at(now_ms) {
        let until = (streak.lock_until_ms != LOCKED_UNTIL_UNLOCKED)
            .then(|| from_unix_ms(streak.lock_until_ms));
        return Decision::Locked { until };
    }
    if let Some(backoff) = policy.backoff {
        let delay = crate::policy::duration_ms(backoff.delay_after(streak.count));
        let allowed_at = streak.last_ms.saturating_add(delay);
        if allowed_at > now_ms {
            return Decision::RetryAfter(Duration::from_millis(allowed_at - now_ms));
        }
    }
    Decision::Allow
}
