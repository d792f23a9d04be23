//! The email notifier against a real SMTP server (rampart-testkit's `SmtpServer`: aiosmtpd,
//! started by the test, saving to a maildir); the message is checked on the receiving side.
#![cfg(feature = "smtp")]

mod common;

use std::net::TcpListener;
use std::time::Duration;

use common::t0;
use rampart_attempts::{MemoryStore, Notifier, NotifyError, SmtpNotifier, Subject, Tracker};
use rampart_testkit::SmtpServer;
use rampart_testkit::smtp::unfold;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owner_receives_one_email_at_the_threshold() {
    let Some(sink) = SmtpServer::start() else {
        return;
    };
    let notifier =
        SmtpNotifier::unencrypted_relay("127.0.0.1", sink.port(), "security@rampart.test", |s| {
            (s.id() == Some("pk_live_owner")).then(|| "owner@customer.test".to_owned())
        })
        .unwrap();
    let tracker = Tracker::new(MemoryStore::default()).with_notifier(notifier);
    let key = Subject::api_key("pk_live_owner");
    for i in 0..25u64 {
        let out = tracker
            .record_failure(&key, t0() + Duration::from_secs(i))
            .await
            .unwrap();
        assert!(out.notify_error.is_none(), "{:?}", out.notify_error);
    }
    let mails = sink.wait_for_messages(1, Duration::from_secs(10));
    assert_eq!(mails.len(), 1, "exactly one email");
    let mail = &mails[0];
    assert!(mail.contains("X-RcptTo: owner@customer.test"), "{mail}");
    assert!(mail.contains("X-MailFrom: security@rampart.test"), "{mail}");
    assert!(
        mail.contains("Subject: Security notice: 20 failed attempts on API key pk_live_owner"),
        "{mail}"
    );
    assert!(
        mail.contains("There were 20 consecutive failed authentication attempts"),
        "{mail}"
    );
    assert!(mail.contains("pk_live_owner"));
    assert!(
        mail.contains("First failure: 2026-01-01T00:00:00Z"),
        "{mail}"
    );
    assert!(
        mail.contains("Latest failure: 2026-01-01T00:00:19Z"),
        "{mail}"
    );
    assert!(mail.contains("Message-ID: <"), "{mail}");
    // The public key's default policy only counts: the email must not claim otherwise.
    assert!(
        mail.contains("counted but not slowed down or blocked"),
        "{mail}"
    );
    assert!(!mail.contains("being slowed down"), "{mail}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_smtp_server_is_a_delivery_error_not_a_panic() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let notifier =
        SmtpNotifier::unencrypted_relay("127.0.0.1", port, "security@rampart.test", |_| {
            Some("owner@customer.test".to_owned())
        })
        .unwrap();
    let tracker = Tracker::new(MemoryStore::default()).with_notifier(notifier.clone());
    let key = Subject::api_key("pk_x");
    let mut last = None;
    for _ in 0..20 {
        last = Some(tracker.record_failure(&key, t0()).await.unwrap());
    }
    let last = last.unwrap();
    assert!(last.notification.is_some());
    assert!(matches!(
        last.notify_error,
        Some(NotifyError::Delivery { .. })
    ));
    let n = last.notification.unwrap();
    assert!(notifier.notify(&n).await.is_err());
}

#[test]
fn invalid_sender_address_is_rejected() {
    let r = SmtpNotifier::unencrypted_relay("127.0.0.1", 25, "not an address", |_| None);
    assert!(matches!(r, Err(NotifyError::InvalidAddress)));
}

#[test]
fn crafted_subject_id_cannot_inject_headers() {
    let notifier =
        SmtpNotifier::unencrypted_relay("127.0.0.1", 25, "security@rampart.test", |_| None)
            .unwrap();
    let n = sample("pk\r\nBcc: victim@evil.test");
    let message = notifier.message(&n, "owner@customer.test").unwrap();
    let text = String::from_utf8(message.formatted()).unwrap();
    assert!(!text.contains("\r\nBcc:"), "{text}");
}

fn sample(id: &str) -> rampart_attempts::Notification {
    sample_at(&Subject::api_key(id), t0())
}

/// A real notification, built through the tracker with the default policies.
fn sample_at(subject: &Subject, at: std::time::SystemTime) -> rampart_attempts::Notification {
    let tracker = Tracker::new(MemoryStore::default());
    let mut out = None;
    for _ in 0..20 {
        out = common::block_on(tracker.record_failure(subject, at))
            .unwrap()
            .notification;
    }
    out.unwrap()
}

fn body_of(n: &rampart_attempts::Notification) -> String {
    let notifier =
        SmtpNotifier::unencrypted_relay("127.0.0.1", 25, "security@rampart.test", |_| None)
            .unwrap();
    let raw = notifier
        .message(n, "owner@customer.test")
        .unwrap()
        .formatted();
    unfold(&String::from_utf8(raw).unwrap())
}

#[test]
fn a_time_beyond_the_calendar_is_written_as_epoch_seconds_not_a_panic() {
    // Year ~318,000: `OffsetDateTime::from(SystemTime)` panics on it.
    let far = std::time::UNIX_EPOCH + Duration::from_secs(10_000_000_000_000);
    let body = body_of(&sample_at(&Subject::api_key("pk_far"), far));
    assert!(
        body.contains("First failure: 10000000000000 s after 1970-01-01T00:00:00Z"),
        "{body}"
    );
}

#[test]
fn the_email_says_what_the_policy_in_force_does() {
    let key = body_of(&sample_at(&Subject::api_key("pk_a"), t0()));
    assert!(
        key.contains("counted but not slowed down or blocked"),
        "{key}"
    );
    assert!(!key.contains("slowed down."), "{key}");
    // Accounts are throttled by default (5 free attempts, then backoff).
    let account = body_of(&sample_at(&Subject::account("ann"), t0()));
    assert!(
        account.contains("Further attempts are being slowed down."),
        "{account}"
    );
    assert!(!account.contains("refused"), "{account}");
}
