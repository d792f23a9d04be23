//! Keys: the public keys a caller trusts (from X.509 certificates) and private signing keys.

use ring::rand::SystemRandom;
use ring::signature::{self, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RsaKeyPair};
use x509_parser::pem::Pem;
use zeroize::Zeroize;

use crate::algorithms::SignatureAlgorithm;
use crate::cert::{Certificate, KeyKind, Sha256Fingerprint};
use crate::error::{Error, KeyError, SignError};

/// A public key the caller trusts, taken from an X.509 certificate it configured (IdP
/// metadata, a pinned PEM file). Keys are never taken from the signed document's `KeyInfo`.
///
/// The certificate's validity dates and issuer are not checked: in SAML the certificate is a
/// key container exchanged out of band, and trust comes from configuring it.
///
/// ```
/// # let pem = std::fs::read("tests/vectors/rsa2048.crt").unwrap();
/// use rampart_xmldsig::TrustedKey;
/// let key = TrustedKey::from_pem_certificate(&pem)?;
/// assert!(key.description().starts_with("RSA-2048"));
/// # Ok::<(), rampart_xmldsig::Error>(())
/// ```
#[derive(Clone)]
pub struct TrustedKey {
    pub(crate) kind: KeyKind,
    /// RSAPublicKey DER for RSA, the uncompressed point for EC: what ring verifies with.
    pub(crate) public_key: Vec<u8>,
    certificate: Certificate,
}

impl std::fmt::Debug for TrustedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.description())
    }
}

impl TrustedKey {
    /// Reads the first `CERTIFICATE` block of a PEM file.
    ///
    /// # Errors
    /// [`KeyError::Pem`] without such a block, otherwise as [`TrustedKey::from_der_certificate`].
    pub fn from_pem_certificate(pem: &[u8]) -> Result<Self, Error> {
        for block in Pem::iter_from_buffer(pem) {
            let Ok(block) = block else { break };
            if block.label == "CERTIFICATE" {
                return Self::from_der_certificate(&block.contents);
            }
        }
        Err(Error::Key(KeyError::Pem("CERTIFICATE")))
    }

    /// Reads a DER certificate and keeps its RSA, P-256 or P-384 public key.
    ///
    /// # Errors
    /// [`KeyError::Certificate`] when the DER does not parse, [`KeyError::UnsupportedKey`]
    /// for other key types or curves.
    pub fn from_der_certificate(der: &[u8]) -> Result<Self, Error> {
        Self::from_certificate(Certificate::from_der(der)?)
    }

    /// Trusts the key of an already parsed certificate (nothing is parsed again).
    ///
    /// ```
    /// # let pem = std::fs::read("tests/vectors/ec-p256.crt").unwrap();
    /// use rampart_xmldsig::{Certificate, TrustedKey};
    /// let cert = Certificate::from_pem(&pem)?;
    /// let key = TrustedKey::from_certificate(cert.clone())?;
    /// assert_eq!(key.certificate(), &cert);
    /// assert_eq!(key.bits(), 256);
    /// # Ok::<(), rampart_xmldsig::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`KeyError::UnsupportedKey`] (or [`KeyError::Certificate`] for a malformed RSA key)
    /// when the key is not RSA, P-256 or P-384.
    pub fn from_certificate(certificate: Certificate) -> Result<Self, Error> {
        let key = certificate.public_key().map_err(Error::Key)?;
        Ok(TrustedKey {
            kind: key.kind,
            public_key: key.bytes.clone(),
            certificate,
        })
    }

    /// The certificate the key came from.
    #[must_use]
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// SHA-256 of the certificate's DER, as `openssl x509 -fingerprint -sha256` shows it.
    #[must_use]
    pub fn fingerprint_sha256(&self) -> Sha256Fingerprint {
        self.certificate.fingerprint_sha256()
    }

    /// The certificate's subject, e.g. `CN=idp.example.com`.
    #[must_use]
    pub fn subject(&self) -> &str {
        self.certificate.subject()
    }

    /// Size of the key in bits (the modulus for RSA, the curve for EC).
    pub fn bits(&self) -> usize {
        match self.kind {
            KeyKind::Rsa { bits } => bits,
            KeyKind::EcP256 => 256,
            KeyKind::EcP384 => 384,
        }
    }

