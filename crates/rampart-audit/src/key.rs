//! Keys: the HMAC chain key (secret, with a public id), the key set a verifier holds, and the
//! Ed25519 checkpoint key pair.

use std::collections::HashMap;
use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{self, Ed25519KeyPair, KeyPair};
use zeroize::Zeroizing;

use crate::error::{ConfigError, Error};

/// Shortest accepted chain key, in bytes: the HMAC-SHA256 output size (RFC 2104 section 3
/// advises keys no shorter than the hash output).
///
/// ```
/// assert!(rampart_audit::ChainKey::new("k1", &[0; rampart_audit::MIN_CHAIN_KEY_BYTES - 1]).is_err());
/// ```
pub const MIN_CHAIN_KEY_BYTES: usize = 32;

fn valid_key_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// An HMAC-SHA256 key for the record chain, with the public id recorded in every record it
/// chains (`"kid"`), so the key can rotate and a verifier picks the right one.
///
/// Zeroized on drop; `Debug` prints the id and `[REDACTED]`.
///
/// ```
/// let key = rampart_audit::ChainKey::generate("2026-12")?;
/// assert_eq!(key.id(), "2026-12");
/// assert!(format!("{key:?}").contains("[REDACTED]"));
/// # Ok::<(), rampart_audit::Error>(())
/// ```
pub struct ChainKey {
    id: String,
    bytes: Zeroizing<Vec<u8>>,
    key: hmac::Key,
}

impl ChainKey {
    /// A key from raw bytes (at least [`MIN_CHAIN_KEY_BYTES`]) and an id of 1-64
    /// characters of `[A-Za-z0-9._-]`.
    ///
    /// ```
    /// let key = rampart_audit::ChainKey::new("k1", &[7u8; 32])?;
    /// assert!(rampart_audit::ChainKey::new("k1", &[7u8; 16]).is_err());
    /// # Ok::<(), rampart_audit::Error>(())
    /// ```
    pub fn new(id: &str, bytes: &[u8]) -> Result<Self, Error> {
        if !valid_key_id(id) {
            return Err(ConfigError::KeyId.into());
        }
        if bytes.len() < MIN_CHAIN_KEY_BYTES {
            return Err(ConfigError::ChainKey.into());
        }
        Ok(Self {
            id: id.to_owned(),
            key: hmac::Key::new(hmac::HMAC_SHA256, bytes),
            bytes: Zeroizing::new(bytes.to_vec()),
        })
    }

    /// A new random 32-byte key from the OS CSPRNG.
    ///
    /// ```
    /// let key = rampart_audit::ChainKey::generate("k1")?;
    /// # Ok::<(), rampart_audit::Error>(())
    /// ```
    pub fn generate(id: &str) -> Result<Self, Error> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        SystemRandom::new()
            .fill(&mut bytes[..])
            .map_err(|_| Error::Random)?;
        Self::new(id, &bytes[..])
    }

    /// A key from its base64 text (standard alphabet, padding optional, surrounding ASCII
    /// white space ignored).
    ///
    /// ```
    /// let key = rampart_audit::ChainKey::from_base64("k1", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")?;
    /// # Ok::<(), rampart_audit::Error>(())
    /// ```
    pub fn from_base64(id: &str, text: &str) -> Result<Self, Error> {
        let text = text.trim_ascii();
        let bytes = Zeroizing::new(
            STANDARD
                .decode(text)
                .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(text))
                .map_err(|_| ConfigError::ChainKey)?,
        );
        Self::new(id, &bytes)
    }

    /// The key's public id.
    ///
    /// ```
    /// assert_eq!(rampart_audit::ChainKey::new("k9", &[1u8; 32])?.id(), "k9");
    /// # Ok::<(), rampart_audit::Error>(())
    /// ```
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The raw key bytes, for storing the key where the application keeps its secrets.
    ///
    /// ```
    /// let key = rampart_audit::ChainKey::new("k1", &[3u8; 32])?;
    /// assert_eq!(key.expose_secret(), &[3u8; 32]);
    /// # Ok::<(), rampart_audit::Error>(())
    /// ```
    #[must_use]
    pub fn expose_secret(&self) -> &[u8] {
        &self.bytes
    }

    pub(crate) fn hmac(&self) -> &hmac::Key {
        &self.key
    }
}

