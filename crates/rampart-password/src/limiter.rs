//! Bounded concurrency for memory-hard hashing, with argon2 working memory that is
//! allocated once, reused, and wiped after every hash.
//!
//! argon2 needs `m` KiB per hash and one core: past one hash per core, throughput falls and
//! memory grows with every waiting login (RFC 9106 section 4 sizes `m` to what the server can
//! afford *per concurrent hash*). The limiter owns a fixed number of workers (slots), sized by a
//! memory budget and the core count. Each slot owns a buffer of blocks big enough for the
//! current parameters; a hash borrows a slot, fills its blocks, and the blocks it touched are
//! zeroized before the slot is handed to the next caller (the `argon2` crate leaves its blocks
//! in freed memory otherwise).
//!
//! The budget holds for every job. Each slot reserves its share of the budget whether or not
//! its buffer is allocated; what no slot reserves is *spare*. A job that needs memory of its own
//! (a stored hash with a larger `m`, scrypt) takes it from the spare budget first and then from
//! further slots, whose buffers it frees (wiped) before allocating; its temporary buffer is
//! wiped before it is freed and before the budget is given back. Jobs are served in arrival
//! order once one has to wait, so a job needing several slots is not starved by a stream of
//! one-slot jobs.
//!
//! Async calls (feature `tokio`) wait in the queue of the limiter's own threads, one per
//! worker (`pool`), and count against `max_queue` there like synchronous callers waiting here.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use argon2::Block;
use zeroize::Zeroize;

use crate::error::{ConfigError, Error};

/// Default memory budget for argon2 working memory: 256 MiB.
pub const DEFAULT_MEMORY_BUDGET: usize = 256 * 1024 * 1024;

/// How many hashes may run at once.
///
/// Workers = min(`max_workers` or the number of cores, `memory_budget_bytes` / memory of one
/// hash at the current parameters), at least 1.
///
/// ```
/// use rampart_password::LimiterConfig;
/// let cfg = LimiterConfig::default().with_memory_budget_bytes(64 << 20).with_max_workers(2);
/// # let _ = cfg;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct LimiterConfig {
    /// Bytes of argon2 working memory the workers may hold together. Default 256 MiB.
    pub memory_budget_bytes: usize,
    /// Upper bound on workers; `None` means the number of cores.
    pub max_workers: Option<usize>,
    /// Callers allowed to wait for a worker before [`Error::Overloaded`]; `None` = no bound.
    pub max_queue: Option<usize>,
}

impl Default for LimiterConfig {
    fn default() -> Self {
        Self {
            memory_budget_bytes: DEFAULT_MEMORY_BUDGET,
            max_workers: None,
            max_queue: None,
        }
    }
}

impl LimiterConfig {
    /// Sets the memory budget in bytes.
    #[must_use]
    pub fn with_memory_budget_bytes(mut self, bytes: usize) -> Self {
        self.memory_budget_bytes = bytes;
        self
    }

    /// Sets the maximum number of workers.
    #[must_use]
    pub fn with_max_workers(mut self, workers: usize) -> Self {
        self.max_workers = Some(workers);
        self
    }

    /// Sets how many callers may wait before new ones get [`Error::Overloaded`].
    #[must_use]
    pub fn with_max_queue(mut self, waiting: usize) -> Self {
        self.max_queue = Some(waiting);
        self
    }
}

/// Bytes of working memory allocated right now, and the most ever allocated at once.
#[derive(Debug, Default)]
pub(crate) struct Meter {
    held: AtomicUsize,
    peak: AtomicUsize,
}

impl Meter {
    fn add(&self, bytes: usize) {
        let now = self.held.fetch_add(bytes, Ordering::SeqCst) + bytes;
        self.peak.fetch_max(now, Ordering::SeqCst);
    }

    fn sub(&self, bytes: usize) {
        self.held.fetch_sub(bytes, Ordering::SeqCst);
    }

    #[cfg(test)]
    pub(crate) fn held(&self) -> usize {
        self.held.load(Ordering::SeqCst)
    }

    #[cfg(test)]
    pub(crate) fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }
}

/// argon2 working memory: metered, and zeroized before it is freed on every path that drops it
/// (a slot freed for a larger job, a temporary buffer, a panic, the limiter itself).
struct Buffer {
    blocks: Vec<Block>,
    meter: Arc<Meter>,
}

