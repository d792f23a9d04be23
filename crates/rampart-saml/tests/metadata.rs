//! IdP metadata parsing (samples from python3-saml, ruby-saml, crewjam, samael) and SP
//! metadata generation.

mod common;

use std::time::Duration;

use common::*;
use rampart_saml::{IdpMetadata, SigningKey, binding, name_id_format};
use rampart_xmldsig::Document;

fn md(rel: &str) -> Vec<u8> {
    read(&format!("samples/{rel}"))
}

#[test]
fn onelogin_idp_metadata_endpoints_and_certificate() {
    let m = IdpMetadata::parse(&md("python3-saml/data/metadata/idp_metadata.xml")).unwrap();
    assert_eq!(m.entity_id, "https://app.onelogin.com/saml/metadata/383123");
    assert_eq!(m.signing_certificates.len(), 1);
    assert_eq!(
        m.sso_url(binding::HTTP_REDIRECT),
        Some("https://app.onelogin.com/trust/saml2/http-post/sso/383123")
    );
    assert_eq!(
        m.sso_url(binding::HTTP_POST),
        Some("https://app.onelogin.com/trust/saml2/http-post/sso/383123")
    );
    assert_eq!(m.sso_services.len(), 3);
    assert!(m.name_id_formats.iter().any(|f| f.contains("emailAddress")));
    let idp = m.to_identity_provider(at("2030-01-01T00:00:00Z")).unwrap();
    assert_eq!(idp.sso_redirect_url(), m.sso_url(binding::HTTP_REDIRECT));
}

#[test]
fn idp_single_logout_endpoints_are_read() {
    let m = IdpMetadata::parse(&md("python3-saml/data/metadata/idp_metadata2.xml")).unwrap();
    assert_eq!(m.slo_services.len(), 1);
    assert_eq!(
        m.slo_url(binding::HTTP_REDIRECT),
        Some("http://idp.example.com/logout")
    );
    assert_eq!(m.slo_services[0].response_location, None);
    assert_eq!(m.slo_url(binding::HTTP_POST), None);
    // SSO and SLO endpoints are told apart.
    assert_eq!(
        m.sso_url(binding::HTTP_REDIRECT),
        Some("http://idp.example.com")
    );
    // ResponseLocation, in an aggregate of two IdPs.
    let all = IdpMetadata::parse_all(&md(
        "python3-saml/data/metadata/idp_multiple_descriptors.xml",
    ))
    .unwrap();
    assert_eq!(all.len(), 2);
    for m in &all {
        assert_eq!(
            m.slo_services[0].response_location.as_deref(),
            Some("https://hello.example.com/access/saml/logout")
        );
    }
}

#[test]
fn several_signing_certificates_for_rollover() {
    let m = IdpMetadata::parse(&md(
        "python3-saml/data/metadata/idp_metadata_multi_signing_certs.xml",
    ))
    .unwrap();
    assert_eq!(
        m.signing_certificates.len(),
        2,
        "two signing keys, the encryption key left out"
    );
    let m = IdpMetadata::parse(&md(
        "ruby-saml/test/metadata/idp_metadata_multi_signing_certs.xml",
    ))
    .unwrap();
    assert_eq!(
        m.signing_certificates.len(),
        3,
        "one of them is base64 of a PEM text"
    );
    let m = IdpMetadata::parse(&md(
        "crewjam-saml/testdata/TestGetArtifactBindingLocation_IDPMetadata",
    ))
    .unwrap();
    assert_eq!(m.signing_certificates.len(), 2, "samltest.id rollover");
}

#[test]
fn different_signing_and_encryption_certificates() {
    // Two KeyDescriptors (signing, encryption): only the signing one is trusted.
    let xml = md("python3-saml/data/metadata/idp_metadata_different_sign_and_encrypt_cert.xml");
    assert_eq!(
        String::from_utf8_lossy(&xml)
            .matches("<KeyDescriptor")
            .count(),
        2
    );
    let m = IdpMetadata::parse(&xml).unwrap();
    assert_eq!(m.signing_certificates.len(), 1);
    let same = IdpMetadata::parse(&md(
        "python3-saml/data/metadata/idp_metadata_same_sign_and_encrypt_cert.xml",
    ))
    .unwrap();
    assert_eq!(same.signing_certificates, m.signing_certificates);
}

#[test]
fn entities_descriptor_with_several_idps() {
    let xml = md("python3-saml/data/metadata/idp_multiple_descriptors.xml");
    let all = IdpMetadata::parse_all(&xml).unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(
        IdpMetadata::parse(&xml).unwrap_err().kind(),
        "invalid_metadata"
    );
    let bar =
        IdpMetadata::parse_entity(&xml, "https://bar.example.com/access/saml/idp.xml").unwrap();
    assert_eq!(bar.entity_id, "https://bar.example.com/access/saml/idp.xml");
    // validUntil on the EntitiesDescriptor applies to every entity in it.
    assert_eq!(bar.valid_until, Some(at("2014-04-17T18:02:33.910Z")));
    assert_eq!(
        bar.to_identity_provider(at("2020-01-01T00:00:00Z"))
            .unwrap_err()
            .kind(),
        "invalid_metadata"
    );
    assert!(bar.to_identity_provider(at("2014-04-17T18:00:00Z")).is_ok());
}

