//! A read-only view of an element, implemented by the XML tree's `Element` (for the unsigned
//! envelope: status, and the Response header when only the assertion is signed) and by the
//! verified-signature view (for everything that becomes part of a [`Login`](crate::Login)).
//! Reading code is generic over it so the same code reads both, and the type says which one a
//! value came from.

use std::borrow::Cow;

use rampart_xmldsig::{Element, collapse_white_space, is_xml_white_space, trim_xml_white_space};

use crate::error::Error;

/// Depth bound for [`deep_text`]: attribute values are shallow; anything deeper is refused
/// rather than walked.
const MAX_VALUE_DEPTH: usize = 8;

pub(crate) trait View<'d>: Copy + 'd {
    fn is(&self, ns: &str, local: &str) -> bool;
    fn local_name(&self) -> &'d str;
    fn attribute(&self, local: &str) -> Option<&'d str>;
    fn attribute_ns(&self, ns: &str, local: &str) -> Option<&'d str>;
    fn child_elements(&self) -> impl Iterator<Item = Self> + 'd;
    fn text(&self) -> Cow<'d, str>;
    fn push_text(&self, out: &mut String);
    /// For re-parsing decrypted content in the context it was encrypted in.
    #[cfg(feature = "encrypted-assertions")]
    fn qualified_name(&self) -> String;
    #[cfg(feature = "encrypted-assertions")]
    fn namespaces_in_scope(&self) -> Vec<(&'d str, &'d str)>;

    /// Names are the crate's constants, so the iterator borrows nothing from the caller.
    fn children_named(
        &self,
        ns: &'static str,
        local: &'static str,
    ) -> impl Iterator<Item = Self> + 'd {
        self.child_elements().filter(move |c| c.is(ns, local))
    }

    fn first_child(&self, ns: &str, local: &str) -> Option<Self> {
        self.child_elements().find(|c| c.is(ns, local))
    }
}

impl<'d> View<'d> for Element<'d> {
    fn is(&self, ns: &str, local: &str) -> bool {
        Element::is(self, ns, local)
    }
    fn local_name(&self) -> &'d str {
        Element::local_name(self)
    }
    fn attribute(&self, local: &str) -> Option<&'d str> {
        Element::attribute(self, local)
    }
    fn attribute_ns(&self, ns: &str, local: &str) -> Option<&'d str> {
        Element::attribute_ns(self, ns, local)
    }
    fn child_elements(&self) -> impl Iterator<Item = Self> + 'd {
        self.children()
    }
    fn text(&self) -> Cow<'d, str> {
        Element::text(self)
    }
    fn push_text(&self, out: &mut String) {
        Element::push_text(self, out);
    }
    #[cfg(feature = "encrypted-assertions")]
    fn qualified_name(&self) -> String {
        Element::qualified_name(self)
    }
    #[cfg(feature = "encrypted-assertions")]
    fn namespaces_in_scope(&self) -> Vec<(&'d str, &'d str)> {
        Element::namespaces_in_scope(self)
    }
}

/// Text of an element and, in order, of its descendants (for attribute values with element
/// content). Comments never split a value (the tree skips them). Content nested deeper than
/// [`MAX_VALUE_DEPTH`] is refused: dropping it would report a value the IdP did not send.
pub(crate) fn deep_text<'d, V: View<'d>>(v: V) -> Result<String, Error> {
    fn walk<'d, V: View<'d>>(v: V, depth: usize, out: &mut String) -> Result<(), Error> {
        v.push_text(out);
        for c in v.child_elements() {
            if depth >= MAX_VALUE_DEPTH {
                return Err(Error::malformed(format!(
                    "attribute value nested deeper than {MAX_VALUE_DEPTH} elements"
                )));
            }
            walk(c, depth + 1, out)?;
        }
        Ok(())
    }
    let mut out = String::new();
    walk(v, 0, &mut out)?;
    Ok(out)
}

/// The text of an element whose schema type is simple content (SAML core 2.2: `NameID`,
/// `Issuer`, `Audience`...), exactly as signed. An element child is refused, never skipped:
/// reading only the direct text would report a value the IdP did not sign as a whole.
pub(crate) fn simple_text<'d, V: View<'d>>(v: V, what: &str) -> Result<Cow<'d, str>, Error> {
    if v.child_elements().next().is_some() {
        return Err(Error::malformed(format!("{what} has child elements")));
    }
    Ok(v.text())
}

/// An `xs:string` identity (a NameID) as signed, or `None` when white space around it makes
/// it ambiguous. Never trimmed into another value: the application, its database (SQL's PAD
/// SPACE collations) or a later `trim()` would merge `alice\u{a0}` or `alice ` with `alice`,
/// so those are refused. The one exception is pretty-printing layout, which real IdPs and
/// test suites sign (the value on its own line): an XML white-space run that holds a line
/// break is removed, as OpenSAML reads it. Any other white space at either end (a space or tab
/// alone, or any Unicode space such as U+00A0 or U+3000, even inside the layout) refuses.
pub(crate) fn identity_without_layout(text: &str) -> Option<&str> {
    let inner = trim_xml_white_space(text);
    let lead = &text[..text.len() - text.trim_start_matches(is_xml_white_space).len()];
    let trail = &text[text.trim_end_matches(is_xml_white_space).len()..];
    // The parser turned every CR and CR LF into LF (XML 1.0, 2.11).
    let layout = |run: &str| run.is_empty() || run.contains('\n');
    let padded = inner.starts_with(char::is_whitespace) || inner.ends_with(char::is_whitespace);
    (layout(lead) && layout(trail) && !padded).then_some(inner)
}

/// The value of a simple-content element whose type collapses white space (`xs:anyURI`:
/// Issuer, Audience, AuthnContextClassRef; XML Schema part 2, 4.3.6): XML white space only
/// (space, tab, CR, LF) is stripped, so a pretty-printed value still matches and a U+00A0 or
/// U+3000 at either end stays part of the value.
pub(crate) fn collapsed_text<'d, V: View<'d>>(v: V, what: &str) -> Result<String, Error> {
    Ok(collapse_white_space(&simple_text(v, what)?).into_owned())
}
