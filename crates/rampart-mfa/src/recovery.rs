//! Recovery codes: ten single-use codes shown once, stored only as keyed hashes.
//!
//! Codes are 12 characters of Crockford's base32 (`0-9A-Z` without `I L O U`), shown as
//! `XXXX-XXXX-XXXX`; input is read case-insensitively, without dashes or spaces, with
//! `O` as `0` and `I`/`L` as `1`.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};
use zeroize::Zeroizing;

use crate::error::{ConfigError, Error};

/// Codes in a new set.
pub const RECOVERY_CODE_COUNT: usize = 10;
/// Characters in a code (5 bits each: 60 bits).
pub const RECOVERY_CODE_CHARS: usize = 12;
/// Shortest recovery pepper, in bytes (the HMAC-SHA256 output length, RFC 2104 section 3).
pub const MIN_PEPPER_LEN: usize = 32;
/// Version of [`RecoveryCodes`]' serialized form.
pub const RECOVERY_CODES_VERSION: u32 = 1;
/// Most hashes a stored set may hold (a bound for the parser).
const MAX_STORED: usize = 64;
const SALT_LEN: usize = 16;
const DOMAIN: &[u8] = b"rampart-mfa recovery code v1\0";
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// The server-side key recovery codes are hashed under, with a version recorded in each
/// stored set. Keep it outside the database (environment, secrets manager, or sealed with
/// rampart-envelope). Zeroized on drop, `Debug` prints `[REDACTED]`.
///
/// ```
/// let pepper = rampart_mfa::RecoveryPepper::generate(1)?;
/// assert_eq!(pepper.expose_secret().len(), 32);
/// # Ok::<(), rampart_mfa::Error>(())
/// ```
pub struct RecoveryPepper {
    version: u32,
    bytes: Zeroizing<Vec<u8>>,
    key: hmac::Key,
}

impl RecoveryPepper {
    /// A pepper from raw bytes (at least 32), for example read from a secrets manager.
    ///
    /// ```
    /// use rampart_mfa::RecoveryPepper;
    /// let pepper = RecoveryPepper::from_bytes(2, &[0x42; 32])?;
    /// assert_eq!(pepper.version(), 2);
    /// assert!(RecoveryPepper::from_bytes(2, &[0x42; 16]).is_err());
    /// # Ok::<(), rampart_mfa::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Config`] with [`ConfigError::Pepper`] when shorter than 32 bytes.
    pub fn from_bytes(version: u32, bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() < MIN_PEPPER_LEN {
            return Err(ConfigError::Pepper.into());
        }
        Ok(Self {
            version,
            bytes: Zeroizing::new(bytes.to_vec()),
            key: hmac::Key::new(hmac::HMAC_SHA256, bytes),
        })
    }

    /// A fresh 32-byte pepper from the OS CSPRNG.
    ///
    /// # Errors
    /// [`Error::Random`] when the OS generator fails.
    pub fn generate(version: u32) -> Result<Self, Error> {
        let mut bytes = Zeroizing::new([0u8; MIN_PEPPER_LEN]);
        SystemRandom::new()
            .fill(bytes.as_mut())
            .map_err(|_| Error::Random)?;
        Self::from_bytes(version, bytes.as_ref())
    }

    /// The version recorded with the sets hashed under this pepper.
    #[must_use]
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The raw bytes, to keep the pepper somewhere safe.
    #[must_use]
    pub fn expose_secret(&self) -> &[u8] {
        &self.bytes
    }

    fn hash(&self, salt: &[u8; SALT_LEN], normalized: &[u8; RECOVERY_CODE_CHARS]) -> [u8; 32] {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(DOMAIN);
        ctx.update(salt);
        ctx.update(normalized);
        let tag = ctx.sign();
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        out
    }
}

impl fmt::Debug for RecoveryPepper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecoveryPepper(v{}, [REDACTED])", self.version)
    }
}

/// One recovery code in its display form `XXXX-XXXX-XXXX`. Shown to the user once, never
/// stored. Zeroized on drop, `Debug` prints `[REDACTED]`.
pub struct RecoveryCode(Zeroizing<String>);

impl RecoveryCode {
    /// The code as shown to the user.
    #[must_use]
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryCode([REDACTED])")
    }
}

/// A new set: the codes to show once, and what to store.
#[derive(Debug)]
#[non_exhaustive]
pub struct IssuedRecoveryCodes {
    /// Show these to the user once (and offer a download); do not keep them.
    pub codes: Vec<RecoveryCode>,
    /// Store this (serde) with the account.
    pub stored: RecoveryCodes,
}

