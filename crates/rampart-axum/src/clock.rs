//! The one time source of this crate's checks: the system clock unless the application
//! hands its own to a `with_clock` builder ([`ApiKeyLayer`](crate::ApiKeyLayer),
//! [`PasswordLogin`](crate::PasswordLogin), [`SamlRoutes`](crate::SamlRoutes)), so a service
//! whose clock is moved by its tests, or which reads time from elsewhere, moves attempt
//! streaks and SAML validity with it.

use std::sync::Arc;
use std::time::SystemTime;

/// `now`, as the builders' `with_clock` closures give it.
#[derive(Clone)]
pub(crate) struct Clock(Arc<dyn Fn() -> SystemTime + Send + Sync>);

impl Clock {
    /// The system clock (`SystemTime::now`).
    pub(crate) fn system() -> Self {
        Self(Arc::new(SystemTime::now))
    }

    /// The application's clock.
    pub(crate) fn from_fn(now: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        Self(Arc::new(now))
    }

    /// The current time by this clock.
    pub(crate) fn now(&self) -> SystemTime {
        (self.0)()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Clock")
    }
}
