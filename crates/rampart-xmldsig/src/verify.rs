//! XML-DSig verification (XML Signature Syntax and Processing, second edition, section 3.2)
//! restricted to what SAML needs, so that every known attack shape is rejected by structure.

use std::borrow::Cow;
use std::collections::HashMap;

use base64::Engine as _;
use subtle::ConstantTimeEq;

use crate::algorithms::{
    DSIG_NS, DigestAlgorithm, ENVELOPED_SIGNATURE, EXC_C14N_NS, SignatureAlgorithm,
};
use crate::c14n::{C14nAlgorithm, Canonicalizer};
use crate::error::{Error, LimitError, SignatureError};

/// Most prefixes accepted in one InclusiveNamespaces PrefixList (real ones hold a handful).
const MAX_INCLUSIVE_PREFIXES: usize = 32;
use crate::key::TrustedKey;
use crate::tree::{Attribute, Document, Element, Kind, NONE};

/// What [`verify`] accepts. Defaults are safe; each relaxation has a loud name.
///
/// ```
/// # let pem = std::fs::read("tests/vectors/rsa2048.crt").unwrap();
/// use rampart_xmldsig::{TrustedKey, VerifyOptions};
/// let options = VerifyOptions::new(vec![TrustedKey::from_pem_certificate(&pem)?])
///     .with_id_attribute("ID")
///     .with_max_references(1);
/// # Ok::<(), rampart_xmldsig::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    keys: Vec<TrustedKey>,
    id_attributes: Vec<String>,
    allow_sha1: bool,
    allow_small_rsa: bool,
    max_references: usize,
}

impl VerifyOptions {
    /// Trust `keys` (any one of them may have signed: IdP key rollover), with the defaults:
    /// ID attribute `ID` (SAML 2.0), no SHA-1, RSA keys of 2048 bits or more, one reference.
    pub fn new(keys: Vec<TrustedKey>) -> Self {
        VerifyOptions {
            keys,
            id_attributes: Vec::new(),
            allow_sha1: false,
            allow_small_rsa: false,
            max_references: 1,
        }
    }

    /// Declares an unprefixed attribute name that holds element IDs. The first call replaces
    /// the default `ID`; later calls add names. Every value of every declared ID attribute in
    /// the document must be unique, or verification fails.
    #[must_use]
    pub fn with_id_attribute(mut self, name: &str) -> Self {
        self.id_attributes.push(name.to_owned());
        self
    }

    /// DANGER: accepts SHA-1 digests and RSA-SHA1 signatures, which are forgeable with
    /// chosen-prefix collisions. Only for IdPs that cannot be upgraded.
    #[must_use]
    pub fn allow_sha1_signatures(mut self) -> Self {
        self.allow_sha1 = true;
        self
    }

    /// DANGER: accepts RSA keys of 1024 to 2047 bits (PKCS#1 v1.5 with SHA-1, SHA-256 or
    /// SHA-512 only), which are within reach of factoring by well-funded attackers.
    #[must_use]
    pub fn allow_small_rsa_keys(mut self) -> Self {
        self.allow_small_rsa = true;
        self
    }

    /// Allows up to `n` `Reference` elements in one signature (default 1). Each referenced
    /// element is returned by [`Verified::signed_elements`].
    #[must_use]
    pub fn with_max_references(mut self, n: usize) -> Self {
        self.max_references = n;
        self
    }

    /// The trusted keys.
    pub fn keys(&self) -> &[TrustedKey] {
        &self.keys
    }

