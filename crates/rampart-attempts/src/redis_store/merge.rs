//! Writing what the fallback counted into Redis once Redis answers again, and the
//! notifications that merge owes (see the parent module's docs, "After an outage: the
//! merge").

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use redis::ScriptInvocation;

use super::pending::{Entry, Pending};
use super::{RedisStore, lock};
use crate::streak::{LOCKED_UNTIL_UNLOCKED, Owed, Streak};

/// Items written in one script call at most (two keys each).
const MERGE_BATCH: usize = 128;
/// Owed notifications kept at most; past it they are counted as undelivered.
const MAX_OWED: usize = 10_000;
/// Merge calls an item may ride in before it is given up. Merges are only sent once Redis
/// answers, so an item that fails this often is refused by a Redis that works (say, a key
/// under the prefix that is not a hash): without a limit it would hold every recovery back.
const MAX_TRIES: u8 = 8;

/// Notifications owed by merges, until a tracker call takes them.
#[derive(Debug, Default)]
pub(super) struct OwedQueue {
    queue: Mutex<VecDeque<Owed>>,
    len: AtomicUsize,
}

impl OwedQueue {
    /// False when the queue is full (the notification is lost; the caller counts it).
    fn push(&self, owed: Owed) -> bool {
        let mut q = lock(&self.queue);
        if q.len() >= MAX_OWED {
            return false;
        }
        q.push_back(owed);
        self.len.store(q.len(), Ordering::Relaxed);
        true
    }

    pub(super) fn pop(&self) -> Option<Owed> {
        if self.len.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let mut q = lock(&self.queue);
        let owed = q.pop_front();
        self.len.store(q.len(), Ordering::Relaxed);
        owed
    }
}

/// Entries taken for a merge: given back to the pending list unless the merge wrote them,
/// also when the merging future is dropped half-way.
struct Taken<'a> {
    pending: &'a Pending,
    entries: Vec<(String, Entry)>,
}

impl Drop for Taken<'_> {
    fn drop(&mut self) {
        if !self.entries.is_empty() {
            self.pending.put_back(std::mem::take(&mut self.entries));
        }
    }
}

impl RedisStore {
    /// After a call Redis answered: if an outage is to be ended or operations are pending,
    /// merges them in a background task (the request does not wait for it). One merge at a
    /// time per store; a call that finds one running leaves it to finish the work.
    pub(super) fn after_success(&self) {
        let recovering = lock(&self.inner.outage).down_since.is_some();
        if !recovering && self.inner.pending.len() == 0 {
            return;
        }
        let Ok(guard) = self.inner.merge_lock.clone().try_lock_owned() else {
            return;
        };
        let store = self.clone();
        self.inner.runtime.spawn(async move {
            let _guard = guard;
            store.merge_and_recover().await;
        });
    }

    /// Merges everything pending, then ends the outage if one is on (reporting what was
    /// merged). If a merge call fails, the outage goes on and what was not written stays
    /// pending.
    pub(super) async fn merge_and_recover(&self) {
        let recovering = lock(&self.inner.outage).down_since.is_some();
        if let Ok(merged) = self.merge_pending().await
            && recovering
        {
            self.mark_up(merged);
        }
    }

    /// Writes the pending operations into Redis, a batch per call. Returns the failures
    /// merged, or `Err(())` when a call failed (that batch went back to the pending list).
    async fn merge_pending(&self) -> Result<u64, ()> {
        let mut merged = 0;
        loop {
            let now_ms = self.inner.clock_ms.load(Ordering::Relaxed);
            // After a failed call, one subject per call until one succeeds: a key Redis
            // refuses then fails alone rather than with a whole batch.
            let narrow = self.inner.merge_narrow.load(Ordering::Relaxed);
            let mut taken = Taken {
                pending: &self.inner.pending,
                entries: self
                    .inner
                    .pending
                    .take(if narrow { 1 } else { MERGE_BATCH }),
            };
            if taken.entries.is_empty() {
                return Ok(merged);
            }
            let mut given_up = 0;
            for (_, entry) in &mut taken.entries {
                let before = entry.items.len();
                entry.items.retain(|i| i.tries <= MAX_TRIES);
                given_up += before - entry.items.len();
                // Only expired failures are dropped from a sent item: if an earlier call
                // wrote them, Redis has expired them too.
                entry.items.retain_mut(|i| i.prune(now_ms));
            }
            self.inner
                .counters
                .merge_dropped
                .fetch_add(given_up as u64, Ordering::Relaxed);
            let items: usize = taken.entries.iter().map(|(_, e)| e.items.len()).sum();
            if items == 0 {
                self.forget_in_fallback(&taken.entries);
                taken.entries.clear();
                continue;
            }
            let inv = self.merge_invocation(&taken.entries, now_ms);
            let rows = self
                .try_redis(|mut c| {
                    let inv = &inv;
                    async move { inv.invoke_async::<Vec<Vec<i64>>>(&mut c).await }
                })
                .await;
            let rows = match rows {
                // Anything else is not what merge.lua returns; sending again is safe.
                Ok(rows) if rows.len() == items => rows,
                _ => {
                    self.inner.merge_narrow.store(true, Ordering::Relaxed);
                    return Err(());
                }
            };
            self.inner.merge_narrow.store(false, Ordering::Relaxed);
            merged += self.apply_merged(&taken.entries, &rows);
            self.forget_in_fallback(&taken.entries);
            taken.entries.clear();
        }
    }

