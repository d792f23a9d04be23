//! Golden vectors for the encrypted-file format v1 (`tests/vectors/files_v1/`): files made
//! once, with their master key and keyrings, that every future version of the crate must
//! still open (or, for the purged retention bucket, refuse with `Expired`).
//!
//! Regenerate (only when adding a format version, never to "fix" a failure):
//! `RAMPART_WRITE_VECTORS=1 cargo test -p rampart-envelope --test files_vectors -- --ignored`

use std::io::{Cursor, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use rampart_envelope::retention::{BucketSize, RetentionKeyring, RetentionPolicy};
use rampart_envelope::stream::{
    DecryptingReader, EncryptingWriter, FileHeader, HEADER_LEN, SeekableReader, rewrap_header,
    wrapping_version,
};
use rampart_envelope::{Context, Error, Keyring, LocalMasterKey};
use serde_json::{Value, json};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/files_v1")
}

/// The plaintext of every vector: byte `i` is `i mod 251`.
fn plaintext(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251).to_le_bytes()[0]).collect()
}

fn context(v: &Value) -> Context {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect()
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn master() -> LocalMasterKey {
    LocalMasterKey::from_base64(std::str::from_utf8(&read("master.key")).unwrap()).unwrap()
}

#[test]
fn golden_files_still_open() {
    let manifest: Value = serde_json::from_slice(&read("vectors.json")).unwrap();
    let master = master();
    let values =
        Keyring::from_json(std::str::from_utf8(&read("keyring.json")).unwrap(), &master).unwrap();
    let retention = RetentionKeyring::load(dir().join("retention-keyring.json"), &master).unwrap();
    let cases = manifest["files"].as_array().unwrap();
    assert!(cases.len() >= 8);
    for case in cases {
        let name = case["file"].as_str().unwrap();
        let file = read(name);
        let ctx = context(&case["context"]);
        let ring = match case["keyring"].as_str().unwrap() {
            "values" => &values,
            "retention" => retention.keyring(),
            other => panic!("{name}: keyring {other}"),
        };
        let header = FileHeader::parse(&file).unwrap();
        assert_eq!(
            &file[..6],
            b"RPF\x01\x01\x10",
            "{name}: magic, version, suite, log2"
        );
        assert_eq!(header.keyring_id(), ring.id().0, "{name}: keyring id");
        assert_eq!(
            u64::from(wrapping_version(&header).unwrap()),
            case["wrapping_version"].as_u64().unwrap(),
            "{name}"
        );
        match case["expect"].as_str().unwrap() {
            "plaintext" => {
                let want =
                    plaintext(usize::try_from(case["plaintext_len"].as_u64().unwrap()).unwrap());
                let mut got = Vec::new();
                DecryptingReader::new(ring, &ctx, &file[..])
                    .unwrap()
                    .read_to_end(&mut got)
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
                assert!(got == want, "{name}: plaintext");
                let mut s = SeekableReader::new(ring, &ctx, Cursor::new(&file)).unwrap();
                assert_eq!(s.len(), want.len() as u64, "{name}: seekable length");
                if !want.is_empty() {
                    s.seek(SeekFrom::End(-1)).unwrap();
                    let mut last = [0u8; 1];
                    s.read_exact(&mut last).unwrap();
                    assert_eq!(last[0], want[want.len() - 1], "{name}: last byte");
                }
            }
            "expired" => {
                let purged_at = SystemTime::UNIX_EPOCH
                    + Duration::from_secs(case["purged_at_unix"].as_u64().unwrap());
                match DecryptingReader::new(ring, &ctx, &file[..]) {
                    Err(Error::Expired {
                        bucket,
                        purged_at: at,
                    }) => {
                        assert_eq!(
                            u64::from(bucket),
                            case["wrapping_version"].as_u64().unwrap()
                        );
                        assert_eq!(at, purged_at, "{name}: tombstone time");
                    }
                    other => panic!("{name}: expected Expired, got {:?}", other.map(|_| ())),
                }
            }
            other => panic!("{name}: expect {other}"),
        }
    }
}

#[test]
fn golden_rekeyed_file_shares_its_body_with_the_original() {
    let before = read("rekey_before_v1.rpf");
    let after = read("rekey_after_v2.rpf");
    assert_eq!(before[HEADER_LEN..], after[HEADER_LEN..]);
    assert_eq!(before[..44], after[..44]);
    assert_eq!(before[164..HEADER_LEN], after[164..HEADER_LEN]);
    assert_ne!(before[44..164], after[44..164]);
}

// ---- generator ------------------------------------------------------------------------------

fn t0() -> SystemTime {
    // 2026-11-23T10:15:00Z
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_515_300)
}