    /// Verifies a signature made outside any XML document (SAML's HTTP-Redirect binding
    /// signs the query string, SAML bindings 3.4.4.1): `signature` over exactly `message`
    /// with `algorithm`, by any trusted key, under the same SHA-1 and key-size policy as
    /// [`verify`]. Returns the key that verified it.
    ///
    /// ```
    /// # let key_pem = std::fs::read("tests/vectors/ec-p256.key").unwrap();
    /// # let cert_pem = std::fs::read("tests/vectors/ec-p256.crt").unwrap();
    /// use rampart_xmldsig::{SignatureAlgorithm, SigningKey, TrustedKey, VerifyOptions};
    /// let signer = SigningKey::from_pkcs8_pem(&key_pem)?;
    /// let options = VerifyOptions::new(vec![TrustedKey::from_pem_certificate(&cert_pem)?]);
    /// let sig = signer.sign(b"SAMLRequest=abc&SigAlg=x")?;
    /// assert!(options.verify_detached(SignatureAlgorithm::EcdsaSha256, b"SAMLRequest=abc&SigAlg=x", &sig).is_ok());
    /// assert!(options.verify_detached(SignatureAlgorithm::EcdsaSha256, b"SAMLRequest=abd&SigAlg=x", &sig).is_err());
    /// # Ok::<(), rampart_xmldsig::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`SignatureError::Sha1NotAllowed`], [`SignatureError::KeyTooSmall`] or
    /// [`SignatureError::UnsupportedAlgorithm`] when the policy or no trusted key fits the
    /// algorithm; [`SignatureError::NoTrustedKeys`]; otherwise
    /// [`SignatureError::SignatureInvalid`].
    pub fn verify_detached(
        &self,
        algorithm: SignatureAlgorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<&TrustedKey, SignatureError> {
        if algorithm.uses_sha1() && !self.allow_sha1 {
            return Err(SignatureError::Sha1NotAllowed);
        }
        if self.keys.is_empty() {
            return Err(SignatureError::NoTrustedKeys);
        }
        let mut refusal = None;
        let mut usable = false;
        for key in &self.keys {
            match key.verifier(algorithm, self.allow_small_rsa) {
                Ok(Some(alg)) => {
                    usable = true;
                    let pk = ring::signature::UnparsedPublicKey::new(alg, &key.public_key);
                    if pk.verify(message, signature).is_ok() {
                        return Ok(key);
                    }
                }
                Ok(None) => {}
                Err(e) => refusal = Some(e),
            }
        }
        match refusal {
            Some(e) if !usable => Err(e),
            _ if !usable => Err(SignatureError::UnsupportedAlgorithm(
                algorithm.uri().to_owned(),
            )),
            _ => Err(SignatureError::SignatureInvalid),
        }
    }

    fn id_names(&self) -> Vec<&str> {
        if self.id_attributes.is_empty() {
            vec!["ID"]
        } else {
            self.id_attributes.iter().map(String::as_str).collect()
        }
    }
}

/// A signature that verified: the only way to obtain a [`SignedElement`].
#[derive(Debug, Clone)]
pub struct Verified<'d> {
    signed: Vec<SignedElement<'d>>,
    key: TrustedKey,
    signature_algorithm: SignatureAlgorithm,
    digest_algorithm: DigestAlgorithm,
    signature: Element<'d>,
}

impl<'d> Verified<'d> {
    /// The element the (first) reference covers.
    pub fn signed(&self) -> SignedElement<'d> {
        self.signed[0]
    }

    /// Every element the signature covers, in `Reference` order.
    pub fn signed_elements(&self) -> &[SignedElement<'d>] {
        &self.signed
    }

    /// The trusted key whose signature verified.
    pub fn key(&self) -> &TrustedKey {
        &self.key
    }

    /// The signature algorithm of `SignedInfo`.
    pub fn signature_algorithm(&self) -> SignatureAlgorithm {
        self.signature_algorithm
    }

    /// The digest algorithm of the (first) reference.
    pub fn digest_algorithm(&self) -> DigestAlgorithm {
        self.digest_algorithm
    }

    /// The `ds:Signature` element that verified (for identity checks such as "is this the
    /// signature of the assertion"; its content is not signed data).
    pub fn signature_element(&self) -> Element<'d> {
        self.signature
    }
}

/// A read handle to an element covered by a verified signature, obtainable only from
/// [`Verified`]. Everything reachable through it was covered by the digest: it has no
/// `parent()`, and its children and descendants skip the enveloped `ds:Signature` (removed by
/// the enveloped-signature transform, so not covered). Reading identity data only through
/// this type is what defeats signature wrapping: an unsigned copy or sibling is not reachable.
///
/// Comments are not covered by a same-document reference (XML-DSig section 4.4.3.3) and are
/// not exposed; [`SignedElement::text`] skips them.
#[derive(Clone, Copy)]
pub struct SignedElement<'d> {
    el: Element<'d>,
    /// The enveloped signature left out of the digest, or NONE.
    excluded: u32,
}

