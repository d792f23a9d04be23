//! The HTTP-Redirect binding for logout messages (SAML bindings 2.0, 3.4): reading incoming
//! ones from the raw query string (outgoing ones are encoded and signed by `crate::redirect`,
//! shared with AuthnRequests).
//!
//! The signature of an incoming message is checked over the parameters exactly as received
//! (3.4.4.1): a re-encoded query (another percent-encoding of the same value) is different
//! bytes, so the raw query string is the input and the signed parts are never decoded
//! before the check.

use std::io::Read as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use flate2::read::DeflateDecoder;
use percent_encoding::percent_decode_str;
use rampart_xmldsig::SignatureAlgorithm;

use super::error::LogoutError;
use crate::config::ServiceProvider;

/// Which message a query parameter carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Param {
    Request,
    Response,
}

impl Param {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Param::Request => "SAMLRequest",
            Param::Response => "SAMLResponse",
        }
    }
}

/// An incoming query string split into its parameters, values still as received.
#[derive(Debug)]
pub(crate) struct RawQuery<'q> {
    pub(crate) param: Param,
    pub(crate) message: &'q str,
    pub(crate) relay_state: Option<&'q str>,
    pub(crate) sig_alg: Option<&'q str>,
    pub(crate) signature: Option<&'q str>,
}

/// Splits `raw` (the query string as the server received it, with or without its `?`) on
/// `&` and `=` without decoding anything. Parameters other than the four of 3.4.4.1 are
/// ignored (they are not signed); a repeated one refuses the message, since which copy was
/// signed would be ambiguous.
pub(crate) fn split(raw: &str, max_bytes: usize) -> Result<RawQuery<'_>, LogoutError> {
    // base64 of the deflated message plus the other parameters; the message's own bound
    // is checked again once inflated.
    let limit = max_bytes.saturating_mul(2).saturating_add(8192);
    if raw.len() > limit {
        return Err(LogoutError::TooLarge { limit });
    }
    let raw = raw.strip_prefix('?').unwrap_or(raw);
    let mut message: Option<(Param, &str)> = None;
    let (mut relay_state, mut sig_alg, mut signature) = (None, None, None);
    for part in raw.split('&') {
        if part.is_empty() {
            continue;
        }
        let (name, value) = part.split_once('=').unwrap_or((part, ""));
        let slot = match name {
            "SAMLRequest" | "SAMLResponse" => {
                if message.is_some() {
                    return Err(LogoutError::Query(
                        "more than one SAMLRequest or SAMLResponse parameter",
                    ));
                }
                let p = if name == "SAMLRequest" {
                    Param::Request
                } else {
                    Param::Response
                };
                message = Some((p, value));
                continue;
            }
            "RelayState" => &mut relay_state,
            "SigAlg" => &mut sig_alg,
            "Signature" => &mut signature,
            _ => continue,
        };
        if slot.is_some() {
            return Err(LogoutError::Query("a parameter appears more than once"));
        }
        *slot = Some(value);
    }
    let (param, message) = message.ok_or(LogoutError::Query(
        "no SAMLRequest or SAMLResponse parameter",
    ))?;
    Ok(RawQuery {
        param,
        message,
        relay_state,
        sig_alg,
        signature,
    })
}

