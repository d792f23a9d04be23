//! quick-xml events to a [`Document`], with every hardening rule of the crate.
//!
//! quick-xml tokenizes; everything that decides what a document *means* is done here, so it
//! is done once and the same way for every reader: entity and character references (XML 1.0
//! section 4.1, 4.6), line-end normalization (section 2.11), attribute-value normalization
//! (section 3.3.3), namespace resolution (Namespaces in XML 1.0, sections 3 to 6). libxml2
//! does the same, and the differential test holds us to it byte for byte.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::error::{Error, LimitError, MarkupError, ParseError};
use crate::limits::Limits;
use crate::tree::{Attr, Document, Kind, NONE, Name, Node, NsDecl, Span, XML_NS, XMLNS_NS};

/// XML 1.0 appendix F: a UTF-16 byte-order mark, or `<?` encoded in UTF-16 without one.
/// Said apart from "not UTF-8" because XML processors must read UTF-16 and an operator
/// feeding us such a file needs to know what to convert.
fn is_utf16(xml: &[u8]) -> bool {
    matches!(
        xml,
        [0xFE, 0xFF, ..]
            | [0xFF, 0xFE, ..]
            | [0x00, b'<', 0x00, b'?', ..]
            | [b'<', 0x00, b'?', 0x00, ..]
    )
}

pub(crate) fn parse(xml: &[u8], limits: &Limits) -> Result<Document, Error> {
    let max_bytes = limits.max_bytes.min(Limits::HARD_MAX_BYTES);
    if xml.len() > max_bytes {
        return Err(Error::limit(max_bytes, LimitError::Bytes(max_bytes)));
    }
    if is_utf16(xml) {
        return Err(Error::parse(0, ParseError::Utf16));
    }
    let text =
        std::str::from_utf8(xml).map_err(|e| Error::parse(e.valid_up_to(), ParseError::NotUtf8))?;
    check_chars(text)?;
    let base = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let mut b = Builder {
        doc: Document {
            buf: String::with_capacity(text.len() + text.len() / 8),
            // Sized from SAML responses (about one node per 24 bytes, one attribute per 64):
            // growing these one push at a time was a reallocation per few elements.
            nodes: Vec::with_capacity(text.len() / 24 + 2),
            attrs: Vec::with_capacity(text.len() / 64 + 2),
            ns_decls: Vec::with_capacity(8),
            root: NONE,
        },
        input: text,
        limits,
        // Room for a SAML response's depth and attributes per element: these grew from
        // empty on every parse, about eight reallocations.
        open: {
            let mut open = Vec::with_capacity(16);
            open.push(0);
            open
        },
        scope: Vec::with_capacity(16),
        scope_marks: Vec::with_capacity(16),
        open_text: NONE,
        scratch: Vec::with_capacity(8),
        attr_names: Vec::with_capacity(8),
        xml_ns: Span::EMPTY,
    };
    b.doc.buf.push_str(text);
    b.xml_ns = b.push_owned(XML_NS);
    b.doc.nodes.push(Node {
        kind: Kind::Document,
        parent: NONE,
        first_child: NONE,
        last_child: NONE,
        next_sibling: NONE,
        pos: 0,
        start_tag_end: 0,
        end: to_u32(text.len()),
        name: Name::EMPTY,
        value: Span::EMPTY,
        attrs: (0, 0),
        ns_decls: (0, 0),
    });
    b.run(&text[base..], base)?;
    Ok(b.doc)
}

