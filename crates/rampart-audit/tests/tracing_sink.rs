//! `TracingSink` (feature `tracing`): every audit line becomes one `tracing` event with target
//! `rampart_audit` and the line in its `record` field, so the lines a subscriber collects are
//! themselves a trail the verifier accepts.
#![cfg(feature = "tracing")]

use std::fmt;
use std::sync::{Arc, Mutex};

use rampart_audit::{
    AuditLog, AuthActivity, ChainKey, Event, KeySet, Outcome, TracingSink, User, Verdict, Verifier,
};
use tracing::field::{Field, Visit};
use tracing::{Metadata, Subscriber, span};

/// A subscriber that keeps (target, `record` field) of every event.
struct Collect(Arc<Mutex<Vec<(String, String)>>>);

struct RecordField(Option<String>);

impl Visit for RecordField {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "record" {
            self.0 = Some(format!("{value:?}"));
        }
    }
}

impl Subscriber for Collect {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }
    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}
    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut field = RecordField(None);
        event.record(&mut field);
        if let Some(record) = field.0 {
            let target = event.metadata().target().to_owned();
            self.0.lock().unwrap().push((target, record));
        }
    }
    fn enter(&self, _: &span::Id) {}
    fn exit(&self, _: &span::Id) {}
}

#[test]
fn each_line_is_one_tracing_event_and_the_collected_lines_verify() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    // The sink writes on the log's worker thread: the subscriber must be global.
    tracing::subscriber::set_global_default(Collect(Arc::clone(&seen))).unwrap();

    let key = [9u8; 32];
    let log = AuditLog::builder(ChainKey::new("k1", &key).unwrap(), TracingSink::new())
        .start()
        .unwrap();
    for who in ["ann", "bob"] {
        log.append(
            Event::authentication(AuthActivity::Logon, Outcome::Failure)
                .with_user(User::named(who)),
        )
        .unwrap();
    }
    log.shutdown().unwrap();

    let seen = seen.lock().unwrap().clone();
    assert!(seen.iter().all(|(target, _)| target == "rampart_audit"));
    let lines: Vec<&str> = seen.iter().map(|(_, line)| line.as_str()).collect();
    assert!(
        lines.iter().all(|l| !l.contains('\n')),
        "one line per event"
    );
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains(r#""class_uid":3002"#))
            .count(),
        2
    );
    assert!(lines.iter().any(|l| l.contains(r#""name":"bob""#)));

    let trail = lines.iter().map(|l| format!("{l}\n")).collect::<String>();
    let keys = KeySet::new()
        .with_key(ChainKey::new("k1", &key).unwrap())
        .unwrap();
    let verdict = Verifier::new()
        .with_keys(keys)
        .verify_bytes(&[("tracing", trail.as_bytes())])
        .unwrap();
    match verdict {
        Verdict::Intact(s) => assert_eq!(s.records, 2),
        Verdict::Broken(b) => panic!("collected trail broken at line {}: {}", b.line, b.reason),
    }
}
