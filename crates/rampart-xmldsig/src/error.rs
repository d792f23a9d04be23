//! The crate's one error type, with nested enums for the families of failure.

/// Everything that can go wrong in this crate.
///
/// Parse errors carry the byte offset where the problem was found; signature errors name the
/// element (`ds:Reference`, `ds:SignedInfo`, ...) and its byte offset, so an operator can find
/// the problem in the document. No message contains key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input is not XML this crate accepts (malformed, or uses a forbidden feature).
    #[error("xml rejected at byte {position}: {kind}")]
    Parse {
        /// Byte offset in the input where the problem was found.
        position: usize,
        /// What was wrong.
        kind: ParseError,
    },
    /// The input exceeds one of the documented [`Limits`](crate::Limits).
    #[error("xml rejected at byte {position}: limit exceeded: {limit}")]
    Limit {
        /// Byte offset in the input where the limit was crossed.
        position: usize,
        /// Which limit.
        limit: LimitError,
    },
    /// The signature is malformed, uses something not allowed, or does not verify.
    #[error("signature rejected at <{element}> (byte {position}): {reason}")]
    Signature {
        /// Qualified name of the element the problem is about, as written in the document.
        element: String,
        /// Byte offset of that element's start tag.
        position: usize,
        /// Why it was rejected.
        reason: SignatureError,
    },
    /// A certificate or key could not be used.
    #[error("key rejected: {0}")]
    Key(KeyError),
    /// Signing could not be done.
    #[error("signing failed: {0}")]
    Sign(SignError),
}

/// Why the XML parser rejected the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The input is not valid UTF-8 (the only encoding accepted).
    #[error("input is not valid utf-8")]
    NotUtf8,
    /// The input is UTF-16 (a byte-order mark, or `<?` in UTF-16, XML 1.0 appendix F).
    /// Only UTF-8 is read: convert the document first (`iconv -f UTF-16 -t UTF-8`).
    #[error(
        "input is utf-16; only utf-8 is accepted (convert it first, e.g. iconv -f UTF-16 -t UTF-8)"
    )]
    Utf16,
    /// The XML declaration names an encoding other than UTF-8.
    #[error("declared encoding {0:?} is not utf-8")]
    UnsupportedEncoding(String),
    /// A document type declaration (`<!DOCTYPE`), the door to entity expansion attacks.
    #[error("document type declarations are not allowed")]
    DoctypeNotAllowed,
    /// An entity reference other than the five predefined ones.
    #[error("entity reference &{0}; is not allowed (only the five predefined entities)")]
    EntityNotAllowed(String),
    /// A character reference to a character XML does not allow, or a malformed one.
    #[error("invalid character reference &{0};")]
    InvalidCharRef(String),
    /// A character XML 1.0 does not allow in a document.
    #[error("character U+{0:04X} is not allowed in xml")]
    InvalidChar(u32),
    /// The same attribute appears twice on an element (by name, or by namespace and local name).
    #[error("duplicate attribute {0:?}")]
    DuplicateAttribute(String),
    /// A prefix that no enclosing element declares.
    #[error("undeclared namespace prefix {0:?}")]
    UndeclaredPrefix(String),
    /// A namespace declaration that the Namespaces in XML 1.0 recommendation forbids.
    #[error("invalid namespace declaration: {0}")]
    InvalidNamespaceDeclaration(String),
    /// An element or attribute name that is not a valid qualified name.
    #[error("invalid name {0:?}")]
    InvalidName(String),
    /// An end tag that does not match its start tag, or one without a start tag.
    #[error("mismatched end tag </{0}>")]
    MismatchedEndTag(String),
    /// The input ended inside an element.
    #[error("unexpected end of input inside <{0}>")]
    UnclosedElement(String),
    /// There is no root element.
    #[error("no root element")]
    NoRootElement,
    /// Content after the root element, a second root, or text outside the root.
    #[error("content outside the root element")]
    ContentOutsideRoot,
    /// An XML declaration that is not at the very start of the document.
    #[error("misplaced or malformed xml declaration")]
    BadDeclaration,
    /// A syntax rule this crate checks itself (attribute layout, `]]>` in text, ...).
    #[error("malformed xml: {0}")]
    Syntax(String),
    /// Markup the tokenizer could not read (an unclosed comment, tag or CDATA section, ...).
    #[error("malformed xml: {0}")]
    Markup(MarkupError),
}

