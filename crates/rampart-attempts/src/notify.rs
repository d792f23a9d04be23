//! Telling the owner: the notification and the notifier trait.

use std::future::Future;
use std::sync::Arc;
use std::time::SystemTime;

use crate::error::NotifyError;
use crate::policy::Policy;
use crate::subject::Subject;

/// Sent once per streak, by the failure that brought it to the policy's threshold.
///
/// With several replicas sharing a Redis store, exactly one replica's failure crosses the
/// threshold. After a Redis failover (a replica promoted without the latest writes) a second
/// crossing is possible: [`Notification::idempotency_key`] is the same for both (it names
/// the subject and the streak's start), so a notifier or its queue can drop the duplicate.
///
/// When Redis was unreachable, the failures each replica counted in memory are merged into
/// Redis afterwards; if the merged count crosses the threshold, the tracker sends the
/// notification on its next call (see the Redis store's module docs for what holds during
/// an outage).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Notification {
    /// Who was failed against.
    pub subject: Subject,
    /// Consecutive failures so far (the threshold, unless a policy changed mid-streak).
    pub count: u32,
    /// First failure of the streak.
    pub first_failure: SystemTime,
    /// The failure that crossed the threshold.
    pub last_failure: SystemTime,
    /// `<subject storage key>@<streak start in Unix ms>`: stable for one streak.
    pub idempotency_key: String,
    /// The policy in force for this subject's kind, so a message can say truthfully what
    /// happens to further attempts (slowed down, locked, or only counted).
    pub policy: Policy,
}

/// Delivers [`Notification`]s (email, queue, webhook).
///
/// [`Tracker::record_failure`](crate::Tracker::record_failure) awaits `notify` once per
/// crossing, on the failing request: a slow transport should hand the notification to a
/// queue. A notification owed by a Redis store's merge after an outage is sent by whichever
/// tracker call comes next (`check`, `check_all`, `record_failure`, `unlock`); its delivery
/// error is counted in the store's health, as no caller is waiting for that one. An error is reported in the outcome (the failure itself is still recorded and the
/// notification returned, so the caller can retry).
///
/// ```
/// use rampart_attempts::{Notification, Notifier, NotifyError};
/// struct Log;
/// impl Notifier for Log {
///     async fn notify(&self, n: &Notification) -> Result<(), NotifyError> {
///         eprintln!("{} failed {} times", n.subject, n.count);
///         Ok(())
///     }
/// }
/// ```
pub trait Notifier: Send + Sync {
    /// Delivers one notification; returns [`NotifyError`] when delivery failed.
    fn notify(
        &self,
        notification: &Notification,
    ) -> impl Future<Output = Result<(), NotifyError>> + Send;
}

/// A notifier that does nothing: the notification is still returned by
/// [`record_failure`](crate::Tracker::record_failure) for the caller to act on.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoNotifier;

impl Notifier for NoNotifier {
    async fn notify(&self, _: &Notification) -> Result<(), NotifyError> {
        Ok(())
    }
}

impl<N: Notifier> Notifier for Arc<N> {
    fn notify(
        &self,
        notification: &Notification,
    ) -> impl Future<Output = Result<(), NotifyError>> + Send {
        (**self).notify(notification)
    }
}

/// A notifier from a synchronous closure (logging, pushing onto a channel).
///
/// ```
/// use rampart_attempts::FnNotifier;
/// let n = FnNotifier(|n: &rampart_attempts::Notification| println!("{}", n.subject));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct FnNotifier<F>(pub F);

impl<F> Notifier for FnNotifier<F>
where
    F: Fn(&Notification) + Send + Sync,
{
    async fn notify(&self, notification: &Notification) -> Result<(), NotifyError> {
        (self.0)(notification);
        Ok(())
    }
}
