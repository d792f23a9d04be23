//! Keys: the public keys a caller trusts (from X.509 certificates) and private signing keys.

use ring::rand::SystemRandom;
use ring::signature::{self, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RsaKeyPair};
use x509_parser::oid_registry::{
    OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_NIST_EC_P384, OID_PKCS1_RSAENCRYPTION,
};
use x509_parser::pem::Pem;
use x509_parser::public_key::PublicKey;
use zeroize::Zeroize;

use crate::algorithms::SignatureAlgorithm;
use crate::error::{Error, KeyError, SignError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    Rsa { bits: usize },
    EcP256,
    EcP384,
}

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
    fingerprint: [u8; 32],
    subject: String,
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
        let (_, cert) = x509_parser::parse_x509_certificate(der)
            .map_err(|_| Error::Key(KeyError::Certificate))?;
        let spki = cert.public_key();
        let oid = &spki.algorithm.algorithm;
        let kind = if *oid == OID_PKCS1_RSAENCRYPTION {
            let Ok(PublicKey::RSA(rsa)) = spki.parsed() else {
                return Err(Error::Key(KeyError::Certificate));
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
                    return Err(Error::Key(KeyError::UnsupportedKey(
                        "ec key on a curve other than p-256 or p-384".into(),
                    )));
                }
            }
        } else {
            return Err(Error::Key(KeyError::UnsupportedKey(format!(
                "public key algorithm {oid}"
            ))));
        };
        let fingerprint = ring::digest::digest(&ring::digest::SHA256, der);
        let mut fp = [0u8; 32];
        fp.copy_from_slice(fingerprint.as_ref());
        Ok(TrustedKey {
            kind,
            public_key: spki.subject_public_key.data.to_vec(),
            fingerprint: fp,
            subject: cert.subject().to_string(),
        })
    }

    /// SHA-256 of the certificate's DER, as `openssl x509 -fingerprint -sha256` shows it.
    pub fn fingerprint_sha256(&self) -> [u8; 32] {
        self.fingerprint
    }

    /// The certificate's subject, e.g. `CN=idp.example.com`.
    pub fn subject(&self) -> &str {
        &self.subject
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
        let fp: Vec<String> = self
            .fingerprint
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        format!("{kind} {} sha256:{}", self.subject, fp.join(":"))
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

/// Bit length of a big-endian modulus (leading zero bytes, which DER adds, skipped).
fn modulus_bits(modulus: &[u8]) -> usize {
    let m = match modulus.iter().position(|&b| b != 0) {
        Some(i) => &modulus[i..],
        None => return 0,
    };
    m.len() * 8 - m[0].leading_zeros() as usize
}

enum KeyPairKind {
    Rsa(RsaKeyPair),
    EcdsaP256(EcdsaKeyPair),
}

/// A private key for signing: RSA (2048 bits or more) or ECDSA P-256, from PKCS#8.
///
/// The key lives inside ring's key-pair types, which expose no private material; `Debug`
/// prints `[REDACTED]` and the PKCS#8 bytes decoded from PEM are zeroized after loading.
///
/// ```
/// # let pem = std::fs::read("tests/vectors/rsa2048.key").unwrap();
/// use rampart_xmldsig::SigningKey;
/// let key = SigningKey::from_pkcs8_pem(&pem)?;
/// assert_eq!(key.signature_algorithm(), rampart_xmldsig::SignatureAlgorithm::RsaSha256);
/// # Ok::<(), rampart_xmldsig::Error>(())
/// ```
pub struct SigningKey {
    inner: KeyPairKind,
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
    /// [`KeyError::Pem`] without such a block; otherwise as [`SigningKey::from_pkcs8_der`].
    pub fn from_pkcs8_pem(pem: &[u8]) -> Result<Self, Error> {
        for block in Pem::iter_from_buffer(pem) {
            let Ok(mut block) = block else { break };
            if block.label == "PRIVATE KEY" {
                let key = Self::from_pkcs8_der(&block.contents);
                block.contents.zeroize();
                return key;
            }
            block.contents.zeroize();
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
            });
        }
        let rng = SystemRandom::new();
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der, &rng)
            .map(|k| SigningKey {
                inner: KeyPairKind::EcdsaP256(k),
            })
            .map_err(|_| Error::Key(KeyError::PrivateKey))
    }

    /// The XML-DSig algorithm this key signs with: RSA-SHA256 or ECDSA-SHA256.
    pub fn signature_algorithm(&self) -> SignatureAlgorithm {
        match self.inner {
            KeyPairKind::Rsa(_) => SignatureAlgorithm::RsaSha256,
            KeyPairKind::EcdsaP256(_) => SignatureAlgorithm::EcdsaSha256,
        }
    }

    /// The public key, in the form ring verifies with (RSAPublicKey DER, or the EC point).
    pub fn public_key_bytes(&self) -> &[u8] {
        match &self.inner {
            KeyPairKind::Rsa(k) => k.public_key().as_ref(),
            KeyPairKind::EcdsaP256(k) => k.public_key().as_ref(),
        }
    }

    pub(crate) fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, Error> {
        let rng = SystemRandom::new();
        match &self.inner {
            KeyPairKind::Rsa(k) => {
                let mut sig = vec![0u8; k.public().modulus_len()];
                k.sign(&signature::RSA_PKCS1_SHA256, &rng, msg, &mut sig)
                    .map_err(|_| Error::Sign(SignError::Crypto))?;
                Ok(sig)
            }
            KeyPairKind::EcdsaP256(k) => k
                .sign(&rng, msg)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| Error::Sign(SignError::Crypto)),
        }
    }
}