/// The stored form of a set of recovery codes: a salt and the keyed hashes of the unused
/// codes. Serialized as
/// `{"v":1,"pepper":N,"salt":"<base64url>","hashes":["<base64url>",...]}`.
///
/// [`consume`](Self::consume) returns a new set without the code used; the application
/// swaps it into its store with compare-and-swap against the old value, so a code used
/// twice at once is accepted once.
///
/// # Why HMAC-SHA256 under a pepper, not argon2id
///
/// A recovery code is 60 random bits from the OS CSPRNG, not a human choice: a slow hash
/// buys nothing against online guessing (rampart-attempts limits that) and little offline.
/// What matters offline is that a stolen database alone does not let anyone test guesses,
/// and that work cannot be shared across users. So each set stores
/// HMAC-SHA256(pepper, domain || salt || code): the pepper (a server-side key kept out of
/// the database, like rampart-apikey's hashing key) makes the table useless without it,
/// and a random per-set salt stops one guess being tested against every user at once.
/// Even with the pepper stolen too, finding one of a set's ten codes takes about 2^56
/// HMACs, GPU-months for each account, since the salt lets no work be shared. A check
/// is one HMAC: microseconds, so no denial-of-service lever either.
///
/// ```
/// use rampart_mfa::{Error, RecoveryCodes, RecoveryPepper};
///
/// let pepper = RecoveryPepper::generate(1)?;
/// let issued = RecoveryCodes::generate(&pepper)?;
/// assert_eq!(issued.codes.len(), 10);
/// let stored = serde_json::to_string(&issued.stored).unwrap();
///
/// // Later, the user types a code (case and dashes do not matter):
/// let set: RecoveryCodes = serde_json::from_str(&stored).unwrap();
/// let typed = issued.codes[3].expose_secret().to_lowercase().replace('-', "");
/// let after = set.consume(&typed, &pepper)?;
/// assert_eq!(after.remaining(), 9);
/// // UPDATE ... SET recovery = <after> WHERE user_id = $1 AND recovery = <set>
/// assert!(matches!(after.consume(&typed, &pepper), Err(Error::InvalidRecoveryCode)));
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "CodesRepr", into = "CodesRepr")]
pub struct RecoveryCodes {
    pepper_version: u32,
    salt: [u8; SALT_LEN],
    hashes: Vec<[u8; 32]>,
}

#[derive(Serialize, Deserialize)]
struct CodesRepr {
    v: u32,
    pepper: u32,
    salt: String,
    hashes: Vec<String>,
}

impl TryFrom<CodesRepr> for RecoveryCodes {
    type Error = String;
    fn try_from(r: CodesRepr) -> Result<Self, String> {
        if r.v != RECOVERY_CODES_VERSION {
            return Err(format!("unsupported recovery codes version {}", r.v));
        }
        if r.hashes.len() > MAX_STORED {
            return Err(format!("more than {MAX_STORED} recovery code hashes"));
        }
        let salt = decode_fixed::<SALT_LEN>(&r.salt).ok_or("salt is not 16 bytes of base64url")?;
        let hashes = r
            .hashes
            .iter()
            .map(|h| decode_fixed::<32>(h).ok_or("a hash is not 32 bytes of base64url"))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            pepper_version: r.pepper,
            salt,
            hashes,
        })
    }
}

impl From<RecoveryCodes> for CodesRepr {
    fn from(c: RecoveryCodes) -> Self {
        Self {
            v: RECOVERY_CODES_VERSION,
            pepper: c.pepper_version,
            salt: URL_SAFE_NO_PAD.encode(c.salt),
            hashes: c.hashes.iter().map(|h| URL_SAFE_NO_PAD.encode(h)).collect(),
        }
    }
}

fn decode_fixed<const N: usize>(text: &str) -> Option<[u8; N]> {
    // base64 of N bytes is at most 4 * ceil(N / 3) characters: bound before decoding.
    if text.len() > N.div_ceil(3) * 4 {
        return None;
    }
    URL_SAFE_NO_PAD.decode(text).ok()?.try_into().ok()
}

impl fmt::Debug for RecoveryCodes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecoveryCodes")
            .field("pepper_version", &self.pepper_version)
            .field("remaining", &self.hashes.len())
            .finish_non_exhaustive()
    }
}

