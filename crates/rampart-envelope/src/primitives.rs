//! One home for the small cryptographic helpers every module shares: OS randomness, the
//! random-nonce AES-256-GCM key wrap, HKDF expansion into fixed-size outputs, and the base64
//! engines. Everything is ring or the `base64` crate; nothing is hand-rolled.

use base64::Engine as _;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hkdf;
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use crate::error::Error;

/// Length of every key this crate handles (AES-256, HKDF-SHA256 outputs).
pub(crate) const KEY_LEN: usize = 32;
/// AES-GCM tag length.
pub(crate) const TAG_LEN: usize = 16;

/// Unpadded base64url, strict: used for the text form of sealed values and for the binary
/// fields of the keyring file.
pub(crate) const B64URL: GeneralPurpose = general_purpose::URL_SAFE_NO_PAD;

/// Standard-alphabet base64 for master keys (`head -c 32 /dev/urandom | base64`): padding is
/// optional, trailing bits must be zero (canonical).
pub(crate) const B64_MASTER: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A length as a big-endian u16. Callers bound lengths first (labels 128 bytes, contexts
/// 4 KiB); saturating keeps this total if a bound were ever missed (the AAD would then differ,
/// failing closed).
pub(crate) fn be16(n: usize) -> [u8; 2] {
    u16::try_from(n).unwrap_or(u16::MAX).to_be_bytes()
}

/// Fills `out` from the OS CSPRNG.
pub(crate) fn os_fill(out: &mut [u8]) -> Result<(), Error> {
    SystemRandom::new().fill(out).map_err(|_| Error::Random)
}

/// 32 fresh bytes from the OS CSPRNG, in a zeroizing buffer.
pub(crate) fn os_key() -> Result<Zeroizing<[u8; KEY_LEN]>, Error> {
    let mut k = Zeroizing::new([0u8; KEY_LEN]);
    os_fill(&mut k[..])?;
    Ok(k)
}

/// An AES-256-GCM key from raw bytes (the length is fixed, so this cannot fail).
pub(crate) fn aes_key(bytes: &[u8; KEY_LEN]) -> LessSafeKey {
    // AES_256_GCM takes exactly 32 bytes; `new` only fails on a length mismatch.
    LessSafeKey::new(UnboundKey::new(&AES_256_GCM, bytes).expect("32-byte AES-256 key"))
}

/// A fixed-length HKDF output type (ring's `hkdf::KeyType`).
pub(crate) struct Len(pub(crate) usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// HKDF-Expand `prk` with `info` into 32 bytes.
pub(crate) fn expand32(prk: &hkdf::Prk, info: &[&[u8]]) -> Zeroizing<[u8; KEY_LEN]> {
    let mut out = Zeroizing::new([0u8; KEY_LEN]);
    // 32 bytes is far below HKDF-SHA256's 255 * 32 limit, so expand/fill cannot fail.
    prk.expand(info, Len(KEY_LEN))
        .and_then(|okm| okm.fill(&mut out[..]))
        .expect("hkdf output of 32 bytes");
    out
}

/// HKDF-SHA256 extract with an empty salt then expand: derives a purpose-bound key from a root
/// key (RFC 5869 §3.1: a salt is optional when the input is already uniformly random).
pub(crate) fn derive32(root: &[u8; KEY_LEN], label: &[u8]) -> Zeroizing<[u8; KEY_LEN]> {
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, &[]).extract(root);
    expand32(&prk, &[label])
}

/// Wraps `key` under `kek` with AES-256-GCM and a random 96-bit nonce from the OS:
/// `nonce(12) ‖ ciphertext(len) ‖ tag(16)`. Random nonces are fine here: a wrapping key wraps
/// at most a few thousand keys in its life, far below the 2^32 bound of NIST SP 800-38D §8.3.
pub(crate) fn wrap(kek: &LessSafeKey, key: &[u8], aad: &[u8]) -> Result<Vec<u8>, Error> {
    let mut nonce = [0u8; NONCE_LEN];
    os_fill(&mut nonce)?;
    let mut out = Vec::with_capacity(NONCE_LEN + key.len() + TAG_LEN);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(key);
    let tag = kek
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut out[NONCE_LEN..],
        )
        .map_err(|_| Error::Random)?;
    out.extend_from_slice(tag.as_ref());
    Ok(out)
}

/// Reverses [`wrap`] for a 32-byte key; `None` when the tag does not verify.
pub(crate) fn unwrap32(
    kek: &LessSafeKey,
    wrapped: &[u8],
    aad: &[u8],
) -> Option<Zeroizing<[u8; KEY_LEN]>> {
    if wrapped.len() != NONCE_LEN + KEY_LEN + TAG_LEN {
        return None;
    }
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&wrapped[..NONCE_LEN]);
    let mut buf = Zeroizing::new(wrapped[NONCE_LEN..].to_vec());
    let plain = kek
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut buf[..],
        )
        .ok()?;
    let mut out = Zeroizing::new([0u8; KEY_LEN]);
    out.copy_from_slice(plain);
    Some(out)
}

/// Decodes unpadded base64url.
pub(crate) fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    B64URL.decode(s).ok()
}

/// Encodes as unpadded base64url.
pub(crate) fn b64url_encode(b: &[u8]) -> String {
    B64URL.encode(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_round_trips_and_binds_aad() {
        let kek = aes_key(&[7u8; 32]);
        let w = wrap(&kek, &[9u8; 32], b"aad").unwrap();
        assert_eq!(w.len(), 60);
        assert_eq!(*unwrap32(&kek, &w, b"aad").unwrap(), [9u8; 32]);
        assert!(unwrap32(&kek, &w, b"other").is_none());
        assert!(unwrap32(&kek, &w[..59], b"aad").is_none());
    }

    #[test]
    fn derive_is_label_separated() {
        let root = [1u8; 32];
        assert_ne!(*derive32(&root, b"a"), *derive32(&root, b"b"));
        assert_eq!(*derive32(&root, b"a"), *derive32(&root, b"a"));
    }
}