#[test]
fn testshib_aggregate_picks_the_idp() {
    let m = IdpMetadata::parse(&md("python3-saml/data/metadata/testshib-providers.xml")).unwrap();
    assert_eq!(m.entity_id, "https://idp.testshib.org/idp/shibboleth");
    assert!(m.sso_url(binding::HTTP_REDIRECT).is_some());
}

#[test]
fn sp_only_metadata_has_no_idp() {
    let xml = md("python3-saml/data/metadata/entities_metadata.xml");
    assert!(IdpMetadata::parse_all(&xml).unwrap().is_empty());
    assert_eq!(
        IdpMetadata::parse(&xml).unwrap_err().kind(),
        "invalid_metadata"
    );
}

#[test]
fn cache_duration_is_read() {
    let m = IdpMetadata::parse(&md(
        "crewjam-saml/testdata/TestSPCanHandlePlaintextResponse_IDPMetadata",
    ));
    let m = m.unwrap();
    assert_eq!(
        m.entity_id,
        "https://accounts.google.com/o/saml2?idpid=C02dfl1r1"
    );
    let xml = br#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="urn:idp" cacheDuration="PT6H">
      <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" cacheDuration="PT1H" WantAuthnRequestsSigned="true">
        <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp/sso"/>
      </md:IDPSSODescriptor></md:EntityDescriptor>"#;
    let m = IdpMetadata::parse(xml).unwrap();
    assert_eq!(m.cache_duration, Some(Duration::from_secs(3600)));
    assert!(m.want_authn_requests_signed);
    assert!(m.signing_certificates.is_empty());
    assert_eq!(
        m.to_identity_provider(now()).unwrap_err().kind(),
        "invalid_metadata"
    );
}

#[test]
fn bad_metadata_is_refused() {
    for (xml, kind) in [
        (&b"<!DOCTYPE x [<!ENTITY a 'b'>]><x/>"[..], "xml_refused"),
        (b"<notmetadata/>", "invalid_metadata"),
        (
            b"<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\"><md:IDPSSODescriptor protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\"/></md:EntityDescriptor>",
            "invalid_metadata",
        ),
        (
            b"<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"x\" validUntil=\"soon\"/>",
            "invalid_metadata",
        ),
        (
            b"<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" entityID=\"x\"><md:IDPSSODescriptor protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\"><md:KeyDescriptor><ds:KeyInfo><ds:X509Data><ds:X509Certificate>bm90IGEgY2VydA==</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor></md:IDPSSODescriptor></md:EntityDescriptor>",
            "invalid_metadata",
        ),
    ] {
        assert_eq!(IdpMetadata::parse(xml).unwrap_err().kind(), kind, "{}", String::from_utf8_lossy(xml));
    }
}

#[test]
fn metadata_then_validation_end_to_end() {
    // samael's IdP metadata carries the key that signs its responses.
    let m = IdpMetadata::parse(&md(
        "crewjam-saml/testdata/TestSPCanHandlePlaintextResponse_IDPMetadata",
    ))
    .unwrap();
    let idp = m.to_identity_provider(at("2016-01-05T16:56:00Z")).unwrap();
    let sp = rampart_saml::ServiceProvider::builder(
        "https://29ee6d2e.ngrok.io/saml/metadata",
        "https://29ee6d2e.ngrok.io/saml/acs",
    )
    .identity_provider(idp)
    .build()
    .unwrap();
    let login = sp
        .validate_response(
            &md("crewjam-saml/testdata/TestSPCanHandlePlaintextResponse_response"),
            rampart_saml::Expected::Request("id-fd419a5ab0472645427f8e07d87a3a5dd0b2e9a6"),
            at("2016-01-05T16:56:00Z"),
        )
        .unwrap();
    assert_eq!(
        login.login_unchecked_for_replay().name_id.value,
        "ross@octolabs.io"
    );
}

