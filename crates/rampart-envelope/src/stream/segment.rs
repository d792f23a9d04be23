//! The STREAM layer over a raw 32-byte data key (Hoang, Reyhanitabar, Rogaway, Vizár,
//! "Online Authenticated-Encryption and its Nonce-Reuse Misuse-Resistance", CRYPTO 2015,
//! section 7; the same shape as age's payload, age spec "Payload").
//!
//! Each file has its own payload key, derived with HKDF-SHA256 from the file's data key
//! (DEK), the file salt, the immutable header bytes and the canonical context. Segment `i`
//! is sealed with nonce `u88_be(i) || last_flag` and empty AAD. Because the counter and the
//! flag are in the nonce and the key is per file, a segment authenticates only at its own
//! position, only as final or non-final as written, and only in its own file: reordering,
//! duplication, splicing and truncation at a segment boundary all fail authentication.

use ring::aead::{self, Aad, LessSafeKey, Nonce};
use ring::hkdf;
use subtle::ConstantTimeEq;

use super::format::{COMMIT_LEN, TAG_LEN};
use crate::error::{Error, FileError};
use crate::primitives::{KEY_LEN, aes_key, expand32};

const LABEL_KEY: &[u8] = b"rampart/v1/file-key";
const LABEL_COMMIT: &[u8] = b"rampart/v1/file-commit";

/// The per-file payload key and its commitment, derived from the DEK.
pub(crate) struct PayloadKey {
    key: LessSafeKey,
    commitment: [u8; COMMIT_LEN],
}

impl PayloadKey {
    /// Derives the payload key and commitment:
    /// `PRK = HKDF-Extract(salt = file salt, DEK)`,
    /// `key = HKDF-Expand(PRK, "rampart/v1/file-key" || immutable header || context, 32)`,
    /// `commitment = HKDF-Expand(PRK, "rampart/v1/file-commit" || immutable header || context, 32)`.
    pub(crate) fn derive(
        dek: &[u8; KEY_LEN],
        salt: &[u8],
        immutable: &[&[u8]],
        context: &[u8],
    ) -> Self {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(dek);
        let mut info: Vec<&[u8]> = Vec::with_capacity(immutable.len() + 2);
        info.push(LABEL_KEY);
        info.extend_from_slice(immutable);
        info.push(context);
        let key_bytes = expand32(&prk, &info);
        info[0] = LABEL_COMMIT;
        let commitment = *expand32(&prk, &info);
        Self {
            key: aes_key(&key_bytes),
            commitment,
        }
    }

    pub(crate) fn commitment(&self) -> &[u8; COMMIT_LEN] {
        &self.commitment
    }

    /// Checks the header's commitment in constant time (`docs/envelope.md` §4, §8): a header
    /// whose immutable fields or context were altered fails here, before any segment.
    pub(crate) fn check_commitment(&self, stored: &[u8]) -> Result<(), Error> {
        if bool::from(self.commitment.ct_eq(stored)) {
            Ok(())
        } else {
            Err(FileError::HeaderCommitment.into())
        }
    }

    /// Seals `buf` in place as segment `index` and appends the tag. `buf` must have room
    /// for the tag in its capacity to avoid a reallocation.
    pub(crate) fn seal_segment(
        &self,
        index: u64,
        last: bool,
        buf: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let tag = self.seal_in_place(index, last, buf)?;
        buf.extend_from_slice(&tag);
        Ok(())
    }

    /// Seals `plain` in place as segment `index`; returns the tag.
    pub(crate) fn seal_in_place(
        &self,
        index: u64,
        last: bool,
        plain: &mut [u8],
    ) -> Result<[u8; TAG_LEN], Error> {
        let tag = self
            .key
            .seal_in_place_separate_tag(nonce(index, last), Aad::empty(), plain)
            .map_err(|_| {
                Error::from(FileError::Io(std::io::Error::other("segment seal failed")))
            })?;
        let mut out = [0u8; TAG_LEN];
        out.copy_from_slice(tag.as_ref());
        Ok(out)
    }

    /// Opens segment `index` in place (`ct` = ciphertext || tag) and returns the plaintext
    /// length. On failure, every byte of `ct` is zeroed: ring zeroes the decrypted part,
    /// and we zero the tag, so no plaintext of a forged segment is ever observable.
    pub(crate) fn open_segment(
        &self,
        index: u64,
        last: bool,
        ct: &mut [u8],
    ) -> Result<usize, Error> {
        if ct.len() < TAG_LEN {
            return Err(Error::Truncated);
        }
        match self.key.open_in_place(nonce(index, last), Aad::empty(), ct) {
            Ok(plain) => Ok(plain.len()),
            Err(_) => {
                ct.fill(0);
                Err(FileError::SegmentAuthentication { segment: index }.into())
            }
        }
    }
}

/// STREAM nonce: 11-byte big-endian segment counter, then the last-segment flag.
fn nonce(index: u64, last: bool) -> Nonce {
    let mut n = [0u8; aead::NONCE_LEN];
    n[3..11].copy_from_slice(&index.to_be_bytes());
    n[11] = u8::from(last);
    Nonce::assume_unique_for_key(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(dek: u8, ctx: &[u8]) -> PayloadKey {
        PayloadKey::derive(&[dek; 32], &[7; 32], &[b"immutable"], ctx)
    }

    #[test]
    fn nonce_layout_is_counter_then_flag() {
        let n = nonce(0x0102, true);
        assert_eq!(n.as_ref(), &[0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 1]);
        assert_eq!(nonce(u64::MAX, false).as_ref()[3..11], [0xff; 8]);
    }

    #[test]
    fn segment_opens_only_at_its_own_index_and_flag() {
        let k = key(1, b"");
        let mut buf = b"segment".to_vec();
        k.seal_segment(5, false, &mut buf).unwrap();
        for (i, last) in [(4, false), (6, false), (5, true)] {
            let mut c = buf.clone();
            assert!(matches!(
                k.open_segment(i, last, &mut c),
                Err(Error::File(FileError::SegmentAuthentication { segment })) if segment == i
            ));
            assert!(
                c.iter().all(|&b| b == 0),
                "failed open must leave only zeros"
            );
        }
        let n = k.open_segment(5, false, &mut buf).unwrap();
        assert_eq!(&buf[..n], b"segment");
    }

    #[test]
    fn context_and_dek_change_key_and_commitment() {
        let a = key(1, b"ctx-a");
        let b = key(1, b"ctx-b");
        let c = key(2, b"ctx-a");
        assert_ne!(a.commitment(), b.commitment());
        assert_ne!(a.commitment(), c.commitment());
        assert!(a.check_commitment(b.commitment()).is_err());
        assert!(a.check_commitment(a.commitment()).is_ok());
    }
}
