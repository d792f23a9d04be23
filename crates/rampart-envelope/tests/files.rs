//! Encrypted files through the public API: round trips, every tampering shape, the seekable
//! reader, re-keying and format detection.

use std::io::{self, Cursor, Read, Seek, SeekFrom, Write};
use std::time::{Duration, SystemTime};

use rampart_envelope::stream::{
    DecryptingReader, Detected, EncryptingReader, EncryptingWriter, FileHeader, HEADER_LEN,
    RekeyOutcome, SEGMENT_LEN, SeekableReader, detect, encrypted_len, file_error, needs_rekey,
    rekey_file, rewrap_header, wrapping_version,
};
use rampart_envelope::{Context, Error, FileError, Keyring, LocalMasterKey};

const SEG_CT: usize = SEGMENT_LEN + 16;

fn t0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

fn setup() -> (LocalMasterKey, Keyring, Context) {
    let master = LocalMasterKey::generate().unwrap();
    let ring = Keyring::create("uploads", "eu-central", &master, t0()).unwrap();
    let ctx = Context::new().with("tenant", "acme").with("kind", "upload");
    (master, ring, ctx)
}

/// Deterministic, position-dependent plaintext, so misplaced bytes show.
fn data(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i % 251).to_le_bytes()[0] ^ (i / 65536).to_le_bytes()[0])
        .collect()
}

fn encrypt(ring: &Keyring, ctx: &Context, plain: &[u8]) -> Vec<u8> {
    let mut w = EncryptingWriter::new(ring, ctx, Vec::new()).unwrap();
    // Odd-sized writes cross segment boundaries at arbitrary points.
    for chunk in plain.chunks(7919) {
        w.write_all(chunk).unwrap();
    }
    w.finish().unwrap()
}

/// Decrypts sequentially; returns the plaintext released before the error, and the error.
fn decrypt(ring: &Keyring, ctx: &Context, file: &[u8]) -> (Vec<u8>, Result<(), Error>) {
    let mut out = Vec::new();
    let mut r = match DecryptingReader::new(ring, ctx, file) {
        Ok(r) => r,
        Err(e) => return (out, Err(e)),
    };
    let mut buf = vec![0u8; 10_000];
    loop {
        match r.read(&mut buf) {
            Ok(0) => return (out, Ok(())),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) => return (out, Err(into_error(e))),
        }
    }
}

fn into_error(e: io::Error) -> Error {
    assert!(
        file_error(&e).is_some(),
        "io error without a crate error: {e}"
    );
    *e.into_inner().unwrap().downcast::<Error>().unwrap()
}

fn segment_auth(e: &Result<(), Error>) -> Option<u64> {
    match e {
        Err(Error::File(FileError::SegmentAuthentication { segment })) => Some(*segment),
        _ => None,
    }
}

fn seg(file: &[u8], i: usize) -> std::ops::Range<usize> {
    let start = HEADER_LEN + i * SEG_CT;
    start..(start + SEG_CT).min(file.len())
}

#[test]
fn round_trip_at_segment_edges() {
    let (_, ring, ctx) = setup();
    for len in [
        0,
        1,
        15,
        16,
        17,
        SEGMENT_LEN - 1,
        SEGMENT_LEN,
        SEGMENT_LEN + 1,
        3 * SEGMENT_LEN,
        3 * SEGMENT_LEN + 5,
    ] {
        let plain = data(len);
        let file = encrypt(&ring, &ctx, &plain);
        assert_eq!(
            file.len() as u64,
            encrypted_len(len as u64).unwrap(),
            "size of {len}"
        );
        let (out, res) = decrypt(&ring, &ctx, &file);
        res.unwrap();
        assert_eq!(out, plain, "plaintext of {len}");
    }
}

#[test]
fn one_byte_reads_and_io_copy_agree() {
    let (_, ring, ctx) = setup();
    let plain = data(2 * SEGMENT_LEN + 3);
    let file = encrypt(&ring, &ctx, &plain);
    let mut r = DecryptingReader::new(&ring, &ctx, &file[..]).unwrap();
    let mut out = Vec::new();
    let mut b = [0u8; 1];
    while r.read(&mut b).unwrap() == 1 {
        out.push(b[0]);
    }
    assert_eq!(out, plain);

    let mut w = EncryptingWriter::new(&ring, &ctx, Vec::new()).unwrap();
    io::copy(&mut &plain[..], &mut w).unwrap();
    let file2 = w.finish().unwrap();
    let mut out2 = Vec::new();
    io::copy(
        &mut DecryptingReader::new(&ring, &ctx, &file2[..]).unwrap(),
        &mut out2,
    )
    .unwrap();
    assert_eq!(out2, plain);
}

