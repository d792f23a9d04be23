//! Verification that reports when a stored hash should be replaced, and with what.

use subtle::ConstantTimeEq as _;

use crate::error::Result;
use crate::hasher::Hasher;
use crate::params::{OUTPUT_LEN, SALT_LEN};
use crate::secret::Password;
use crate::stored::{Algorithm, Argon2Hash, Parsed};

/// The outcome of a verification.
///
/// `Debug` shows the variant and the upgrade reason but not `new_hash`: a hash is offline
/// cracking material and does not belong in logs.
///
/// ```
/// use rampart_password::{Hasher, Params, Password, UpgradeReason, Verdict};
/// let old = Hasher::builder().with_params(Params::new(32, 1, 1)?).build()?;
/// let new = Hasher::builder().with_params(Params::new(64, 1, 1)?).build()?;
/// let pw = Password::new("correct horse battery staple");
/// let verdict = new.verify(&pw, &old.hash(&pw)?)?;
/// assert!(verdict.is_valid());
/// let new_hash = verdict.new_hash().expect("weaker parameters are upgraded");
/// assert_eq!(new.verify(&pw, new_hash)?, Verdict::Valid);
/// assert!(matches!(verdict, Verdict::ValidNeedsUpgrade { reason: UpgradeReason::Params, .. }));
/// assert!(!format!("{verdict:?}").contains(new_hash));
/// # Ok::<(), rampart_password::Error>(())
/// ```
// Not `non_exhaustive`: a verdict is matched exhaustively by every caller (a new outcome must
// break their build, not fall into a wildcard arm that logs the user in or out).
#[derive(Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The password matches and the stored hash is current.
    Valid,
    /// The password matches, but the stored hash is outdated: store `new_hash` in its place.
    ValidNeedsUpgrade {
        /// A fresh hash of the same password with the current algorithm, parameters and pepper.
        new_hash: String,
        /// Why the stored hash is outdated (the first reason found).
        reason: UpgradeReason,
    },
    /// The password does not match.
    Invalid,
}

impl Verdict {
    /// Whether the password matched (with or without an upgrade).
    #[must_use]
    pub fn is_valid(&self) -> bool {
        !matches!(self, Self::Invalid)
    }

    /// The hash to store in place of the old one, when an upgrade is due.
    #[must_use]
    pub fn new_hash(&self) -> Option<&str> {
        match self {
            Self::ValidNeedsUpgrade { new_hash, .. } => Some(new_hash),
            _ => None,
        }
    }
}

impl std::fmt::Debug for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Valid => f.write_str("Valid"),
            Self::ValidNeedsUpgrade { reason, .. } => f
                .debug_struct("ValidNeedsUpgrade")
                .field("new_hash", &format_args!("[REDACTED]"))
                .field("reason", reason)
                .finish(),
            Self::Invalid => f.write_str("Invalid"),
        }
    }
}

/// Why a stored hash needs upgrading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UpgradeReason {
    /// The algorithm is not argon2id (a legacy format, argon2i or argon2d).
    Algorithm(Algorithm),
    /// argon2 version 1.0 (0x10) rather than 1.3 (RFC 9106 section 3.1).
    Version,
    /// `m`, `t` or `p` is below the current parameters.
    Params,
    /// The salt or output is shorter than this crate writes (16 and 32 bytes).
    Lengths,
    /// A pepper is configured but the hash has none, or an older version.
    Pepper,
}

impl std::fmt::Display for UpgradeReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Algorithm(a) => write!(f, "legacy algorithm {}", a.as_str()),
            Self::Version => f.write_str("argon2 version 1.0"),
            Self::Params => f.write_str("parameters below the current ones"),
            Self::Lengths => f.write_str("salt or output shorter than current"),
            Self::Pepper => f.write_str("old or missing pepper version"),
        }
    }
}

/// Constant-time equality of two outputs (lengths are public).
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

impl Hasher {
    /// Verifies `password` against a stored hash and says whether the hash should be replaced.
    ///
    /// Accepts argon2id/argon2i/argon2d PHC strings, and with the `legacy` feature bcrypt,
    /// scrypt, PBKDF2-SHA256/512 PHC strings and Django `pbkdf2_sha256`. A matching legacy
    /// hash always yields [`Verdict::ValidNeedsUpgrade`]. Costs read from the hash are checked
    /// against the caps before any hashing. Blocks while all workers are busy.
    ///
    /// ```
    /// use rampart_password::{Hasher, Params, Password, Verdict};
    /// let old = Hasher::builder().with_params(Params::new(32, 1, 1)?).build()?;
    /// let new = Hasher::builder().with_params(Params::new(64, 1, 1)?).build()?;
    /// let pw = Password::new("hunter2 but longer");
    /// let stored = old.hash(&pw)?;
    /// match new.verify(&pw, &stored)? {
    ///     Verdict::ValidNeedsUpgrade { new_hash, .. } => assert!(new_hash.contains("m=64,")),
    ///     other => panic!("expected an upgrade, got {other:?}"),
    /// }
    /// # Ok::<(), rampart_password::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Malformed`](crate::Error::Malformed) / [`Error::UnsupportedAlgorithm`](crate::Error::UnsupportedAlgorithm) for hashes it cannot read,
    /// [`Error::LegacyFormatDisabled`](crate::Error::LegacyFormatDisabled) for legacy formats without the feature,
    /// [`Error::ParamsAboveCap`](crate::Error::ParamsAboveCap) for costs above the caps, [`Error::UnknownPepperVersion`](crate::Error::UnknownPepperVersion),
    /// [`Error::AboveMemoryBudget`](crate::Error::AboveMemoryBudget) for memory beyond the limiter's whole budget,
    /// [`Error::PasswordTooLong`](crate::Error::PasswordTooLong) and [`Error::Overloaded`](crate::Error::Overloaded). A wrong password is not an error.
    pub fn verify(&self, password: &Password, stored: &str) -> Result<Verdict> {
        self.check_len(password)?;
        let parsed = Self::parse(stored)?;
        let (matched, reason) = match &parsed {
            Parsed::Argon2(hash) => {
                let matched = self.verify_argon2(password, hash)?;
                (matched, self.argon2_upgrade_reason(hash))
            }
            legacy => (
                self.verify_legacy(password, legacy)?,
                Some(UpgradeReason::Algorithm(legacy.algorithm())),
            ),
        };
        if !matched {
            return Ok(Verdict::Invalid);
        }
        match reason {
            None => Ok(Verdict::Valid),
            Some(reason) => Ok(Verdict::ValidNeedsUpgrade {
                new_hash: self.hash(password)?,
                reason,
            }),
        }
    }

