//! SP metadata from [`SpMetadata`]: no IdP and no private key needed.

mod common;

use common::*;
use rampart_saml::{Certificate, Error, SigningKey, SpMetadata, binding, name_id_format};
use rampart_xmldsig::{Document, Element};

const MD: &str = "urn:oasis:names:tc:SAML:2.0:metadata";

fn sso<'d>(doc: &'d Document) -> Element<'d> {
    let root = doc.root();
    assert!(root.is(MD, "EntityDescriptor"));
    root.children_named(MD, "SPSSODescriptor").next().unwrap()
}

fn published_certificate(sso: &Element<'_>) -> Option<Certificate> {
    sso.descendants()
        .find(|e| e.local_name() == "X509Certificate")
        .map(|e| Certificate::from_base64(&e.text()).unwrap())
}

#[test]
fn certificate_without_private_key_is_published_with_entity_acs_and_flags() {
    let xml = SpMetadata::new(SP_ENTITY, ACS)
        .with_signing_certificate(cert("keys/sp.cert.pem"))
        .with_authn_requests_signed(true)
        .with_want_assertions_signed(true)
        .to_xml()
        .unwrap();
    let doc = Document::parse(xml.as_bytes()).unwrap();
    assert_eq!(doc.root().attribute("entityID"), Some(SP_ENTITY));
    let sso = sso(&doc);
    assert_eq!(sso.attribute("AuthnRequestsSigned"), Some("true"));
    assert_eq!(sso.attribute("WantAssertionsSigned"), Some("true"));
    assert_eq!(
        sso.attribute("protocolSupportEnumeration"),
        Some("urn:oasis:names:tc:SAML:2.0:protocol")
    );
    let key = sso.children_named(MD, "KeyDescriptor").next().unwrap();
    assert_eq!(key.attribute("use"), Some("signing"));
    assert_eq!(published_certificate(&sso), Some(cert("keys/sp.cert.pem")));
    let acs: Vec<_> = sso.children_named(MD, "AssertionConsumerService").collect();
    assert_eq!(acs.len(), 1);
    assert_eq!(acs[0].attribute("Location"), Some(ACS));
    assert_eq!(acs[0].attribute("Binding"), Some(binding::HTTP_POST));
    assert_eq!(acs[0].attribute("index"), Some("0"));
    assert_eq!(acs[0].attribute("isDefault"), Some("true"));
}

#[test]
fn defaults_publish_no_certificate_and_unsigned_flags() {
    let xml = SpMetadata::new(SP_ENTITY, ACS).to_xml().unwrap();
    let doc = Document::parse(xml.as_bytes()).unwrap();
    let sso = sso(&doc);
    assert_eq!(sso.attribute("AuthnRequestsSigned"), Some("false"));
    assert_eq!(sso.attribute("WantAssertionsSigned"), Some("false"));
    assert_eq!(published_certificate(&sso), None);
    assert_eq!(sso.children_named(MD, "NameIDFormat").count(), 0);
}

#[test]
fn several_acs_urls_and_name_id_formats_in_order_and_escaped() {
    let second = "https://sp.example.com/saml/acs2?a=1&b=\"2\"";
    let xml = SpMetadata::new(SP_ENTITY, ACS)
        .with_additional_acs_url(second)
        .with_name_id_format(name_id_format::PERSISTENT)
        .with_name_id_format(name_id_format::EMAIL)
        .to_xml()
        .unwrap();
    let doc = Document::parse(xml.as_bytes()).unwrap();
    let sso = sso(&doc);
    let formats: Vec<String> = sso
        .children_named(MD, "NameIDFormat")
        .map(|e| e.text().into_owned())
        .collect();
    assert_eq!(formats, [name_id_format::PERSISTENT, name_id_format::EMAIL]);
    let acs: Vec<_> = sso.children_named(MD, "AssertionConsumerService").collect();
    assert_eq!(acs.len(), 2);
    assert_eq!(acs[1].attribute("Location"), Some(second));
    assert_eq!(acs[1].attribute("index"), Some("1"));
    assert_eq!(acs[1].attribute("isDefault"), None);
    assert_eq!(acs[1].attribute("Binding"), Some(binding::HTTP_POST));
}

#[test]
fn authn_requests_signed_without_certificate_is_refused() {
    let err = SpMetadata::new(SP_ENTITY, ACS)
        .with_authn_requests_signed(true)
        .to_xml()
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
}

#[test]
fn empty_entity_id_is_refused() {
    let err = SpMetadata::new("  ", ACS).to_xml().unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
}

#[test]
fn acs_url_with_white_space_is_refused() {
    let err = SpMetadata::new(SP_ENTITY, ACS)
        .with_additional_acs_url("https://sp.example.com/a cs")
        .to_xml()
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
}

#[test]
fn service_provider_metadata_is_the_builders_output() {
    let key = SigningKey::from_pkcs8_pem(&read("keys/sp.key.pem"))
        .unwrap()
        .with_certificate(rampart_saml::Certificate::from_pem(&read("keys/sp.cert.pem")).unwrap())
        .unwrap();
    let sp = builder()
        .with_additional_acs_url("https://sp.example.com/saml/acs2")
        .with_signing_key(key)
        .require_signed_assertions()
        .with_name_id_format(name_id_format::PERSISTENT)
        .build()
        .unwrap();
    let from_builder = SpMetadata::new(SP_ENTITY, ACS)
        .with_additional_acs_url("https://sp.example.com/saml/acs2")
        .with_signing_certificate(cert("keys/sp.cert.pem"))
        .with_authn_requests_signed(true)
        .with_want_assertions_signed(true)
        .with_name_id_format(name_id_format::PERSISTENT)
        .to_xml()
        .unwrap();
    assert_eq!(sp.metadata_xml(), from_builder);
}

#[test]
fn service_provider_metadata_publishes_its_single_logout_url_for_both_bindings() {
    let sp = builder()
        .with_single_logout_url("https://sp.example.com/saml/slo")
        .build()
        .unwrap();
    let xml = sp.metadata_xml();
    let doc = Document::parse(xml.as_bytes()).unwrap();
    let slo: Vec<(String, String)> = sso(&doc)
        .children_named(MD, "SingleLogoutService")
        .map(|e| {
            (
                e.attribute("Binding").unwrap().to_owned(),
                e.attribute("Location").unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        slo,
        [
            (
                binding::HTTP_REDIRECT.to_owned(),
                "https://sp.example.com/saml/slo".to_owned()
            ),
            (
                binding::HTTP_POST.to_owned(),
                "https://sp.example.com/saml/slo".to_owned()
            ),
        ]
    );
    // Without it, no SingleLogoutService; a padded URL is refused at build.
    let doc_xml = builder().build().unwrap().metadata_xml();
    assert!(!doc_xml.contains("SingleLogoutService"));
    let e = builder()
        .with_single_logout_url(" https://sp.example.com/slo")
        .build();
    assert!(matches!(e, Err(Error::Config(_))));
}