/// XML 1.0 section 2.2: C0 controls other than tab, LF and CR, and U+FFFE/U+FFFF are not
/// characters of a document. (UTF-8 validation already excluded surrogates.)
fn check_chars(text: &str) -> Result<(), Error> {
    // Branch-free flagging so the compiler vectorizes it: this pass runs over every byte of
    // every input, and a per-byte early return made it the most expensive part of parsing.
    // 0xEF is only a candidate for U+FFFE/U+FFFF; the exact check runs on flagged chunks.
    const CHUNK: usize = 256;
    let bytes = text.as_bytes();
    for (n, chunk) in bytes.chunks(CHUNK).enumerate() {
        let mut flag = false;
        for &b in chunk {
            flag |= ((b < 0x20) & (b != b'\t') & (b != b'\n') & (b != b'\r')) | (b == 0xEF);
        }
        if flag {
            let start = n * CHUNK;
            for i in start..start + chunk.len() {
                let c = bytes[i];
                if c < 0x20 && !matches!(c, b'\t' | b'\n' | b'\r') {
                    return Err(Error::parse(i, ParseError::InvalidChar(u32::from(c))));
                }
                if c == 0xEF
                    && bytes.get(i + 1) == Some(&0xBF)
                    && matches!(bytes.get(i + 2), Some(0xBE | 0xBF))
                {
                    let ch = if bytes[i + 2] == 0xBE { 0xFFFE } else { 0xFFFF };
                    return Err(Error::parse(i, ParseError::InvalidChar(ch)));
                }
            }
        }
    }
    Ok(())
}

#[allow(clippy::cast_possible_truncation)] // inputs are capped at Limits::HARD_MAX_BYTES
fn to_u32(n: usize) -> u32 {
    n as u32
}

struct Builder<'i, 'l> {
    doc: Document,
    input: &'i str,
    limits: &'l Limits,
    /// Open nodes: the document node, then each open element.
    open: Vec<u32>,
    /// In-scope namespace declarations (prefix, uri); `scope_marks` per open element.
    scope: Vec<(Span, Span)>,
    scope_marks: Vec<usize>,
    /// The text node that the next piece of text extends, or NONE.
    open_text: u32,
    scratch: Vec<RawAttr>,
    /// Byte ranges of the attribute names of the element being read, for the duplicate check.
    attr_names: Vec<(usize, usize)>,
    /// Where the XML namespace URI sits in the buffer, for `xml:` names.
    xml_ns: Span,
}

struct RawAttr {
    prefix: Span,
    local: Span,
    value: Span,
}

#[derive(Clone, Copy)]
enum Piece<'a> {
    /// A range of the input that needs no decoding.
    Input(Span),
    Owned(&'a str),
}

