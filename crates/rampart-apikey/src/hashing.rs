//! Server-side hashing keys and the keyed hash of a secret (HMAC-SHA256, RFC 2104).
//!
//! Why HMAC and not argon2: the secret has 190 bits of entropy, so a slow hash adds nothing
//! against guessing, while a keyed hash means a stolen database alone cannot even confirm a
//! leaked key (the hashing key lives elsewhere), and a check costs microseconds.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use subtle::{Choice, ConstantTimeEq};
use zeroize::Zeroizing;

use crate::error::{ConfigError, Error};

/// Minimum hashing key length: the HMAC-SHA256 output length (RFC 2104, section 3).
pub const MIN_HASHING_KEY_LEN: usize = 32;

/// A server-side HMAC-SHA256 key for hashing API key secrets. Keep it outside the database
/// that holds the records (an environment variable, a secrets manager, or sealed with
/// rampart-envelope).
///
/// The raw bytes are zeroized on drop and print `[REDACTED]`. ring also keeps the HMAC
/// inner and outer states derived from the key (that is what makes a check cost two SHA-256
/// blocks instead of four); ring offers no way to zeroize those, so they are freed, not wiped.
pub struct HashingKey {
    bytes: Zeroizing<Vec<u8>>,
    key: hmac::Key,
}

impl HashingKey {
    /// A key from raw bytes (at least 32).
    ///
    /// # Errors
    /// [`Error::Config`] with [`ConfigError::HashingKey`] when shorter than 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() < MIN_HASHING_KEY_LEN {
            return Err(ConfigError::HashingKey.into());
        }
        Ok(Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, bytes),
            bytes: Zeroizing::new(bytes.to_vec()),
        })
    }

    /// A key from standard base64 (surrounding whitespace ignored), as in a key file made
    /// by `head -c 32 /dev/urandom | base64`.
    ///
    /// # Errors
    /// [`Error::Config`] with [`ConfigError::HashingKey`] when not base64 or too short.
    pub fn from_base64(text: &str) -> Result<Self, Error> {
        let bytes = Zeroizing::new(
            STANDARD
                .decode(text.trim_ascii())
                .map_err(|_| ConfigError::HashingKey)?,
        );
        Self::from_bytes(&bytes)
    }

    /// A fresh 32-byte key from the OS CSPRNG.
    ///
    /// # Errors
    /// [`Error::Random`] when the OS generator fails.
    pub fn generate() -> Result<Self, Error> {
        let mut bytes = Zeroizing::new([0u8; MIN_HASHING_KEY_LEN]);
        SystemRandom::new()
            .fill(bytes.as_mut())
            .map_err(|_| Error::Random)?;
        Self::from_bytes(bytes.as_ref())
    }

    /// The raw key bytes, to store the key somewhere safe.
    #[must_use]
    pub fn expose_secret(&self) -> &[u8] {
        &self.bytes
    }

    fn mac(&self, data: &[u8]) -> [u8; 32] {
        #[cfg(test)]
        MACS.with(|n| n.set(n.get() + 1));
        let tag = hmac::sign(&self.key, data);
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        out
    }
}

#[cfg(test)]
thread_local! {
    /// HMACs computed on this thread (tests count the work each path of a check does).
    static MACS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// HMACs computed on this thread so far (test builds only).
#[cfg(test)]
pub(crate) fn macs_computed() -> usize {
    MACS.with(std::cell::Cell::get)
}

impl fmt::Debug for HashingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HashingKey([REDACTED])")
    }
}

/// Hashing keys by version. The current version hashes new and rotated secrets; every
/// version held verifies records hashed under it, so the hashing key can rotate without
/// invalidating issued keys (records move to the new version as they are used, see
/// [`ApiKeys::rehash`](crate::ApiKeys::rehash)).
#[derive(Debug)]
pub struct Keyset {
    current: u32,
    keys: BTreeMap<u32, HashingKey>,
}

impl Keyset {
    /// A keyset with one key, which is current.
    #[must_use]
    pub fn new(version: u32, key: HashingKey) -> Self {
        Self {
            current: version,
            keys: BTreeMap::from([(version, key)]),
        }
    }

    /// Adds a key that verifies old records but does not hash new ones.
    ///
    /// # Errors
    /// [`ConfigError::DuplicateKeyVersion`] when the version is already held.
    pub fn add(&mut self, version: u32, key: HashingKey) -> Result<(), Error> {
        if self.keys.contains_key(&version) {
            return Err(ConfigError::DuplicateKeyVersion(version).into());
        }
        self.keys.insert(version, key);
        Ok(())
    }

    /// Makes a held version current.
    ///
    /// # Errors
    /// [`ConfigError::MissingKeyVersion`] when the version is not held.
    pub fn set_current(&mut self, version: u32) -> Result<(), Error> {
        if !self.keys.contains_key(&version) {
            return Err(ConfigError::MissingKeyVersion(version).into());
        }
        self.current = version;
        Ok(())
    }

    /// Drops a version: records hashed under it no longer verify.
    ///
    /// # Errors
    /// [`ConfigError::MissingKeyVersion`] when absent or when it is the current version.
    pub fn remove(&mut self, version: u32) -> Result<(), Error> {
        if version == self.current || self.keys.remove(&version).is_none() {
            return Err(ConfigError::MissingKeyVersion(version).into());
        }
        Ok(())
    }

