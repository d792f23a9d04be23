//! What a test identity provider sends: a SAML message over the HTTP-Redirect binding,
//! signed with the IdP's key, as the service provider under test receives it.

use std::io::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

/// The query string of `xml` sent over the HTTP-Redirect binding (SAML bindings 2.0, 3.4.4):
/// `param` (`SAMLRequest` or `SAMLResponse`) holding the XML deflated and base64-encoded,
/// then `SigAlg` and a `Signature` by `key_pem` (PKCS#8, RSA or ECDSA) over
/// `param=..&SigAlg=..` exactly as sent (3.4.4.1).
///
/// ```
/// let key = std::fs::read("../rampart-saml/tests/keys/idp.key.pem").unwrap();
/// let query = rampart_testkit::saml_idp::signed_redirect_query("SAMLRequest", "<x/>", &key);
/// assert!(query.starts_with("SAMLRequest=") && query.contains("&SigAlg=") && query.contains("&Signature="));
/// ```
///
/// # Panics
/// When the key is not a PKCS#8 key rampart-xmldsig signs with.
#[must_use]
pub fn signed_redirect_query(param: &str, xml: &str, key_pem: &[u8]) -> String {
    let key = rampart_xmldsig::SigningKey::from_pkcs8_pem(key_pem).expect("IdP key (PKCS#8 PEM)");
    let mut deflater =
        flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    deflater
        .write_all(xml.as_bytes())
        .expect("deflate in memory");
    let deflated = deflater.finish().expect("deflate in memory");
    let unsigned = format!(
        "{param}={}&SigAlg={}",
        form_value(&STANDARD.encode(deflated)),
        form_value(key.signature_algorithm().uri())
    );
    let signature = key.sign(unsigned.as_bytes()).expect("sign");
    format!(
        "{unsigned}&Signature={}",
        form_value(&STANDARD.encode(signature))
    )
}

fn form_value(s: &str) -> String {
    utf8_percent_encode(s, NON_ALPHANUMERIC).to_string()
}
