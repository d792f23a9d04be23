//! Unlock tokens: random, single use, stored only as a hash, compared in constant time.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::digest;
use ring::rand::{SecureRandom, SystemRandom};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use crate::error::Error;

/// Random bytes in a token: 256 bits, beyond guessing.
const TOKEN_BYTES: usize = 32;
/// Length of the base64url (no padding) text of a token.
const TOKEN_TEXT_LEN: usize = 43;

/// A single-use token that lifts a hard lockout, issued once when the lockout starts
/// (see [`FailureOutcome::unlock_token`](crate::FailureOutcome::unlock_token)) and meant to be
/// sent to the owner out of band (email link, support). Only its SHA-256 hash is stored.
///
/// Zeroized on drop; `Debug` prints `[REDACTED]`; no `Display`: the text is reached only
/// through [`UnlockToken::expose_secret`].
pub struct UnlockToken {
    text: Zeroizing<String>,
    hash: TokenHash,
}

impl UnlockToken {
    /// A fresh token from the OS CSPRNG; fails only when the OS has no entropy source.
    pub(crate) fn generate() -> Result<Self, Error> {
        let mut bytes = Zeroizing::new([0u8; TOKEN_BYTES]);
        SystemRandom::new()
            .fill(bytes.as_mut())
            .map_err(|_| Error::Random)?;
        Ok(Self::from_bytes(&bytes))
    }

    fn from_bytes(bytes: &[u8; TOKEN_BYTES]) -> Self {
        let text = Zeroizing::new(URL_SAFE_NO_PAD.encode(bytes));
        UnlockToken {
            text,
            hash: TokenHash::of(bytes),
        }
    }

    /// Parses the text form (43 base64url characters; surrounding whitespace is ignored).
    /// Returns [`Error::MalformedUnlockToken`] for anything else; the input is not echoed.
    /// Parsing proves nothing: only [`Tracker::unlock`](crate::Tracker::unlock) checks it.
    ///
    /// ```
    /// use rampart_attempts::{Error, UnlockToken};
    /// let token = UnlockToken::parse(" Zm9yLWRvY3Mtb25seS1ub3QtYS1yZWFsLXRva2VuLi4 \n")?;
    /// assert_eq!(token.expose_secret().len(), 43);
    /// assert_eq!(format!("{token:?}"), "UnlockToken([REDACTED])");
    /// let err = UnlockToken::parse("../../etc/passwd").unwrap_err();
    /// assert!(matches!(err, Error::MalformedUnlockToken));
    /// assert!(!err.to_string().contains("passwd"), "the input is not echoed");
    /// # Ok::<(), rampart_attempts::Error>(())
    /// ```
    pub fn parse(text: &str) -> Result<Self, Error> {
        // The token is base64url: only ASCII white space (a pasted newline) is dropped.
        let text = text.trim_ascii();
        if text.len() != TOKEN_TEXT_LEN {
            return Err(Error::MalformedUnlockToken);
        }
        let mut bytes = Zeroizing::new([0u8; TOKEN_BYTES]);
        let mut decoded = URL_SAFE_NO_PAD
            .decode(text.as_bytes())
            .map_err(|_| Error::MalformedUnlockToken)?;
        if decoded.len() != TOKEN_BYTES {
            decoded.zeroize();
            return Err(Error::MalformedUnlockToken);
        }
        bytes.copy_from_slice(&decoded);
        decoded.zeroize();
        Ok(Self::from_bytes(&bytes))
    }

    /// The token's text, to send to the owner. Named so every use is visible in review.
    pub fn expose_secret(&self) -> &str {
        &self.text
    }

    pub(crate) fn hash(&self) -> &TokenHash {
        &self.hash
    }
}

impl fmt::Debug for UnlockToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UnlockToken([REDACTED])")
    }
}

/// SHA-256 of a token's bytes: what stores keep. Comparison is constant time.
#[derive(Clone, Copy)]
pub(crate) struct TokenHash(pub(crate) [u8; 32]);

impl TokenHash {
    fn of(bytes: &[u8]) -> Self {
        let d = digest::digest(&digest::SHA256, bytes);
        let mut out = [0u8; 32];
        out.copy_from_slice(d.as_ref());
        TokenHash(out)
    }

    /// Constant-time equality (`subtle`), so the time an unlock takes says nothing about how
    /// much of a guessed hash matched.
    pub(crate) fn ct_eq(&self, other: &[u8]) -> bool {
        other.len() == 32 && bool::from(self.0.as_slice().ct_eq(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_text_round_trips_and_hash_matches() {
        let t = UnlockToken::generate().unwrap();
        assert_eq!(t.expose_secret().len(), TOKEN_TEXT_LEN);
        let parsed = UnlockToken::parse(t.expose_secret()).unwrap();
        assert!(t.hash().ct_eq(&parsed.hash().0));
        let other = UnlockToken::generate().unwrap();
        assert!(!t.hash().ct_eq(&other.hash().0));
    }

    #[test]
    fn malformed_token_text_is_rejected() {
        for bad in ["", "short", &"A".repeat(44), &"!".repeat(43)] {
            assert!(matches!(
                UnlockToken::parse(bad),
                Err(Error::MalformedUnlockToken)
            ));
        }
    }

    #[test]
    fn debug_does_not_print_the_token() {
        let t = UnlockToken::generate().unwrap();
        let dbg = format!("{t:?}");
        assert!(!dbg.contains(t.expose_secret()));
        assert!(dbg.contains("[REDACTED]"));
    }
}