#[test]
fn each_file_has_its_own_data_key_and_salt() {
    let (_, ring, ctx) = setup();
    let a = encrypt(&ring, &ctx, b"same");
    let b = encrypt(&ring, &ctx, b"same");
    assert_ne!(a[12..44], b[12..44], "salt");
    assert_ne!(a[HEADER_LEN..], b[HEADER_LEN..], "body");
}

#[test]
fn header_layout_is_as_documented() {
    let (_, ring, ctx) = setup();
    let file = encrypt(&ring, &ctx, b"x");
    assert_eq!(&file[..3], b"RPF");
    assert_eq!(file[3..6], [1, 1, 16]);
    let h = FileHeader::parse(&file).unwrap();
    assert_eq!(h.keyring_id(), ring.id().0);
    assert_eq!(&file[6..10], &ring.id().0.to_be_bytes());
    assert_eq!(h.wrapped_key().len(), 120);
    assert_eq!(h.wrapped_key(), &file[44..164]);
    assert_eq!(wrapping_version(&h).unwrap(), 1);
    assert_eq!(file[196..200], [0, 0, 0, 0]);
}

#[test]
fn writer_dropped_without_finish_reads_as_truncated() {
    let (_, ring, ctx) = setup();
    let mut sink = Vec::new();
    {
        let mut w = EncryptingWriter::new(&ring, &ctx, &mut sink).unwrap();
        w.write_all(&data(SEGMENT_LEN * 2 + 10)).unwrap();
    }
    let (out, res) = decrypt(&ring, &ctx, &sink);
    assert!(matches!(res, Err(Error::Truncated)), "{res:?}");
    assert_eq!(
        out.len(),
        SEGMENT_LEN,
        "only authenticated non-final segments were released"
    );
}

// ---- tampering: one test per shape ------------------------------------------------------

#[test]
fn truncation_at_segment_boundary_is_truncated() {
    let (_, ring, ctx) = setup();
    let plain = data(3 * SEGMENT_LEN + 100);
    let file = encrypt(&ring, &ctx, &plain);
    for keep in 1..=3 {
        let cut = &file[..HEADER_LEN + keep * SEG_CT];
        let (out, res) = decrypt(&ring, &ctx, cut);
        assert!(matches!(res, Err(Error::Truncated)), "keep {keep}: {res:?}");
        assert_eq!(out, plain[..(keep - 1) * SEGMENT_LEN], "keep {keep}");
    }
}

#[test]
fn truncation_inside_a_segment_fails_authentication() {
    let (_, ring, ctx) = setup();
    let file = encrypt(&ring, &ctx, &data(2 * SEGMENT_LEN + 100));
    let cut = &file[..HEADER_LEN + SEG_CT + 1000];
    let (out, res) = decrypt(&ring, &ctx, cut);
    assert_eq!(segment_auth(&res), Some(1), "{res:?}");
    assert_eq!(out.len(), SEGMENT_LEN);
}

#[test]
fn truncation_to_the_header_is_truncated() {
    let (_, ring, ctx) = setup();
    let file = encrypt(&ring, &ctx, b"hello");
    let (_, res) = decrypt(&ring, &ctx, &file[..HEADER_LEN]);
    assert!(matches!(res, Err(Error::Truncated)), "{res:?}");
    let (_, res) = decrypt(&ring, &ctx, &file[..HEADER_LEN + 10]);
    assert!(
        matches!(res, Err(Error::Truncated)),
        "shorter than a tag: {res:?}"
    );
}

#[test]
fn truncation_inside_the_header_is_truncated() {
    let (_, ring, ctx) = setup();
    let file = encrypt(&ring, &ctx, b"hello");
    for cut in [0, 3, 100, HEADER_LEN - 1] {
        let res = DecryptingReader::new(&ring, &ctx, &file[..cut]).map(|_| ());
        assert!(matches!(res, Err(Error::Truncated)), "cut {cut}: {res:?}");
    }
}

