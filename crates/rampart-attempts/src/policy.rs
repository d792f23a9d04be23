//! Policies: what happens as failures pile up, per kind of subject.
//!
//! # Why the defaults are what they are
//!
//! - **A public API key is never throttled or locked by default; its owner is notified.**
//!   The public half of a key appears in logs, URLs and support tickets, so anyone can fail
//!   against it. Locking it would let a stranger switch off the owner's integration at will:
//!   the OWASP Authentication Cheat Sheet ("Account Lockout") warns that lockout "can be
//!   abused" for denial of service, and the OWASP Credential Stuffing Prevention Cheat Sheet
//!   recommends notifying users of suspicious activity rather than only blocking it. So
//!   [`SubjectKind::ApiKey`] gets [`Policy::notify_only`] with the threshold of 20.
//! - **Throttling applies where the attacker sits:** per (key, IP) and per IP, with
//!   exponential backoff after a few free attempts, capped. An attacker spreading guesses
//!   over many IPs is still seen by the per-key counter (and the owner is notified); one IP
//!   hammering many keys is slowed by the per-IP counter. The per-IP allowance is larger
//!   because NATs and proxies put many honest clients behind one address.
//! - **Accounts** are throttled (exponential delay up to 15 minutes), notified at 20, and not
//!   hard-locked by default. NIST SP 800-63B section 5.2.2 ("Rate Limiting (Throttling)")
//!   requires limiting consecutive failures on one account to no more than 100 and suggests
//!   making the claimant wait a growing time after each failure (its example is 30 seconds
//!   up to an hour); OWASP recommends exponentially growing lockout times over permanent
//!   ones. With the default backoff, 100 consecutive failures take more than 20 hours, which
//!   meets the NIST limit without handing strangers a lock switch. A hard lockout
//!   ([`Lockout`]) is available for services that prefer it.
//!
//! Consecutive failures expire after an idle period ([`Policy::idle_expiry`]): a streak
//! that saw no failure for that long starts again from zero.

use std::time::Duration;

use crate::error::Error;
use crate::subject::SubjectKind;

/// The default notification threshold: the owner hears about the 20th consecutive failure.
pub const DEFAULT_NOTIFY_AFTER: u32 = 20;

/// Exponential backoff: after `free_attempts` consecutive failures, each further failure
/// makes the subject wait `base * 2^(n - 1)` (n = failures beyond the free ones), at most
/// `max`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Backoff {
    /// Failures allowed without any delay.
    pub free_attempts: u32,
    /// Delay after the first failure beyond the free ones.
    pub base: Duration,
    /// The cap.
    pub max: Duration,
}

impl Backoff {
    /// A backoff; `base` is raised to 1 ms and `max` to `base` if smaller.
    pub fn new(free_attempts: u32, base: Duration, max: Duration) -> Self {
        let base = base.max(Duration::from_millis(1));
        Backoff {
            free_attempts,
            base,
            max: max.max(base),
        }
    }

    /// The delay imposed after `count` consecutive failures (zero within the free attempts).
    pub fn delay_after(&self, count: u32) -> Duration {
        let Some(beyond) = count.checked_sub(self.free_attempts).filter(|n| *n > 0) else {
            return Duration::ZERO;
        };
        // 2^(beyond-1) overflows quickly; anything past 2^40 is past any sane cap.
        let shift = (beyond - 1).min(40);
        let factor = 1u64 << shift;
        let base_ms = u64::try_from(self.base.as_millis()).unwrap_or(u64::MAX);
        let delay = Duration::from_millis(base_ms.saturating_mul(factor));
        delay.min(self.max)
    }
}

/// A hard lockout after `after` consecutive failures. It is lifted by the single-use
/// [`UnlockToken`](crate::UnlockToken) issued when it started, by time if `duration` is set,
/// or when the streak expires ([`Policy::idle_expiry`], raised to at least `duration`).
/// Failures keep counting while locked; a failure after a timed lockout ended locks again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Lockout {
    /// Consecutive failures that lock the subject.
    pub after: u32,
    /// How long the lock lasts; `None` means until unlocked (or the streak expires).
    pub duration: Option<Duration>,
}

