//! The encrypting `Write` adapter.

use std::io::{self, Write};

use zeroize::Zeroizing;

use super::dek;
use super::format::{FileHeader, SEGMENT_CT_LEN, SEGMENT_LEN};
use super::segment::PayloadKey;
use super::to_io;
use crate::error::Error;
use crate::{Context, Keyring};

/// Encrypts everything written to it into the file format, in constant memory (one 64 KiB
/// segment buffer), and writes the result to `inner`.
///
/// A fresh 256-bit data key is drawn from the OS CSPRNG for each file and sealed under the
/// keyring's primary version into the header. **Call [`finish`](Self::finish)**: it writes
/// the final segment. A writer dropped without `finish` leaves a file that every reader
/// rejects as [`Error::Truncated`] (never as a shorter, valid file).
///
/// After any error from the inner writer the adapter is poisoned and refuses further
/// writes, because a segment may have been half written.
///
/// ```
/// # use rampart_envelope::{Context, Keyring, LocalMasterKey};
/// # use rampart_envelope::stream::{DecryptingReader, EncryptingWriter};
/// # use std::io::{Read, Write};
/// # let master = LocalMasterKey::generate()?;
/// # let keyring = Keyring::create("uploads", "eu-central", &master, std::time::SystemTime::now())?;
/// let ctx = Context::new().with("tenant", "acme");
/// let mut w = EncryptingWriter::new(&keyring, &ctx, Vec::new())?;
/// w.write_all(b"name,amount\nalice,10\n")?;
/// let file = w.finish()?;
///
/// let mut plain = Vec::new();
/// DecryptingReader::new(&keyring, &ctx, &file[..])?.read_to_end(&mut plain)?;
/// assert_eq!(plain, b"name,amount\nalice,10\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct EncryptingWriter<W: Write> {
    inner: W,
    key: PayloadKey,
    header: Option<FileHeader>,
    /// Plaintext of the current segment (zeroized on drop); capacity for the tag so
    /// sealing never reallocates.
    buf: Zeroizing<Vec<u8>>,
    index: u64,
    poisoned: bool,
}

impl<W: Write> core::fmt::Debug for EncryptingWriter<W> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EncryptingWriter")
            .field("segments_written", &self.index)
            .field("poisoned", &self.poisoned)
            .finish_non_exhaustive()
    }
}

impl<W: Write> EncryptingWriter<W> {
    /// Starts a file: draws a data key, seals it under `keyring`'s primary version with
    /// `context` bound, and prepares the header (written with the first segment).
    ///
    /// # Errors
    /// Whatever sealing the data key under the keyring returns (for example no usable
    /// primary version), or `InvalidOperation` if the sealed key does not fit the 120-byte
    /// header slot (not possible with this crate's sealed-value format v1).
    pub fn new(keyring: &Keyring, context: &Context, inner: W) -> Result<Self, Error> {
        let (header, key) = dek::new_file(keyring, context)?;
        Ok(Self::from_parts(header, key, inner))
    }

    pub(crate) fn from_parts(header: FileHeader, key: PayloadKey, inner: W) -> Self {
        Self {
            inner,
            key,
            header: Some(header),
            buf: Zeroizing::new(Vec::with_capacity(SEGMENT_CT_LEN)),
            index: 0,
            poisoned: false,
        }
    }

    /// Writes the final segment, flushes, and returns the inner writer.
    ///
    /// # Errors
    /// The inner writer's error, or an error if the writer was poisoned by an earlier one.
    pub fn finish(mut self) -> io::Result<W> {
        self.check()?;
        self.emit(true)?;
        self.inner.flush()?;
        Ok(self.inner)
    }

    /// The inner writer (writing to it directly corrupts the file).
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    fn check(&self) -> io::Result<()> {
        if self.poisoned {
            return Err(io::Error::other(
                "encrypting writer is poisoned by an earlier error",
            ));
        }
        Ok(())
    }

    /// Seals the buffered segment and writes it (with the header before the first one).
    fn emit(&mut self, last: bool) -> io::Result<()> {
        self.poisoned = true;
        if let Some(header) = self.header.take() {
            self.inner.write_all(header.as_bytes())?;
        }
        self.key
            .seal_segment(self.index, last, &mut self.buf)
            .map_err(to_io)?;
        self.inner.write_all(&self.buf)?;
        self.buf.clear();
        self.index = self
            .index
            .checked_add(1)
            .ok_or_else(|| to_io(super::counter_exhausted()))?;
        self.poisoned = false;
        Ok(())
    }
}

impl<W: Write> Write for EncryptingWriter<W> {
    fn write(&mut self, mut data: &[u8]) -> io::Result<usize> {
        self.check()?;
        let total = data.len();
        while !data.is_empty() {
            // A full buffer is sealed as non-final only once more data arrives: the last
            // segment must carry the final flag, and only `finish` knows which one is last.
            if self.buf.len() == SEGMENT_LEN {
                self.emit(false)?;
            }
            let take = (SEGMENT_LEN - self.buf.len()).min(data.len());
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
        }
        Ok(total)
    }

    /// Flushes the inner writer. A partial segment stays buffered: segments are sealed only
    /// when full or at [`finish`](EncryptingWriter::finish).
    fn flush(&mut self) -> io::Result<()> {
        self.check()?;
        self.inner.flush()
    }
}
