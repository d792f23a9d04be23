//! The sealed value wire format, v1 (`docs/envelope.md` §2), and its text/serde form.
//!
//! ```text
//! offset size field
//!  0      1   format version = 0x01 (0x00 never valid; new formats get new numbers)
//!  1      1   suite = 0x01: AES-256-GCM, HKDF-SHA256 subkeys, 32-byte commitment
//!  2      4   keyring id (big-endian u32, random at keyring creation)
//!  6      2   region code = first 2 bytes of SHA-256(region label)
//!  8      4   key version (big-endian u32)
//! 12     16   subkey salt S (OS CSPRNG, one per sealer instance)
//! 28     12   nonce (counter mode: 4 zero bytes ‖ big-endian u64 counter)
//! 40     32   key commitment C
//! 72      n   AES-256-GCM ciphertext
//! 72+n   16   GCM tag
//! ```
//! Every header byte is authenticated: bytes 0..28 and the keyring binding (region label,
//! keyring name) are inputs of the subkey derivation, the nonce is GCM's nonce, the commitment
//! is compared in constant time before decryption; the GCM AAD is `canonical(context)`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Error;
use crate::keyring::KeyringId;
use crate::primitives::{self, TAG_LEN};

/// Format version byte of v1.
pub(crate) const FORMAT_V1: u8 = 0x01;
/// Suite byte: AES-256-GCM, HKDF-SHA256 per-sealer subkeys, 32-byte commitment.
pub(crate) const SUITE_AES256GCM_HKDF: u8 = 0x01;
/// Bytes of header before the ciphertext.
pub(crate) const HEADER_LEN: usize = 72;
/// Bytes a sealed value adds to its plaintext: header + tag.
pub const OVERHEAD: usize = HEADER_LEN + TAG_LEN;
/// Largest plaintext [`crate::Keyring::seal`] accepts (64 MiB): sealed values are for
/// values; larger data belongs in the streaming file format.
pub const MAX_PLAINTEXT_LEN: usize = 64 << 20;

pub(crate) const SALT_LEN: usize = 16;
pub(crate) const NONCE_LEN: usize = 12;
pub(crate) const COMMIT_LEN: usize = 32;

/// Byte offsets of the header fields (one home for the layout above).
pub(crate) mod off {
    pub(crate) const KEYRING: usize = 2;
    pub(crate) const REGION: usize = 6;
    pub(crate) const VERSION: usize = 8;
    pub(crate) const SALT: usize = 12;
    pub(crate) const NONCE: usize = 28;
    pub(crate) const COMMIT: usize = 40;
    /// The fixed prefix that names key and algorithm; it goes into the HKDF info.
    pub(crate) const KEY_PREFIX: usize = 12;
}

/// A parsed header; fields borrowed from the ciphertext.
pub(crate) struct Header<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) keyring: KeyringId,
    pub(crate) region_code: u16,
    pub(crate) version: u32,
}

impl<'a> Header<'a> {
    pub(crate) fn salt(&self) -> &'a [u8; SALT_LEN] {
        self.bytes[off::SALT..off::NONCE]
            .try_into()
            .expect("16-byte slice")
    }
    pub(crate) fn nonce(&self) -> [u8; NONCE_LEN] {
        self.bytes[off::NONCE..off::COMMIT]
            .try_into()
            .expect("12-byte slice")
    }
    pub(crate) fn commitment(&self) -> &'a [u8] {
        &self.bytes[off::COMMIT..HEADER_LEN]
    }
}

/// Parses the header without any cryptography. Order of checks: format byte, suite byte,
/// length; each failure has its own error.
pub(crate) fn parse_header(ct: &[u8]) -> Result<Header<'_>, Error> {
    match ct.first() {
        None => return Err(Error::Truncated),
        Some(&FORMAT_V1) => {}
        Some(&version) => return Err(Error::UnsupportedFormat { version }),
    }
    match ct.get(1) {
        None => return Err(Error::Truncated),
        Some(&SUITE_AES256GCM_HKDF) => {}
        Some(&suite) => return Err(Error::UnsupportedSuite { suite }),
    }
    if ct.len() < OVERHEAD {
        return Err(Error::Truncated);
    }
    let keyring = KeyringId(u32::from_be_bytes(
        ct[off::KEYRING..off::REGION].try_into().expect("4 bytes"),
    ));
    let region_code = u16::from_be_bytes(ct[off::REGION..off::VERSION].try_into().expect("2"));
    let version = u32::from_be_bytes(ct[off::VERSION..off::SALT].try_into().expect("4 bytes"));
    Ok(Header {
        bytes: &ct[..HEADER_LEN],
        keyring,
        region_code,
        version,
    })
}

