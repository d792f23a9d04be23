//! Enveloped signatures: exclusive C14N, SHA-256 digest, RSA-SHA256 or ECDSA-SHA256.
//!
//! The output is the input bytes with one `ds:Signature` element inserted (nothing else is
//! rewritten), so whatever the caller built is what gets signed and sent.

use base64::Engine as _;

use crate::algorithms::{DSIG_NS, DigestAlgorithm, ENVELOPED_SIGNATURE};
use crate::c14n::{C14nAlgorithm, Canonicalizer, escape_attr};
use crate::error::{Error, SignError};
use crate::key::SigningKey;
use crate::tree::{Document, Element, NONE};

/// Where in the signed element the `ds:Signature` goes. Schemas that embed XML-DSig say
/// where the signature belongs; the caller, which knows the schema, picks the placement.
///
/// ```
/// use rampart_xmldsig::Placement;
/// // SAML, for instance, puts the signature right after a leading `saml:Issuer`.
/// let saml = Placement::AfterLeading {
///     namespace: "urn:oasis:names:tc:SAML:2.0:assertion".into(),
///     local: "Issuer".into(),
/// };
/// assert_ne!(saml, Placement::default());
/// assert_eq!(Placement::default(), Placement::FirstChild);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Placement {
    /// As the first child (the default).
    #[default]
    FirstChild,
    /// Right after the first child element when that child is named `{namespace}local`,
    /// else as the first child.
    AfterLeading {
        /// Namespace URI of that child.
        namespace: String,
        /// Local name of that child.
        local: String,
    },
    /// As the last child.
    LastChild,
    /// Right after the first child element named `{namespace}local`.
    After {
        /// Namespace URI of that child.
        namespace: String,
        /// Local name of that child.
        local: String,
    },
}

/// Options of [`sign_enveloped_with`].
#[derive(Debug, Clone, Default)]
pub struct SignOptions {
    id_attribute: Option<String>,
    placement: Placement,
    certificate_der: Option<Vec<u8>>,
}

impl SignOptions {
    /// Defaults: ID attribute `ID`, [`Placement::FirstChild`], no certificate.
    pub fn new() -> Self {
        SignOptions::default()
    }
    /// The unprefixed attribute that carries the ID to sign (default `ID`).
    #[must_use]
    pub fn with_id_attribute(mut self, name: &str) -> Self {
        self.id_attribute = Some(name.to_owned());
        self
    }
    /// Where to insert the signature.
    #[must_use]
    pub fn with_placement(mut self, placement: Placement) -> Self {
        self.placement = placement;
        self
    }
    /// Adds `KeyInfo/X509Data/X509Certificate` with this DER certificate (informational:
    /// verifiers, this crate included, must not trust it).
    #[must_use]
    pub fn with_certificate_der(mut self, der: &[u8]) -> Self {
        self.certificate_der = Some(der.to_vec());
        self
    }
}

/// Signs the element whose `ID` attribute is `id` with an enveloped signature, inserted as
/// its first child ([`Placement::FirstChild`]; [`sign_enveloped_with`] chooses another
/// place). Exclusive C14N, SHA-256, and RSA-SHA256 or ECDSA-SHA256 by key type. With
/// `certificate_der`, the certificate goes in `KeyInfo`.
///
/// # Errors
/// [`Error::Parse`]/[`Error::Limit`] if `xml` is not accepted by [`Document::parse`],
/// [`SignError::IdNotFound`]/[`SignError::DuplicateId`] for the ID, [`SignError::Crypto`].
///
/// ```
/// # let key_pem = std::fs::read("tests/vectors/rsa2048.key").unwrap();
/// # let cert_pem = std::fs::read("tests/vectors/rsa2048.crt").unwrap();
/// use rampart_xmldsig::*;
/// let key = SigningKey::from_pkcs8_pem(&key_pem)?;
/// let signed = sign_enveloped(br#"<r ID="_1"><data>x</data></r>"#, "_1", &key, None)?;
/// let doc = Document::parse(&signed)?;
/// let sig = doc.root().children_named(DSIG_NS, "Signature").next().unwrap();
/// let options = VerifyOptions::new(vec![TrustedKey::from_pem_certificate(&cert_pem)?]);
/// assert!(verify(&doc, sig, &options)?.signed().is_element(doc.root()));
/// # Ok::<(), rampart_xmldsig::Error>(())
/// ```
pub fn sign_enveloped(
    xml: &[u8],
    id: &str,
    key: &SigningKey,
    certificate_der: Option<&[u8]>,
) -> Result<Vec<u8>, Error> {
    let mut options = SignOptions::new();
    if let Some(c) = certificate_der {
        options = options.with_certificate_der(c);
    }
    sign_enveloped_with(xml, id, key, &options)
}

