//! The in-memory store: sharded, bounded, expiring, flood-resistant eviction.
//!
//! # Memory
//!
//! A subject is stored as a 64-bit keyed hash (SipHash-1-3 with a per-store random key, so
//! an attacker cannot aim collisions at a victim; a chance collision between two subjects
//! needs about 2^32 tracked subjects) and a 24-byte record (two millisecond timestamps, a
//! packed count/kind/notified word, a lock end in seconds). A hash-table slot is 33 bytes;
//! tables keep at least 1/8 of their slots free and double when they grow, so a tracked
//! subject costs between 38 and [`MAX_BYTES_PER_SUBJECT`] (76) bytes, plus a fixed 128 bytes
//! per shard. Ids are not stored: the memory per subject does not depend on their length.
//! [`MemoryStore::heap_bytes`] reports the current figure.
//!
//! # Eviction (why a flood of fresh subjects cannot wipe a victim's streak)
//!
//! Each shard holds at most `capacity / shards` subjects, and **a new subject is always
//! tracked**: when it arrives at a full shard, the shard first drops expired streaks, then
//! evicts live ones in this order:
//!
//! 1. **Unprotected streaks** (below [`MemoryConfig::with_protect_at`], default 5 failures),
//!    **lowest counts first, oldest last failure first among equal counts**: one eighth of
//!    the shard when that many are unprotected, otherwise only the lowest count present.
//!    A flood of fresh subjects makes count-1 entries, which are the first to go, so to push
//!    out a victim at count `k` the attacker must keep the evictable entries at counts of at
//!    least `k`: about `k` failures per evicted slot.
//! 2. **Protected streaks** (at or above `protect_at`), when step 1 freed fewer than a
//!    minimum batch (1/64 of the shard, at least 4): those with the **oldest last failure**,
//!    taken from the subject kind that holds the most protected streaks in the shard (a
//!    per-kind budget: a flood of fresh (key, IP) pairs evicts pairs before it touches an
//!    account's or a key's streak). Counted in [`MemoryStats::evicted_protected`].
//!
//! Why protected streaks can go at all: if they could not, an attacker who brought
//! `protect_at × capacity` fresh subjects to the protection level would fill the store,
//! and from then on no new subject could be tracked: unlimited guessing against every new
//! victim. Why the oldest last failure: a victim under active attack keeps a recent last
//! failure (each guess refreshes it), so to push it out the attacker must first refresh
//! every other protected streak of its kind in the shard, about `protect_at × capacity`
//! failures since the victim's last one, and the prize is only a fresh set of free attempts
//! for that victim. A streak nobody has failed against for a while is the cheapest loss.
//! Once the store is saturated, fresh flood entries mostly evict each other (step 1), so a
//! new victim's streak grows past count 1 and is throttled like any other.
//! LRU would be the wrong choice for step 1: it evicts exactly the victim's old streak
//! in favour of the attacker's fresh ones.
//!
//! Each eviction frees at least the minimum batch, so the O(n) sweep of a shard is
//! amortized over many inserts.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use std::collections::hash_map::RandomState;

use crate::policy::Rule;
use crate::streak::{LOCKED_UNTIL_UNLOCKED, Recorded, Streak};
use crate::subject::Subject;
use crate::token::TokenHash;

/// Upper bound on heap bytes per tracked subject (see the module docs), excluding the fixed
/// per-shard overhead and unlock-token hashes of currently locked subjects (40 bytes each).
pub const MAX_BYTES_PER_SUBJECT: usize = 76;

/// Counts above this are pinned (the packed record keeps 28 bits).
const MAX_COUNT: u32 = (1 << 28) - 1;
const KIND_SHIFT: u32 = 28;
const NOTIFIED_BIT: u32 = 1 << 31;
/// A shard's slot: 8-byte key + 24-byte record + 1 control byte.
const SLOT_BYTES: usize = 8 + std::mem::size_of::<Entry>() + 1;

