//! The encrypted-file header (format v1): layout, parsing and format detection.
//!
//! Parsing is pure: it checks lengths, magic, version, suite, segment size and the reserved
//! bytes, and performs no cryptography, so the fuzz target can drive it directly.

use crate::error::{Error, FileError};

/// Magic bytes that open every encrypted file ("Rampart File").
pub(crate) const MAGIC: [u8; 3] = *b"RPF";
/// The only file format version this crate writes and reads.
pub(crate) const FORMAT_V1: u8 = 0x01;
/// Suite 1: AES-256-GCM STREAM over HKDF-SHA256-derived payload key, 32-byte commitment.
pub(crate) const SUITE_V1: u8 = 0x01;
/// log2 of the plaintext segment size: 2^16 = 64 KiB, where ring reaches its peak throughput
/// at 0.024% size overhead (`docs/envelope.md` §8).
pub(crate) const LOG2_SEGMENT_V1: u8 = 16;

/// Total header length in bytes.
pub const HEADER_LEN: usize = 200;
/// Plaintext bytes per segment (every segment but the last is exactly this long).
pub const SEGMENT_LEN: usize = 1 << LOG2_SEGMENT_V1;
/// AES-GCM tag length appended to each segment.
pub(crate) const TAG_LEN: usize = 16;
/// Ciphertext bytes per full segment.
pub(crate) const SEGMENT_CT_LEN: usize = SEGMENT_LEN + TAG_LEN;

// Byte offsets of the header fields (documented in the module docs of `stream`).
pub(crate) const OFF_VERSION: usize = 3;
pub(crate) const OFF_SUITE: usize = 4;
pub(crate) const OFF_LOG2: usize = 5;
pub(crate) const OFF_KEYRING: usize = 6;
pub(crate) const OFF_REGION: usize = 10;
pub(crate) const OFF_SALT: usize = 12;
pub(crate) const SALT_LEN: usize = 32;
pub(crate) const OFF_SLOT: usize = OFF_SALT + SALT_LEN; // 44
/// Length of the wrapped data-key slot: one sealed value (88 bytes of overhead) of a 32-byte key.
pub(crate) const SLOT_LEN: usize = 120;
pub(crate) const OFF_COMMIT: usize = OFF_SLOT + SLOT_LEN; // 164
pub(crate) const COMMIT_LEN: usize = 32;
pub(crate) const OFF_RESERVED: usize = OFF_COMMIT + COMMIT_LEN; // 196
/// The immutable prefix (magic through salt) that is bound, with the reserved bytes, into the
/// payload key and the commitment. The slot is deliberately outside it so the data key can
/// be re-wrapped.
pub(crate) const IMMUTABLE_LEN: usize = OFF_SLOT;

const _: () = assert!(OFF_RESERVED + 4 == HEADER_LEN);

/// A parsed, structurally valid file header (format v1).
///
/// Holding a `FileHeader` proves only that the 200 bytes are well formed; nothing is
/// authenticated until a reader opens the data-key slot and checks the commitment.
#[derive(Clone, PartialEq, Eq)]
pub struct FileHeader {
    bytes: [u8; HEADER_LEN],
}

impl core::fmt::Debug for FileHeader {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FileHeader")
            .field("version", &self.bytes[OFF_VERSION])
            .field("suite", &self.bytes[OFF_SUITE])
            .field("segment_len", &SEGMENT_LEN)
            .field("keyring_id", &format_args!("{:08x}", self.keyring_id()))
            .field(
                "region_code",
                &format_args!("{:04x}", u16::from_be_bytes(self.region_code())),
            )
            .finish_non_exhaustive()
    }
}

