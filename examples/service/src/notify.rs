//! Telling a key's owner about a streak of failures: appended to a log file by default,
//! mailed through SMTP when `--smtp` is given. rampart-attempts decides when (once per
//! streak, at the 20th consecutive failure); this only knows who owns a key.

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use rampart_attempts::{Notification, Notifier, NotifyError, SmtpNotifier};

use crate::clock::unix_ms;

/// Public key id to owner e-mail, filled at start and on every issue.
#[derive(Clone, Debug, Default)]
pub(crate) struct Owners(Arc<RwLock<HashMap<String, String>>>);

impl Owners {
    pub(crate) fn insert(&self, public_id: String, owner: String) {
        self.0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(public_id, owner);
    }

    pub(crate) fn of(&self, public_id: &str) -> Option<String> {
        self.0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(public_id)
            .cloned()
    }
}

/// Where notifications go.
#[derive(Clone, Debug)]
pub(crate) enum OwnerNotifier {
    /// One JSON line per notification in a file (the outbox a mailer would read).
    Log {
        owners: Owners,
        path: Arc<PathBuf>,
        lock: Arc<Mutex<()>>,
    },
    /// Mail through an SMTP relay.
    Smtp(SmtpNotifier),
}

impl OwnerNotifier {
    pub(crate) fn log(owners: Owners, path: PathBuf) -> Self {
        Self::Log {
            owners,
            path: Arc::new(path),
            lock: Arc::default(),
        }
    }

    pub(crate) fn smtp(
        owners: Owners,
        host: &str,
        port: u16,
        from: &str,
    ) -> Result<Self, NotifyError> {
        let notifier = SmtpNotifier::unencrypted_relay(host, port, from, move |subject| {
            subject.id().and_then(|id| owners.of(id))
        })?;
        Ok(Self::Smtp(notifier))
    }
}

impl Notifier for OwnerNotifier {
    async fn notify(&self, n: &Notification) -> Result<(), NotifyError> {
        match self {
            Self::Smtp(smtp) => smtp.notify(n).await,
            Self::Log { owners, path, lock } => {
                // No owner (a key removed since): nothing to tell, and nobody to tell it to.
                let Some(owner) = n.subject.id().and_then(|id| owners.of(id)) else {
                    return Ok(());
                };
                let line = serde_json::json!({
                    "to": owner,
                    "subject": n.subject.to_string(),
                    "failures": n.count,
                    "first_failure_ms": unix_ms(n.first_failure),
                    "last_failure_ms": unix_ms(n.last_failure),
                    "idempotency_key": n.idempotency_key,
                });
                let _guard = lock
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path.as_ref())
                    .and_then(|mut f| writeln!(f, "{line}"))
                    .map_err(|e| NotifyError::Delivery { reason: e.into() })
            }
        }
    }
}
