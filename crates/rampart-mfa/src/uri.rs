//! otpauth URIs (the Key Uri Format that authenticator apps read from QR codes): building
//! with correct percent-escaping, strict parsing with limits, and QR rendering.
//!
//! Form: `otpauth://totp/ISSUER:ACCOUNT?secret=BASE32&issuer=ISSUER&algorithm=SHA1&digits=6&period=30`.
//! Issuer and account are percent-escaped (RFC 3986 section 2.1) except the unreserved
//! characters (`A-Za-z0-9-._~`), so spaces, colons, `&`, `?`, `#` and non-ASCII text survive
//! the round trip; the colon between them is the one literal colon of the label.

use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use qrcode::render::{svg, unicode};
use qrcode::{EcLevel, QrCode};
use zeroize::Zeroizing;

use crate::error::{ConfigError, Error, UriError};
use crate::secret::TotpSecret;
use crate::totp::{Algorithm, Digits, TotpParams, check_period};

/// Longest otpauth URI accepted by the parser, in bytes. Any URI this crate builds fits:
/// issuer (twice) and account of [`MAX_LABEL_PART_LEN`] bytes, each byte escaped as three
/// characters, plus a [`MAX_SECRET_LEN`](crate::MAX_SECRET_LEN)-byte secret in base32 and
/// the fixed parameters come to under 2,700 bytes.
pub const MAX_URI_LEN: usize = 4096;
/// Longest issuer or account name, in bytes (UTF-8).
pub const MAX_LABEL_PART_LEN: usize = 256;

/// RFC 3986 unreserved characters stay; everything else is escaped.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// An otpauth URI's content: issuer, account, secret and parameters.
///
/// ```
/// use rampart_mfa::{OtpauthUri, TotpParams, TotpSecret};
/// let secret = TotpSecret::from_bytes(b"12345678901234567890")?;
/// let uri = OtpauthUri::new(Some("ACME Co"), "ann@example.com", secret, TotpParams::default())?;
/// assert_eq!(
///     uri.to_uri().expose_secret(),
///     "otpauth://totp/ACME%20Co:ann%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
///      &issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30"
/// );
/// let back = OtpauthUri::parse(uri.to_uri().expose_secret())?;
/// assert_eq!(back.issuer(), Some("ACME Co"));
/// assert_eq!(back.account(), "ann@example.com");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct OtpauthUri {
    issuer: Option<String>,
    account: String,
    secret: TotpSecret,
    params: TotpParams,
}

impl OtpauthUri {
    /// A URI's content. The issuer (the service's name, shown by the app) is optional in
    /// the format but every enrolment should give one.
    ///
    /// # Errors
    /// [`Error::Config`] with [`ConfigError::Label`] when the issuer or account is empty,
    /// longer than [`MAX_LABEL_PART_LEN`] bytes, or has control characters.
    ///
    /// ```
    /// use rampart_mfa::{OtpauthUri, TotpParams, TotpSecret};
    /// let secret = TotpSecret::generate()?;
    /// assert!(OtpauthUri::new(Some("ACME"), "", secret, TotpParams::default()).is_err());
    /// # Ok::<(), rampart_mfa::Error>(())
    /// ```
    pub fn new(
        issuer: Option<&str>,
        account: &str,
        secret: TotpSecret,
        params: TotpParams,
    ) -> Result<Self, Error> {
        if let Some(i) = issuer {
            check_label_part(i).ok_or(ConfigError::Label)?;
        }
        check_label_part(account).ok_or(ConfigError::Label)?;
        Ok(Self {
            issuer: issuer.map(str::to_owned),
            account: account.to_owned(),
            secret,
            params,
        })
    }

