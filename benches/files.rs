//! Encrypted files: rampart's stream format against its physical limit (raw ring
//! AES-256-GCM over the same 64 KiB segments) and against age (X25519 recipient), on the
//! same 64 MiB in memory, side by side in one group per direction so the ratios come from
//! one run. Output buffers are reused across iterations so page faults are not measured.
//!
//! `cargo bench -p rampart --no-default-features --features envelope --bench files`

#![allow(missing_docs)] // criterion_group! generates an undocumented pub fn

use std::hint::black_box;
use std::io::{Read, Write};
use std::time::{Duration, SystemTime};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rampart::envelope::stream::{
    DecryptingReader, EncryptingReader, EncryptingWriter, encrypted_len,
};
use rampart::envelope::{Context, Keyring, LocalMasterKey};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

const SIZE: usize = 64 << 20;
const SEG: usize = 1 << 16;
const TAG: usize = 16;

fn nonce(i: u64, last: bool) -> Nonce {
    let mut n = [0u8; NONCE_LEN];
    n[3..11].copy_from_slice(&i.to_be_bytes());
    n[11] = u8::from(last);
    Nonce::assume_unique_for_key(n)
}

/// Baseline: ring AES-256-GCM, key already expanded, counter nonces, 64 KiB segments,
/// copied into the output and sealed in place there (one copy, the minimum for `&[u8]` in).
fn ring_encrypt(key: &LessSafeKey, data: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let n = data.len().div_ceil(SEG).max(1);
    for (i, chunk) in data.chunks(SEG).enumerate() {
        let start = out.len();
        out.extend_from_slice(chunk);
        let tag = key
            .seal_in_place_separate_tag(
                nonce(i as u64, i + 1 == n),
                Aad::empty(),
                &mut out[start..],
            )
            .unwrap();
        out.extend_from_slice(tag.as_ref());
    }
}

/// For information: the same with the copies any `std::io::Write` adapter makes (input into
/// a segment buffer, sealed there, then handed to the inner writer, which copies it again).
fn ring_encrypt_via_buffer(key: &LessSafeKey, data: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut buf = Vec::with_capacity(SEG + TAG);
    let n = data.len().div_ceil(SEG).max(1);
    for (i, chunk) in data.chunks(SEG).enumerate() {
        buf.clear();
        buf.extend_from_slice(chunk);
        let tag = key
            .seal_in_place_separate_tag(nonce(i as u64, i + 1 == n), Aad::empty(), &mut buf)
            .unwrap();
        buf.extend_from_slice(tag.as_ref());
        out.write_all(&buf).unwrap();
    }
}

fn ring_decrypt(key: &LessSafeKey, ct: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let n = ct.len().div_ceil(SEG + TAG);
    for (i, chunk) in ct.chunks(SEG + TAG).enumerate() {
        let start = out.len();
        out.extend_from_slice(chunk);
        let len = key
            .open_in_place(nonce(i as u64, i + 1 == n), Aad::empty(), &mut out[start..])
            .unwrap()
            .len();
        out.truncate(start + len);
    }
}

/// Reads `r` to its end into `buf`; returns the length.
fn read_into(mut r: impl Read, buf: &mut [u8]) -> usize {
    let mut n = 0;
    loop {
        match r.read(&mut buf[n..]).unwrap() {
            0 => return n,
            k => n += k,
        }
    }
}

