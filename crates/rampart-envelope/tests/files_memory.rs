//! Constant memory: a 1 GiB stream is encrypted and decrypted while the process's peak
//! resident set (VmHWM in /proc/self/status) stays under 16 MiB.
//!
//! This test lives alone in its own integration-test binary so that the peak measured is
//! this test's and nothing else's. The data is generated on the fly and never held: a
//! writer thread encrypts into an OS pipe, the test thread decrypts from it and compares
//! each chunk with the regenerated plaintext.

use std::io::{Read, Write};
use std::time::{Duration, SystemTime};

use rampart_envelope::stream::{DecryptingReader, EncryptingWriter};
use rampart_envelope::{Context, Keyring, LocalMasterKey};

const TOTAL: u64 = 1 << 30;
const CHUNK: usize = 1 << 16;
const LIMIT_KIB: u64 = 16 * 1024;

/// Fills `buf` with the plaintext that starts at byte `offset` (position-dependent words).
fn fill(buf: &mut [u8], offset: u64) {
    for (word, c) in (offset / 8..).zip(buf.chunks_exact_mut(8)) {
        c.copy_from_slice(&word.wrapping_mul(0x9E37_79B9_7F4A_7C15).to_le_bytes());
    }
}

fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_ascii_whitespace().nth(1)?.parse().ok()
}

#[test]
fn one_gib_round_trip_peaks_under_16_mib() {
    let Some(before) = status_kib("VmHWM:") else {
        rampart_testkit::tool::missing("/proc/self/status (Linux)");
        return;
    };
    let master = LocalMasterKey::generate().unwrap();
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let ring = Keyring::create("big", "eu-central", &master, now).unwrap();
    let ctx = Context::new().with("object", "one-gib");
    let (pipe_r, pipe_w) = std::io::pipe().unwrap();

    let received = std::thread::scope(|s| {
        let writer = s.spawn(|| {
            let mut w = EncryptingWriter::new(&ring, &ctx, pipe_w).unwrap();
            let mut buf = vec![0u8; CHUNK];
            let mut offset = 0u64;
            while offset < TOTAL {
                fill(&mut buf, offset);
                w.write_all(&buf).unwrap();
                offset += CHUNK as u64;
            }
            drop(w.finish().unwrap()); // closes the pipe: EOF for the reader
        });

        let mut r = DecryptingReader::new(&ring, &ctx, pipe_r).unwrap();
        let mut got = vec![0u8; CHUNK];
        let mut want = vec![0u8; CHUNK];
        let mut offset = 0u64;
        loop {
            let mut n = 0;
            while n < CHUNK {
                let k = r.read(&mut got[n..]).unwrap();
                if k == 0 {
                    break;
                }
                n += k;
            }
            if n == 0 {
                break;
            }
            fill(&mut want, offset);
            assert!(
                got[..n] == want[..n],
                "plaintext differs at offset {offset}"
            );
            offset += n as u64;
        }
        writer.join().unwrap();
        offset
    });

    let peak = status_kib("VmHWM:").unwrap();
    eprintln!(
        "1 GiB round trip: VmHWM {peak} KiB at the end ({before} KiB before the stream), limit {LIMIT_KIB} KiB"
    );
    assert_eq!(received, TOTAL);
    assert!(
        peak < LIMIT_KIB,
        "peak resident set {peak} KiB exceeds 16 MiB"
    );
}