#[test]
fn sp_metadata_lists_entity_acs_formats_and_certificate() {
    let key = SigningKey::from_pkcs8_pem(&read("keys/sp.key.pem"))
        .unwrap()
        .with_certificate(rampart_saml::Certificate::from_pem(&read("keys/sp.cert.pem")).unwrap())
        .unwrap();
    let sp = builder()
        .with_additional_acs_url("https://sp.example.com/saml/acs2?a=1&b=2")
        .with_signing_key(key)
        .require_signed_assertions()
        .with_name_id_format(name_id_format::PERSISTENT)
        .build()
        .unwrap();
    let xml = sp.metadata_xml();
    let doc = Document::parse(xml.as_bytes()).unwrap();
    let root = doc.root();
    const MD: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
    assert!(root.is(MD, "EntityDescriptor"));
    assert_eq!(root.attribute("entityID"), Some(SP_ENTITY));
    let sso = root.children_named(MD, "SPSSODescriptor").next().unwrap();
    assert_eq!(sso.attribute("AuthnRequestsSigned"), Some("true"));
    assert_eq!(sso.attribute("WantAssertionsSigned"), Some("true"));
    assert_eq!(
        sso.attribute("protocolSupportEnumeration"),
        Some("urn:oasis:names:tc:SAML:2.0:protocol")
    );
    let acs: Vec<_> = sso.children_named(MD, "AssertionConsumerService").collect();
    assert_eq!(acs.len(), 2);
    assert_eq!(acs[0].attribute("Location"), Some(ACS));
    assert_eq!(acs[0].attribute("isDefault"), Some("true"));
    assert_eq!(
        acs[1].attribute("Location"),
        Some("https://sp.example.com/saml/acs2?a=1&b=2")
    );
    assert_eq!(acs[1].attribute("Binding"), Some(binding::HTTP_POST));
    let fmt = sso.children_named(MD, "NameIDFormat").next().unwrap();
    assert_eq!(fmt.text(), name_id_format::PERSISTENT);
    let cert_b64 = sso
        .descendants()
        .find(|e| e.local_name() == "X509Certificate")
        .unwrap()
        .text()
        .into_owned();
    assert_eq!(
        rampart_saml::Certificate::from_base64(&cert_b64).unwrap(),
        cert("keys/sp.cert.pem")
    );
    // Our own metadata is not IdP metadata.
    assert!(IdpMetadata::parse_all(xml.as_bytes()).unwrap().is_empty());
}

#[test]
fn sp_metadata_without_key_says_unsigned() {
    let xml = sp().metadata_xml();
    assert!(xml.contains("AuthnRequestsSigned=\"false\""));
    assert!(xml.contains("WantAssertionsSigned=\"false\""));
    assert!(!xml.contains("X509Certificate"));
}

#[test]
fn python3_saml_multi_certs_two_signing_keys_and_one_shared_with_encryption() {
    // Two signing KeyDescriptors and an encryption one whose certificate equals the first
    // signing certificate: two distinct signing certificates, in document order.
    let m = IdpMetadata::parse(&md(
        "python3-saml/data/metadata/idp_metadata_multi_certs.xml",
    ))
    .unwrap();
    assert_eq!(m.entity_id, "https://idp.examle.com/saml/metadata");
    assert_eq!(m.signing_certificates.len(), 2);
    assert_ne!(m.signing_certificates[0], m.signing_certificates[1]);
    assert_eq!(
        m.sso_url(binding::HTTP_REDIRECT),
        Some("https://idp.examle.com/saml/sso")
    );
    assert_eq!(m.sso_url(binding::HTTP_POST), None);
    let idp = m.to_identity_provider(at("2030-01-01T00:00:00Z")).unwrap();
    assert_eq!(idp.certificates().len(), 2);
}

#[test]
fn python3_saml_idp_metadata2_single_certificate_redirect_only() {
    let m = IdpMetadata::parse(&md("python3-saml/data/metadata/idp_metadata2.xml")).unwrap();
    assert_eq!(m.entity_id, "urn:example:idp");
    assert_eq!(m.signing_certificates.len(), 1);
    assert_eq!(
        m.sso_url(binding::HTTP_REDIRECT),
        Some("http://idp.example.com")
    );
    assert_eq!(m.sso_url(binding::HTTP_POST), None);
    assert_eq!(m.valid_until, None);
    assert_eq!(m.cache_duration, None);
    assert!(!m.want_authn_requests_signed);
    let idp = m.to_identity_provider(at("2030-01-01T00:00:00Z")).unwrap();
    assert_eq!(idp.entity_id(), "urn:example:idp");
}

#[test]
fn valid_until_past_year_9999_in_utc_is_a_metadata_error_not_a_panic() {
    // Unsigned metadata is fetched from a URL: its times are attacker-controlled input.
    let xml = String::from_utf8(md("python3-saml/data/metadata/idp_metadata2.xml")).unwrap();
    let i = xml.find("entityID=").unwrap();
    for v in ["9999-12-31T23:59:59-01:00", "9999-12-31T23:59:59.5-14:00"] {
        let mut bad = xml.clone();
        bad.insert_str(i, &format!("validUntil=\"{v}\" "));
        let e = IdpMetadata::parse(bad.as_bytes()).unwrap_err();
        assert_eq!(e.kind(), "invalid_metadata", "{v}: {e}");
    }
    // The last representable instant is fine.
    let mut ok = xml.clone();
    ok.insert_str(i, "validUntil=\"9999-12-31T23:59:59Z\" ");
    let m = IdpMetadata::parse(ok.as_bytes()).unwrap();
    assert!(m.to_identity_provider(at("2030-01-01T00:00:00Z")).is_ok());
}
