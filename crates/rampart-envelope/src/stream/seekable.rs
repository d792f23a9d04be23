//! The seekable decrypting reader: random access that decrypts only the segments a read
//! touches.

use std::io::{self, Read, Seek, SeekFrom};

use zeroize::Zeroizing;

use super::format::{FileHeader, HEADER_LEN, SEGMENT_CT_LEN, SEGMENT_LEN, TAG_LEN, body_layout};
use super::reader::open_final;
use super::segment::PayloadKey;
use super::{dek, read_full, to_io};
use crate::error::{Error, FileError};
use crate::{Context, Keyring};

/// Random-access decryption over a `Read + Seek` source (a file, a `Cursor`).
///
/// Construction authenticates the header and then the **final segment** (age spec,
/// "Payload": a seekable reader must verify the last chunk before trusting the length), so
/// [`len`](Self::len) is the authenticated plaintext length and a file truncated at a
/// segment boundary is refused up front. Reads decrypt only the segment under the cursor
/// and keep one decrypted segment cached; every segment is authenticated before use.
///
/// ```
/// # use rampart_envelope::{Context, Keyring, LocalMasterKey};
/// # use rampart_envelope::stream::{EncryptingWriter, SeekableReader};
/// # use std::io::{Cursor, Read, Seek, SeekFrom, Write};
/// # let master = LocalMasterKey::generate()?;
/// # let keyring = Keyring::create("uploads", "eu-central", &master, std::time::SystemTime::now())?;
/// # let ctx = Context::new();
/// let mut w = EncryptingWriter::new(&keyring, &ctx, Vec::new())?;
/// w.write_all(&vec![b'x'; 200_000])?;
/// w.write_all(b"tail")?;
/// let file = w.finish()?;
///
/// let mut r = SeekableReader::new(&keyring, &ctx, Cursor::new(file))?;
/// assert_eq!(r.len(), 200_004);
/// r.seek(SeekFrom::End(-4))?;
/// let mut tail = String::new();
/// r.read_to_string(&mut tail)?;
/// assert_eq!(tail, "tail");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SeekableReader<R: Read + Seek> {
    inner: R,
    key: PayloadKey,
    /// Offset of the header in `inner` (the reader may start mid-stream).
    base: u64,
    segments: u64,
    last_ct_len: usize,
    len: u64,
    pos: u64,
    /// The cached segment: its index and its plaintext length in `buf`.
    cached: Option<(u64, usize)>,
    buf: Zeroizing<Vec<u8>>,
    failed: bool,
}

impl<R: Read + Seek> core::fmt::Debug for SeekableReader<R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SeekableReader")
            .field("len", &self.len)
            .field("pos", &self.pos)
            .field("segments", &self.segments)
            .finish_non_exhaustive()
    }
}

impl<R: Read + Seek> SeekableReader<R> {
    /// Reads the header at the current position of `inner`, opens the data key, checks the
    /// commitment, then seeks to the end and authenticates the final segment.
    ///
    /// # Errors
    /// The errors of [`DecryptingReader::new`](super::DecryptingReader::new), plus
    /// `Truncated` if the body is cut (at a segment boundary or inside the final segment's
    /// tag) and `Authentication` if the final segment fails.
    pub fn new(keyring: &Keyring, context: &Context, mut inner: R) -> Result<Self, Error> {
        let base = inner.stream_position().map_err(dek::io_error)?;
        let mut head = [0u8; HEADER_LEN];
        let n = read_full(&mut inner, &mut head).map_err(dek::io_error)?;
        let header = FileHeader::parse(&head[..n])?;
        let key = dek::open_file(keyring, context, &header)?;
        Self::from_parts(key, inner, base)
    }

    pub(crate) fn from_parts(key: PayloadKey, mut inner: R, base: u64) -> Result<Self, Error> {
        let end = inner.seek(SeekFrom::End(0)).map_err(dek::io_error)?;
        let body = end
            .checked_sub(base + HEADER_LEN as u64)
            .ok_or(Error::Truncated)?;
        let (segments, last_ct_len) = body_layout(body)?;
        let mut me = Self {
            inner,
            key,
            base,
            segments,
            last_ct_len,
            len: (segments - 1) * SEGMENT_LEN as u64 + (last_ct_len - TAG_LEN) as u64,
            pos: 0,
            cached: None,
            buf: Zeroizing::new(vec![0u8; SEGMENT_CT_LEN]),
            failed: false,
        };
        me.load(segments - 1)?;
        Ok(me)
    }

    /// The authenticated plaintext length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the plaintext is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Returns the inner reader.
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// Reads and authenticates segment `index` into the cache.
    fn load(&mut self, index: u64) -> Result<(), Error> {
        if self.cached.is_some_and(|(i, _)| i == index) {
            return Ok(());
        }
        self.cached = None;
        let last = index + 1 == self.segments;
        let ct_len = if last {
            self.last_ct_len
        } else {
            SEGMENT_CT_LEN
        };
        let offset = self.base + HEADER_LEN as u64 + index * SEGMENT_CT_LEN as u64;
        self.inner
            .seek(SeekFrom::Start(offset))
            .map_err(dek::io_error)?;
        let n = read_full(&mut self.inner, &mut self.buf[..ct_len]).map_err(dek::io_error)?;
        if n < ct_len {
            // The source shrank after construction.
            return Err(Error::Truncated);
        }
        let len = if last {
            open_final(&self.key, index, &mut self.buf[..ct_len])?
        } else {
            self.key
                .open_segment(index, false, &mut self.buf[..ct_len])?
        };
        self.cached = Some((index, len));
        Ok(())
    }
}

impl<R: Read + Seek> Read for SeekableReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.failed {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "seekable reader failed earlier",
            ));
        }
        if out.is_empty() || self.pos >= self.len {
            return Ok(0);
        }
        let seg = SEGMENT_LEN as u64;
        let index = self.pos / seg;
        if let Err(e) = self.load(index) {
            self.failed = true;
            self.cached = None;
            self.buf.fill(0);
            return Err(to_io(e));
        }
        let Some((_, plain_len)) = self.cached else {
            return Ok(0);
        };
        // `pos % seg` is below 65536, so the cast is lossless.
        let off = usize::try_from(self.pos % seg).unwrap_or(usize::MAX);
        if off >= plain_len {
            return Ok(0);
        }
        let n = (plain_len - off).min(out.len());
        out[..n].copy_from_slice(&self.buf[off..off + n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: Read + Seek> Seek for SeekableReader<R> {
    /// Moves the plaintext cursor. Positions past the end are allowed (reads return 0);
    /// positions before the start are `InvalidInput` carrying [`FileError::BadSeek`].
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        let target = target
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, FileError::BadSeek))?;
        self.pos = target;
        Ok(target)
    }
}
