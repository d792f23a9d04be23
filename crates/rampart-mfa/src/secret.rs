//! The shared TOTP secret (RFC 4226 section 4 calls it the "shared secret" K).
//!
//! The secret is what an authenticator app holds; whoever reads it can mint codes forever.
//! This crate never stores it: the application seals [`TotpSecret::expose_secret`] with
//! rampart-envelope and keeps only the ciphertext (see the crate docs, "Storing a factor").

use std::fmt;

use data_encoding::{BASE32_NOPAD, BASE32_NOPAD_NOCASE};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use crate::error::{Error, SecretError};

/// Length of a generated secret: 160 bits, the HMAC-SHA-1 output length that RFC 4226
/// section 4 (R6) recommends.
pub const SECRET_LEN: usize = 20;
/// Shortest secret accepted: 128 bits (RFC 4226 section 4, R6).
pub const MIN_SECRET_LEN: usize = 16;
/// Longest secret accepted (a parser limit; RFC 6238's SHA-512 test seed is 64 bytes).
pub const MAX_SECRET_LEN: usize = 128;

/// A TOTP shared secret. Zeroized on drop, `Debug` prints `[REDACTED]`, no `Display`, read
/// with [`expose_secret`](Self::expose_secret).
///
/// ```
/// use rampart_mfa::TotpSecret;
/// let secret = TotpSecret::generate()?;
/// assert_eq!(secret.expose_secret().len(), 20);
/// assert_eq!(format!("{secret:?}"), "TotpSecret([REDACTED])");
/// let again = TotpSecret::from_base32(&secret.to_base32())?;
/// assert_eq!(again.expose_secret(), secret.expose_secret());
/// # Ok::<(), rampart_mfa::Error>(())
/// ```
pub struct TotpSecret {
    bytes: Zeroizing<Vec<u8>>,
}

impl TotpSecret {
    /// A fresh 160-bit secret from the OS CSPRNG.
    ///
    /// # Errors
    /// [`Error::Random`] when the OS generator fails.
    pub fn generate() -> Result<Self, Error> {
        let mut bytes = Zeroizing::new(vec![0u8; SECRET_LEN]);
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| Error::Random)?;
        Ok(Self { bytes })
    }

    /// A secret from raw bytes (16 to 128), for example after opening it with
    /// rampart-envelope.
    ///
    /// ```
    /// let secret = rampart_mfa::TotpSecret::from_bytes(b"12345678901234567890")?;
    /// assert_eq!(&*secret.to_base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    /// # Ok::<(), rampart_mfa::SecretError>(())
    /// ```
    ///
    /// # Errors
    /// [`SecretError::TooShort`] or [`SecretError::TooLong`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SecretError> {
        check_len(bytes.len())?;
        Ok(Self {
            bytes: Zeroizing::new(bytes.to_vec()),
        })
    }

    /// A secret from RFC 4648 base32 text as authenticator apps show it: either case, no
    /// padding (trailing `=` are tolerated), canonical trailing bits. Spaces are not
    /// accepted; strip them before calling if users type the grouped form.
    ///
    /// ```
    /// let secret = rampart_mfa::TotpSecret::from_base32("gezdgnbvgy3tqojqgezdgnbvgy3tqojq")?;
    /// assert_eq!(secret.expose_secret(), b"12345678901234567890");
    /// assert!(rampart_mfa::TotpSecret::from_base32("not base32!").is_err());
    /// # Ok::<(), rampart_mfa::SecretError>(())
    /// ```
    ///
    /// # Errors
    /// [`SecretError::Base32`], [`SecretError::TooShort`] or [`SecretError::TooLong`].
    pub fn from_base32(text: &str) -> Result<Self, SecretError> {
        let text = text.trim_end_matches('=');
        // Bound the work before decoding: 8 characters carry 5 bytes.
        if text.len() > MAX_SECRET_LEN.div_ceil(5) * 8 {
            return Err(SecretError::TooLong {
                max: MAX_SECRET_LEN,
            });
        }
        let bytes = Zeroizing::new(
            BASE32_NOPAD_NOCASE
                .decode(text.as_bytes())
                .map_err(|_| SecretError::Base32)?,
        );
        check_len(bytes.len())?;
        Ok(Self { bytes })
    }

    /// The raw secret bytes, to seal with rampart-envelope (never store them in clear).
    #[must_use]
    pub fn expose_secret(&self) -> &[u8] {
        &self.bytes
    }

    /// The secret in upper-case RFC 4648 base32 without padding, as otpauth URIs and manual
    /// entry in authenticator apps use it.
    #[must_use]
    pub fn to_base32(&self) -> Zeroizing<String> {
        Zeroizing::new(BASE32_NOPAD.encode(&self.bytes))
    }

    /// A copy, for the crate's own hand-overs (a pending factor becoming active).
    pub(crate) fn duplicate(&self) -> Self {
        Self {
            bytes: self.bytes.clone(),
        }
    }
}

fn check_len(len: usize) -> Result<(), SecretError> {
    if len < MIN_SECRET_LEN {
        return Err(SecretError::TooShort {
            min: MIN_SECRET_LEN,
        });
    }
    if len > MAX_SECRET_LEN {
        return Err(SecretError::TooLong {
            max: MAX_SECRET_LEN,
        });
    }
    Ok(())
}

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_is_tolerated_and_lowercase_accepted() {
        let a = TotpSecret::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap();
        let b = TotpSecret::from_base32("gezdgnbvgy3tqojqgezdgnbvgy3tqojq====").unwrap();
        assert_eq!(a.expose_secret(), b.expose_secret());
    }

    #[test]
    fn short_and_long_secrets_are_refused() {
        assert_eq!(
            TotpSecret::from_bytes(&[0; 15]).unwrap_err(),
            SecretError::TooShort { min: 16 }
        );
        assert!(TotpSecret::from_bytes(&[0; 128]).is_ok());
        assert_eq!(
            TotpSecret::from_bytes(&[0; 129]).unwrap_err(),
            SecretError::TooLong { max: 128 }
        );
        let long = "A".repeat(1000);
        assert_eq!(
            TotpSecret::from_base32(&long).unwrap_err(),
            SecretError::TooLong { max: 128 }
        );
    }

    #[test]
    fn non_canonical_trailing_bits_are_refused() {
        // 26 characters carry 130 bits for 128 bits of data: the last two must be zero.
        let canonical = BASE32_NOPAD.encode(&[0xff; 16]);
        assert!(TotpSecret::from_base32(&canonical).is_ok());
        let mut bad = canonical.clone();
        bad.pop();
        bad.push('7');
        assert_eq!(
            TotpSecret::from_base32(&bad).unwrap_err(),
            SecretError::Base32
        );
    }
}
