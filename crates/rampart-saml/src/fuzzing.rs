//! Hooks for the fuzz targets in `fuzz/`, built only with `--cfg fuzzing` (which cargo-fuzz
//! passes) and the feature `encrypted-assertions`: never part of the API.

use rampart_xmldsig::{Document, Limits};

/// Parses `xml`, reads its root as a SAML `EncryptedElementType` (EncryptedData and
/// EncryptedKeys) and, when that succeeds, decrypts with no key (a random content key, as
/// after a failed RSA-OAEP) and parses the "plaintext" in the root's namespace context.
/// Returns whether the structure was read; must never panic.
pub fn read_encrypted_element(xml: &[u8]) -> bool {
    let Ok(doc) = Document::parse_with_limits(xml, &Limits::default()) else {
        return false;
    };
    let root = doc.root();
    let Ok(data) = crate::xmlenc::structure::read(root) else {
        return false;
    };
    // No key: the content key is random. The CBC padding may still pass (about one time in
    // sixteen: the first fuzz run's "crash" was this harness asserting otherwise), so only the
    // whole decryption, plaintext parse included, must fail.
    let _ = crate::xmlenc::cipher::decrypt(&data, &[]);
    assert!(crate::xmlenc::decrypt_element(root, &[], &Limits::default(), ("urn:x", "x")).is_err());
    true
}