#[test]
fn segment_reordering_is_detected() {
    let (_, ring, ctx) = setup();
    let plain = data(3 * SEGMENT_LEN + 100);
    let mut file = encrypt(&ring, &ctx, &plain);
    let s0 = file[seg(&file, 0)].to_vec();
    let s1 = file[seg(&file, 1)].to_vec();
    let r0 = seg(&file, 0);
    let r1 = seg(&file, 1);
    file[r0].copy_from_slice(&s1);
    file[r1].copy_from_slice(&s0);
    let (out, res) = decrypt(&ring, &ctx, &file);
    assert_eq!(segment_auth(&res), Some(0), "{res:?}");
    assert!(out.is_empty(), "no plaintext of a failed segment");
}

#[test]
fn segment_duplication_is_detected() {
    let (_, ring, ctx) = setup();
    let plain = data(2 * SEGMENT_LEN + 100);
    let file = encrypt(&ring, &ctx, &plain);
    let mut dup = file[..HEADER_LEN + 2 * SEG_CT].to_vec();
    dup.extend_from_slice(&file[seg(&file, 1)]);
    dup.extend_from_slice(&file[HEADER_LEN + 2 * SEG_CT..]);
    let (out, res) = decrypt(&ring, &ctx, &dup);
    assert_eq!(segment_auth(&res), Some(2), "{res:?}");
    assert_eq!(out, plain[..2 * SEGMENT_LEN]);
}

#[test]
fn segment_splice_from_another_file_is_detected() {
    let (_, ring, ctx) = setup();
    let a = encrypt(&ring, &ctx, &data(2 * SEGMENT_LEN + 100));
    let b = encrypt(&ring, &ctx, &data(2 * SEGMENT_LEN + 100));
    let mut spliced = a.clone();
    let r = seg(&a, 1);
    spliced[r.clone()].copy_from_slice(&b[r]);
    let (out, res) = decrypt(&ring, &ctx, &spliced);
    assert_eq!(segment_auth(&res), Some(1), "{res:?}");
    assert_eq!(out.len(), SEGMENT_LEN);
}

#[test]
fn header_splice_from_another_file_is_detected() {
    let (_, ring, ctx) = setup();
    let a = encrypt(&ring, &ctx, b"file a");
    let b = encrypt(&ring, &ctx, b"file b");
    let mut spliced = b[..HEADER_LEN].to_vec();
    spliced.extend_from_slice(&a[HEADER_LEN..]);
    let (out, res) = decrypt(&ring, &ctx, &spliced);
    assert_eq!(segment_auth(&res), Some(0), "{res:?}");
    assert!(out.is_empty());
}

#[test]
fn data_key_slot_swapped_from_another_file_is_detected() {
    let (_, ring, ctx) = setup();
    let a = encrypt(&ring, &ctx, b"file a");
    let b = encrypt(&ring, &ctx, b"file b");
    let mut f = a.clone();
    f[44..164].copy_from_slice(&b[44..164]);
    let (_, res) = decrypt(&ring, &ctx, &f);
    // The slot is bound to its own file's salt: it does not open in another header.
    assert!(res.as_ref().is_err_and(Error::is_tampered), "{res:?}");
}

#[test]
fn header_edit_of_each_immutable_field_is_detected() {
    let (_, ring, ctx) = setup();
    let file = encrypt(&ring, &ctx, b"payload");
    // keyring id, region code, salt, commitment, reserved.
    for at in [6, 9, 10, 11, 12, 43, 164, 195, 196, 199] {
        let mut f = file.clone();
        f[at] ^= 0x01;
        let (out, res) = decrypt(&ring, &ctx, &f);
        assert!(out.is_empty(), "byte {at}");
        match res {
            Err(Error::File(FileError::HeaderCommitment)) => {}
            Err(ref e) if e.is_tampered() => {}
            other => panic!("byte {at}: {other:?}"),
        }
    }
}

#[test]
fn header_edit_of_version_suite_or_segment_size_is_refused() {
    let (_, ring, ctx) = setup();
    let file = encrypt(&ring, &ctx, b"payload");
    let mut f = file.clone();
    f[3] = 2;
    assert!(matches!(
        decrypt(&ring, &ctx, &f).1,
        Err(Error::File(FileError::UnsupportedVersion { version: 2 }))
    ));
    let mut f = file.clone();
    f[4] = 9;
    assert!(matches!(
        decrypt(&ring, &ctx, &f).1,
        Err(Error::File(FileError::UnsupportedSuite { suite: 9 }))
    ));
    let mut f = file.clone();
    f[5] = 12;
    assert!(matches!(
        decrypt(&ring, &ctx, &f).1,
        Err(Error::File(FileError::UnsupportedSegmentSize { log2: 12 }))
    ));
    let mut f = file;
    f[0] = b'X';
    assert!(matches!(
        decrypt(&ring, &ctx, &f).1,
        Err(Error::File(FileError::BadMagic))
    ));
}

