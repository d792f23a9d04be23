#![no_main]
//! IdP metadata parsing on arbitrary bytes (unsigned input fetched from a URL an operator
//! configures): parsing and turning each IdP into a trusted IdentityProvider must never
//! panic, whatever the times, durations and certificates say.

use std::time::{Duration, SystemTime};

use libfuzzer_sys::fuzz_target;
use rampart_saml::IdpMetadata;

fuzz_target!(|data: &[u8]| {
    let Ok(all) = IdpMetadata::parse_all(data) else {
        return;
    };
    // 2030-01-01T00:01:00Z, and the extremes of what a caller might pass as `now`.
    for now in [
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_893_456_060),
        SystemTime::UNIX_EPOCH,
        SystemTime::UNIX_EPOCH + Duration::from_secs(1 << 40),
    ] {
        for m in &all {
            if let Ok(idp) = m.to_identity_provider(now) {
                assert_eq!(idp.entity_id(), m.entity_id);
                assert!(!idp.certificates().is_empty());
            }
        }
    }
});