/// Markup the tokenizer could not read: this crate's names for quick-xml's syntax errors, so
/// the public error does not depend on the tokenizer's types or messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MarkupError {
    /// `<!` followed by something other than a comment, CDATA section or DOCTYPE.
    #[error("unknown markup after '<!'")]
    InvalidBangMarkup,
    /// A processing instruction without its `?>`.
    #[error("processing instruction not closed")]
    UnclosedProcessingInstruction,
    /// An XML declaration without its `?>`.
    #[error("xml declaration not closed")]
    UnclosedXmlDeclaration,
    /// A comment without its `-->`.
    #[error("comment not closed")]
    UnclosedComment,
    /// A DOCTYPE without its `>`.
    #[error("doctype not closed")]
    UnclosedDoctype,
    /// A CDATA section without its `]]>`.
    #[error("cdata section not closed")]
    UnclosedCData,
    /// A start or end tag without its `>`.
    #[error("tag not closed")]
    UnclosedTag,
    /// An attribute value without its closing quote.
    #[error("attribute value not closed")]
    UnclosedAttributeValue,
    /// An XML declaration without a usable `version`.
    #[error("xml declaration without a valid version")]
    DeclarationVersion,
    /// A DOCTYPE without a name.
    #[error("doctype without a name")]
    DoctypeName,
    /// `--` inside a comment (XML 1.0 section 2.5).
    #[error("'--' inside a comment")]
    DoubleHyphenInComment,
    /// An entity or character reference without its `;`.
    #[error("reference not closed")]
    UnclosedReference,
    /// Anything else the tokenizer refused.
    #[error("unreadable markup")]
    Other,
}

/// Which documented limit was exceeded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LimitError {
    /// The input is larger than `max_bytes`.
    #[error("input larger than {0} bytes")]
    Bytes(usize),
    /// Elements nest deeper than `max_depth`.
    #[error("nesting deeper than {0}")]
    Depth(usize),
    /// More nodes than `max_nodes`.
    #[error("more than {0} nodes")]
    Nodes(usize),
    /// An element has more attributes (namespace declarations included) than allowed.
    #[error("more than {0} attributes on one element")]
    AttributesPerElement(usize),
    /// A single text, comment, processing instruction or attribute value is too long.
    #[error("text longer than {0} bytes")]
    TextLength(usize),
    /// More namespace declarations in scope than `max_namespaces_in_scope`.
    #[error("more than {0} namespace declarations in scope")]
    NamespacesInScope(usize),
    /// A canonical form would be larger than the canonicalizer's cap.
    #[error("canonical form larger than {0} bytes")]
    CanonicalOutput(usize),
    /// An InclusiveNamespaces PrefixList names more prefixes than verification allows.
    #[error("more than {0} prefixes in an InclusiveNamespaces PrefixList")]
    PrefixList(usize),
}

/// Why a signature was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The element is not where XML-DSig (section 4) puts it, is missing, or is repeated.
    #[error("unexpected structure: {0}")]
    Structure(String),
    /// An algorithm URI this crate does not implement or does not allow.
    #[error("algorithm {0:?} is not supported")]
    UnsupportedAlgorithm(String),
    /// SHA-1 was used without [`VerifyOptions::allow_sha1_signatures`](crate::VerifyOptions::allow_sha1_signatures).
    #[error("sha-1 is not allowed (opt in with allow_sha1_signatures)")]
    Sha1NotAllowed,
    /// A transform outside the whitelist, or transforms in an order that is not allowed.
    #[error("transform {0:?} is not allowed")]
    TransformNotAllowed(String),
    /// More `Reference` elements than [`VerifyOptions::with_max_references`](crate::VerifyOptions::with_max_references).
    #[error("{found} references, at most {allowed} allowed")]
    TooManyReferences {
        /// How many the signature has.
        found: usize,
        /// How many the options allow.
        allowed: usize,
    },
    /// A reference URI that is not a same-document `#id` reference.
    #[error("reference uri {0:?} is not a same-document id reference")]
    UnsupportedReferenceUri(String),
    /// No element carries the referenced ID.
    #[error("no element has id {0:?}")]
    ReferenceNotFound(String),
    /// Two elements of the document carry the same ID value.
    #[error("id {0:?} appears more than once in the document")]
    DuplicateId(String),
    /// A `DigestValue` or `SignatureValue` is not valid base64.
    #[error("value is not valid base64")]
    BadBase64,
    /// The digest of the referenced content does not match `DigestValue`.
    #[error("digest mismatch: the signed content was changed")]
    DigestMismatch,
    /// No trusted key verifies the signature value.
    #[error("signature value does not verify with any trusted key")]
    SignatureInvalid,
    /// The trusted key is RSA smaller than 2048 bits and small keys were not allowed.
    #[error("rsa key smaller than 2048 bits (opt in with allow_small_rsa_keys)")]
    KeyTooSmall,
    /// No trusted key was given.
    #[error("no trusted keys configured")]
    NoTrustedKeys,
}

