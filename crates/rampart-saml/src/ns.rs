//! Namespace URIs and binding URIs this crate reads and writes.

/// SAML 2.0 protocol (`samlp:`).
pub(crate) const PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
/// SAML 2.0 assertion (`saml:`).
pub(crate) const ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
/// SAML 2.0 metadata (`md:`).
pub(crate) const METADATA: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
/// XML-DSig (`ds:`): rampart-xmldsig's definition, the one home of XML-DSig names.
pub(crate) const DSIG: &str = rampart_xmldsig::DSIG_NS;
/// XML Schema instance (`xsi:`).
pub(crate) const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// Binding URIs (SAML bindings 2.0, 3).
pub mod binding {
    /// HTTP-Redirect binding.
    pub const HTTP_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
    /// HTTP-POST binding.
    pub const HTTP_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
}

/// Status code for success (SAML core 3.2.2.2).
pub(crate) const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
pub(crate) const STATUS_RESPONDER: &str = "urn:oasis:names:tc:SAML:2.0:status:Responder";
/// Bearer subject confirmation method (SAML profiles 3.3).
pub(crate) const CM_BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