impl Lockout {
    /// Locked after `after` failures until the unlock token is used (or the streak expires).
    pub fn until_unlocked(after: u32) -> Self {
        Lockout {
            after: after.max(1),
            duration: None,
        }
    }

    /// Locked after `after` failures for `duration` (or until the unlock token is used).
    /// Lock times are kept with one-second granularity, rounded up.
    pub fn for_duration(after: u32, duration: Duration) -> Self {
        Lockout {
            after: after.max(1),
            duration: Some(duration.max(Duration::from_secs(1))),
        }
    }
}

/// What happens to one kind of subject as consecutive failures pile up.
///
/// ```
/// use std::time::Duration;
/// use rampart_attempts::{Backoff, Lockout, Policy};
/// let p = Policy::notify_only(20)
///     .with_backoff(Backoff::new(5, Duration::from_secs(1), Duration::from_secs(900)))
///     .with_lockout(Lockout::until_unlocked(50))
///     .with_idle_expiry(Duration::from_secs(3600));
/// assert_eq!(p.backoff.unwrap().delay_after(7), Duration::from_secs(2));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Policy {
    /// Notify the owner when a streak reaches this many failures (once per streak).
    pub notify_after: Option<u32>,
    /// Delay growing with each failure, if any.
    pub backoff: Option<Backoff>,
    /// Hard lockout, if any.
    pub lockout: Option<Lockout>,
    /// A streak with no failure for this long is forgotten.
    pub idle_expiry: Duration,
}

impl Policy {
    /// Count and notify at `threshold`; never delay or lock. Idle expiry 24 hours.
    pub fn notify_only(threshold: u32) -> Self {
        Policy {
            notify_after: Some(threshold.max(1)),
            backoff: None,
            lockout: None,
            idle_expiry: Duration::from_secs(24 * 3600),
        }
    }

    /// Throttle with `backoff`, never notify or lock. Idle expiry 1 hour.
    pub fn throttle(backoff: Backoff) -> Self {
        Policy {
            notify_after: None,
            backoff: Some(backoff),
            lockout: None,
            idle_expiry: Duration::from_secs(3600),
        }
    }

    /// Adds (or replaces) the backoff.
    #[must_use]
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = Some(backoff);
        self
    }

    /// Adds (or replaces) the hard lockout.
    #[must_use]
    pub fn with_lockout(mut self, lockout: Lockout) -> Self {
        self.lockout = Some(lockout);
        self
    }

    /// Sets the notification threshold (`None`: never notify).
    #[must_use]
    pub fn with_notify_after(mut self, threshold: Option<u32>) -> Self {
        self.notify_after = threshold.map(|t| t.max(1));
        self
    }

    /// Sets the idle expiry (at least one second).
    #[must_use]
    pub fn with_idle_expiry(mut self, idle: Duration) -> Self {
        self.idle_expiry = idle.max(Duration::from_secs(1));
        self
    }

    /// True when this policy can make [`check`](crate::Tracker::check) say anything other
    /// than allow; a check under a policy that cannot block does no I/O at all.
    pub fn can_block(&self) -> bool {
        self.backoff.is_some() || self.lockout.is_some()
    }

    pub(crate) fn rule(&self) -> Rule {
        let lock_ms = self.lockout.and_then(|l| l.duration).map_or(0, duration_ms);
        Rule {
            idle_ms: duration_ms(self.idle_expiry).max(lock_ms).max(1000),
            notify_at: self.notify_after.unwrap_or(0),
            lock_after: self.lockout.map_or(0, |l| l.after),
            lock_ms,
        }
    }
}

/// One policy per [`SubjectKind`], with the defaults explained in the module docs.
///
/// ```
/// use rampart_attempts::{Policies, SubjectKind};
/// let p = Policies::default();
/// assert!(!p.get(SubjectKind::ApiKey).can_block()); // notify only
/// assert!(p.get(SubjectKind::ApiKeyIp).can_block()); // throttled
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policies {
    by_kind: [Policy; 5],
}