/// Configuration of a [`MemoryStore`].
///
/// ```
/// use rampart_attempts::{MemoryConfig, MemoryStore};
/// let store = MemoryStore::new(MemoryConfig::default().with_capacity(10_000).with_protect_at(3));
/// assert_eq!(store.len(), 0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MemoryConfig {
    /// Subjects to track (default 1,000,000, about 69 MB when full). Each shard holds its
    /// share plus four standard deviations of hashing imbalance (about 3% more at the
    /// default), so this many distinct subjects fit without eviction.
    pub capacity: usize,
    /// Number of shards (rounded up to a power of two, default 64).
    pub shards: usize,
    /// Streaks at or above this count are evicted only when nothing below it can be, oldest
    /// last failure first (default 5; see the module docs).
    pub protect_at: u32,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        MemoryConfig {
            capacity: 1_000_000,
            shards: 64,
            protect_at: 5,
        }
    }
}

impl MemoryConfig {
    /// Sets the capacity (at least one subject per shard).
    #[must_use]
    pub fn with_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    /// Sets the number of shards (1 to 4096, rounded up to a power of two).
    #[must_use]
    pub fn with_shards(mut self, shards: usize) -> Self {
        self.shards = shards;
        self
    }

    /// Sets the count at which streaks become protected (at least 2): evicted only after
    /// every lower streak, oldest last failure first.
    #[must_use]
    pub fn with_protect_at(mut self, count: u32) -> Self {
        self.protect_at = count;
        self
    }
}

/// Counters of a [`MemoryStore`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MemoryStats {
    /// Subjects currently tracked.
    pub tracked: usize,
    /// Streaks evicted to make room (expired ones not included), protected ones included.
    pub evicted: u64,
    /// Of `evicted`, streaks at or above [`MemoryConfig::with_protect_at`]: a store that evicts
    /// these is saturated (raise the capacity, or look for a flood).
    pub evicted_protected: u64,
}

/// A bounded in-memory store for one process (or the per-replica fallback of the Redis
/// store). All operations complete without awaiting anything: no async runtime is needed.
///
/// ```
/// use std::time::SystemTime;
/// use rampart_attempts::{MemoryStore, Subject, Tracker};
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
/// # }
/// let tracker = Tracker::new(MemoryStore::default());
/// let out = block_on(tracker.record_failure(&Subject::account("ann"), SystemTime::now()))?;
/// assert_eq!(out.count, 1);
/// # Ok::<(), rampart_attempts::Error>(())
/// ```
#[derive(Debug)]
pub struct MemoryStore {
    shards: Box<[Padded]>,
    shard_shift: u32,
    hasher: RandomState,
    per_shard: usize,
    protect_at: u32,
    evicted: AtomicU64,
    evicted_protected: AtomicU64,
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::new(MemoryConfig::default())
    }
}

/// A shard on its own cache lines, so threads working on neighbouring shards do not
/// invalidate each other's lock word (false sharing).
#[derive(Debug, Default)]
#[repr(align(128))]
struct Padded(Mutex<Shard>);

/// One subject's record, packed (see the module docs for the byte count).
#[derive(Clone, Copy, Debug)]
struct Entry {
    last_ms: u64,
    first_ms: u64,
    /// count (28 bits) | kind (3 bits) | notified (1 bit).
    meta: u32,
    /// 0: not locked; u32::MAX: until unlocked; else the lock's end in Unix seconds.
    lock_until_s: u32,
}

impl Entry {
    fn count(&self) -> u32 {
        self.meta & MAX_COUNT
    }

    fn kind(&self) -> usize {
        ((self.meta >> KIND_SHIFT) & 0b111) as usize
    }

    fn to_streak(self) -> Streak {
        Streak {
            count: self.count(),
            first_ms: self.first_ms,
            last_ms: self.last_ms,
            notified: self.meta & NOTIFIED_BIT != 0,
            lock_until_ms: match self.lock_until_s {
                0 => 0,
                u32::MAX => LOCKED_UNTIL_UNLOCKED,
                s => u64::from(s) * 1000,
            },
        }
    }