#[test]
fn header_edit_of_wrapped_key_slot_is_detected() {
    let (_, ring, ctx) = setup();
    let file = encrypt(&ring, &ctx, b"payload");
    for at in [44 + 50, 44 + 100, 163] {
        let mut f = file.clone();
        f[at] ^= 0x80;
        let (_, res) = decrypt(&ring, &ctx, &f);
        assert!(
            res.as_ref().is_err_and(Error::is_tampered),
            "byte {at}: {res:?}"
        );
    }
}

#[test]
fn bit_flip_in_any_segment_releases_nothing_of_it() {
    let (_, ring, ctx) = setup();
    let plain = data(3 * SEGMENT_LEN + 100);
    let file = encrypt(&ring, &ctx, &plain);
    for i in 0..4 {
        let r = seg(&file, i);
        for at in [r.start, (r.start + r.end) / 2, r.end - 1] {
            let mut f = file.clone();
            f[at] ^= 0x04;
            let (out, res) = decrypt(&ring, &ctx, &f);
            assert_eq!(segment_auth(&res), Some(i as u64), "segment {i} byte {at}");
            assert_eq!(
                out,
                plain[..i * SEGMENT_LEN],
                "segment {i}: only earlier segments"
            );
        }
    }
}

#[test]
fn appended_data_is_detected() {
    let (_, ring, ctx) = setup();
    let plain = data(SEGMENT_LEN + 100);
    let mut file = encrypt(&ring, &ctx, &plain);
    file.extend_from_slice(b"extra");
    let (out, res) = decrypt(&ring, &ctx, &file);
    assert_eq!(segment_auth(&res), Some(1), "{res:?}");
    assert_eq!(out.len(), SEGMENT_LEN);
}

#[test]
fn appended_full_segment_from_the_same_file_is_detected() {
    let (_, ring, ctx) = setup();
    let plain = data(2 * SEGMENT_LEN);
    let file = encrypt(&ring, &ctx, &plain);
    let mut f = file.clone();
    f.extend_from_slice(&file[seg(&file, 0)]);
    let (_, res) = decrypt(&ring, &ctx, &f);
    assert_eq!(
        segment_auth(&res),
        Some(1),
        "final segment read as non-final fails: {res:?}"
    );
}

#[test]
fn final_flag_removal_by_dropping_the_final_segment_is_truncated() {
    // Without the key, the only way to "remove" the final flag is to drop the final
    // segment: the new last segment was sealed as non-final and fails as final.
    let (_, ring, ctx) = setup();
    let plain = data(2 * SEGMENT_LEN + 1);
    let file = encrypt(&ring, &ctx, &plain);
    let (out, res) = decrypt(&ring, &ctx, &file[..HEADER_LEN + 2 * SEG_CT]);
    assert!(matches!(res, Err(Error::Truncated)), "{res:?}");
    assert_eq!(out, plain[..SEGMENT_LEN]);
}

#[test]
fn wrong_context_is_refused_before_any_segment() {
    let (_, ring, ctx) = setup();
    let file = encrypt(&ring, &ctx, b"tenant data");
    let other = Context::new().with("tenant", "evil").with("kind", "upload");
    let res = DecryptingReader::new(&ring, &other, &file[..]).map(|_| ());
    assert!(matches!(res, Err(Error::Authentication)), "{res:?}");
}

#[test]
fn another_keyring_is_named_in_the_error() {
    let (master, ring, ctx) = setup();
    let other = Keyring::create("uploads", "eu-central", &master, t0()).unwrap();
    let file = encrypt(&ring, &ctx, b"data");
    let res = DecryptingReader::new(&other, &ctx, &file[..]).map(|_| ());
    assert!(matches!(res, Err(Error::KeyringMismatch { .. })), "{res:?}");
}