    /// The version that hashes new secrets.
    #[must_use]
    pub fn current_version(&self) -> u32 {
        self.current
    }

    /// The versions held, ascending.
    pub fn versions(&self) -> impl Iterator<Item = u32> + '_ {
        self.keys.keys().copied()
    }

    /// Hashes under the current version.
    pub(crate) fn hash_current(&self, secret: &[u8]) -> SecretHash {
        self.hash(self.current, secret).unwrap_or(SecretHash {
            key_version: self.current,
            mac: [0; 32],
        })
    }

    /// Hashes under `version`, or `None` when it is not held.
    pub(crate) fn hash(&self, version: u32, secret: &[u8]) -> Option<SecretHash> {
        let key = self.keys.get(&version)?;
        Some(SecretHash {
            key_version: version,
            mac: key.mac(secret),
        })
    }
}

/// HMAC-SHA256 of a secret key text under a versioned hashing key: what the record stores.
/// Compared only in constant time ([`ConstantTimeEq`]); no `PartialEq`.
#[derive(Clone)]
pub struct SecretHash {
    pub(crate) key_version: u32,
    pub(crate) mac: [u8; 32],
}

impl SecretHash {
    /// The hashing key version this hash was made under.
    #[must_use]
    pub fn key_version(&self) -> u32 {
        self.key_version
    }

    /// The 32 HMAC bytes.
    #[must_use]
    pub fn mac(&self) -> &[u8; 32] {
        &self.mac
    }

    pub(crate) fn from_parts(key_version: u32, mac: [u8; 32]) -> Self {
        Self { key_version, mac }
    }
}

impl ConstantTimeEq for SecretHash {
    fn ct_eq(&self, other: &Self) -> Choice {
        // The version is public (stored beside the hash): a plain comparison is fine.
        if self.key_version == other.key_version {
            ct_eq_words(&self.mac, &other.mac)
        } else {
            Choice::from(0)
        }
    }
}

/// Constant-time equality of two MACs: the XOR of each 64-bit word pair is OR-ed into an
/// accumulator without branching, and `subtle` decides whether it is zero.
///
/// `subtle`'s slice comparison puts an optimisation barrier on every byte (32 of them);
/// accumulating first keeps the guarantee (no data-dependent branch or early exit) with one
/// barrier, which matters when the whole check is meant to cost little more than its HMAC.
fn ct_eq_words(a: &[u8; 32], b: &[u8; 32]) -> Choice {
    let mut diff = 0u64;
    for (x, y) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        let x = u64::from_le_bytes(x.try_into().unwrap_or([0; 8]));
        let y = u64::from_le_bytes(y.try_into().unwrap_or([0; 8]));
        diff |= x ^ y;
    }
    diff.ct_eq(&0)
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SecretHash {{ key_version: {}, mac: [..] }}",
            self.key_version
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashing_key_shorter_than_32_bytes_or_not_base64_is_rejected() {
        assert!(HashingKey::from_bytes(&[7; 31]).is_err());
        assert!(HashingKey::from_bytes(&[7; 32]).is_ok());
        assert!(HashingKey::from_base64("not base64!").is_err());
    }

    #[test]
    fn mac_is_hmac_sha256_of_the_text() {
        // RFC 4231 test case 1 uses a 20-byte key; we require 32, so check against ring
        // directly with a 32-byte key instead of a hard-coded value.
        let k = HashingKey::from_bytes(&[0x0b; 32]).unwrap();
        let ring_key = hmac::Key::new(hmac::HMAC_SHA256, &[0x0b; 32]);
        assert_eq!(
            k.mac(b"Hi There").as_slice(),
            hmac::sign(&ring_key, b"Hi There").as_ref()
        );
    }

    #[test]
    fn keyset_versions() {
        let mut ks = Keyset::new(1, HashingKey::generate().unwrap());
        assert!(ks.add(1, HashingKey::generate().unwrap()).is_err());
        ks.add(2, HashingKey::generate().unwrap()).unwrap();
        assert!(ks.set_current(3).is_err());
        ks.set_current(2).unwrap();
        assert!(ks.remove(2).is_err());
        let h1 = ks.hash(1, b"x").unwrap();
        let h2 = ks.hash_current(b"x");
        assert_eq!(h2.key_version(), 2);
        assert!(!bool::from(h1.ct_eq(&h2)));
        ks.remove(1).unwrap();
        assert!(ks.hash(1, b"x").is_none());
        assert_eq!(ks.versions().collect::<Vec<_>>(), vec![2]);
    }

    #[test]
    fn word_comparison_sees_every_byte() {
        let a = [0x5c_u8; 32];
        assert!(bool::from(ct_eq_words(&a, &a)));
        for i in 0..32 {
            for bit in 0..8 {
                let mut b = a;
                b[i] ^= 1 << bit;
                assert!(!bool::from(ct_eq_words(&a, &b)), "byte {i} bit {bit}");
            }
        }
    }

    #[test]
    fn debug_is_redacted() {
        let k = HashingKey::from_bytes(&[0xab; 32]).unwrap();
        assert_eq!(format!("{k:?}"), "HashingKey([REDACTED])");
        assert!(!format!("{:?}", Keyset::new(1, k)).contains("171"));
    }
}