/// [`sign_enveloped`] with a choice of ID attribute and insertion point.
///
/// # Errors
/// As [`sign_enveloped`], plus [`SignError::InsertionPoint`] when
/// [`Placement::After`] names a child that does not exist.
pub fn sign_enveloped_with(
    xml: &[u8],
    id: &str,
    key: &SigningKey,
    options: &SignOptions,
) -> Result<Vec<u8>, Error> {
    let doc = Document::parse(xml)?;
    let id_attr = options.id_attribute.as_deref().unwrap_or("ID");
    let mut found: Option<Element<'_>> = None;
    for el in std::iter::once(doc.root()).chain(doc.root().descendants()) {
        if el.attribute(id_attr) == Some(id) {
            if found.is_some() {
                return Err(Error::Sign(SignError::DuplicateId(id.to_owned())));
            }
            found = Some(el);
        }
    }
    let target = found.ok_or_else(|| Error::Sign(SignError::IdNotFound(id.to_owned())))?;

    // Digest of the element as it is now: after insertion, the enveloped-signature transform
    // removes exactly the inserted element, leaving these same nodes.
    let c14n = Canonicalizer::new(C14nAlgorithm::Exclusive);
    let mut canonical = Vec::new();
    c14n.subtree(&doc, target.idx, NONE, &mut canonical)?;
    let digest = ring::digest::digest(DigestAlgorithm::Sha256.ring(), &canonical);
    let b64 = base64::engine::general_purpose::STANDARD;

    let mut uri = Vec::new();
    escape_attr(id, &mut uri);
    let uri = String::from_utf8(uri).map_err(|_| Error::Sign(SignError::Crypto))?;
    let signed_info = format!(
        "<ds:SignedInfo><ds:CanonicalizationMethod Algorithm=\"{c14n}\"/>\
         <ds:SignatureMethod Algorithm=\"{sig}\"/><ds:Reference URI=\"#{uri}\"><ds:Transforms>\
         <ds:Transform Algorithm=\"{env}\"/><ds:Transform Algorithm=\"{c14n}\"/></ds:Transforms>\
         <ds:DigestMethod Algorithm=\"{dm}\"/><ds:DigestValue>{dv}</ds:DigestValue>\
         </ds:Reference></ds:SignedInfo>",
        c14n = C14nAlgorithm::Exclusive.uri(),
        sig = key.signature_algorithm().uri(),
        env = ENVELOPED_SIGNATURE,
        dm = DigestAlgorithm::Sha256.uri(),
        dv = b64.encode(digest.as_ref()),
    );
    // SignedInfo's exclusive canonical form depends only on the prefixes it uses, all
    // declared on ds:Signature, so it can be computed from the fragment alone.
    let fragment = format!("<ds:Signature xmlns:ds=\"{DSIG_NS}\">{signed_info}</ds:Signature>");
    let frag_doc = Document::parse(fragment.as_bytes())?;
    let si = frag_doc
        .root()
        .children()
        .next()
        .ok_or(Error::Sign(SignError::Crypto))?;
    let mut si_bytes = Vec::new();
    c14n.subtree(&frag_doc, si.idx, NONE, &mut si_bytes)?;
    let sig_value = key.sign(&si_bytes)?;

    let key_info = options
        .certificate_der
        .as_ref()
        .map_or_else(String::new, |c| {
            format!(
                "<ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate>\
             </ds:X509Data></ds:KeyInfo>",
                b64.encode(c)
            )
        });
    let signature = format!(
        "<ds:Signature xmlns:ds=\"{DSIG_NS}\">{signed_info}<ds:SignatureValue>{}\
         </ds:SignatureValue>{key_info}</ds:Signature>",
        b64.encode(&sig_value)
    );
    splice(xml, &doc, target, &options.placement, &signature)
}

/// Inserts `signature` into `xml` inside `target` at `placement`.
fn splice(
    xml: &[u8],
    doc: &Document,
    target: Element<'_>,
    placement: &Placement,
    signature: &str,
) -> Result<Vec<u8>, Error> {
    let node = doc.node(target.idx);
    let offset = match placement {
        Placement::AfterLeading { namespace, local } => match target.children().next() {
            Some(c) if c.is(namespace, local) => Some(doc.node(c.idx).end),
            _ => None,
        },
        Placement::FirstChild => None,
        Placement::LastChild => {
            if node.start_tag_end == node.end {
                None
            } else {
                // The end tag is the last `</` of the element's source.
                let src = &xml[..node.end as usize];
                let at = src
                    .windows(2)
                    .rposition(|w| w == b"</")
                    .ok_or_else(|| Error::Sign(SignError::InsertionPoint("end tag".into())))?;
                #[allow(clippy::cast_possible_truncation)] // inputs are capped below u32
                Some(at as u32)
            }
        }
        Placement::After { namespace, local } => {
            let c = target
                .children_named(namespace, local)
                .next()
                .ok_or_else(|| {
                    Error::Sign(SignError::InsertionPoint(format!("{{{namespace}}}{local}")))
                })?;
            Some(doc.node(c.idx).end)
        }
    };
    let mut out = Vec::with_capacity(xml.len() + signature.len() + 16);
    match offset {
        Some(at) => {
            out.extend_from_slice(&xml[..at as usize]);
            out.extend_from_slice(signature.as_bytes());
            out.extend_from_slice(&xml[at as usize..]);
        }
        None if node.start_tag_end == node.end => {
            // `<x .../>`: open it, insert, close it.
            let end = node.end as usize;
            let slash = xml[..end]
                .iter()
                .rposition(|&b| b == b'/')
                .ok_or_else(|| Error::Sign(SignError::InsertionPoint("empty element".into())))?;
            out.extend_from_slice(&xml[..slash]);
            out.push(b'>');
            out.extend_from_slice(signature.as_bytes());
            out.extend_from_slice(b"</");
            out.extend_from_slice(target.qualified_name().as_bytes());
            out.push(b'>');
            out.extend_from_slice(&xml[end..]);
        }
        None => {
            let at = node.start_tag_end as usize;
            out.extend_from_slice(&xml[..at]);
            out.extend_from_slice(signature.as_bytes());
            out.extend_from_slice(&xml[at..]);
        }
    }
    Ok(out)
}
