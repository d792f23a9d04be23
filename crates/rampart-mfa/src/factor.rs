//! A TOTP factor's life: pending until a first valid code confirms it, then active, with
//! the last accepted step kept so that each code is accepted once.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{ConfigError, Error};
use crate::secret::TotpSecret;
use crate::totp::{self, DEFAULT_WINDOW, MAX_WINDOW, TotpParams};
use crate::uri::{OtpauthUri, SecretUri};

/// Version of [`FactorState`]'s serialized form.
pub const FACTOR_STATE_VERSION: u32 = 1;

fn check_window(steps: u8) -> Result<u8, Error> {
    if steps > MAX_WINDOW {
        return Err(ConfigError::Window { max: MAX_WINDOW }.into());
    }
    Ok(steps)
}

/// An enrolment in progress: a fresh secret shown to the user (QR code or base32 text),
/// not yet usable to log in. [`confirm`](Self::confirm) with the first code the user's app
/// shows turns it into an [`ActiveFactor`]; this proves the app holds the secret before
/// the account depends on it.
///
/// Between showing the QR code and the confirmation, the application keeps the secret
/// sealed (rampart-envelope) with the enrolment, and rebuilds the pending factor with
/// [`restore`](Self::restore).
///
/// ```
/// use std::time::SystemTime;
/// use rampart_mfa::{PendingFactor, TotpParams};
///
/// let pending = PendingFactor::generate("ACME", "ann@example.com", TotpParams::default())?;
/// let svg = pending.otpauth_uri().qr_svg()?; // show once; never log it
/// # let _ = svg;
/// let now = SystemTime::now();
/// // The user types the code their app shows:
/// let typed = pending.params().code_at(pending.secret(), now)?;
/// let active = pending.confirm(typed.expose_secret(), now)?;
/// // The confirming code cannot be used again to log in.
/// # let mut active = active;
/// assert!(active.verify(typed.expose_secret(), now).is_err());
/// # Ok::<(), rampart_mfa::Error>(())
/// ```
#[derive(Debug)]
pub struct PendingFactor {
    uri: OtpauthUri,
    window: u8,
}

impl PendingFactor {
    /// A new factor for `account` at `issuer`, with a 160-bit secret from the OS CSPRNG.
    ///
    /// ```
    /// let pending = rampart_mfa::PendingFactor::generate("ACME", "ann", Default::default())?;
    /// assert_eq!((pending.issuer(), pending.account()), ("ACME", "ann"));
    /// assert_eq!(pending.secret().expose_secret().len(), 20);
    /// # Ok::<(), rampart_mfa::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Random`] when the OS generator fails; [`Error::Config`] when the issuer or
    /// account is empty, too long or has control characters.
    pub fn generate(issuer: &str, account: &str, params: TotpParams) -> Result<Self, Error> {
        Self::restore(TotpSecret::generate()?, issuer, account, params)
    }

    /// The pending factor again, from its secret (opened with rampart-envelope) and the
    /// values it was generated with.
    ///
    /// ```
    /// use rampart_mfa::{PendingFactor, TotpParams, TotpSecret};
    /// let first = PendingFactor::generate("ACME", "ann", TotpParams::default())?;
    /// let sealed = first.secret().expose_secret().to_vec(); // production: sealed, then opened
    /// let again = PendingFactor::restore(TotpSecret::from_bytes(&sealed)?, "ACME", "ann", TotpParams::default())?;
    /// assert_eq!(again.otpauth_uri().expose_secret(), first.otpauth_uri().expose_secret());
    /// # Ok::<(), rampart_mfa::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Config`] when the issuer or account is empty, too long or has control
    /// characters.
    pub fn restore(
        secret: TotpSecret,
        issuer: &str,
        account: &str,
        params: TotpParams,
    ) -> Result<Self, Error> {
        Ok(Self {
            uri: OtpauthUri::new(Some(issuer), account, secret, params)?,
            window: DEFAULT_WINDOW,
        })
    }

    /// Sets the drift window for the confirmation (steps either side, default 1).
    ///
    /// ```
    /// use rampart_mfa::{PendingFactor, TotpParams};
    /// let pending = PendingFactor::generate("ACME", "ann", TotpParams::default())?.with_window(2)?;
    /// assert!(PendingFactor::generate("ACME", "ann", TotpParams::default())?.with_window(11).is_err());
    /// # Ok::<(), rampart_mfa::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Config`] with [`ConfigError::Window`] above [`MAX_WINDOW`].
    pub fn with_window(mut self, steps: u8) -> Result<Self, Error> {
        self.window = check_window(steps)?;
        Ok(self)
    }

    /// The otpauth URI to show as a QR code ([`SecretUri::qr_svg`],
    /// [`SecretUri::qr_terminal`]).
    ///
    /// ```
    /// let pending = rampart_mfa::PendingFactor::generate("ACME Co", "ann", Default::default())?;
    /// assert!(pending.otpauth_uri().expose_secret().starts_with("otpauth://totp/ACME%20Co:ann?secret="));
    /// # Ok::<(), rampart_mfa::Error>(())
    /// ```
    #[must_use]
    pub fn otpauth_uri(&self) -> SecretUri {
        self.uri.to_uri()
    }