    /// One line for operators: key type and size, subject, SHA-256 fingerprint.
    pub fn description(&self) -> String {
        let kind = match self.kind {
            KeyKind::Rsa { bits } => format!("RSA-{bits}"),
            KeyKind::EcP256 => "ECDSA P-256".to_owned(),
            KeyKind::EcP384 => "ECDSA P-384".to_owned(),
        };
        format!(
            "{kind} {} sha256:{}",
            self.subject(),
            self.fingerprint_sha256()
        )
    }

    /// The ring algorithm that checks `alg` with this key, or why there is none.
    pub(crate) fn verifier(
        &self,
        alg: SignatureAlgorithm,
        allow_small_rsa: bool,
    ) -> Result<Option<&'static dyn signature::VerificationAlgorithm>, crate::SignatureError> {
        use SignatureAlgorithm as A;
        Ok(Some(match (self.kind, alg) {
            (KeyKind::Rsa { bits }, _) if alg.is_rsa() && bits < 2048 => {
                if !allow_small_rsa {
                    return Err(crate::SignatureError::KeyTooSmall);
                }
                // ring's legacy parameter sets accept 1024-bit moduli; there is none for
                // SHA-384 or PSS, which no legacy signer uses.
                match alg {
                    A::RsaSha1 => &signature::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY,
                    A::RsaSha256 => &signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
                    A::RsaSha512 => &signature::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY,
                    _ => return Ok(None),
                }
            }
            (KeyKind::Rsa { .. }, A::RsaSha1) => {
                &signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY
            }
            (KeyKind::Rsa { .. }, A::RsaSha256) => &signature::RSA_PKCS1_2048_8192_SHA256,
            (KeyKind::Rsa { .. }, A::RsaSha384) => &signature::RSA_PKCS1_2048_8192_SHA384,
            (KeyKind::Rsa { .. }, A::RsaSha512) => &signature::RSA_PKCS1_2048_8192_SHA512,
            (KeyKind::Rsa { .. }, A::RsaPssSha256) => &signature::RSA_PSS_2048_8192_SHA256,
            (KeyKind::Rsa { .. }, A::RsaPssSha384) => &signature::RSA_PSS_2048_8192_SHA384,
            (KeyKind::Rsa { .. }, A::RsaPssSha512) => &signature::RSA_PSS_2048_8192_SHA512,
            (KeyKind::EcP256, A::EcdsaSha256) => &signature::ECDSA_P256_SHA256_FIXED,
            (KeyKind::EcP384, A::EcdsaSha384) => &signature::ECDSA_P384_SHA384_FIXED,
            // RFC 4051 lets the digest and the curve differ (xmlsec1 signs P-256 with SHA-384
            // when asked), but ring verifies the raw r||s form XML-DSig uses only with each
            // curve's own digest. Say so, rather than "does not verify".
            (KeyKind::EcP256 | KeyKind::EcP384, A::EcdsaSha256 | A::EcdsaSha384) => {
                return Err(crate::SignatureError::UnsupportedAlgorithm(format!(
                    "{alg:?} with an ECDSA P-{} key (only P-256 with SHA-256 and P-384 with \
                     SHA-384)",
                    self.bits()
                )));
            }
            _ => return Ok(None),
        }))
    }
}

enum KeyPairKind {
    Rsa(RsaKeyPair),
    EcdsaP256(EcdsaKeyPair),
}

/// A private key for signing: RSA (2048 bits or more) or ECDSA P-256, from PKCS#8, with
/// the certificate that publishes its public half when the caller attaches one
/// ([`SigningKey::with_certificate`]: metadata and `KeyInfo` need it).
///
/// The key lives inside ring's key-pair types, which expose no private material; `Debug`
/// prints `[REDACTED]` and the PKCS#8 bytes decoded from PEM are zeroized after loading.
///
/// ```
/// # let pem = std::fs::read("tests/vectors/rsa2048.key").unwrap();
/// # let cert_pem = std::fs::read("tests/vectors/rsa2048.crt").unwrap();
/// use rampart_xmldsig::{Certificate, SigningKey};
/// let key = SigningKey::from_pkcs8_pem(&pem)?.with_certificate(Certificate::from_pem(&cert_pem)?)?;
/// assert_eq!(key.signature_algorithm(), rampart_xmldsig::SignatureAlgorithm::RsaSha256);
/// assert!(key.certificate().is_some());
/// # Ok::<(), rampart_xmldsig::Error>(())
/// ```
pub struct SigningKey {
    inner: KeyPairKind,
    certificate: Option<Certificate>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey([REDACTED])")
    }
}

