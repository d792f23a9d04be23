//! HOTP (RFC 4226) and TOTP (RFC 6238): parameters, code generation and the windowed,
//! once-only check.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use ring::hmac;
use serde::{Deserialize, Serialize};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};

use crate::error::{ConfigError, Error};
use crate::secret::TotpSecret;

/// The default step: 30 seconds (RFC 6238 section 5.2).
pub const DEFAULT_PERIOD: u32 = 30;
/// Shortest period accepted, in seconds.
pub const MIN_PERIOD: u32 = 10;
/// Longest period accepted, in seconds: a longer step keeps a stolen code valid longer.
pub const MAX_PERIOD: u32 = 300;
/// The default drift window: one step either side of the current one (RFC 6238 section
/// 5.2 recommends "at most one time step" of allowed delay).
pub const DEFAULT_WINDOW: u8 = 1;
/// The largest drift window accepted, in steps either side.
pub const MAX_WINDOW: u8 = 10;

/// The HMAC under HOTP (RFC 6238 section 1.2 allows SHA-256 and SHA-512 besides SHA-1).
///
/// SHA-1 is the default because most authenticator apps ignore the `algorithm` parameter
/// and always use it. HMAC-SHA-1 is not weakened by SHA-1 collisions (RFC 4226, appendix
/// A.4.2): the choice is about compatibility, not strength.
///
/// ```
/// use rampart_mfa::Algorithm;
/// assert_eq!(Algorithm::default(), Algorithm::Sha1);
/// assert_eq!(Algorithm::from_name("sha256"), Some(Algorithm::Sha256));
/// assert_eq!(Algorithm::Sha512.name(), "SHA512");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Algorithm {
    /// HMAC-SHA-1 (the default; what every authenticator app supports).
    #[default]
    #[serde(rename = "SHA1")]
    Sha1,
    /// HMAC-SHA-256.
    #[serde(rename = "SHA256")]
    Sha256,
    /// HMAC-SHA-512.
    #[serde(rename = "SHA512")]
    Sha512,
}

impl Algorithm {
    /// The name used in otpauth URIs (`SHA1`, `SHA256`, `SHA512`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
            Self::Sha512 => "SHA512",
        }
    }

    /// The algorithm named `name` (ASCII case-insensitive), if supported.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Sha1, Self::Sha256, Self::Sha512]
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name))
    }

    fn hmac(self) -> hmac::Algorithm {
        match self {
            Self::Sha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            Self::Sha256 => hmac::HMAC_SHA256,
            Self::Sha512 => hmac::HMAC_SHA512,
        }
    }
}

/// The number of digits in a code. Serialized as the number.
///
/// ```
/// use rampart_mfa::Digits;
/// assert_eq!(Digits::default(), Digits::Six);
/// assert_eq!(Digits::try_from(8)?, Digits::Eight);
/// assert!(Digits::try_from(7).is_err());
/// # Ok::<(), rampart_mfa::ConfigError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
#[non_exhaustive]
pub enum Digits {
    /// Six digits (the default; 1 in 10^6 per guess).
    #[default]
    Six,
    /// Eight digits.
    Eight,
}

impl Digits {
    /// 6 or 8.
    #[must_use]
    pub fn count(self) -> usize {
        match self {
            Self::Six => 6,
            Self::Eight => 8,
        }
    }

    fn modulus(self) -> u32 {
        match self {
            Self::Six => 1_000_000,
            Self::Eight => 100_000_000,
        }
    }
}

impl TryFrom<u8> for Digits {
    type Error = ConfigError;
    fn try_from(n: u8) -> Result<Self, ConfigError> {
        match n {
            6 => Ok(Self::Six),
            8 => Ok(Self::Eight),
            _ => Err(ConfigError::Digits),
        }
    }
}

impl From<Digits> for u8 {
    fn from(d: Digits) -> u8 {
        match d {
            Digits::Six => 6,
            Digits::Eight => 8,
        }
    }
}

/// What an authenticator app must agree on: algorithm, digits and period. Stored with the
/// factor and written into the otpauth URI. Defaults: SHA-1, 6 digits, 30 s.
///
/// ```
/// use rampart_mfa::{Algorithm, Digits, TotpParams};
/// let params = TotpParams::default()
///     .with_algorithm(Algorithm::Sha256)
///     .with_digits(Digits::Eight)
///     .with_period(60)?;
/// assert_eq!(params.period(), 60);
/// # Ok::<(), rampart_mfa::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "ParamsRepr")]
pub struct TotpParams {
    algorithm: Algorithm,
    digits: Digits,
    period: u32,
}

#[derive(Deserialize)]
struct ParamsRepr {
    algorithm: Algorithm,
    digits: Digits,
    period: u32,
}

