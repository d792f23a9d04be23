//! The hardened tree: what it keeps, what it rejects, and its limits.

use rampart_xmldsig::{Document, Error, LimitError, Limits, MarkupError, ParseError};

fn parse_err(xml: &str) -> ParseError {
    match Document::parse(xml.as_bytes()) {
        Err(Error::Parse { kind, .. }) => kind,
        other => panic!("expected a parse error for {xml:?}, got {other:?}"),
    }
}

fn limit_err(xml: &[u8], limits: &Limits) -> LimitError {
    match Document::parse_with_limits(xml, limits) {
        Err(Error::Limit { limit, .. }) => limit,
        other => panic!("expected a limit error, got {other:?}"),
    }
}

#[test]
fn reads_names_namespaces_attributes_and_text() {
    let doc = Document::parse(
        br#"<?xml version="1.0" encoding="UTF-8"?>
<p:root xmlns:p="urn:p" xmlns="urn:d" a="1" p:b="2"><child x="&lt;&amp;&#65;">one &amp; two</child><p:other/></p:root>"#,
    )
    .unwrap();
    let root = doc.root();
    assert!(root.is("urn:p", "root"));
    assert_eq!(root.prefix(), Some("p"));
    assert_eq!(root.attribute("a"), Some("1"));
    assert_eq!(root.attribute("b"), None);
    assert_eq!(root.attribute_ns("urn:p", "b"), Some("2"));
    let kids: Vec<_> = root.children().collect();
    assert_eq!(kids.len(), 2);
    assert!(kids[0].is("urn:d", "child"));
    assert_eq!(kids[0].attribute("x"), Some("<&A"));
    assert_eq!(kids[0].text(), "one & two");
    assert_eq!(kids[0].parent(), Some(root));
    assert_eq!(root.parent(), None);
    assert_eq!(root.children_named("urn:p", "other").count(), 1);
    assert_eq!(root.descendants().count(), 2);
    assert_eq!(kids[0].position(), doc_pos(&doc, "<child"));
}

fn doc_pos(_doc: &Document, needle: &str) -> usize {
    let src = r#"<?xml version="1.0" encoding="UTF-8"?>
<p:root xmlns:p="urn:p" xmlns="urn:d" a="1" p:b="2"><child x="&lt;&amp;&#65;">one &amp; two</child><p:other/></p:root>"#;
    src.find(needle).unwrap()
}

#[test]
fn comment_inside_text_does_not_cut_the_value_short() {
    let doc = Document::parse(b"<a>admin<!-- x -->@evil.example</a>").unwrap();
    assert_eq!(doc.root().text(), "admin@evil.example");
}

#[test]
fn text_is_borrowed_when_one_run_and_joined_when_split() {
    use std::borrow::Cow;
    let doc = Document::parse(b"<a><b>one &amp; two</b><c>x<!---->y<d/>z</c><e/></a>").unwrap();
    let kids: Vec<_> = doc.root().children().collect();
    assert!(matches!(kids[0].text(), Cow::Borrowed("one & two")));
    assert!(matches!(kids[1].text(), Cow::Owned(ref s) if s == "xyz"));
    assert!(matches!(kids[2].text(), Cow::Borrowed("")));
    let mut out = String::from(">");
    kids[1].push_text(&mut out);
    kids[0].push_text(&mut out);
    assert_eq!(out, ">xyzone & two");
}

#[test]
fn cdata_and_references_join_the_text() {
    let doc = Document::parse(b"<a>x<![CDATA[<y>]]>&#x7A;</a>").unwrap();
    assert_eq!(doc.root().text(), "x<y>z");
}

#[test]
fn line_ends_are_normalized_in_text_and_attributes() {
    let doc = Document::parse(b"<a b=\"1\r\n2\t3&#13;\">x\r\ny\rz</a>").unwrap();
    assert_eq!(doc.root().text(), "x\ny\nz");
    assert_eq!(doc.root().attribute("b"), Some("1 2 3\r"));
}

