//! The service provider the SAML fuzz targets check against: the test IdP of rampart-saml
//! (its certificate from `crates/rampart-saml/tests/keys/`), SHA-1 allowed so the legacy
//! paths are reached too. Included with `#[path]` by each target that needs it.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use rampart_saml::{Certificate, IdentityProvider, ServiceProvider};

const IDP_CERT: &[u8] = include_bytes!("../../../crates/rampart-saml/tests/keys/idp.cert.pem");

/// The IdP entity every accepted message must name as its issuer.
pub const IDP_ENTITY: &str = "https://idp.example.com/metadata";

pub fn sp() -> &'static ServiceProvider {
    static SP: OnceLock<ServiceProvider> = OnceLock::new();
    SP.get_or_init(|| {
        let cert = Certificate::from_pem(IDP_CERT).expect("test cert");
        ServiceProvider::builder(
            "https://sp.example.com/metadata",
            "https://sp.example.com/saml/acs",
        )
        .identity_provider(IdentityProvider::new(IDP_ENTITY, [cert]).expect("idp"))
        .allow_sha1_signatures()
        .build()
        .expect("sp")
    })
}

/// 2030-01-01T00:01:00Z, inside the seeds' window.
pub fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_893_456_060)
}
