//! Hardened XML tree, canonicalization, and XML-DSig verification and signing, in pure Rust.
//!
//! ```
//! use rampart_xmldsig::Document;
//!
//! let xml = br#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_r1">
//!   <Status>admin<!-- a comment cannot cut this short -->@example.com</Status>
//! </samlp:Response>"#;
//! let doc = Document::parse(xml)?;
//! let root = doc.root();
//! assert!(root.is("urn:oasis:names:tc:SAML:2.0:protocol", "Response"));
//! assert_eq!(root.attribute("ID"), Some("_r1"));
//! assert_eq!(root.children().next().unwrap().text(), "admin@example.com");
//! assert!(Document::parse(b"<!DOCTYPE x [<!ENTITY e 'boom'>]><x>&e;</x>").is_err());
//! # Ok::<(), rampart_xmldsig::Error>(())
//! ```
//!
//! Most SAML breaches of the last fifteen years came from this layer: signature wrapping,
//! comment injection, parser differentials and entity tricks. This crate makes them impossible
//! by construction:
//!
//! - [`Document`] rejects DOCTYPE, entities beyond the predefined five, duplicate attributes,
//!   undeclared prefixes, non-UTF-8 input, and input beyond the [`Limits`].
//! - [`Element::text`] concatenates every text child, so a comment cannot truncate a value.
#![forbid(unsafe_code)]

mod algorithms;
mod c14n;
mod error;
mod key;
mod limits;
mod parse;
mod sign;
mod tree;
mod verify;

pub use algorithms::{
    DSIG_NS, DigestAlgorithm, ENVELOPED_SIGNATURE, EXC_C14N_NS, SignatureAlgorithm,
};
pub use c14n::{C14nAlgorithm, Canonicalizer};
pub use error::{Error, KeyError, LimitError, ParseError, SignError, SignatureError};
pub use key::{SigningKey, TrustedKey};
pub use limits::Limits;
pub use sign::{Placement, SignOptions, sign_enveloped, sign_enveloped_with};
pub use tree::{Attribute, Document, Element, XML_NS};
pub use verify::{SignedElement, Verified, VerifyOptions, verify};
