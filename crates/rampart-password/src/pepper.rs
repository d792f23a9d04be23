//! Versioned peppers: a server-side secret fed to argon2 as its secret input `K`
//! (RFC 9106 section 3.1), recorded in the hash by version so it can be rotated.
//!
//! The version is written in the PHC `keyid` parameter as 4 big-endian bytes in B64
//! (for example version 1 is `keyid=AAAAAQ`). Verification picks the pepper by that version;
//! a hash with an older version (or none, when a pepper is now configured) verifies and
//! reports that it needs an upgrade.

use std::fmt;

use zeroize::Zeroizing;

use crate::error::{ConfigError, MalformedHash};

/// Longest pepper accepted. 32 random bytes are plenty; 64 leaves room for derived keys.
pub const MAX_PEPPER_LEN: usize = 64;

/// One version of the pepper. Zeroized on drop, `[REDACTED]` in `Debug`.
///
/// ```
/// use rampart_password::Pepper;
/// let p = Pepper::new(1, vec![7u8; 32]).unwrap();
/// assert_eq!(p.version(), 1);
/// assert_eq!(format!("{p:?}"), "Pepper { version: 1, secret: [REDACTED] }");
/// ```
pub struct Pepper {
    version: u32,
    secret: Zeroizing<Vec<u8>>,
}

impl Pepper {
    /// A pepper with its version.
    ///
    /// # Errors
    /// [`ConfigError::Pepper`] when the secret is empty or longer than [`MAX_PEPPER_LEN`].
    pub fn new(version: u32, secret: impl Into<Vec<u8>>) -> Result<Self, ConfigError> {
        let secret = Zeroizing::new(secret.into());
        if secret.is_empty() {
            return Err(ConfigError::Pepper("empty secret"));
        }
        if secret.len() > MAX_PEPPER_LEN {
            return Err(ConfigError::Pepper("secret longer than 64 bytes"));
        }
        Ok(Self { version, secret })
    }

    /// A new random 32-byte pepper from the OS CSPRNG.
    ///
    /// # Errors
    /// [`crate::Error::Rng`] if the OS generator fails.
    pub fn generate(version: u32) -> crate::Result<Self> {
        let mut bytes = Zeroizing::new(vec![0u8; 32]);
        crate::hasher::fill_random(&mut bytes)?;
        Ok(Self {
            version,
            secret: bytes,
        })
    }

    /// The version recorded in hashes made with this pepper.
    #[must_use]
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The secret bytes. Named loudly: do not log or store what it returns.
    #[must_use]
    pub fn expose_secret(&self) -> &[u8] {
        &self.secret
    }
}

impl fmt::Debug for Pepper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pepper")
            .field("version", &self.version)
            .field("secret", &format_args!("[REDACTED]"))
            .finish()
    }
}

/// The peppers a hasher holds: the current one (used for new hashes) and older ones kept to
/// verify hashes that have not been upgraded yet.
#[derive(Debug, Default)]
pub(crate) struct Peppers {
    current: Option<Pepper>,
    older: Vec<Pepper>,
}

impl Peppers {
    pub(crate) fn new(current: Option<Pepper>, older: Vec<Pepper>) -> Result<Self, ConfigError> {
        let mut seen: Vec<u32> = current.iter().map(Pepper::version).collect();
        for p in &older {
            if seen.contains(&p.version) {
                return Err(ConfigError::Pepper("two peppers share a version"));
            }
            seen.push(p.version);
        }
        if current.is_none() && !older.is_empty() {
            return Err(ConfigError::Pepper(
                "older peppers configured without a current one",
            ));
        }
        Ok(Self { current, older })
    }

    pub(crate) fn current(&self) -> Option<&Pepper> {
        self.current.as_ref()
    }

    pub(crate) fn by_version(&self, version: u32) -> Option<&Pepper> {
        self.current
            .iter()
            .chain(self.older.iter())
            .find(|p| p.version == version)
    }
}

/// Encodes a pepper version as `keyid` bytes.
pub(crate) fn keyid_bytes(version: u32) -> [u8; 4] {
    version.to_be_bytes()
}

/// Decodes `keyid` bytes back to a version.
pub(crate) fn version_from_keyid(keyid: &[u8]) -> Result<u32, MalformedHash> {
    let bytes: [u8; 4] = keyid.try_into().map_err(|_| MalformedHash::KeyId)?;
    Ok(u32::from_be_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_oversized_peppers_are_rejected() {
        assert!(Pepper::new(1, Vec::new()).is_err());
        assert!(Pepper::new(1, vec![1u8; MAX_PEPPER_LEN + 1]).is_err());
        assert!(Pepper::new(1, vec![1u8; MAX_PEPPER_LEN]).is_ok());
    }

    #[test]
    fn duplicate_versions_are_rejected() {
        let a = Pepper::new(1, vec![1u8; 32]).unwrap();
        let b = Pepper::new(1, vec![2u8; 32]).unwrap();
        assert!(Peppers::new(Some(a), vec![b]).is_err());
    }

    #[test]
    fn lookup_by_version_finds_current_and_older() {
        let cur = Pepper::new(2, vec![2u8; 32]).unwrap();
        let old = Pepper::new(1, vec![1u8; 32]).unwrap();
        let set = Peppers::new(Some(cur), vec![old]).unwrap();
        assert_eq!(set.by_version(1).unwrap().expose_secret(), &[1u8; 32]);
        assert_eq!(set.by_version(2).unwrap().expose_secret(), &[2u8; 32]);
        assert!(set.by_version(3).is_none());
    }

    #[test]
    fn keyid_round_trips_and_rejects_wrong_lengths() {
        assert_eq!(version_from_keyid(&keyid_bytes(77)).unwrap(), 77);
        assert!(version_from_keyid(&[1, 2, 3]).is_err());
        assert!(version_from_keyid(&[1, 2, 3, 4, 5]).is_err());
    }

    #[test]
    fn debug_hides_the_secret() {
        let p = Pepper::new(9, b"super-secret-pepper".to_vec()).unwrap();
        assert!(!format!("{p:?}").contains("super"));
    }
}
