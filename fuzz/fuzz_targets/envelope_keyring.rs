#![no_main]
use libfuzzer_sys::fuzz_target;

// Placeholder until the owning crate's parser lands; replaced by the crate's own target.
fuzz_target!(|data: &[u8]| {
    let _ = data;
});