    fn from_streak(s: &Streak, kind: usize) -> Self {
        let kind_bits = u32::try_from(kind & 0b111).unwrap_or(0) << KIND_SHIFT;
        let notified = if s.notified { NOTIFIED_BIT } else { 0 };
        let lock_until_s = match s.lock_until_ms {
            0 => 0,
            LOCKED_UNTIL_UNLOCKED => u32::MAX,
            // Round up so a lock never ends early; pin far futures below the sentinel.
            ms => u32::try_from(ms.div_ceil(1000))
                .unwrap_or(u32::MAX - 1)
                .min(u32::MAX - 1),
        };
        Entry {
            last_ms: s.last_ms,
            first_ms: s.first_ms,
            meta: s.count.min(MAX_COUNT) | kind_bits | notified,
            lock_until_s,
        }
    }
}

/// The keys are already keyed SipHash values: pass them through, rotated so the hash table
/// sees bits that do not select the shard.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0.rotate_left(32)
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are hashed; fold anything else in for completeness.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type Map<V> = HashMap<u64, V, BuildHasherDefault<PassThrough>>;

#[derive(Debug, Default)]
struct Shard {
    map: Map<Entry>,
    /// Unlock-token hashes of locked subjects only (rare), so records stay small.
    tokens: Map<[u8; 32]>,
    /// Idle expiry per subject kind, learnt from the rules of recorded failures.
    idle_ms: [u64; 5],
}

impl MemoryStore {
    /// A store with `config` (out-of-range values are clamped: 1 to 4096 shards, capacity
    /// at least one per shard, `protect_at` at least 2).
    pub fn new(config: MemoryConfig) -> Self {
        let shards = config.shards.clamp(1, 4096).next_power_of_two();
        // Hashing spreads subjects unevenly: give each shard four standard deviations of
        // room beyond its share, so `capacity` distinct subjects fit without eviction.
        let share = config.capacity.div_ceil(shards).max(1);
        let per_shard = if shards == 1 {
            share
        } else {
            share + 4 * share.isqrt()
        };
        let shard_shift = 64 - shards.trailing_zeros();
        MemoryStore {
            shards: (0..shards).map(|_| Padded::default()).collect(),
            shard_shift,
            hasher: RandomState::new(),
            per_shard,
            protect_at: config.protect_at.max(2),
            evicted: AtomicU64::new(0),
            evicted_protected: AtomicU64::new(0),
        }
    }