#[test]
fn retired_version_makes_files_unreadable() {
    let (master, mut ring, ctx) = setup();
    let file = encrypt(&ring, &ctx, b"data");
    ring.rotate(&master, t0()).unwrap();
    ring.retire_below(2, t0()).unwrap();
    let res = DecryptingReader::new(&ring, &ctx, &file[..]).map(|_| ());
    assert!(
        matches!(res, Err(Error::KeyRetired { version: 1, .. })),
        "{res:?}"
    );
}

#[test]
fn a_failed_reader_stays_failed() {
    let (_, ring, ctx) = setup();
    let mut file = encrypt(&ring, &ctx, &data(3 * SEGMENT_LEN));
    let at = seg(&file, 1).start + 5;
    file[at] ^= 1;
    let mut r = DecryptingReader::new(&ring, &ctx, &file[..]).unwrap();
    let mut buf = vec![0u8; 4 * SEGMENT_LEN];
    let mut got = 0;
    let err = loop {
        match r.read(&mut buf[got..]) {
            Ok(n) => got += n,
            Err(e) => break e,
        }
    };
    assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    assert_eq!(got, SEGMENT_LEN);
    assert!(r.read(&mut buf).is_err(), "no reads after a failure");
}

// ---- seekable reader ----------------------------------------------------------------------

/// Counts the bytes read from the inner source, to prove only needed segments are touched.
struct Counting<R> {
    inner: R,
    read: u64,
}
impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}
impl<R: Seek> Seek for Counting<R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

#[test]
fn seekable_reads_any_range() {
    let (_, ring, ctx) = setup();
    let plain = data(5 * SEGMENT_LEN + 1234);
    let file = encrypt(&ring, &ctx, &plain);
    let mut r = SeekableReader::new(&ring, &ctx, Cursor::new(&file)).unwrap();
    assert_eq!(r.len(), plain.len() as u64);
    for (start, len) in [
        (0, 10),
        (SEGMENT_LEN - 3, 10),
        (2 * SEGMENT_LEN + 7, 3 * SEGMENT_LEN),
        (plain.len() - 5, 5),
        (100, 0),
    ] {
        r.seek(SeekFrom::Start(start as u64)).unwrap();
        let mut buf = vec![0u8; len];
        r.read_exact(&mut buf).unwrap();
        assert_eq!(buf, plain[start..start + len], "range {start}+{len}");
    }
    r.seek(SeekFrom::End(-3)).unwrap();
    let mut tail = Vec::new();
    r.read_to_end(&mut tail).unwrap();
    assert_eq!(tail, plain[plain.len() - 3..]);
    assert_eq!(
        r.seek(SeekFrom::Current(10)).unwrap(),
        plain.len() as u64 + 10
    );
    assert_eq!(
        r.read(&mut [0u8; 4]).unwrap(),
        0,
        "past the end reads nothing"
    );
    let e = r
        .seek(SeekFrom::End(-(plain.len() as i64) - 1))
        .unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
}

#[test]
fn seekable_decrypts_only_the_segments_a_range_needs() {
    let (_, ring, ctx) = setup();
    let plain = data(20 * SEGMENT_LEN);
    let file = encrypt(&ring, &ctx, &plain);
    let mut r = SeekableReader::new(
        &ring,
        &ctx,
        Counting {
            inner: Cursor::new(&file),
            read: 0,
        },
    )
    .unwrap();
    let mut buf = [0u8; 100];
    r.seek(SeekFrom::Start(7 * SEGMENT_LEN as u64 + 50))
        .unwrap();
    r.read_exact(&mut buf).unwrap();
    assert_eq!(buf[..], plain[7 * SEGMENT_LEN + 50..7 * SEGMENT_LEN + 150]);
    let inner = r.into_inner();
    // Header + final segment (verified at open) + segment 7: 3 reads of a 1.3 MiB file.
    assert_eq!(inner.read, (HEADER_LEN + 2 * SEG_CT) as u64);
}

#[test]
fn seekable_refuses_a_file_truncated_at_a_segment_boundary_up_front() {
    let (_, ring, ctx) = setup();
    let file = encrypt(&ring, &ctx, &data(3 * SEGMENT_LEN + 10));
    let res =
        SeekableReader::new(&ring, &ctx, Cursor::new(&file[..HEADER_LEN + 3 * SEG_CT])).map(|_| ());
    assert!(matches!(res, Err(Error::Truncated)), "{res:?}");
    let res = SeekableReader::new(
        &ring,
        &ctx,
        Cursor::new(&file[..HEADER_LEN + 3 * SEG_CT + 5]),
    )
    .map(|_| ());
    assert!(
        matches!(res, Err(Error::Truncated)),
        "final segment shorter than a tag: {res:?}"
    );
}