impl FileHeader {
    /// Parses the first [`HEADER_LEN`] bytes of `bytes` (extra bytes are ignored).
    ///
    /// # Errors
    /// [`FileError::BadMagic`] if the input does not start with "RPF"; [`Error::Truncated`] if
    /// fewer than 200 bytes are given; [`FileError::UnsupportedVersion`],
    /// [`FileError::UnsupportedSuite`] and [`FileError::UnsupportedSegmentSize`] for unknown
    /// version, suite or segment-size bytes. Never panics. The reserved bytes are not checked
    /// here: they are bound into the commitment, so altering them fails
    /// [`FileError::HeaderCommitment`] when the file is opened.
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() >= MAGIC.len() && bytes[..MAGIC.len()] != MAGIC {
            return Err(FileError::BadMagic.into());
        }
        let Some(head) = bytes.get(..HEADER_LEN) else {
            return Err(Error::Truncated);
        };
        if head[..MAGIC.len()] != MAGIC {
            return Err(FileError::BadMagic.into());
        }
        if head[OFF_VERSION] != FORMAT_V1 {
            return Err(FileError::UnsupportedVersion {
                version: head[OFF_VERSION],
            }
            .into());
        }
        if head[OFF_SUITE] != SUITE_V1 {
            return Err(FileError::UnsupportedSuite {
                suite: head[OFF_SUITE],
            }
            .into());
        }
        if head[OFF_LOG2] != LOG2_SEGMENT_V1 {
            return Err(FileError::UnsupportedSegmentSize {
                log2: head[OFF_LOG2],
            }
            .into());
        }
        let mut out = [0u8; HEADER_LEN];
        out.copy_from_slice(head);
        Ok(Self { bytes: out })
    }

    /// Builds a header from its fields (the writer and re-wrap use it).
    pub(crate) fn build(
        keyring_id: u32,
        region_code: [u8; 2],
        salt: &[u8; SALT_LEN],
        slot: &[u8; SLOT_LEN],
        commitment: &[u8; COMMIT_LEN],
    ) -> Self {
        let mut b = [0u8; HEADER_LEN];
        b[..MAGIC.len()].copy_from_slice(&MAGIC);
        b[OFF_VERSION] = FORMAT_V1;
        b[OFF_SUITE] = SUITE_V1;
        b[OFF_LOG2] = LOG2_SEGMENT_V1;
        b[OFF_KEYRING..OFF_REGION].copy_from_slice(&keyring_id.to_be_bytes());
        b[OFF_REGION..OFF_SALT].copy_from_slice(&region_code);
        b[OFF_SALT..OFF_SLOT].copy_from_slice(salt);
        b[OFF_SLOT..OFF_COMMIT].copy_from_slice(slot);
        b[OFF_COMMIT..OFF_RESERVED].copy_from_slice(commitment);
        Self { bytes: b }
    }

    /// The 200 header bytes, as written at the start of the file.
    pub fn as_bytes(&self) -> &[u8; HEADER_LEN] {
        &self.bytes
    }

    /// The keyring id that wrapped this file's data key (header bytes 6..10).
    pub fn keyring_id(&self) -> u32 {
        let mut id = [0u8; 4];
        id.copy_from_slice(&self.bytes[OFF_KEYRING..OFF_REGION]);
        u32::from_be_bytes(id)
    }

    /// The 2-byte region code of the keyring (header bytes 10..12).
    pub fn region_code(&self) -> [u8; 2] {
        [self.bytes[OFF_REGION], self.bytes[OFF_REGION + 1]]
    }

    /// The wrapped data key: a 120-byte sealed value (header bytes 44..164).
    pub fn wrapped_key(&self) -> &[u8] {
        &self.bytes[OFF_SLOT..OFF_COMMIT]
    }

    pub(crate) fn salt(&self) -> &[u8] {
        &self.bytes[OFF_SALT..OFF_SLOT]
    }

    /// The header bytes bound into the payload key and commitment: everything but the
    /// data-key slot and the commitment itself.
    pub(crate) fn immutable(&self) -> [&[u8]; 2] {
        [&self.bytes[..IMMUTABLE_LEN], &self.bytes[OFF_RESERVED..]]
    }

    pub(crate) fn commitment(&self) -> &[u8] {
        &self.bytes[OFF_COMMIT..OFF_RESERVED]
    }

    /// Returns a copy of this header with a new wrapped data key in the slot.
    pub(crate) fn with_slot(&self, slot: &[u8; SLOT_LEN]) -> Self {
        let mut b = self.bytes;
        b[OFF_SLOT..OFF_COMMIT].copy_from_slice(slot);
        Self { bytes: b }
    }
}

/// Size in bytes of the encrypted file for a plaintext of `plaintext_len` bytes:
/// 200 + plaintext + 16 per segment (an empty plaintext still has one, empty, final segment).
///
/// Returns `None` on overflow (plaintexts within 2^64 - 2^50 bytes never overflow).
pub fn encrypted_len(plaintext_len: u64) -> Option<u64> {
    let seg = SEGMENT_LEN as u64;
    let segments = plaintext_len.div_ceil(seg).max(1);
    plaintext_len
        .checked_add(segments.checked_mul(TAG_LEN as u64)?)?
        .checked_add(HEADER_LEN as u64)
}

