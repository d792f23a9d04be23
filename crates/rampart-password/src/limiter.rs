//! Bounded concurrency for memory-hard hashing, with argon2 working memory that is
//! allocated once, reused, and wiped after every hash.
//!
//! argon2 needs `m` KiB per hash and one core: past one hash per core, throughput falls and
//! memory grows with every waiting login (RFC 9106 section 4 sizes `m` to what the server can
//! afford *per concurrent hash*). The limiter owns a fixed number of workers (slots), sized by a
//! memory budget and the core count. Each slot owns a `Vec<argon2::Block>` big enough for the
//! current parameters; a hash borrows a slot, fills its blocks, and the blocks it touched are
//! zeroized before the slot is handed to the next caller (the `argon2` crate leaves its blocks
//! in freed memory otherwise). A stored hash with a larger `m` (allowed up to the caps) takes
//! as many slots as its memory spans, so the budget holds, and uses a temporary buffer that is
//! wiped before it is freed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

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
/// let cfg = LimiterConfig::default().memory_budget_bytes(64 << 20).max_workers(2);
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
    pub fn memory_budget_bytes(mut self, bytes: usize) -> Self {
        self.memory_budget_bytes = bytes;
        self
    }

    /// Sets the maximum number of workers.
    #[must_use]
    pub fn max_workers(mut self, workers: usize) -> Self {
        self.max_workers = Some(workers);
        self
    }

    /// Sets how many callers may wait before new ones get [`Error::Overloaded`].
    #[must_use]
    pub fn max_queue(mut self, waiting: usize) -> Self {
        self.max_queue = Some(waiting);
        self
    }
}

/// One worker's memory: empty until first used, then `slot_blocks` long for good.
type Slot = Vec<Block>;

pub(crate) struct Limiter {
    free: Mutex<Vec<Slot>>,
    freed: Condvar,
    workers: usize,
    slot_blocks: usize,
    waiting: AtomicUsize,
    max_queue: Option<usize>,
    #[cfg(feature = "tokio")]
    admission: std::sync::Arc<tokio::sync::Semaphore>,
}

impl Limiter {
    pub(crate) fn new(config: LimiterConfig, slot_blocks: usize) -> Result<Self, ConfigError> {
        let slot_bytes = slot_blocks.max(1) * Block::SIZE;
        let by_memory = config.memory_budget_bytes / slot_bytes;
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
            free: Mutex::new((0..workers).map(|_| Vec::new()).collect()),
            freed: Condvar::new(),
            workers,
            slot_blocks,
            waiting: AtomicUsize::new(0),
            max_queue: config.max_queue,
            #[cfg(feature = "tokio")]
            admission: std::sync::Arc::new(tokio::sync::Semaphore::new(workers)),
        })
    }

    pub(crate) fn workers(&self) -> usize {
        self.workers
    }

    /// How many slots a job needing `blocks` of memory takes (at least 1, at most all).
    fn slots_for(&self, blocks: usize) -> usize {
        blocks
            .div_ceil(self.slot_blocks.max(1))
            .clamp(1, self.workers)
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Slot>> {
        // A panic inside a hash cannot leave the slot list inconsistent (slots are moved in and
        // out whole), so a poisoned lock is still usable.
        self.free.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Blocks until enough workers are free for a job needing `blocks` of memory.
    ///
    /// # Errors
    /// [`Error::Overloaded`] when `max_queue` callers are already waiting.
    pub(crate) fn acquire(&self, blocks: usize) -> Result<Lease<'_>, Error> {
        let need = self.slots_for(blocks);
        let mut free = self.lock();
        if free.len() < need {
            let queued = self.waiting.fetch_add(1, Ordering::SeqCst) + 1;
            if self.max_queue.is_some_and(|max| queued > max) {
                self.waiting.fetch_sub(1, Ordering::SeqCst);
                return Err(Error::Overloaded);
            }
            while free.len() < need {
                free = self
                    .freed
                    .wait(free)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            self.waiting.fetch_sub(1, Ordering::SeqCst);
        }
        let at = free.len() - need;
        let slots = free.split_off(at);
        drop(free);
        Ok(Lease {
            limiter: self,
            slots,
            temp: Vec::new(),
            used: 0,
        })
    }

    /// Waits, without blocking the executor, until a worker may start a blocking job.
    #[cfg(feature = "tokio")]
    pub(crate) async fn admit(&self) -> Result<tokio::sync::OwnedSemaphorePermit, Error> {
        if let Ok(permit) = self.admission.clone().try_acquire_owned() {
            return Ok(permit);
        }
        let queued = self.waiting.fetch_add(1, Ordering::SeqCst) + 1;
        if self.max_queue.is_some_and(|max| queued > max) {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(Error::Overloaded);
        }
        let permit = self.admission.clone().acquire_owned().await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        permit.map_err(|_| Error::TaskFailed)
    }
}

/// Workers borrowed for one job. Dropping it wipes the memory the job used and returns the
/// workers, also when the job panicked.
pub(crate) struct Lease<'a> {
    limiter: &'a Limiter,
    slots: Vec<Slot>,
    temp: Vec<Block>,
    used: usize,
}

