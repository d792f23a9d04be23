//! The parsed document: one arena of nodes, with every string a range of one buffer.
//!
//! Why an arena: parsing a 10 KiB SAML response must cost less than the RSA check that follows
//! (see BENCHMARKS.md), so the tree makes no allocation per node or per string. The buffer
//! starts as a copy of the input; names and values that need no decoding are ranges of that
//! copy, and decoded values (entities, normalized line ends) are appended after it.

use std::borrow::Cow;

use crate::error::Error;
use crate::limits::Limits;

pub(crate) const NONE: u32 = u32::MAX;

/// The namespace the `xml` prefix is bound to (Namespaces in XML 1.0, section 3).
pub const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
/// The namespace of `xmlns` attributes, which no element or attribute may use.
pub(crate) const XMLNS_NS: &str = "http://www.w3.org/2000/xmlns/";

/// A range of [`Document::buf`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) start: u32,
    pub(crate) len: u32,
}

impl Span {
    pub(crate) const EMPTY: Span = Span { start: 0, len: 0 };
    pub(crate) fn end(self) -> u32 {
        self.start + self.len
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The document node (index 0): parent of the root element and of top-level comments/PIs.
    Document,
    Element,
    /// Adjacent text, CDATA sections and references merged into one run (the XPath data model).
    Text,
    Comment,
    /// `name.local` is the target, `value` the data (leading white space removed).
    Pi,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Name {
    /// Empty when unprefixed.
    pub(crate) prefix: Span,
    pub(crate) local: Span,
    /// `None` when the name is in no namespace.
    pub(crate) ns: Option<Span>,
}

impl Name {
    pub(crate) const EMPTY: Name = Name {
        prefix: Span::EMPTY,
        local: Span::EMPTY,
        ns: None,
    };
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Node {
    pub(crate) kind: Kind,
    pub(crate) parent: u32,
    pub(crate) first_child: u32,
    pub(crate) last_child: u32,
    pub(crate) next_sibling: u32,
    /// Byte offset of the node's first character in the input.
    pub(crate) pos: u32,
    /// Elements: byte offset just after the `>` of the start tag (used by signing to insert).
    #[allow(dead_code)]
    pub(crate) start_tag_end: u32,
    /// Elements: byte offset just after the end tag (or `/>`).
    pub(crate) end: u32,
    pub(crate) name: Name,
    pub(crate) value: Span,
    /// Range of [`Document::attrs`].
    pub(crate) attrs: (u32, u32),
    /// Range of [`Document::ns_decls`]: the namespace declarations written on this element.
    pub(crate) ns_decls: (u32, u32),
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Attr {
    pub(crate) name: Name,
    pub(crate) value: Span,
}

/// `xmlns="uri"` (prefix empty; uri empty undeclares the default) or `xmlns:p="uri"`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NsDecl {
    pub(crate) prefix: Span,
    pub(crate) uri: Span,
}

/// A parsed, well-formed, namespace-resolved XML document.
///
/// Produced only by [`Document::parse`] / [`Document::parse_with_limits`], which reject
/// DOCTYPE, entities other than the five predefined ones, duplicate attributes, undeclared
/// prefixes, non-UTF-8 input and anything beyond the [`Limits`]. It keeps elements,
/// attributes, namespaces, text, CDATA (as text), comments and processing instructions, with
/// the byte offset of each.
///
/// ```
/// use rampart_xmldsig::Document;
/// let doc = Document::parse(br#"<a xmlns="urn:x"><b id="1">hi<!-- c -->there</b></a>"#)?;
/// let b = doc.root().children_named("urn:x", "b").next().unwrap();
/// assert_eq!(b.attribute("id"), Some("1"));
/// assert_eq!(b.text(), "hithere");
/// # Ok::<(), rampart_xmldsig::Error>(())
/// ```
pub struct Document {
    pub(crate) buf: String,
    pub(crate) nodes: Vec<Node>,
    pub(crate) attrs: Vec<Attr>,
    pub(crate) ns_decls: Vec<NsDecl>,
    pub(crate) root: u32,
}

impl std::fmt::Debug for Document {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Document")
            .field("root", &self.root().local_name())
            .field("nodes", &self.nodes.len())
            .finish_non_exhaustive()
    }
}

impl Document {
    /// Parses `xml` with the default [`Limits`].
    ///
    /// # Errors
    /// [`Error::Parse`] for input that is not well-formed or uses a forbidden feature,
    /// [`Error::Limit`] for input beyond the limits; both carry the byte offset.
    pub fn parse(xml: &[u8]) -> Result<Document, Error> {
        crate::parse::parse(xml, &Limits::default())
    }

    /// Parses `xml` with the given limits.
    ///
    /// # Errors
    /// As [`Document::parse`].
    pub fn parse_with_limits(xml: &[u8], limits: &Limits) -> Result<Document, Error> {
        crate::parse::parse(xml, limits)
    }

    /// Parses `content` as the content of an element named `name` (as written, e.g.
    /// `saml:EncryptedAssertion`) that declares `namespaces` (prefix, URI; `""` for the
    /// default namespace): the document's root is that wrapper. For content lifted out of its
    /// context, such as a decrypted XML Encryption element that uses prefixes its ancestors
    /// declared ([`Element::namespaces_in_scope`] gives them). Content that closes the wrapper
    /// early leaves trailing markup, which the parser refuses. The wrapped copy of `content`
    /// is zeroized once parsed.
    ///
    /// ```
    /// use rampart_xmldsig::{Document, Limits};
    /// let doc = Document::parse_in_context(
    ///     "w:wrap",
    ///     &[("w", "urn:w"), ("p", "urn:p")],
    ///     b"<p:inner>hi</p:inner>",
    ///     &Limits::default(),
    /// )?;
    /// let inner = doc.root().children().next().unwrap();
    /// assert!(inner.is("urn:p", "inner"));
    /// assert!(Document::parse_in_context("w", &[], b"</w><w>", &Limits::default()).is_err());
    /// # Ok::<(), rampart_xmldsig::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Document::parse`], for the wrapped content.
    pub fn parse_in_context(
        name: &str,
        namespaces: &[(&str, &str)],
        content: &[u8],
        limits: &Limits,
    ) -> Result<Document, Error> {
        let mut xml = zeroize::Zeroizing::new(Vec::with_capacity(content.len() + 512));
        xml.push(b'<');
        xml.extend_from_slice(name.as_bytes());
        for (prefix, uri) in namespaces {
            crate::c14n::write_xmlns(prefix, uri, &mut xml);
        }
        xml.push(b'>');
        xml.extend_from_slice(content);
        xml.extend_from_slice(b"</");
        xml.extend_from_slice(name.as_bytes());
        xml.push(b'>');
        crate::parse::parse(&xml, limits)
    }

    /// The root (document) element.
    pub fn root(&self) -> Element<'_> {
        Element {
            doc: self,
            idx: self.root,
        }
    }

    /// Length in bytes of the parsed input (the document node spans all of it).
    pub(crate) fn input_len(&self) -> usize {
        self.nodes[0].end as usize
    }

    pub(crate) fn str(&self, s: Span) -> &str {
        &self.buf[s.start as usize..s.end() as usize]
    }

    pub(crate) fn node(&self, idx: u32) -> &Node {
        &self.nodes[idx as usize]
    }

    pub(crate) fn attrs_of(&self, idx: u32) -> &[Attr] {
        let (s, e) = self.node(idx).attrs;
        &self.attrs[s as usize..e as usize]
    }

    pub(crate) fn ns_decls_of(&self, idx: u32) -> &[NsDecl] {
        let (s, e) = self.node(idx).ns_decls;
        &self.ns_decls[s as usize..e as usize]
    }

    pub(crate) fn element(&self, idx: u32) -> Element<'_> {
        Element { doc: self, idx }
    }

