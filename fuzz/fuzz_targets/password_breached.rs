#![no_main]
//! Parses arbitrary bytes as a breached-password list (`BreachedSet::from_reader`): plain
//! passwords and SHA-1 hex lines (`HEX` or `HEX:count`), mixed, with any line endings. Must
//! never panic; when the list loads, it holds at most one entry per non-empty line and every
//! plain ASCII line is then reported as breached.
use libfuzzer_sys::fuzz_target;
use rampart_password::{BreachedCheck, BreachedSet};

/// The documented hex form, written out independently of the parser.
fn is_hex_line(line: &str) -> bool {
    let b = line.as_bytes();
    b.len() >= 40
        && b[..40].iter().all(u8::is_ascii_hexdigit)
        && (b.len() == 40 || (b[40] == b':' && b[41..].iter().all(u8::is_ascii_digit)))
}

fuzz_target!(|data: &[u8]| {
    let Ok(set) = BreachedSet::from_reader(data) else {
        // Only non-UTF-8 input may fail (the reader itself cannot).
        assert!(std::str::from_utf8(data).is_err());
        return;
    };
    let text = std::str::from_utf8(data).expect("a list that loaded is UTF-8");
    let entries: Vec<&str> = text
        .split_terminator('\n')
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.is_empty())
        .collect();
    assert!(set.len() <= entries.len());
    assert_eq!(set.is_empty(), entries.is_empty());
    for entry in entries {
        // ASCII is its own NFKC form, so the plain entry is what the policy would look up.
        if entry.is_ascii() && !is_hex_line(entry) {
            assert!(set.is_breached(entry), "loaded entry not found");
        }
    }
});