impl RecoveryCodes {
    /// Ten new codes (60 bits each from the OS CSPRNG) and their stored form.
    ///
    /// ```
    /// use rampart_mfa::{RecoveryCodes, RecoveryPepper};
    /// let issued = RecoveryCodes::generate(&RecoveryPepper::generate(1)?)?;
    /// assert_eq!(issued.codes[0].expose_secret().len(), 14); // XXXX-XXXX-XXXX
    /// assert_eq!(issued.stored.remaining(), 10);
    /// # Ok::<(), rampart_mfa::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Random`] when the OS generator fails.
    pub fn generate(pepper: &RecoveryPepper) -> Result<IssuedRecoveryCodes, Error> {
        let rng = SystemRandom::new();
        let mut salt = [0u8; SALT_LEN];
        rng.fill(&mut salt).map_err(|_| Error::Random)?;
        let mut codes = Vec::with_capacity(RECOVERY_CODE_COUNT);
        let mut hashes = Vec::with_capacity(RECOVERY_CODE_COUNT);
        while hashes.len() < RECOVERY_CODE_COUNT {
            let mut raw = Zeroizing::new([0u8; 8]);
            rng.fill(raw.as_mut()).map_err(|_| Error::Random)?;
            let mut n = Zeroizing::new(u64::from_be_bytes(*raw));
            let mut chars = Zeroizing::new([0u8; RECOVERY_CODE_CHARS]);
            for c in chars.iter_mut() {
                *c = CROCKFORD[usize::from(u8::try_from(*n & 31).unwrap_or(0))];
                *n >>= 5;
            }
            let hash = pepper.hash(&salt, &chars);
            // Two equal codes in one set (chance 2^-54) would make one of them unusable.
            if hashes.contains(&hash) {
                continue;
            }
            hashes.push(hash);
            let mut shown = String::with_capacity(RECOVERY_CODE_CHARS + 2);
            for (i, c) in chars.iter().enumerate() {
                if i > 0 && i % 4 == 0 {
                    shown.push('-');
                }
                shown.push(char::from(*c));
            }
            codes.push(RecoveryCode(Zeroizing::new(shown)));
        }
        Ok(IssuedRecoveryCodes {
            codes,
            stored: Self {
                pepper_version: pepper.version,
                salt,
                hashes,
            },
        })
    }

    /// Uses a code: when it matches an unused one, returns the set without it. The typed
    /// code's hash is compared with every stored hash in constant time, whichever matches.
    /// `self` is unchanged: store the result with compare-and-swap against `self`.
    ///
    /// ```
    /// use rampart_mfa::{Error, RecoveryCodes, RecoveryPepper};
    /// let pepper = RecoveryPepper::generate(1)?;
    /// let issued = RecoveryCodes::generate(&pepper)?;
    /// let after = issued.stored.consume(issued.codes[0].expose_secret(), &pepper)?;
    /// assert_eq!((issued.stored.remaining(), after.remaining()), (10, 9));
    /// assert!(matches!(after.consume("0000-0000-0000", &pepper), Err(Error::InvalidRecoveryCode)));
    /// # Ok::<(), Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidRecoveryCode`] when malformed or matching no unused code;
    /// [`Error::PepperMismatch`] when the set was hashed under another pepper version.
    pub fn consume(&self, code: &str, pepper: &RecoveryPepper) -> Result<Self, Error> {
        if pepper.version != self.pepper_version {
            return Err(Error::PepperMismatch {
                stored: self.pepper_version,
                given: pepper.version,
            });
        }
        let normalized = normalize(code).ok_or(Error::InvalidRecoveryCode)?;
        let hash = pepper.hash(&self.salt, &normalized);
        let mut found = Choice::from(0);
        let mut index = 0u64;
        for (i, stored) in (0u64..).zip(&self.hashes) {
            let m = stored.ct_eq(&hash);
            index.conditional_assign(&i, m);
            found |= m;
        }
        if !bool::from(found) {
            return Err(Error::InvalidRecoveryCode);
        }
        let index = usize::try_from(index).map_err(|_| Error::InvalidRecoveryCode)?;
        let mut rest = self.clone();
        rest.hashes.remove(index);
        Ok(rest)
    }

    /// Unused codes left (prompt the user to make a new set when few remain).
    #[must_use]
    pub fn remaining(&self) -> usize {
        self.hashes.len()
    }

    /// The pepper version the set was hashed under.
    #[must_use]
    pub fn pepper_version(&self) -> u32 {
        self.pepper_version
    }
}

/// Upper-case, dashes and spaces dropped, `O` read as `0`, `I` and `L` as `1`; exactly 12
/// Crockford characters, else `None`.
fn normalize(code: &str) -> Option<Zeroizing<[u8; RECOVERY_CODE_CHARS]>> {
    // A bound before the walk: 12 characters plus separators.
    if code.len() > 4 * RECOVERY_CODE_CHARS {
        return None;
    }
    let mut out = Zeroizing::new([0u8; RECOVERY_CODE_CHARS]);
    let mut n = 0;
    for b in code.bytes() {
        let c = match b.to_ascii_uppercase() {
            b'-' | b' ' => continue,
            b'O' => b'0',
            b'I' | b'L' => b'1',
            c if CROCKFORD.contains(&c) => c,
            _ => return None,
        };
        *out.get_mut(n)? = c;
        n += 1;
    }
    (n == RECOVERY_CODE_CHARS).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalization_reads_lookalikes() {
        assert_eq!(&*normalize("abcd-efgh-jkmn").unwrap(), b"ABCDEFGHJKMN");
        assert_eq!(&*normalize("OIL0 1111 2222").unwrap(), b"011011112222");
        assert!(normalize("ABCD-EFGH-JKM").is_none());
        assert!(normalize("ABCD-EFGH-JKMNP").is_none());
        assert!(normalize("ABCD-EFGH-JKMU").is_none(), "U is not Crockford");
        assert!(normalize(&"-".repeat(100)).is_none());
    }
}
