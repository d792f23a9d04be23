//! The writing side: full-queue policies, key rotation by id, restarts continuing the chain,
//! fsync policies, time rotation, sinks.

mod common;

use std::io;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use common::*;
use rampart_audit::{
    AuditLog, AuthActivity, ChainKey, Error, Event, FileSink, Fsync, KeySet, Outcome, Sink,
    Verifier, WhenFull, WriterSink,
};

/// A sink that blocks every write until the test opens the gate.
#[derive(Clone, Default)]
struct Gate(Arc<(Mutex<bool>, Condvar)>, Arc<Mutex<Vec<u8>>>);

impl Gate {
    fn open(&self) {
        *self.0.0.lock().unwrap() = true;
        self.0.1.notify_all();
    }
}

impl Sink for Gate {
    fn write(&mut self, lines: &[u8]) -> io::Result<()> {
        let (lock, cv) = &*self.0;
        let mut open = lock.lock().unwrap();
        while !*open {
            open = cv.wait(open).unwrap();
        }
        self.1.lock().unwrap().extend_from_slice(lines);
        Ok(())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Starts a log on a closed gate; the file-start line is written before the gate matters.
fn gated(policy: WhenFull) -> (AuditLog, Gate) {
    let gate = Gate::default();
    gate.open();
    let log = AuditLog::builder(key(), gate.clone())
        .with_queue_capacity(2)
        .with_when_full(policy)
        .start()
        .unwrap();
    *gate.0.0.lock().unwrap() = false;
    (log, gate)
}

fn ev() -> Event {
    Event::authentication(AuthActivity::Logon, Outcome::Success)
}

#[test]
fn full_queue_with_drop_and_count_drops_and_counts() {
    let (log, gate) = gated(WhenFull::DropAndCount);
    for _ in 0..50 {
        log.append(ev()).unwrap();
    }
    // At most the queue's 2 slots plus the one the worker holds were taken.
    assert!(log.dropped() >= 47, "dropped {}", log.dropped());
    let dropped = log.dropped();
    gate.open();
    log.shutdown().unwrap();
    let lines = gate.1.lock().unwrap().clone();
    let verdict = Verifier::new()
        .with_keys(keys())
        .verify_bytes(&[("stream", &lines)])
        .unwrap();
    let s = intact(verdict);
    assert_eq!(
        s.records + dropped,
        50,
        "every event was written or counted"
    );
}

#[test]
fn full_queue_with_fail_returns_queue_full() {
    let (log, gate) = gated(WhenFull::Fail);
    let mut failed = 0;
    for _ in 0..20 {
        match log.append(ev()) {
            Ok(()) => {}
            Err(Error::QueueFull) => failed += 1,
            Err(e) => panic!("{e}"),
        }
    }
    assert!(failed >= 17, "failed {failed}");
    assert_eq!(log.dropped(), 0);
    gate.open();
    log.shutdown().unwrap();
}

#[test]
fn full_queue_with_block_waits_and_loses_nothing() {
    let (log, gate) = gated(WhenFull::Block);
    let log = Arc::new(log);
    let writer = {
        let log = Arc::clone(&log);
        std::thread::spawn(move || {
            for _ in 0..20 {
                log.append(ev()).unwrap();
            }
        })
    };
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        !writer.is_finished(),
        "append blocks while the queue is full"
    );
    gate.open();
    writer.join().unwrap();
    let log = Arc::into_inner(log).unwrap();
    log.shutdown().unwrap();
    let lines = gate.1.lock().unwrap().clone();
    let s = intact(
        Verifier::new()
            .with_keys(keys())
            .verify_bytes(&[("s", &lines)])
            .unwrap(),
    );
    assert_eq!(s.records, 20);
}

#[test]
fn rotated_chain_keys_are_verified_by_id() {
    let dir = tempfile::tempdir().unwrap();
    let old = ChainKey::new("2026-11", &[1; 32]).unwrap();
    let log = AuditLog::builder(old, FileSink::open(dir.path(), "audit").unwrap())
        .start()
        .unwrap();
    log.append(ev()).unwrap();
    log.rotate_key(ChainKey::new("2026-12", &[2; 32]).unwrap())
        .unwrap();
    log.append(ev()).unwrap();
    let files = log.shutdown().unwrap();
    let both = KeySet::new()
        .with_key(ChainKey::new("2026-11", &[1; 32]).unwrap())
        .unwrap()
        .with_key(ChainKey::new("2026-12", &[2; 32]).unwrap())
        .unwrap();
    assert_eq!(
        intact(
            Verifier::new()
                .with_keys(both)
                .verify_files(&files)
                .unwrap()
        )
        .records,
        2
    );
    let only_old = KeySet::new()
        .with_key(ChainKey::new("2026-11", &[1; 32]).unwrap())
        .unwrap();
    let b = broken(
        Verifier::new()
            .with_keys(only_old)
            .verify_files(&files)
            .unwrap(),
    );
    assert_eq!((b.line, b.reason.kind()), (3, "unknown_key"));
    // A key under the right id but with other bytes does not verify.
    let wrong = KeySet::new()
        .with_key(ChainKey::new("2026-11", &[1; 32]).unwrap())
        .unwrap()
        .with_key(ChainKey::new("2026-12", &[3; 32]).unwrap())
        .unwrap();
    let b = broken(
        Verifier::new()
            .with_keys(wrong)
            .verify_files(&files)
            .unwrap(),
    );
    assert_eq!((b.line, b.reason.kind()), (3, "chain_mismatch"));
}

#[test]
fn a_restart_continues_the_chain_in_the_next_file() {
    let dir = tempfile::tempdir().unwrap();
    let signer_doc = rampart_audit::CheckpointSigner::generate_pkcs8().unwrap();
    let public = rampart_audit::CheckpointSigner::from_pkcs8(&signer_doc)
        .unwrap()
        .public_key();
    let mut all = Vec::new();
    for run in 0..3 {
        let signer = rampart_audit::CheckpointSigner::from_pkcs8(&signer_doc).unwrap();
        let sink = FileSink::open(dir.path(), "audit")
            .unwrap()
            .with_max_bytes(1500)
            .unwrap();
        let log = AuditLog::builder(key(), sink)
            .with_checkpoints(signer, 3)
            .start()
            .unwrap();
        for i in 0..(5 + run) {
            log.append(event(i)).unwrap();
        }
        all.extend(log.shutdown().unwrap());
    }
    let s = intact(
        Verifier::new()
            .with_keys(keys())
            .with_checkpoint_key(public)
            .with_require_closed(true)
            .verify_files(&all)
            .unwrap(),
    );
    assert_eq!(s.records, 5 + 6 + 7);
    assert!(s.closed);
    let mut listed: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    listed.sort();
    assert_eq!(listed, all, "sorted names are the trail order");
}

#[test]
fn a_restart_without_checkpoints_continues_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let mut all = Vec::new();
    for _ in 0..2 {
        let log = AuditLog::builder(key(), FileSink::open(dir.path(), "audit").unwrap())
            .start()
            .unwrap();
        log.append(ev()).unwrap();
        all.extend(log.shutdown().unwrap());
    }
    assert_eq!(
        intact(
            Verifier::new()
                .with_keys(keys())
                .verify_files(&all)
                .unwrap()
        )
        .records,
        2
    );
}