    fn merge_invocation(&self, entries: &[(String, Entry)], now_ms: u64) -> ScriptInvocation<'_> {
        let mut inv = self.inner.scripts.merge.prepare_invoke();
        inv.arg(now_ms);
        for (key, entry) in entries {
            for item in &entry.items {
                inv.key(key)
                    .key(format!("{}{}", self.inner.marker_prefix, item.id));
                let lock_arg = match item.lock_until_ms {
                    LOCKED_UNTIL_UNLOCKED => -1,
                    ms => i64::try_from(ms).unwrap_or(i64::MAX),
                };
                inv.arg(item.reset_ms)
                    .arg(item.count)
                    .arg(item.first_ms)
                    .arg(item.last_ms)
                    .arg(u8::from(item.notified))
                    .arg(lock_arg)
                    .arg(item.token.as_ref().map_or(&[][..], |t| &t[..]))
                    .arg(item.rule.idle_ms.max(1))
                    .arg(item.rule.notify_at);
            }
        }
        inv
    }

    /// Counts what the script applied and queues the notifications it owes. Returns the
    /// failures merged.
    fn apply_merged(&self, entries: &[(String, Entry)], rows: &[Vec<i64>]) -> u64 {
        let c = &self.inner.counters;
        let mut rows = rows.iter();
        let mut merged = 0;
        for (_, entry) in entries {
            for item in &entry.items {
                let Some(&[applied, crossed, count, first, last]) = rows.next().map(Vec::as_slice)
                else {
                    continue;
                };
                // 2: an earlier call whose reply was lost applied it; it counts here, once.
                if applied != 1 && applied != 2 {
                    continue;
                }
                merged += u64::from(item.count);
                let (Some(subject), 1) = (&entry.subject, crossed) else {
                    continue;
                };
                c.merge_notifications.fetch_add(1, Ordering::Relaxed);
                let streak = Streak {
                    count: u32::try_from(count).unwrap_or(u32::MAX),
                    first_ms: u64::try_from(first).unwrap_or(0),
                    last_ms: u64::try_from(last).unwrap_or(0),
                    notified: true,
                    lock_until_ms: 0,
                };
                let owed = Owed {
                    subject: subject.clone(),
                    streak,
                };
                if !self.inner.owed.push(owed) {
                    c.merge_notify_failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        c.merged_failures.fetch_add(merged, Ordering::Relaxed);
        merged
    }

    /// The fallback's streaks of merged subjects are in Redis now: a later outage must start
    /// from zero rather than count them (and perhaps notify for them) again. A failure the
    /// fallback answered while this merge ran is dropped from its view too, but not lost:
    /// it is pending, for the next merge.
    fn forget_in_fallback(&self, entries: &[(String, Entry)]) {
        for subject in entries.iter().filter_map(|(_, e)| e.subject.as_ref()) {
            self.inner.fallback.forget(subject);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use rampart_testkit::RedisServer;

    use super::*;
    use crate::policy::Rule;
    use crate::store::sealed::Backend;
    use crate::streak::Recorded;
    use crate::subject::Subject;
    use crate::{RedisConfig, RedisStore};

    const RULE: Rule = Rule {
        idle_ms: 3_600_000,
        notify_at: 5,
        lock_after: 0,
        lock_ms: 0,
    };
    const NOW: u64 = 1_767_225_600_000;

    /// A merge sent to a frozen server times out: it is kept, and sent again after the thaw.
    /// The server then runs both (the first, queued while frozen, and the second): the item
    /// is applied once, and the crossing the first claimed is still reported, once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_merge_that_timed_out_on_a_frozen_server_is_applied_once() {
        let Some(server) = RedisServer::start() else {
            return;
        };
        let config = RedisConfig::new(server.url())
            .with_timeout(Duration::from_millis(300))
            .with_probe_interval(Duration::from_millis(1));
        let store = RedisStore::connect(config).await.unwrap();
        let subject = Subject::account("frozen");
        let recorded = Recorded {
            streak: Streak::default(),
            notify: false,
            newly_locked: false,
        };
        // A first merge loads the script: the frozen server must be able to run the next
        // one late (EVALSHA of an unknown script would just fail).
        let other = Subject::account("loads-the-script");
        store.note_fallback_failure(&other, &RULE, NOW, &recorded, None);
        store.saw_time(NOW);
        assert_eq!(store.merge_pending().await, Ok(1));
        for i in 0..7 {
            store.note_fallback_failure(&subject, &RULE, NOW + i, &recorded, None);
        }
        store.saw_time(NOW + 10);

        server.signal("-STOP");
        assert!(
            store.merge_pending().await.is_err(),
            "no answer while frozen"
        );
        assert_eq!(store.inner.pending.len(), 1, "kept for the next merge");
        server.signal("-CONT");
        assert!(store.ping().await);

        assert_eq!(store.inner.pending.len(), 0);
        let mut conn = redis::Client::open(server.url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let count: u32 = redis::cmd("HGET")
            .arg(store.key_of(&subject))
            .arg("c")
            .query_async(&mut conn)
            .await
            .unwrap();
        assert_eq!(count, 7, "applied once");
        let owed = store.take_owed().expect("the crossing is reported");
        assert_eq!((owed.streak.count, owed.streak.first_ms), (7, NOW));
        assert!(store.take_owed().is_none(), "and only once");
        assert_eq!(store.health().merged_failures, 8);
    }

    /// A key Redis refuses (a string where a hash belongs) fails its merge calls alone and
    /// is given up after `MAX_TRIES`; another subject caught in its first batch is merged,
    /// and the outage ends.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_key_redis_refuses_is_given_up_without_holding_others_back() {
        let Some(server) = RedisServer::start() else {
            return;
        };
        let config = RedisConfig::new(server.url()).with_probe_interval(Duration::from_millis(1));
        let store = RedisStore::connect(config).await.unwrap();
        let (poisoned, innocent) = (Subject::account("poisoned"), Subject::account("innocent"));
        let mut conn = redis::Client::open(server.url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let () = redis::cmd("SET")
            .arg(store.key_of(&poisoned))
            .arg("not a hash")
            .query_async(&mut conn)
            .await
            .unwrap();
        let recorded = Recorded {
            streak: Streak::default(),
            notify: false,
            newly_locked: false,
        };
        for s in [&poisoned, &innocent] {
            store.note_fallback_failure(s, &RULE, NOW, &recorded, None);
        }
        store.saw_time(NOW);
        let mut outcome = Err(());
        for _ in 0..=MAX_TRIES {
            tokio::time::sleep(Duration::from_millis(2)).await; // the next probe is due
            outcome = store.merge_pending().await;
            if outcome.is_ok() {
                break;
            }
        }
        assert!(outcome.is_ok(), "given up within the tries");
        let count: u32 = redis::cmd("HGET")
            .arg(store.key_of(&innocent))
            .arg("c")
            .query_async(&mut conn)
            .await
            .unwrap();
        assert_eq!(count, 1);
        let h = store.health();
        assert_eq!((h.merge_dropped, h.merge_pending), (1, 0), "{h:?}");
        assert_eq!(h.merged_failures, 1);
    }

    /// Items whose failures expired before the merge write nothing (Redis would expire them).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn expired_failures_are_not_merged() {
        let Some(server) = RedisServer::start() else {
            return;
        };
        let store = RedisStore::connect(RedisConfig::new(server.url()))
            .await
            .unwrap();
        let subject = Subject::account("stale");
        let recorded = Recorded {
            streak: Streak::default(),
            notify: false,
            newly_locked: false,
        };
        store.note_fallback_failure(&subject, &RULE, NOW, &recorded, None);
        store.saw_time(NOW + RULE.idle_ms);
        assert_eq!(store.merge_pending().await, Ok(0));
        assert_eq!(store.inner.pending.len(), 0);
        let mut conn = redis::Client::open(server.url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let exists: bool = redis::cmd("EXISTS")
            .arg(store.key_of(&subject))
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(!exists);
    }
}
