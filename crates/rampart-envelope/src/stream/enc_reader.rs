//! The encrypting `Read` adapter: pulls plaintext from a source and yields the encrypted
//! file, for APIs that want a reader (an HTTP request body, an object-store upload).

use std::io::{self, Read};

use zeroize::Zeroizing;

use super::format::{FileHeader, HEADER_LEN, SEGMENT_CT_LEN, SEGMENT_LEN, TAG_LEN};
use super::segment::PayloadKey;
use super::{dek, read_full, to_io};
use crate::error::Error;
use crate::{Context, Keyring};

/// Reads plaintext from `inner` and yields the encrypted file (header, then segments), in
/// constant memory. The output is byte-for-byte the format [`EncryptingWriter`] writes.
///
/// A caller buffer that holds a whole segment (65,552 bytes or more) receives the plaintext
/// straight from the source and is sealed in place, so no extra copy is made.
///
/// [`EncryptingWriter`]: super::EncryptingWriter
///
/// ```
/// # use rampart_envelope::{Context, Keyring, LocalMasterKey};
/// # use rampart_envelope::stream::{DecryptingReader, EncryptingReader};
/// # use std::io::Read;
/// # let master = LocalMasterKey::generate()?;
/// # let keyring = Keyring::create("uploads", "eu-central", &master, std::time::SystemTime::now())?;
/// let ctx = Context::new().with("tenant", "acme");
/// let mut file = Vec::new();
/// EncryptingReader::new(&keyring, &ctx, &b"report body"[..])?.read_to_end(&mut file)?;
///
/// let mut plain = Vec::new();
/// DecryptingReader::new(&keyring, &ctx, &file[..])?.read_to_end(&mut plain)?;
/// assert_eq!(plain, b"report body");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct EncryptingReader<R: Read> {
    inner: R,
    key: PayloadKey,
    header: FileHeader,
    header_pos: usize,
    /// Ciphertext not yet returned: `buf[pos..end]`.
    buf: Zeroizing<Vec<u8>>,
    pos: usize,
    end: usize,
    /// The plaintext byte read after a full segment: it proves that segment is not the last.
    carry: Option<u8>,
    index: u64,
    done: bool,
    failed: bool,
}

impl<R: Read> core::fmt::Debug for EncryptingReader<R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EncryptingReader")
            .field("segments_read", &self.index)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<R: Read> EncryptingReader<R> {
    /// Starts a file exactly like [`EncryptingWriter::new`](super::EncryptingWriter::new).
    ///
    /// # Errors
    /// As `EncryptingWriter::new`.
    pub fn new(keyring: &Keyring, context: &Context, inner: R) -> Result<Self, Error> {
        let (header, key) = dek::new_file(keyring, context)?;
        Ok(Self {
            inner,
            key,
            header,
            header_pos: 0,
            buf: Zeroizing::new(vec![0u8; SEGMENT_CT_LEN + 1]),
            pos: 0,
            end: 0,
            carry: None,
            index: 0,
            done: false,
            failed: false,
        })
    }

    /// Returns the plaintext source.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

/// Reads the next plaintext segment into `dst` (at least a segment plus a tag long), seals
/// it in place and appends the tag; returns the ciphertext length and whether it was final.
fn next_segment<R: Read>(
    inner: &mut R,
    key: &PayloadKey,
    index: u64,
    carry: &mut Option<u8>,
    dst: &mut [u8],
) -> Result<(usize, bool), Error> {
    let mut filled = 0;
    if let Some(b) = carry.take() {
        dst[0] = b;
        filled = 1;
    }
    filled += read_full(inner, &mut dst[filled..=SEGMENT_LEN]).map_err(dek::io_error)?;
    let last = filled <= SEGMENT_LEN;
    if !last {
        *carry = Some(dst[SEGMENT_LEN]);
        filled = SEGMENT_LEN;
    }
    let tag = key.seal_in_place(index, last, &mut dst[..filled])?;
    dst[filled..filled + TAG_LEN].copy_from_slice(&tag);
    Ok((filled + TAG_LEN, last))
}

impl<R: Read> Read for EncryptingReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        if self.failed {
            return Err(io::Error::other("encrypting reader failed earlier"));
        }
        if self.header_pos < HEADER_LEN {
            let rest = &self.header.as_bytes()[self.header_pos..];
            let n = rest.len().min(out.len());
            out[..n].copy_from_slice(&rest[..n]);
            self.header_pos += n;
            return Ok(n);
        }
        if self.pos < self.end {
            let n = (self.end - self.pos).min(out.len());
            out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
            self.pos += n;
            return Ok(n);
        }
        if self.done {
            return Ok(0);
        }
        let direct = out.len() >= SEGMENT_CT_LEN;
        let step = if direct {
            next_segment(&mut self.inner, &self.key, self.index, &mut self.carry, out)
        } else {
            next_segment(
                &mut self.inner,
                &self.key,
                self.index,
                &mut self.carry,
                &mut self.buf,
            )
        };
        let (len, last) = match step {
            Ok(v) => v,
            Err(e) => {
                // Part of a segment may have been consumed from the source: the stream can
                // no longer be completed correctly.
                self.failed = true;
                if direct {
                    out.fill(0);
                }
                return Err(to_io(e));
            }
        };
        self.done = last;
        self.index = match self.index.checked_add(1) {
            Some(i) => i,
            None => {
                self.failed = true;
                return Err(to_io(super::counter_exhausted()));
            }
        };
        if direct {
            return Ok(len);
        }
        self.pos = 0;
        self.end = len;
        let n = len.min(out.len());
        out[..n].copy_from_slice(&self.buf[..n]);
        self.pos = n;
        Ok(n)
    }
}
