//! X.509 certificates as key containers: parsed once, kept as DER with the few facts the
//! rest of the workspace reads (subject, SHA-256 fingerprint, public key).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use x509_parser::oid_registry::{
    OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_NIST_EC_P384, OID_PKCS1_RSAENCRYPTION,
};
use x509_parser::pem::Pem;
use x509_parser::public_key::PublicKey;

use crate::error::{Error, KeyError};

/// The SHA-256 digest of a certificate's DER: what operators compare (`openssl x509
/// -fingerprint -sha256` prints it as colon-separated upper-case hex, and so does
/// `Display`).
///
/// ```
/// # let pem = std::fs::read("tests/vectors/rsa2048.crt").unwrap();
/// let cert = rampart_xmldsig::Certificate::from_pem(&pem)?;
/// let fp = cert.fingerprint_sha256();
/// assert_eq!(fp.as_bytes().len(), 32);
/// assert_eq!(fp.to_string().len(), 32 * 3 - 1); // "AB:CD:..."
/// # Ok::<(), rampart_xmldsig::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sha256Fingerprint([u8; 32]);

impl Sha256Fingerprint {
    /// The fingerprint of `der`.
    #[must_use]
    pub fn of(der: &[u8]) -> Self {
        let digest = ring::digest::digest(&ring::digest::SHA256, der);
        let mut fp = [0u8; 32];
        fp.copy_from_slice(digest.as_ref());
        Sha256Fingerprint(fp)
    }

    /// The 32 digest bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for Sha256Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One write of a stack buffer rather than a write per byte: every validated SAML
        // login formats a fingerprint.
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        let mut out = [b':'; 32 * 3 - 1];
        for (i, b) in self.0.iter().enumerate() {
            out[i * 3] = HEX[usize::from(b >> 4)];
            out[i * 3 + 1] = HEX[usize::from(b & 0x0f)];
        }
        f.write_str(std::str::from_utf8(&out).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Sha256Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{self}")
    }
}

/// The kinds of public key this crate verifies with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    Rsa { bits: usize },
    EcP256,
    EcP384,
}

/// A public key ready for ring: its kind, and RSAPublicKey DER (RSA) or the uncompressed
/// point (EC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PublicKeyInfo {
    pub(crate) kind: KeyKind,
    pub(crate) bytes: Vec<u8>,
}

/// An X.509 certificate, parsed once: its DER, subject, SHA-256 fingerprint and public key.
///
/// In XML-DSig as SAML uses it a certificate is a key container exchanged out of band (IdP
/// metadata, a pinned PEM file): validity dates and chains are not checked, trust comes from
/// configuring it. A certificate whose key this crate cannot verify with (DSA, Ed25519,
/// P-521) still loads, so it can be shown and compared; [`TrustedKey::from_certificate`]
/// refuses it.
///
/// [`TrustedKey::from_certificate`]: crate::TrustedKey::from_certificate
///
/// ```
/// # let pem = std::fs::read("tests/vectors/rsa2048.crt").unwrap();
/// use rampart_xmldsig::Certificate;
/// let cert = Certificate::from_pem(&pem)?;
/// // The same certificate from the base64 of an X509Certificate element.
/// let b64: String = String::from_utf8(pem.clone()).unwrap()
///     .lines()
///     .filter(|l| !l.starts_with("-----"))
///     .collect();
/// assert_eq!(Certificate::from_base64(&b64)?, cert);
/// # Ok::<(), rampart_xmldsig::Error>(())
/// ```
#[derive(Clone)]
pub struct Certificate {
    der: Vec<u8>,
    subject: String,
    fingerprint: Sha256Fingerprint,
    key: Result<PublicKeyInfo, KeyError>,
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        // Everything else is derived from the DER.
        self.der == other.der
    }
}

impl Eq for Certificate {}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("subject", &self.subject)
            .field("sha256", &self.fingerprint)
            .finish()
    }
}

impl Certificate {
    /// Reads one DER certificate.
    ///
    /// # Errors
    /// [`KeyError::Certificate`] when the bytes are not one X.509 certificate (trailing bytes
    /// included).
    pub fn from_der(der: &[u8]) -> Result<Self, Error> {
        let (rest, cert) = x509_parser::parse_x509_certificate(der)
            .map_err(|_| Error::Key(KeyError::Certificate))?;
        if !rest.is_empty() {
            return Err(Error::Key(KeyError::Certificate));
        }
        Ok(Certificate {
            der: der.to_vec(),
            subject: cert.subject().to_string(),
            fingerprint: Sha256Fingerprint::of(der),
            key: public_key(&cert),
        })
    }

    /// Reads the one certificate of a PEM text (`-----BEGIN CERTIFICATE-----`), or, when
    /// there is no PEM armour, the whole text as base64 of DER (how metadata and several IdP
    /// admin consoles hand certificates out).
    ///
    /// # Errors
    /// As [`Certificate::all_from_pem`], and [`KeyError::SeveralCertificates`] when the text
    /// holds several (a rollover bundle or a chain): trusting only the first would silently
    /// drop the others, so read those with [`Certificate::all_from_pem`].
    pub fn from_pem(text: &[u8]) -> Result<Self, Error> {
        let mut all = Self::all_from_pem(text)?;
        match all.len() {
            1 => Ok(all.remove(0)),
            n => Err(Error::Key(KeyError::SeveralCertificates(n))),
        }
    }

