//! Canonical XML 1.0 (inclusive) and Exclusive XML Canonicalization 1.0, with and without
//! comments, over a whole document or over the subtree of one element (optionally minus one
//! excluded subtree: the enveloped-signature transform, XML-DSig section 6.6.4).
//!
//! Specs: <https://www.w3.org/TR/2001/REC-xml-c14n-20010315> (cited "C14N") and
//! <https://www.w3.org/TR/2002/REC-xml-exc-c14n-20020718/> (cited "Exc-C14N").
//! The output is checked byte for byte against libxml2 (tests/c14n_libxml2.rs).

use crate::error::{Error, LimitError};
use crate::tree::{Document, Element, Kind, NONE, XML_NS};

/// A canonicalization algorithm, named by its URI in XML-DSig documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum C14nAlgorithm {
    /// Exclusive XML Canonicalization 1.0, comments removed.
    Exclusive,
    /// Exclusive XML Canonicalization 1.0, comments kept.
    ExclusiveWithComments,
    /// Canonical XML 1.0 (inclusive), comments removed.
    Inclusive,
    /// Canonical XML 1.0 (inclusive), comments kept.
    InclusiveWithComments,
}

impl C14nAlgorithm {
    /// The algorithm's URI.
    pub fn uri(self) -> &'static str {
        match self {
            C14nAlgorithm::Exclusive => "http://www.w3.org/2001/10/xml-exc-c14n#",
            C14nAlgorithm::ExclusiveWithComments => {
                "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"
            }
            C14nAlgorithm::Inclusive => "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
            C14nAlgorithm::InclusiveWithComments => {
                "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments"
            }
        }
    }

    /// The algorithm a URI names, if this crate implements it.
    pub fn from_uri(uri: &str) -> Option<Self> {
        [
            C14nAlgorithm::Exclusive,
            C14nAlgorithm::ExclusiveWithComments,
            C14nAlgorithm::Inclusive,
            C14nAlgorithm::InclusiveWithComments,
        ]
        .into_iter()
        .find(|a| a.uri() == uri)
    }

    /// True for the two exclusive variants.
    pub fn is_exclusive(self) -> bool {
        matches!(
            self,
            C14nAlgorithm::Exclusive | C14nAlgorithm::ExclusiveWithComments
        )
    }

    /// True for the two variants that keep comments.
    pub fn with_comments(self) -> bool {
        matches!(
            self,
            C14nAlgorithm::ExclusiveWithComments | C14nAlgorithm::InclusiveWithComments
        )
    }
}

/// Canonicalizes documents or element subtrees with one algorithm.
///
/// ```
/// use rampart_xmldsig::{C14nAlgorithm, Canonicalizer, Document};
/// let doc = Document::parse(br#"<a xmlns:u="urn:unused" z="1" a="2"><b/></a>"#)?;
/// let c14n = Canonicalizer::new(C14nAlgorithm::Exclusive);
/// assert_eq!(c14n.document(&doc)?, br#"<a a="2" z="1"><b></b></a>"#);
/// # Ok::<(), rampart_xmldsig::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canonicalizer {
    algorithm: C14nAlgorithm,
    /// Exc-C14N section 3: prefixes treated as by inclusive canonicalization; `""` is
    /// `#default`.
    inclusive_prefixes: Vec<String>,
    max_output: usize,
}

/// Default cap on one canonical form: exclusive canonicalization re-declares a namespace on
/// every element that uses it, so a crafted 1 MiB document could otherwise expand to
/// gigabytes (a long namespace URI used by thousands of sibling elements).
pub const DEFAULT_MAX_CANONICAL_BYTES: usize = 16 << 20;

impl Canonicalizer {
    /// A canonicalizer for `algorithm` with an empty InclusiveNamespaces PrefixList.
    pub fn new(algorithm: C14nAlgorithm) -> Self {
        Canonicalizer {
            algorithm,
            inclusive_prefixes: Vec::new(),
            max_output: DEFAULT_MAX_CANONICAL_BYTES,
        }
    }