#[test]
fn doctype_is_rejected() {
    assert_eq!(
        parse_err("<!DOCTYPE a []><a/>"),
        ParseError::DoctypeNotAllowed
    );
}

#[test]
fn billion_laughs_is_rejected() {
    let xml = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><lolz>&lol2;</lolz>"#;
    assert_eq!(parse_err(xml), ParseError::DoctypeNotAllowed);
}

#[test]
fn undeclared_entity_is_rejected() {
    assert_eq!(
        parse_err("<a>&xxe;</a>"),
        ParseError::EntityNotAllowed("xxe".into())
    );
    assert_eq!(
        parse_err("<a b='&xxe;'/>"),
        ParseError::EntityNotAllowed("xxe".into())
    );
}

#[test]
fn invalid_char_refs_are_rejected() {
    assert!(matches!(
        parse_err("<a>&#0;</a>"),
        ParseError::InvalidCharRef(_)
    ));
    assert!(matches!(
        parse_err("<a>&#x1;</a>"),
        ParseError::InvalidCharRef(_)
    ));
    assert!(matches!(
        parse_err("<a>&#xD800;</a>"),
        ParseError::InvalidCharRef(_)
    ));
    assert!(matches!(
        parse_err("<a>&#X41;</a>"),
        ParseError::InvalidCharRef(_)
    ));
}

#[test]
fn duplicate_attribute_is_rejected() {
    assert!(matches!(
        parse_err("<a b='1' b='2'/>"),
        ParseError::DuplicateAttribute(_)
    ));
}

#[test]
fn duplicate_namespace_declaration_is_rejected() {
    assert!(matches!(
        parse_err("<a xmlns:p='urn:x' xmlns:p='urn:y'/>"),
        ParseError::DuplicateAttribute(_)
    ));
}

#[test]
fn attributes_without_separating_white_space_are_rejected() {
    // XML 1.0 section 3.1: `S Attribute` between attributes (libxml2 rejects it too).
    assert!(matches!(
        parse_err("<a b='1'c='2'/>"),
        ParseError::Syntax(_)
    ));
}

#[test]
fn attribute_without_value_is_rejected() {
    assert!(matches!(parse_err("<a b/>"), ParseError::Syntax(_)));
    assert!(matches!(parse_err("<a b=/>"), ParseError::Syntax(_)));
    assert!(matches!(parse_err("<a b=1/>"), ParseError::Syntax(_)));
}

#[test]
fn attribute_with_white_space_around_eq_is_read() {
    let doc = Document::parse(b"<a b \n= \t'x y' c=\"&amp;\"/>").unwrap();
    assert_eq!(doc.root().attribute("b"), Some("x y"));
    assert_eq!(doc.root().attribute("c"), Some("&"));
}

#[test]
fn duplicate_attribute_by_expanded_name_is_rejected() {
    assert!(matches!(
        parse_err("<a xmlns:p='urn:x' xmlns:q='urn:x' p:b='1' q:b='2'/>"),
        ParseError::DuplicateAttribute(_)
    ));
}

#[test]
fn undeclared_prefix_is_rejected() {
    assert_eq!(
        parse_err("<p:a/>"),
        ParseError::UndeclaredPrefix("p".into())
    );
    assert_eq!(
        parse_err("<a p:b='1'/>"),
        ParseError::UndeclaredPrefix("p".into())
    );
}

#[test]
fn prefix_is_out_of_scope_after_its_element() {
    assert_eq!(
        parse_err("<a><b xmlns:p='urn:p'/><p:c/></a>"),
        ParseError::UndeclaredPrefix("p".into())
    );
}

#[test]
fn invalid_namespace_declarations_are_rejected() {
    assert!(matches!(
        parse_err("<a xmlns:p=''/>"),
        ParseError::InvalidNamespaceDeclaration(_)
    ));
    assert!(matches!(
        parse_err("<a xmlns:xml='urn:other'/>"),
        ParseError::InvalidNamespaceDeclaration(_)
    ));
    assert!(matches!(
        parse_err("<a xmlns:p='http://www.w3.org/XML/1998/namespace'/>"),
        ParseError::InvalidNamespaceDeclaration(_)
    ));
}

