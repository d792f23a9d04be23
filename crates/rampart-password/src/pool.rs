//! The limiter's worker threads for async calls (feature `tokio`).
//!
//! Why our own threads rather than tokio's blocking pool: with the blocking pool, every hash
//! ends with its thread going to sleep and a fresh wake-up for the next job, often issued from
//! the core that is busy with the other hash. The scheduler then tends to put both hashes on
//! one core for a few milliseconds while the other core idles: 6 to 9 % of two cores was lost
//! that way under a login storm (`perf sched`, BENCHMARKS.md). Here the queue of waiting calls
//! lives with the workers, so a worker that finishes a hash takes the next one without
//! sleeping, and a sleeping worker is woken by one that is already running (one wake-up in
//! flight at a time), which the scheduler places on the idle core.

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use crate::error::Error;
use crate::limiter::{Limiter, Waiting};

/// A queued call: run it, or notice that its caller is gone.
pub(crate) trait Task: Send {
    /// The caller stopped waiting (its future was dropped): skip the work.
    fn cancelled(&self) -> bool;
    fn run(self: Box<Self>);
}

/// A task in the queue, counted against the limiter's `max_queue` while it waits.
struct Queued {
    task: Box<dyn Task>,
    _waiting: Option<Waiting>,
}

struct State {
    tasks: VecDeque<Queued>,
    threads: usize,
    idle: usize,
    /// A sleeping worker has been told to wake and has not yet taken the lock.
    waking: bool,
    /// The owner is gone: workers exit once the queue is empty.
    closed: bool,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

impl State {
    /// Workers that would take a task now: asleep, or not started yet, minus the tasks
    /// already waiting for them.
    fn free(&self, max_threads: usize) -> usize {
        (self.idle + (max_threads - self.threads)).saturating_sub(self.tasks.len())
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Tasks run outside the lock and their panics are caught, so the state under it is
        // always whole.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Up to `max_threads` worker threads, started on first use, and the queue they serve.
pub(crate) struct Pool {
    shared: Arc<Shared>,
    max_threads: usize,
}

impl Pool {
    pub(crate) fn new(max_threads: usize) -> Self {
        Self {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    tasks: VecDeque::new(),
                    threads: 0,
                    idle: 0,
                    waking: false,
                    closed: false,
                }),
                wake: Condvar::new(),
            }),
            max_threads: max_threads.max(1),
        }
    }

    /// Queues `task` behind the others (FIFO). When no worker is free it waits, counted
    /// against the limiter's `max_queue` like a synchronous caller.
    ///
    /// # Errors
    /// [`Error::Overloaded`] when `max_queue` callers already wait (after dropping queued
    /// tasks whose callers are gone); [`Error::TaskFailed`] when the OS refused to start the
    /// first worker thread.
    pub(crate) fn submit(&self, task: Box<dyn Task>, limiter: &Limiter) -> Result<(), Error> {
        let mut state = self.shared.lock();
        let waiting = if state.free(self.max_threads) > 0 {
            None
        } else if let Ok(w) = limiter.enqueue() {
            Some(w)
        } else {
            // Cancelled callers still in the queue hold places: free them and try again.
            state.tasks.retain(|q| !q.task.cancelled());
            Some(limiter.enqueue()?)
        };
        state.tasks.push_back(Queued {
            task,
            _waiting: waiting,
        });
        if state.idle > 0 {
            if !state.waking {
                state.waking = true;
                self.shared.wake.notify_one();
            }
            return Ok(());
        }
        if state.threads >= self.max_threads {
            // Every worker is busy: the first to finish takes it.
            return Ok(());
        }
        state.threads += 1;
        let n = state.threads;
        drop(state);
        let shared = Arc::clone(&self.shared);
        let spawned = std::thread::Builder::new()
            .name(format!("rampart-password-{n}"))
            .spawn(move || work(&shared));
        if spawned.is_err() {
            let mut state = self.shared.lock();
            state.threads -= 1;
            if state.threads == 0 {
                // Nobody would ever run them: their callers see the reply channel close.
                state.tasks.clear();
            }
            return Err(Error::TaskFailed);
        }
        Ok(())
    }

    #[cfg(test)]
    pub(crate) fn threads(&self) -> usize {
        self.shared.lock().threads
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // No join: the last owner may be a task running on a worker.
        self.shared.lock().closed = true;
        self.shared.wake.notify_all();
    }
}