    /// Sets the InclusiveNamespaces PrefixList (Exc-C14N section 3): white-space separated
    /// prefixes, `#default` for the default namespace. Ignored by the inclusive algorithms.
    #[must_use]
    pub fn with_inclusive_prefixes(mut self, prefix_list: &str) -> Self {
        self.inclusive_prefixes = prefix_list
            .split_ascii_whitespace()
            .map(|p| {
                if p == "#default" {
                    String::new()
                } else {
                    p.to_owned()
                }
            })
            .collect();
        self
    }

    /// Sets the largest canonical form produced (default
    /// [`DEFAULT_MAX_CANONICAL_BYTES`]); beyond it canonicalization fails with
    /// [`LimitError::CanonicalOutput`]. Checked after each node, so the buffer may pass the
    /// cap by one node's output (one start tag: its attributes and the namespaces it renders,
    /// each bounded by the parser's [`Limits`](crate::Limits)) before the error.
    #[must_use]
    pub fn with_max_output(mut self, bytes: usize) -> Self {
        self.max_output = bytes;
        self
    }

    /// The same canonicalizer with comments removed.
    pub(crate) fn without_comments(mut self) -> Self {
        self.algorithm = match self.algorithm {
            C14nAlgorithm::Exclusive | C14nAlgorithm::ExclusiveWithComments => {
                C14nAlgorithm::Exclusive
            }
            C14nAlgorithm::Inclusive | C14nAlgorithm::InclusiveWithComments => {
                C14nAlgorithm::Inclusive
            }
        };
        self
    }

    /// The algorithm.
    pub fn algorithm(&self) -> C14nAlgorithm {
        self.algorithm
    }

    /// The canonical form of a whole document (C14N section 2.1: no XML declaration,
    /// comments and PIs outside the root separated from it by line feeds).
    ///
    /// # Errors
    /// [`Error::Limit`] with [`LimitError::CanonicalOutput`] when the output would exceed the
    /// cap.
    pub fn document(&self, doc: &Document) -> Result<Vec<u8>, Error> {
        let mut out = Vec::with_capacity(doc.buf.len());
        self.whole_document(doc, NONE, &mut out)?;
        Ok(out)
    }

    /// The document node's canonical form into `out`, without the subtree of `excluded`.
    pub(crate) fn whole_document(
        &self,
        doc: &Document,
        excluded: u32,
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let out = &mut *out;
        let mut after_root = false;
        for idx in doc.child_nodes(0) {
            let n = doc.node(idx);
            match n.kind {
                Kind::Element => {
                    self.subtree(doc, idx, excluded, out)?;
                    after_root = true;
                }
                Kind::Comment if !self.algorithm.with_comments() => {}
                Kind::Comment | Kind::Pi => {
                    if after_root {
                        out.push(b'\n');
                    }
                    write_leaf(doc, idx, out);
                    if !after_root {
                        out.push(b'\n');
                    }
                }
                Kind::Text | Kind::Document => {}
            }
        }
        self.check_size(doc, doc.root, out)
    }

    fn check_size(&self, doc: &Document, idx: u32, out: &[u8]) -> Result<(), Error> {
        if out.len() > self.max_output {
            return Err(Error::Limit {
                position: doc.node(idx).pos as usize,
                limit: LimitError::CanonicalOutput(self.max_output),
            });
        }
        Ok(())
    }

    /// The canonical form of the subtree rooted at `element` (a document subset: namespace
    /// declarations of ancestors that the subtree uses are rendered on it).
    ///
    /// # Errors
    /// As [`Canonicalizer::document`].
    pub fn element(&self, element: Element<'_>) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        self.subtree(element.doc, element.idx, NONE, &mut out)?;
        Ok(out)
    }

