//! One million distinct subjects in the memory store stay within the documented bound
//! (`MAX_BYTES_PER_SUBJECT`), by the store's own accounting and by the process's RSS.
//! Alone in its test binary so no other test's allocations disturb the RSS reading.

mod common;

use std::time::Duration;

use common::{block_on, t0};
use rampart_attempts::memory::MAX_BYTES_PER_SUBJECT;
use rampart_attempts::{MemoryStore, Subject, Tracker};

const SUBJECTS: usize = 1_000_000;

/// Resident set size in bytes (Linux), from /proc/self/statm.
fn rss_bytes() -> Option<usize> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: usize = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

#[test]
fn one_million_subjects_stay_within_the_documented_bound() {
    let rss_before = rss_bytes();
    let tracker = Tracker::new(MemoryStore::default()); // capacity 1,000,000
    for i in 0..SUBJECTS {
        let ip = std::net::Ipv4Addr::from(u32::try_from(i).unwrap());
        let subject = Subject::account_from_ip(format!("user{i}@example.com"), ip.into());
        let now = t0() + Duration::from_millis(u64::try_from(i).unwrap());
        block_on(tracker.record_failure(&subject, now)).unwrap();
    }
    let store = tracker.store();
    assert_eq!(store.len(), SUBJECTS, "all tracked, none evicted");
    assert_eq!(store.stats().evicted, 0);
    let heap = store.heap_bytes();
    let per_subject = heap as f64 / SUBJECTS as f64;
    eprintln!(
        "memory store: {heap} heap bytes for {SUBJECTS} subjects = {per_subject:.1} B/subject"
    );
    assert!(
        heap <= SUBJECTS * MAX_BYTES_PER_SUBJECT + 64 * 4096,
        "{heap}"
    );
    if let (Some(before), Some(after)) = (rss_before, rss_bytes()) {
        let grown = after.saturating_sub(before);
        eprintln!(
            "process RSS grew {grown} bytes = {:.1} B/subject",
            grown as f64 / SUBJECTS as f64
        );
        // The allocator may keep a freed table during a doubling: allow 25% over.
        assert!(
            grown <= SUBJECTS * MAX_BYTES_PER_SUBJECT * 5 / 4,
            "rss grew {grown}"
        );
    }
}
