//! The rules of a streak, in one place: every store applies exactly these (the Redis store's
//! Lua scripts in `redis_store/*.lua` mirror them line by line, and the shared conformance
//! tests run the same scenarios against both stores).

use crate::policy::Rule;
use crate::subject::Subject;

/// `lock_until_ms` value of a lock lifted only by its token (or the streak's expiry).
pub(crate) const LOCKED_UNTIL_UNLOCKED: u64 = u64::MAX;

/// The state of one subject's streak (crate-internal; reachable only through the sealed store trait).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Streak {
    pub(crate) count: u32,
    pub(crate) first_ms: u64,
    pub(crate) last_ms: u64,
    pub(crate) notified: bool,
    /// 0: not locked; [`LOCKED_UNTIL_UNLOCKED`]; else the end of a timed lock.
    pub(crate) lock_until_ms: u64,
}

/// What recording one failure did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recorded {
    pub(crate) streak: Streak,
    /// This failure crossed the notify threshold (true for exactly one failure per streak).
    pub(crate) notify: bool,
    /// This failure started a lockout (a token must be issued).
    pub(crate) newly_locked: bool,
}

/// A notification a store owes its tracker: `streak` crossed the notify threshold outside
/// [`record_failure`](Streak::record_failure), when the Redis store merged into Redis the
/// failures its fallback counted during an outage. The tracker sends it on its next call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owed {
    pub(crate) subject: Subject,
    pub(crate) streak: Streak,
}

impl Streak {
    /// A streak is over when it has no failures or saw none for `idle_ms`.
    pub(crate) fn expired(&self, idle_ms: u64, now_ms: u64) -> bool {
        self.count == 0 || now_ms.saturating_sub(self.last_ms) >= idle_ms
    }

    pub(crate) fn locked_at(&self, now_ms: u64) -> bool {
        self.lock_until_ms == LOCKED_UNTIL_UNLOCKED || self.lock_until_ms > now_ms
    }

    /// Records one failure at `now_ms` under `rule`.
    pub(crate) fn record_failure(&mut self, rule: &Rule, now_ms: u64) -> Recorded {
        if self.expired(rule.idle_ms, now_ms) {
            *self = Streak {
                first_ms: now_ms,
                ..Streak::default()
            };
        }
        self.count = self.count.saturating_add(1);
        // Replicas' clocks differ a little: never move the last failure backwards.
        self.last_ms = self.last_ms.max(now_ms);
        let notify = rule.notify_at > 0 && self.count >= rule.notify_at && !self.notified;
        if notify {
            self.notified = true;
        }
        let newly_locked =
            rule.lock_after > 0 && self.count >= rule.lock_after && !self.locked_at(now_ms);
        if newly_locked {
            self.lock_until_ms = if rule.lock_ms == 0 {
                LOCKED_UNTIL_UNLOCKED
            } else {
                now_ms.saturating_add(rule.lock_ms)
            };
        }
        Recorded {
            streak: *self,
            notify,
            newly_locked,
        }
    }

    /// Whether a success at `success_ms` ends this streak: not while a lock holds (only the
    /// token or time lifts it), and never a failure recorded after the success (a reset
    /// sent in the background may arrive late).
    pub(crate) fn reset_by_success(&self, success_ms: u64) -> bool {
        !self.locked_at(success_ms) && self.last_ms <= success_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: Rule = Rule {
        idle_ms: 60_000,
        notify_at: 3,
        lock_after: 0,
        lock_ms: 0,
    };

    #[test]
    fn notify_fires_once_at_the_threshold() {
        let mut s = Streak::default();
        let fired: Vec<bool> = (0..6)
            .map(|i| s.record_failure(&RULE, 1000 + i).notify)
            .collect();
        assert_eq!(fired, [false, false, true, false, false, false]);
    }

    #[test]
    fn a_rule_without_notification_never_notifies() {
        let never = Rule {
            notify_at: 0,
            ..RULE
        };
        let mut s = Streak::default();
        assert!((0..50).all(|i| !s.record_failure(&never, 1000 + i).notify));
        assert!(!s.notified);
    }

    #[test]
    fn idle_streak_starts_over_and_can_notify_again() {
        let mut s = Streak::default();
        for i in 0..3 {
            s.record_failure(&RULE, 1000 + i);
        }
        let r = s.record_failure(&RULE, 1002 + 60_000);
        assert_eq!((r.streak.count, r.streak.first_ms), (1, 61_002));
        s.record_failure(&RULE, 61_003);
        assert!(s.record_failure(&RULE, 61_004).notify);
    }

    #[test]
    fn timed_lock_relocks_on_the_next_failure_after_it_ends() {
        let rule = Rule {
            idle_ms: 600_000,
            notify_at: 0,
            lock_after: 2,
            lock_ms: 10_000,
        };
        let mut s = Streak::default();
        assert!(!s.record_failure(&rule, 0).newly_locked);
        assert!(s.record_failure(&rule, 1).newly_locked);
        assert!(!s.record_failure(&rule, 2).newly_locked, "already locked");
        assert!(s.locked_at(10_000) && !s.locked_at(10_001));
        assert!(s.record_failure(&rule, 20_000).newly_locked);
    }

    #[test]
    fn late_reset_does_not_erase_a_newer_failure() {
        let mut s = Streak::default();
        s.record_failure(&RULE, 5000);
        assert!(!s.reset_by_success(4999));
        assert!(s.reset_by_success(5000));
    }
}