#[test]
fn seekable_refuses_appended_data_up_front() {
    let (_, ring, ctx) = setup();
    let mut file = encrypt(&ring, &ctx, &data(SEGMENT_LEN + 10));
    file.extend_from_slice(&[0u8; 40]);
    let res = SeekableReader::new(&ring, &ctx, Cursor::new(&file)).map(|_| ());
    assert!(res.is_err_and(|e| matches!(e, Error::File(FileError::SegmentAuthentication { .. }))));
}

#[test]
fn seekable_tampered_segment_fails_only_when_read() {
    let (_, ring, ctx) = setup();
    let plain = data(4 * SEGMENT_LEN);
    let mut file = encrypt(&ring, &ctx, &plain);
    let at = seg(&file, 2).start + 9;
    file[at] ^= 1;
    let mut r = SeekableReader::new(&ring, &ctx, Cursor::new(&file)).unwrap();
    let mut buf = vec![0u8; SEGMENT_LEN];
    r.read_exact(&mut buf).unwrap();
    assert_eq!(buf, plain[..SEGMENT_LEN]);
    r.seek(SeekFrom::Start(2 * SEGMENT_LEN as u64 + 1)).unwrap();
    let e = r.read(&mut buf).unwrap_err();
    assert!(
        matches!(
            file_error(&e),
            Some(Error::File(FileError::SegmentAuthentication { segment: 2 }))
        ),
        "{e}"
    );
}

#[test]
fn seekable_works_from_an_offset_inside_a_larger_stream() {
    let (_, ring, ctx) = setup();
    let plain = data(SEGMENT_LEN + 3);
    let mut blob = b"prefix bytes".to_vec();
    blob.extend_from_slice(&encrypt(&ring, &ctx, &plain));
    let mut cur = Cursor::new(&blob);
    cur.seek(SeekFrom::Start(12)).unwrap();
    let mut r = SeekableReader::new(&ring, &ctx, cur).unwrap();
    let mut out = Vec::new();
    r.read_to_end(&mut out).unwrap();
    assert_eq!(out, plain);
}

// ---- re-keying -----------------------------------------------------------------------------