fn files(c: &mut Criterion) {
    let data: Vec<u8> = (0..SIZE).map(|i| (i % 251).to_le_bytes()[0]).collect();

    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[0x42; 32]).unwrap());

    let master = LocalMasterKey::generate().unwrap();
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let keyring = Keyring::create("bench", "eu-central", &master, now).unwrap();
    let ctx = Context::new().with("tenant", "bench");

    let identity = age::x25519::Identity::generate();
    let recipient = identity.to_public();

    // Ciphertexts for the decrypt group.
    let mut ring_ct = Vec::with_capacity(SIZE + SIZE / SEG * TAG + TAG);
    ring_encrypt(&key, &data, &mut ring_ct);
    let mut w = EncryptingWriter::new(&keyring, &ctx, Vec::new()).unwrap();
    w.write_all(&data).unwrap();
    let rampart_ct = w.finish().unwrap();
    assert_eq!(rampart_ct.len() as u64, encrypted_len(SIZE as u64).unwrap());
    let mut age_ct = Vec::new();
    {
        let enc =
            age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
                .unwrap();
        let mut w = enc.wrap_output(&mut age_ct).unwrap();
        w.write_all(&data).unwrap();
        w.finish().unwrap();
    }

    let mut out = Vec::with_capacity(SIZE + (1 << 20));
    // Output buffer for the Read-based encryptor, allocated and initialized once.
    let mut sealed = vec![0u8; SIZE + (1 << 20)];

    // Every contender decrypts to the input (checked once, outside the timings).
    ring_decrypt(&key, &ring_ct, &mut out);
    assert!(out == data, "ring round trip");
    out.clear();
    let mut r = DecryptingReader::new(&keyring, &ctx, &rampart_ct[..]).unwrap();
    r.read_to_end(&mut out).unwrap();
    assert!(out == data, "rampart round trip");
    out.clear();
    let dec = age::Decryptor::new(&age_ct[..]).unwrap();
    let mut r = dec
        .decrypt(std::iter::once(&identity as &dyn age::Identity))
        .unwrap();
    r.read_to_end(&mut out).unwrap();
    assert!(out == data, "age round trip");

    let mut g = c.benchmark_group("files_encrypt_64MiB");
    g.throughput(Throughput::Bytes(SIZE as u64));
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(4));
    g.bench_function(
        BenchmarkId::new("ring_aes256gcm_64k_segments", "baseline"),
        |b| {
            b.iter(|| ring_encrypt(&key, black_box(&data), &mut out));
        },
    );
    g.bench_function(
        BenchmarkId::new("ring_aes256gcm_64k_segments", "write_adapter_floor"),
        |b| b.iter(|| ring_encrypt_via_buffer(&key, black_box(&data), &mut out)),
    );
    g.bench_function(
        BenchmarkId::new("rampart_stream", "EncryptingWriter"),
        |b| {
            b.iter(|| {
                out.clear();
                let mut w = EncryptingWriter::new(&keyring, &ctx, &mut out).unwrap();
                w.write_all(black_box(&data)).unwrap();
                w.finish().unwrap();
            });
        },
    );
    g.bench_function(
        BenchmarkId::new("rampart_stream", "EncryptingReader"),
        |b| {
            b.iter(|| {
                let r = EncryptingReader::new(&keyring, &ctx, black_box(&data[..])).unwrap();
                assert_eq!(read_into(r, &mut sealed), rampart_ct.len());
            });
        },
    );
    g.bench_function(BenchmarkId::new("age_x25519", "StreamWriter"), |b| {
        b.iter(|| {
            out.clear();
            let enc =
                age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
                    .unwrap();
            let mut w = enc.wrap_output(&mut out).unwrap();
            w.write_all(black_box(&data)).unwrap();
            w.finish().unwrap();
        });
    });
    g.finish();

    // Plaintext is read into a buffer that is allocated and initialized once: `read_to_end`
    // would zero the spare capacity of the Vec on every iteration (std's `read_buf` default),
    // a memset that has nothing to do with the decryption being compared.
    let mut plain = vec![0u8; SIZE + 2 * (SEG + TAG)];
    let mut g = c.benchmark_group("files_decrypt_64MiB");
    g.throughput(Throughput::Bytes(SIZE as u64));
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(4));
    g.bench_function(
        BenchmarkId::new("ring_aes256gcm_64k_segments", "baseline"),
        |b| b.iter(|| ring_decrypt(&key, black_box(&ring_ct), &mut out)),
    );
    g.bench_function(
        BenchmarkId::new("rampart_stream", "DecryptingReader"),
        |b| {
            b.iter(|| {
                let r = DecryptingReader::new(&keyring, &ctx, black_box(&rampart_ct[..])).unwrap();
                assert_eq!(read_into(r, &mut plain), SIZE);
            });
        },
    );
    g.bench_function(BenchmarkId::new("age_x25519", "StreamReader"), |b| {
        b.iter(|| {
            let dec = age::Decryptor::new(black_box(&age_ct[..])).unwrap();
            let r = dec
                .decrypt(std::iter::once(&identity as &dyn age::Identity))
                .unwrap();
            assert_eq!(read_into(r, &mut plain), SIZE);
        });
    });
    g.finish();
}

criterion_group!(benches, files);
criterion_main!(benches);