impl fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChainKey")
            .field("id", &self.id)
            .field("key", &"[REDACTED]")
            .finish()
    }
}

/// The chain keys a verifier holds, by id: every key the trail was written with.
///
/// Key files hold one key a line, `KEY_ID BASE64` (blank lines and `#` comments ignored).
///
/// ```
/// use rampart_audit::{ChainKey, KeySet};
/// let set = KeySet::new().with_key(ChainKey::new("k1", &[1u8; 32])?)?;
/// assert!(set.get("k1").is_some());
/// let from_file = KeySet::parse("# audit keys\nk1 AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n")?;
/// assert!(from_file.get("k1").is_some());
/// # Ok::<(), rampart_audit::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct KeySet {
    keys: HashMap<String, ChainKey>,
}

impl KeySet {
    /// An empty key set.
    ///
    /// ```
    /// assert!(rampart_audit::KeySet::new().is_empty());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key; an id already present is refused.
    ///
    /// ```
    /// use rampart_audit::{ChainKey, KeySet};
    /// let set = KeySet::new().with_key(ChainKey::new("k1", &[1u8; 32])?)?;
    /// assert!(set.with_key(ChainKey::new("k1", &[2u8; 32])?).is_err());
    /// # Ok::<(), rampart_audit::Error>(())
    /// ```
    pub fn with_key(mut self, key: ChainKey) -> Result<Self, Error> {
        if self.keys.contains_key(key.id()) {
            return Err(ConfigError::DuplicateKeyId(key.id().to_owned()).into());
        }
        self.keys.insert(key.id().to_owned(), key);
        Ok(self)
    }

    /// Parses a key file's text: `KEY_ID BASE64` per line. Errors name the line, never its
    /// content.
    ///
    /// ```
    /// assert!(rampart_audit::KeySet::parse("k1 not-base64").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self, Error> {
        let mut set = Self::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim_ascii();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.split_ascii_whitespace();
            let (Some(id), Some(b64), None) = (parts.next(), parts.next(), parts.next()) else {
                return Err(ConfigError::KeyFileLine { line: n + 1 }.into());
            };
            set = set.with_key(ChainKey::from_base64(id, b64)?)?;
        }
        Ok(set)
    }

    /// The key with this id.
    ///
    /// ```
    /// assert!(rampart_audit::KeySet::new().get("k1").is_none());
    /// ```
    #[must_use]
    pub fn get(&self, id: &str) -> Option<&ChainKey> {
        self.keys.get(id)
    }

    /// True when no key is held.
    ///
    /// ```
    /// assert!(rampart_audit::KeySet::new().is_empty());
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// The Ed25519 key that signs checkpoints. Its PKCS#8 form is secret; `Debug` prints only
/// the public key's id.
///
/// ```
/// use rampart_audit::CheckpointSigner;
/// let pkcs8 = CheckpointSigner::generate_pkcs8()?; // store it as a secret
/// let signer = CheckpointSigner::from_pkcs8(&pkcs8)?;
/// let public = signer.public_key(); // give this to verifiers
/// assert_eq!(public.to_base64().len(), 43);
/// # Ok::<(), rampart_audit::Error>(())
/// ```
pub struct CheckpointSigner {
    pair: Ed25519KeyPair,
}