impl Builder<'_, '_> {
    fn run(&mut self, body: &str, base: usize) -> Result<(), Error> {
        let mut reader = Reader::from_str(body);
        let cfg = reader.config_mut();
        cfg.check_comments = true;
        cfg.check_end_names = true;
        cfg.expand_empty_elements = false;
        cfg.trim_text(false);
        let mut seen_root = false;
        let mut first = true;
        loop {
            let pos = base + pos_usize(reader.buffer_position());
            let ev = reader.read_event().map_err(|e| {
                Error::parse(
                    base + pos_usize(reader.error_position()),
                    tokenizer_error(e),
                )
            })?;
            let after = base + pos_usize(reader.buffer_position());
            let at_top = self.open.len() == 1;
            match ev {
                Event::Decl(d) => {
                    if !first {
                        return Err(Error::parse(pos, ParseError::BadDeclaration));
                    }
                    let version = d
                        .version()
                        .map_err(|_| Error::parse(pos, ParseError::BadDeclaration))?;
                    if &*version != "1.0" {
                        return Err(Error::parse(pos, ParseError::BadDeclaration));
                    }
                    if let Some(enc) = d.encoding() {
                        let enc = enc.map_err(|_| Error::parse(pos, ParseError::BadDeclaration))?;
                        if !enc.eq_ignore_ascii_case("utf-8") {
                            return Err(Error::parse(
                                pos,
                                ParseError::UnsupportedEncoding(enc.into_owned()),
                            ));
                        }
                    }
                }
                Event::DocType(_) => {
                    return Err(Error::parse(pos, ParseError::DoctypeNotAllowed));
                }
                Event::Start(e) | Event::Empty(e) if at_top && seen_root => {
                    let _ = e;
                    return Err(Error::parse(pos, ParseError::ContentOutsideRoot));
                }
                Event::Start(e) => {
                    seen_root = true;
                    self.start(&e, pos, after)?;
                }
                Event::Empty(e) => {
                    seen_root = true;
                    self.start(&e, pos, after)?;
                    self.end(None, pos, after)?;
                }
                Event::End(e) => {
                    if at_top {
                        return Err(Error::parse(
                            pos,
                            ParseError::MismatchedEndTag(e.name().0.to_owned()),
                        ));
                    }
                    self.end(Some(e.name().0), pos, after)?;
                }
                Event::Text(t) => {
                    if at_top {
                        if !t.bytes().all(is_space) {
                            return Err(Error::parse(pos, ParseError::ContentOutsideRoot));
                        }
                    } else {
                        let raw: &str = &t;
                        // One branch-free pass for both rare bytes: most texts are short
                        // runs of white space, where two memchr calls cost more than the scan.
                        let (bracket, cr) = raw.bytes().fold((false, false), |(b, c), x| {
                            (b | (x == b']'), c | (x == b'\r'))
                        });
                        if bracket && raw.contains("]]>") {
                            return Err(Error::parse(
                                pos,
                                ParseError::Syntax("']]>' in text".into()),
                            ));
                        }
                        self.text_piece_scanned(raw, cr, pos)?;
                    }
                }
                Event::CData(c) => {
                    if at_top {
                        return Err(Error::parse(pos, ParseError::ContentOutsideRoot));
                    }
                    self.text_piece_scanned(&c, c.contains('\r'), pos)?;
                }
                Event::GeneralRef(r) => {
                    if at_top {
                        return Err(Error::parse(pos, ParseError::ContentOutsideRoot));
                    }
                    let ch = resolve_ref(&r).map_err(|k| Error::parse(pos, k))?;
                    let mut tmp = [0u8; 4];
                    self.text_piece(Piece::Owned(ch.encode_utf8(&mut tmp)), pos)?;
                }
                Event::Comment(c) => {
                    let value = self.normalized_span(&c, pos)?;
                    self.leaf(Kind::Comment, Name::EMPTY, value, pos, after)?;
                }
                Event::PI(p) => {
                    let target = p.target();
                    if target.eq_ignore_ascii_case("xml") {
                        return Err(Error::parse(pos, ParseError::BadDeclaration));
                    }
                    if !is_ncname(target) {
                        return Err(Error::parse(
                            pos,
                            ParseError::InvalidName(target.to_owned()),
                        ));
                    }
                    let content = p.content();
                    if !content.is_empty() && !content.starts_with(crate::is_xml_white_space) {
                        return Err(Error::parse(
                            pos,
                            ParseError::InvalidName(target.to_owned()),
                        ));
                    }
                    let data = content.trim_start_matches(crate::is_xml_white_space);
                    let name = Name {
                        prefix: Span::EMPTY,
                        local: self.span_of(target),
                        ns: None,
                    };
                    let value = self.normalized_span(data, pos)?;
                    self.leaf(Kind::Pi, name, value, pos, after)?;
                }
                Event::Eof => break,
            }
            first = false;
        }
        if self.open.len() > 1 {
            let top = *self.open.last().unwrap_or(&0);
            let name = self.qname_of(top);
            return Err(Error::parse(
                self.input.len(),
                ParseError::UnclosedElement(name),
            ));
        }
        if self.doc.root == NONE {
            return Err(Error::parse(self.input.len(), ParseError::NoRootElement));
        }
        Ok(())
    }

    fn qname_of(&self, idx: u32) -> String {
        self.doc.element(idx).qualified_name()
    }

    /// The span of `s`, which must be a slice of the input; copied if it is not.
    fn span_of(&mut self, s: &str) -> Span {
        let base = self.input.as_ptr() as usize;
        let p = s.as_ptr() as usize;
        if p >= base && p + s.len() <= base + self.input.len() {
            Span {
                start: to_u32(p - base),
                len: to_u32(s.len()),
            }
        } else {
            self.push_owned(s)
        }
    }

    fn push_owned(&mut self, s: &str) -> Span {
        let start = to_u32(self.doc.buf.len());
        self.doc.buf.push_str(s);
        Span {
            start,
            len: to_u32(s.len()),
        }
    }

    fn check_text_len(&self, len: usize, pos: usize) -> Result<(), Error> {
        if len > self.limits.max_text_len {
            return Err(Error::limit(
                pos,
                LimitError::TextLength(self.limits.max_text_len),
            ));
        }
        Ok(())
    }

