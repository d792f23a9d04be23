//! The SP's own decryption keys: an RSA private key (PKCS#8) with the certificate that
//! publishes its public half, so IdPs can encrypt assertions for us.

use std::sync::Arc;

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rsa::{OaepPrivateDecryptingKey, PrivateDecryptingKey};
use rampart_xmldsig::Certificate;
use x509_parser::pem::Pem;
use zeroize::Zeroize as _;

use crate::error::DecryptionKeyError;

/// An RSA private key (2048 to 8192 bits) that decrypts the content keys IdPs wrap for this
/// service provider (RSA-OAEP), with its certificate (published in SP metadata with
/// `use="encryption"`).
///
/// The key lives inside AWS-LC, whose RSA decryption is constant-time and whose `free`
/// clears the memory; the PEM and DER copies made while loading are zeroized. `Debug`
/// prints `[REDACTED]`; there is no `Display` and no way to read the key back.
///
/// ```
/// # let key_pem = std::fs::read("tests/keys/sp.key.pem")?;
/// # let cert_pem = std::fs::read("tests/keys/sp.cert.pem")?;
/// use rampart_saml::{Certificate, DecryptionKey};
/// let key = DecryptionKey::from_pkcs8_pem(&key_pem, Certificate::from_pem(&cert_pem)?)?;
/// assert_eq!(format!("{key:?}"), "DecryptionKey([REDACTED])");
/// assert_eq!(key.certificate(), &Certificate::from_pem(&cert_pem)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct DecryptionKey {
    key: OaepPrivateDecryptingKey,
    certificate: Certificate,
}

impl std::fmt::Debug for DecryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DecryptionKey([REDACTED])")
    }
}

impl DecryptionKey {
    /// Reads the first `PRIVATE KEY` (PKCS#8) block of a PEM text, and attaches
    /// `certificate`.
    ///
    /// # Errors
    /// [`DecryptionKeyError::Pkcs1`] for a PKCS#1 `RSA PRIVATE KEY` block (convert it with
    /// `openssl pkcs8 -topk8 -nocrypt`), [`DecryptionKeyError::Pem`] without a `PRIVATE KEY`
    /// block; otherwise as [`DecryptionKey::from_pkcs8_der`].
    pub fn from_pkcs8_pem(
        pem: &[u8],
        certificate: Certificate,
    ) -> Result<Self, DecryptionKeyError> {
        for block in Pem::iter_from_buffer(pem) {
            let Ok(mut block) = block else { break };
            if block.label == "PRIVATE KEY" {
                let key = Self::from_pkcs8_der(&block.contents, certificate);
                block.contents.zeroize();
                return key;
            }
            block.contents.zeroize();
            if block.label == "RSA PRIVATE KEY" {
                return Err(DecryptionKeyError::Pkcs1);
            }
        }
        Err(DecryptionKeyError::Pem)
    }

    /// Reads a PKCS#8 DER RSA private key of 2048 to 8192 bits, and attaches `certificate`.
    ///
    /// ```
    /// # let cert = rampart_saml::Certificate::from_pem(&std::fs::read("tests/keys/sp.cert.pem")?)?;
    /// let e = rampart_saml::DecryptionKey::from_pkcs8_der(b"not a key", cert).unwrap_err();
    /// assert!(matches!(e, rampart_saml::DecryptionKeyError::Rejected));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`DecryptionKeyError::Rejected`] for anything but such a key (an ECDSA key cannot
    /// receive key transport; AWS-LC refuses RSA keys under 2048 bits),
    /// [`DecryptionKeyError::CertificateMismatch`] when the certificate holds another key.
    pub fn from_pkcs8_der(
        der: &[u8],
        certificate: Certificate,
    ) -> Result<Self, DecryptionKeyError> {
        let private =
            PrivateDecryptingKey::from_pkcs8(der).map_err(|_| DecryptionKeyError::Rejected)?;
        let public = private
            .public_key()
            .as_der()
            .map_err(|_| DecryptionKeyError::Rejected)?;
        let (_, cert) = x509_parser::parse_x509_certificate(certificate.der())
            .map_err(|_| DecryptionKeyError::CertificateMismatch)?;
        if cert.tbs_certificate.subject_pki.raw != public.as_ref() {
            return Err(DecryptionKeyError::CertificateMismatch);
        }
        let key =
            OaepPrivateDecryptingKey::new(private).map_err(|_| DecryptionKeyError::Rejected)?;
        Ok(DecryptionKey { key, certificate })
    }

    /// The certificate published for this key.
    #[must_use]
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    pub(crate) fn oaep(&self) -> &OaepPrivateDecryptingKey {
        &self.key
    }
}

/// The service provider's decryption keys, in the order given (current, then next during a
/// rollover): a content key is unwrapped by whichever one it was encrypted for.
///
/// ```
/// # let key_pem = std::fs::read("tests/keys/sp.key.pem")?;
/// # let cert = rampart_saml::Certificate::from_pem(&std::fs::read("tests/keys/sp.cert.pem")?)?;
/// # let idp = rampart_saml::IdentityProvider::new("https://idp.example.com/metadata", [cert.clone()])?;
/// use rampart_saml::{DecryptionKey, EncryptedAssertions, ServiceProvider};
/// let sp = ServiceProvider::builder("https://sp.example.com/metadata", "https://sp.example.com/saml/acs")
///     .identity_provider(idp)
///     .with_decryption_key(DecryptionKey::from_pkcs8_pem(&key_pem, cert)?)
///     .build()?;
/// let EncryptedAssertions::Decrypt(keys) = sp.encrypted_assertions() else { unreachable!() };
/// assert_eq!(keys.certificates().count(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct DecryptionKeys {
    keys: Arc<[DecryptionKey]>,
}

impl DecryptionKeys {
    pub(crate) fn new(keys: Vec<DecryptionKey>) -> Self {
        DecryptionKeys { keys: keys.into() }
    }

    /// The certificates of the keys, in order.
    pub fn certificates(&self) -> impl Iterator<Item = &Certificate> {
        self.keys.iter().map(DecryptionKey::certificate)
    }

    pub(crate) fn keys(&self) -> &[DecryptionKey] {
        &self.keys
    }
}

impl std::fmt::Debug for DecryptionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.certificates().map(Certificate::subject))
            .finish()
    }
}

/// Keys are equal when their certificates are (the private halves are never compared).
impl PartialEq for DecryptionKeys {
    fn eq(&self, other: &Self) -> bool {
        self.certificates().eq(other.certificates())
    }
}
impl Eq for DecryptionKeys {}
