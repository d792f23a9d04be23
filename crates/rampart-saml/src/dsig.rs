//! The seam with rampart-xmldsig: signature verification of responses and enveloped signing
//! of POST-binding requests. Nothing else in this crate touches XML-DSig.

use std::borrow::Cow;

use rampart_xmldsig::{
    self as xmldsig, Document, Element, Placement, SignOptions, SignedElement, TrustedKey,
    VerifyOptions,
};

use rampart_xmldsig::{Certificate, SigningKey};

use crate::config::{Algorithms, ServiceProvider};
use crate::error::{AlgorithmError, Error, SignatureError};
use crate::view::View;

impl<'d> View<'d> for SignedElement<'d> {
    fn is(&self, ns: &str, local: &str) -> bool {
        SignedElement::is(self, ns, local)
    }
    fn local_name(&self) -> &'d str {
        SignedElement::local_name(self)
    }
    fn attribute(&self, local: &str) -> Option<&'d str> {
        SignedElement::attribute(self, local)
    }
    fn attribute_ns(&self, ns: &str, local: &str) -> Option<&'d str> {
        SignedElement::attribute_ns(self, ns, local)
    }
    fn child_elements(&self) -> impl Iterator<Item = Self> + 'd {
        self.children()
    }
    fn text(&self) -> Cow<'d, str> {
        SignedElement::text(self)
    }
    fn push_text(&self, out: &mut String) {
        SignedElement::push_text(self, out);
    }
    #[cfg(feature = "encrypted-assertions")]
    fn qualified_name(&self) -> String {
        SignedElement::qualified_name(self)
    }
    #[cfg(feature = "encrypted-assertions")]
    fn namespaces_in_scope(&self) -> Vec<(&'d str, &'d str)> {
        SignedElement::namespaces_in_scope(self)
    }
}