    /// A span of `s` with line ends normalized (XML 1.0 section 2.11).
    fn normalized_span(&mut self, s: &str, pos: usize) -> Result<Span, Error> {
        self.check_text_len(s.len(), pos)?;
        if s.contains('\r') {
            let n = normalize_eol(s);
            Ok(self.push_owned(&n))
        } else {
            Ok(self.span_of(s))
        }
    }

    /// A piece of text or CDATA as written; `has_cr` says whether it holds a CR to normalize.
    fn text_piece_scanned(&mut self, raw: &str, has_cr: bool, pos: usize) -> Result<(), Error> {
        if has_cr {
            let n = normalize_eol(raw);
            self.text_piece(Piece::Owned(&n), pos)
        } else {
            let span = self.span_of(raw);
            self.text_piece(Piece::Input(span), pos)
        }
    }

    fn text_piece(&mut self, piece: Piece<'_>, pos: usize) -> Result<(), Error> {
        if self.open_text == NONE {
            let value = match piece {
                Piece::Input(s) => s,
                Piece::Owned(s) => self.push_owned(s),
            };
            self.check_text_len(value.len as usize, pos)?;
            let idx = self.leaf(Kind::Text, Name::EMPTY, value, pos, pos)?;
            self.open_text = idx;
            return Ok(());
        }
        let idx = self.open_text as usize;
        let mut value = self.doc.nodes[idx].value;
        let tail = to_u32(self.doc.buf.len());
        let (piece_len, contiguous) = match piece {
            Piece::Input(s) => (s.len as usize, s.start == value.end()),
            Piece::Owned(s) => (s.len(), false),
        };
        self.check_text_len(value.len as usize + piece_len, pos)?;
        if contiguous {
            value.len += to_u32(piece_len);
        } else {
            // Copied within the buffer: a temporary String per piece was two allocations for
            // every text with a reference in it (`a &amp; b`).
            if value.end() != tail {
                // Move the run to the tail of the buffer so it can grow there.
                self.doc
                    .buf
                    .extend_from_within(value.start as usize..value.end() as usize);
                value.start = tail;
            }
            match piece {
                Piece::Input(s) => self
                    .doc
                    .buf
                    .extend_from_within(s.start as usize..s.end() as usize),
                Piece::Owned(s) => self.doc.buf.push_str(s),
            }
            value.len += to_u32(piece_len);
        }
        self.doc.nodes[idx].value = value;
        Ok(())
    }

    fn new_node(&mut self, node: Node, pos: usize) -> Result<u32, Error> {
        if self.doc.nodes.len() > self.limits.max_nodes {
            return Err(Error::limit(pos, LimitError::Nodes(self.limits.max_nodes)));
        }
        let idx = to_u32(self.doc.nodes.len());
        let parent = node.parent;
        self.doc.nodes.push(node);
        let p = &mut self.doc.nodes[parent as usize];
        if p.last_child == NONE {
            p.first_child = idx;
        } else {
            let last = p.last_child as usize;
            p.last_child = idx;
            self.doc.nodes[last].next_sibling = idx;
            return Ok(idx);
        }
        p.last_child = idx;
        Ok(idx)
    }

    fn leaf(
        &mut self,
        kind: Kind,
        name: Name,
        value: Span,
        pos: usize,
        end: usize,
    ) -> Result<u32, Error> {
        if kind != Kind::Text {
            self.open_text = NONE;
        }
        let parent = *self.open.last().unwrap_or(&0);
        self.new_node(
            Node {
                kind,
                parent,
                first_child: NONE,
                last_child: NONE,
                next_sibling: NONE,
                pos: to_u32(pos),
                start_tag_end: to_u32(end),
                end: to_u32(end),
                name,
                value,
                attrs: (0, 0),
                ns_decls: (0, 0),
            },
            pos,
        )
    }

    fn split_qname(&mut self, qname: &str, pos: usize) -> Result<(Span, Span), Error> {
        let (prefix, local, colon) = match qname.bytes().position(|b| b == b':') {
            Some(i) => (&qname[..i], &qname[i + 1..], true),
            None => ("", qname, false),
        };
        // A colon needs a prefix before it: `:xmlns` is not an unprefixed `xmlns` (found by
        // fuzzing; libxml2 rejects it too).
        if (colon && !is_ncname(prefix)) || !is_ncname(local) {
            return Err(Error::parse(pos, ParseError::InvalidName(qname.to_owned())));
        }
        let p = if prefix.is_empty() {
            Span::EMPTY
        } else {
            self.span_of(prefix)
        };
        Ok((p, self.span_of(local)))
    }