/// A sealed value in its binary form, with a text form (unpadded base64url) for database
/// columns and serde support (serializes as that text).
///
/// ```
/// use rampart_envelope::SealedValue;
/// let v = SealedValue::from_text("AQE")?; // parses text only; opening checks the rest
/// assert_eq!(v.as_bytes(), &[1, 1]);
/// assert_eq!(v.to_text(), "AQE");
/// # Ok::<(), rampart_envelope::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SealedValue(Vec<u8>);

impl SealedValue {
    /// Wraps sealed bytes (no validation: [`crate::Keyring::open`] validates).
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// Parses the text form; [`Error::MalformedText`] if it is not unpadded base64url.
    pub fn from_text(text: &str) -> Result<Self, Error> {
        primitives::b64url_decode(text)
            .map(Self)
            .ok_or(Error::MalformedText)
    }

    /// The text form: unpadded base64url.
    pub fn to_text(&self) -> String {
        primitives::b64url_encode(&self.0)
    }

    /// The binary form.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Consumes the value, returning the binary form.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

impl fmt::Debug for SealedValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Ciphertext is not secret, but long; show the header fields only.
        match parse_header(&self.0) {
            Ok(h) => write!(
                f,
                "SealedValue {{ keyring: {}, version: {}, len: {} }}",
                h.keyring,
                h.version,
                self.0.len()
            ),
            Err(_) => write!(f, "SealedValue {{ invalid, len: {} }}", self.0.len()),
        }
    }
}

impl AsRef<[u8]> for SealedValue {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Serialize for SealedValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_text())
    }
}

impl<'de> Deserialize<'de> for SealedValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        SealedValue::from_text(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_short_inputs_are_truncated() {
        assert!(matches!(parse_header(&[]), Err(Error::Truncated)));
        assert!(matches!(parse_header(&[1]), Err(Error::Truncated)));
        assert!(matches!(parse_header(&[1, 1, 0]), Err(Error::Truncated)));
        assert!(matches!(parse_header(&[1u8; 87]), Err(Error::Truncated)));
    }

    #[test]
    fn unknown_format_and_suite_are_named() {
        assert!(matches!(
            parse_header(&[0u8; 100]),
            Err(Error::UnsupportedFormat { version: 0 })
        ));
        let mut b = [0u8; 100];
        b[0] = 1;
        b[1] = 7;
        assert!(matches!(
            parse_header(&b),
            Err(Error::UnsupportedSuite { suite: 7 })
        ));
    }

    #[test]
    fn header_fields_are_big_endian_at_documented_offsets() {
        let mut b = vec![0u8; 88];
        b[0] = 1;
        b[1] = 1;
        b[2..6].copy_from_slice(&0x0102_0304u32.to_be_bytes());
        b[6..8].copy_from_slice(&0xabcdu16.to_be_bytes());
        b[8..12].copy_from_slice(&7u32.to_be_bytes());
        b[12] = 0xee;
        b[28] = 0xdd;
        b[40] = 0xcc;
        let h = parse_header(&b).unwrap();
        assert_eq!(h.keyring, KeyringId(0x0102_0304));
        assert_eq!(h.region_code, 0xabcd);
        assert_eq!(h.version, 7);
        assert_eq!(h.salt()[0], 0xee);
        assert_eq!(h.nonce()[0], 0xdd);
        assert_eq!(h.commitment()[0], 0xcc);
        assert_eq!(h.commitment().len(), 32);
    }

    #[test]
    fn text_form_is_unpadded_base64url_and_serde_uses_it() {
        let v = SealedValue::from_bytes(vec![0xfb, 0xff, 0x01]);
        assert_eq!(v.to_text(), "-_8B");
        let json = serde_json::to_string(&v).unwrap();
        assert_eq!(json, "\"-_8B\"");
        let back: SealedValue = serde_json::from_str(&json).unwrap();
        assert_eq!(back, v);
        assert!(matches!(
            SealedValue::from_text("-_8B=="),
            Err(Error::MalformedText)
        ));
        assert!(matches!(
            SealedValue::from_text("+/8B"),
            Err(Error::MalformedText)
        ));
        assert!(serde_json::from_str::<SealedValue>("\"*\"").is_err());
    }
}
