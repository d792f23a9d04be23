//! What this replica counted apart from Redis (failures answered by the fail-open fallback,
//! resets that did not reach Redis), kept until a merge writes it into Redis.
//!
//! Per Redis key, a list of items in the order they happened. Only the last item grows; once
//! an item has been sent it never changes, so after a merge call that failed (and may still
//! have run: a timeout is ambiguous) it is sent again exactly as it was, under the same id,
//! and the merge script applies an id once (it keeps a marker key per merged item). That is
//! what makes "a failure counted in memory is merged once" hold.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::policy::Rule;
use crate::streak::{LOCKED_UNTIL_UNLOCKED, Recorded};
use crate::subject::Subject;
use crate::token::TokenHash;

/// The rule of an item that holds no failure (a reset only): never used by the script.
const NO_RULE: Rule = Rule {
    idle_ms: 0,
    notify_at: 0,
    lock_after: 0,
    lock_ms: 0,
};

/// A run of operations on one key, merged as one step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Item {
    /// Unique within this store; names the marker key that makes the merge apply it once.
    pub(super) id: u64,
    /// Sent to Redis at least once: frozen.
    sent: bool,
    /// Merge calls that carried it (none of which was acknowledged).
    pub(super) tries: u8,
    /// The latest success seen (0: none); applied to Redis before the failures.
    pub(super) reset_ms: u64,
    /// Failures answered by the fallback since that success.
    pub(super) count: u32,
    pub(super) first_ms: u64,
    pub(super) last_ms: u64,
    /// The fallback already notified the owner for these failures' streak.
    pub(super) notified: bool,
    /// A lock the fallback started (0: none; [`LOCKED_UNTIL_UNLOCKED`]; else its end).
    pub(super) lock_until_ms: u64,
    /// The hash of that lock's unlock token, which went to the owner.
    pub(super) token: Option<[u8; 32]>,
    /// The rule of the last failure (idle period and threshold for the merge).
    pub(super) rule: Rule,
}

impl Item {
    fn new(id: u64) -> Self {
        Item {
            id,
            sent: false,
            tries: 0,
            reset_ms: 0,
            count: 0,
            first_ms: 0,
            last_ms: 0,
            notified: false,
            lock_until_ms: 0,
            token: None,
            rule: NO_RULE,
        }
    }

    fn clear_failures(&mut self) {
        self.count = 0;
        self.notified = false;
        self.lock_until_ms = 0;
        self.token = None;
    }

    fn locked_at(&self, now_ms: u64) -> bool {
        self.lock_until_ms == LOCKED_UNTIL_UNLOCKED || self.lock_until_ms > now_ms
    }

    /// Whether there is anything left to write at `now_ms`: failures whose streak has not
    /// expired, or a reset. Expired failures are dropped (Redis would expire them too).
    pub(super) fn prune(&mut self, now_ms: u64) -> bool {
        if self.count > 0 && now_ms.saturating_sub(self.last_ms) >= self.rule.idle_ms {
            self.clear_failures();
        }
        self.count > 0 || self.reset_ms > 0
    }
}

/// The items of one key, and the subject they belong to (unknown for a reset noted by the
/// background task, which only has keys).
#[derive(Debug)]
pub(super) struct Entry {
    pub(super) subject: Option<Subject>,
    pub(super) items: Vec<Item>,
}

impl Entry {
    /// The item new operations go to: the last one, unless it was already sent.
    fn open_item(&mut self, ids: &AtomicU64) -> &mut Item {
        if self.items.last().is_none_or(|i| i.sent) {
            self.items
                .push(Item::new(ids.fetch_add(1, Ordering::Relaxed)));
        }
        let last = self.items.len() - 1;
        &mut self.items[last]
    }
}

/// The pending operations of a store, bounded by key count.
#[derive(Debug)]
pub(super) struct Pending {
    map: Mutex<HashMap<String, Entry>>,
    /// Keys in `map`, readable without the lock (the hot path only asks "anything?").
    len: AtomicUsize,
    capacity: usize,
    ids: AtomicU64,
}

impl Pending {
    pub(super) fn new(capacity: usize) -> Self {
        Pending {
            map: Mutex::new(HashMap::new()),
            len: AtomicUsize::new(0),
            capacity: capacity.max(1),
            ids: AtomicU64::new(0),
        }
    }

