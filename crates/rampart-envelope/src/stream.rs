//! Encrypted files: streaming encryption in constant memory (format v1).
//!
//! A file gets its own random 256-bit data key (DEK), sealed under the keyring's primary
//! version into a fixed slot of the header. The body is a sequence of 64 KiB segments, each
//! sealed with AES-256-GCM under a per-file payload key in the STREAM construction
//! (Hoang et al., CRYPTO 2015, section 7): the nonce holds the segment counter and a
//! last-segment flag, so truncation, reordering, duplication and splicing of segments from
//! another file all fail authentication. Readers never release plaintext of a segment that
//! failed authentication.
//!
//! - [`EncryptingWriter`]: `std::io::Write` adapter; call `finish()`.
//! - [`EncryptingReader`]: `std::io::Read` adapter that yields the encrypted file from a
//!   plaintext source (request bodies, uploads); same bytes as the writer.
//! - [`DecryptingReader`]: sequential `std::io::Read` adapter.
//! - [`SeekableReader`]: `Read + Seek`; authenticates the final segment first, then decrypts
//!   only the segments a read touches.
//! - [`rekey_file`] / [`rewrap_header`]: move a file to the primary key version by
//!   re-wrapping its DEK only; the body is not decrypted or re-encrypted.
//! - [`detect`]: tells an encrypted file from a sealed value by its first bytes.
//!
//! Memory: one segment buffer (64 KiB + 17 bytes) per adapter plus the header, whatever the
//! file size; plaintext buffers are zeroized on drop.
//!
//! # File format v1, byte by byte
//!
//! All integers are big-endian. The header is exactly 200 bytes:
//!
//! | offset | size | field | value / notes |
//! |---|---|---|---|
//! | 0 | 3 | magic | `"RPF"` (`52 50 46`) |
//! | 3 | 1 | format version | `0x01`; other values are refused (`FileError::UnsupportedVersion`) |
//! | 4 | 1 | suite | `0x01`: AES-256-GCM STREAM, HKDF-SHA256 payload key, 32-byte commitment |
//! | 5 | 1 | log2(segment size) | `16` (64 KiB); nothing else is accepted in v1 |
//! | 6 | 4 | keyring id | copied from the sealed data key; lets tools find the keyring |
//! | 10 | 2 | region code | copied from the sealed data key (first 2 bytes of SHA-256(region)) |
//! | 12 | 32 | file salt | OS CSPRNG, one per file |
//! | 44 | 120 | wrapped data-key slot | a sealed value (88 bytes of overhead + the 32-byte DEK) under the keyring, context = caller context + `rampart:file-salt` (base64url of the salt) + `rampart:purpose` = `file` |
//! | 164 | 32 | payload commitment | `HKDF-Expand(PRK, "rampart/v1/file-commit" ‖ H ‖ C, 32)` |
//! | 196 | 4 | reserved | zero; bound into the payload key and commitment |
//!
//! where `PRK = HKDF-Extract(salt = file salt, IKM = DEK)` (RFC 5869), `H` is the immutable
//! header (bytes 0..44 followed by bytes 196..200) and `C` is the canonical encoding of the
//! caller's context (see [`Context`](crate::Context)). The payload key is
//! `HKDF-Expand(PRK, "rampart/v1/file-key" ‖ H ‖ C, 32)`.
//!
//! The body follows the header. Segment `i` (from 0) is
//!
//! ```text
//! AES-256-GCM(payload key, nonce = u88_be(i) ‖ last_flag, aad = empty, plaintext_i) ‖ tag (16)
//! ```
//!
//! where `last_flag` is `0x01` for the final segment and `0x00` for the others. Every segment
//! but the last holds exactly 65,536 plaintext bytes (65,552 on disk); the final segment
//! holds 0 to 65,536 bytes, and is empty only when the whole plaintext is empty. So segment
//! `k` starts at byte `200 + k × 65,552`, and a file of `n` plaintext bytes is
//! [`encrypted_len`]`(n)` = `200 + n + 16 × max(1, ⌈n / 65,536⌉)` bytes long.
//!
//! # What is checked, and in which order
//!
//! 1. Header parse: magic, version, suite, segment size ([`FileHeader::parse`], no crypto).
//! 2. The slot is opened by the keyring: wrong keyring or region, unknown, retired or
//!    expired (purged retention bucket) versions and a wrong context fail here, with the
//!    keyring's specific errors ([`Error::Expired`] and so on).
//! 3. The commitment is recomputed from the DEK and compared in constant time: any change to
//!    the immutable header fields fails with [`FileError::HeaderCommitment`].
//! 4. Each segment is authenticated before any of its bytes is returned
//!    ([`FileError::SegmentAuthentication`]); ring zeroes a
//!    failed segment in place and the reader stays failed.
//! 5. End of data is reported only after a segment flagged final authenticates. A file cut at
//!    a segment boundary fails with [`Error::Truncated`]; a file cut
//!    inside a segment, or with bytes appended, fails authentication of that segment.
//!
//! Why the slot is outside the key derivation: re-keying a file (after a keyring rotation)
//! writes a new sealed DEK into the same 120 bytes and leaves the body untouched; the body's
//! integrity never depended on which key version wrapped the DEK.

mod dek;
mod enc_reader;
mod format;
mod reader;
mod rekey;
mod seekable;
mod segment;
mod writer;

use std::io::{self, Read};

pub use enc_reader::EncryptingReader;
pub use format::{Detected, FileHeader, HEADER_LEN, SEGMENT_LEN, detect, encrypted_len};
pub use reader::DecryptingReader;
pub use rekey::{RekeyOutcome, needs_rekey, rekey_file, rewrap_header, wrapping_version};
pub use seekable::SeekableReader;
pub use writer::EncryptingWriter;

use crate::error::{Error, FileError};

/// Returns the crate [`Error`] carried by an `io::Error` from one of this module's adapters,
/// if there is one.
///
/// ```
/// # use rampart_envelope::stream::file_error;
/// let e = std::io::Error::other("plain");
/// assert!(file_error(&e).is_none());
/// ```
pub fn file_error(err: &io::Error) -> Option<&Error> {
    err.get_ref().and_then(|e| e.downcast_ref::<Error>())
}

/// Wraps a crate error for the `Read`/`Write` traits: `Truncated` becomes `UnexpectedEof`,
/// inner I/O errors keep their kind, everything else is `InvalidData`.
pub(crate) fn to_io(err: Error) -> io::Error {
    let kind = match &err {
        Error::Truncated => io::ErrorKind::UnexpectedEof,
        Error::File(FileError::Io(e)) => e.kind(),
        _ => io::ErrorKind::InvalidData,
    };
    io::Error::new(kind, err)
}

/// The segment counter is a u64: 2^64 segments of 64 KiB (2^80 bytes) cannot be reached,
/// but the counter must never wrap, since a repeated counter would repeat a nonce.
pub(crate) fn counter_exhausted() -> Error {
    FileError::Io(io::Error::other("segment counter exhausted")).into()
}

/// Reads until `buf` is full or EOF; returns the number of bytes read.
pub(crate) fn read_full<R: Read + ?Sized>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