    /// Parses an otpauth URI strictly: `otpauth://totp/` (scheme and type in either case),
    /// a label `[ISSUER:]ACCOUNT` (spaces after the colon ignored), then parameters.
    /// `secret` is required; `algorithm` (default SHA1), `digits` (6 or 8, default 6) and
    /// `period` ([`MIN_PERIOD`](crate::MIN_PERIOD)..=[`MAX_PERIOD`](crate::MAX_PERIOD),
    /// default 30) are checked; `issuer`, when present with a label issuer, must equal it;
    /// other parameters (`image`...) are ignored; a known parameter twice is refused. In
    /// parameter values `+` means a space (form encoding); in the label it is a `+`.
    ///
    /// ```
    /// use rampart_mfa::{OtpauthUri, UriError};
    /// let uri = OtpauthUri::parse("otpauth://totp/ACME:ann?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=ACME")?;
    /// assert_eq!(uri.params().period(), 30);
    /// assert_eq!(
    ///     OtpauthUri::parse("otpauth://hotp/ACME:ann?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap_err(),
    ///     UriError::NotTotp
    /// );
    /// # Ok::<(), UriError>(())
    /// ```
    ///
    /// # Errors
    /// A [`UriError`] naming the rule that failed; never text from the URI.
    pub fn parse(text: &str) -> Result<Self, UriError> {
        if text.len() > MAX_URI_LEN {
            return Err(UriError::TooLong { max: MAX_URI_LEN });
        }
        let rest = strip_prefix_ignore_case(text, "otpauth://").ok_or(UriError::Scheme)?;
        let (kind, rest) = rest.split_once('/').ok_or(UriError::Malformed)?;
        if !kind.eq_ignore_ascii_case("totp") {
            return Err(if kind.eq_ignore_ascii_case("hotp") {
                UriError::NotTotp
            } else {
                UriError::Malformed
            });
        }
        if rest.contains('#') {
            return Err(UriError::Malformed);
        }
        let (label, query) = rest.split_once('?').ok_or(UriError::MissingSecret)?;

        let (label_issuer, account) = match label.split_once(':') {
            Some((issuer, account)) => (
                Some(decode(issuer, false)?),
                decode(account.trim_start_matches(' '), false)?,
            ),
            None => (None, decode(label, false)?),
        };
        if let Some(i) = &label_issuer {
            check_label_part(i).ok_or(UriError::Label)?;
        }
        check_label_part(&account).ok_or(UriError::Label)?;

        let mut secret: Option<Zeroizing<String>> = None;
        let mut issuer: Option<String> = None;
        let mut algorithm: Option<Algorithm> = None;
        let mut digits: Option<Digits> = None;
        let mut period: Option<u32> = None;
        for pair in query.split('&') {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            match name {
                "secret" => {
                    set_once(&mut secret, Zeroizing::new(decode(value, true)?), "secret")?;
                }
                "issuer" => {
                    let v = decode(value, true)?;
                    check_label_part(&v).ok_or(UriError::Label)?;
                    set_once(&mut issuer, v, "issuer")?;
                }
                "algorithm" => {
                    let v =
                        Algorithm::from_name(&decode(value, true)?).ok_or(UriError::Algorithm)?;
                    set_once(&mut algorithm, v, "algorithm")?;
                }
                "digits" => {
                    let v = match decode(value, true)?.as_str() {
                        "6" => Digits::Six,
                        "8" => Digits::Eight,
                        _ => return Err(UriError::Digits),
                    };
                    set_once(&mut digits, v, "digits")?;
                }
                "period" => {
                    let v = decode(value, true)?;
                    // Only plain decimal digits: no sign, no spaces; length bounds the parse.
                    if v.is_empty() || v.len() > 5 || !v.bytes().all(|b| b.is_ascii_digit()) {
                        return Err(UriError::Period);
                    }
                    let p: u32 = v.parse().map_err(|_| UriError::Period)?;
                    check_period(p).map_err(|_| UriError::Period)?;
                    set_once(&mut period, p, "period")?;
                }
                _ => {}
            }
        }
        let secret = secret.ok_or(UriError::MissingSecret)?;
        let secret = TotpSecret::from_base32(&secret).map_err(UriError::Secret)?;
        let issuer = match (label_issuer, issuer) {
            (Some(a), Some(b)) if a != b => return Err(UriError::IssuerMismatch),
            (a, b) => a.or(b),
        };
        let params = TotpParams::default()
            .with_algorithm(algorithm.unwrap_or_default())
            .with_digits(digits.unwrap_or_default());
        let params = match period {
            Some(p) => params.with_period(p).map_err(|_| UriError::Period)?,
            None => params,
        };
        Ok(Self {
            issuer,
            account,
            secret,
            params,
        })
    }

    /// The URI text, every parameter written out. It contains the secret, so it comes as a
    /// [`SecretUri`].
    ///
    /// ```
    /// use rampart_mfa::{OtpauthUri, TotpParams, TotpSecret};
    /// let uri = OtpauthUri::new(None, "a:b c", TotpSecret::from_bytes(&[0; 16])?, TotpParams::default())?;
    /// assert_eq!(
    ///     uri.to_uri().expose_secret(),
    ///     "otpauth://totp/a%3Ab%20c?secret=AAAAAAAAAAAAAAAAAAAAAAAAAA&algorithm=SHA1&digits=6&period=30"
    /// );
    /// # Ok::<(), rampart_mfa::Error>(())
    /// ```
    #[must_use]
    pub fn to_uri(&self) -> SecretUri {
        let mut out = String::from("otpauth://totp/");
        if let Some(i) = &self.issuer {
            out.extend(utf8_percent_encode(i, COMPONENT));
            out.push(':');
        }
        out.extend(utf8_percent_encode(&self.account, COMPONENT));
        out.push_str("?secret=");
        out.push_str(&self.secret.to_base32());
        if let Some(i) = &self.issuer {
            out.push_str("&issuer=");
            out.extend(utf8_percent_encode(i, COMPONENT));
        }
        out.push_str("&algorithm=");
        out.push_str(self.params.algorithm().name());
        out.push_str("&digits=");
        out.push_str(if self.params.digits() == Digits::Eight {
            "8"
        } else {
            "6"
        });
        out.push_str("&period=");
        out.push_str(&self.params.period().to_string());
        SecretUri(Zeroizing::new(out))
    }