impl Default for Policies {
    fn default() -> Self {
        let fifteen_min = Duration::from_secs(15 * 60);
        let per_pair = Backoff::new(5, Duration::from_secs(1), fifteen_min);
        let per_ip = Backoff::new(50, Duration::from_secs(1), Duration::from_secs(5 * 60));
        let mut by_kind = [Policy::notify_only(DEFAULT_NOTIFY_AFTER); 5];
        by_kind[SubjectKind::ApiKey.index()] = Policy::notify_only(DEFAULT_NOTIFY_AFTER);
        by_kind[SubjectKind::Account.index()] = Policy::notify_only(DEFAULT_NOTIFY_AFTER)
            .with_backoff(Backoff::new(5, Duration::from_secs(1), fifteen_min));
        by_kind[SubjectKind::Ip.index()] = Policy::throttle(per_ip);
        by_kind[SubjectKind::ApiKeyIp.index()] = Policy::throttle(per_pair);
        by_kind[SubjectKind::AccountIp.index()] = Policy::throttle(per_pair);
        Policies { by_kind }
    }
}

impl Policies {
    /// The policy for `kind`.
    pub fn get(&self, kind: SubjectKind) -> &Policy {
        &self.by_kind[kind.index()]
    }

    /// Replaces the policy for `kind`.
    #[must_use]
    pub fn with(mut self, kind: SubjectKind, policy: Policy) -> Self {
        self.by_kind[kind.index()] = policy;
        self
    }

    /// Checks the policies: returns [`Error::InvalidConfig`] when a lockout would trigger
    /// within the free attempts of a backoff (a sign of a mistyped number) or a threshold is 0.
    pub fn validate(&self) -> Result<(), Error> {
        for p in &self.by_kind {
            if p.notify_after == Some(0) || p.lockout.is_some_and(|l| l.after == 0) {
                return Err(Error::InvalidConfig {
                    reason: "thresholds must be at least 1",
                });
            }
            if let (Some(b), Some(l)) = (p.backoff, p.lockout)
                && l.after <= b.free_attempts
            {
                return Err(Error::InvalidConfig {
                    reason: "lockout triggers within the free attempts of the backoff",
                });
            }
        }
        Ok(())
    }
}

/// What a store needs to know about a policy to record a failure atomically.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Rule {
    pub(crate) idle_ms: u64,
    /// 0: never notify.
    pub(crate) notify_at: u32,
    /// 0: never lock.
    pub(crate) lock_after: u32,
    /// 0: locked until unlocked.
    pub(crate) lock_ms: u64,
}

pub(crate) fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_free_then_doubles_up_to_the_cap() {
        let b = Backoff::new(3, Duration::from_secs(1), Duration::from_secs(10));
        let delays: Vec<u64> = (1..=9).map(|n| b.delay_after(n).as_secs()).collect();
        assert_eq!(delays, [0, 0, 0, 1, 2, 4, 8, 10, 10]);
        assert_eq!(b.delay_after(u32::MAX), Duration::from_secs(10));
    }

    #[test]
    fn default_policy_for_public_keys_never_blocks() {
        let p = Policies::default();
        let key = p.get(SubjectKind::ApiKey);
        assert_eq!(key.notify_after, Some(DEFAULT_NOTIFY_AFTER));
        assert!(!key.can_block());
        assert!(p.get(SubjectKind::Ip).can_block());
        assert!(p.get(SubjectKind::ApiKeyIp).can_block());
        p.validate().unwrap();
    }

    #[test]
    fn default_account_backoff_meets_nist_100_failure_limit() {
        // NIST SP 800-63B 5.2.2: at most 100 consecutive failures; with the default backoff
        // the 99 delays between 100 failures add up to more than 20 hours.
        let b = Policies::default()
            .get(SubjectKind::Account)
            .backoff
            .unwrap();
        let total: Duration = (1..100).map(|n| b.delay_after(n)).sum();
        assert!(total > Duration::from_secs(20 * 3600), "{total:?}");
    }

    #[test]
    fn lockout_within_free_attempts_is_rejected() {
        let p = Policies::default().with(
            SubjectKind::Account,
            Policy::throttle(Backoff::new(
                10,
                Duration::from_secs(1),
                Duration::from_secs(9),
            ))
            .with_lockout(Lockout::until_unlocked(5)),
        );
        assert!(matches!(p.validate(), Err(Error::InvalidConfig { .. })));
    }
}