    /// Keys waiting to be merged.
    pub(super) fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    /// The entry of `key`, created if there is room. `None`: full, the operation is not
    /// remembered (the caller counts it).
    fn with_entry<R>(&self, key: &str, f: impl FnOnce(&mut Entry, &AtomicU64) -> R) -> Option<R> {
        let mut map = lock(&self.map);
        if !map.contains_key(key) {
            if map.len() >= self.capacity {
                return None;
            }
            map.insert(
                key.to_owned(),
                Entry {
                    subject: None,
                    items: Vec::new(),
                },
            );
            self.len.store(map.len(), Ordering::Relaxed);
        }
        map.get_mut(key).map(|e| f(e, &self.ids))
    }

    /// Notes a failure the fallback recorded (`recorded` is its answer). False when the list
    /// is full and `key` is not in it.
    pub(super) fn note_failure(
        &self,
        key: &str,
        subject: &Subject,
        rule: &Rule,
        now_ms: u64,
        recorded: &Recorded,
        token: Option<&TokenHash>,
    ) -> bool {
        self.with_entry(key, |entry, ids| {
            if entry.subject.is_none() {
                entry.subject = Some(subject.clone());
            }
            let item = entry.open_item(ids);
            if item.count > 0 && now_ms.saturating_sub(item.last_ms) >= rule.idle_ms {
                // Those failures' streak is over: only the new one matters.
                item.clear_failures();
            }
            if item.count == 0 {
                item.first_ms = now_ms;
                item.last_ms = now_ms;
            }
            item.count = item.count.saturating_add(1);
            item.first_ms = item.first_ms.min(now_ms);
            item.last_ms = item.last_ms.max(now_ms);
            item.notified |= recorded.notify;
            if recorded.newly_locked {
                item.lock_until_ms = recorded.streak.lock_until_ms;
                item.token = token.map(|t| t.0);
            }
            item.rule = *rule;
        })
        .is_some()
    }

    /// Notes a success at `success_ms` that Redis may not have seen. With `create` false only
    /// a key already pending is updated (its failures before the success are dropped now, as
    /// the fallback dropped them). False when it had to be created and the list was full.
    pub(super) fn note_reset(&self, key: &str, success_ms: u64, create: bool) -> bool {
        let reset = |entry: &mut Entry, ids: &AtomicU64| {
            let item = entry.open_item(ids);
            // The rule of Streak::reset_by_success: not while locked, never a later failure.
            if item.count > 0 && item.last_ms <= success_ms && !item.locked_at(success_ms) {
                item.clear_failures();
            }
            item.reset_ms = item.reset_ms.max(success_ms);
        };
        if create {
            return self.with_entry(key, reset).is_some();
        }
        if let Some(entry) = lock(&self.map).get_mut(key) {
            reset(entry, &self.ids);
        }
        true
    }

    /// Notes that the fallback lifted a lock it started (its token was used): the failures
    /// and the lock it noted for `key` are over. Nothing to do for a key not pending.
    pub(super) fn note_unlock(&self, key: &str) {
        let mut map = lock(&self.map);
        if let Some(item) = map
            .get_mut(key)
            .and_then(|e| e.items.last_mut())
            .filter(|i| !i.sent)
        {
            item.clear_failures();
        }
    }

    /// Takes up to `max` keys' entries for a merge; their items are frozen from now on, and
    /// count one more try.
    pub(super) fn take(&self, max: usize) -> Vec<(String, Entry)> {
        let mut map = lock(&self.map);
        let keys: Vec<String> = map.keys().take(max).cloned().collect();
        let taken = keys
            .into_iter()
            .filter_map(|k| map.remove_entry(&k))
            .map(|(k, mut e)| {
                for item in &mut e.items {
                    item.sent = true;
                    item.tries = item.tries.saturating_add(1);
                }
                (k, e)
            })
            .collect();
        self.len.store(map.len(), Ordering::Relaxed);
        taken
    }