    /// Reads every certificate of a PEM text, in order (an IdP's current and next signing
    /// certificates in one file), or one certificate from base64 of DER without armour.
    /// Blocks with other labels (a private key by mistake) are refused, not skipped.
    ///
    /// ```
    /// # let mut pem = std::fs::read("tests/vectors/rsa2048.crt").unwrap();
    /// pem.extend(std::fs::read("tests/vectors/ec-p256.crt").unwrap());
    /// let certs = rampart_xmldsig::Certificate::all_from_pem(&pem)?;
    /// assert_eq!(certs.len(), 2);
    /// assert!(rampart_xmldsig::Certificate::from_pem(&pem).is_err());
    /// # Ok::<(), rampart_xmldsig::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`KeyError::NotText`], [`KeyError::Pem`] when there is no certificate or a block is
    /// malformed, [`KeyError::UnexpectedPemBlock`], or as [`Certificate::from_der`].
    pub fn all_from_pem(text: &[u8]) -> Result<Vec<Self>, Error> {
        let s = std::str::from_utf8(text).map_err(|_| Error::Key(KeyError::NotText))?;
        if !s.contains("-----BEGIN") {
            return Ok(vec![Self::from_base64(s)?]);
        }
        let mut out = Vec::new();
        for pem in Pem::iter_from_buffer(text) {
            let pem = pem.map_err(|_| Error::Key(KeyError::Pem("CERTIFICATE")))?;
            if pem.label != "CERTIFICATE" {
                return Err(Error::Key(KeyError::UnexpectedPemBlock(pem.label)));
            }
            out.push(Self::from_der(&pem.contents)?);
        }
        if out.is_empty() {
            return Err(Error::Key(KeyError::Pem("CERTIFICATE")));
        }
        Ok(out)
    }

    /// Reads base64 of DER, ignoring ASCII white space (the `ds:X509Certificate` form);
    /// base64 of a PEM text is unwrapped too.
    ///
    /// # Errors
    /// [`KeyError::NotBase64`] when the text is not base64; otherwise as
    /// [`Certificate::from_der`].
    pub fn from_base64(text: &str) -> Result<Self, Error> {
        let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let der = STANDARD
            .decode(compact.as_bytes())
            .map_err(|_| Error::Key(KeyError::NotBase64))?;
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

    /// The DER encoding in base64, as `ds:X509Certificate` holds it.
    #[must_use]
    pub fn to_base64(&self) -> String {
        STANDARD.encode(&self.der)
    }

    /// The SHA-256 fingerprint of the DER.
    #[must_use]
    pub fn fingerprint_sha256(&self) -> Sha256Fingerprint {
        self.fingerprint
    }

    /// The subject distinguished name, e.g. `CN=idp.example.com`, for logs and traces.
    #[must_use]
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The public key, or why this crate cannot verify with it.
    pub(crate) fn public_key(&self) -> Result<&PublicKeyInfo, KeyError> {
        self.key.as_ref().map_err(Clone::clone)
    }
}

/// The RSA, P-256 or P-384 public key of `cert`.
fn public_key(
    cert: &x509_parser::certificate::X509Certificate<'_>,
) -> Result<PublicKeyInfo, KeyError> {
    let spki = cert.public_key();
    let oid = &spki.algorithm.algorithm;
    let kind = if *oid == OID_PKCS1_RSAENCRYPTION {
        let Ok(PublicKey::RSA(rsa)) = spki.parsed() else {
            return Err(KeyError::Certificate);
        };
        KeyKind::Rsa {
            bits: modulus_bits(rsa.modulus),
        }
    } else if *oid == OID_KEY_TYPE_EC_PUBLIC_KEY {
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.as_oid().ok());
        match curve {
            Some(c) if c == OID_EC_P256 => KeyKind::EcP256,
            Some(c) if c == OID_NIST_EC_P384 => KeyKind::EcP384,
            _ => {
                return Err(KeyError::UnsupportedKey(
                    "ec key on a curve other than p-256 or p-384".into(),
                ));
            }
        }
    } else {
        return Err(KeyError::UnsupportedKey(format!(
            "public key algorithm {oid}"
        )));
    };
    Ok(PublicKeyInfo {
        kind,
        bytes: spki.subject_public_key.data.to_vec(),
    })
}

/// Bit length of a big-endian modulus (leading zero bytes, which DER adds, skipped).
fn modulus_bits(modulus: &[u8]) -> usize {
    let m = match modulus.iter().position(|&b| b != 0) {
        Some(i) => &modulus[i..],
        None => return 0,
    };
    m.len() * 8 - m[0].leading_zeros() as usize
}