    /// As [`Canonicalizer::element`], with the subtree of `excluded` left out (the
    /// enveloped-signature transform when `excluded` is the signature).
    ///
    /// # Errors
    /// As [`Canonicalizer::document`].
    pub fn element_excluding(
        &self,
        element: Element<'_>,
        excluded: Element<'_>,
    ) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        let ex = if std::ptr::eq(element.doc, excluded.doc) {
            excluded.idx
        } else {
            NONE
        };
        self.subtree(element.doc, element.idx, ex, &mut out)?;
        Ok(out)
    }

    pub(crate) fn subtree(
        &self,
        doc: &Document,
        top: u32,
        excluded: u32,
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let mut st = State::new(doc, self, top);
        let mut cur = top;
        'outer: loop {
            let n = doc.node(cur);
            let mut descend = false;
            match n.kind {
                Kind::Element if cur == excluded => {}
                Kind::Element => {
                    st.start(cur, cur == top, out);
                    if n.first_child == NONE {
                        st.end(cur, out);
                    } else {
                        descend = true;
                    }
                }
                Kind::Text => escape_text(doc.str(n.value), out),
                Kind::Comment if !self.algorithm.with_comments() => {}
                Kind::Comment | Kind::Pi => write_leaf(doc, cur, out),
                Kind::Document => {}
            }
            // Checked per node: one node adds at most a bounded multiple of its input size.
            self.check_size(doc, cur, out)?;
            if descend {
                cur = n.first_child;
                continue;
            }
            loop {
                if cur == top {
                    break 'outer;
                }
                let c = doc.node(cur);
                if c.next_sibling != NONE {
                    cur = c.next_sibling;
                    continue 'outer;
                }
                cur = c.parent;
                st.end(cur, out);
            }
        }
        Ok(())
    }
}

/// Namespace bookkeeping while walking a subtree.
struct State<'d, 'c> {
    doc: &'d Document,
    c14n: &'c Canonicalizer,
    /// Bindings in scope (prefix, uri; uri "" undeclares the default), innermost last.
    in_scope: Vec<(&'d str, &'d str)>,
    /// Bindings rendered by output ancestors (Exc-C14N section 3, "ns_rendered").
    rendered: Vec<(&'d str, &'d str)>,
    marks: Vec<(usize, usize)>,
    ns_out: Vec<(&'d str, &'d str)>,
    attrs_out: Vec<(&'d str, &'d str, Option<&'d str>, &'d str)>,
}

impl<'d, 'c> State<'d, 'c> {
    fn new(doc: &'d Document, c14n: &'c Canonicalizer, top: u32) -> Self {
        let mut in_scope = Vec::new();
        // Bindings declared by ancestors of the apex, outermost first.
        let mut chain = Vec::new();
        let mut p = doc.node(top).parent;
        while p != NONE && doc.node(p).kind == Kind::Element {
            chain.push(p);
            p = doc.node(p).parent;
        }
        for &a in chain.iter().rev() {
            for d in doc.ns_decls_of(a) {
                in_scope.push((doc.str(d.prefix), doc.str(d.uri)));
            }
        }
        // Pre-sized for a SAML assertion's depth and attributes: grown from empty they were
        // about nine reallocations per canonicalization.
        State {
            doc,
            c14n,
            in_scope,
            rendered: Vec::with_capacity(16),
            marks: Vec::with_capacity(16),
            ns_out: Vec::with_capacity(8),
            attrs_out: Vec::with_capacity(8),
        }
    }