    /// Returns entries a merge could not write, ahead of anything noted for their keys since
    /// (order matters: a reset noted later must apply after them). Never refused for lack of
    /// room: they were counted in already.
    pub(super) fn put_back(&self, entries: Vec<(String, Entry)>) {
        let mut map = lock(&self.map);
        for (key, mut entry) in entries {
            if let Some(newer) = map.remove(&key) {
                entry.items.extend(newer.items);
                entry.subject = entry.subject.or(newer.subject);
            }
            map.insert(key, entry);
        }
        self.len.store(map.len(), Ordering::Relaxed);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Every critical section is a few map updates that cannot panic half-way.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::streak::Streak;

    const RULE: Rule = Rule {
        idle_ms: 60_000,
        notify_at: 3,
        lock_after: 0,
        lock_ms: 0,
    };

    fn recorded(notify: bool) -> Recorded {
        Recorded {
            streak: Streak::default(),
            notify,
            newly_locked: false,
        }
    }

    fn fail(p: &Pending, key: &str, at: u64, notify: bool) -> bool {
        let s = Subject::account(key);
        p.note_failure(key, &s, &RULE, at, &recorded(notify), None)
    }

    fn items(p: &Pending, key: &str) -> Vec<Item> {
        lock(&p.map)
            .get(key)
            .map(|e| e.items.clone())
            .unwrap_or_default()
    }

    #[test]
    fn failures_accumulate_in_one_open_item() {
        let p = Pending::new(10);
        fail(&p, "k", 1000, false);
        fail(&p, "k", 999, false);
        fail(&p, "k", 1002, true);
        let i = &items(&p, "k")[0];
        assert_eq!(
            (i.count, i.first_ms, i.last_ms, i.notified),
            (3, 999, 1002, true)
        );
        assert_eq!(p.len(), 1);
    }

    #[test]
    fn a_sent_item_is_frozen_and_put_back_ahead_of_newer_ones() {
        let p = Pending::new(10);
        fail(&p, "k", 1000, false);
        let taken = p.take(8);
        assert_eq!(p.len(), 0);
        fail(&p, "k", 2000, false);
        p.note_reset("k", 3000, true);
        p.put_back(taken);
        let all = items(&p, "k");
        assert_eq!(all.len(), 2);
        assert_eq!(
            (all[0].count, all[0].last_ms, all[0].reset_ms),
            (1, 1000, 0)
        );
        // The newer item: its failure ended by the later success, which also applies to
        // the frozen item's failure in Redis (after it, by order).
        assert_eq!((all[1].count, all[1].reset_ms), (0, 3000));
        assert_ne!(all[0].id, all[1].id);
        // Sent again, the frozen item keeps its id (the script applies an id once).
        let again = p.take(8);
        assert_eq!(again[0].1.items[0].id, all[0].id);
    }

    #[test]
    fn a_success_drops_earlier_failures_but_never_a_later_one() {
        let p = Pending::new(10);
        fail(&p, "k", 1000, true);
        p.note_reset("k", 1500, false);
        let i = &items(&p, "k")[0];
        assert_eq!((i.count, i.notified, i.reset_ms), (0, false, 1500));
        fail(&p, "k", 2000, false);
        p.note_reset("k", 1999, false);
        assert_eq!(items(&p, "k")[0].count, 1);
        // Without `create`, a success for a key nobody failed against is not noted.
        p.note_reset("other", 5000, false);
        assert_eq!(p.len(), 1);
    }

    #[test]
    fn an_idle_gap_starts_the_item_over() {
        let p = Pending::new(10);
        fail(&p, "k", 1000, true);
        fail(&p, "k", 1000 + RULE.idle_ms, false);
        let i = &items(&p, "k")[0];
        assert_eq!((i.count, i.first_ms, i.notified), (1, 61_000, false));
        let mut i = i.clone();
        assert!(
            !i.prune(61_000 + RULE.idle_ms),
            "expired, and no reset to write"
        );
    }

    #[test]
    fn a_full_list_refuses_new_keys_but_not_known_ones() {
        let p = Pending::new(1);
        assert!(fail(&p, "a", 1000, false));
        assert!(!fail(&p, "b", 1000, false));
        assert!(!p.note_reset("b", 1000, true));
        assert!(fail(&p, "a", 1001, false));
        assert_eq!(items(&p, "a")[0].count, 2);
    }

    #[test]
    fn an_unlock_in_the_fallback_ends_what_it_noted() {
        let p = Pending::new(10);
        let s = Subject::account("k");
        let locking = Recorded {
            streak: Streak {
                lock_until_ms: LOCKED_UNTIL_UNLOCKED,
                ..Streak::default()
            },
            notify: false,
            newly_locked: true,
        };
        p.note_failure("k", &s, &RULE, 1000, &locking, Some(&TokenHash([7; 32])));
        assert_eq!(items(&p, "k")[0].token, Some([7; 32]));
        p.note_unlock("k");
        let i = &items(&p, "k")[0];
        assert_eq!((i.count, i.lock_until_ms, i.token), (0, 0, None));
    }
}
