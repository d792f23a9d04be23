//! rampart-audit benchmarks (BENCHMARKS.md, "rampart-audit").
//!
//! - `audit_append`: what a request pays to audit one event, against its floor, a plain
//!   `serde_json::to_writer` of the same event into a reused `Vec` (both clone the event
//!   first, as a request builds one). `append_with_room` is the request-path cost while the
//!   queue has room (target ratio to `serde_json_to_writer` <= 1.5).
//!   `append_drop_and_count` is the cost with the queue full under `DropAndCount` (most
//!   events dropped and counted). `append_block` is the sustained rate when every event
//!   must be written: the worker's serialisation and HMAC-SHA256 per record, and the
//!   thread hand-off on a full queue, bound it.
//! - `audit_file_sink`: sustained appends into a rotating file sink with fsync every 100 ms
//!   (records/s from criterion's throughput line).
//!
//! `cargo bench -p rampart --no-default-features --features audit --bench audit -- --warm-up-time 1 --measurement-time 3`

// criterion_group! generates an undocumented `pub fn benches`.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rampart_audit::{
    AuditLog, AuthActivity, ChainKey, Event, FileSink, Fsync, Outcome, User, WhenFull, WriterSink,
};

fn event() -> Event {
    Event::authentication(AuthActivity::Logon, Outcome::Failure)
        .with_actor(User::named("alice@example.com").with_uid("42"))
        .with_user(User::named("alice@example.com"))
        .with_src_ip("203.0.113.5".parse().expect("ip"))
        .with_status_detail("mismatch")
}

fn key() -> ChainKey {
    ChainKey::new("bench", &[0x5a; 32]).expect("key")
}

fn append(c: &mut Criterion) {
    let e = event();
    let mut g = c.benchmark_group("audit_append");
    g.throughput(Throughput::Elements(1));
    let mut buf = Vec::with_capacity(1024);
    g.bench_function("serde_json_to_writer", |b| {
        b.iter(|| {
            buf.clear();
            let ev = black_box(&e).clone();
            serde_json::to_writer(&mut buf, &ev).expect("serialize");
            black_box(buf.len())
        });
    });
    let log = AuditLog::builder(key(), WriterSink::new(std::io::sink()))
        .with_queue_capacity(65_536)
        .with_when_full(WhenFull::DropAndCount)
        .start()
        .expect("start");
    // The request-path cost while the queue has room: the queue is drained (untimed) before
    // each sample, and a sample's appends fit in it; the worker drains concurrently, on the
    // same cores, as in a service.
    let roomy = AuditLog::builder(key(), WriterSink::new(std::io::sink()))
        .with_queue_capacity(1 << 17)
        .with_when_full(WhenFull::Block)
        .start()
        .expect("start");
    g.bench_function("append_with_room", |b| {
        b.iter_custom(|iters| {
            roomy.flush().expect("flush");
            let start = std::time::Instant::now();
            for _ in 0..iters {
                roomy.append(black_box(&e).clone()).expect("append");
            }
            start.elapsed()
        });
    });
    drop(roomy);
    g.bench_function("append_drop_and_count", |b| {
        b.iter(|| log.append(black_box(&e).clone()).expect("append"));
    });
    eprintln!("append_drop_and_count: {} events dropped", log.dropped());
    drop(log);
    let log = AuditLog::builder(key(), WriterSink::new(std::io::sink()))
        .with_queue_capacity(65_536)
        .start()
        .expect("start");
    g.bench_function("append_block", |b| {
        b.iter(|| log.append(black_box(&e).clone()).expect("append"));
    });
    g.finish();
}

fn file_sink(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let sink = FileSink::open(dir.path(), "bench")
        .expect("sink")
        .with_fsync(Fsync::Every(Duration::from_millis(100)))
        .with_max_bytes(64 << 20)
        .expect("max bytes");
    let log = AuditLog::builder(key(), sink)
        .with_queue_capacity(65_536)
        .start()
        .expect("start");
    let e = event();
    let mut g = c.benchmark_group("audit_file_sink");
    g.throughput(Throughput::Elements(1));
    g.bench_function("append_fsync_100ms", |b| {
        b.iter(|| log.append(black_box(&e).clone()).expect("append"));
    });
    g.finish();
    let files = log.shutdown().expect("shutdown");
    eprintln!("audit_file_sink: {} files written", files.len());
}

criterion_group!(benches, append, file_sink);
criterion_main!(benches);
