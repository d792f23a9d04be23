//! The service's clock: real time in production, a clock tests move by hand.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// Where every handler gets `now`: the crates take time from the caller, so one clock moved
/// by a test moves password throttling, API-key streaks, SAML validity and retention alike.
///
/// ```
/// use std::time::Duration;
/// use rampart_service::Clock;
/// let clock = Clock::manual_at_unix(1_900_000_000);
/// let before = clock.now();
/// clock.advance(Duration::from_secs(3_600));
/// assert_eq!(clock.now().duration_since(before)?, Duration::from_secs(3_600));
/// # Ok::<(), std::time::SystemTimeError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// `None`: the system clock plus `offset`. `Some`: a fixed instant (Unix ms) plus `offset`.
    fixed_unix_ms: Option<u64>,
    offset_ms: Arc<AtomicU64>,
}

impl Clock {
    /// The system clock.
    ///
    /// ```
    /// let now = rampart_service::Clock::system().now();
    /// assert!(now > std::time::SystemTime::UNIX_EPOCH);
    /// ```
    pub fn system() -> Self {
        Self::default()
    }

    /// A clock standing still at `unix_seconds` until [`advance`](Self::advance)d.
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// let clock = rampart_service::Clock::manual_at_unix(60);
    /// assert_eq!(clock.now(), SystemTime::UNIX_EPOCH + Duration::from_secs(60));
    /// ```
    pub fn manual_at_unix(unix_seconds: u64) -> Self {
        Self {
            fixed_unix_ms: Some(unix_seconds.saturating_mul(1000)),
            offset_ms: Arc::default(),
        }
    }

    /// Moves this clock and every clone of it forward by `by`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let clock = rampart_service::Clock::system();
    /// let shared = clock.clone();
    /// clock.advance(Duration::from_secs(7_200));
    /// assert!(shared.now() > std::time::SystemTime::now() + Duration::from_secs(7_000));
    /// ```
    pub fn advance(&self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.offset_ms.fetch_add(ms, Ordering::SeqCst);
    }

    /// The current time.
    ///
    /// ```
    /// let clock = rampart_service::Clock::manual_at_unix(0);
    /// assert_eq!(clock.now(), std::time::SystemTime::UNIX_EPOCH);
    /// ```
    pub fn now(&self) -> SystemTime {
        let offset = Duration::from_millis(self.offset_ms.load(Ordering::SeqCst));
        let base = match self.fixed_unix_ms {
            Some(ms) => SystemTime::UNIX_EPOCH + Duration::from_millis(ms),
            None => SystemTime::now(),
        };
        base + offset
    }

    /// Milliseconds since the Unix epoch (0 before it), for database columns.
    pub(crate) fn unix_ms(&self) -> i64 {
        unix_ms(self.now())
    }
}

/// `t` as milliseconds since the Unix epoch (0 before it).
pub(crate) fn unix_ms(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The inverse of [`unix_ms`].
pub(crate) fn from_unix_ms(ms: i64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}