fn encrypt(ring: &Keyring, ctx: &Context, len: usize) -> Vec<u8> {
    let mut w = EncryptingWriter::new(ring, ctx, Vec::new()).unwrap();
    w.write_all(&plaintext(len)).unwrap();
    w.finish().unwrap()
}

fn pairs(ctx: &Context) -> Value {
    Value::Object(ctx.pairs().map(|(k, v)| (k.to_owned(), json!(v))).collect())
}

#[test]
#[ignore = "writes the golden vectors; run once per format version"]
fn generate_file_vectors() {
    if std::env::var("RAMPART_WRITE_VECTORS").as_deref() != Ok("1") {
        eprintln!("set RAMPART_WRITE_VECTORS=1 to overwrite tests/vectors/files_v1");
        return;
    }
    let d = dir();
    std::fs::create_dir_all(&d).unwrap();
    let master = LocalMasterKey::generate().unwrap();
    std::fs::write(
        d.join("master.key"),
        master.expose_secret_base64().as_bytes(),
    )
    .unwrap();
    let mut ring = Keyring::create("golden-files", "eu-central", &master, t0()).unwrap();
    let mut cases = Vec::new();
    let acme = Context::new().with("tenant", "acme").with("kind", "upload");
    let none = Context::new();
    for (file, ctx, len) in [
        ("empty.rpf", &acme, 0usize),
        ("small.rpf", &acme, 27),
        ("exact_segment.rpf", &acme, 65_536),
        ("two_segments_plus.rpf", &acme, 2 * 65_536 + 10),
        ("no_context.rpf", &none, 1000),
    ] {
        std::fs::write(d.join(file), encrypt(&ring, ctx, len)).unwrap();
        cases.push(
            json!({"file": file, "keyring": "values", "context": pairs(ctx),
            "plaintext_len": len, "wrapping_version": 1, "expect": "plaintext"}),
        );
    }
    let before = encrypt(&ring, &acme, 70_000);
    ring.rotate(&master, t0()).unwrap();
    let h = rewrap_header(&ring, &acme, &FileHeader::parse(&before).unwrap())
        .unwrap()
        .unwrap();
    let mut after = h.as_bytes().to_vec();
    after.extend_from_slice(&before[HEADER_LEN..]);
    std::fs::write(d.join("rekey_before_v1.rpf"), &before).unwrap();
    std::fs::write(d.join("rekey_after_v2.rpf"), &after).unwrap();
    for (file, v) in [("rekey_before_v1.rpf", 1), ("rekey_after_v2.rpf", 2)] {
        cases.push(
            json!({"file": file, "keyring": "values", "context": pairs(&acme),
            "plaintext_len": 70_000, "wrapping_version": v, "expect": "plaintext"}),
        );
    }
    std::fs::write(d.join("keyring.json"), ring.to_json().unwrap()).unwrap();

    let policy = RetentionPolicy::new(BucketSize::Hour, Duration::from_secs(3600));
    let mut ret =
        RetentionKeyring::create("golden-uploads", "eu-central", &master, policy).unwrap();
    ret.prepare(t0(), 0).unwrap();
    let expired = encrypt(ret.sealing_keyring(t0()).unwrap(), &acme, 500);
    let expired_bucket = ret.bucket_at(t0()).unwrap();
    let later = t0() + Duration::from_secs(3 * 3600);
    ret.prepare(later, 0).unwrap();
    let live = encrypt(ret.sealing_keyring(later).unwrap(), &acme, 600);
    let live_bucket = ret.bucket_at(later).unwrap();
    let purged = ret.purge(later).unwrap();
    assert_eq!(purged.len(), 1);
    ret.save(d.join("retention-keyring.json")).unwrap();
    std::fs::write(d.join("retention_expired.rpf"), expired).unwrap();
    std::fs::write(d.join("retention_live.rpf"), live).unwrap();
    let purged_at = later
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    cases.push(
        json!({"file": "retention_expired.rpf", "keyring": "retention", "context": pairs(&acme),
        "plaintext_len": 500, "wrapping_version": expired_bucket, "expect": "expired",
        "purged_at_unix": purged_at}),
    );
    cases.push(
        json!({"file": "retention_live.rpf", "keyring": "retention", "context": pairs(&acme),
        "plaintext_len": 600, "wrapping_version": live_bucket, "expect": "plaintext"}),
    );

    let manifest = json!({
        "format": "rampart-file-vectors",
        "format_version": 1,
        "plaintext": "byte i = i mod 251",
        "master_key": "master.key (base64, test only)",
        "files": cases,
    });
    std::fs::write(
        d.join("vectors.json"),
        serde_json::to_vec_pretty(&manifest).unwrap(),
    )
    .unwrap();
}