    fn lookup(&self, prefix: &str) -> Option<Span> {
        self.scope
            .iter()
            .rev()
            .find(|(p, _)| self.doc.str(*p) == prefix)
            .map(|(_, u)| *u)
    }

    fn start(&mut self, e: &BytesStart<'_>, pos: usize, after: usize) -> Result<(), Error> {
        self.open_text = NONE;
        if self.open.len() > self.limits.max_depth {
            return Err(Error::limit(pos, LimitError::Depth(self.limits.max_depth)));
        }
        let qname = e.name().0;
        let (prefix, local) = self.split_qname(qname, pos)?;
        self.scope_marks.push(self.scope.len());
        let decl_start = to_u32(self.doc.ns_decls.len());
        self.scratch.clear();
        self.attr_names.clear();
        // Attributes are scanned here rather than through quick-xml's checked iterator,
        // which allocated per element; the rules are XML 1.0 section 3.1 (`S Name Eq
        // AttValue`, white space required between attributes) and the well-formedness
        // constraint "Unique Att Spec" on the literal names. Namespaced duplicates under
        // different prefixes are caught below (Namespaces in XML 1.0, section 6.3).
        let raw_attrs = e.attributes_raw();
        let bytes = raw_attrs.as_bytes();
        let mut i = 0usize;
        let mut count = 0usize;
        loop {
            let ws = i;
            while i < bytes.len() && is_space(bytes[i]) {
                i += 1;
            }
            if i == bytes.len() {
                break;
            }
            if i == ws {
                return Err(Error::parse(
                    pos,
                    ParseError::Syntax("attributes must be separated by white space".into()),
                ));
            }
            let key_start = i;
            while i < bytes.len() && bytes[i] != b'=' && !is_space(bytes[i]) {
                i += 1;
            }
            let key_end = i;
            while i < bytes.len() && is_space(bytes[i]) {
                i += 1;
            }
            if bytes.get(i) != Some(&b'=') {
                return Err(Error::parse(
                    pos,
                    ParseError::Syntax("attribute without '=' and value".into()),
                ));
            }
            i += 1;
            while i < bytes.len() && is_space(bytes[i]) {
                i += 1;
            }
            let Some(&quote @ (b'"' | b'\'')) = bytes.get(i) else {
                return Err(Error::parse(
                    pos,
                    ParseError::Syntax("attribute value not quoted".into()),
                ));
            };
            i += 1;
            let value_start = i;
            let Some(len) = bytes[i..].iter().position(|&b| b == quote) else {
                return Err(Error::parse(
                    pos,
                    ParseError::Syntax("unterminated attribute value".into()),
                ));
            };
            i += len + 1;
            // The delimiters are ASCII, so these are character boundaries.
            let key = &raw_attrs[key_start..key_end];
            let raw_value = &raw_attrs[value_start..value_start + len];
            count += 1;
            if count > self.limits.max_attributes_per_element {
                return Err(Error::limit(
                    pos,
                    LimitError::AttributesPerElement(self.limits.max_attributes_per_element),
                ));
            }
            // Bounded by the per-element limit just checked, so the quadratic scan is too.
            if self
                .attr_names
                .iter()
                .any(|&(s, e)| &raw_attrs[s..e] == key)
            {
                return Err(Error::parse(
                    pos,
                    ParseError::DuplicateAttribute(format!("duplicate attribute `{key}`")),
                ));
            }
            self.attr_names.push((key_start, key_end));
            let value = self.attr_value(raw_value, pos)?;
            if key == "xmlns" {
                let uri = self.doc.str(value);
                if uri == XML_NS || uri == XMLNS_NS {
                    return Err(Error::parse(
                        pos,
                        ParseError::InvalidNamespaceDeclaration(format!("xmlns={uri:?}")),
                    ));
                }
                self.declare(Span::EMPTY, value, pos)?;
            } else if let Some(p) = key.strip_prefix("xmlns:") {
                if !is_ncname(p) {
                    return Err(Error::parse(pos, ParseError::InvalidName(key.to_owned())));
                }
                let uri = self.doc.str(value);
                let bad = match p {
                    "xmlns" => true,
                    "xml" => uri != XML_NS,
                    _ => uri.is_empty() || uri == XML_NS || uri == XMLNS_NS,
                };
                if bad {
                    return Err(Error::parse(
                        pos,
                        ParseError::InvalidNamespaceDeclaration(format!("{key}={uri:?}")),
                    ));
                }
                if p != "xml" {
                    // The xml prefix is bound everywhere; declaring it changes nothing and
                    // canonical forms never output it (C14N 1.0, section 4.5).
                    let ps = self.span_of(p);
                    self.declare(ps, value, pos)?;
                }
            } else {
                let (ap, al) = self.split_qname(key, pos)?;
                self.scratch.push(RawAttr {
                    prefix: ap,
                    local: al,
                    value,
                });
            }
        }
        let decl_end = to_u32(self.doc.ns_decls.len());
        let ns = self.resolve(prefix, pos, true)?;
        let attr_start = to_u32(self.doc.attrs.len());
        let raw = std::mem::take(&mut self.scratch);
        for ra in &raw {
            let ans = if ra.prefix.len == 0 {
                None
            } else {
                self.resolve(ra.prefix, pos, false)?
            };
            if let Some(n) = ans {
                let nstr = self.doc.str(n);
                let lstr = self.doc.str(ra.local);
                // Namespaces in XML 1.0, section 6.3: no two attributes with the same
                // expanded name, even under different prefixes.
                let dup = self.doc.attrs[attr_start as usize..].iter().any(|b| {
                    b.name.ns.is_some_and(|bn| self.doc.str(bn) == nstr)
                        && self.doc.str(b.name.local) == lstr
                });
                if dup {
                    return Err(Error::parse(
                        pos,
                        ParseError::DuplicateAttribute(format!("{{{nstr}}}{lstr}")),
                    ));
                }
            }
            self.doc.attrs.push(Attr {
                name: Name {
                    prefix: ra.prefix,
                    local: ra.local,
                    ns: ans,
                },
                value: ra.value,
            });
        }
        self.scratch = raw;
        let attr_end = to_u32(self.doc.attrs.len());
        let parent = *self.open.last().unwrap_or(&0);
        let idx = self.new_node(
            Node {
                kind: Kind::Element,
                parent,
                first_child: NONE,
                last_child: NONE,
                next_sibling: NONE,
                pos: to_u32(pos),
                start_tag_end: to_u32(after),
                end: to_u32(after),
                name: Name { prefix, local, ns },
                value: Span::EMPTY,
                attrs: (attr_start, attr_end),
                ns_decls: (decl_start, decl_end),
            },
            pos,
        )?;
        if parent == 0 {
            self.doc.root = idx;
        }
        self.open.push(idx);
        Ok(())
    }