    /// Subjects currently tracked (expired ones count until they are purged or replaced).
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(&s.0).map.len()).sum()
    }

    /// True when no subject is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Counters: tracked, evicted, evicted while protected.
    pub fn stats(&self) -> MemoryStats {
        MemoryStats {
            tracked: self.len(),
            evicted: self.evicted.load(Ordering::Relaxed),
            evicted_protected: self.evicted_protected.load(Ordering::Relaxed),
        }
    }

    /// Heap bytes held by the tables now, computed from their capacities (hash-table
    /// layout: one slot of key, record and control byte per bucket, buckets a power of two
    /// with 1/8 kept free).
    pub fn heap_bytes(&self) -> usize {
        let fixed = self.shards.len() * std::mem::size_of::<Padded>();
        let tables: usize = self
            .shards
            .iter()
            .map(|s| {
                let s = lock(&s.0);
                table_bytes(s.map.capacity(), SLOT_BYTES) + table_bytes(s.tokens.capacity(), 41)
            })
            .sum();
        fixed + tables
    }

    /// Drops every streak that has expired at `now` (they are also dropped lazily when
    /// touched or when a shard fills up; call this from a timer to return memory sooner).
    /// Returns how many were dropped.
    pub fn purge_expired(&self, now: std::time::SystemTime) -> usize {
        let now_ms = crate::clock::unix_ms(now);
        self.shards
            .iter()
            .map(|s| lock(&s.0).purge_expired(now_ms))
            .sum()
    }

    fn locate(&self, subject: &Subject) -> (u64, MutexGuard<'_, Shard>) {
        let h = self.hasher.hash_one(subject);
        let idx = if self.shard_shift >= 64 {
            0
        } else {
            usize::try_from(h >> self.shard_shift).unwrap_or(0)
        };
        (h, lock(&self.shards[idx].0))
    }

    /// Records a failure; when it newly locks the subject, stores `token` under the same
    /// shard lock (no lock without its token).
    pub(crate) fn record_failure(
        &self,
        subject: &Subject,
        rule: &Rule,
        now_ms: u64,
        token: Option<&TokenHash>,
    ) -> Recorded {
        let kind = subject.kind().index();
        let (h, mut shard) = self.locate(subject);
        shard.idle_ms[kind] = rule.idle_ms;
        if let Some(e) = shard.map.get_mut(&h) {
            let mut s = e.to_streak();
            let was_expired = s.expired(rule.idle_ms, now_ms);
            let r = s.record_failure(rule, now_ms);
            *e = Entry::from_streak(&s, kind);
            if was_expired || r.newly_locked {
                // A new streak or a new lock: an older lock's token must not lift it.
                shard.tokens.remove(&h);
            }
            if let (true, Some(t)) = (r.newly_locked, token) {
                shard.tokens.insert(h, t.0);
            }
            return r;
        }
        let mut s = Streak::default();
        let r = s.record_failure(rule, now_ms);
        if shard.map.len() >= self.per_shard {
            let (low, high) = shard.make_room(self.per_shard, self.protect_at, now_ms);
            self.evicted
                .fetch_add((low + high) as u64, Ordering::Relaxed);
            self.evicted_protected
                .fetch_add(high as u64, Ordering::Relaxed);
        }
        // make_room always frees a slot in a full shard: a new subject is always tracked.
        shard.map.insert(h, Entry::from_streak(&s, kind));
        if let (true, Some(t)) = (r.newly_locked, token) {
            shard.tokens.insert(h, t.0);
        }
        r
    }

    pub(crate) fn peek(&self, subject: &Subject, idle_ms: u64, now_ms: u64) -> Option<Streak> {
        let (h, shard) = self.locate(subject);
        let s = shard.map.get(&h)?.to_streak();
        (!s.expired(idle_ms, now_ms)).then_some(s)
    }

    pub(crate) fn reset(&self, subject: &Subject, success_ms: u64) {
        let (h, mut shard) = self.locate(subject);
        if shard
            .map
            .get(&h)
            .is_some_and(|e| e.to_streak().reset_by_success(success_ms))
        {
            shard.map.remove(&h);
            shard.tokens.remove(&h);
        }
    }

    /// Lifts the lock and ends the streak when `hash` matches (constant time). Single use:
    /// the stored hash is removed with the streak.
    pub(crate) fn unlock(&self, subject: &Subject, hash: &TokenHash) -> bool {
        let (h, mut shard) = self.locate(subject);
        let matches = shard
            .tokens
            .get(&h)
            .is_some_and(|stored| hash.ct_eq(stored));
        if matches {
            shard.tokens.remove(&h);
            shard.map.remove(&h);
        }
        matches
    }

    /// Forgets `subject`'s streak and token (the Redis store, once it has merged them into
    /// Redis: a later outage must not count them a second time).
    #[cfg(feature = "redis")]
    pub(crate) fn forget(&self, subject: &Subject) {
        let (h, mut shard) = self.locate(subject);
        shard.map.remove(&h);
        shard.tokens.remove(&h);
    }

    /// Forgets everything (tests, or an operator's "clear all").
    pub fn clear(&self) {
        for s in &*self.shards {
            let mut s = lock(&s.0);
            s.map = Map::default();
            s.tokens = Map::default();
        }
    }
}

impl Shard {
    fn purge_expired(&mut self, now_ms: u64) -> usize {
        let idle = self.idle_ms;
        let before = self.map.len();
        self.map
            .retain(|_, e| !e.to_streak().expired(idle[e.kind()], now_ms));
        self.drop_orphan_tokens();
        before - self.map.len()
    }

    fn drop_orphan_tokens(&mut self) {
        if !self.tokens.is_empty() {
            let map = &self.map;
            self.tokens.retain(|k, _| map.contains_key(k));
        }
    }

