#![no_main]
//! Re-encryption checkpoint files (`FileCheckpoint::load` parses them from disk, where a
//! crash, a full disk or another tool may have left anything): must never panic.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = rampart_envelope::fuzzing::parse_checkpoint(data);
});