/// The layout of a body of `body_len` ciphertext bytes: number of segments and the
/// ciphertext length of the final one. Pure arithmetic, used by the seekable reader.
///
/// # Errors
/// [`Error::Truncated`] if the body cannot hold a final segment (empty, or a final
/// segment shorter than a tag).
pub(crate) fn body_layout(body_len: u64) -> Result<(u64, usize), Error> {
    let ct = SEGMENT_CT_LEN as u64;
    if body_len == 0 {
        return Err(Error::Truncated);
    }
    let segments = body_len.div_ceil(ct);
    let last = body_len - (segments - 1) * ct;
    if last < TAG_LEN as u64 {
        return Err(Error::Truncated);
    }
    // `last` is at most SEGMENT_CT_LEN, so it fits a usize.
    let last = usize::try_from(last).map_err(|_| Error::Truncated)?;
    Ok((segments, last))
}

/// What a byte string looks like, from its first bytes (no cryptography).
///
/// The CLI uses this to pick between the file format and sealed values for
/// `rampart encrypt`/`decrypt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Detected {
    /// Starts with the "RPF" magic: an encrypted file of this format `version` (only 1 is
    /// readable by this crate; others parse as `UnsupportedFormat`).
    EncryptedFile {
        /// The format version byte after the magic, if present.
        version: Option<u8>,
    },
    /// Binary sealed value (format byte 0x01, suite byte 0x01, at least 88 bytes).
    SealedValue,
    /// The unpadded base64url text form of a sealed value (its first characters decode to the
    /// sealed-value format and suite bytes).
    SealedValueText,
    /// None of the above.
    Unknown,
}

/// Smallest sealed value: the 88-byte overhead of sealed-value format v1.
const SEALED_MIN_LEN: usize = crate::sealed::OVERHEAD;

/// Detects the format of `prefix`, the first bytes of an input (give at least 200 bytes when
/// available; fewer is fine).
///
/// ```
/// use rampart_envelope::stream::{detect, Detected};
/// assert_eq!(detect(b"RPF\x01..."), Detected::EncryptedFile { version: Some(1) });
/// assert_eq!(detect(b"hello"), Detected::Unknown);
/// ```
pub fn detect(prefix: &[u8]) -> Detected {
    if prefix.starts_with(&MAGIC) {
        return Detected::EncryptedFile {
            version: prefix.get(OFF_VERSION).copied(),
        };
    }
    if prefix.len() >= SEALED_MIN_LEN
        && prefix[0] == crate::sealed::FORMAT_V1
        && prefix[1] == crate::sealed::SUITE_AES256GCM_HKDF
    {
        return Detected::SealedValue;
    }
    // The text form is unpadded base64url: its first 4 characters decode to the format and
    // suite bytes; a minimal sealed value is 118 characters.
    let text = prefix.trim_ascii();
    let is_b64url = |c: &u8| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_';
    if text.len() >= (SEALED_MIN_LEN * 4).div_ceil(3) && text.iter().all(is_b64url) {
        use base64::Engine as _;
        if let Ok(head) = crate::primitives::B64URL.decode(&text[..4])
            && head[..2]
                == [
                    crate::sealed::FORMAT_V1,
                    crate::sealed::SUITE_AES256GCM_HKDF,
                ]
        {
            return Detected::SealedValueText;
        }
    }
    Detected::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encrypted_len_counts_one_tag_per_segment_and_one_for_empty() {
        assert_eq!(encrypted_len(0), Some(200 + 16));
        assert_eq!(encrypted_len(1), Some(200 + 1 + 16));
        assert_eq!(encrypted_len(65536), Some(200 + 65536 + 16));
        assert_eq!(encrypted_len(65537), Some(200 + 65537 + 32));
        assert_eq!(encrypted_len(u64::MAX), None);
    }

    #[test]
    fn body_layout_matches_encrypted_len() {
        for p in [0u64, 1, 65535, 65536, 65537, 3 * 65536, 3 * 65536 + 5] {
            let body = encrypted_len(p).unwrap() - HEADER_LEN as u64;
            let (n, last) = body_layout(body).unwrap();
            assert_eq!(n, p.div_ceil(65536).max(1), "segments for {p}");
            assert_eq!((n - 1) * 65536 + (last - TAG_LEN) as u64, p);
        }
        assert!(matches!(body_layout(0), Err(Error::Truncated)));
        assert!(matches!(body_layout(15), Err(Error::Truncated)));
        assert!(matches!(
            body_layout(SEGMENT_CT_LEN as u64 + 3),
            Err(Error::Truncated)
        ));
    }
}
