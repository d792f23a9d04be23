//! Hardened XML tree, canonicalization, and XML-DSig verification and signing, in pure Rust
//! (quick-xml tokenizes, ring does the cryptography).
//!
//! ```
//! use rampart_xmldsig::{verify, Document, TrustedKey, VerifyOptions, DSIG_NS};
//! # let xml = std::fs::read("tests/vectors/xmlsec1-rsa-sha256.xml").unwrap();
//! # let idp_cert_pem = std::fs::read("tests/vectors/rsa2048.crt").unwrap();
//! let doc = Document::parse(&xml)?; // no DTDs, no entities, limits enforced
//! let signature = doc.root().children_named(DSIG_NS, "Signature").next().unwrap();
//! let options = VerifyOptions::new(vec![TrustedKey::from_pem_certificate(&idp_cert_pem)?]);
//! let verified = verify(&doc, signature, &options)?; // ID "ID", SHA-256+, one reference
//! let assertion = verified.signed(); // the only way to read signed content
//! let name_id = assertion.descendants().find(|e| e.local_name() == "NameID").unwrap();
//! assert_eq!(name_id.text(), "alice@example.com");
//! # Ok::<(), rampart_xmldsig::Error>(())
//! ```
//!
//! Most SAML breaches of the last fifteen years came from this layer: signature wrapping,
//! comment injection, parser differentials and entity tricks. This crate is built so that
//! they cannot happen, by construction rather than by caller discipline:
//!
//! - **Parsing** ([`Document`]): rejects any DOCTYPE, entities other than the five predefined
//!   ones and character references, duplicate attributes (also by expanded name), undeclared
//!   prefixes, non-UTF-8 input and anything beyond the [`Limits`]. Line ends and attribute
//!   values are normalized as XML 1.0 says, so we see the same values libxml2 does.
//! - **Text** ([`Element::text`]) is every text child concatenated: a comment cannot cut a
//!   value short (`admin@example.com<!---->.evil.example`). Text is never trimmed; where a
//!   schema says white space collapses, [`collapse_white_space`] strips XML's four white-space
//!   characters only, never Unicode spaces such as U+00A0 (an `alice\u{a0}` is not `alice`).
//! - **Canonicalization** ([`Canonicalizer`]): Exclusive XML Canonicalization 1.0 with and
//!   without comments and with the InclusiveNamespaces PrefixList, Canonical XML 1.0, and the
//!   enveloped-signature transform; checked byte for byte against libxml2 on thousands of
//!   generated documents and against xmlsec1 on live signatures.
//! - **Verification** ([`verify`]): keys come only from the caller ([`TrustedKey`], from X.509
//!   [`Certificate`]s parsed once), never from `KeyInfo`; only `#id` same-document references,
//!   by ID attributes the caller declares, in a document where no ID value repeats; whitelisted
//!   transforms; one reference unless allowed; exactly one `SignedInfo`, whose own
//!   `DigestValue` and `SignatureValue` are read as their full text; digests compared in
//!   constant time; SHA-1 and RSA keys under 2048 bits only behind loudly named options.
//! - **What verification returns** ([`Verified`], [`SignedElement`]): a handle to exactly the
//!   element the signature covers, with no way to reach its parent, siblings or the unsigned
//!   signature itself. Code that reads identity data from it cannot read an unsigned copy.
//! - **Signing** ([`sign_enveloped`]): enveloped signatures with exclusive C14N and
//!   RSA-SHA256 or ECDSA-P256-SHA256, for AuthnRequests, metadata and tests; the input bytes
//!   are kept and one `ds:Signature` is inserted where the caller's schema wants it
//!   ([`Placement`]).
//!
//! Not supported, on purpose: DTDs and their attribute defaults or ID declarations, XPath and
//! XSLT transforms, external references, whole-document (`URI=""`) references from a
//! signature that is not on the document element, HMAC signatures, encodings other than
//! UTF-8, XML 1.1. ECDSA is verified with each curve's own digest (P-256 with SHA-256, P-384
//! with SHA-384); the other pairings fail with [`SignatureError::UnsupportedAlgorithm`].
//!
//! Limits beyond [`Limits`]: an `InclusiveNamespaces` `PrefixList` holds at most 32
//! prefixes (real ones hold a handful), and canonical output is capped by
//! [`Canonicalizer::with_max_output`].
#![forbid(unsafe_code)]

mod algorithms;
mod c14n;
mod cert;
mod error;
mod key;
mod limits;
mod parse;
mod sign;
mod tree;
mod verify;
mod whitespace;

pub use algorithms::{
    DSIG_NS, DigestAlgorithm, ENVELOPED_SIGNATURE, EXC_C14N_NS, SIGNATURE_ALGORITHMS,
    SignatureAlgorithm,
};
pub use c14n::{C14nAlgorithm, Canonicalizer, DEFAULT_MAX_CANONICAL_BYTES};
pub use cert::{Certificate, Sha256Fingerprint};
pub use error::{Error, KeyError, LimitError, MarkupError, ParseError, SignError, SignatureError};
pub use key::{SigningKey, TrustedKey};
pub use limits::Limits;
pub use sign::{Placement, SignOptions, sign_enveloped, sign_enveloped_with};
pub use tree::{Attribute, Document, Element, XML_NS};
pub use verify::{SignedElement, Verified, VerifyOptions, verify};
pub use whitespace::{collapse_white_space, is_xml_white_space, trim_xml_white_space};