#[test]
fn time_rotation_and_every_fsync_policy_keep_the_trail_intact() {
    for fsync in [
        Fsync::EveryRecord,
        Fsync::Every(Duration::from_millis(5)),
        Fsync::Never,
    ] {
        let dir = tempfile::tempdir().unwrap();
        let sink = FileSink::open(dir.path(), "audit")
            .unwrap()
            .with_fsync(fsync)
            .with_max_age(Duration::from_millis(20))
            .unwrap();
        let log = AuditLog::builder(key(), sink).start().unwrap();
        for _ in 0..4 {
            log.append(ev()).unwrap();
            log.flush().unwrap();
            std::thread::sleep(Duration::from_millis(25));
        }
        let files = log.shutdown().unwrap();
        assert!(files.len() >= 3, "{fsync:?}: {} files", files.len());
        assert_eq!(
            intact(
                Verifier::new()
                    .with_keys(keys())
                    .verify_files(&files)
                    .unwrap()
            )
            .records,
            4
        );
    }
}

#[test]
fn dropping_the_log_flushes_and_closes_the_trail() {
    let dir = tempfile::tempdir().unwrap();
    {
        let log = AuditLog::builder(key(), FileSink::open(dir.path(), "audit").unwrap())
            .start()
            .unwrap();
        log.append(ev()).unwrap();
    }
    let file = dir.path().join("audit-0000000000.jsonl");
    let s = intact(
        Verifier::new()
            .with_keys(keys())
            .verify_files(&[file])
            .unwrap(),
    );
    assert!(s.closed);
    assert_eq!(s.records, 1);
}

