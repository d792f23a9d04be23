//! rampart-saml benchmarks (BENCHMARKS.md, "rampart-saml").
//!
//! `saml_validate`: full validation of a typical signed response (8.5 KiB, RSA-2048,
//! RSA-SHA256, 45 attribute values; the xmlsec1-signed fixture `assertion_signed.xml`):
//! base64 decode, parse, structure checks, signature verification, every policy check and the
//! login value, side by side with its floor, ring's RSA-2048 verification alone over the same
//! canonical SignedInfo. Target ratio <= 2.5. Responses per second = 1 / time.
//! Three more floors in the same group, work that no design over the chosen crates can skip:
//! base64 decoding of the form value, quick-xml tokenizing the response with nothing built,
//! and ring's SHA-256 of the canonical assertion (the digest the signature covers).
//! Then the full validation's ratio to RSA and the floors' sum's ratio to RSA again, from 41
//! interleaved rounds (`saml_validate/paired/...`; `--bench paired` runs only these).
//!
//! `tenants`: the same validation through a `TenantRegistry` of 10 000 tenants (a hash
//! lookup, then the tenant's configuration; the tenant changes every call, so the lookups
//! and configurations are not all cache-hot) side by side with one `ServiceProvider` and no
//! registry, and with a registry of one tenant. Target ratio <= 1.05; `tenants/paired/...`
//! gives the ratios from interleaved rounds, with the same work against itself as the noise
//! floor of the run.
//!
//! `cargo bench -p rampart --no-default-features --features saml --bench saml`

// criterion_group! generates an undocumented `pub fn benches`.
#![allow(missing_docs)]

mod common;
#[path = "common/paired.rs"]
mod paired;

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rampart::saml::{Certificate, Expected, IdentityProvider, ServiceProvider};
use rampart::xmldsig::{C14nAlgorithm, Canonicalizer, DSIG_NS, Document};
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};

const RESPONSE: &str = include_str!("../crates/rampart-saml/tests/fixtures/assertion_signed.xml");
const IDP_CERT: &[u8] = include_bytes!("../crates/rampart-saml/tests/keys/idp.cert.pem");
const IDP_KEY: &str = include_str!("../crates/rampart-saml/tests/keys/idp.key.pem");

fn validate_bench(c: &mut Criterion) {
    let cert = Certificate::from_pem(IDP_CERT).expect("test cert");
    let sp = ServiceProvider::builder(
        "https://sp.example.com/metadata",
        "https://sp.example.com/saml/acs",
    )
    .identity_provider(
        IdentityProvider::new("https://idp.example.com/metadata", [cert]).expect("idp"),
    )
    .build()
    .expect("sp");
    let form_value = base64::engine::general_purpose::STANDARD.encode(RESPONSE);
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_893_456_060); // 2030-01-01T00:01:00Z
    let expected = Expected::Request("_req0123456789abcdef0123456789abcdef");
    // Sanity: the measured call succeeds.
    let _ = sp
        .validate_response(form_value.as_bytes(), expected, now)
        .expect("fixture validates");

    // Floor: the RSA verification of the canonical SignedInfo, prepared outside the loop.
    let doc = Document::parse(RESPONSE.as_bytes()).expect("parse");
    let sig = doc
        .root()
        .descendants()
        .find(|e| e.is(DSIG_NS, "Signature"))
        .expect("signature");
    let signed_info = sig
        .children_named(DSIG_NS, "SignedInfo")
        .next()
        .expect("signed info");
    let canonical = Canonicalizer::new(C14nAlgorithm::Exclusive)
        .element(signed_info)
        .expect("c14n");
    let value: String = sig
        .children_named(DSIG_NS, "SignatureValue")
        .next()
        .expect("value")
        .text()
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let signature = base64::engine::general_purpose::STANDARD
        .decode(value)
        .expect("base64");
    let assertion = sig.parent().expect("the signed assertion");
    let signed_bytes = Canonicalizer::new(C14nAlgorithm::Exclusive)
        .element_excluding(assertion, sig)
        .expect("c14n");
    let key = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, idp_public_key());
    key.verify(&canonical, &signature).expect("floor verifies");

    let mut g = c.benchmark_group("saml_validate");
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50);
    g.throughput(Throughput::Elements(1));
    g.bench_function("rampart_saml_full_validation_8k", |b| {
        b.iter(|| {
            let v = sp
                .validate_response(black_box(form_value.as_bytes()), expected, now)
                .expect("valid");
            black_box(v.into_login_without_replay_check())
        });
    });
    g.bench_function("ring_rsa2048_verify_only", |b| {
        b.iter(|| {
            key.verify(black_box(&canonical), black_box(&signature))
                .expect("valid");
        });
    });
    g.bench_function("base64_decode_form_value_alone", |b| {
        b.iter(|| {
            base64::engine::general_purpose::STANDARD
                .decode(black_box(form_value.as_bytes()))
                .expect("base64")
        });
    });
    g.bench_function("quick_xml_tokenize_alone", |b| {
        b.iter(|| common::tokenize(black_box(RESPONSE)));
    });
    g.bench_function("ring_sha256_of_signed_bytes", |b| {
        b.iter(|| ring::digest::digest(&ring::digest::SHA256, black_box(&signed_bytes)));
    });
    g.finish();

    // The headline ratio and the floors' again, from interleaved rounds of 100 calls a side:
    // criterion's entries run seconds apart, and this machine's steal time moves between them.
    const BATCH: usize = 100;
    let validate = || {
        let v = sp
            .validate_response(black_box(form_value.as_bytes()), expected, now)
            .expect("valid");
        black_box(v.into_login_without_replay_check());
    };
    let rsa = || {
        key.verify(black_box(&canonical), black_box(&signature))
            .expect("valid");
    };
    let floors = || {
        rsa();
        black_box(
            base64::engine::general_purpose::STANDARD
                .decode(black_box(form_value.as_bytes()))
                .expect("base64"),
        );
        black_box(common::tokenize(black_box(RESPONSE)));
        black_box(ring::digest::digest(
            &ring::digest::SHA256,
            black_box(&signed_bytes),
        ));
    };
    let batch = |f: &dyn Fn()| (0..BATCH).for_each(|_| f());
    let mut full = |side: usize| batch(if side == 0 { &validate } else { &rsa });
    let mut floor_sum = |side: usize| batch(if side == 0 { &floors } else { &rsa });
    paired::paired_ratios(
        "saml_validate",
        "time of the named work / ring's RSA-2048 verification alone",
        41,
        &mut [
            ("rampart_saml_full_validation_8k", &mut full),
            ("floors_rsa_base64_tokenize_sha256", &mut floor_sum),
        ],
    );
}

