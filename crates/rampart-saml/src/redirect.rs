//! Outgoing messages over the HTTP-Redirect binding (SAML bindings 2.0, 3.4.4), one encoding
//! for AuthnRequests and logout messages: the XML deflated (raw DEFLATE, RFC 1951),
//! base64- and URL-encoded, then `RelayState`, and with a key `SigAlg` and `Signature` over
//! `SAMLRequest=..&RelayState=..&SigAlg=..` exactly as 3.4.4.1 orders the URL-encoded values.
//! Reading incoming Redirect messages is `logout::redirect`'s.

use std::io::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use flate2::Compression;
use flate2::write::DeflateEncoder;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use rampart_xmldsig::SigningKey;

use crate::error::Error;

/// Form-value encoding: everything but RFC 3986 unreserved characters is percent-encoded.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// `destination` with the query carrying `xml` as the parameter `param` (`SAMLRequest` or
/// `SAMLResponse`), appended with `?`, or `&` when the destination has a query already.
/// Signed when `key` is given (RSA-SHA256 or ECDSA-SHA256, by key type).
pub(crate) fn url(
    destination: &str,
    param: &str,
    xml: &str,
    relay_state: Option<&str>,
    key: Option<&SigningKey>,
) -> Result<String, Error> {
    let query = query(param, xml, relay_state, key)?;
    let sep = if destination.contains('?') { '&' } else { '?' };
    Ok(format!("{destination}{sep}{query}"))
}

/// The query string alone (see [`url`]).
fn query(
    param: &str,
    xml: &str,
    relay_state: Option<&str>,
    key: Option<&SigningKey>,
) -> Result<String, Error> {
    let mut deflater = DeflateEncoder::new(Vec::new(), Compression::default());
    // Deflating into memory has no I/O that could fail; the error is kept as a refusal
    // rather than a panic all the same.
    let deflated = deflater
        .write_all(xml.as_bytes())
        .and_then(|()| deflater.finish())
        .map_err(|_| Error::Config("deflate failed".into()))?;
    let mut query = format!(
        "{param}={}",
        utf8_percent_encode(&STANDARD.encode(deflated), QUERY_VALUE)
    );
    if let Some(rs) = relay_state {
        query.push_str(&format!(
            "&RelayState={}",
            utf8_percent_encode(rs, QUERY_VALUE)
        ));
    }
    if let Some(key) = key {
        // SigAlg names the key's XML-DSig algorithm (bindings 3.4.4.1): RSA-SHA256 or
        // ECDSA-SHA256, by rampart-xmldsig's one definition of each URI.
        query.push_str(&format!(
            "&SigAlg={}",
            utf8_percent_encode(key.signature_algorithm().uri(), QUERY_VALUE)
        ));
        let sig = key.sign(query.as_bytes()).map_err(|source| Error::Key {
            what: "signing key",
            source,
        })?;
        query.push_str(&format!(
            "&Signature={}",
            utf8_percent_encode(&STANDARD.encode(sig), QUERY_VALUE)
        ));
    }
    Ok(query)
}
