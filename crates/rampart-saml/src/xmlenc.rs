//! XML Encryption (1.0 and 1.1) as SAML uses it: an `EncryptedAssertion`, `EncryptedID` or
//! `EncryptedAttribute` holds one `xenc:EncryptedData` (the element, AES-CBC or AES-GCM)
//! whose content key is wrapped for the SP's RSA key in an `xenc:EncryptedKey` (RSA-OAEP),
//! inside the data's KeyInfo or beside it (SAML core 2.0, 2.2.4 and 6.2).
//!
//! [`structure`] reads the elements (no cryptography), [`cipher`] decrypts with aws-lc-rs, and
//! [`decrypt_element`] parses the plaintext with the same hardened parser and limits as the
//! response, in the namespace context it was encrypted in.

use rampart_xmldsig::{Document, Limits};

use crate::decryption_key::DecryptionKey;
use crate::error::{DecryptionError, Error};
use crate::view::View;

pub(crate) mod cipher;
pub(crate) mod structure;

/// Decrypts the `xenc:EncryptedData` of `container` (an `EncryptedAssertion`, `EncryptedID` or
/// `EncryptedAttribute`) and parses the plaintext, which must be exactly one element named
/// `(ns, local)`. The returned document's root is a copy of the container's start tag (with
/// every namespace in scope there declared), holding that one element.
///
/// Every failure after the structure was read (key unwrapping, the data, a plaintext that
/// does not parse or is not the expected element) is [`DecryptionError::Failed`].
pub(crate) fn decrypt_element<'v, V: View<'v>>(
    container: V,
    keys: &[DecryptionKey],
    limits: &Limits,
    expected: (&str, &str),
) -> Result<Document, Error> {
    let encrypted = structure::read(container)?;
    let plaintext = cipher::decrypt(&encrypted, keys)?;
    // The encrypted element may use prefixes its ancestors declared (XML Encryption 1.1, 4.4:
    // it was serialized in that context).
    let doc = Document::parse_in_context(
        &container.qualified_name(),
        &container.namespaces_in_scope(),
        &plaintext,
        limits,
    )
    .map_err(|_| DecryptionError::Failed)?;
    if !holds_one(&doc, expected) {
        return Err(DecryptionError::Failed.into());
    }
    Ok(doc)
}

/// Whether the wrapper holds exactly one element, named `expected`, and no other content.
fn holds_one(doc: &Document, expected: (&str, &str)) -> bool {
    let root = doc.root();
    let mut children = root.children();
    let only = children.next().filter(|e| e.is(expected.0, expected.1));
    only.is_some() && children.next().is_none() && !has_text(root)
}

/// Whether the wrapper holds text besides XML white space around the element.
fn has_text(root: rampart_xmldsig::Element<'_>) -> bool {
    !rampart_xmldsig::trim_xml_white_space(&root.text()).is_empty()
}

#[cfg(test)]
mod tests {
    use rampart_xmldsig::{Document, Limits};

    use crate::ns;

    /// Regression (fuzz target saml_encrypted_data, first run): with no key that unwraps the
    /// content key, a random one is used, and AES-CBC under it passes XML Encryption's padding
    /// check about one time in sixteen. The uniform failure must then come from the
    /// plaintext parse, every time.
    #[test]
    fn random_content_key_always_fails_even_when_the_cbc_padding_passes() {
        let xml =
            std::fs::read("tests/fixtures/encrypted/okta_encrypted_signed_assertion.xml").unwrap();
        let doc = Document::parse(&xml).unwrap();
        let encrypted = doc
            .root()
            .children_named(ns::ASSERTION, "EncryptedAssertion")
            .next()
            .unwrap();
        let data = super::structure::read(encrypted).unwrap();
        let mut padding_passed = 0;
        for _ in 0..400 {
            if super::cipher::decrypt(&data, &[]).is_ok() {
                padding_passed += 1;
            }
            let e = super::decrypt_element(
                encrypted,
                &[],
                &Limits::default(),
                (ns::ASSERTION, "Assertion"),
            )
            .unwrap_err();
            assert_eq!(e.kind(), "decryption_failed");
        }
        // 400 tries at 16/256: zero would be a broken padding check (p < 1e-11).
        assert!(padding_passed > 0);
    }
}
