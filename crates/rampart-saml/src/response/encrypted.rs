//! A response whose assertion is encrypted (SAML core 2.0, 2.3.4): the Response signature is
//! checked on the ciphertext before anything is decrypted, the plaintext is parsed with the
//! response's limits, and the decrypted assertion then takes exactly the path of a plain one.

use rampart_xmldsig::Element;

use super::Validation;
use super::header::read_header;
use super::structure::{check_unique_ids_in, unreachable_signatures};
use crate::config::EncryptedAssertions;
use crate::error::{DecryptionError, Error};
use crate::login::{Login, SignedParts};
use crate::ns;
use crate::view::View;
use crate::xmlenc;

impl<'d> Validation<'_, 'd> {
    pub(super) fn run_encrypted(
        &mut self,
        root: Element<'d>,
        encrypted: Element<'d>,
    ) -> Result<Login, Error> {
        let EncryptedAssertions::Decrypt(keys) = &self.sp.encrypted_assertions else {
            return Err(Error::EncryptedNotSupported("EncryptedAssertion"));
        };
        // Under a valid Response signature the ciphertext is the IdP's: verified first, so a
        // signed response that was tampered with never reaches the decryption.
        let response_sig = self.single_signature(root, "response")?;
        let response_checked = match response_sig {
            Some(sig) => Some(self.verify("signature.response", sig, root)?),
            None => None,
        };
        let r = xmlenc::decrypt_element(
            encrypted,
            keys.keys(),
            &self.decryption_limits(),
            (ns::ASSERTION, "Assertion"),
        );
        let plain = self.trace.record(
            "decryption",
            |_| {
                "EncryptedAssertion decrypted and parsed (no doctype, no entities, within limits)"
                    .into()
            },
            r,
        )?;
        let assertion = plain
            .root()
            .children()
            .next()
            .ok_or(DecryptionError::Failed)?;
        let r = check_unique_ids_in(&[root, plain.root()]);
        self.trace.record(
            "ids.decrypted",
            |n: &usize| {
                format!(
                    "{n} ID attributes in the response and its decrypted assertion, all distinct"
                )
            },
            r,
        )?;

        // Encryption is not authentication: anyone can encrypt for our public key.
        let assertion_sig = self.single_signature(assertion, "assertion")?;
        self.require_signatures(response_sig.is_some(), assertion_sig.is_some())?;
        let assertion_checked = match assertion_sig {
            Some(sig) => Some(self.verify("signature.assertion", sig, assertion)?),
            None => None,
        };
        match (&response_checked, &assertion_checked) {
            (Some(r), Some(a)) => self.finish(
                read_header(r.signed)?,
                true,
                a.signed,
                a.certificate,
                SignedParts::ResponseAndAssertion,
            ),
            (Some(r), None) => {
                // The plaintext is read as decrypted: its ciphertext and wrapped key are
                // inside the signed Response, which is what vouches for them.
                if !r.signed.child_elements().any(|c| c.is_element(encrypted)) {
                    return Err(Error::malformed(
                        "encrypted assertion is not inside the signed response",
                    ));
                }
                self.finish(
                    read_header(r.signed)?,
                    true,
                    assertion,
                    r.certificate,
                    SignedParts::Response,
                )
            }
            (None, Some(a)) => self.finish(
                read_header(root)?,
                false,
                a.signed,
                a.certificate,
                SignedParts::Assertion,
            ),
            (None, None) => unreachable_signatures(),
        }
    }
}