    fn declare(&mut self, prefix: Span, uri: Span, pos: usize) -> Result<(), Error> {
        if self.scope.len() >= self.limits.max_namespaces_in_scope {
            return Err(Error::limit(
                pos,
                LimitError::NamespacesInScope(self.limits.max_namespaces_in_scope),
            ));
        }
        self.doc.ns_decls.push(NsDecl { prefix, uri });
        self.scope.push((prefix, uri));
        Ok(())
    }

    fn resolve(&self, prefix: Span, pos: usize, element: bool) -> Result<Option<Span>, Error> {
        let p = self.doc.str(prefix);
        if p.is_empty() {
            // Unprefixed attributes are in no namespace (Namespaces in XML 1.0, section 6.2).
            if !element {
                return Ok(None);
            }
            return Ok(self.lookup("").filter(|u| u.len > 0));
        }
        if p == "xml" {
            return Ok(Some(self.xml_ns_span()));
        }
        if p == "xmlns" {
            return Err(Error::parse(
                pos,
                ParseError::InvalidName(format!("{p}:...")),
            ));
        }
        match self.lookup(p) {
            Some(u) => Ok(Some(u)),
            None => Err(Error::parse(
                pos,
                ParseError::UndeclaredPrefix(p.to_owned()),
            )),
        }
    }

