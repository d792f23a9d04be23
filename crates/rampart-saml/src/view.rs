//! A read-only view of an element, implemented by the XML tree's `Element` (for the unsigned
//! envelope: status, and the Response header when only the assertion is signed) and by the
//! verified-signature view (for everything that becomes part of a [`Login`](crate::Login)).
//! Reading code is generic over it so the same code reads both, and the type says which one a
//! value came from.

use std::borrow::Cow;

use rampart_xmldsig::Element;

/// Depth bound for [`deep_text`]: attribute values are shallow; anything deeper is refused
/// rather than walked.
const MAX_VALUE_DEPTH: usize = 8;

pub(crate) trait View<'d>: Copy + 'd {
    fn is(&self, ns: &str, local: &str) -> bool;
    fn attribute(&self, local: &str) -> Option<&'d str>;
    fn attribute_ns(&self, ns: &str, local: &str) -> Option<&'d str>;
    fn child_elements(&self) -> impl Iterator<Item = Self> + 'd;
    fn text(&self) -> Cow<'d, str>;
    fn push_text(&self, out: &mut String);

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
}

/// Text of an element and, in order, of its descendants (for attribute values with element
/// content). Comments never split a value (the tree skips them).
pub(crate) fn deep_text<'d, V: View<'d>>(v: V) -> String {
    fn walk<'d, V: View<'d>>(v: V, depth: usize, out: &mut String) {
        v.push_text(out);
        if depth < MAX_VALUE_DEPTH {
            for c in v.child_elements() {
                walk(c, depth + 1, out);
            }
        }
    }
    let mut out = String::new();
    walk(v, 0, &mut out);
    out
}
