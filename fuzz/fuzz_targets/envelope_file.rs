//! Encrypted-file header and segment parsing (rampart-envelope `stream`).
//!
//! The first byte picks a mode; the rest drives it:
//! 0. the input is a whole file, opened with the golden-vector keyring (seeds are real
//!    golden files, so the fuzzer starts past the header checks);
//! 1. a valid header followed by a fuzzed body: segment splitting, look-ahead, truncation;
//! 2. byte edits `(u32 offset, xor)` of a valid file: any change must fail (no forgery);
//! 3. seekable reads at fuzzed positions of a valid file cut at a fuzzed length.
#![no_main]

use std::io::{Cursor, Read, Seek, SeekFrom};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rampart_envelope::stream::{
    DecryptingReader, EncryptingWriter, FileHeader, SeekableReader, detect,
};
use rampart_envelope::{Context, Keyring, LocalMasterKey};

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../crates/rampart-envelope/tests/vectors/files_v1/"
);

struct Fixture {
    ring: Keyring,
    ctx: Context,
    file: Vec<u8>,
    plain: Vec<u8>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let key = std::fs::read_to_string(format!("{VECTORS}master.key")).unwrap();
        let master = LocalMasterKey::from_base64(&key).unwrap();
        let json = std::fs::read_to_string(format!("{VECTORS}keyring.json")).unwrap();
        let ring = Keyring::from_json(&json, &master).unwrap();
        let ctx = Context::new().with("tenant", "acme").with("kind", "upload");
        let plain: Vec<u8> = (0..2 * 65_536 + 10)
            .map(|i: usize| (i % 251) as u8)
            .collect();
        let mut w = EncryptingWriter::new(&ring, &ctx, Vec::new()).unwrap();
        std::io::Write::write_all(&mut w, &plain).unwrap();
        let file = w.finish().unwrap();
        Fixture {
            ring,
            ctx,
            file,
            plain,
        }
    })
}

fn drain<R: Read>(mut r: R) -> Result<Vec<u8>, std::io::Error> {
    let mut out = Vec::new();
    r.read_to_end(&mut out).map(|_| out)
}

fuzz_target!(|data: &[u8]| {
    let _ = detect(data);
    let _ = FileHeader::parse(data);
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let f = fixture();
    match mode % 4 {
        0 => {
            if let Ok(r) = DecryptingReader::new(&f.ring, &f.ctx, rest) {
                let _ = drain(r);
            }
            if let Ok(r) = SeekableReader::new(&f.ring, &f.ctx, Cursor::new(rest)) {
                let _ = drain(r);
            }
        }
        1 => {
            let mut file = f.file[..200].to_vec();
            file.extend_from_slice(rest);
            let seq = DecryptingReader::new(&f.ring, &f.ctx, &file[..])
                .ok()
                .map(drain);
            // A fuzzed body can only decrypt if it is the real one.
            if let Some(Ok(out)) = seq {
                assert_eq!(file, f.file, "forged body decrypted");
                assert_eq!(out, f.plain);
            }
            if let Ok(r) = SeekableReader::new(&f.ring, &f.ctx, Cursor::new(&file)) {
                let _ = drain(r);
            }
        }
        2 => {
            let mut file = f.file.clone();
            for edit in rest.chunks_exact(5) {
                let at = u32::from_le_bytes([edit[0], edit[1], edit[2], edit[3]]) as usize;
                let len = file.len();
                file[at % len] ^= edit[4];
            }
            let changed = file != f.file;
            match DecryptingReader::new(&f.ring, &f.ctx, &file[..]).map(drain) {
                Ok(Ok(out)) => {
                    assert!(!changed, "an edited file decrypted");
                    assert_eq!(out, f.plain);
                }
                _ => assert!(changed, "the untouched file failed"),
            }
        }
        _ => {
            let (cut, ops) = rest.split_at(rest.len().min(4));
            let mut c = [0u8; 4];
            c[..cut.len()].copy_from_slice(cut);
            let cut = (u32::from_le_bytes(c) as usize) % (f.file.len() + 1);
            let Ok(mut r) = SeekableReader::new(&f.ring, &f.ctx, Cursor::new(&f.file[..cut]))
            else {
                return;
            };
            assert_eq!(
                cut,
                f.file.len(),
                "a cut file passed the final-segment check"
            );
            let mut buf = [0u8; 300];
            for op in ops.chunks_exact(4) {
                let pos =
                    u64::from(u32::from_le_bytes([op[0], op[1], op[2], op[3]])) % (r.len() + 10);
                let p = r.seek(SeekFrom::Start(pos)).unwrap();
                let n = r.read(&mut buf).unwrap();
                let p = p as usize;
                assert_eq!(
                    &buf[..n],
                    &f.plain[p.min(f.plain.len())..(p + n).min(f.plain.len())]
                );
            }
        }
    }
});