/// Why a certificate or key could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// No PEM block with the expected label.
    #[error("no pem block labelled {0:?}")]
    Pem(&'static str),
    /// The certificate's DER does not parse.
    #[error("certificate does not parse")]
    Certificate,
    /// The public key is of a type or curve this crate does not support.
    #[error("unsupported public key: {0}")]
    UnsupportedKey(String),
    /// The private key is not PKCS#8 RSA or ECDSA P-256, or is malformed.
    #[error("private key is not a usable pkcs#8 rsa or ecdsa p-256 key")]
    PrivateKey,
    /// A PKCS#1 `RSA PRIVATE KEY` where PKCS#8 is expected.
    #[error("pkcs#1 key: convert with `openssl pkcs8 -topk8 -nocrypt`")]
    Pkcs1,
    /// The certificate holds another public key than the private key's.
    #[error("certificate does not match the private key")]
    CertificateMismatch,
    /// A PEM text holds several certificates where one was expected.
    #[error("pem holds {0} certificates where one was expected (read each with all_from_pem)")]
    SeveralCertificates(usize),
    /// A PEM block that is not a certificate (a private key by mistake) where certificates
    /// are expected.
    #[error("pem block {0:?} is not a certificate")]
    UnexpectedPemBlock(String),
    /// A certificate given as text that is not UTF-8.
    #[error("certificate is not text")]
    NotText,
    /// A certificate that is neither PEM nor base64 of DER.
    #[error("certificate is neither pem nor base64")]
    NotBase64,
}

/// Why signing failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// No element carries the ID to sign.
    #[error("no element has id {0:?}")]
    IdNotFound(String),
    /// More than one element carries the ID.
    #[error("id {0:?} appears more than once")]
    DuplicateId(String),
    /// The element named as insertion point does not exist.
    #[error("insertion point not found: {0}")]
    InsertionPoint(String),
    /// The cryptographic library refused to sign.
    #[error("the signing operation failed")]
    Crypto,
}

impl Error {
    /// A stable, machine-readable name for the error, e.g. `"digest_mismatch"`, for logs and
    /// for tools that print a verdict. One string per variant of the nested enums; these
    /// strings do not change between releases (new variants get new strings).
    ///
    /// ```
    /// let e = rampart_xmldsig::Document::parse(b"<!DOCTYPE x><x/>").unwrap_err();
    /// assert_eq!(e.kind(), "doctype_not_allowed");
    /// ```
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Parse { kind, .. } => kind.kind(),
            Error::Limit { limit, .. } => limit.kind(),
            Error::Signature { reason, .. } => reason.kind(),
            Error::Key(e) => e.kind(),
            Error::Sign(e) => e.kind(),
        }
    }

    pub(crate) fn parse(position: usize, kind: ParseError) -> Self {
        Error::Parse { position, kind }
    }
    pub(crate) fn limit(position: usize, limit: LimitError) -> Self {
        Error::Limit { position, limit }
    }
}

impl ParseError {
    /// A stable, machine-readable name (see [`Error::kind`]).
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            ParseError::NotUtf8 => "not_utf8",
            ParseError::Utf16 => "utf16_not_supported",
            ParseError::UnsupportedEncoding(_) => "unsupported_encoding",
            ParseError::DoctypeNotAllowed => "doctype_not_allowed",
            ParseError::EntityNotAllowed(_) => "entity_not_allowed",
            ParseError::InvalidCharRef(_) => "invalid_char_ref",
            ParseError::InvalidChar(_) => "invalid_char",
            ParseError::DuplicateAttribute(_) => "duplicate_attribute",
            ParseError::UndeclaredPrefix(_) => "undeclared_prefix",
            ParseError::InvalidNamespaceDeclaration(_) => "invalid_namespace_declaration",
            ParseError::InvalidName(_) => "invalid_name",
            ParseError::MismatchedEndTag(_) => "mismatched_end_tag",
            ParseError::UnclosedElement(_) => "unclosed_element",
            ParseError::NoRootElement => "no_root_element",
            ParseError::ContentOutsideRoot => "content_outside_root",
            ParseError::BadDeclaration => "bad_declaration",
            ParseError::Syntax(_) => "syntax",
            ParseError::Markup(_) => "malformed_markup",
        }
    }
}