    fn xml_ns_span(&self) -> Span {
        self.xml_ns
    }

    fn end(&mut self, name: Option<&str>, pos: usize, after: usize) -> Result<(), Error> {
        self.open_text = NONE;
        let Some(idx) = self.open.pop() else {
            return Err(Error::parse(
                pos,
                ParseError::MismatchedEndTag(String::new()),
            ));
        };
        if let Some(n) = name {
            // Compared piecewise: building the qualified name allocated once per element.
            let node = &self.doc.nodes[idx as usize];
            let local = self.doc.str(node.name.local);
            let matches = if node.name.prefix.len == 0 {
                n == local
            } else {
                let prefix = self.doc.str(node.name.prefix);
                n.len() == prefix.len() + 1 + local.len()
                    && n.starts_with(prefix)
                    && n.as_bytes()[prefix.len()] == b':'
                    && n.ends_with(local)
            };
            if !matches {
                return Err(Error::parse(
                    pos,
                    ParseError::MismatchedEndTag(n.to_owned()),
                ));
            }
        }
        self.doc.nodes[idx as usize].end = to_u32(after);
        let mark = self.scope_marks.pop().unwrap_or(0);
        self.scope.truncate(mark);
        Ok(())
    }

    /// Decodes an attribute value: references resolved, then white space normalized as for
    /// CDATA attributes (XML 1.0 section 3.3.3: each literal tab, LF, CR or CRLF becomes one
    /// space; characters from references are kept as they are).
    fn attr_value(&mut self, raw: &str, pos: usize) -> Result<Span, Error> {
        self.check_text_len(raw.len(), pos)?;
        // Branch-free so it vectorizes: most values need no decoding and are kept in place.
        let special = raw.bytes().fold(false, |acc, b| {
            acc | matches!(b, b'&' | b'\t' | b'\n' | b'\r' | b'<')
        });
        if !special {
            return Ok(self.span_of(raw));
        }
        let mut out = String::with_capacity(raw.len());
        let mut rest = raw;
        while let Some(i) = rest.find(['&', '\t', '\n', '\r', '<']) {
            out.push_str(&rest[..i]);
            let c = rest.as_bytes()[i];
            match c {
                b'<' => {
                    return Err(Error::parse(
                        pos,
                        ParseError::Syntax("'<' in attribute value".into()),
                    ));
                }
                b'&' => {
                    let Some(end) = rest[i..].find(';') else {
                        return Err(Error::parse(
                            pos,
                            ParseError::Syntax("unterminated reference".into()),
                        ));
                    };
                    let name = &rest[i + 1..i + end];
                    out.push(resolve_ref(name).map_err(|k| Error::parse(pos, k))?);
                    rest = &rest[i + end + 1..];
                    continue;
                }
                b'\r' => {
                    out.push(' ');
                    if rest.as_bytes().get(i + 1) == Some(&b'\n') {
                        rest = &rest[i + 2..];
                        continue;
                    }
                }
                _ => out.push(' '),
            }
            rest = &rest[i + 1..];
        }
        out.push_str(rest);
        Ok(self.push_owned(&out))
    }
}