fn work(shared: &Shared) {
    let mut state = shared.lock();
    loop {
        if let Some(Queued { task, _waiting }) = state.tasks.pop_front() {
            // More waiting and a worker asleep: wake it from this running thread.
            if !state.tasks.is_empty() && state.idle > 0 && !state.waking {
                state.waking = true;
                shared.wake.notify_one();
            }
            drop(state);
            drop(_waiting); // started: no longer waiting
            if !task.cancelled() {
                // A panic is the caller's (it sees its reply channel closed), not the pool's.
                let _ = std::panic::catch_unwind(AssertUnwindSafe(|| task.run()));
            }
            state = shared.lock();
            continue;
        }
        if state.closed {
            state.threads -= 1;
            return;
        }
        state.idle += 1;
        state = shared
            .wake
            .wait(state)
            .unwrap_or_else(PoisonError::into_inner);
        state.idle -= 1;
        state.waking = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LimiterConfig;
    use std::sync::mpsc;
    use std::time::Duration;

    struct Probe<F: FnOnce() + Send> {
        work: F,
        cancelled: bool,
    }

    impl<F: FnOnce() + Send> Task for Probe<F> {
        fn cancelled(&self) -> bool {
            self.cancelled
        }
        fn run(self: Box<Self>) {
            (self.work)();
        }
    }

    fn pool(threads: usize, max_queue: Option<usize>) -> (Pool, Limiter) {
        let mut config = LimiterConfig::default().with_max_workers(threads);
        if let Some(q) = max_queue {
            config = config.with_max_queue(q);
        }
        (Pool::new(threads), Limiter::new(config, 16).unwrap())
    }

    fn task(work: impl FnOnce() + Send + 'static) -> Box<dyn Task> {
        Box::new(Probe {
            work,
            cancelled: false,
        })
    }

    #[test]
    fn runs_every_task_in_order_on_at_most_max_threads() {
        let (pool, limiter) = pool(2, None);
        let (tx, rx) = mpsc::channel();
        for i in 0..50 {
            let tx = tx.clone();
            pool.submit(
                task(move || {
                    std::thread::sleep(Duration::from_micros(200));
                    tx.send((i, std::thread::current().id())).unwrap();
                }),
                &limiter,
            )
            .unwrap();
        }
        let got: Vec<_> = (0..50)
            .map(|_| rx.recv_timeout(Duration::from_secs(10)).unwrap())
            .collect();
        let mut ids: Vec<_> = got.iter().map(|&(_, id)| id).collect();
        ids.sort_by_key(|id| format!("{id:?}"));
        ids.dedup();
        assert!(ids.len() <= 2, "{} threads ran tasks", ids.len());
        assert!(pool.threads() <= 2);
        let mut order: Vec<_> = got.iter().map(|&(i, _)| i).collect();
        order.sort_unstable();
        assert_eq!(order, (0..50).collect::<Vec<_>>(), "every task ran once");
    }

    #[test]
    fn a_panicking_task_does_not_take_its_worker_down() {
        let (pool, limiter) = pool(1, None);
        pool.submit(task(|| panic!("in a task")), &limiter).unwrap();
        let (tx, rx) = mpsc::channel();
        pool.submit(task(move || tx.send(()).unwrap()), &limiter)
            .unwrap();
        rx.recv_timeout(Duration::from_secs(10))
            .expect("the same worker runs the next task");
        assert_eq!(pool.threads(), 1);
    }

    #[test]
    fn cancelled_tasks_are_skipped_and_give_up_their_place() {
        let (pool, limiter) = pool(1, Some(1));
        let (release, blocked) = mpsc::channel::<()>();
        let (started, is_started) = mpsc::channel();
        pool.submit(
            task(move || {
                started.send(()).unwrap();
                blocked.recv().unwrap();
            }),
            &limiter,
        )
        .unwrap();
        is_started.recv().unwrap();
        let (ran, did_run) = mpsc::channel();
        let probe = |cancelled: bool| -> Box<dyn Task> {
            let ran = ran.clone();
            Box::new(Probe {
                work: move || ran.send(cancelled).unwrap(),
                cancelled,
            })
        };
        // The queue holds one: each new call pushes out the cancelled one before it.
        for cancelled in [true, true, false] {
            pool.submit(probe(cancelled), &limiter).unwrap();
        }
        assert_eq!(
            pool.shared.lock().tasks.len(),
            1,
            "only the live task waits"
        );
        assert_eq!(limiter.waiting(), 1);
        assert!(matches!(
            pool.submit(probe(true), &limiter),
            Err(Error::Overloaded)
        ));
        release.send(()).unwrap();
        assert_eq!(did_run.recv_timeout(Duration::from_secs(10)), Ok(false));
        std::thread::sleep(Duration::from_millis(50));
        assert!(did_run.try_recv().is_err(), "a cancelled task ran");
        assert_eq!(limiter.waiting(), 0);
    }

    #[test]
    fn workers_exit_when_the_pool_is_dropped() {
        let (pool, limiter) = pool(2, None);
        let (tx, rx) = mpsc::channel();
        for _ in 0..2 {
            let tx = tx.clone();
            pool.submit(task(move || tx.send(()).unwrap()), &limiter)
                .unwrap();
        }
        rx.recv().unwrap();
        rx.recv().unwrap();
        let shared = Arc::clone(&pool.shared);
        drop(pool);
        for _ in 0..1000 {
            if shared.lock().threads == 0 {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        panic!("workers still running after the pool was dropped");
    }
}