impl Lease<'_> {
    /// Working memory of exactly `blocks` blocks, from the worker's own slot when it fits
    /// (allocated on first use, then reused), otherwise a temporary buffer.
    pub(crate) fn memory(&mut self, blocks: usize) -> &mut [Block] {
        self.wipe();
        let slot_blocks = self.limiter.slot_blocks;
        if blocks <= slot_blocks
            && let Some(slot) = self.slots.first_mut()
        {
            if slot.len() < slot_blocks {
                *slot = vec![Block::new(); slot_blocks];
            }
            self.used = blocks;
            return &mut slot[..blocks];
        }
        self.temp = vec![Block::new(); blocks];
        self.used = blocks;
        &mut self.temp
    }

    fn wipe(&mut self) {
        if self.used == 0 {
            return;
        }
        if self.temp.is_empty() {
            if let Some(slot) = self.slots.first_mut() {
                let used = self.used.min(slot.len());
                for block in &mut slot[..used] {
                    block.zeroize();
                }
            }
        } else {
            for block in &mut self.temp {
                block.zeroize();
            }
            self.temp = Vec::new();
        }
        self.used = 0;
    }

    /// Whether the first slot is all zeros (and so holds no password-derived state).
    #[cfg(test)]
    pub(crate) fn slot_len(&self) -> usize {
        self.slots.first().map_or(0, Vec::len)
    }

    /// Whether the first slot is all zeros (and so holds no password-derived state).
    #[cfg(test)]
    pub(crate) fn slot_is_wiped(&self) -> bool {
        self.slots.first().is_none_or(|s| {
            let zero = Block::new();
            s.iter().all(|b| format!("{b:?}") == format!("{zero:?}"))
        })
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        self.wipe();
        let mut free = self.limiter.lock();
        free.append(&mut self.slots);
        drop(free);
        self.limiter.freed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    fn limiter(workers: usize, slot_blocks: usize) -> Limiter {
        Limiter::new(LimiterConfig::default().max_workers(workers), slot_blocks).unwrap()
    }

    #[test]
    fn workers_are_bounded_by_memory_budget() {
        let cfg = LimiterConfig::default()
            .memory_budget_bytes(3 * 64 * 1024)
            .max_workers(16);
        assert_eq!(Limiter::new(cfg, 64).unwrap().workers(), 3);
    }

    #[test]
    fn budget_below_one_hash_is_a_config_error() {
        let cfg = LimiterConfig::default().memory_budget_bytes(1024);
        assert!(Limiter::new(cfg, 64).is_err());
    }

    #[test]
    fn memory_is_wiped_when_the_lease_drops() {
        let l = limiter(1, 16);
        {
            let mut lease = l.acquire(16).unwrap();
            let ctx = argon2::Argon2::new(
                argon2::Algorithm::Argon2id,
                argon2::Version::V0x13,
                argon2::Params::new(16, 1, 1, Some(32)).unwrap(),
            );
            let mut out = [0u8; 32];
            ctx.fill_memory(b"pw", b"somesalt", lease.memory(16))
                .unwrap();
            let _ = &mut out;
            assert!(
                !lease.slot_is_wiped(),
                "argon2 should have written the blocks"
            );
        }
        let lease = l.acquire(16).unwrap();
        assert_eq!(
            lease.slots[0].len(),
            16,
            "the slot's memory is reused, not freed"
        );
        assert!(lease.slot_is_wiped());
    }

    #[test]
    fn large_job_takes_several_slots() {
        let l = limiter(2, 16);
        let lease = l.acquire(32).unwrap();
        assert_eq!(lease.slots.len(), 2);
        drop(lease);
        assert_eq!(l.lock().len(), 2);
    }

    #[test]
    fn waiting_beyond_max_queue_is_overloaded() {
        let l = Arc::new(
            Limiter::new(LimiterConfig::default().max_workers(1).max_queue(0), 16).unwrap(),
        );
        let held = l.acquire(16).unwrap();
        assert!(matches!(l.acquire(16), Err(Error::Overloaded)));
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
        std::thread::sleep(Duration::from_millis(20));
        assert!(!t.is_finished());
        drop(held);
        t.join().unwrap();
    }
}
