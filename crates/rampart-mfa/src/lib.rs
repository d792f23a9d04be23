//! TOTP second factors (RFC 6238 over RFC 4226) whose codes are accepted once, enrolment
//! through an otpauth URI and QR code confirmed by a first code, and single-use recovery
//! codes stored as keyed hashes.
//!
//! ```
//! use std::time::SystemTime;
//! use rampart_mfa::{ActiveFactor, FactorState, PendingFactor, TotpParams, TotpSecret};
//!
//! // Enrolment: show the QR code, then confirm with the first code the app shows.
//! let pending = PendingFactor::generate("ACME", "ann@example.com", TotpParams::default())?;
//! let qr_svg = pending.otpauth_uri().qr_svg()?;
//! # let _ = qr_svg;
//! # let now = SystemTime::now();
//! # let typed = pending.params().code_at(pending.secret(), now)?;
//! let active = pending.confirm(typed.expose_secret(), now)?;
//! // Store: the secret sealed with rampart-envelope, and the state (serde).
//! let sealed_later = active.secret().expose_secret().to_vec(); // seal these bytes
//! let state = *active.state();
//!
//! // Login: restore, verify, persist the new state with compare-and-swap.
//! let mut factor = ActiveFactor::restore(TotpSecret::from_bytes(&sealed_later)?, state);
//! # let later = now + std::time::Duration::from_secs(30);
//! # let typed = factor.state().params().code_at(factor.secret(), later)?;
//! let accepted = factor.verify(typed.expose_secret(), later)?;
//! assert_eq!(factor.state().last_used_step(), accepted.step());
//! assert!(factor.verify(typed.expose_secret(), later).is_err(), "each code works once");
//! # Ok::<(), rampart_mfa::Error>(())
//! ```
//!
//! # Codes
//!
//! [`hotp`] is RFC 4226 section 5.3 (HMAC, dynamic truncation, modulo 10^digits) on ring's
//! HMAC; TOTP feeds it the time step `floor(unix_time / period)` (RFC 6238 section 4.2).
//! [`TotpParams`]: [`Algorithm`] SHA-1 (default, what every authenticator app supports),
//! SHA-256 or SHA-512; [`Digits`] 6 (default) or 8; a period of 30 s (default,
//! [`MIN_PERIOD`]..=[`MAX_PERIOD`]).
//!
//! # Checking: once only, within a drift window, in constant time
//!
//! [`ActiveFactor::verify`] accepts a code that matches a step within the drift window
//! (default one step either side, [`ActiveFactor::with_window`], at most [`MAX_WINDOW`])
//! **and** is later than the factor's last used step (RFC 6238 section 5.2: a verifier must
//! not accept an OTP twice). A code of an earlier or the same step is refused with
//! [`Error::ReusedCode`], even inside its 30 seconds, so a code read over a shoulder or
//! phished after use is worthless. Every step of the window is computed and compared with
//! `subtle`, whatever matched. On success the factor's [`FactorState`] holds the new last
//! used step: store it with compare-and-swap
//! (`UPDATE ... SET last_used_step = $new WHERE user_id = $1 AND last_used_step < $new`),
//! and accept the login only if a row was updated, so two replicas cannot both accept one
//! code.
//!
//! # Enrolment
//!
//! [`PendingFactor::generate`] draws a 160-bit secret from the OS CSPRNG (RFC 4226 section
//! 4, R6; failure is [`Error::Random`]); [`PendingFactor::otpauth_uri`] gives the URI
//!
//! ```text
//! otpauth://totp/ACME%20Co:ann%40example.com?secret=BASE32&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30
//! ```
//!
//! with issuer and account percent-escaped (spaces, colons and non-ASCII text survive), as
//! a QR code in SVG ([`SecretUri::qr_svg`]) or terminal text ([`SecretUri::qr_terminal`]).
//! The factor becomes active only through [`PendingFactor::confirm`] with a valid code: the
//! user has proved their app holds the secret before the account depends on it.
//! [`OtpauthUri::parse`] reads otpauth URIs (imports, tests) strictly, with limits
//! ([`MAX_URI_LEN`], [`MAX_LABEL_PART_LEN`], [`MAX_SECRET_LEN`]) and typed errors that never
//! repeat the URI's text. Base32 is RFC 4648 without padding, through `data-encoding`.
//!
//! # Storing a factor
//!
//! This crate stores nothing and never hands out a secret in a form meant for storage: the
//! application seals [`TotpSecret::expose_secret`] with rampart-envelope, bound to the row
//! it lives in, and stores the ciphertext and the [`FactorState`] (plain JSON: parameters
//! and the last used step, nothing secret).
//!
//! ```
//! use std::time::SystemTime;
//! use rampart_envelope::{Context, Keyring, LocalMasterKey};
//! use rampart_mfa::{ActiveFactor, FactorState, TotpParams, TotpSecret};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let master = LocalMasterKey::generate()?; // production: LocalMasterKey::from_file(..)
//! let ring = Keyring::create("totp-secrets", "eu-central", &master, SystemTime::now())?;
//! let row = Context::new().with("table", "totp_factors").with("user", "42");
//!
//! let secret = TotpSecret::generate()?;
//! let sealed: Vec<u8> = ring.seal(secret.expose_secret(), &row)?; // BYTEA column
//! let state = serde_json::to_string(&FactorState::new(TotpParams::default()))?; // JSON column
//!
//! // At login:
//! let opened = ring.open(&sealed, &row)?; // zeroized on drop
//! let factor = ActiveFactor::restore(TotpSecret::from_bytes(&opened)?, serde_json::from_str(&state)?);
//! assert_eq!(factor.secret().expose_secret(), secret.expose_secret());
//! assert!(ring.open(&sealed, &Context::new().with("table", "totp_factors").with("user", "43")).is_err());
//! # Ok(())
//! # }
//! ```
//!
//! # Counting failed codes
//!
//! Six digits are a million guesses, and each check with the default window accepts three
//! codes: throttling is what makes guessing hopeless. This crate counts nothing; count
//! failures ([`Error::is_credential_failure`]) with rampart-attempts, per account (its own
//! subject, apart from password failures), and ask it before checking. The policy below
//! backs off from the 5th wrong code in a row: 1 s, then 2 s, 4 s ... up to 15 minutes, so
//! guessing a 6-digit code with the default window takes longer than a lifetime.
//!
//! ```
//! use std::time::SystemTime;
//! use std::time::Duration;
//! use rampart_attempts::{Backoff, Decision, MemoryStore, Policies, Subject, SubjectKind, Tracker};
//! use rampart_mfa::{ActiveFactor, FactorState, TotpParams, TotpSecret};
//! # fn block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     let mut f = std::pin::pin!(f);
//! #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
//! #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
//! # }
//!
//! async fn second_factor(
//!     tracker: &Tracker<MemoryStore>,
//!     factor: &mut ActiveFactor,
//!     account: &str,
//!     code: &str,
//!     now: SystemTime,
//! ) -> Result<bool, Box<dyn std::error::Error>> {
//!     let who = Subject::account(format!("mfa:{account}"));
//!     if tracker.check(&who, now).await? != Decision::Allow {
//!         return Ok(false); // 429 with Retry-After; no code is checked
//!     }
//!     match factor.verify(code, now) {
//!         Ok(_accepted) => {
//!             // persist factor.state() with compare-and-swap here, then:
//!             tracker.record_success(&who, now).await;
//!             Ok(true)
//!         }
//!         Err(e) if e.is_credential_failure() => {
//!             tracker.record_failure(&who, now).await?;
//!             Ok(false) // "invalid code", whether wrong or reused
//!         }
//!         Err(e) => Err(e.into()),
//!     }
//! }
//!
//! # block_on(async {
//! let account_policy = Policies::default()
//!     .get(SubjectKind::Account)
//!     .clone()
//!     .with_backoff(Backoff::new(4, Duration::from_secs(1), Duration::from_secs(15 * 60)));
//! let policies = Policies::default().with(SubjectKind::Account, account_policy);
//! let tracker = Tracker::new(MemoryStore::default()).with_policies(policies)?;
//! let secret = TotpSecret::from_bytes(b"12345678901234567890")?;
//! let mut factor = ActiveFactor::restore(secret, FactorState::new(TotpParams::default()));
//! let now = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
//! let right = factor.state().params().code_at(factor.secret(), now)?;
//! for _ in 0..5 {
//!     assert!(!second_factor(&tracker, &mut factor, "ann", "000000", now).await?);
//! }
//! // After 5 wrong codes the account backs off: even the right code is not checked.
//! assert!(!second_factor(&tracker, &mut factor, "ann", right.expose_secret(), now).await?);
//! // Once the delay has passed, it is accepted (and resets the streak).
//! let later = now + Duration::from_secs(1);
//! assert!(second_factor(&tracker, &mut factor, "ann", right.expose_secret(), later).await?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! # Recovery codes
//!
//! [`RecoveryCodes::generate`] makes 10 codes of 60 random bits (`XXXX-XXXX-XXXX`), shown
//! once; only HMAC-SHA256 under a server-side [`RecoveryPepper`] and a per-set salt is
//! stored. The codes are high-entropy random, so argon2id's slowness would add nothing
//! against guessing, while the pepper (kept out of the database) makes a stolen table
//! useless on its own and the salt stops one guess being tried against every user; a
//! check costs one HMAC, so it is no denial-of-service lever either (the full argument is
//! on [`RecoveryCodes`]). [`RecoveryCodes::consume`] compares against every stored
//! hash in constant time and returns the set without the used code, for a compare-and-swap
//! into the store.
//!
//! # Secrets in memory
//!
//! [`TotpSecret`], [`OtpCode`], [`SecretUri`], [`RecoveryCode`] and [`RecoveryPepper`]
//! zeroize on drop, print `[REDACTED]` in `Debug`, implement no `Display`, and are read with
//! `expose_secret()`. ring keeps HMAC key schedules it cannot wipe; they are freed, not
//! wiped.

#![forbid(unsafe_code)]
mod error;
mod factor;
mod recovery;
mod secret;
mod totp;
mod uri;

pub use error::{ConfigError, Error, SecretError, UriError};
pub use factor::{AcceptedCode, ActiveFactor, FACTOR_STATE_VERSION, FactorState, PendingFactor};
pub use recovery::{
    IssuedRecoveryCodes, MIN_PEPPER_LEN, RECOVERY_CODE_CHARS, RECOVERY_CODE_COUNT,
    RECOVERY_CODES_VERSION, RecoveryCode, RecoveryCodes, RecoveryPepper,
};
pub use secret::{MAX_SECRET_LEN, MIN_SECRET_LEN, SECRET_LEN, TotpSecret};
pub use totp::{
    Algorithm, DEFAULT_PERIOD, DEFAULT_WINDOW, Digits, MAX_PERIOD, MAX_WINDOW, MIN_PERIOD, OtpCode,
    TotpParams, hotp,
};
pub use uri::{MAX_LABEL_PART_LEN, MAX_URI_LEN, OtpauthUri, SecretUri};