impl TryFrom<ParamsRepr> for TotpParams {
    type Error = ConfigError;
    fn try_from(r: ParamsRepr) -> Result<Self, ConfigError> {
        check_period(r.period)?;
        Ok(Self {
            algorithm: r.algorithm,
            digits: r.digits,
            period: r.period,
        })
    }
}

impl Default for TotpParams {
    fn default() -> Self {
        Self {
            algorithm: Algorithm::Sha1,
            digits: Digits::Six,
            period: DEFAULT_PERIOD,
        }
    }
}

pub(crate) fn check_period(period: u32) -> Result<(), ConfigError> {
    if (MIN_PERIOD..=MAX_PERIOD).contains(&period) {
        Ok(())
    } else {
        Err(ConfigError::Period {
            min: MIN_PERIOD,
            max: MAX_PERIOD,
        })
    }
}

impl TotpParams {
    /// Sets the HMAC algorithm.
    #[must_use]
    pub fn with_algorithm(mut self, algorithm: Algorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// Sets the number of digits.
    #[must_use]
    pub fn with_digits(mut self, digits: Digits) -> Self {
        self.digits = digits;
        self
    }

    /// Sets the step length in seconds.
    ///
    /// # Errors
    /// [`Error::Config`] with [`ConfigError::Period`] outside
    /// [`MIN_PERIOD`]..=[`MAX_PERIOD`].
    pub fn with_period(mut self, seconds: u32) -> Result<Self, Error> {
        check_period(seconds)?;
        self.period = seconds;
        Ok(self)
    }

    /// The HMAC algorithm.
    #[must_use]
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The number of digits.
    #[must_use]
    pub fn digits(&self) -> Digits {
        self.digits
    }

    /// The step length in seconds.
    #[must_use]
    pub fn period(&self) -> u32 {
        self.period
    }

    /// The TOTP time step T for `now` (RFC 6238 section 4.2: seconds since the Unix epoch
    /// divided by the period, T0 = 0).
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// let params = rampart_mfa::TotpParams::default();
    /// assert_eq!(params.step_at(UNIX_EPOCH + Duration::from_secs(59))?, 1);
    /// # Ok::<(), rampart_mfa::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Clock`] when `now` is before 1970.
    pub fn step_at(&self, now: SystemTime) -> Result<u64, Error> {
        let secs = now
            .duration_since(UNIX_EPOCH)
            .map_err(|_| Error::Clock)?
            .as_secs();
        Ok(secs / u64::from(self.period))
    }

    /// The code for `now`, as an authenticator app shows it (for tests and for a service
    /// that sends codes itself).
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use rampart_mfa::{Digits, TotpParams, TotpSecret};
    /// // RFC 6238, appendix B: SHA-1, T = 59 s.
    /// let secret = TotpSecret::from_bytes(b"12345678901234567890")?;
    /// let params = TotpParams::default().with_digits(Digits::Eight);
    /// let code = params.code_at(&secret, UNIX_EPOCH + Duration::from_secs(59))?;
    /// assert_eq!(code.expose_secret(), "94287082");
    /// # Ok::<(), rampart_mfa::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Clock`] when `now` is before 1970.
    pub fn code_at(&self, secret: &TotpSecret, now: SystemTime) -> Result<OtpCode, Error> {
        Ok(hotp(
            secret,
            self.step_at(now)?,
            self.algorithm,
            self.digits,
        ))
    }
}

/// A one-time code. A current code is a short-lived secret: zeroized on drop (it is a
/// fixed array), `Debug` prints `[REDACTED]`, read with [`expose_secret`](Self::expose_secret).
#[derive(Clone)]
pub struct OtpCode {
    digits: [u8; 8],
    len: usize,
}

impl OtpCode {
    fn new(value: u32, digits: Digits) -> Self {
        let len = digits.count();
        let mut out = [b'0'; 8];
        let mut v = value;
        for slot in out[..len].iter_mut().rev() {
            // v % 10 < 10: the cast cannot truncate.
            *slot = b'0' + u8::try_from(v % 10).unwrap_or(0);
            v /= 10;
        }
        Self { digits: out, len }
    }

    /// The code's digits, leading zeros kept.
    #[must_use]
    pub fn expose_secret(&self) -> &str {
        // Only ASCII digits are ever written.
        std::str::from_utf8(&self.digits[..self.len]).unwrap_or("")
    }

    fn bytes(&self) -> &[u8] {
        &self.digits[..self.len]
    }
}

impl Drop for OtpCode {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.digits);
    }
}

impl fmt::Debug for OtpCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OtpCode([REDACTED])")
    }
}

