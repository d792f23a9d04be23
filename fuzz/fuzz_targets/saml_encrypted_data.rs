#![no_main]
//! XML Encryption structure (EncryptedData, EncryptedKey, RetrievalMethod, KeyName,
//! CipherValue) and the AES-CBC/GCM paths on arbitrary bytes: an encrypted assertion is
//! read before anything vouches for it, so no input may panic or allocate without bound.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = rampart_saml::fuzzing::read_encrypted_element(data);
});