impl Buffer {
    fn new(meter: &Arc<Meter>, len: usize) -> Self {
        // Counted before the allocation and uncounted after the free, so the meter never
        // reads below what is really allocated.
        meter.add(len * Block::SIZE);
        Self {
            blocks: vec![Block::new(); len],
            meter: Arc::clone(meter),
        }
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        for block in &mut self.blocks {
            block.zeroize();
        }
        #[cfg(test)]
        tests::record_free(&self.blocks);
        let bytes = self.blocks.len() * Block::SIZE;
        self.blocks = Vec::new();
        self.meter.sub(bytes);
    }
}

/// One worker: its buffer is allocated on first use (`slot_blocks` long) and kept, except
/// while a larger job has freed it to use its share of the budget.
type Slot = Option<Buffer>;

struct State {
    free: Vec<Slot>,
    /// Budget (in blocks) reserved by no slot and no running job.
    spare_blocks: usize,
    /// FIFO tickets: `serving` is the next waiter allowed to take what it needs.
    next_ticket: u64,
    serving: u64,
}

/// How a job's memory is covered.
struct Plan {
    /// Workers taken (at least one: every job occupies a worker).
    slots: usize,
    /// Blocks taken from the spare budget.
    spare: usize,
    /// How many of the taken slots give up their buffers to make room.
    freed: usize,
}

pub(crate) struct Limiter {
    state: Mutex<State>,
    freed: Condvar,
    workers: usize,
    slot_blocks: usize,
    /// Most memory one job may have of its own: the whole budget.
    max_job_blocks: usize,
    meter: Arc<Meter>,
    waiting: Arc<AtomicUsize>,
    max_queue: Option<usize>,
}

/// One caller counted against `max_queue`; dropping it (on any exit, including a cancelled
/// future) leaves the queue.
pub(crate) struct Waiting(Arc<AtomicUsize>);

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Limiter {
    pub(crate) fn new(config: LimiterConfig, slot_blocks: usize) -> Result<Self, ConfigError> {
        let slot_blocks = slot_blocks.max(1);
        let budget_blocks = config.memory_budget_bytes / Block::SIZE;
        let by_memory = budget_blocks / slot_blocks;
        if by_memory == 0 {
            return Err(ConfigError::Limiter(
                "memory budget is below the memory of one hash",
            ));
        }
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let max = config.max_workers.unwrap_or(cores);
        if max == 0 {
            return Err(ConfigError::Limiter("max_workers is zero"));
        }
        let workers = by_memory.min(max).max(1);
        Ok(Self {
            state: Mutex::new(State {
                free: (0..workers).map(|_| None).collect(),
                spare_blocks: budget_blocks - workers * slot_blocks,
                next_ticket: 0,
                serving: 0,
            }),
            freed: Condvar::new(),
            workers,
            slot_blocks,
            max_job_blocks: budget_blocks,
            meter: Arc::new(Meter::default()),
            waiting: Arc::new(AtomicUsize::new(0)),
            max_queue: config.max_queue,
        })
    }

    pub(crate) fn workers(&self) -> usize {
        self.workers
    }

    #[cfg(test)]
    pub(crate) fn meter(&self) -> &Meter {
        &self.meter
    }

    #[cfg(test)]
    pub(crate) fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic inside a hash cannot leave the state inconsistent (slots and budget move in
        // and out whole under the lock), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts one more waiting caller.
    ///
    /// # Errors
    /// [`Error::Overloaded`] when `max_queue` callers are already waiting.
    pub(crate) fn enqueue(&self) -> Result<Waiting, Error> {
        let queued = self.waiting.fetch_add(1, Ordering::SeqCst) + 1;
        let guard = Waiting(Arc::clone(&self.waiting));
        if self.max_queue.is_some_and(|max| queued > max) {
            return Err(Error::Overloaded);
        }
        Ok(guard)
    }

    /// What a job needing `own` blocks of its own memory would take now, if it fits.
    fn plan(&self, own: usize, state: &State) -> Option<Plan> {
        let spare = own.min(state.spare_blocks);
        let freed = (own - spare).div_ceil(self.slot_blocks);
        let slots = freed.max(1);
        (slots <= state.free.len()).then_some(Plan {
            slots,
            spare,
            freed,
        })
    }

    /// Blocks until a worker is free for an argon2 job over `blocks` of memory, which
    /// [`Lease::memory`] then hands out.
    ///
    /// # Errors
    /// [`Error::Overloaded`] when `max_queue` callers are already waiting;
    /// [`Error::AboveMemoryBudget`] when `blocks` exceeds the whole budget.
    pub(crate) fn acquire(&self, blocks: usize) -> Result<Lease<'_>, Error> {
        // Within a slot the job uses the slot's buffer; beyond it, memory of its own.
        let own = if blocks <= self.slot_blocks {
            0
        } else {
            blocks
        };
        self.lease(blocks, own, true)
    }

    /// Blocks until a worker is free for a job that allocates `blocks` of memory itself
    /// (scrypt; 0 for bcrypt and PBKDF2), with that memory counted against the budget.
    ///
    /// # Errors
    /// As [`Limiter::acquire`].
    #[cfg_attr(not(feature = "legacy"), allow(dead_code))]
    pub(crate) fn acquire_external(&self, blocks: usize) -> Result<Lease<'_>, Error> {
        self.lease(blocks, blocks, false)
    }

    fn lease(&self, blocks: usize, own: usize, argon2: bool) -> Result<Lease<'_>, Error> {
        if own > self.max_job_blocks {
            return Err(Error::AboveMemoryBudget {
                needed_bytes: own.saturating_mul(Block::SIZE),
                budget_bytes: self.max_job_blocks * Block::SIZE,
            });
        }
        let mut state = self.lock();
        let ready = if state.serving == state.next_ticket {
            self.plan(own, &state)
        } else {
            // Others are waiting: go behind them even if this job would fit now.
            None
        };
        let plan = if let Some(plan) = ready {
            plan
        } else {
            let _waiting = self.enqueue()?;
            let ticket = state.next_ticket;
            state.next_ticket += 1;
            let plan = loop {
                if state.serving == ticket
                    && let Some(plan) = self.plan(own, &state)
                {
                    break plan;
                }
                state = self
                    .freed
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            };
            state.serving += 1;
            // The next in line may fit in what is left.
            self.freed.notify_all();
            plan
        };
        let at = state.free.len() - plan.slots;
        let mut slots = state.free.split_off(at);
        state.spare_blocks -= plan.spare;
        drop(state);
        // The freed slots' share of the budget is now this job's: release their buffers
        // (already wiped after their last hash; Buffer wipes again on drop) before the job
        // allocates its own.
        for slot in &mut slots[..plan.freed] {
            *slot = None;
        }
        Ok(Lease {
            limiter: self,
            slots,
            spare: plan.spare,
            blocks,
            argon2,
            temp: None,
            used: 0,
        })
    }
}

