//! The seam with rampart-xmldsig: signature verification of responses and enveloped signing
//! of POST-binding requests. Nothing else in this crate touches XML-DSig.

use rampart_xmldsig::{Document, Element};

use crate::config::ServiceProvider;
use crate::error::{Error, SignatureError};
use crate::signing::SigningKey;
use crate::view::View;

/// A view of exactly the element a verified signature covers.
// NEEDS(xmldsig): replace with `rampart_xmldsig::SignedElement<'d>` once `verify` lands.
#[derive(Clone, Copy)]
pub(crate) struct SignedView<'d>(Element<'d>);

impl<'d> View<'d> for SignedView<'d> {
    fn is(&self, ns: &str, local: &str) -> bool {
        self.0.is(ns, local)
    }
    fn attribute(&self, local: &str) -> Option<&'d str> {
        self.0.attribute(local)
    }
    fn attribute_ns(&self, ns: &str, local: &str) -> Option<&'d str> {
        self.0.attribute_ns(ns, local)
    }
    fn child_elements(&self) -> Vec<Self> {
        self.0.children().map(SignedView).collect()
    }
    fn text(&self) -> String {
        self.0.text()
    }
    fn position(&self) -> usize {
        self.0.position()
    }
}

/// A verified signature: the covered element and the index of the configured certificate
/// whose key verified it.
pub(crate) struct Checked<'d> {
    pub(crate) signed: SignedView<'d>,
    pub(crate) certificate: usize,
}

/// Verifies `signature` (a `ds:Signature` element) against the IdP's configured keys only,
/// with the SP's algorithm policy, and checks it covers its parent element (an enveloped
/// signature over the element that contains it: anything else is a wrapping attack).
pub(crate) fn verify<'d>(
    _doc: &'d Document,
    signature: Element<'d>,
    _sp: &ServiceProvider,
) -> Result<Checked<'d>, Error> {
    // NEEDS(xmldsig): `verify(&doc, signature, &VerifyOptions)`; until it lands nothing verifies.
    let _ = signature;
    Err(Error::Signature(SignatureError::Invalid(
        "signature verification not available yet".into(),
    )))
}

/// Signs an AuthnRequest with an enveloped signature (RSA-SHA256, exclusive c14n).
// NEEDS(xmldsig): `sign_enveloped(xml, id, key, cert)`; until it lands the POST binding can only
// send unsigned requests.
pub(crate) fn sign_request(_xml: &str, _id: &str, key: &SigningKey) -> Result<String, Error> {
    let _ = key.expose_secret_pkcs8();
    Err(Error::Config(
        "signed http-post requests need rampart-xmldsig signing (not yet available)".into(),
    ))
}
