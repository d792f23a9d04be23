//! Email notifier over SMTP (feature `smtp`, the `lettre` crate).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use ring::digest;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::NotifyError;
use crate::notify::{Notification, Notifier};
use crate::subject::Subject;

type OwnerLookup = Arc<dyn Fn(&Subject) -> Option<String> + Send + Sync>;

/// Emails the owner of a subject when its streak crosses the threshold.
///
/// The owner's address comes from a lookup the service provides (public key id -> account ->
/// email); `None` means nobody to tell (the notification is still returned to the caller).
/// The `Message-ID` is derived from the notification's idempotency key, so a duplicate sent
/// after a Redis failover carries the same id and mail systems can drop it.
///
/// This build of `lettre` has no TLS: the notifier talks plain SMTP to a relay the service
/// trusts (a local MTA, a sidecar), hence the loud constructor name. Needs a Tokio runtime.
///
/// ```no_run
/// use rampart_attempts::SmtpNotifier;
/// let notifier = SmtpNotifier::unencrypted_relay("127.0.0.1", 25, "security@example.com", |s| {
///     s.id().map(|_key| "owner@example.com".to_owned()) // look the owner up here
/// })?;
/// # Ok::<(), rampart_attempts::NotifyError>(())
/// ```
#[derive(Clone)]
pub struct SmtpNotifier {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    lookup: OwnerLookup,
}

impl fmt::Debug for SmtpNotifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpNotifier")
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

impl SmtpNotifier {
    /// A notifier sending through the SMTP relay at `host:port` without TLS, from `from`,
    /// to the address `owner_of` returns. Each send times out after 10 seconds.
    ///
    /// Errors: [`NotifyError::InvalidAddress`] when `from` is not a mailbox.
    pub fn unencrypted_relay(
        host: &str,
        port: u16,
        from: &str,
        owner_of: impl Fn(&Subject) -> Option<String> + Send + Sync + 'static,
    ) -> Result<Self, NotifyError> {
        let from: Mailbox = from.parse().map_err(|_| NotifyError::InvalidAddress)?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .timeout(Some(Duration::from_secs(10)))
            .build();
        Ok(SmtpNotifier {
            transport,
            from,
            lookup: Arc::new(owner_of),
        })
    }

    /// The message for `n` to `to` (exposed for tests and previews).
    ///
    /// Errors: [`NotifyError::InvalidAddress`] or [`NotifyError::Message`].
    pub fn message(&self, n: &Notification, to: &str) -> Result<Message, NotifyError> {
        let to: Mailbox = to.parse().map_err(|_| NotifyError::InvalidAddress)?;
        let key_hash = digest::digest(&digest::SHA256, n.idempotency_key.as_bytes());
        let id_hex: String = key_hash.as_ref()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let body = format!(
            "There were {count} consecutive failed authentication attempts against your \
             {subject}.\n\n\
             First failure: {first}\nLatest failure: {last}\n\n\
             If this was not you, someone may be guessing your credentials. Rotate the \
             secret if you think it leaked. {response}\n\n\
             Reference: {key}\n",
            count = n.count,
            subject = n.subject,
            first = rfc3339(n.first_failure),
            last = rfc3339(n.last_failure),
            response = what_happens_next(n),
            key = printable(&n.idempotency_key),
        );
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(format!(
                "Security notice: {} failed attempts on {}",
                n.count, n.subject
            ))
            .message_id(Some(format!("<{id_hex}@rampart-attempts>")))
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| NotifyError::Message { reason: e.into() })
    }
}

impl Notifier for SmtpNotifier {
    async fn notify(&self, n: &Notification) -> Result<(), NotifyError> {
        let Some(to) = (self.lookup)(&n.subject) else {
            return Ok(());
        };
        let message = self.message(n, &to)?;
        self.transport
            .send(message)
            .await
            .map(drop)
            .map_err(|e| NotifyError::Delivery { reason: e.into() })
    }
}

/// What the policy in force does to further attempts, in words that are true for it (a
/// notify-only public key must not be described as slowed down).
fn what_happens_next(n: &Notification) -> String {
    let p = &n.policy;
    let lock = p.lockout.map(|l| {
        let how = if l.duration.is_some() {
            "for a while"
        } else {
            "until unlocked"
        };
        if n.count >= l.after {
            format!("Further attempts are refused {how}.")
        } else {
            format!(
                "After {} consecutive failures further attempts will be refused {how}.",
                l.after
            )
        }
    });
    let slow = p.backoff.map(|b| {
        if n.count > b.free_attempts {
            "Further attempts are being slowed down.".to_owned()
        } else {
            format!(
                "Attempts beyond {} consecutive failures will be slowed down.",
                b.free_attempts
            )
        }
    });
    match (slow, lock) {
        (Some(s), Some(l)) => format!("{s} {l}"),
        (Some(s), None) => s,
        (None, Some(l)) => l,
        (None, None) => "Attempts against it are counted but not slowed down or blocked \
                         (anyone who has seen its public part could otherwise lock you out)."
            .to_owned(),
    }
}

/// RFC 3339 in UTC. Checked: `OffsetDateTime::from(SystemTime)` panics outside the range
/// of `time` (the clock a failure was recorded with is the caller's); such a time, or one
/// RFC 3339 cannot write (after year 9999), falls back to seconds since the epoch.
fn rfc3339(t: std::time::SystemTime) -> String {
    let nanos = match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i128::try_from(d.as_nanos()).ok(),
        Err(e) => i128::try_from(e.duration().as_nanos()).ok().map(|n| -n),
    };
    nanos
        .and_then(|n| OffsetDateTime::from_unix_timestamp_nanos(n).ok())
        .and_then(|d| d.format(&Rfc3339).ok())
        .unwrap_or_else(|| match t.duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => format!("{} s after 1970-01-01T00:00:00Z", d.as_secs()),
            Err(e) => format!("{} s before 1970-01-01T00:00:00Z", e.duration().as_secs()),
        })
}

fn printable(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}