#[test]
fn non_utf8_is_rejected() {
    assert!(matches!(
        Document::parse(b"<a>\xff</a>"),
        Err(Error::Parse {
            kind: ParseError::NotUtf8,
            position: 3
        })
    ));
}

#[test]
fn utf16_documents_are_refused_as_utf16_not_as_garbage() {
    let utf16 = |bom: &[u8], big_endian: bool| {
        let mut out = bom.to_vec();
        for unit in "<?xml version=\"1.0\" encoding=\"UTF-16\"?><a>x</a>".encode_utf16() {
            out.extend(if big_endian {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            });
        }
        out
    };
    for doc in [
        utf16(&[0xFF, 0xFE], false),
        utf16(&[0xFE, 0xFF], true),
        utf16(&[], false),
        utf16(&[], true),
    ] {
        let err = Document::parse(&doc).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Parse {
                    kind: ParseError::Utf16,
                    position: 0
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("utf-16"), "{err}");
    }
}

#[test]
fn declared_non_utf8_encoding_is_rejected() {
    assert!(matches!(
        parse_err("<?xml version='1.0' encoding='ISO-8859-1'?><a/>"),
        ParseError::UnsupportedEncoding(_)
    ));
}

#[test]
fn control_characters_are_rejected() {
    assert!(matches!(
        parse_err("<a>\u{1}</a>"),
        ParseError::InvalidChar(1)
    ));
}

#[test]
fn mismatched_and_unclosed_tags_are_rejected() {
    assert!(Document::parse(b"<a></b>").is_err());
    assert!(matches!(
        parse_err("<a><b></b>"),
        ParseError::UnclosedElement(_)
    ));
    assert!(Document::parse(b"<a/></a>").is_err());
}

#[test]
fn second_root_and_text_outside_root_are_rejected() {
    assert_eq!(parse_err("<a/><b/>"), ParseError::ContentOutsideRoot);
    assert_eq!(parse_err("<a/>x"), ParseError::ContentOutsideRoot);
    assert_eq!(parse_err(""), ParseError::NoRootElement);
}

#[test]
fn late_xml_declaration_is_rejected() {
    assert_eq!(
        parse_err("<a><?xml version='1.0'?></a>"),
        ParseError::BadDeclaration
    );
}

#[test]
fn lt_in_attribute_value_is_rejected() {
    assert!(Document::parse(b"<a b='<'/>").is_err());
}

#[test]
fn bom_is_accepted_and_positions_count_it() {
    let doc = Document::parse(b"\xef\xbb\xbf<a/>").unwrap();
    assert_eq!(doc.root().position(), 3);
}

#[test]
fn size_limit() {
    let limits = Limits::default().with_max_bytes(10);
    assert_eq!(
        limit_err(b"<a>0123456789</a>", &limits),
        LimitError::Bytes(10)
    );
}

#[test]
fn depth_limit() {
    let deep = "<a>".repeat(65) + &"</a>".repeat(65);
    assert_eq!(
        limit_err(deep.as_bytes(), &Limits::default()),
        LimitError::Depth(64)
    );
    let ok = "<a>".repeat(64) + &"</a>".repeat(64);
    assert!(Document::parse(ok.as_bytes()).is_ok());
}

#[test]
fn node_limit() {
    let limits = Limits::default().with_max_nodes(10);
    let many = format!("<a>{}</a>", "<b/>".repeat(20));
    assert_eq!(limit_err(many.as_bytes(), &limits), LimitError::Nodes(10));
}

#[test]
fn attribute_limit() {
    let limits = Limits::default().with_max_attributes_per_element(3);
    assert_eq!(
        limit_err(b"<a a='1' b='2' c='3' d='4'/>", &limits),
        LimitError::AttributesPerElement(3)
    );
}