    /// Frees room in a full shard (see the module docs). Returns how many live streaks were
    /// evicted: (below `protect_at`, at or above it). Frees at least one slot when the
    /// shard is full; amortized O(1) per insert: one O(n) sweep frees at least
    /// [`min_batch`] slots.
    fn make_room(&mut self, per_shard: usize, protect_at: u32, now_ms: u64) -> (usize, usize) {
        self.purge_expired(now_ms);
        if self.map.len() < per_shard {
            return (0, 0);
        }
        let batch = min_batch(per_shard);
        let target = (per_shard / 8).max(batch);
        // Histogram of counts below the protection level.
        let mut hist = vec![0usize; protect_at as usize];
        for e in self.map.values() {
            let c = e.count() as usize;
            if c < hist.len() {
                hist[c] += 1;
            }
        }
        let unprotected: usize = hist.iter().sum();
        let low = if unprotected >= target {
            // Smallest count level `t` such that evicting every count below t plus the
            // oldest at t reaches the target.
            let mut below = 0usize;
            let mut level = 0usize;
            for (c, n) in hist.iter().enumerate() {
                level = c;
                if below + n >= target {
                    break;
                }
                below += n;
            }
            let at_level = target.saturating_sub(below).min(hist[level]);
            self.evict_oldest(
                at_level,
                |e| e.count() as usize == level,
                |e| (e.count() as usize) < level,
            )
        } else if let Some(level) = hist.iter().position(|n| *n > 0) {
            // Few unprotected streaks (a saturated store): only the lowest count goes, so a
            // new victim whose count has grown outlives the flood's fresh count-1 entries.
            self.evict_oldest(0, |_| false, |e| e.count() as usize == level)
        } else {
            0
        };
        let mut high = 0usize;
        while low + high < batch {
            let n = self.evict_oldest_protected(batch - low - high, protect_at);
            if n == 0 {
                break;
            }
            high += n;
        }
        self.drop_orphan_tokens();
        (low, high)
    }

    /// Evicts up to `n` protected streaks with the oldest last failure, of the kind holding
    /// the most protected streaks (the per-kind budget of the module docs).
    fn evict_oldest_protected(&mut self, n: usize, protect_at: u32) -> usize {
        let mut per_kind = [0usize; 8];
        for e in self.map.values().filter(|e| e.count() >= protect_at) {
            per_kind[e.kind()] += 1;
        }
        let Some((kind, _)) = per_kind
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .max_by_key(|(_, c)| **c)
        else {
            return 0;
        };
        self.evict_oldest(
            n,
            |e| e.count() >= protect_at && e.kind() == kind,
            |_| false,
        )
    }

    /// Evicts every entry `always` selects, plus the `n` entries with the oldest last
    /// failure among those `candidate` selects. Returns how many were evicted.
    fn evict_oldest(
        &mut self,
        n: usize,
        candidate: impl Fn(&Entry) -> bool,
        always: impl Fn(&Entry) -> bool,
    ) -> usize {
        let before = self.map.len();
        if n == 0 {
            self.map.retain(|_, e| !always(e));
            return before - self.map.len();
        }
        let mut lasts: Vec<u64> = self
            .map
            .values()
            .filter(|e| candidate(e))
            .map(|e| e.last_ms)
            .collect();
        let n = n.min(lasts.len());
        if n == 0 {
            self.map.retain(|_, e| !always(e));
            return before - self.map.len();
        }
        let (_, cutoff, _) = lasts.select_nth_unstable(n - 1);
        let cutoff = *cutoff;
        // Everything older than the cutoff goes, then just enough of the ties at it.
        let older = lasts.iter().filter(|l| **l < cutoff).count();
        let mut ties_left = n - older;
        self.map.retain(|_, e| {
            if always(e) {
                return false;
            }
            if candidate(e) {
                if e.last_ms < cutoff {
                    return false;
                }
                if e.last_ms == cutoff && ties_left > 0 {
                    ties_left -= 1;
                    return false;
                }
            }
            true
        });
        before - self.map.len()
    }
}