/// The IdP's RSAPublicKey DER (what ring verifies with), from the test IdP's private key.
fn idp_public_key() -> Vec<u8> {
    let body: String = IDP_KEY
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let pkcs8 = base64::engine::general_purpose::STANDARD
        .decode(body)
        .expect("pem body");
    let pair = ring::signature::RsaKeyPair::from_pkcs8(&pkcs8).expect("rsa key");
    ring::signature::KeyPair::public_key(&pair)
        .as_ref()
        .to_vec()
}

fn tenants_bench(c: &mut Criterion) {
    use rampart::saml::TenantRegistry;
    const TENANTS: usize = 10_000;
    let cert = Certificate::from_pem(IDP_CERT).expect("test cert");
    let sp = || {
        ServiceProvider::builder(
            "https://sp.example.com/metadata",
            "https://sp.example.com/saml/acs",
        )
        .identity_provider(
            IdentityProvider::new("https://idp.example.com/metadata", [cert.clone()]).expect("idp"),
        )
        .build()
        .expect("sp")
    };
    let one = sp();
    let registry = TenantRegistry::new();
    let ids: Vec<String> = (0..TENANTS).map(|i| format!("tenant-{i:05}")).collect();
    for id in &ids {
        registry.insert(id.clone(), sp());
    }
    let form_value = base64::engine::general_purpose::STANDARD.encode(RESPONSE);
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_893_456_060); // 2030-01-01T00:01:00Z
    let expected = Expected::Request("_req0123456789abcdef0123456789abcdef");
    let next = std::cell::Cell::new(0usize);
    let via_registry = || {
        let i = next.get();
        next.set((i + 7919) % TENANTS); // a prime stride: every tenant in turn, out of order
        let v = registry
            .validate_response(&ids[i], black_box(form_value.as_bytes()), expected, now)
            .expect("valid");
        black_box(v.response.into_login_without_replay_check());
    };
    let single = TenantRegistry::new();
    single.insert("tenant-00000", sp());
    let via_single = || {
        let v = single
            .validate_response(
                "tenant-00000",
                black_box(form_value.as_bytes()),
                expected,
                now,
            )
            .expect("valid");
        black_box(v.response.into_login_without_replay_check());
    };
    let direct = || {
        let v = one
            .validate_response(black_box(form_value.as_bytes()), expected, now)
            .expect("valid");
        black_box(v.into_login_without_replay_check());
    };

    let mut g = c.benchmark_group("tenants");
    g.sample_size(50);
    g.throughput(Throughput::Elements(1));
    g.bench_function("registry_10000_tenants_lookup_and_validation", |b| {
        b.iter(via_registry);
    });
    g.bench_function("registry_1_tenant_lookup_and_validation", |b| {
        b.iter(via_single);
    });
    g.bench_function("one_service_provider_validation", |b| b.iter(direct));
    g.finish();

    const BATCH: usize = 100;
    let batch = |f: &dyn Fn()| (0..BATCH).for_each(|_| f());
    let mut vs_sp = |side: usize| batch(if side == 0 { &via_registry } else { &direct });
    let mut vs_one = |side: usize| {
        batch(if side == 0 {
            &via_registry
        } else {
            &via_single
        });
    };
    let mut same = |_side: usize| batch(&direct);
    paired::paired_ratios(
        "tenants",
        "time of the named work / the other side",
        61,
        &mut [
            ("registry_10000_tenants_vs_one_service_provider", &mut vs_sp),
            ("registry_10000_tenants_vs_registry_1_tenant", &mut vs_one),
            // The noise floor: the same work on both sides.
            ("one_service_provider_vs_itself", &mut same),
        ],
    );
}

criterion_group!(benches, validate_bench, tenants_bench);
criterion_main!(benches);