impl std::fmt::Debug for SignedElement<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SignedElement({:?})", self.el)
    }
}

impl<'d> SignedElement<'d> {
    fn wrap(&self, el: Element<'d>) -> SignedElement<'d> {
        SignedElement {
            el,
            excluded: self.excluded,
        }
    }

    /// Whether this is `element` (identity, not equal content): "is the signed element the
    /// assertion I am about to read". There is deliberately no way back to the plain
    /// [`Element`], whose `parent()` and siblings are unsigned.
    ///
    /// ```
    /// # let key_pem = std::fs::read("tests/vectors/rsa2048.key").unwrap();
    /// # let cert_pem = std::fs::read("tests/vectors/rsa2048.crt").unwrap();
    /// use rampart_xmldsig::*;
    /// # let key = SigningKey::from_pkcs8_pem(&key_pem)?;
    /// # let signed = sign_enveloped(br#"<a ID="_1"><b/></a>"#, "_1", &key, None)?;
    /// # let doc = Document::parse(&signed)?;
    /// # let sig = doc.root().children_named(DSIG_NS, "Signature").next().unwrap();
    /// # let options = VerifyOptions::new(vec![TrustedKey::from_pem_certificate(&cert_pem)?]);
    /// let verified = verify(&doc, sig, &options)?;
    /// assert!(verified.signed().is_element(doc.root()));
    /// assert!(!verified.signed().is_element(sig));
    /// # Ok::<(), rampart_xmldsig::Error>(())
    /// ```
    pub fn is_element(&self, element: Element<'d>) -> bool {
        self.el == element
    }
    /// Local part of the name.
    pub fn local_name(&self) -> &'d str {
        self.el.local_name()
    }
    /// Every namespace binding in scope here, as [`Element::namespaces_in_scope`] lists them.
    /// The bindings of the prefixes the signed content uses are part of what exclusive
    /// canonicalization signed; for re-parsing content decrypted from inside this element.
    ///
    /// ```
    /// # let key_pem = std::fs::read("tests/vectors/rsa2048.key").unwrap();
    /// # let cert_pem = std::fs::read("tests/vectors/rsa2048.crt").unwrap();
    /// use rampart_xmldsig::*;
    /// # let key = SigningKey::from_pkcs8_pem(&key_pem)?;
    /// let signed = sign_enveloped(br#"<p:a xmlns:p="urn:p" ID="_1"><p:b/></p:a>"#, "_1", &key, None)?;
    /// # let doc = Document::parse(&signed)?;
    /// # let sig = doc.root().children_named(DSIG_NS, "Signature").next().unwrap();
    /// # let options = VerifyOptions::new(vec![TrustedKey::from_pem_certificate(&cert_pem)?]);
    /// let b = verify(&doc, sig, &options)?.signed().children().next().unwrap();
    /// assert_eq!(b.namespaces_in_scope(), [("p", "urn:p")]);
    /// # Ok::<(), rampart_xmldsig::Error>(())
    /// ```
    pub fn namespaces_in_scope(&self) -> Vec<(&'d str, &'d str)> {
        self.el.namespaces_in_scope()
    }
    /// Namespace URI of the name.
    pub fn namespace(&self) -> Option<&'d str> {
        self.el.namespace()
    }
    /// True when the element is `{ns}local`.
    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.el.is(ns, local)
    }
    /// Name as written, for messages.
    pub fn qualified_name(&self) -> String {
        self.el.qualified_name()
    }
    /// Unprefixed attribute `local`.
    pub fn attribute(&self, local: &str) -> Option<&'d str> {
        self.el.attribute(local)
    }
    /// Attribute `{ns}local`.
    pub fn attribute_ns(&self, ns: &str, local: &str) -> Option<&'d str> {
        self.el.attribute_ns(ns, local)
    }
    /// All attributes.
    pub fn attributes(&self) -> impl Iterator<Item = Attribute<'d>> + 'd {
        self.el.attributes()
    }
    /// Child elements (the enveloped signature excluded).
    pub fn children(&self) -> impl Iterator<Item = SignedElement<'d>> + 'd {
        let this = *self;
        self.el
            .children()
            .filter(move |c| c.idx != this.excluded)
            .map(move |c| this.wrap(c))
    }
    /// Child elements named `{ns}local`.
    pub fn children_named<'a>(
        &self,
        ns: &'a str,
        local: &'a str,
    ) -> impl Iterator<Item = SignedElement<'d>> + 'a
    where
        'd: 'a,
    {
        self.children().filter(move |c| c.is(ns, local))
    }
    /// Every element below this one in document order (the enveloped signature's subtree
    /// excluded).
    pub fn descendants(&self) -> impl Iterator<Item = SignedElement<'d>> + 'd {
        let this = *self;
        let doc = self.el.doc;
        let top = self.el.idx;
        let mut cur = top;
        let mut skip = false;
        std::iter::from_fn(move || {
            loop {
                cur = doc.next_in_subtree(cur, top, skip);
                skip = false;
                if cur == NONE {
                    return None;
                }
                if cur == this.excluded {
                    skip = true;
                    continue;
                }
                if doc.node(cur).kind == Kind::Element {
                    return Some(this.wrap(doc.element(cur)));
                }
            }
        })
    }
    /// Concatenation of all direct text children (comments skipped), borrowed when one run.
    pub fn text(&self) -> Cow<'d, str> {
        self.el.text()
    }
    /// Appends what [`SignedElement::text`] returns to `out`.
    pub fn push_text(&self, out: &mut String) {
        self.el.push_text(out);
    }
    /// Byte offset of the element.
    pub fn position(&self) -> usize {
        self.el.position()
    }
}