fn pos_usize(p: u64) -> usize {
    usize::try_from(p).unwrap_or(usize::MAX)
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn normalize_eol(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\r', "\n")
}

/// Resolves the name between `&` and `;`: the five predefined entities (XML 1.0 section 4.6)
/// and character references (section 4.1) to characters XML allows. Anything else is refused:
/// there is no DTD to declare other entities in.
pub(crate) fn resolve_ref(name: &str) -> Result<char, ParseError> {
    let c = match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "apos" => '\'',
        "quot" => '"',
        _ => {
            let Some(num) = name.strip_prefix('#') else {
                return Err(ParseError::EntityNotAllowed(name.to_owned()));
            };
            let bad = || ParseError::InvalidCharRef(name.to_owned());
            let (digits, radix) = match num.strip_prefix('x') {
                Some(h) => (h, 16),
                None => (num, 10),
            };
            if digits.is_empty()
                || digits.len() > 8
                || !digits.bytes().all(|b| b.is_ascii_hexdigit())
            {
                return Err(bad());
            }
            let v = u32::from_str_radix(digits, radix).map_err(|_| bad())?;
            let ch = char::from_u32(v).ok_or_else(bad)?;
            if !is_xml_char(ch) {
                return Err(bad());
            }
            ch
        }
    };
    Ok(c)
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// NCName (Namespaces in XML 1.0, section 3), with the XML 1.0 fifth-edition name
/// characters; non-ASCII ranges are accepted as XML 1.0 fifth edition does.
pub(crate) fn is_ncname(s: &str) -> bool {
    let bytes = s.as_bytes();
    // One table look-up per byte (names are checked for every element and attribute);
    // bytes >= 0x80 fall through to the per-character check below.
    match bytes.first() {
        Some(&f) if NAME_CHAR[usize::from(f)] & NAME_START != 0 => {
            let mut ok = NAME_CHAR_ANY;
            for &b in &bytes[1..] {
                ok &= NAME_CHAR[usize::from(b)];
            }
            if ok != 0 {
                return true;
            }
            if bytes.is_ascii() {
                return false;
            }
        }
        Some(&f) if f < 0x80 => return false,
        None => return false,
        Some(_) => {}
    }
    let mut chars = s.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let start = |c: char| {
        c.is_ascii_alphabetic() || c == '_' || (c as u32 >= 0xC0 && c != '\u{D7}' && c != '\u{F7}')
    };
    start(first)
        && chars.all(|c| start(c) || c.is_ascii_digit() || matches!(c, '-' | '.' | '\u{B7}'))
}

const NAME_START: u8 = 1;
const NAME_CHAR_ANY: u8 = 2;

/// ASCII name characters (Namespaces in XML 1.0 NCName): bit `NAME_START` for letters and
/// `_`, bit `NAME_CHAR_ANY` for those plus digits, `-` and `.`. Non-ASCII bytes have neither.
static NAME_CHAR: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c: u8 = 0;
    while c < 128 {
        let b = c as usize;
        let start = c.is_ascii_alphabetic() || c == b'_';
        if start {
            t[b] = NAME_START | NAME_CHAR_ANY;
        } else if c.is_ascii_digit() || c == b'-' || c == b'.' {
            t[b] = NAME_CHAR_ANY;
        }
        c += 1;
    }
    t
};

/// Names a quick-xml error in this crate's terms: end-tag errors as the parser's own, the
/// rest as [`MarkupError`].
fn tokenizer_error(e: quick_xml::Error) -> ParseError {
    use quick_xml::errors::{IllFormedError as I, SyntaxError as S};
    let markup = match e {
        quick_xml::Error::Syntax(s) => match s {
            S::InvalidBangMarkup => MarkupError::InvalidBangMarkup,
            S::UnclosedPI => MarkupError::UnclosedProcessingInstruction,
            S::UnclosedXmlDecl => MarkupError::UnclosedXmlDeclaration,
            S::UnclosedComment => MarkupError::UnclosedComment,
            S::UnclosedDoctype => MarkupError::UnclosedDoctype,
            S::UnclosedCData => MarkupError::UnclosedCData,
            S::UnclosedTag => MarkupError::UnclosedTag,
            S::UnclosedSingleQuotedAttributeValue | S::UnclosedDoubleQuotedAttributeValue => {
                MarkupError::UnclosedAttributeValue
            }
        },
        quick_xml::Error::IllFormed(i) => match i {
            I::MismatchedEndTag { found, .. } | I::UnmatchedEndTag(found) => {
                return ParseError::MismatchedEndTag(found);
            }
            I::MissingEndTag(name) => return ParseError::UnclosedElement(name),
            I::MissingDeclVersion(_) | I::UnknownVersion => MarkupError::DeclarationVersion,
            I::MissingDoctypeName => MarkupError::DoctypeName,
            I::DoubleHyphenInComment => MarkupError::DoubleHyphenInComment,
            I::UnclosedReference => MarkupError::UnclosedReference,
        },
        // Encoding problems cannot reach here (the input is a &str), nor I/O (no reader).
        quick_xml::Error::Encoding(_) => return ParseError::NotUtf8,
        _ => MarkupError::Other,
    };
    ParseError::Markup(markup)
}