    /// Whether a stored hash is outdated, read without a password (for reporting, e.g. how
    /// many users still have legacy hashes). `None` means the hash is current.
    ///
    /// ```
    /// use rampart_password::{Hasher, Params, Password, UpgradeReason};
    /// let old = Hasher::builder().with_params(Params::new(32, 1, 1)?).build()?;
    /// let new = Hasher::builder().with_params(Params::new(64, 1, 1)?).build()?;
    /// let pw = Password::new("correct horse battery staple");
    /// assert_eq!(new.needs_upgrade(&old.hash(&pw)?)?, Some(UpgradeReason::Params));
    /// assert_eq!(new.needs_upgrade(&new.hash(&pw)?)?, None);
    /// assert!(new.needs_upgrade("not a hash").is_err());
    /// # Ok::<(), rampart_password::Error>(())
    /// ```
    ///
    /// # Errors
    /// As parsing in [`Hasher::verify`].
    pub fn needs_upgrade(&self, stored: &str) -> Result<Option<UpgradeReason>> {
        Ok(match Self::parse(stored)? {
            Parsed::Argon2(hash) => self.argon2_upgrade_reason(&hash),
            legacy => Some(UpgradeReason::Algorithm(legacy.algorithm())),
        })
    }

    fn argon2_upgrade_reason(&self, hash: &Argon2Hash) -> Option<UpgradeReason> {
        let cur = self.inner.params;
        if hash.algorithm != argon2::Algorithm::Argon2id {
            let algorithm = match hash.algorithm {
                argon2::Algorithm::Argon2i => Algorithm::Argon2i,
                _ => Algorithm::Argon2d,
            };
            return Some(UpgradeReason::Algorithm(algorithm));
        }
        if hash.version != argon2::Version::V0x13 {
            return Some(UpgradeReason::Version);
        }
        if hash.m_kib < cur.m_kib() || hash.t < cur.t() || hash.p < cur.p() {
            return Some(UpgradeReason::Params);
        }
        if hash.salt.len() < SALT_LEN || hash.output.len() < OUTPUT_LEN {
            return Some(UpgradeReason::Lengths);
        }
        let current_pepper = self.inner.peppers.current().map(crate::Pepper::version);
        if current_pepper.is_some() && hash.pepper_version != current_pepper {
            return Some(UpgradeReason::Pepper);
        }
        None
    }

    #[cfg(not(feature = "legacy"))]
    #[allow(clippy::unused_self)]
    fn verify_legacy(&self, _password: &Password, parsed: &Parsed) -> Result<bool> {
        let format = match parsed.algorithm() {
            Algorithm::Bcrypt => "bcrypt",
            Algorithm::Scrypt => "scrypt",
            Algorithm::DjangoPbkdf2Sha256 => "django",
            _ => "pbkdf2",
        };
        Err(crate::Error::LegacyFormatDisabled { format })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ct_eq_compares_length_and_bytes() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"abcd"));
    }

    #[test]
    fn verdict_helpers() {
        assert!(Verdict::Valid.is_valid());
        assert!(!Verdict::Invalid.is_valid());
        let v = Verdict::ValidNeedsUpgrade {
            new_hash: "x".into(),
            reason: UpgradeReason::Params,
        };
        assert!(v.is_valid());
        assert_eq!(v.new_hash(), Some("x"));
    }

    #[test]
    fn verdict_debug_redacts_the_new_hash() {
        let new_hash = "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$b3V0cHV0b3V0cHV0";
        let v = Verdict::ValidNeedsUpgrade {
            new_hash: new_hash.into(),
            reason: UpgradeReason::Params,
        };
        for shown in [format!("{v:?}"), format!("{v:#?}")] {
            assert!(!shown.contains("argon2id"), "{shown}");
            assert!(!shown.contains("b3V0cHV0"), "{shown}");
            assert!(
                shown.contains("[REDACTED]") && shown.contains("Params"),
                "{shown}"
            );
        }
        assert_eq!(
            format!("{v:?}"),
            "ValidNeedsUpgrade { new_hash: [REDACTED], reason: Params }"
        );
        assert_eq!(format!("{:?}", Verdict::Valid), "Valid");
        assert_eq!(format!("{:?}", Verdict::Invalid), "Invalid");
    }

    #[allow(dead_code)]
    fn error_is_send_sync(e: crate::Error) -> Box<dyn std::error::Error + Send + Sync> {
        Box::new(e)
    }
}
