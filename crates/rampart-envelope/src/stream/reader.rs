//! The decrypting `Read` adapter (sequential).

use std::io::{self, Read};

use zeroize::Zeroizing;

use super::format::{FileHeader, HEADER_LEN, SEGMENT_CT_LEN};
use super::segment::PayloadKey;
use super::{dek, read_full, to_io};
use crate::error::Error;
use crate::{Context, Keyring};

/// Decrypts the file format from `inner`, in constant memory (one segment buffer).
///
/// Every segment is authenticated before any of its bytes are returned; a segment that
/// fails leaves only zeros behind and the reader stays failed. The end of the data is only
/// reported (`Ok(0)`) after the segment flagged final has authenticated, so a truncated file
/// can never pass for a shorter one.
///
/// Errors from `read` are `io::Error`s that carry the crate's [`Error`]; get it back with
/// [`file_error`](super::file_error). `Truncated` maps to `ErrorKind::UnexpectedEof`, every
/// other failure to `ErrorKind::InvalidData`.
///
/// ```
/// use std::io::{Read, Write};
/// use rampart_envelope::stream::{DecryptingReader, EncryptingWriter, file_error};
/// use rampart_envelope::{Context, Keyring, LocalMasterKey};
///
/// let master = LocalMasterKey::generate()?;
/// let ring = Keyring::create("uploads", "eu-central", &master, std::time::SystemTime::now())?;
/// let ctx = Context::new().with("file", "report.csv");
/// let mut w = EncryptingWriter::new(&ring, &ctx, Vec::new())?;
/// w.write_all(b"id,amount\n1,9.99\n")?;
/// let mut file = w.finish()?;
///
/// let mut plain = Vec::new();
/// DecryptingReader::new(&ring, &ctx, &file[..])?.read_to_end(&mut plain)?;
/// assert_eq!(plain, b"id,amount\n1,9.99\n");
///
/// // A flipped body byte: the segment fails and no plaintext of it is released.
/// let last = file.len() - 1;
/// file[last] ^= 1;
/// let mut out = Vec::new();
/// let err = DecryptingReader::new(&ring, &ctx, &file[..])?.read_to_end(&mut out).unwrap_err();
/// assert!(file_error(&err).is_some_and(|e| e.is_tampered()));
/// assert!(out.is_empty());
/// // Another context does not even open the header.
/// assert!(DecryptingReader::new(&ring, &Context::new(), &file[..]).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct DecryptingReader<R: Read> {
    inner: R,
    key: PayloadKey,
    /// One ciphertext segment plus one byte of look-ahead, which tells a non-final segment
    /// (more bytes follow) from the final one (EOF follows).
    buf: Zeroizing<Vec<u8>>,
    /// Authenticated plaintext not yet returned: `buf[pos..end]`.
    pos: usize,
    end: usize,
    /// The look-ahead byte read after a non-final segment; it starts the next one.
    carry: Option<u8>,
    index: u64,
    state: State,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    Reading,
    Done,
    Failed(io::ErrorKind),
}

impl<R: Read> core::fmt::Debug for DecryptingReader<R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DecryptingReader")
            .field("segment", &self.index)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl<R: Read> DecryptingReader<R> {
    /// Reads and checks the 200-byte header, opens the data key with `keyring` and
    /// `context`, and checks the payload commitment. No segment is read yet.
    ///
    /// # Errors
    /// `Truncated` for a short header, the header parse errors of
    /// [`FileHeader::parse`](super::FileHeader::parse), the keyring's errors for the data-key
    /// slot (wrong keyring or region, retired version, [`Error::Expired`] for a purged
    /// retention bucket, `Authentication` for a wrong context),
    /// [`FileError::HeaderCommitment`](crate::FileError::HeaderCommitment) if the header's
    /// immutable fields were altered, and `FileError::Io` for read errors.
    pub fn new(keyring: &Keyring, context: &Context, mut inner: R) -> Result<Self, Error> {
        let mut head = [0u8; HEADER_LEN];
        let n = read_full(&mut inner, &mut head).map_err(dek::io_error)?;
        let header = FileHeader::parse(&head[..n])?;
        let key = dek::open_file(keyring, context, &header)?;
        Ok(Self::from_parts(key, inner))
    }

    pub(crate) fn from_parts(key: PayloadKey, inner: R) -> Self {
        Self {
            inner,
            key,
            buf: Zeroizing::new(vec![0u8; SEGMENT_CT_LEN + 1]),
            pos: 0,
            end: 0,
            carry: None,
            index: 0,
            state: State::Reading,
        }
    }

    /// Returns the inner reader.
    pub fn into_inner(self) -> R {
        self.inner
    }

    fn fail(&mut self, err: Error) -> io::Error {
        let err = to_io(err);
        self.state = State::Failed(err.kind());
        self.pos = 0;
        self.end = 0;
        self.buf.fill(0);
        err
    }

    /// Records a decrypted segment: advances the counter, and marks the end after the final.
    fn advance(&mut self, last: bool) -> Result<(), Error> {
        if last {
            self.state = State::Done;
        }
        self.index = self
            .index
            .checked_add(1)
            .ok_or_else(super::counter_exhausted)?;
        Ok(())
    }
}