    fn lookup(list: &[(&'d str, &'d str)], prefix: &str) -> Option<&'d str> {
        list.iter()
            .rev()
            .find(|(p, _)| *p == prefix)
            .map(|(_, u)| *u)
    }

    /// Renders `(prefix, uri)` unless an output ancestor already rendered the same binding.
    /// An absent default namespace counts as rendered with the empty value, so `xmlns=""` is
    /// written only to undo a non-empty default (C14N section 2.3, Exc-C14N section 3).
    fn consider(&mut self, prefix: &'d str, uri: &'d str) {
        if prefix == "xml" {
            return;
        }
        let current = Self::lookup(&self.rendered, prefix).or(if prefix.is_empty() {
            Some("")
        } else {
            None
        });
        if current != Some(uri) && !self.ns_out.iter().any(|(p, _)| *p == prefix) {
            self.ns_out.push((prefix, uri));
        }
    }

    fn start(&mut self, idx: u32, apex: bool, out: &mut Vec<u8>) {
        let doc = self.doc;
        let n = doc.node(idx);
        self.marks.push((self.in_scope.len(), self.rendered.len()));
        let decls = doc.ns_decls_of(idx);
        for d in decls {
            self.in_scope.push((doc.str(d.prefix), doc.str(d.uri)));
        }
        self.ns_out.clear();
        let alg = self.c14n.algorithm;
        if alg.is_exclusive() {
            // Visibly utilized prefixes (Exc-C14N section 3).
            let prefix = doc.str(n.name.prefix);
            let uri = n.name.ns.map_or("", |s| doc.str(s));
            self.consider(prefix, uri);
            for a in doc.attrs_of(idx) {
                let ap = doc.str(a.name.prefix);
                if !ap.is_empty() && ap != "xml" {
                    self.consider(ap, a.name.ns.map_or("", |s| doc.str(s)));
                }
            }
            // InclusiveNamespaces PrefixList: treated as by C14N, so they can change only at
            // the apex or where the element declares them.
            for p in &self.c14n.inclusive_prefixes {
                if apex || decls.iter().any(|d| doc.str(d.prefix) == p) {
                    if let Some((bp, uri)) =
                        self.in_scope.iter().rev().find(|(bp, _)| *bp == p).copied()
                    {
                        self.consider(bp, uri);
                    } else if p.is_empty() {
                        self.consider("", "");
                    }
                }
            }
        } else if apex {
            // C14N section 2.3: the apex of a subset carries every binding in scope.
            for i in (0..self.in_scope.len()).rev() {
                let (p, u) = self.in_scope[i];
                if Self::lookup(&self.in_scope[i + 1..], p).is_none() {
                    self.consider(p, u);
                }
            }
        } else {
            for d in decls {
                self.consider(doc.str(d.prefix), doc.str(d.uri));
            }
        }
        if self.ns_out.len() > 1 {
            self.ns_out.sort_unstable_by(|a, b| fast_cmp(a.0, b.0));
        }
        self.rendered.extend_from_slice(&self.ns_out);

        out.push(b'<');
        write_qname(doc, n.name.prefix, n.name.local, out);
        for (p, u) in &self.ns_out {
            write_xmlns(p, u, out);
        }
        self.attrs_out.clear();
        for a in doc.attrs_of(idx) {
            self.attrs_out.push((
                a.name.ns.map_or("", |s| doc.str(s)),
                doc.str(a.name.local),
                (a.name.prefix.len > 0).then(|| doc.str(a.name.prefix)),
                doc.str(a.value),
            ));
        }
        if apex && !alg.is_exclusive() {
            self.inherit_xml_attributes(idx);
        }
        if self.attrs_out.len() > 1 {
            self.attrs_out
                .sort_unstable_by(|a, b| fast_cmp(a.0, b.0).then_with(|| fast_cmp(a.1, b.1)));
        }
        for (_, local, prefix, value) in &self.attrs_out {
            out.push(b' ');
            if let Some(p) = prefix {
                out.extend_from_slice(p.as_bytes());
                out.push(b':');
            }
            out.extend_from_slice(local.as_bytes());
            out.extend_from_slice(b"=\"");
            escape_attr(value, out);
            out.push(b'"');
        }
        out.push(b'>');
    }

    /// C14N section 2.4: the apex of a document subset inherits `xml:*` attributes (such as
    /// `xml:lang`) from its ancestors, nearest first, unless it has its own.
    fn inherit_xml_attributes(&mut self, idx: u32) {
        let doc = self.doc;
        let mut p = doc.node(idx).parent;
        while p != NONE && doc.node(p).kind == Kind::Element {
            for a in doc.attrs_of(p) {
                if a.name.ns.is_some_and(|s| doc.str(s) == XML_NS) {
                    let local = doc.str(a.name.local);
                    if !self
                        .attrs_out
                        .iter()
                        .any(|(ns, l, _, _)| *ns == XML_NS && *l == local)
                    {
                        self.attrs_out
                            .push((XML_NS, local, Some("xml"), doc.str(a.value)));
                    }
                }
            }
            p = doc.node(p).parent;
        }
    }

    fn end(&mut self, idx: u32, out: &mut Vec<u8>) {
        let n = self.doc.node(idx);
        out.extend_from_slice(b"</");
        write_qname(self.doc, n.name.prefix, n.name.local, out);
        out.push(b'>');
        if let Some((s, r)) = self.marks.pop() {
            self.in_scope.truncate(s);
            self.rendered.truncate(r);
        }
    }
}