    /// Iterates the child node indices of `idx`.
    pub(crate) fn child_nodes(&self, idx: u32) -> ChildNodes<'_> {
        ChildNodes {
            doc: self,
            next: self.node(idx).first_child,
        }
    }

    /// Next node after `idx` in document order, staying inside the subtree of `top`
    /// (descending into children unless `skip_children`).
    pub(crate) fn next_in_subtree(&self, idx: u32, top: u32, skip_children: bool) -> u32 {
        let n = self.node(idx);
        if !skip_children && n.first_child != NONE {
            return n.first_child;
        }
        let mut cur = idx;
        while cur != top {
            let c = self.node(cur);
            if c.next_sibling != NONE {
                return c.next_sibling;
            }
            cur = c.parent;
        }
        NONE
    }
}

pub(crate) struct ChildNodes<'d> {
    doc: &'d Document,
    next: u32,
}

impl Iterator for ChildNodes<'_> {
    type Item = u32;
    fn next(&mut self) -> Option<u32> {
        if self.next == NONE {
            return None;
        }
        let cur = self.next;
        self.next = self.doc.node(cur).next_sibling;
        Some(cur)
    }
}

/// A read-only handle to one element of a [`Document`] (the document plus a node index).
///
/// Copying it is free. Two handles are equal when they name the same element of the same
/// document.
#[derive(Clone, Copy)]
pub struct Element<'d> {
    pub(crate) doc: &'d Document,
    pub(crate) idx: u32,
}