/// Reads the next segment into `dst` (at least one segment plus one byte long) and opens it
/// in place; returns the plaintext length (at the start of `dst`) and whether it was the
/// final segment. The byte after a non-final segment is kept in `carry`.
fn read_segment<R: Read>(
    inner: &mut R,
    key: &PayloadKey,
    index: u64,
    carry: &mut Option<u8>,
    dst: &mut [u8],
) -> Result<(usize, bool), Error> {
    let dst = &mut dst[..=SEGMENT_CT_LEN];
    let mut filled = 0;
    if let Some(b) = carry.take() {
        dst[0] = b;
        filled = 1;
    }
    filled += read_full(inner, &mut dst[filled..]).map_err(dek::io_error)?;
    if filled == SEGMENT_CT_LEN + 1 {
        *carry = Some(dst[SEGMENT_CT_LEN]);
        let len = key.open_segment(index, false, &mut dst[..SEGMENT_CT_LEN])?;
        Ok((len, false))
    } else {
        Ok((open_final(key, index, &mut dst[..filled])?, true))
    }
}

/// Opens the segment that ended at EOF, which must carry the final flag. If it does not
/// authenticate as final but does as non-final, the file was cut at a segment boundary:
/// report `Truncated` (and release nothing).
pub(crate) fn open_final(key: &PayloadKey, index: u64, ct: &mut [u8]) -> Result<usize, Error> {
    if ct.len() < super::format::TAG_LEN {
        return Err(Error::Truncated);
    }
    // Only a full-length segment can be a non-final one; keep a copy to tell the cases apart.
    let copy = (ct.len() == SEGMENT_CT_LEN).then(|| Zeroizing::new(ct.to_vec()));
    match key.open_segment(index, true, ct) {
        Ok(len) => Ok(len),
        Err(e) => {
            if let Some(mut copy) = copy
                && key.open_segment(index, false, &mut copy).is_ok()
            {
                return Err(Error::Truncated);
            }
            Err(e)
        }
    }
}

impl<R: Read> Read for DecryptingReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            if self.pos < self.end {
                let n = (self.end - self.pos).min(out.len());
                out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
                self.pos += n;
                return Ok(n);
            }
            match self.state {
                State::Done => return Ok(0),
                State::Failed(kind) => {
                    return Err(io::Error::new(kind, "decrypting reader failed earlier"));
                }
                State::Reading => {}
            }
            // A caller buffer that holds a whole segment is decrypted in place: one copy
            // fewer. On failure ring has zeroed the decrypted bytes, so nothing leaks there
            // either.
            let direct = out.len() > SEGMENT_CT_LEN;
            let step = if direct {
                read_segment(&mut self.inner, &self.key, self.index, &mut self.carry, out)
            } else {
                read_segment(
                    &mut self.inner,
                    &self.key,
                    self.index,
                    &mut self.carry,
                    &mut self.buf,
                )
            };
            let len = match step.and_then(|(len, last)| self.advance(last).map(|()| len)) {
                Ok(v) => v,
                Err(e) => {
                    if direct {
                        out.fill(0);
                    }
                    return Err(self.fail(e));
                }
            };
            if direct {
                return Ok(len);
            }
            self.pos = 0;
            self.end = len;
        }
    }
}

#[cfg(test)]
mod tests {
    //! Shapes only a key holder can build (the segment layer is not public): they prove the
    //! reader relies on the flag, not on the file length.
    use super::*;
    use crate::error::FileError;
    use crate::stream::format::SEGMENT_LEN;

    fn key() -> PayloadKey {
        PayloadKey::derive(&[9; 32], &[1; 32], &[b"header"], b"")
    }

    fn body(segments: &[(usize, bool)]) -> Vec<u8> {
        let k = key();
        let mut out = Vec::new();
        for (i, &(len, last)) in segments.iter().enumerate() {
            let mut buf = vec![0x5a; len];
            k.seal_segment(i as u64, last, &mut buf).unwrap();
            out.extend_from_slice(&buf);
        }
        out
    }

    fn read_all(body: &[u8]) -> (usize, io::Result<()>) {
        let mut r = DecryptingReader::from_parts(key(), body);
        let mut out = Vec::new();
        let res = r.read_to_end(&mut out).map(|_| ());
        (out.len(), res)
    }

    fn kind(res: &io::Result<()>) -> Option<String> {
        res.as_ref()
            .err()
            .and_then(super::super::file_error)
            .map(|e| format!("{e:?}"))
    }

    #[test]
    fn final_flag_removed_from_a_full_last_segment_is_truncated() {
        let b = body(&[(SEGMENT_LEN, false), (SEGMENT_LEN, false)]);
        let (n, res) = read_all(&b);
        assert_eq!(kind(&res).as_deref(), Some("Truncated"));
        assert_eq!(n, SEGMENT_LEN);
    }

    #[test]
    fn final_flag_removed_from_a_short_last_segment_fails_authentication() {
        let b = body(&[(SEGMENT_LEN, false), (100, false)]);
        let (n, res) = read_all(&b);
        assert!(matches!(
            res.as_ref().err().and_then(super::super::file_error),
            Some(Error::File(FileError::SegmentAuthentication { segment: 1 }))
        ));
        assert_eq!(n, SEGMENT_LEN);
    }

    #[test]
    fn final_flag_on_a_middle_segment_is_rejected() {
        let b = body(&[(SEGMENT_LEN, true), (10, true)]);
        let (n, res) = read_all(&b);
        assert!(matches!(
            res.as_ref().err().and_then(super::super::file_error),
            Some(Error::File(FileError::SegmentAuthentication { segment: 0 }))
        ));
        assert_eq!(n, 0);
    }

    #[test]
    fn well_formed_body_reads() {
        let b = body(&[(SEGMENT_LEN, false), (10, true)]);
        let (n, res) = read_all(&b);
        res.unwrap();
        assert_eq!(n, SEGMENT_LEN + 10);
    }
}
