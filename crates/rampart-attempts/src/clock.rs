//! Conversions between the caller's `SystemTime` and the millisecond timestamps stores keep.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch; times before 1970 count as 0.
pub(crate) fn unix_ms(t: SystemTime) -> u64 {
    // Seconds and sub-second millis in u64 arithmetic (as_millis() divides a u128: slow on
    // the hot path); saturates far beyond any real clock.
    t.duration_since(UNIX_EPOCH).map_or(0, |d| {
        d.as_secs()
            .saturating_mul(1000)
            .saturating_add(u64::from(d.subsec_millis()))
    })
}

pub(crate) fn from_unix_ms(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}