/// Byte-wise string order (what C14N section 2.2 means by lexicographic), as an inline loop:
/// names are short, and calling memcmp for each comparison made sorting attributes the
/// hottest part of canonicalization (measured with perf on the 10 KiB bench document).
fn fast_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    for (x, y) in a.iter().zip(b) {
        if x != y {
            return x.cmp(y);
        }
    }
    a.len().cmp(&b.len())
}

fn write_qname(
    doc: &Document,
    prefix: crate::tree::Span,
    local: crate::tree::Span,
    out: &mut Vec<u8>,
) {
    if prefix.len > 0 {
        out.extend_from_slice(doc.str(prefix).as_bytes());
        out.push(b':');
    }
    out.extend_from_slice(doc.str(local).as_bytes());
}

fn write_leaf(doc: &Document, idx: u32, out: &mut Vec<u8>) {
    let n = doc.node(idx);
    match n.kind {
        Kind::Comment => {
            out.extend_from_slice(b"<!--");
            out.extend_from_slice(doc.str(n.value).as_bytes());
            out.extend_from_slice(b"-->");
        }
        Kind::Pi => {
            out.extend_from_slice(b"<?");
            out.extend_from_slice(doc.str(n.name.local).as_bytes());
            let data = doc.str(n.value);
            if !data.is_empty() {
                out.push(b' ');
                out.extend_from_slice(data.as_bytes());
            }
            out.extend_from_slice(b"?>");
        }
        _ => {}
    }
}

/// C14N section 2.3, text nodes: `&`, `<`, `>` and CR escaped.
pub(crate) fn escape_text(s: &str, out: &mut Vec<u8>) {
    let bytes = s.as_bytes();
    // Most values need no escaping: find out with a branch-free pass, then copy at once.
    if !bytes.iter().fold(false, |acc, &b| {
        acc | matches!(b, b'&' | b'<' | b'>' | b'\r')
    }) {
        out.extend_from_slice(bytes);
        return;
    }
    let mut last = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let rep: &[u8] = match b {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            b'\r' => b"&#xD;",
            _ => continue,
        };
        out.extend_from_slice(&bytes[last..i]);
        out.extend_from_slice(rep);
        last = i + 1;
    }
    out.extend_from_slice(&bytes[last..]);
}

/// A namespace declaration, ` xmlns="uri"` for the empty prefix, ` xmlns:p="uri"` otherwise.
pub(crate) fn write_xmlns(prefix: &str, uri: &str, out: &mut Vec<u8>) {
    if prefix.is_empty() {
        out.extend_from_slice(b" xmlns=\"");
    } else {
        out.extend_from_slice(b" xmlns:");
        out.extend_from_slice(prefix.as_bytes());
        out.extend_from_slice(b"=\"");
    }
    escape_attr(uri, out);
    out.push(b'"');
}

/// C14N section 2.3, attribute values: `&`, `<`, `"`, tab, LF and CR escaped.
pub(crate) fn escape_attr(s: &str, out: &mut Vec<u8>) {
    let bytes = s.as_bytes();
    // Most values need no escaping: find out with a branch-free pass, then copy at once.
    if !bytes.iter().fold(false, |acc, &b| {
        acc | matches!(b, b'&' | b'<' | b'"' | b'\t' | b'\n' | b'\r')
    }) {
        out.extend_from_slice(bytes);
        return;
    }
    let mut last = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let rep: &[u8] = match b {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'"' => b"&quot;",
            b'\t' => b"&#x9;",
            b'\n' => b"&#xA;",
            b'\r' => b"&#xD;",
            _ => continue,
        };
        out.extend_from_slice(&bytes[last..i]);
        out.extend_from_slice(rep);
        last = i + 1;
    }
    out.extend_from_slice(&bytes[last..]);
}