/// Verification options built once per [`ServiceProvider`]: the configured IdP keys (never
/// KeyInfo), `ID` as the only ID attribute, one reference, and the algorithm policy.
pub(crate) fn verify_options(
    certs: &[Certificate],
    algorithms: Algorithms,
) -> Result<VerifyOptions, Error> {
    let keys = certs
        .iter()
        .map(|c| {
            TrustedKey::from_certificate(c.clone()).map_err(|source| Error::Key {
                what: "idp certificate",
                source,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut o = VerifyOptions::new(keys)
        .with_id_attribute("ID")
        .with_max_references(1);
    if algorithms.sha1 {
        o = o.allow_sha1_signatures();
    }
    if algorithms.small_rsa_keys {
        o = o.allow_small_rsa_keys();
    }
    Ok(o)
}

/// A verified signature: the covered element and the index of the configured certificate
/// whose key verified it.
pub(crate) struct Checked<'d> {
    pub(crate) signed: SignedElement<'d>,
    pub(crate) certificate: usize,
}

/// Verifies `signature` (a `ds:Signature` element) with the SP's options, and checks that it
/// covers exactly its parent element (an enveloped signature over the element that contains
/// it: any other target is signature wrapping).
pub(crate) fn verify<'d>(
    doc: &'d Document,
    signature: Element<'d>,
    sp: &ServiceProvider,
) -> Result<Checked<'d>, Error> {
    refuse_unknown_algorithms(signature, sp.algorithms)?;
    let v = xmldsig::verify(doc, signature, &sp.verify_options)
        .map_err(|e| map_error(e, signature, &sp.idp.certificates))?;
    // The pre-check read the unsigned SignatureMethod; this is the one verification used.
    if !sp
        .algorithms
        .allows_signature_algorithm(v.signature_algorithm())
    {
        return Err(
            SignatureError::AlgorithmNotAllowed(v.signature_algorithm().uri().to_owned()).into(),
        );
    }
    if v.signed_elements().len() != 1
        || !signature.parent().is_some_and(|p| v.signed().is_element(p))
    {
        return Err(SignatureError::NotEnveloped.into());
    }
    let fp = v.key().fingerprint_sha256();
    let certificate = sp
        .verify_options
        .keys()
        .iter()
        .position(|k| k.fingerprint_sha256() == fp)
        .ok_or(SignatureError::UntrustedKey)?;
    Ok(Checked {
        signed: v.signed(),
        certificate,
    })
}

/// Names an unsupported SignatureMethod or DigestMethod (RSASSA-PSS, HMAC, misspelt URIs) as
/// an algorithm refusal, whatever else is wrong with the signature: the operator then knows
/// the IdP must be reconfigured. Structure is left to rampart-xmldsig.
fn refuse_unknown_algorithms(signature: Element<'_>, algorithms: Algorithms) -> Result<(), Error> {
    let Some(signed_info) = signature
        .children_named(crate::ns::DSIG, "SignedInfo")
        .next()
    else {
        return Ok(());
    };
    for m in signed_info.children_named(crate::ns::DSIG, "SignatureMethod") {
        let uri = m.attribute("Algorithm").unwrap_or("");
        match xmldsig::SignatureAlgorithm::from_uri(uri) {
            None => {
                return Err(
                    SignatureError::Algorithm(AlgorithmError::UnsupportedSignatureMethod(
                        uri.to_owned(),
                    ))
                    .into(),
                );
            }
            Some(a) if !algorithms.allows_signature_algorithm(a) => {
                return Err(SignatureError::AlgorithmNotAllowed(uri.to_owned()).into());
            }
            Some(_) => {}
        }
    }
    for r in signed_info.children_named(crate::ns::DSIG, "Reference") {
        for m in r.children_named(crate::ns::DSIG, "DigestMethod") {
            let uri = m.attribute("Algorithm").unwrap_or("");
            if xmldsig::DigestAlgorithm::from_uri(uri).is_none() {
                return Err(
                    SignatureError::Algorithm(AlgorithmError::UnsupportedDigestMethod(
                        uri.to_owned(),
                    ))
                    .into(),
                );
            }
        }
    }
    Ok(())
}

/// Whether the signature's KeyInfo carries X.509 certificates and none is a configured one:
/// then a signature value no trusted key verifies was made by another key (`UntrustedKey`).
/// Otherwise (a trusted certificate, or none) the likeliest cause is a changed value
/// (`Invalid`). Only ever chooses between two refusals; never a reason to accept.
fn keyinfo_names_only_untrusted_certificates(
    signature: Element<'_>,
    trusted: &[Certificate],
) -> bool {
    let mut found = false;
    for ki in signature.children_named(crate::ns::DSIG, "KeyInfo") {
        for data in ki.children_named(crate::ns::DSIG, "X509Data") {
            for c in data.children_named(crate::ns::DSIG, "X509Certificate") {
                let Ok(cert) = Certificate::from_base64(&c.text()) else {
                    continue;
                };
                if trusted.contains(&cert) {
                    return false;
                }
                found = true;
            }
        }
    }
    found
}

fn map_error(e: xmldsig::Error, signature: Element<'_>, trusted: &[Certificate]) -> Error {
    use xmldsig::SignatureError as S;
    match e {
        xmldsig::Error::Parse { .. } | xmldsig::Error::Limit { .. } => Error::Xml(e),
        xmldsig::Error::Signature {
            element,
            position,
            reason,
        } => match reason {
            S::UnsupportedAlgorithm(_) | S::Sha1NotAllowed | S::KeyTooSmall => {
                SignatureError::Algorithm(AlgorithmError::Refused(reason)).into()
            }
            S::SignatureInvalid
                if keyinfo_names_only_untrusted_certificates(signature, trusted) =>
            {
                SignatureError::UntrustedKey.into()
            }
            S::DuplicateId(id) => SignatureError::DuplicateId(id).into(),
            // Including SignatureInvalid when KeyInfo names a trusted certificate or none.
            reason => SignatureError::Invalid(xmldsig::Error::Signature {
                element,
                position,
                reason,
            })
            .into(),
        },
        _ => SignatureError::Invalid(e).into(),
    }
}

/// Where SAML puts an enveloped `ds:Signature`: right after the element's leading
/// `saml:Issuer`, or as its first child when it has none (SAML core 2.0, 2.3.3 and 3.2.1;
/// metadata 2.0, 2.3.2). For signing SAML documents with `rampart_xmldsig::sign_enveloped_with`.
///
/// ```
/// # let key = rampart_xmldsig::SigningKey::from_pkcs8_pem(&std::fs::read("tests/keys/idp.key.pem")?)?;
/// let xml = br#"<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a"><saml:Issuer>idp</saml:Issuer><saml:Subject/></saml:Assertion>"#;
/// let options = rampart_xmldsig::SignOptions::new().with_placement(rampart_saml::signature_placement());
/// let signed = String::from_utf8(rampart_xmldsig::sign_enveloped_with(xml, "_a", &key, &options)?)?;
/// assert!(signed.contains("</saml:Issuer><ds:Signature"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use]
pub fn signature_placement() -> Placement {
    Placement::AfterLeading {
        namespace: crate::ns::ASSERTION.to_owned(),
        local: "Issuer".to_owned(),
    }
}

/// Signs an AuthnRequest with an enveloped signature (RSA-SHA256 or ECDSA-SHA256 by key type,
/// exclusive c14n, SHA-256), placed after its Issuer (SAML core 3.2.1), with our certificate
/// in KeyInfo.
pub(crate) fn sign_request(xml: &str, id: &str, key: &SigningKey) -> Result<String, Error> {
    let mut options = SignOptions::new().with_placement(signature_placement());
    if let Some(c) = key.certificate() {
        options = options.with_certificate_der(c.der());
    }
    let signed =
        xmldsig::sign_enveloped_with(xml.as_bytes(), id, key, &options).map_err(|source| {
            Error::Key {
                what: "signing key",
                source,
            }
        })?;
    String::from_utf8(signed).map_err(|_| Error::Config("signed request is not utf-8".into()))
}
