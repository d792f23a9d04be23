//! The store's background task: applies queued resets in batches (the success path never
//! waits on the database) and sweeps expired rows on a timer (the table stays bounded).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use sqlx::Pool;
use tokio::sync::mpsc;

use crate::sql::dialect::sealed::Dialect;
use crate::sql::health::{Counters, Health};
use crate::sql::row::db_ms;

/// Resets applied by one statement (or one SQLite transaction) at most.
const RESET_BATCH: usize = 256;
/// Rows one sweep statement deletes at most; a sweep repeats it while it fills up, at most
/// [`SWEEP_ROUNDS`] times, so one tick's work stays bounded even after a flood.
pub(crate) const SWEEP_LIMIT: i64 = 1000;
const SWEEP_ROUNDS: usize = 100;

/// A success to apply: the row key and the success time (database ms).
pub(crate) type Reset = (String, i64);

/// Drains the reset queue, and sweeps every `sweep_every` (zero: never). Ends when the
/// store is dropped (the queue's sender closes).
pub(crate) async fn run<DB: Dialect>(
    pool: Pool<DB>,
    health: Arc<Health>,
    mut resets: mpsc::Receiver<Reset>,
    sweep_every: Duration,
) {
    // The first sweep one period after start, not at once: a store opened by a test (or
    // an example) with a fixed clock must not see its rows swept by the real one.
    let mut ticks = (!sweep_every.is_zero()).then(|| {
        let mut t =
            tokio::time::interval_at(tokio::time::Instant::now() + sweep_every, sweep_every);
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        t
    });
    let mut batch = Vec::with_capacity(RESET_BATCH);
    loop {
        tokio::select! {
            n = resets.recv_many(&mut batch, RESET_BATCH) => {
                if n == 0 {
                    return;
                }
                apply(&pool, &health, &batch).await;
                batch.clear();
            }
            () = tick(ticks.as_mut()) => {
                // Errors are counted in the health; the next tick tries again.
                let _ = sweep(&pool, &health, SystemTime::now()).await;
            }
        }
    }
}

async fn tick(ticks: Option<&mut tokio::time::Interval>) {
    match ticks {
        Some(t) => {
            t.tick().await;
        }
        None => std::future::pending().await,
    }
}

async fn apply<DB: Dialect>(pool: &Pool<DB>, health: &Health, batch: &[Reset]) {
    let n = batch.len() as u64;
    match health.call(|| DB::reset_batch(pool, batch)).await {
        Ok(_) => Counters::add(&health.counters.resets_applied, n),
        Err(_) => Counters::add(&health.counters.resets_failed, n),
    }
}

/// Deletes the rows whose streak expired by `now`, in bounded statements; returns how
/// many. Stops at the first error (counted in the health).
pub(crate) async fn sweep<DB: Dialect>(
    pool: &Pool<DB>,
    health: &Health,
    now: SystemTime,
) -> Result<u64, crate::error::StoreError> {
    let now_ms = db_ms(crate::clock::unix_ms(now));
    let mut total = 0;
    for _ in 0..SWEEP_ROUNDS {
        let n = health.call(|| DB::sweep(pool, now_ms, SWEEP_LIMIT)).await?;
        Counters::add(&health.counters.rows_swept, n);
        total += n;
        if n < SWEEP_LIMIT.unsigned_abs() {
            break;
        }
    }
    Ok(total)
}