impl MarkupError {
    /// A stable, machine-readable name for the finer reason ([`Error::kind`] is
    /// `malformed_markup` for all of them).
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            MarkupError::InvalidBangMarkup => "invalid_bang_markup",
            MarkupError::UnclosedProcessingInstruction => "unclosed_processing_instruction",
            MarkupError::UnclosedXmlDeclaration => "unclosed_xml_declaration",
            MarkupError::UnclosedComment => "unclosed_comment",
            MarkupError::UnclosedDoctype => "unclosed_doctype",
            MarkupError::UnclosedCData => "unclosed_cdata",
            MarkupError::UnclosedTag => "unclosed_tag",
            MarkupError::UnclosedAttributeValue => "unclosed_attribute_value",
            MarkupError::DeclarationVersion => "declaration_version",
            MarkupError::DoctypeName => "doctype_name",
            MarkupError::DoubleHyphenInComment => "double_hyphen_in_comment",
            MarkupError::UnclosedReference => "unclosed_reference",
            MarkupError::Other => "other",
        }
    }
}

impl LimitError {
    /// A stable, machine-readable name (see [`Error::kind`]).
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            LimitError::Bytes(_) => "limit_bytes",
            LimitError::Depth(_) => "limit_depth",
            LimitError::Nodes(_) => "limit_nodes",
            LimitError::AttributesPerElement(_) => "limit_attributes_per_element",
            LimitError::TextLength(_) => "limit_text_length",
            LimitError::NamespacesInScope(_) => "limit_namespaces_in_scope",
            LimitError::CanonicalOutput(_) => "limit_canonical_output",
            LimitError::PrefixList(_) => "limit_prefix_list",
        }
    }
}

impl SignatureError {
    /// A stable, machine-readable name (see [`Error::kind`]).
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            SignatureError::Structure(_) => "signature_structure",
            SignatureError::UnsupportedAlgorithm(_) => "unsupported_algorithm",
            SignatureError::Sha1NotAllowed => "sha1_not_allowed",
            SignatureError::TransformNotAllowed(_) => "transform_not_allowed",
            SignatureError::TooManyReferences { .. } => "too_many_references",
            SignatureError::UnsupportedReferenceUri(_) => "unsupported_reference_uri",
            SignatureError::ReferenceNotFound(_) => "reference_not_found",
            SignatureError::DuplicateId(_) => "duplicate_id",
            SignatureError::BadBase64 => "bad_base64",
            SignatureError::DigestMismatch => "digest_mismatch",
            SignatureError::SignatureInvalid => "signature_invalid",
            SignatureError::KeyTooSmall => "key_too_small",
            SignatureError::NoTrustedKeys => "no_trusted_keys",
        }
    }
}

impl KeyError {
    /// A stable, machine-readable name (see [`Error::kind`]).
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            KeyError::Pem(_) => "pem_block_missing",
            KeyError::Certificate => "invalid_certificate",
            KeyError::UnsupportedKey(_) => "unsupported_key",
            KeyError::PrivateKey => "invalid_private_key",
            KeyError::Pkcs1 => "pkcs1_private_key",
            KeyError::CertificateMismatch => "certificate_mismatch",
            KeyError::SeveralCertificates(_) => "several_certificates",
            KeyError::UnexpectedPemBlock(_) => "unexpected_pem_block",
            KeyError::NotText => "certificate_not_text",
            KeyError::NotBase64 => "certificate_not_base64",
        }
    }
}

impl SignError {
    /// A stable, machine-readable name (see [`Error::kind`]).
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            SignError::IdNotFound(_) => "sign_id_not_found",
            SignError::DuplicateId(_) => "sign_duplicate_id",
            SignError::InsertionPoint(_) => "sign_insertion_point_not_found",
            SignError::Crypto => "sign_failed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_distinct_across_families() {
        let errors = [
            Error::parse(0, ParseError::Syntax(String::new())),
            Error::parse(0, ParseError::DoctypeNotAllowed),
            Error::limit(0, LimitError::Bytes(1)),
            Error::Signature {
                element: String::new(),
                position: 0,
                reason: SignatureError::DuplicateId(String::new()),
            },
            Error::Signature {
                element: String::new(),
                position: 0,
                reason: SignatureError::DigestMismatch,
            },
            Error::Key(KeyError::Certificate),
            Error::Sign(SignError::DuplicateId(String::new())),
            Error::Sign(SignError::Crypto),
        ];
        let kinds: std::collections::HashSet<_> = errors.iter().map(Error::kind).collect();
        assert_eq!(kinds.len(), errors.len());
    }
}