    /// The secret in base32, for users who type it into their app instead of scanning.
    ///
    /// ```
    /// let pending = rampart_mfa::PendingFactor::generate("ACME", "ann", Default::default())?;
    /// assert_eq!(pending.secret_base32().len(), 32); // 160 bits
    /// # Ok::<(), rampart_mfa::Error>(())
    /// ```
    #[must_use]
    pub fn secret_base32(&self) -> Zeroizing<String> {
        self.uri.secret().to_base32()
    }

    /// The secret, to seal with rampart-envelope while the enrolment waits.
    #[must_use]
    pub fn secret(&self) -> &TotpSecret {
        self.uri.secret()
    }

    /// Algorithm, digits and period.
    #[must_use]
    pub fn params(&self) -> &TotpParams {
        self.uri.params()
    }

    /// The issuer.
    #[must_use]
    pub fn issuer(&self) -> &str {
        self.uri.issuer().unwrap_or_default()
    }

    /// The account name.
    #[must_use]
    pub fn account(&self) -> &str {
        self.uri.account()
    }

    /// Checks the user's first code and returns the active factor, whose last used step is
    /// the confirming code's step (so it cannot log in afterwards). The pending factor
    /// stays usable after a wrong code, for another try.
    ///
    /// ```
    /// use std::time::SystemTime;
    /// use rampart_mfa::{Error, PendingFactor, TotpParams};
    /// let pending = PendingFactor::generate("ACME", "ann", TotpParams::default())?;
    /// let now = SystemTime::now();
    /// let right = pending.params().code_at(pending.secret(), now)?;
    /// let wrong = if right.expose_secret() == "000000" { "111111" } else { "000000" };
    /// assert!(matches!(pending.confirm(wrong, now), Err(Error::InvalidCode)));
    /// let active = pending.confirm(right.expose_secret(), now)?;
    /// assert_eq!(active.state().last_used_step(), pending.params().step_at(now)?);
    /// # Ok::<(), Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidCode`] for a wrong or malformed code; [`Error::Clock`] when `now` is
    /// before 1970.
    pub fn confirm(&self, code: &str, now: SystemTime) -> Result<ActiveFactor, Error> {
        let params = *self.uri.params();
        let step = totp::verify(self.uri.secret(), &params, self.window, 0, code, now).map_err(
            |e| match e {
                // Step 0 (1970) is never in a real window; no code was used before.
                Error::ReusedCode => Error::InvalidCode,
                other => other,
            },
        )?;
        Ok(ActiveFactor {
            secret: self.uri.secret().duplicate(),
            state: FactorState {
                params,
                last_used_step: step,
            },
            window: self.window,
        })
    }
}

/// What the application stores with an active factor, besides the sealed secret:
/// parameters and the last accepted step. Serialized as
/// `{"v":1,"algorithm":"SHA1","digits":6,"period":30,"last_used_step":N}`.
///
/// Store it in a column the verification updates with compare-and-swap (see
/// [`ActiveFactor::verify`]).
///
/// ```
/// use rampart_mfa::{FactorState, TotpParams};
/// let state = FactorState::new(TotpParams::default());
/// let json = serde_json::to_string(&state)?;
/// assert_eq!(json, r#"{"v":1,"algorithm":"SHA1","digits":6,"period":30,"last_used_step":0}"#);
/// assert_eq!(serde_json::from_str::<FactorState>(&json)?, state);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "StateRepr", into = "StateRepr")]
pub struct FactorState {
    params: TotpParams,
    last_used_step: u64,
}

#[derive(Serialize, Deserialize)]
struct StateRepr {
    v: u32,
    #[serde(flatten)]
    params: TotpParams,
    last_used_step: u64,
}

impl TryFrom<StateRepr> for FactorState {
    type Error = String;
    fn try_from(r: StateRepr) -> Result<Self, String> {
        if r.v != FACTOR_STATE_VERSION {
            return Err(format!("unsupported factor state version {}", r.v));
        }
        Ok(Self {
            params: r.params,
            last_used_step: r.last_used_step,
        })
    }
}

impl From<FactorState> for StateRepr {
    fn from(s: FactorState) -> Self {
        Self {
            v: FACTOR_STATE_VERSION,
            params: s.params,
            last_used_step: s.last_used_step,
        }
    }
}

impl FactorState {
    /// A state with no code used yet (for a factor imported from elsewhere; enrolment
    /// through [`PendingFactor::confirm`] sets the confirming step).
    #[must_use]
    pub fn new(params: TotpParams) -> Self {
        Self {
            params,
            last_used_step: 0,
        }
    }

    /// Algorithm, digits and period.
    #[must_use]
    pub fn params(&self) -> &TotpParams {
        &self.params
    }

    /// The last time step a code was accepted for; codes for it and earlier steps are
    /// refused.
    #[must_use]
    pub fn last_used_step(&self) -> u64 {
        self.last_used_step
    }
}

