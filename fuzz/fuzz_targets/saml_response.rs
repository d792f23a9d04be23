#![no_main]
//! Response validation (and IdP metadata parsing) on arbitrary bytes: must never panic, and
//! must never accept anything but a response the test IdP signed.

use libfuzzer_sys::fuzz_target;
use rampart_saml::{Expected, IdpMetadata};

#[path = "common/saml_sp.rs"]
mod saml_sp;
use saml_sp::{IDP_ENTITY, now, sp};

fuzz_target!(|data: &[u8]| {
    let now = now();
    if let Ok(v) = sp().validate_response(
        data,
        Expected::Request("_req0123456789abcdef0123456789abcdef"),
        now,
    ) {
        // Anything accepted must name the configured issuer and carry a non-empty subject.
        let login = v.into_login_without_replay_check();
        assert_eq!(login.issuer, IDP_ENTITY);
        assert!(!login.name_id.value.is_empty());
    }
    let _ = IdpMetadata::parse_all(data);
});