#[test]
fn rekey_file_rewraps_the_data_key_and_leaves_the_body_untouched() {
    let (master, mut ring, ctx) = setup();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("upload.csv.rpf");
    let plain = data(3 * SEGMENT_LEN + 17);
    let before = encrypt(&ring, &ctx, &plain);
    std::fs::write(&path, &before).unwrap();

    ring.rotate(&master, t0()).unwrap();
    assert!(needs_rekey(&ring, &FileHeader::parse(&before).unwrap()).unwrap());
    let outcome = rekey_file(&ring, &ctx, &path).unwrap();
    assert_eq!(outcome, RekeyOutcome::Rekeyed { from: 1, to: 2 });

    let after = std::fs::read(&path).unwrap();
    assert_eq!(after.len(), before.len());
    assert_eq!(
        after[HEADER_LEN..],
        before[HEADER_LEN..],
        "body byte for byte"
    );
    assert_eq!(after[..44], before[..44], "immutable header");
    assert_eq!(
        after[164..],
        before[164..HEADER_LEN + (after.len() - HEADER_LEN)]
    );
    assert_ne!(after[44..164], before[44..164], "new slot");
    assert!(!needs_rekey(&ring, &FileHeader::parse(&after).unwrap()).unwrap());

    // The old version can now be retired without losing the file.
    ring.retire_below(2, t0()).unwrap();
    let (out, res) = decrypt(&ring, &ctx, &after);
    res.unwrap();
    assert_eq!(out, plain);
    assert!(decrypt(&ring, &ctx, &before).1.is_err());
    assert_eq!(
        rekey_file(&ring, &ctx, &path).unwrap(),
        RekeyOutcome::AlreadyCurrent { version: 2 }
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temporary file left behind");
}

#[test]
fn rekey_refuses_a_tampered_header() {
    let (master, mut ring, ctx) = setup();
    let mut file = encrypt(&ring, &ctx, b"data");
    file[20] ^= 1; // salt
    ring.rotate(&master, t0()).unwrap();
    let h = FileHeader::parse(&file).unwrap();
    assert!(rewrap_header(&ring, &ctx, &h).is_err());
}

#[test]
fn rekey_with_a_wrong_context_is_refused_and_file_unchanged() {
    let (master, mut ring, ctx) = setup();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    let file = encrypt(&ring, &ctx, b"data");
    std::fs::write(&path, &file).unwrap();
    ring.rotate(&master, t0()).unwrap();
    assert!(rekey_file(&ring, &Context::new(), &path).is_err());
    assert_eq!(std::fs::read(&path).unwrap(), file);
}

// ---- detection -----------------------------------------------------------------------------

#[test]
fn detect_tells_files_from_sealed_values() {
    let (_, ring, ctx) = setup();
    let file = encrypt(&ring, &ctx, b"x");
    assert_eq!(detect(&file), Detected::EncryptedFile { version: Some(1) });
    assert_eq!(
        detect(&file[..3]),
        Detected::EncryptedFile { version: None }
    );
    let value = ring.seal(b"x", &ctx).unwrap();
    assert_eq!(detect(&value), Detected::SealedValue);
    let text = ring.seal_text(b"x", &ctx).unwrap();
    assert_eq!(detect(text.as_bytes()), Detected::SealedValueText);
    assert_eq!(
        detect(format!("{text}\n").as_bytes()),
        Detected::SealedValueText
    );
    assert_eq!(detect(b"name,amount\n"), Detected::Unknown);
    assert_eq!(detect(b""), Detected::Unknown);
}

// ---- encrypting reader ---------------------------------------------------------------------

fn encrypt_by_reading(ring: &Keyring, ctx: &Context, plain: &[u8], chunk: usize) -> Vec<u8> {
    let mut r = EncryptingReader::new(ring, ctx, plain).unwrap();
    let mut out = Vec::new();
    let mut buf = vec![0u8; chunk];
    loop {
        let n = r.read(&mut buf).unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n]);
    }
}

#[test]
fn encrypting_reader_produces_the_file_format_for_any_read_size() {
    let (_, ring, ctx) = setup();
    for len in [
        0,
        1,
        SEGMENT_LEN - 1,
        SEGMENT_LEN,
        SEGMENT_LEN + 1,
        3 * SEGMENT_LEN + 5,
    ] {
        let plain = data(len);
        for chunk in [7, 7919, SEG_CT, SEG_CT + 1, 1 << 20] {
            let file = encrypt_by_reading(&ring, &ctx, &plain, chunk);
            assert_eq!(
                file.len() as u64,
                encrypted_len(len as u64).unwrap(),
                "len {len} chunk {chunk}"
            );
            let (out, res) = decrypt(&ring, &ctx, &file);
            res.unwrap();
            assert_eq!(out, plain, "len {len} chunk {chunk}");
        }
    }
}

#[test]
fn encrypting_reader_read_to_end_round_trips() {
    let (_, ring, ctx) = setup();
    let plain = data(2 * SEGMENT_LEN + 99);
    let mut file = Vec::new();
    EncryptingReader::new(&ring, &ctx, &plain[..])
        .unwrap()
        .read_to_end(&mut file)
        .unwrap();
    let (out, res) = decrypt(&ring, &ctx, &file);
    res.unwrap();
    assert_eq!(out, plain);
}

#[test]
fn file_tampering_counts_as_tampered() {
    let (_, ring, ctx) = setup();
    let file = encrypt(&ring, &ctx, &data(2 * SEGMENT_LEN + 7));
    // Header commitment, a body segment, and bytes appended after the final segment: each is
    // forgery to a caller that only asks `is_tampered`.
    let mut header = file.clone();
    header[43] ^= 0x80;
    let mut body = file.clone();
    let mid = file.len() / 2;
    body[mid] ^= 0x01;
    let mut appended = file.clone();
    appended.extend_from_slice(b"more");
    for (name, f) in [("header", header), ("body", body), ("appended", appended)] {
        let (_, res) = decrypt(&ring, &ctx, &f);
        let err = res.expect_err(name);
        assert!(err.is_tampered(), "{name}: {err:?}");
    }
    // A file cut short is not forgery by itself (a partial upload): not "tampered".
    let (_, res) = decrypt(&ring, &ctx, &file[..100]);
    assert!(!res.expect_err("cut").is_tampered());
}
