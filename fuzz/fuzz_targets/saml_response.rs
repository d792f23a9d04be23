#![no_main]
//! Response validation (and IdP metadata parsing) on arbitrary bytes: must never panic, and
//! must never accept anything but a response the test IdP signed.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use libfuzzer_sys::fuzz_target;
use rampart_saml::{Certificate, Expected, IdentityProvider, IdpMetadata, ServiceProvider};

const IDP_CERT: &[u8] = include_bytes!("../../crates/rampart-saml/tests/keys/idp.cert.pem");

fn sp() -> &'static ServiceProvider {
    static SP: OnceLock<ServiceProvider> = OnceLock::new();
    SP.get_or_init(|| {
        let cert = Certificate::from_pem(IDP_CERT).expect("test cert");
        ServiceProvider::builder(
            "https://sp.example.com/metadata",
            "https://sp.example.com/saml/acs",
        )
        .identity_provider(
            IdentityProvider::new("https://idp.example.com/metadata", [cert]).expect("idp"),
        )
        .allow_sha1_signatures()
        .build()
        .expect("sp")
    })
}

fuzz_target!(|data: &[u8]| {
    // 2030-01-01T00:01:00Z, inside the seeds' window.
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_893_456_060);
    if let Ok(v) = sp().validate_response(
        data,
        Expected::Request("_req0123456789abcdef0123456789abcdef"),
        now,
    ) {
        // Anything accepted must name the configured issuer and carry a non-empty subject.
        let login = v.into_login_without_replay_check();
        assert_eq!(login.issuer, "https://idp.example.com/metadata");
        assert!(!login.name_id.value.is_empty());
    }
    let _ = IdpMetadata::parse_all(data);
});