impl RawQuery<'_> {
    /// The octet string the sender signed (bindings 3.4.4.1): the parameters in the order
    /// the binding fixes, each exactly as received (still URL-encoded).
    pub(crate) fn signed_bytes(&self, sig_alg: &str) -> String {
        let mut s = format!("{}={}", self.param.name(), self.message);
        if let Some(rs) = self.relay_state {
            s.push_str("&RelayState=");
            s.push_str(rs);
        }
        s.push_str("&SigAlg=");
        s.push_str(sig_alg);
        s
    }

    /// The decoded RelayState (`+` is a space, as in any form value).
    pub(crate) fn relay_state(&self) -> Result<Option<String>, LogoutError> {
        self.relay_state
            .map(|rs| {
                percent_decode_str(&rs.replace('+', " "))
                    .decode_utf8()
                    .map(std::borrow::Cow::into_owned)
                    .map_err(|_| LogoutError::Query("RelayState is not utf-8"))
            })
            .transpose()
    }

    /// Checks the signature over the received bytes with the IdP's keys; returns the
    /// algorithm. Unsigned messages are refused: logout must be authenticated (SAML
    /// profiles 4.4.4.1, 4.4.4.2).
    pub(crate) fn verify(&self, sp: &ServiceProvider) -> Result<SignatureAlgorithm, LogoutError> {
        let (Some(sig_alg), Some(signature)) = (self.sig_alg, self.signature) else {
            return Err(LogoutError::Unsigned);
        };
        let uri = decode_value(sig_alg, "SigAlg is not utf-8")?;
        let algorithm = SignatureAlgorithm::from_uri(&uri)
            .filter(|a| {
                matches!(
                    a,
                    SignatureAlgorithm::RsaSha256
                        | SignatureAlgorithm::EcdsaSha256
                        | SignatureAlgorithm::RsaSha1
                ) && sp.algorithms.allows_signature_algorithm(*a)
            })
            .ok_or_else(|| LogoutError::QueryAlgorithm(truncate(&uri, 128)))?;
        let signature = STANDARD
            .decode(decode_value(signature, "Signature is not utf-8")?.as_bytes())
            .map_err(|_| LogoutError::Query("Signature is not base64"))?;
        // SHA-1 refusal and key-size policy are the verifier's, as for XML signatures.
        sp.verify_options
            .verify_detached(algorithm, self.signed_bytes(sig_alg).as_bytes(), &signature)
            .map_err(LogoutError::QuerySignature)?;
        Ok(algorithm)
    }

    /// The message XML: URL-decoded, base64-decoded, inflated (raw DEFLATE, RFC 1951) to at
    /// most `max_bytes`.
    pub(crate) fn inflate(&self, max_bytes: usize) -> Result<Vec<u8>, LogoutError> {
        inflate(self.message, max_bytes)
    }
}

/// Percent-decodes a base64 or URI value. `+` stays `+`: neither alphabet holds a space,
/// and some senders leave base64's `+` unencoded.
fn decode_value(v: &str, what: &'static str) -> Result<String, LogoutError> {
    percent_decode_str(v)
        .decode_utf8()
        .map(std::borrow::Cow::into_owned)
        .map_err(|_| LogoutError::Query(what))
}

/// At most `n` characters of `s`, for error messages about values an attacker chose.
fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// URL-decodes, base64-decodes and inflates `value`, refusing more than `max_bytes` of
/// output: a few KiB of DEFLATE can expand a thousandfold (a DEFLATE bomb), so the inflater
/// is read through a bound and stops there.
pub(crate) fn inflate(value: &str, max_bytes: usize) -> Result<Vec<u8>, LogoutError> {
    let text = decode_value(value, "SAML message is not utf-8")?;
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let deflated = STANDARD
        .decode(compact.as_bytes())
        .map_err(|_| LogoutError::Query("SAML message is not base64"))?;
    let mut out = Vec::new();
    let bound = u64::try_from(max_bytes)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    DeflateDecoder::new(deflated.as_slice())
        .take(bound)
        .read_to_end(&mut out)
        .map_err(|_| LogoutError::Inflate)?;
    if out.len() > max_bytes {
        return Err(LogoutError::TooLarge { limit: max_bytes });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use flate2::Compression;
    use flate2::write::DeflateEncoder;

    use super::*;

    #[test]
    fn repeated_parameter_is_refused() {
        assert!(matches!(
            split("SAMLRequest=a&SigAlg=x&SigAlg=y", 1024),
            Err(LogoutError::Query(_))
        ));
        assert!(matches!(
            split("SAMLRequest=a&SAMLResponse=b", 1024),
            Err(LogoutError::Query(_))
        ));
    }

    #[test]
    fn signed_bytes_keep_the_received_encoding_in_binding_order() {
        let q = split(
            "?Signature=s&SigAlg=a%2fb&RelayState=x%2Fy&SAMLRequest=m%2B",
            1024,
        )
        .unwrap();
        assert_eq!(
            q.signed_bytes(q.sig_alg.unwrap()),
            "SAMLRequest=m%2B&RelayState=x%2Fy&SigAlg=a%2fb"
        );
    }

    #[test]
    fn deflate_bomb_is_refused_with_a_typed_error() {
        let zeros = vec![0u8; 1 << 20];
        let mut d = DeflateEncoder::new(Vec::new(), Compression::best());
        d.write_all(&zeros).unwrap();
        let b64 = STANDARD.encode(d.finish().unwrap());
        assert!(matches!(
            inflate(&b64, 64 * 1024),
            Err(LogoutError::TooLarge { limit: 65536 })
        ));
    }

    #[test]
    fn garbage_does_not_inflate() {
        assert!(matches!(
            inflate("/////w==", 1024),
            Err(LogoutError::Inflate)
        ));
        assert!(matches!(inflate("!!", 1024), Err(LogoutError::Query(_))));
    }
}