impl CheckpointSigner {
    /// A new Ed25519 key pair as a PKCS#8 v2 document (in a zeroizing buffer).
    ///
    /// ```
    /// let doc = rampart_audit::CheckpointSigner::generate_pkcs8()?;
    /// assert!(!doc.is_empty());
    /// # Ok::<(), rampart_audit::Error>(())
    /// ```
    pub fn generate_pkcs8() -> Result<Zeroizing<Vec<u8>>, Error> {
        let doc =
            Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(|_| Error::Random)?;
        Ok(Zeroizing::new(doc.as_ref().to_vec()))
    }

    /// The signer from its PKCS#8 document.
    ///
    /// ```
    /// assert!(rampart_audit::CheckpointSigner::from_pkcs8(b"not a key").is_err());
    /// ```
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, Error> {
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8)
            .map_err(|_| ConfigError::SigningKey)?;
        Ok(Self { pair })
    }

    /// The public key verifiers need.
    ///
    /// ```
    /// let s = rampart_audit::CheckpointSigner::from_pkcs8(&rampart_audit::CheckpointSigner::generate_pkcs8()?)?;
    /// assert_eq!(s.public_key().id().len(), 16);
    /// # Ok::<(), rampart_audit::Error>(())
    /// ```
    #[must_use]
    pub fn public_key(&self) -> CheckpointPublicKey {
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(self.pair.public_key().as_ref());
        CheckpointPublicKey { bytes }
    }

    pub(crate) fn sign(&self, msg: &[u8]) -> Vec<u8> {
        self.pair.sign(msg).as_ref().to_vec()
    }
}

impl fmt::Debug for CheckpointSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CheckpointSigner")
            .field("public_key", &self.public_key().id())
            .field("private_key", &"[REDACTED]")
            .finish()
    }
}

/// An Ed25519 public key that verifies checkpoints (public: shareable with auditors).
///
/// ```
/// use rampart_audit::CheckpointPublicKey;
/// let key = CheckpointPublicKey::from_base64("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")?;
/// assert_eq!(CheckpointPublicKey::from_base64(&key.to_base64())?, key);
/// # Ok::<(), rampart_audit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckpointPublicKey {
    bytes: [u8; 32],
}

impl CheckpointPublicKey {
    /// Parses 32 bytes of base64 (URL-safe or standard, padding optional).
    ///
    /// ```
    /// assert!(rampart_audit::CheckpointPublicKey::from_base64("short").is_err());
    /// ```
    pub fn from_base64(text: &str) -> Result<Self, Error> {
        let text = text.trim_ascii();
        let trimmed = text.trim_end_matches('=');
        let decoded = URL_SAFE_NO_PAD
            .decode(trimmed)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(trimmed))
            .map_err(|_| ConfigError::PublicKey)?;
        let bytes: [u8; 32] = decoded.try_into().map_err(|_| ConfigError::PublicKey)?;
        Ok(Self { bytes })
    }

    /// URL-safe base64 without padding (43 characters).
    ///
    /// ```
    /// let k = rampart_audit::CheckpointPublicKey::from_base64(&"A".repeat(43))?;
    /// assert_eq!(k.to_base64(), "A".repeat(43));
    /// # Ok::<(), rampart_audit::Error>(())
    /// ```
    #[must_use]
    pub fn to_base64(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.bytes)
    }

    /// A short public id (16 hex digits of SHA-256 of the key), recorded in each checkpoint
    /// so a verifier holding another key says so instead of "bad signature".
    ///
    /// ```
    /// let k = rampart_audit::CheckpointPublicKey::from_base64(&"A".repeat(43))?;
    /// assert_eq!(k.id().len(), 16);
    /// # Ok::<(), rampart_audit::Error>(())
    /// ```
    #[must_use]
    pub fn id(&self) -> String {
        let digest = ring::digest::digest(&ring::digest::SHA256, &self.bytes);
        digest.as_ref()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    pub(crate) fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        signature::UnparsedPublicKey::new(&signature::ED25519, &self.bytes)
            .verify(msg, sig)
            .is_ok()
    }
}