/// The fewest slots one eviction frees: 1/64 of a shard, at least 4 (all of a tiny shard).
fn min_batch(per_shard: usize) -> usize {
    (per_shard / 64).max(4).min(per_shard)
}

/// Bytes of a hashbrown table able to hold `capacity` items: buckets a power of two with
/// 7/8 usable, a slot and a control byte per bucket, plus one SIMD group of control bytes.
fn table_bytes(capacity: usize, slot_bytes: usize) -> usize {
    if capacity == 0 {
        return 0;
    }
    let buckets = if capacity < 8 {
        capacity + 1
    } else {
        (capacity * 8 / 7).next_power_of_two()
    };
    buckets.next_power_of_two() * slot_bytes + 16
}

fn lock(m: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    // A panic while holding the lock cannot leave a shard inconsistent (every update is a
    // single insert/replace), so a poisoned lock is still usable.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: Rule = Rule {
        idle_ms: 3_600_000,
        notify_at: 20,
        lock_after: 0,
        lock_ms: 0,
    };

    fn fail_n(store: &MemoryStore, s: &Subject, n: u32, now_ms: u64) -> u32 {
        (0..n)
            .map(|_| store.record_failure(s, &RULE, now_ms, None).streak.count)
            .last()
            .unwrap_or(0)
    }

    #[test]
    fn entry_record_is_24_bytes() {
        assert_eq!(std::mem::size_of::<Entry>(), 24);
        assert_eq!(SLOT_BYTES, 33);
        // Worst case: a table that just doubled holds 7/16 of its buckets.
        const { assert!(SLOT_BYTES * 16 / 7 <= MAX_BYTES_PER_SUBJECT) };
    }

    #[test]
    fn flood_of_fresh_subjects_does_not_evict_a_victim_streak() {
        let store = MemoryStore::new(MemoryConfig::default().with_capacity(64).with_shards(1));
        let victim = Subject::account("victim");
        assert_eq!(fail_n(&store, &victim, 2, 1000), 2);
        for i in 0..10_000 {
            store.record_failure(
                &Subject::account(format!("flood{i}")),
                &RULE,
                2000 + i,
                None,
            );
        }
        assert!(store.len() <= 64);
        assert_eq!(
            store.peek(&victim, RULE.idle_ms, 20_000).map(|s| s.count),
            Some(2)
        );
        assert!(store.stats().evicted > 0);
    }

    #[test]
    fn victim_under_active_attack_survives_a_saturating_flood() {
        let store = MemoryStore::new(
            MemoryConfig::default()
                .with_capacity(64)
                .with_shards(1)
                .with_protect_at(3),
        );
        let victim = Subject::account("victim");
        let idle = Subject::account("idle");
        fail_n(&store, &victim, 3, 1000);
        fail_n(&store, &idle, 3, 1000);
        // The flood brings 2000 fresh subjects (of the victim's kind) to the protection
        // level: 30 x capacity failures. The attack on the victim goes on meanwhile.
        let mut now = 2000;
        let mut expected = 3;
        for i in 0..2000u64 {
            now += 10;
            fail_n(&store, &Subject::account(format!("a{i}")), 3, now);
            if i % 8 == 0 {
                expected += 1;
                assert_eq!(fail_n(&store, &victim, 1, now), expected, "flood {i}");
            }
        }
        assert!(store.len() <= 64);
        assert!(
            store.stats().evicted_protected > 0,
            "the flood saturated the shard"
        );
        assert_eq!(
            store.peek(&victim, RULE.idle_ms, now).map(|s| s.count),
            Some(expected),
            "the victim's streak was never wiped"
        );
        assert!(
            store.peek(&idle, RULE.idle_ms, now).is_none(),
            "the streak nobody failed against for longest went first"
        );
    }

    #[test]
    fn flood_of_one_kind_evicts_its_own_kind_before_another_kinds_protected_streak() {
        let store = MemoryStore::new(
            MemoryConfig::default()
                .with_capacity(64)
                .with_shards(1)
                .with_protect_at(3),
        );
        // An account streak nobody has failed against since: the oldest in the shard.
        let account = Subject::account("ann");
        fail_n(&store, &account, 3, 1000);
        let ip = "198.51.100.1".parse().unwrap();
        for i in 0..1000u64 {
            fail_n(
                &store,
                &Subject::account_from_ip(format!("p{i}"), ip),
                3,
                2000 + i,
            );
        }
        assert!(store.stats().evicted_protected > 900);
        assert_eq!(
            store.peek(&account, RULE.idle_ms, 5000).map(|s| s.count),
            Some(3)
        );
    }

    #[test]
    fn full_shard_always_admits_a_new_subject() {
        let store = MemoryStore::new(
            MemoryConfig::default()
                .with_capacity(16)
                .with_shards(1)
                .with_protect_at(2),
        );
        for i in 0..16u64 {
            fail_n(&store, &Subject::account(format!("p{i}")), 2, 1000 + i);
        }
        let fresh = Subject::account("fresh");
        store.record_failure(&fresh, &RULE, 5000, None);
        assert_eq!(
            store.peek(&fresh, RULE.idle_ms, 5000).map(|s| s.count),
            Some(1)
        );
        assert_eq!(store.stats().evicted_protected, 4, "one minimum batch");
        assert!(store.len() <= 16);
    }

    #[test]
    fn expired_entries_are_purged_first() {
        let store = MemoryStore::new(MemoryConfig::default().with_capacity(8).with_shards(1));
        for i in 0..8 {
            fail_n(&store, &Subject::account(format!("old{i}")), 3, 0);
        }
        let fresh = Subject::account("fresh");
        let later = RULE.idle_ms + 1;
        store.record_failure(&fresh, &RULE, later, None);
        assert_eq!(store.len(), 1);
        assert_eq!(store.stats().evicted, 0);
        assert_eq!(store.purge_expired(std::time::UNIX_EPOCH), 0);
    }

    #[test]
    fn the_locking_failure_stores_its_token_and_a_new_lock_drops_an_old_one() {
        let rule = Rule {
            idle_ms: 3_600_000,
            notify_at: 0,
            lock_after: 2,
            lock_ms: 10_000,
        };
        let store = MemoryStore::default();
        let s = Subject::account("kim");
        let (t1, t2) = (TokenHash([1; 32]), TokenHash([2; 32]));
        assert!(!store.record_failure(&s, &rule, 0, Some(&t1)).newly_locked);
        assert!(
            !store.unlock(&s, &t1),
            "no lock yet: the candidate was not kept"
        );
        assert!(store.record_failure(&s, &rule, 1, Some(&t1)).newly_locked);
        assert!(!store.record_failure(&s, &rule, 2, Some(&t2)).newly_locked);
        // The timed lock ended; the next failure locks again with its own token.
        assert!(
            store
                .record_failure(&s, &rule, 20_000, Some(&t2))
                .newly_locked
        );
        assert!(!store.unlock(&s, &t1), "the first lock's token is gone");
        assert!(store.unlock(&s, &t2));
        // A lock started without a token keeps no stale one either.
        store.record_failure(&s, &rule, 30_000, Some(&t1));
        store.record_failure(&s, &rule, 30_001, Some(&t1));
        store.record_failure(&s, &rule, 50_000, None);
        assert!(!store.unlock(&s, &t1));
    }

    #[test]
    fn lock_end_is_rounded_up_to_the_second() {
        let s = Streak {
            count: 1,
            lock_until_ms: 1_500,
            ..Streak::default()
        };
        assert_eq!(Entry::from_streak(&s, 0).to_streak().lock_until_ms, 2_000);
        let u = Streak {
            count: 1,
            lock_until_ms: LOCKED_UNTIL_UNLOCKED,
            ..Streak::default()
        };
        assert_eq!(
            Entry::from_streak(&u, 0).to_streak().lock_until_ms,
            LOCKED_UNTIL_UNLOCKED
        );
    }
}