fn fail(el: Element<'_>, reason: SignatureError) -> Error {
    Error::Signature {
        element: el.qualified_name(),
        position: el.position(),
        reason,
    }
}

fn structure(el: Element<'_>, what: &str) -> Error {
    fail(el, SignatureError::Structure(what.to_owned()))
}

/// Child elements of `el`, each required to be in the XML-DSig namespace.
fn dsig_children<'d>(el: Element<'d>) -> Result<Vec<Element<'d>>, Error> {
    let kids: Vec<Element<'d>> = el.children().collect();
    for k in &kids {
        if k.namespace() != Some(DSIG_NS) {
            return Err(structure(*k, "element outside the xml-dsig namespace"));
        }
    }
    Ok(kids)
}

fn algorithm_attr<'d>(el: Element<'d>) -> Result<&'d str, Error> {
    el.attribute("Algorithm")
        .ok_or_else(|| structure(el, "missing Algorithm attribute"))
}

/// The base64 content of `DigestValue`/`SignatureValue`: its full text (every text child,
/// so a comment inside cannot change what is compared), white space removed.
fn base64_value(el: Element<'_>) -> Result<Vec<u8>, Error> {
    if el.children().next().is_some() {
        return Err(structure(el, "child element inside a base64 value"));
    }
    let mut text = el.text().into_owned();
    text.retain(|c| !matches!(c, ' ' | '\t' | '\n' | '\r'));
    base64::engine::general_purpose::STANDARD
        .decode(text.as_bytes())
        .map_err(|_| fail(el, SignatureError::BadBase64))
}

/// The canonicalizer named by a `CanonicalizationMethod` or c14n `Transform`, with its
/// `InclusiveNamespaces PrefixList` (only for the exclusive algorithms).
fn canonicalizer(el: Element<'_>, uri: &str) -> Result<Canonicalizer, Error> {
    let Some(alg) = C14nAlgorithm::from_uri(uri) else {
        return Err(fail(
            el,
            SignatureError::UnsupportedAlgorithm(uri.to_owned()),
        ));
    };
    let mut c = Canonicalizer::new(alg);
    let mut kids = el.children();
    if let Some(k) = kids.next() {
        if !alg.is_exclusive() || !k.is(EXC_C14N_NS, "InclusiveNamespaces") {
            return Err(structure(
                k,
                "unexpected child of a canonicalization method",
            ));
        }
        let list = k.attribute("PrefixList").unwrap_or("");
        // Each listed prefix is looked up at every element: bound the list.
        if list.split_ascii_whitespace().count() > MAX_INCLUSIVE_PREFIXES {
            return Err(Error::Limit {
                position: k.position(),
                limit: LimitError::PrefixList(MAX_INCLUSIVE_PREFIXES),
            });
        }
        c = c.with_inclusive_prefixes(list);
    }
    if let Some(k) = kids.next() {
        return Err(structure(
            k,
            "unexpected child of a canonicalization method",
        ));
    }
    Ok(c)
}