impl SigningKey {
    /// Reads the first `PRIVATE KEY` (PKCS#8) block of a PEM file.
    ///
    /// # Errors
    /// [`KeyError::Pkcs1`] for a PKCS#1 `RSA PRIVATE KEY` block (say how to convert it),
    /// [`KeyError::Pem`] without a `PRIVATE KEY` block; otherwise as
    /// [`SigningKey::from_pkcs8_der`].
    pub fn from_pkcs8_pem(pem: &[u8]) -> Result<Self, Error> {
        for block in Pem::iter_from_buffer(pem) {
            let Ok(mut block) = block else { break };
            if block.label == "PRIVATE KEY" {
                let key = Self::from_pkcs8_der(&block.contents);
                block.contents.zeroize();
                return key;
            }
            block.contents.zeroize();
            if block.label == "RSA PRIVATE KEY" {
                return Err(Error::Key(KeyError::Pkcs1));
            }
        }
        Err(Error::Key(KeyError::Pem("PRIVATE KEY")))
    }

    /// Reads a PKCS#8 DER private key: RSA of 2048 to 8192 bits, or ECDSA P-256.
    ///
    /// # Errors
    /// [`KeyError::PrivateKey`] for anything else.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, Error> {
        if let Ok(rsa) = RsaKeyPair::from_pkcs8(der) {
            return Ok(SigningKey {
                inner: KeyPairKind::Rsa(rsa),
                certificate: None,
            });
        }
        let rng = SystemRandom::new();
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der, &rng)
            .map(|k| SigningKey {
                inner: KeyPairKind::EcdsaP256(k),
                certificate: None,
            })
            .map_err(|_| Error::Key(KeyError::PrivateKey))
    }

    /// Attaches the certificate that publishes this key's public half.
    ///
    /// # Errors
    /// [`KeyError::CertificateMismatch`] when the certificate holds another public key
    /// (publishing it would make every signature fail at the other end).
    pub fn with_certificate(mut self, certificate: Certificate) -> Result<Self, Error> {
        match certificate.public_key() {
            Ok(k) if k.bytes == self.public_key_bytes() => {}
            _ => return Err(Error::Key(KeyError::CertificateMismatch)),
        }
        self.certificate = Some(certificate);
        Ok(self)
    }

    /// The certificate attached with [`SigningKey::with_certificate`], if any.
    #[must_use]
    pub fn certificate(&self) -> Option<&Certificate> {
        self.certificate.as_ref()
    }

    /// The XML-DSig algorithm this key signs with: RSA-SHA256 or ECDSA-SHA256.
    #[must_use]
    pub fn signature_algorithm(&self) -> SignatureAlgorithm {
        match self.inner {
            KeyPairKind::Rsa(_) => SignatureAlgorithm::RsaSha256,
            KeyPairKind::EcdsaP256(_) => SignatureAlgorithm::EcdsaSha256,
        }
    }

    /// The public key, in the form ring verifies with (RSAPublicKey DER, or the EC point).
    #[must_use]
    pub fn public_key_bytes(&self) -> &[u8] {
        match &self.inner {
            KeyPairKind::Rsa(k) => k.public_key().as_ref(),
            KeyPairKind::EcdsaP256(k) => k.public_key().as_ref(),
        }
    }

    /// Signs `message` with [`SigningKey::signature_algorithm`], in the form XML-DSig
    /// carries (PKCS#1 v1.5 for RSA, `r || s` for ECDSA): for signatures outside an XML
    /// document, such as SAML's HTTP-Redirect binding.
    ///
    /// ```
    /// # let pem = std::fs::read("tests/vectors/ec-p256.key").unwrap();
    /// let key = rampart_xmldsig::SigningKey::from_pkcs8_pem(&pem)?;
    /// assert_eq!(key.sign(b"SAMLRequest=...")?.len(), 64);
    /// # Ok::<(), rampart_xmldsig::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`SignError::Crypto`] when ring refuses to sign.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let rng = SystemRandom::new();
        match &self.inner {
            KeyPairKind::Rsa(k) => {
                let mut sig = vec![0u8; k.public().modulus_len()];
                k.sign(&signature::RSA_PKCS1_SHA256, &rng, message, &mut sig)
                    .map_err(|_| Error::Sign(SignError::Crypto))?;
                Ok(sig)
            }
            KeyPairKind::EcdsaP256(k) => k
                .sign(&rng, message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| Error::Sign(SignError::Crypto)),
        }
    }
}