/// The HOTP value for `counter` (RFC 4226 section 5.3: HMAC, dynamic truncation, modulo
/// 10^digits). TOTP is this with the counter set to the time step.
///
/// ```
/// use rampart_mfa::{Algorithm, Digits, TotpSecret, hotp};
/// // RFC 4226, appendix D: counter 0.
/// let secret = TotpSecret::from_bytes(b"12345678901234567890")?;
/// assert_eq!(hotp(&secret, 0, Algorithm::Sha1, Digits::Six).expose_secret(), "755224");
/// # Ok::<(), rampart_mfa::SecretError>(())
/// ```
#[must_use]
pub fn hotp(secret: &TotpSecret, counter: u64, algorithm: Algorithm, digits: Digits) -> OtpCode {
    let key = hmac::Key::new(algorithm.hmac(), secret.expose_secret());
    OtpCode::new(truncate(&key, counter, digits), digits)
}

fn truncate(key: &hmac::Key, counter: u64, digits: Digits) -> u32 {
    let tag = hmac::sign(key, &counter.to_be_bytes());
    let t = tag.as_ref();
    // RFC 4226 section 5.4: the low nibble of the last byte picks 4 bytes; the shortest tag
    // (SHA-1, 20 bytes) leaves room for offset 15 + 3.
    let offset = usize::from(t[t.len() - 1] & 0x0f);
    let bin = u32::from_be_bytes([
        t[offset] & 0x7f,
        t[offset + 1],
        t[offset + 2],
        t[offset + 3],
    ]);
    bin % digits.modulus()
}

/// The windowed, once-only check: returns the step the code was accepted for.
///
/// Every step of the window is computed and compared in constant time (`subtle`), whatever
/// matched, so timing tells nothing about which step (or whether an older one) matched.
/// A step at or before `last_used` is never accepted (RFC 6238 section 5.2).
pub(crate) fn verify(
    secret: &TotpSecret,
    params: &TotpParams,
    window: u8,
    last_used: u64,
    code: &str,
    now: SystemTime,
) -> Result<u64, Error> {
    let input = code.as_bytes();
    // The length and the alphabet are public rules: failing them early leaks nothing.
    if input.len() != params.digits.count() || !input.iter().all(u8::is_ascii_digit) {
        return Err(Error::InvalidCode);
    }
    let current = params.step_at(now)?;
    let key = hmac::Key::new(params.algorithm.hmac(), secret.expose_secret());
    let w = u64::from(window);
    let mut accepted = 0u64;
    let mut found = Choice::from(0);
    let mut reused = Choice::from(0);
    for step in current.saturating_sub(w)..=current.saturating_add(w) {
        let candidate = OtpCode::new(truncate(&key, step, params.digits), params.digits);
        let matches = candidate.bytes().ct_eq(input);
        // `step` and `last_used` are public: whether a step is fresh is no secret.
        let fresh = Choice::from(u8::from(step > last_used));
        let hit = matches & fresh;
        // Steps ascend, so the last hit is the highest fresh matching step.
        accepted.conditional_assign(&step, hit);
        found |= hit;
        reused |= matches & !fresh;
    }
    if bool::from(found) {
        Ok(accepted)
    } else if bool::from(reused) {
        Err(Error::ReusedCode)
    } else {
        Err(Error::InvalidCode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn leading_zeros_are_kept() {
        assert_eq!(OtpCode::new(42, Digits::Six).expose_secret(), "000042");
        assert_eq!(OtpCode::new(0, Digits::Eight).expose_secret(), "00000000");
    }

    #[test]
    fn malformed_codes_are_invalid() {
        let secret = TotpSecret::from_bytes(b"12345678901234567890").unwrap();
        let p = TotpParams::default();
        for bad in ["", "12345", "1234567", "12345a", " 123456", "１２３４５６"] {
            assert!(matches!(
                verify(&secret, &p, 1, 0, bad, at(59)),
                Err(Error::InvalidCode)
            ));
        }
    }

    #[test]
    fn the_window_is_clipped_at_the_epoch() {
        let secret = TotpSecret::from_bytes(b"12345678901234567890").unwrap();
        let p = TotpParams::default();
        let code = p.code_at(&secret, at(0)).unwrap();
        assert_eq!(
            verify(&secret, &p, 1, 0, code.expose_secret(), at(1))
                .unwrap_err()
                .kind(),
            "reused_code",
            "step 0 is never fresh: last_used starts at 0"
        );
        let code = p.code_at(&secret, at(30)).unwrap();
        assert_eq!(
            verify(&secret, &p, 3, 0, code.expose_secret(), at(1)).unwrap(),
            1
        );
    }

    #[test]
    fn before_the_epoch_is_a_clock_error() {
        let secret = TotpSecret::from_bytes(b"12345678901234567890").unwrap();
        let before = UNIX_EPOCH - Duration::from_secs(1);
        assert!(matches!(
            verify(&secret, &TotpParams::default(), 1, 0, "123456", before),
            Err(Error::Clock)
        ));
    }
}