/// Workers borrowed for one job. Dropping it wipes the memory the job used and returns the
/// workers and budget, also when the job panicked.
pub(crate) struct Lease<'a> {
    limiter: &'a Limiter,
    slots: Vec<Slot>,
    spare: usize,
    blocks: usize,
    argon2: bool,
    temp: Option<Buffer>,
    used: usize,
}

impl Lease<'_> {
    /// Working memory of exactly the blocks acquired, from the worker's own slot when it fits
    /// (allocated on first use, then reused), otherwise a temporary buffer paid for by the
    /// budget this lease took.
    pub(crate) fn memory(&mut self) -> &mut [Block] {
        debug_assert!(self.argon2, "external jobs allocate their own memory");
        self.wipe();
        let limiter = self.limiter;
        self.used = self.blocks;
        if self.blocks <= limiter.slot_blocks {
            let slot = self.slots[0]
                .get_or_insert_with(|| Buffer::new(&limiter.meter, limiter.slot_blocks));
            &mut slot.blocks[..self.blocks]
        } else {
            &mut self
                .temp
                .insert(Buffer::new(&limiter.meter, self.blocks))
                .blocks
        }
    }

    fn wipe(&mut self) {
        if self.used == 0 {
            return;
        }
        if self.temp.is_some() {
            // Buffer zeroizes itself before it is freed.
            self.temp = None;
        } else if let Some(slot) = self.slots[0].as_mut() {
            let used = self.used.min(slot.blocks.len());
            for block in &mut slot.blocks[..used] {
                block.zeroize();
            }
        }
        self.used = 0;
    }

    /// Length of the first slot's buffer (0 when not allocated).
    #[cfg(test)]
    pub(crate) fn slot_len(&self) -> usize {
        self.slots[0].as_ref().map_or(0, |s| s.blocks.len())
    }

    /// Whether the first slot is all zeros (and so holds no password-derived state).
    #[cfg(test)]
    pub(crate) fn slot_is_wiped(&self) -> bool {
        self.slots[0]
            .as_ref()
            .is_none_or(|s| tests::all_zero(&s.blocks))
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        // Memory first: the temporary buffer is wiped and freed before its budget is returned.
        self.wipe();
        let mut state = self.limiter.lock();
        state.free.append(&mut self.slots);
        state.spare_blocks += self.spare;
        drop(state);
        self.limiter.freed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    thread_local! {
        /// Every buffer freed on this thread: (length, all zeros when freed).
        static FREED: RefCell<Vec<(usize, bool)>> = const { RefCell::new(Vec::new()) };
    }

    pub(super) fn record_free(blocks: &[Block]) {
        FREED.with(|f| f.borrow_mut().push((blocks.len(), all_zero(blocks))));
    }

    pub(super) fn all_zero(blocks: &[Block]) -> bool {
        blocks.iter().all(|b| b.as_ref().iter().all(|&w| w == 0))
    }

    fn limiter(workers: usize, slot_blocks: usize) -> Limiter {
        Limiter::new(
            LimiterConfig::default().with_max_workers(workers),
            slot_blocks,
        )
        .unwrap()
    }

    /// `workers` slots of `slot` blocks plus `spare` blocks of budget.
    fn budgeted(workers: usize, slot: usize, spare: usize) -> Limiter {
        let cfg = LimiterConfig::default()
            .with_memory_budget_bytes((workers * slot + spare) * Block::SIZE)
            .with_max_workers(workers);
        let l = Limiter::new(cfg, slot).unwrap();
        assert_eq!(l.workers(), workers);
        l
    }

    fn fill(memory: &mut [Block]) {
        let blocks = u32::try_from(memory.len()).unwrap();
        argon2::Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            argon2::Params::new(blocks, 1, 1, Some(32)).unwrap(),
        )
        .fill_memory(b"pw", b"somesalt", &mut *memory)
        .unwrap();
        assert!(!all_zero(memory), "argon2 should have written the blocks");
    }

    /// Spins until `done` holds; the deadline only turns a hang into a failure.
    fn wait_until(done: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !done() {
            assert!(Instant::now() < deadline, "condition never held");
            std::thread::yield_now();
        }
    }

    #[test]
    fn workers_are_bounded_by_memory_budget() {
        let cfg = LimiterConfig::default()
            .with_memory_budget_bytes(3 * 64 * 1024)
            .with_max_workers(16);
        assert_eq!(Limiter::new(cfg, 64).unwrap().workers(), 3);
    }

    #[test]
    fn budget_below_one_hash_is_a_config_error() {
        let cfg = LimiterConfig::default().with_memory_budget_bytes(1024);
        assert!(Limiter::new(cfg, 64).is_err());
    }

    #[test]
    fn memory_is_wiped_when_the_lease_drops() {
        let l = limiter(1, 16);
        {
            let mut lease = l.acquire(16).unwrap();
            fill(lease.memory());
            assert!(!lease.slot_is_wiped());
        }
        let lease = l.acquire(16).unwrap();
        assert_eq!(
            lease.slot_len(),
            16,
            "the slot's memory is reused, not freed"
        );
        assert!(lease.slot_is_wiped());
    }

    #[test]
    fn temporary_buffer_is_wiped_before_it_is_freed() {
        let l = budgeted(1, 16, 32);
        FREED.with(|f| f.borrow_mut().clear());
        {
            let mut lease = l.acquire(40).unwrap();
            let memory = lease.memory();
            assert_eq!(memory.len(), 40);
            fill(memory);
        }
        let freed = FREED.with(|f| f.borrow().clone());
        assert!(freed.contains(&(40, true)), "{freed:?}");
        assert!(freed.iter().all(|&(_, zero)| zero), "{freed:?}");
        assert_eq!(
            l.meter().held(),
            0,
            "slot freed for the job, temp buffer freed"
        );
    }

    #[test]
    fn large_job_uses_spare_budget_then_frees_slots() {
        let l = budgeted(2, 16, 16);
        let lease = l.acquire(16).unwrap();
        drop(lease);
        // 32 blocks: 16 spare + one slot's share, so only one worker is taken.
        let lease = l.acquire(32).unwrap();
        assert_eq!((lease.slots.len(), lease.spare), (1, 16));
        assert_eq!(
            lease.slot_len(),
            0,
            "the slot's buffer was freed for the job"
        );
        drop(lease);
        // 48 blocks: the whole budget, both workers.
        let lease = l.acquire(48).unwrap();
        assert_eq!(lease.slots.len(), 2);
        drop(lease);
        let state = l.lock();
        assert_eq!((state.free.len(), state.spare_blocks), (2, 16));
    }

    #[test]
    fn job_above_the_whole_budget_is_refused_before_allocating() {
        let l = budgeted(2, 16, 16);
        assert!(matches!(
            l.acquire(49),
            Err(Error::AboveMemoryBudget {
                needed_bytes: 50_176,
                budget_bytes: 49_152
            })
        ));
        assert!(matches!(
            l.acquire_external(49),
            Err(Error::AboveMemoryBudget { .. })
        ));
        assert_eq!(l.meter().peak(), 0);
    }

    #[test]
    fn external_jobs_count_against_the_budget() {
        let l = budgeted(2, 16, 0);
        let (mut a, mut b) = (l.acquire(16).unwrap(), l.acquire(16).unwrap());
        a.memory();
        b.memory();
        drop((a, b));
        assert_eq!(l.meter().held(), 32 * Block::SIZE);
        // scrypt-like job of 20 blocks: both slots' shares, both buffers freed.
        let lease = l.acquire_external(20).unwrap();
        assert_eq!(lease.slots.len(), 2);
        assert_eq!(l.meter().held(), 0);
        drop(lease);
        // bcrypt-like job: a worker, no memory.
        let lease = l.acquire_external(0).unwrap();
        assert_eq!((lease.slots.len(), lease.spare), (1, 0));
    }

    /// Many threads run jobs of mixed sizes; the instrumented meter, which counts every
    /// buffer from before it is allocated until after it is freed, never passes the budget.
    #[test]
    fn memory_held_never_exceeds_the_budget() {
        let (workers, slot, spare) = (2, 16, 24);
        let budget = (workers * slot + spare) * Block::SIZE;
        let l = Arc::new(budgeted(workers, slot, spare));
        let running = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let (l, running) = (Arc::clone(&l), Arc::clone(&running));
                std::thread::spawn(move || {
                    let sizes = [8, 16, 24, 32, 40, 56, 16, 16];
                    for i in 0..40 {
                        let blocks = sizes[(i * 3 + t) % sizes.len()];
                        let mut lease = l.acquire(blocks).unwrap();
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        assert!(now <= workers, "{now} jobs at once");
                        let memory = lease.memory();
                        assert_eq!(memory.len(), blocks);
                        for block in memory.iter_mut() {
                            block.as_mut()[0] = u64::MAX;
                        }
                        assert!(l.meter().held() <= budget);
                        running.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let peak = l.meter().peak();
        assert!(peak <= budget, "peak {peak} above budget {budget}");
        assert!(peak >= 56 * Block::SIZE, "the largest job ran: {peak}");
        assert!(l.meter().held() <= workers * slot * Block::SIZE);
    }

    /// A job needing both workers waits for the one in use; a one-slot job arriving after it
    /// must not take the free worker first (which, repeated, would starve the big job).
    #[test]
    fn a_job_needing_several_slots_is_not_overtaken() {
        let l = Arc::new(budgeted(2, 16, 0));
        let order = Arc::new(Mutex::new(Vec::new()));
        let held = l.acquire(16).unwrap();
        let spawn = |blocks: usize, name: &'static str| {
            let (l, order) = (Arc::clone(&l), Arc::clone(&order));
            std::thread::spawn(move || {
                let _lease = l.acquire(blocks).unwrap();
                order.lock().unwrap().push(name);
            })
        };
        let big = spawn(32, "big");
        wait_until(|| l.waiting() == 1);
        let small = spawn(16, "small");
        wait_until(|| l.waiting() == 2 || !order.lock().unwrap().is_empty());
        assert!(order.lock().unwrap().is_empty(), "the small job overtook");
        drop(held);
        big.join().unwrap();
        small.join().unwrap();
        assert_eq!(*order.lock().unwrap(), ["big", "small"]);
        assert_eq!(l.waiting(), 0);
    }

    #[test]
    fn waiting_beyond_max_queue_is_overloaded() {
        let l = Arc::new(
            Limiter::new(
                LimiterConfig::default()
                    .with_max_workers(1)
                    .with_max_queue(0),
                16,
            )
            .unwrap(),
        );
        let held = l.acquire(16).unwrap();
        assert!(matches!(l.acquire(16), Err(Error::Overloaded)));
        assert_eq!(l.waiting(), 0, "a refused caller does not stay counted");
        drop(held);
        assert!(l.acquire(16).is_ok());
    }

    #[test]
    fn a_waiter_proceeds_when_a_slot_frees() {
        let l = Arc::new(limiter(1, 16));
        let l2 = Arc::clone(&l);
        let held = l.acquire(16).unwrap();
        let t = std::thread::spawn(move || {
            let _lease = l2.acquire(16).unwrap();
        });
        wait_until(|| l.waiting() == 1);
        assert!(!t.is_finished());
        drop(held);
        t.join().unwrap();
        assert_eq!(l.waiting(), 0);
    }
}