#[test]
fn text_limit_applies_to_merged_runs() {
    let limits = Limits::default().with_max_text_len(8);
    assert_eq!(
        limit_err(b"<a>12345&amp;6789</a>", &limits),
        LimitError::TextLength(8)
    );
}

/// Found by fuzzing (xml_c14n): `:xmlns=""` was read as an unprefixed attribute `xmlns`,
/// and the canonical form then declared the default namespace twice.
#[test]
fn fuzz_regression_empty_prefix_before_colon_is_rejected() {
    let crash = b"<?xml version=\"1.0\"?>\n<!-- c --><?pi data?><a xmlns=\"urn:d{\" y='v'>t<![CDATA[<c>]]>&lt;<pb :xmlns=\"\"/><!--x--></a>\n";
    assert!(matches!(
        Document::parse(crash),
        Err(Error::Parse {
            kind: ParseError::InvalidName(_),
            ..
        })
    ));
    assert!(matches!(
        parse_err("<a :b='1'/>"),
        ParseError::InvalidName(_)
    ));
    assert!(matches!(parse_err("<:a/>"), ParseError::InvalidName(_)));
    assert!(matches!(
        parse_err("<a b:='1'/>"),
        ParseError::InvalidName(_)
    ));
}

/// QNames (Namespaces in XML 1.0, section 4), as element and attribute names, ASCII and not
/// (ASCII names are checked by a table, the others character by character).
#[test]
fn qualified_names_are_checked_in_every_shape() {
    let ok = |name: &str| {
        let xml =
            format!("<r xmlns:p='urn:p' xmlns:\u{e9}t\u{e9}='urn:e'><{name} {name}='1'/></r>");
        Document::parse(xml.as_bytes()).is_ok()
    };
    for name in [
        "a",
        "_a.b-c9",
        "p:a",
        "p:_",
        "\u{e9}t\u{e9}:a",
        "p:\u{e9}",
        "\u{e9}",
    ] {
        assert!(ok(name), "{name} is a QName");
    }
    for name in [
        "p:a:b",
        "p::a",
        "p:",
        "p:9",
        "p:-a",
        "9a",
        "-a",
        ".a",
        "a\u{d7}",
        "p:a\u{d7}",
        "\u{e9}::a",
    ] {
        assert!(!ok(name), "{name} is not a QName");
    }
}

#[test]
fn namespaces_in_scope_limit() {
    let limits = Limits::default().with_max_namespaces_in_scope(4);
    let xml = b"<a xmlns:a='urn:a' xmlns:b='urn:b'><b xmlns:c='urn:c' xmlns:d='urn:d'><c xmlns:e='urn:e'/></b></a>";
    assert_eq!(limit_err(xml, &limits), LimitError::NamespacesInScope(4));
    // Siblings do not accumulate: scope is popped at each end tag.
    let siblings = format!(
        "<a>{}</a>",
        "<b xmlns:p='urn:p' xmlns:q='urn:q'/>".repeat(50)
    );
    assert!(Document::parse_with_limits(siblings.as_bytes(), &limits).is_ok());
}

#[test]
fn tokenizer_errors_are_named_in_this_crates_terms() {
    // quick-xml's errors never reach the public error as text: each gets a typed name.
    assert_eq!(
        parse_err("<a><!-- never closed</a>"),
        ParseError::Markup(MarkupError::UnclosedComment)
    );
    assert_eq!(
        parse_err("<a><![CDATA[ never closed</a>"),
        ParseError::Markup(MarkupError::UnclosedCData)
    );
    assert!(matches!(
        parse_err("<a><b></a></b>"),
        ParseError::MismatchedEndTag(_)
    ));
    let e = Document::parse(b"<a><!-- x").unwrap_err();
    assert_eq!(e.kind(), "malformed_markup");
    assert_eq!(
        e.to_string(),
        "xml rejected at byte 3: malformed xml: comment not closed"
    );
}