#[test]
fn a_failing_sink_stops_the_log_with_a_typed_error() {
    struct Broken(u32);
    impl Sink for Broken {
        fn write(&mut self, _: &[u8]) -> io::Result<()> {
            self.0 += 1;
            if self.0 > 1 {
                Err(io::Error::other("disk full"))
            } else {
                Ok(())
            }
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let log = AuditLog::builder(key(), Broken(0)).start().unwrap();
    log.append(ev()).unwrap();
    let mut saw = None;
    for _ in 0..100 {
        if let Err(e) = log.append(ev()) {
            saw = Some(e.kind());
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(saw, Some("sink_failed"));
    assert_eq!(log.shutdown().unwrap_err().kind(), "sink");
}

#[test]
fn writer_sink_lines_are_ocsf_json_a_siem_can_read() {
    let buf = Arc::new(Mutex::new(Vec::new()));
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl io::Write for Shared {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let log = AuditLog::builder(key(), WriterSink::new(Shared(Arc::clone(&buf))))
        .start()
        .unwrap();
    log.append(event(0)).unwrap();
    log.shutdown().unwrap();
    let text = String::from_utf8(buf.lock().unwrap().clone()).unwrap();
    let record: serde_json::Value = serde_json::from_str(text.lines().nth(1).unwrap()).unwrap();
    let e = &record["event"];
    assert_eq!(e["class_uid"], 3002);
    assert_eq!(e["category_uid"], 3);
    assert_eq!(e["activity_id"], 1);
    assert_eq!(e["type_uid"], 300_201);
    assert_eq!(e["status_id"], 2);
    assert_eq!(e["severity_id"], 2);
    assert_eq!(e["actor"]["user"]["name"], "user0");
    assert_eq!(e["src_endpoint"]["ip"], "203.0.113.5");
    assert_eq!(e["metadata"]["product"]["name"], "rampart");
    assert!(e["time"].as_u64().unwrap() > 1_700_000_000_000);
}

#[test]
fn keys_never_show_in_debug_or_errors() {
    let k = ChainKey::new("k1", &[0xAB; 32]).unwrap();
    let shown = format!("{k:?}");
    assert!(shown.contains("[REDACTED]") && !shown.contains("ab, ab") && !shown.contains("171"));
    let err = KeySet::parse("k1 q6urq6urq6urq6urq6urq6urq6urq6ur\n").unwrap_err();
    assert!(!err.to_string().contains("q6ur"));
    let signer = rampart_audit::CheckpointSigner::from_pkcs8(
        &rampart_audit::CheckpointSigner::generate_pkcs8().unwrap(),
    )
    .unwrap();
    assert!(format!("{signer:?}").contains("[REDACTED]"));
}