    /// The issuer, from the label or the `issuer` parameter.
    #[must_use]
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// The account name.
    #[must_use]
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The secret.
    #[must_use]
    pub fn secret(&self) -> &TotpSecret {
        &self.secret
    }

    /// Algorithm, digits and period.
    #[must_use]
    pub fn params(&self) -> &TotpParams {
        &self.params
    }

    /// The secret, giving up the rest.
    #[must_use]
    pub fn into_secret(self) -> TotpSecret {
        self.secret
    }
}

/// The text of an otpauth URI. It holds the secret: zeroized on drop, `Debug` prints
/// `[REDACTED]`, no `Display`; show it once (as a QR code) and never log or store it.
///
/// ```
/// use rampart_mfa::{OtpauthUri, TotpParams, TotpSecret};
/// let uri = OtpauthUri::new(Some("ACME"), "ann", TotpSecret::generate()?, TotpParams::default())?
///     .to_uri();
/// assert_eq!(format!("{uri:?}"), "SecretUri([REDACTED])");
/// assert!(uri.qr_svg()?.starts_with("<?xml"));
/// assert!(uri.qr_terminal()?.contains('█'));
/// # Ok::<(), rampart_mfa::Error>(())
/// ```
pub struct SecretUri(Zeroizing<String>);

impl SecretUri {
    /// The URI text.
    #[must_use]
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// The URI as a QR code in an SVG document (error correction level M, at least
    /// 200x200), to embed in the enrolment page.
    ///
    /// # Errors
    /// [`Error::QrTooLong`] when the URI does not fit in a QR code.
    pub fn qr_svg(&self) -> Result<Zeroizing<String>, Error> {
        let code = self.qr()?;
        Ok(Zeroizing::new(
            code.render::<svg::Color<'_>>()
                .min_dimensions(200, 200)
                .build(),
        ))
    }

    /// The URI as a QR code in Unicode half blocks, for a terminal with a dark background
    /// (light modules are drawn, as phone cameras expect dark-on-light).
    ///
    /// # Errors
    /// [`Error::QrTooLong`] when the URI does not fit in a QR code.
    pub fn qr_terminal(&self) -> Result<Zeroizing<String>, Error> {
        let code = self.qr()?;
        Ok(Zeroizing::new(
            code.render::<unicode::Dense1x2>()
                .dark_color(unicode::Dense1x2::Light)
                .light_color(unicode::Dense1x2::Dark)
                .build(),
        ))
    }

    fn qr(&self) -> Result<QrCode, Error> {
        QrCode::with_error_correction_level(self.0.as_bytes(), EcLevel::M)
            .map_err(|_| Error::QrTooLong)
    }
}

impl fmt::Debug for SecretUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretUri([REDACTED])")
    }
}

fn check_label_part(s: &str) -> Option<()> {
    (!s.is_empty() && s.len() <= MAX_LABEL_PART_LEN && !s.chars().any(char::is_control))
        .then_some(())
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

fn set_once<T>(slot: &mut Option<T>, value: T, name: &'static str) -> Result<(), UriError> {
    if slot.is_some() {
        return Err(UriError::DuplicateParameter { name });
    }
    *slot = Some(value);
    Ok(())
}

/// Strict percent-decoding: every `%` starts two hex digits, the result is UTF-8.
fn decode(s: &str, plus_is_space: bool) -> Result<String, UriError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hi = b.get(i + 1).and_then(|c| hex(*c));
                let lo = b.get(i + 2).and_then(|c| hex(*c));
                let (Some(hi), Some(lo)) = (hi, lo) else {
                    // The bytes so far may be a secret's.
                    zeroize::Zeroize::zeroize(&mut out);
                    return Err(UriError::BadEscape);
                };
                out.push(hi << 4 | lo);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|e| {
        // The bytes may be a secret's: wipe them before dropping.
        zeroize::Zeroize::zeroize(&mut e.into_bytes());
        UriError::BadEscape
    })
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_escapes() {
        assert_eq!(decode("a%20b", false).unwrap(), "a b");
        assert_eq!(decode("a+b", false).unwrap(), "a+b");
        assert_eq!(decode("a+b", true).unwrap(), "a b");
        for bad in ["%", "%2", "%zz", "%C3", "%FF"] {
            assert_eq!(
                decode(bad, false).unwrap_err(),
                UriError::BadEscape,
                "{bad}"
            );
        }
    }

    #[test]
    fn prefix_check_does_not_split_a_character() {
        assert_eq!(strip_prefix_ignore_case("otpauth:/é", "otpauth://"), None);
    }
}
