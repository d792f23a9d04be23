//! The crate's one error type and its families.
//!
//! No variant holds a secret, a code or text taken from an otpauth URI: a parser error says
//! which rule failed, never the value that failed it. Tell a client only "invalid code" for
//! [`Error::InvalidCode`] and [`Error::ReusedCode`] alike, and count both as failed attempts:
//! the distinction is for logs (a reused code can mean a shoulder-surfed or phished code).

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The code is malformed or matches no step in the drift window.
    #[error("invalid code")]
    InvalidCode,
    /// The code matches a step at or before the last step this factor accepted: a replay
    /// (RFC 6238, section 5.2: "the verifier MUST NOT accept the second attempt of the OTP").
    #[error("code already used")]
    ReusedCode,
    /// An otpauth URI was refused.
    #[error("invalid otpauth uri: {0}")]
    Uri(#[from] UriError),
    /// A TOTP secret (bytes or base32 text) was refused.
    #[error("invalid totp secret: {0}")]
    Secret(#[from] SecretError),
    /// An option given by the service is out of range.
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),
    /// `now` is before 1970 or too far in the future to count steps.
    #[error("the clock is before the unix epoch or out of range")]
    Clock,
    /// The enrolment URI does not fit in a QR code (issuer or account too long).
    #[error("the enrolment uri is too long for a qr code")]
    QrTooLong,
    /// The recovery code is malformed or matches no unused code of the set.
    #[error("invalid recovery code")]
    InvalidRecoveryCode,
    /// The stored recovery codes were hashed under another pepper version than the one
    /// given: a configuration error, not a wrong code.
    #[error("recovery codes are hashed under pepper version {stored}, not {given}")]
    PepperMismatch {
        /// The version recorded with the codes.
        stored: u32,
        /// The version of the pepper given to the check.
        given: u32,
    },
    /// The operating system's random number generator failed; nothing was produced.
    #[error("the operating system's random number generator failed")]
    Random,
}

impl Error {
    /// A stable, machine-readable name for the error (logs, metrics, a CLI's `"error"`
    /// field); it does not change between releases.
    ///
    /// ```
    /// use rampart_mfa::OtpauthUri;
    /// let err = OtpauthUri::parse("https://example.com").unwrap_err();
    /// assert_eq!(rampart_mfa::Error::from(err).kind(), "invalid_uri");
    /// ```
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::InvalidCode => "invalid_code",
            Self::ReusedCode => "reused_code",
            Self::Uri(_) => "invalid_uri",
            Self::Secret(_) => "invalid_secret",
            Self::Config(_) => "invalid_option",
            Self::Clock => "clock",
            Self::QrTooLong => "qr_too_long",
            Self::InvalidRecoveryCode => "invalid_recovery_code",
            Self::PepperMismatch { .. } => "pepper_mismatch",
            Self::Random => "random_failed",
        }
    }

    /// True for failures caused by what the user typed (a wrong, malformed or reused code
    /// or recovery code): count these with rampart-attempts. False for server-side problems.
    ///
    /// ```
    /// assert!(rampart_mfa::Error::ReusedCode.is_credential_failure());
    /// assert!(!rampart_mfa::Error::Random.is_credential_failure());
    /// ```
    #[must_use]
    pub fn is_credential_failure(&self) -> bool {
        matches!(
            self,
            Self::InvalidCode | Self::ReusedCode | Self::InvalidRecoveryCode
        )
    }
}

/// Why a TOTP secret was refused. Never includes the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// Not RFC 4648 base32 (alphabet `A-Z2-7`, either case, no padding inside, canonical
    /// trailing bits).
    #[error("not base32")]
    Base32,
    /// Shorter than RFC 4226's minimum of 128 bits (section 4, R6).
    #[error("shorter than {min} bytes")]
    TooShort {
        /// The minimum, [`MIN_SECRET_LEN`](crate::MIN_SECRET_LEN).
        min: usize,
    },
    /// Longer than this crate accepts.
    #[error("longer than {max} bytes")]
    TooLong {
        /// The maximum, [`MAX_SECRET_LEN`](crate::MAX_SECRET_LEN).
        max: usize,
    },
}

/// Why an otpauth URI was refused. Never includes text from the URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UriError {
    /// Longer than [`MAX_URI_LEN`](crate::MAX_URI_LEN) bytes.
    #[error("longer than {max} bytes")]
    TooLong {
        /// The limit.
        max: usize,
    },
    /// Does not start with `otpauth://`.
    #[error("not an otpauth uri")]
    Scheme,
    /// The type is not `totp` (`hotp` counters are not supported: they need a counter kept
    /// in step with the device).
    #[error("not a totp uri")]
    NotTotp,
    /// Not of the shape `otpauth://totp/LABEL?PARAMETERS`.
    #[error("malformed uri")]
    Malformed,
    /// A `%` not followed by two hex digits, or escapes that are not UTF-8.
    #[error("bad percent-escape")]
    BadEscape,
    /// The label's issuer or account is empty, too long or has control characters.
    #[error("invalid label")]
    Label,
    /// The `secret` parameter is missing.
    #[error("missing secret")]
    MissingSecret,
    /// The `secret` parameter is not a valid secret.
    #[error("invalid secret: {0}")]
    Secret(#[source] SecretError),
    /// A parameter appears twice.
    #[error("duplicate parameter {name}")]
    DuplicateParameter {
        /// The parameter's name.
        name: &'static str,
    },
    /// The issuer in the label and the `issuer` parameter differ.
    #[error("label issuer and issuer parameter differ")]
    IssuerMismatch,
    /// `algorithm` is not SHA1, SHA256 or SHA512.
    #[error("unsupported algorithm")]
    Algorithm,
    /// `digits` is not 6 or 8.
    #[error("unsupported number of digits")]
    Digits,
    /// `period` is not a number of seconds in the accepted range.
    #[error("unsupported period")]
    Period,
}

/// An invalid value given to this crate by the service (not by a user).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The drift window is larger than [`MAX_WINDOW`](crate::MAX_WINDOW) steps.
    #[error("drift window larger than {max} steps")]
    Window {
        /// The limit.
        max: u8,
    },
    /// The period is outside [`MIN_PERIOD`](crate::MIN_PERIOD)..=[`MAX_PERIOD`](crate::MAX_PERIOD)
    /// seconds.
    #[error("period outside {min}..={max} seconds")]
    Period {
        /// The smallest period accepted.
        min: u32,
        /// The largest period accepted.
        max: u32,
    },
    /// The number of digits is not 6 or 8.
    #[error("digits must be 6 or 8")]
    Digits,
    /// An issuer or account name is empty, longer than
    /// [`MAX_LABEL_PART_LEN`](crate::MAX_LABEL_PART_LEN) bytes, or has control characters.
    #[error("invalid issuer or account name")]
    Label,
    /// A recovery pepper is shorter than 32 bytes.
    #[error("recovery pepper must be at least 32 bytes")]
    Pepper,
}
