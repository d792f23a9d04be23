//! The document's shape and its signatures: Status, unique IDs, exactly one assertion where
//! it belongs, at most one signature per element, each verified by rampart-xmldsig and
//! covering the element that holds it.

use std::collections::HashSet;

use rampart_xmldsig::Element;

use super::Validation;
use crate::dsig::{self, Checked};
use crate::error::{Error, SignatureError};
use crate::ns;

impl<'d> Validation<'_, 'd> {
    /// The one assertion of the response, plain or encrypted: a direct child of the Response,
    /// with no other Assertion or EncryptedAssertion anywhere (Advice inside the plain one
    /// excepted). An encrypted one beside a plain one is two assertions.
    pub(super) fn single_assertion(&mut self, root: Element<'d>) -> Result<Found<'d>, Error> {
        let encrypted = |e: &Element<'_>| e.is(ns::ASSERTION, "EncryptedAssertion");
        if !self.decrypts() && root.children().any(|e| encrypted(&e)) {
            self.trace
                .fail("assertion", "response carries an EncryptedAssertion");
            return Err(Error::EncryptedNotSupported("EncryptedAssertion"));
        }
        let direct: Vec<Element<'d>> = root
            .children()
            .filter(|e| e.is(ns::ASSERTION, "Assertion") || encrypted(e))
            .collect();
        let any = |e: &Element<'_>| e.is(ns::ASSERTION, "Assertion") || encrypted(e);
        if direct.len() != 1 {
            let total = root.descendants().filter(any).count();
            self.trace.fail(
                "assertion",
                format!("{} direct child assertions (expected 1)", direct.len()),
            );
            return Err(Error::AssertionCount {
                found: total.max(direct.len()),
            });
        }
        let chosen = direct[0];
        // Any other Assertion anywhere (Extensions, unknown wrappers, ds:Object) is a wrapping
        // attempt. Assertions nested inside the chosen one (saml:Advice) are never read.
        let stray = root
            .descendants()
            .filter(|e| any(e) && *e != chosen && !is_inside(*e, chosen))
            .count();
        if stray > 0 {
            self.trace.fail(
                "assertion",
                format!("{stray} assertion(s) elsewhere in the document"),
            );
            return Err(Error::AssertionCount { found: stray + 1 });
        }
        if encrypted(&chosen) {
            #[cfg(feature = "encrypted-assertions")]
            {
                self.trace.pass("assertion", || {
                    "exactly one assertion, encrypted".to_owned()
                });
                return Ok(Found::Encrypted(chosen));
            }
            // Without the feature, `decrypts()` is false and this was refused above.
            #[cfg(not(feature = "encrypted-assertions"))]
            return Err(Error::EncryptedNotSupported("EncryptedAssertion"));
        }
        self.trace.pass("assertion", || {
            format!(
                "exactly one assertion (ID {:?})",
                chosen.attribute("ID").unwrap_or("")
            )
        });
        Ok(Found::Plain(chosen))
    }

    /// Whether this SP decrypts (has decryption keys).
    pub(super) fn decrypts(&self) -> bool {
        !matches!(
            self.sp.encrypted_assertions,
            crate::config::EncryptedAssertions::Refuse
        )
    }

    pub(super) fn single_signature<'e>(
        &mut self,
        el: Element<'e>,
        what: &'static str,
    ) -> Result<Option<Element<'e>>, Error> {
        let mut sigs = el.children_named(ns::DSIG, "Signature");
        let first = sigs.next();
        if sigs.next().is_some() {
            self.trace.fail(
                "signature",
                format!("more than one ds:Signature on the {what}"),
            );
            return Err(SignatureError::Multiple(what).into());
        }
        Ok(first)
    }

    /// Verifies `sig` in its own document: the response, or a decrypted assertion.
    pub(super) fn verify<'e>(
        &mut self,
        check: &'static str,
        sig: Element<'e>,
        parent: Element<'e>,
    ) -> Result<Checked<'e>, Error> {
        let r = dsig::verify(sig.document(), sig, self.sp).and_then(|c| {
            if c.signed.is_element(parent) {
                Ok(c)
            } else {
                Err(SignatureError::NotEnveloped.into())
            }
        });
        let certs = &self.sp.idp.certificates;
        self.trace.record(
            check,
            |c: &Checked<'_>| {
                format!(
                    "valid; covers <{}> ID {:?} at byte {}; verified with configured certificate {} (sha-256 {})",
                    parent.qualified_name(),
                    parent.attribute("ID").unwrap_or(""),
                    parent.position(),
                    certs[c.certificate].subject(),
                    certs[c.certificate].fingerprint_sha256()
                )
            },
            r,
        )
    }
}

/// The response's one assertion, as found.
pub(super) enum Found<'d> {
    Plain(Element<'d>),
    #[cfg(feature = "encrypted-assertions")]
    Encrypted(Element<'d>),
}

pub(super) fn unreachable_signatures<T>() -> Result<T, Error> {
    Err(SignatureError::Missing.into())
}

pub(super) fn is_inside(e: Element<'_>, ancestor: Element<'_>) -> bool {
    let mut cur = e.parent();
    while let Some(p) = cur {
        if p == ancestor {
            return true;
        }
        cur = p.parent();
    }
    false
}

/// Status must be Success (SAML core 3.2.2.2); otherwise report every nested code and the
/// message. Read from the unsigned envelope: this only ever produces a rejection.
pub(super) fn check_status(root: Element<'_>) -> Result<(), Error> {
    let status = root
        .children_named(ns::PROTOCOL, "Status")
        .next()
        .ok_or_else(|| Error::malformed("response has no Status"))?;
    let mut codes = Vec::new();
    let mut code = status.children_named(ns::PROTOCOL, "StatusCode").next();
    while let Some(c) = code {
        if codes.len() >= 8 {
            break;
        }
        codes.push(c.attribute("Value").unwrap_or("").to_owned());
        code = c.children_named(ns::PROTOCOL, "StatusCode").next();
    }
    if codes.is_empty() {
        return Err(Error::malformed("status has no StatusCode"));
    }
    if codes[0] == ns::STATUS_SUCCESS {
        return Ok(());
    }
    let message = status
        .children_named(ns::PROTOCOL, "StatusMessage")
        .next()
        .map(|m| m.text().into_owned());
    Err(Error::Status { codes, message })
}

/// IDs must be unique document-wide (XML-DSig reference resolution is ambiguous otherwise:
/// the crewjam CVE-2022-41912 shape). Checks the `ID` attribute SAML uses.
pub(super) fn check_unique_ids(root: Element<'_>) -> Result<usize, Error> {
    check_unique_ids_in(&[root])
}

/// [`check_unique_ids`] over several trees at once (a response and its decrypted assertion:
/// a reference must not find its ID in both).
pub(super) fn check_unique_ids_in(roots: &[Element<'_>]) -> Result<usize, Error> {
    let mut seen = HashSet::new();
    for e in roots
        .iter()
        .flat_map(|r| std::iter::once(*r).chain(r.descendants()))
    {
        if let Some(id) = e.attribute("ID")
            && !seen.insert(id)
        {
            return Err(SignatureError::DuplicateId(id.to_owned()).into());
        }
    }
    Ok(seen.len())
}
