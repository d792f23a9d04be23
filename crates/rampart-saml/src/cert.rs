//! Certificates: the IdP's signing certificates (trust anchors) and the SP's own.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::digest;

use crate::error::Error;

/// An X.509 certificate whose public key the service provider trusts for IdP signatures.
///
/// Only these configured certificates are ever used to verify a response: certificates or
/// keys inside the response's `KeyInfo` are ignored (an attacker can put anything there).
/// Certificate validity dates and chains are not checked: SAML trust is the pinned key, as
/// exchanged in metadata (SAML metadata-iop 2.5.1).
///
/// ```
/// use rampart_saml::Certificate;
/// let cert = Certificate::from_pem(&std::fs::read("tests/keys/idp.cert.pem")?)?;
/// assert_eq!(cert.subject(), "CN=rampart test idp");
/// // The SHA-256 fingerprint, as an operator compares it with the IdP's metadata.
/// assert_eq!(cert.sha256_fingerprint().len(), 32 * 3 - 1);
/// // The same certificate from the base64 of metadata's X509Certificate element.
/// let b64: String = String::from_utf8(std::fs::read("tests/keys/idp.cert.pem")?)?
///     .lines()
///     .filter(|l| !l.starts_with("-----"))
///     .collect();
/// assert_eq!(Certificate::from_base64(&b64)?, cert);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Certificate {
    der: Vec<u8>,
    /// Formatted once here: every validated login carries it, and formatting it per login
    /// was 2 % of a validation.
    sha256_fingerprint: String,
    subject: String,
}

impl Certificate {
    /// Reads one certificate from DER bytes.
    ///
    /// # Errors
    /// [`Error::Config`] when the bytes are not an X.509 certificate.
    pub fn from_der(der: &[u8]) -> Result<Self, Error> {
        let (rest, cert) = x509_parser::parse_x509_certificate(der)
            .map_err(|e| Error::Config(format!("not an x.509 certificate: {e}")))?;
        if !rest.is_empty() {
            return Err(Error::Config("trailing bytes after the certificate".into()));
        }
        let subject = cert.subject().to_string();
        let sha256 = digest::digest(&digest::SHA256, der);
        let sha256_fingerprint = sha256
            .as_ref()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":");
        Ok(Certificate {
            der: der.to_vec(),
            sha256_fingerprint,
            subject,
        })
    }

    /// Reads the one certificate of a PEM text (`-----BEGIN CERTIFICATE-----`), or, when
    /// there is no PEM armour, the whole text as base64 of DER (how metadata and several IdP
    /// admin consoles hand certificates out).
    ///
    /// ```
    /// let cert = rampart_saml::Certificate::from_pem(&std::fs::read("tests/keys/idp.cert.pem")?)?;
    /// assert!(cert.subject().contains("rampart test idp"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Config`] when no certificate can be read, or when the text holds several
    /// (a rollover bundle or a chain): trusting only the first would silently drop the
    /// others, so read those with [`Certificate::all_from_pem`].
    pub fn from_pem(text: &[u8]) -> Result<Self, Error> {
        let mut all = Self::all_from_pem(text)?;
        match all.len() {
            1 => Ok(all.remove(0)),
            n => Err(Error::Config(format!(
                "pem holds {n} certificates where one was expected (use all_from_pem to trust each)"
            ))),
        }
    }

    /// Reads every certificate of a PEM text, in order (an IdP's current and next signing
    /// certificates in one file), or one certificate from base64 of DER without armour.
    /// Blocks with other labels (a private key by mistake) are refused, not skipped.
    ///
    /// ```
    /// let mut pem = std::fs::read("tests/keys/idp.cert.pem")?;
    /// pem.extend(std::fs::read("tests/keys/sp.cert.pem")?);
    /// let certs = rampart_saml::Certificate::all_from_pem(&pem)?;
    /// assert_eq!(certs.len(), 2);
    /// assert!(rampart_saml::Certificate::from_pem(&pem).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Config`] when the text holds no certificate, a bad block, or a block that is
    /// not a certificate.
    pub fn all_from_pem(text: &[u8]) -> Result<Vec<Self>, Error> {
        let s = std::str::from_utf8(text)
            .map_err(|_| Error::Config("certificate is not text".into()))?;
        if !s.contains("-----BEGIN") {
            return Ok(vec![Self::from_base64(s)?]);
        }
        let mut out = Vec::new();
        for pem in x509_parser::pem::Pem::iter_from_buffer(text) {
            let pem = pem.map_err(|e| Error::Config(format!("bad pem: {e}")))?;
            if pem.label != "CERTIFICATE" {
                return Err(Error::Config(format!(
                    "pem block {:?} is not a certificate",
                    pem.label
                )));
            }
            out.push(Self::from_der(&pem.contents)?);
        }
        if out.is_empty() {
            return Err(Error::Config("no CERTIFICATE block in pem".into()));
        }
        Ok(out)
    }

    /// Reads base64 of DER, ignoring whitespace (the `ds:X509Certificate` form); base64 of a
    /// PEM text is unwrapped too.
    ///
    /// # Errors
    /// [`Error::Config`] when the text is not base64 of a certificate.
    pub fn from_base64(text: &str) -> Result<Self, Error> {
        let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let der = STANDARD
            .decode(compact.as_bytes())
            .map_err(|_| Error::Config("certificate is neither pem nor base64".into()))?;
        // Some IdPs (ADFS exports, several test suites) put base64 of a whole PEM file in
        // X509Certificate; unwrap it rather than refuse the metadata.
        if der.starts_with(b"-----BEGIN") {
            return Self::from_pem(&der);
        }
        Self::from_der(&der)
    }

    /// The DER encoding.
    #[must_use]
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The SHA-256 fingerprint, as colon-separated upper-case hex (what `openssl x509
    /// -fingerprint -sha256` prints).
    #[must_use]
    pub fn sha256_fingerprint(&self) -> &str {
        &self.sha256_fingerprint
    }

    /// The subject distinguished name, for logs and traces.
    #[must_use]
    pub fn subject(&self) -> &str {
        &self.subject
    }

    pub(crate) fn base64(&self) -> String {
        STANDARD.encode(&self.der)
    }
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("subject", &self.subject)
            .field("sha256", &self.sha256_fingerprint())
            .finish()
    }
}
