//! One million distinct subjects in the memory store stay within the documented bound
//! (`MAX_BYTES_PER_SUBJECT`), by the store's own accounting and by the process's RSS.
//! Alone in its test binary so no other test's allocations disturb the RSS reading.

mod common;

use std::time::Duration;

use common::{block_on, t0};
use rampart_attempts::memory::MAX_BYTES_PER_SUBJECT;
use rampart_attempts::{MemoryStore, Subject, Tracker};

const SUBJECTS: usize = 1_000_000;

/// Resident set size in bytes, from /proc/self/statm. On Linux an unreadable /proc fails
/// the test (a silent skip would hide a broken bound); elsewhere there is no RSS check.
fn rss_bytes() -> Option<usize> {
    let statm = match std::fs::read_to_string("/proc/self/statm") {
        Ok(text) => text,
        Err(e) if cfg!(target_os = "linux") => panic!("cannot read /proc/self/statm: {e}"),
        Err(_) => return None,
    };
    let pages: usize = statm
        .split_ascii_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("unexpected /proc/self/statm: {statm:?}"));
    // statm counts pages; 4 KiB on the x86-64 and default aarch64 kernels CI runs.
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
    assert_eq!(store.stats().evicted_protected, 0);
    let heap = store.heap_bytes();
    let per_subject = heap as f64 / SUBJECTS as f64;
    eprintln!(
        "memory store: {heap} heap bytes for {SUBJECTS} subjects = {per_subject:.1} B/subject"
    );
    assert!(
        heap <= SUBJECTS * MAX_BYTES_PER_SUBJECT + 64 * 4096,
        "{heap}"
    );
    // `None` only off Linux, where there is no /proc.
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