impl PartialEq for Element<'_> {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.doc, other.doc) && self.idx == other.idx
    }
}
impl Eq for Element<'_> {}

impl std::fmt::Debug for Element<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Element(<{}> at byte {})",
            self.qualified_name(),
            self.position()
        )
    }
}

impl<'d> Element<'d> {
    fn node(&self) -> &'d Node {
        self.doc.node(self.idx)
    }

    /// The document this element belongs to.
    pub fn document(&self) -> &'d Document {
        self.doc
    }

    /// The local part of the element's name (`Assertion` for `saml:Assertion`).
    pub fn local_name(&self) -> &'d str {
        self.doc.str(self.node().name.local)
    }

    /// The prefix as written, if any (`saml` for `saml:Assertion`). Prefixes carry no meaning:
    /// compare namespaces with [`Element::is`] instead.
    pub fn prefix(&self) -> Option<&'d str> {
        let p = self.node().name.prefix;
        (p.len > 0).then(|| self.doc.str(p))
    }

    /// The name as written (`saml:Assertion`), for messages.
    pub fn qualified_name(&self) -> String {
        match self.prefix() {
            Some(p) => format!("{p}:{}", self.local_name()),
            None => self.local_name().to_owned(),
        }
    }

    /// The namespace URI the element's name resolves to, `None` if it is in no namespace.
    pub fn namespace(&self) -> Option<&'d str> {
        self.node().name.ns.map(|s| self.doc.str(s))
    }

    /// True when the element's namespace is `ns` and its local name is `local`.
    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.local_name() == local && self.namespace() == Some(ns)
    }

    /// The value of the attribute `local` in no namespace (an unprefixed attribute), after
    /// entity decoding and attribute-value normalization (XML 1.0, section 3.3.3).
    pub fn attribute(&self, local: &str) -> Option<&'d str> {
        self.doc
            .attrs_of(self.idx)
            .iter()
            .find(|a| a.name.ns.is_none() && self.doc.str(a.name.local) == local)
            .map(|a| self.doc.str(a.value))
    }

    /// The value of the attribute with namespace `ns` and local name `local`.
    pub fn attribute_ns(&self, ns: &str, local: &str) -> Option<&'d str> {
        self.doc
            .attrs_of(self.idx)
            .iter()
            // Local name first: it is short and tells most attributes apart, where the
            // namespace URIs are long and mostly shared.
            .find(|a| {
                self.doc.str(a.name.local) == local
                    && a.name.ns.is_some_and(|n| self.doc.str(n) == ns)
            })
            .map(|a| self.doc.str(a.value))
    }

    /// All attributes (namespace declarations excluded), in document order.
    pub fn attributes(&self) -> impl Iterator<Item = Attribute<'d>> + 'd {
        let doc = self.doc;
        doc.attrs_of(self.idx)
            .iter()
            .map(move |a| Attribute { doc, attr: *a })
    }

    /// The child elements, in document order.
    pub fn children(&self) -> impl Iterator<Item = Element<'d>> + 'd {
        let doc = self.doc;
        doc.child_nodes(self.idx)
            .filter(move |&i| doc.node(i).kind == Kind::Element)
            .map(move |idx| Element { doc, idx })
    }

    /// The child elements with namespace `ns` and local name `local`, in document order.
    pub fn children_named<'a>(
        &self,
        ns: &'a str,
        local: &'a str,
    ) -> impl Iterator<Item = Element<'d>> + 'a
    where
        'd: 'a,
    {
        self.children().filter(move |c| c.is(ns, local))
    }

    /// The parent element; `None` for the root element.
    pub fn parent(&self) -> Option<Element<'d>> {
        let p = self.node().parent;
        (p != NONE && self.doc.node(p).kind == Kind::Element).then(|| self.doc.element(p))
    }

    /// Every element below this one (not this one), in document order.
    pub fn descendants(&self) -> impl Iterator<Item = Element<'d>> + 'd {
        let doc = self.doc;
        let top = self.idx;
        let mut cur = top;
        std::iter::from_fn(move || {
            loop {
                cur = doc.next_in_subtree(cur, top, false);
                if cur == NONE {
                    return None;
                }
                if doc.node(cur).kind == Kind::Element {
                    return Some(Element { doc, idx: cur });
                }
            }
        })
    }

    /// The concatenation of all direct text children (CDATA included, comments and
    /// processing instructions skipped), so `a<!---->b` reads as `ab`: a comment cannot cut
    /// a value short. Text of child elements is not included.
    ///
    /// Borrowed from the document unless a comment, processing instruction or child element
    /// splits the text (adjacent text, CDATA and references are already one run).
    pub fn text(&self) -> Cow<'d, str> {
        let mut texts = self.text_runs();
        match (texts.next(), texts.next()) {
            (None, _) => Cow::Borrowed(""),
            (Some(only), None) => Cow::Borrowed(only),
            (Some(_), Some(_)) => {
                let mut out = String::new();
                self.push_text(&mut out);
                Cow::Owned(out)
            }
        }
    }

    /// Appends what [`Element::text`] returns to `out`, without an intermediate string.
    pub fn push_text(&self, out: &mut String) {
        for t in self.text_runs() {
            out.push_str(t);
        }
    }

    fn text_runs(&self) -> impl Iterator<Item = &'d str> + 'd {
        let doc = self.doc;
        doc.child_nodes(self.idx).filter_map(move |i| {
            let n = doc.node(i);
            (n.kind == Kind::Text).then(|| doc.str(n.value))
        })
    }

    /// True when the element has a child element, or a text child that is not only XML
    /// white space.
    pub fn has_content(&self) -> bool {
        self.doc.child_nodes(self.idx).any(|i| {
            let n = self.doc.node(i);
            n.kind == Kind::Element
                || (n.kind == Kind::Text
                    && !self
                        .doc
                        .str(n.value)
                        .bytes()
                        .all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r')))
        })
    }

    /// Byte offset of the element's `<` in the input.
    pub fn position(&self) -> usize {
        self.node().pos as usize
    }

    /// The namespace URI `prefix` resolves to at this element (`""` asks for the default
    /// namespace), or `None` when it is not bound. Useful for QName-valued content such as
    /// `xsi:type`.
    pub fn lookup_namespace(&self, prefix: &str) -> Option<&'d str> {
        if prefix == "xml" {
            return Some(XML_NS);
        }
        let mut cur = self.idx;
        while cur != NONE && self.doc.node(cur).kind == Kind::Element {
            for d in self.doc.ns_decls_of(cur) {
                if self.doc.str(d.prefix) == prefix {
                    let uri = self.doc.str(d.uri);
                    return (!uri.is_empty()).then_some(uri);
                }
            }
            cur = self.doc.node(cur).parent;
        }
        None
    }

    /// Every namespace binding in scope at this element, as `(prefix, uri)` with `""` for the
    /// default namespace, nearest declaration first and shadowed ones left out. An undeclared
    /// default (`xmlns=""`) is reported with an empty URI. The `xml` prefix is implicit and
    /// not listed.
    ///
    /// For re-parsing content that was lifted out of its context (a decrypted XML Encryption
    /// element uses the prefixes its ancestors declared).
    ///
    /// ```
    /// let doc = rampart_xmldsig::Document::parse(br#"<a xmlns="urn:a" xmlns:p="urn:p"><b xmlns:p="urn:q"/></a>"#)?;
    /// let b = doc.root().children().next().unwrap();
    /// assert_eq!(b.namespaces_in_scope(), [("p", "urn:q"), ("", "urn:a")]);
    /// # Ok::<(), rampart_xmldsig::Error>(())
    /// ```
    pub fn namespaces_in_scope(&self) -> Vec<(&'d str, &'d str)> {
        let mut out: Vec<(&'d str, &'d str)> = Vec::new();
        let mut cur = self.idx;
        while cur != NONE && self.doc.node(cur).kind == Kind::Element {
            for d in self.doc.ns_decls_of(cur) {
                let prefix = self.doc.str(d.prefix);
                if !out.iter().any(|(p, _)| *p == prefix) {
                    out.push((prefix, self.doc.str(d.uri)));
                }
            }
            cur = self.doc.node(cur).parent;
        }
        out
    }
}

/// One attribute of an element (namespace declarations are not attributes here).
#[derive(Clone, Copy)]
pub struct Attribute<'d> {
    doc: &'d Document,
    attr: Attr,
}

impl std::fmt::Debug for Attribute<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Attribute({}={:?})", self.local_name(), self.value())
    }
}

impl<'d> Attribute<'d> {
    /// Local part of the name.
    pub fn local_name(&self) -> &'d str {
        self.doc.str(self.attr.name.local)
    }
    /// Prefix as written, if any.
    pub fn prefix(&self) -> Option<&'d str> {
        let p = self.attr.name.prefix;
        (p.len > 0).then(|| self.doc.str(p))
    }
    /// Namespace URI, `None` for an unprefixed attribute.
    pub fn namespace(&self) -> Option<&'d str> {
        self.attr.name.ns.map(|s| self.doc.str(s))
    }
    /// Value after entity decoding and attribute-value normalization.
    pub fn value(&self) -> &'d str {
        self.doc.str(self.attr.value)
    }
}