/// Every element carrying a declared ID attribute, by value. A value seen twice anywhere in
/// the document is an error: with duplicates, "the element with this ID" is ambiguous and
/// signature-wrapping attacks choose which one the verifier and the application see.
fn id_index<'d>(doc: &'d Document, names: &[&str]) -> Result<HashMap<&'d str, Element<'d>>, Error> {
    let mut index = HashMap::new();
    for (i, n) in doc.nodes.iter().enumerate() {
        if n.kind != Kind::Element {
            continue;
        }
        #[allow(clippy::cast_possible_truncation)] // node counts fit in u32 (Limits)
        let el = doc.element(i as u32);
        for a in el.attributes() {
            if a.namespace().is_none()
                && names.contains(&a.local_name())
                && index.insert(a.value(), el).is_some()
            {
                return Err(fail(el, SignatureError::DuplicateId(a.value().to_owned())));
            }
        }
    }
    Ok(index)
}

struct CheckedReference<'d> {
    target: Element<'d>,
    enveloped: bool,
    digest: DigestAlgorithm,
}

/// Verifies the XML-DSig `signature` element of `doc` against the trusted keys of `options`.
///
/// What is accepted, and nothing else:
/// - `Signature` holds exactly `SignedInfo`, `SignatureValue`, then optionally `KeyInfo`
///   (ignored: keys come only from `options`) and `Object`s, in that order.
/// - `SignedInfo` holds `CanonicalizationMethod` (exclusive or inclusive C14N 1.0, with or
///   without comments), `SignatureMethod` (see [`SignatureAlgorithm`]) and 1 to
///   `max_references` `Reference`s.
/// - Each `Reference` has `URI="#id"` naming an element by a declared ID attribute, or
///   `URI=""` (the whole document, which then is the signed element) when the signature is
///   a child of the document element; no other URI forms. Optional `Transforms` limited to enveloped-signature followed by at
///   most one canonicalization, then `DigestMethod` (SHA-256/384/512; SHA-1 only when
///   allowed) and `DigestValue`.
/// - No declared ID value appears twice in the document.
/// - `DigestValue` and `SignatureValue` are read from this `SignedInfo` only, as their full
///   text; digests are compared in constant time.
///
/// # Errors
/// [`Error::Signature`] naming the offending element and a [`SignatureError`].
///
/// ```
/// # let pem = std::fs::read("tests/vectors/rsa2048.crt").unwrap();
/// # let xml = std::fs::read("tests/vectors/xmlsec1-rsa-sha256.xml").unwrap();
/// use rampart_xmldsig::{verify, Document, TrustedKey, VerifyOptions, DSIG_NS};
/// let doc = Document::parse(&xml)?;
/// let signature = doc.root().children_named(DSIG_NS, "Signature").next().unwrap();
/// let options = VerifyOptions::new(vec![TrustedKey::from_pem_certificate(&pem)?]);
/// let verified = verify(&doc, signature, &options)?;
/// // Read signed data only through the handle:
/// let signed = verified.signed();
/// assert_eq!(signed.attribute("ID"), Some("_assertion1"));
/// # Ok::<(), rampart_xmldsig::Error>(())
/// ```
pub fn verify<'d>(
    doc: &'d Document,
    signature: Element<'d>,
    options: &VerifyOptions,
) -> Result<Verified<'d>, Error> {
    if !std::ptr::eq(doc, signature.doc) {
        return Err(structure(
            signature,
            "signature element from another document",
        ));
    }
    if !signature.is(DSIG_NS, "Signature") {
        return Err(structure(signature, "not a ds:Signature element"));
    }
    if options.keys.is_empty() {
        return Err(fail(signature, SignatureError::NoTrustedKeys));
    }
    let kids = dsig_children(signature)?;
    let (signed_info, signature_value) = match kids.as_slice() {
        [si, sv, rest @ ..]
            if si.local_name() == "SignedInfo" && sv.local_name() == "SignatureValue" =>
        {
            let mut seen_key_info = false;
            for (i, k) in rest.iter().enumerate() {
                match k.local_name() {
                    "KeyInfo" if i == 0 => seen_key_info = true,
                    "Object" => {}
                    _ => return Err(structure(*k, "unexpected element in Signature")),
                }
            }
            let _ = seen_key_info;
            (*si, *sv)
        }
        _ => {
            return Err(structure(
                signature,
                "Signature must start with exactly one SignedInfo then SignatureValue",
            ));
        }
    };

    let si_kids = dsig_children(signed_info)?;
    let [c14n_method, sig_method, references @ ..] = si_kids.as_slice() else {
        return Err(structure(signed_info, "SignedInfo is incomplete"));
    };
    if c14n_method.local_name() != "CanonicalizationMethod" {
        return Err(structure(*c14n_method, "expected CanonicalizationMethod"));
    }
    if sig_method.local_name() != "SignatureMethod" {
        return Err(structure(*sig_method, "expected SignatureMethod"));
    }
    let si_c14n = canonicalizer(*c14n_method, algorithm_attr(*c14n_method)?)?;
    let sig_uri = algorithm_attr(*sig_method)?;
    let Some(sig_alg) = SignatureAlgorithm::from_uri(sig_uri) else {
        return Err(fail(
            *sig_method,
            SignatureError::UnsupportedAlgorithm(sig_uri.to_owned()),
        ));
    };
    if sig_alg.uses_sha1() && !options.allow_sha1 {
        return Err(fail(*sig_method, SignatureError::Sha1NotAllowed));
    }
    if let Some(k) = sig_method.children().next() {
        return Err(structure(k, "unexpected child of SignatureMethod"));
    }
    for r in references {
        if r.local_name() != "Reference" {
            return Err(structure(*r, "expected Reference"));
        }
    }
    if references.is_empty() {
        return Err(structure(signed_info, "SignedInfo has no Reference"));
    }
    if references.len() > options.max_references {
        return Err(fail(
            signed_info,
            SignatureError::TooManyReferences {
                found: references.len(),
                allowed: options.max_references,
            },
        ));
    }

    let index = id_index(doc, &options.id_names())?;
    let mut checked = Vec::with_capacity(references.len());
    // Canonical forms are about as long as the input they come from: sized once, the buffer
    // is not regrown (and copied) a dozen times per reference.
    let mut buf = Vec::with_capacity(doc.input_len());
    for r in references {
        let c = check_reference(*r, signature, &index, options, &mut buf)?;
        checked.push(c);
    }

    // SignedInfo, canonicalized by its own method (XML-DSig section 3.2.2), then the value.
    let sig_value = base64_value(signature_value)?;
    buf.clear();
    si_c14n.subtree(doc, signed_info.idx, NONE, &mut buf)?;
    // Why no key verified, most specific first: a key too small, then a key that cannot
    // check this algorithm at all, else the value is simply not a signature by any of them.
    let mut too_small = false;
    let mut unusable = None;
    let mut matched = None;
    for key in &options.keys {
        match key.verifier(sig_alg, options.allow_small_rsa) {
            Ok(Some(alg)) => {
                let pk = ring::signature::UnparsedPublicKey::new(alg, &key.public_key);
                if pk.verify(&buf, &sig_value).is_ok() {
                    matched = Some(key);
                    break;
                }
            }
            Ok(None) => {}
            Err(SignatureError::KeyTooSmall) => too_small = true,
            Err(e) => unusable = Some(e),
        }
    }
    let Some(key) = matched else {
        let reason = match (too_small, unusable) {
            (true, _) => SignatureError::KeyTooSmall,
            (false, Some(e)) => e,
            (false, None) => SignatureError::SignatureInvalid,
        };
        return Err(fail(signature_value, reason));
    };
    Ok(Verified {
        digest_algorithm: checked[0].digest,
        signed: checked
            .iter()
            .map(|c| SignedElement {
                el: c.target,
                excluded: if c.enveloped { signature.idx } else { NONE },
            })
            .collect(),
        key: key.clone(),
        signature_algorithm: sig_alg,
        signature,
    })
}

