//! What the SQL stores' tests share: a configuration for tests and the "resets landed" probe.

use std::time::Duration;

use rampart_attempts::{SqlConfig, SqlStore};

/// A generous deadline (exact counts must not depend on a loaded CI machine) and no
/// background sweep (the tests' fixed clock is months behind the real one).
pub fn config() -> SqlConfig {
    SqlConfig::default()
        .with_timeout(Duration::from_secs(10))
        .with_sweep_interval(Duration::ZERO)
}

/// True once every queued reset was applied (or dropped: a reset lost to a failed batch
/// never drains, so a test that waits on it fails loudly).
pub fn drained<DB: sqlx::Database>(store: &SqlStore<DB>) -> bool {
    let s = store.stats();
    s.resets_applied + s.resets_dropped == s.resets_queued
}