/// A confirmed factor that checks login codes, each at most once.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use rampart_mfa::{ActiveFactor, Error, FactorState, TotpParams, TotpSecret};
///
/// let secret = TotpSecret::generate()?;
/// let mut factor = ActiveFactor::restore(secret, FactorState::new(TotpParams::default()));
/// let now = SystemTime::now();
/// let code = factor.state().params().code_at(factor.secret(), now)?;
/// let accepted = factor.verify(code.expose_secret(), now)?;
/// assert_eq!(factor.state().last_used_step(), accepted.step());
/// // Replay of the same code, even within its 30 seconds:
/// assert!(matches!(factor.verify(code.expose_secret(), now), Err(Error::ReusedCode)));
/// # Ok::<(), Error>(())
/// ```
#[derive(Debug)]
pub struct ActiveFactor {
    secret: TotpSecret,
    state: FactorState,
    window: u8,
}

/// A code accepted by [`ActiveFactor::verify`]: the step it was for. Persist it before
/// telling the user they are in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use = "persist the new last used step before accepting the login"]
pub struct AcceptedCode {
    step: u64,
}

impl AcceptedCode {
    /// The time step the code was accepted for: the factor's new last used step.
    #[must_use]
    pub fn step(&self) -> u64 {
        self.step
    }
}

impl ActiveFactor {
    /// The factor from its secret (opened with rampart-envelope) and its stored state.
    ///
    /// ```
    /// use rampart_mfa::{ActiveFactor, FactorState, TotpSecret};
    /// let state: FactorState = serde_json::from_str(
    ///     r#"{"v":1,"algorithm":"SHA1","digits":6,"period":30,"last_used_step":56666667}"#,
    /// ).unwrap();
    /// let factor = ActiveFactor::restore(TotpSecret::from_bytes(&[7; 20])?, state);
    /// assert_eq!(factor.state().last_used_step(), 56666667);
    /// # Ok::<(), rampart_mfa::Error>(())
    /// ```
    #[must_use]
    pub fn restore(secret: TotpSecret, state: FactorState) -> Self {
        Self {
            secret,
            state,
            window: DEFAULT_WINDOW,
        }
    }

    /// Sets the drift window (steps either side of the current one, default 1). Each step
    /// of window adds two guesses per attempt, and an HMAC per check.
    ///
    /// ```
    /// use rampart_mfa::{ActiveFactor, FactorState, TotpParams, TotpSecret};
    /// let factor = ActiveFactor::restore(TotpSecret::generate()?, FactorState::new(TotpParams::default()))
    ///     .with_window(0)?; // the current step only
    /// # let _ = factor;
    /// # Ok::<(), rampart_mfa::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Config`] with [`ConfigError::Window`] above [`MAX_WINDOW`].
    pub fn with_window(mut self, steps: u8) -> Result<Self, Error> {
        self.window = check_window(steps)?;
        Ok(self)
    }

    /// Checks a code at `now`: accepted when it matches a step within the window that is
    /// later than the last used step. On success the state's last used step becomes the
    /// accepted step; store it before accepting the login, with compare-and-swap so two
    /// replicas cannot both accept the same code:
    ///
    /// ```text
    /// UPDATE totp_factors SET last_used_step = $accepted
    ///  WHERE user_id = $user AND last_used_step < $accepted;   -- 0 rows: refuse (replay race)
    /// ```
    ///
    /// Count failures with rampart-attempts (crate docs, "Counting failed codes").
    ///
    /// # Errors
    /// [`Error::InvalidCode`] for a wrong or malformed code; [`Error::ReusedCode`] for a
    /// code of an already used step; [`Error::Clock`] when `now` is before 1970. The state
    /// is unchanged on error.
    pub fn verify(&mut self, code: &str, now: SystemTime) -> Result<AcceptedCode, Error> {
        let step = totp::verify(
            &self.secret,
            &self.state.params,
            self.window,
            self.state.last_used_step,
            code,
            now,
        )?;
        self.state.last_used_step = step;
        Ok(AcceptedCode { step })
    }

    /// The state to store (parameters and last used step).
    ///
    /// ```
    /// use rampart_mfa::{ActiveFactor, FactorState, TotpParams, TotpSecret};
    /// let factor = ActiveFactor::restore(TotpSecret::generate()?, FactorState::new(TotpParams::default()));
    /// assert_eq!(serde_json::to_value(factor.state()).unwrap()["last_used_step"], 0);
    /// # Ok::<(), rampart_mfa::Error>(())
    /// ```
    #[must_use]
    pub fn state(&self) -> &FactorState {
        &self.state
    }

    /// The secret, to seal with rampart-envelope.
    ///
    /// ```
    /// use rampart_mfa::{ActiveFactor, FactorState, TotpParams, TotpSecret};
    /// let factor = ActiveFactor::restore(TotpSecret::from_bytes(&[7; 20])?, FactorState::new(TotpParams::default()));
    /// assert_eq!(factor.secret().expose_secret(), &[7; 20]);
    /// # Ok::<(), rampart_mfa::Error>(())
    /// ```
    #[must_use]
    pub fn secret(&self) -> &TotpSecret {
        &self.secret
    }
}
