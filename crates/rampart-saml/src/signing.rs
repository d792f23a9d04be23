//! The service provider's own signing key (for AuthnRequests) and its certificate.

use std::fmt;

use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use zeroize::Zeroizing;

use crate::cert::Certificate;
use crate::error::Error;

/// The SP's RSA private key (PKCS#8) with its certificate. Signs AuthnRequests with
/// RSA-SHA256. The key bytes are zeroized on drop, `Debug` prints `[REDACTED]`, and there is
/// no `Display`.
pub struct SigningKey {
    pkcs8: Zeroizing<Vec<u8>>,
    pair: RsaKeyPair,
    certificate: Certificate,
}

impl SigningKey {
    /// Loads a PKCS#8 `PRIVATE KEY` PEM and its `CERTIFICATE` PEM.
    ///
    /// # Errors
    /// [`Error::Config`] when the key is not an RSA PKCS#8 key of at least 2048 bits, or the
    /// certificate does not parse, or does not hold the key's public half.
    pub fn from_pem(key_pem: &[u8], certificate_pem: &[u8]) -> Result<Self, Error> {
        let mut der = None;
        for pem in x509_parser::pem::Pem::iter_from_buffer(key_pem) {
            let pem = pem.map_err(|_| Error::Config("bad pem private key".into()))?;
            if pem.label == "PRIVATE KEY" {
                der = Some(Zeroizing::new(pem.contents));
                break;
            }
            if pem.label == "RSA PRIVATE KEY" {
                return Err(Error::Config(
                    "pkcs#1 key: convert with `openssl pkcs8 -topk8 -nocrypt`".into(),
                ));
            }
        }
        let der = der.ok_or_else(|| Error::Config("no PRIVATE KEY block in pem".into()))?;
        Self::from_pkcs8_der(&der, Certificate::from_pem(certificate_pem)?)
    }

    /// Loads a PKCS#8 DER RSA key and its certificate.
    ///
    /// # Errors
    /// As [`SigningKey::from_pem`].
    pub fn from_pkcs8_der(pkcs8: &[u8], certificate: Certificate) -> Result<Self, Error> {
        let pair = RsaKeyPair::from_pkcs8(pkcs8)
            .map_err(|e| Error::Config(format!("rsa pkcs#8 key refused: {e}")))?;
        if pair.public().modulus_len() < 256 {
            return Err(Error::Config("rsa key under 2048 bits".into()));
        }
        let (_, cert) = x509_parser::parse_x509_certificate(certificate.der())
            .map_err(|_| Error::Config("bad certificate".into()))?;
        let cert_spki = cert.public_key().subject_public_key.data.as_ref();
        if cert_spki != pair.public().as_ref() {
            return Err(Error::Config(
                "certificate does not match the private key".into(),
            ));
        }
        Ok(SigningKey {
            pkcs8: Zeroizing::new(pkcs8.to_vec()),
            pair,
            certificate,
        })
    }

    /// The certificate published in SP metadata.
    #[must_use]
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// RSASSA-PKCS1-v1_5 SHA-256 signature of `message`.
    pub(crate) fn sign_rsa_sha256(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let mut sig = vec![0u8; self.pair.public().modulus_len()];
        self.pair
            .sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), message, &mut sig)
            .map_err(|_| Error::Config("rsa signing failed".into()))?;
        Ok(sig)
    }

    /// The PKCS#8 bytes, for handing to rampart-xmldsig's signer. Named so that every use is
    /// visible in review.
    pub(crate) fn expose_secret_pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("key", &"[REDACTED]")
            .field("certificate", &self.certificate)
            .finish()
    }
}