fn check_reference<'d>(
    r: Element<'d>,
    signature: Element<'d>,
    index: &HashMap<&'d str, Element<'d>>,
    options: &VerifyOptions,
    buf: &mut Vec<u8>,
) -> Result<CheckedReference<'d>, Error> {
    // XML-DSig section 4.4.3.3: bare-name same-document references, and "" (the whole
    // document, comments removed) only for a signature that is a child of the document
    // element, as IdPs that sign the whole Response write it; the signed element is then the
    // document element. xpointer() and external URIs are refused.
    let uri = r
        .attribute("URI")
        .ok_or_else(|| structure(r, "Reference without URI"))?;
    let whole_document = uri.is_empty();
    let target = if whole_document {
        let root = signature.doc.root();
        if signature.parent() != Some(root) {
            return Err(fail(
                r,
                SignatureError::UnsupportedReferenceUri(
                    "\"\" (whole document) from a signature not on the document element".into(),
                ),
            ));
        }
        root
    } else {
        let id = uri
            .strip_prefix('#')
            .filter(|id| !id.is_empty() && !id.contains(['(', ')', '#', ' ']))
            .ok_or_else(|| fail(r, SignatureError::UnsupportedReferenceUri(uri.to_owned())))?;
        *index
            .get(id)
            .ok_or_else(|| fail(r, SignatureError::ReferenceNotFound(id.to_owned())))?
    };

    // The target must not be inside this Signature (an enveloping signature, as in the
    // XSW variants that hide the signed assertion in ds:Object): SAML never needs it.
    let mut up = Some(target);
    while let Some(e) = up {
        if e == signature {
            return Err(structure(r, "reference target inside its own Signature"));
        }
        up = e.parent();
    }

    let kids = dsig_children(r)?;
    let (transforms, rest) = match kids.split_first() {
        Some((t, rest)) if t.local_name() == "Transforms" => (Some(*t), rest),
        _ => (None, kids.as_slice()),
    };
    let [digest_method, digest_value] = rest else {
        return Err(structure(
            r,
            "Reference must hold DigestMethod then DigestValue",
        ));
    };
    if digest_method.local_name() != "DigestMethod" || digest_value.local_name() != "DigestValue" {
        return Err(structure(
            r,
            "Reference must hold DigestMethod then DigestValue",
        ));
    }

    let mut enveloped = false;
    let mut c14n: Option<Canonicalizer> = None;
    if let Some(t) = transforms {
        let list = dsig_children(t)?;
        if list.is_empty() || list.len() > 2 {
            return Err(structure(t, "Transforms must hold one or two Transform"));
        }
        for (i, tr) in list.iter().enumerate() {
            if tr.local_name() != "Transform" {
                return Err(structure(*tr, "expected Transform"));
            }
            let alg = algorithm_attr(*tr)?;
            if alg == ENVELOPED_SIGNATURE && i == 0 {
                if let Some(k) = tr.children().next() {
                    return Err(structure(k, "unexpected child of Transform"));
                }
                enveloped = true;
            } else if c14n.is_none() && C14nAlgorithm::from_uri(alg).is_some() {
                c14n = Some(canonicalizer(*tr, alg)?);
            } else {
                return Err(fail(
                    *tr,
                    SignatureError::TransformNotAllowed(alg.to_owned()),
                ));
            }
        }
    }
    // A bare-name reference yields the subtree without comments (section 4.4.3.3), and a
    // node-set left without canonicalization is serialized with inclusive C14N (4.4.3.2).
    let c = c14n.map_or_else(
        || Canonicalizer::new(C14nAlgorithm::Inclusive),
        Canonicalizer::without_comments,
    );

    let dm = algorithm_attr(*digest_method)?;
    let Some(digest) = DigestAlgorithm::from_uri(dm) else {
        return Err(fail(
            *digest_method,
            SignatureError::UnsupportedAlgorithm(dm.to_owned()),
        ));
    };
    if digest == DigestAlgorithm::Sha1 && !options.allow_sha1 {
        return Err(fail(*digest_method, SignatureError::Sha1NotAllowed));
    }
    let expected = base64_value(*digest_value)?;

    buf.clear();
    let excluded = if enveloped { signature.idx } else { NONE };
    if whole_document {
        c.whole_document(target.doc, excluded, buf)?;
    } else {
        c.subtree(target.doc, target.idx, excluded, buf)?;
    }
    let actual = ring::digest::digest(digest.ring(), buf);
    if !bool::from(actual.as_ref().ct_eq(&expected)) {
        return Err(fail(*digest_value, SignatureError::DigestMismatch));
    }
    Ok(CheckedReference {
        target,
        enveloped,
        digest,
    })
}
