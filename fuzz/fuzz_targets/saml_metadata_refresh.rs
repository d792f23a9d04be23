#![no_main]
//! The metadata refresh path on arbitrary bytes (what a metadata URL returns): parse, the
//! enveloped signature against a pinned metadata-signing certificate, the pinned entity id,
//! validUntil, then the tenant's configuration replaced in the registry. Must never panic;
//! whatever is accepted must be what the registry then holds, and a refused document must
//! leave the last good configuration in place.

use std::future::Future;
use std::sync::OnceLock;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime};

use libfuzzer_sys::fuzz_target;
use rampart_saml::{
    Certificate, FetchError, IdentityProvider, MetadataFetcher, MetadataRefresher, ServiceProvider,
    TenantRegistry,
};

const ENTITY: &str = "https://idp.example.com/metadata";

struct Bytes(Vec<u8>);

impl MetadataFetcher for Bytes {
    fn fetch(&self) -> impl Future<Output = Result<Vec<u8>, FetchError>> + Send {
        std::future::ready(Ok(self.0.clone()))
    }
}

/// Every future here is ready at once (the fetcher is).
fn ready<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("pending"),
    }
}

fn build_sp(idp: IdentityProvider) -> Result<ServiceProvider, rampart_saml::Error> {
    ServiceProvider::builder(
        "https://sp.example.com/metadata",
        "https://sp.example.com/saml/acs",
    )
    .identity_provider(idp)
    .build()
}

fn signing_cert() -> &'static Certificate {
    static C: OnceLock<Certificate> = OnceLock::new();
    C.get_or_init(|| {
        Certificate::from_pem(include_bytes!(
            "../../crates/rampart-saml/tests/keys/sp.cert.pem"
        ))
        .unwrap()
    })
}

fn last_good() -> &'static ServiceProvider {
    static SP: OnceLock<ServiceProvider> = OnceLock::new();
    SP.get_or_init(|| {
        let idp = IdentityProvider::new(ENTITY, [signing_cert().clone()]).unwrap();
        build_sp(idp).unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    // 2030-01-01T00:01:00Z.
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_893_456_060);
    for signed in [true, false] {
        let registry = TenantRegistry::new();
        let builder = MetadataRefresher::builder("t", ENTITY, Bytes(data.to_vec()), build_sp);
        let refresher = if signed {
            builder.with_metadata_signing_certificate(signing_cert().clone())
        } else {
            builder.accept_unsigned_metadata()
        }
        .build()
        .unwrap();
        match ready(refresher.refresh(&registry, now)) {
            Ok(installed) => {
                assert!(installed);
                let sp = registry.get("t").expect("accepted metadata is installed");
                assert_eq!(sp.identity_provider().entity_id(), ENTITY);
                let status = refresher.status();
                assert_eq!(status.last_success, Some(now));
                assert!(
                    status
                        .next_attempt
                        .is_some_and(|t| t > now || status.valid_until.is_some())
                );
            }
            Err(e) => {
                assert!(!e.kind().is_empty());
                assert!(registry.get("t").is_none());
                if signed {
                    // A refused refresh over a last good configuration keeps it.
                    let registry = TenantRegistry::new();
                    registry.insert(
                        "t",
                        build_sp(last_good().identity_provider().clone()).unwrap(),
                    );
                    let _ = ready(refresher.refresh(&registry, now));
                    assert!(registry.get("t").is_some());
                }
            }
        }
    }
});
