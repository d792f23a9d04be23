//! The examples of the W3C specifications, with their expected canonical forms.
//!
//! C14N 1.0 section 3 (<https://www.w3.org/TR/2001/REC-xml-c14n-20010315#Examples>) and
//! Exc-C14N section 2.2. Inputs that need a DTD (attribute defaults, entity declarations,
//! NMTOKENS normalization) are given without it, since DTDs are rejected: the expected output
//! is adjusted accordingly and the adjustment is noted.

use rampart_xmldsig::{C14nAlgorithm, Canonicalizer, Document, Element};

fn doc(xml: &str) -> Document {
    Document::parse(xml.as_bytes()).unwrap()
}

fn c14n(xml: &str, alg: C14nAlgorithm) -> String {
    String::from_utf8(Canonicalizer::new(alg).document(&doc(xml)).unwrap()).unwrap()
}

fn find<'d>(d: &'d Document, local: &str) -> Element<'d> {
    std::iter::once(d.root())
        .chain(d.root().descendants())
        .find(|e| e.local_name() == local)
        .unwrap()
}

fn subset(xml: &str, local: &str, c: &Canonicalizer) -> String {
    let d = doc(xml);
    String::from_utf8(c.element(find(&d, local)).unwrap()).unwrap()
}

/// C14N 3.1 (the DOCTYPE line removed).
const PIS_COMMENTS: &str = "<?xml version=\"1.0\"?>\n\n<?xml-stylesheet   href=\"doc.xsl\"\n   type=\"text/xsl\"   ?>\n\n<doc>Hello, world!<!-- Comment 1 --></doc>\n\n<?pi-without-data     ?>\n\n<!-- Comment 2 -->\n\n<!-- Comment 3 -->\n";

#[test]
fn c14n_3_1_pis_comments_outside_document_element() {
    assert_eq!(
        c14n(PIS_COMMENTS, C14nAlgorithm::Inclusive),
        "<?xml-stylesheet href=\"doc.xsl\"\n   type=\"text/xsl\"   ?>\n<doc>Hello, world!</doc>\n<?pi-without-data?>"
    );
}

#[test]
fn c14n_3_1_with_comments() {
    assert_eq!(
        c14n(PIS_COMMENTS, C14nAlgorithm::InclusiveWithComments),
        "<?xml-stylesheet href=\"doc.xsl\"\n   type=\"text/xsl\"   ?>\n<doc>Hello, world!<!-- Comment 1 --></doc>\n<?pi-without-data?>\n<!-- Comment 2 -->\n<!-- Comment 3 -->"
    );
}

#[test]
fn c14n_3_2_whitespace_in_document_content() {
    let input = "<doc>\n   <clean>   </clean>\n   <dirty>   A   B   </dirty>\n   <mixed>\n      A\n      <clean>   </clean>\n      B\n      <dirty>   A   B   </dirty>\n      C\n   </mixed>\n</doc>";
    assert_eq!(c14n(input, C14nAlgorithm::Inclusive), input);
    assert_eq!(c14n(input, C14nAlgorithm::Exclusive), input);
}

/// C14N 3.3 without the DTD: e9 gets no defaulted `attr`.
#[test]
fn c14n_3_3_start_and_end_tags() {
    let input = r#"<doc>
   <e1   />
   <e2   ></e2>
   <e3   name = "elem3"   id="elem3"   />
   <e4   name="elem4"   id="elem4"   ></e4>
   <e5 a:attr="out" b:attr="sorted" attr2="all" attr="I'm"
      xmlns:b="http://www.ietf.org"
      xmlns:a="http://www.w3.org"
      xmlns="http://example.org"/>
   <e6 xmlns="" xmlns:a="http://www.w3.org">
      <e7 xmlns="http://www.ietf.org">
         <e8 xmlns="" xmlns:a="http://www.w3.org">
            <e9 xmlns="" xmlns:a="http://www.ietf.org"/>
         </e8>
      </e7>
   </e6>
</doc>"#;
    let expected = r#"<doc>
   <e1></e1>
   <e2></e2>
   <e3 id="elem3" name="elem3"></e3>
   <e4 id="elem4" name="elem4"></e4>
   <e5 xmlns="http://example.org" xmlns:a="http://www.w3.org" xmlns:b="http://www.ietf.org" attr="I'm" attr2="all" b:attr="sorted" a:attr="out"></e5>
   <e6 xmlns:a="http://www.w3.org">
      <e7 xmlns="http://www.ietf.org">
         <e8 xmlns="">
            <e9 xmlns:a="http://www.ietf.org"></e9>
         </e8>
      </e7>
   </e6>
</doc>"#;
    assert_eq!(c14n(input, C14nAlgorithm::Inclusive), expected);
}

/// C14N 3.4 without the DTD: `normNames` and `normId` stay CDATA (no extra normalization).
#[test]
fn c14n_3_4_character_modifications_and_references() {
    let input = "<doc>\n   <text>First line&#x0d;&#10;Second line</text>\n   <value>&#x32;</value>\n   <compute><![CDATA[value>\"0\" && value<\"10\" ?\"valid\":\"error\"]]></compute>\n   <compute expr='value>\"0\" &amp;&amp; value&lt;\"10\" ?\"valid\":\"error\"'>valid</compute>\n   <norm attr=' &apos;   &#x20;&#13;&#xa;&#9;   &apos; '/>\n   <normNames attr='   A   &#x20;&#13;&#xa;&#9;   B   '/>\n   <normId id=' &apos;   &#x20;&#13;&#xa;&#9;   &apos; '/>\n</doc>";
    let expected = "<doc>\n   <text>First line&#xD;\nSecond line</text>\n   <value>2</value>\n   <compute>value&gt;\"0\" &amp;&amp; value&lt;\"10\" ?\"valid\":\"error\"</compute>\n   <compute expr=\"value>&quot;0&quot; &amp;&amp; value&lt;&quot;10&quot; ?&quot;valid&quot;:&quot;error&quot;\">valid</compute>\n   <norm attr=\" '    &#xD;&#xA;&#x9;   ' \"></norm>\n   <normNames attr=\"   A    &#xD;&#xA;&#x9;   B   \"></normNames>\n   <normId id=\" '    &#xD;&#xA;&#x9;   ' \"></normId>\n</doc>";
    assert_eq!(c14n(input, C14nAlgorithm::Inclusive), expected);
}

/// C14N 3.6, in UTF-8 (other encodings are rejected).
#[test]
fn c14n_3_6_utf8() {
    assert_eq!(
        c14n("<doc>&#169;</doc>", C14nAlgorithm::Inclusive),
        "<doc>\u{a9}</doc>"
    );
}

const EXC_EXAMPLE_1: &str = r#"<n0:local xmlns:n0="foo:bar" xmlns:n3="ftp://example.org">
  <n1:elem2 xmlns:n1="http://example.net" xml:lang="en">
     <n3:stuff xmlns:n3="ftp://example.org"/>
  </n1:elem2>
</n0:local>"#;

const EXC_EXAMPLE_2: &str = r#"<n2:pdu xmlns:n1="http://example.com"
           xmlns:n2="http://foo.example"
           xml:lang="fr"
           xml:space="retain">
   <n1:elem2 xmlns:n1="http://example.net" xml:lang="en">
      <n3:stuff xmlns:n3="ftp://example.org"/>
   </n1:elem2>
</n2:pdu>"#;

#[test]
fn exc_c14n_2_2_example_1_inclusive_subset_carries_ancestor_namespaces() {
    assert_eq!(
        subset(
            EXC_EXAMPLE_1,
            "elem2",
            &Canonicalizer::new(C14nAlgorithm::Inclusive)
        ),
        "<n1:elem2 xmlns:n0=\"foo:bar\" xmlns:n1=\"http://example.net\" xmlns:n3=\"ftp://example.org\" xml:lang=\"en\">\n     <n3:stuff></n3:stuff>\n  </n1:elem2>"
    );
}

#[test]
fn exc_c14n_2_2_example_1_exclusive_subset_drops_unused_namespaces() {
    assert_eq!(
        subset(
            EXC_EXAMPLE_1,
            "elem2",
            &Canonicalizer::new(C14nAlgorithm::Exclusive)
        ),
        "<n1:elem2 xmlns:n1=\"http://example.net\" xml:lang=\"en\">\n     <n3:stuff xmlns:n3=\"ftp://example.org\"></n3:stuff>\n  </n1:elem2>"
    );
}

#[test]
fn exc_c14n_2_2_example_2_inclusive_subset_inherits_xml_attributes() {
    assert_eq!(
        subset(
            EXC_EXAMPLE_2,
            "elem2",
            &Canonicalizer::new(C14nAlgorithm::Inclusive)
        ),
        "<n1:elem2 xmlns:n1=\"http://example.net\" xmlns:n2=\"http://foo.example\" xml:lang=\"en\" xml:space=\"retain\">\n      <n3:stuff xmlns:n3=\"ftp://example.org\"></n3:stuff>\n   </n1:elem2>"
    );
}

#[test]
fn exc_c14n_2_2_example_2_exclusive_subset_is_context_free() {
    let expected = "<n1:elem2 xmlns:n1=\"http://example.net\" xml:lang=\"en\">\n      <n3:stuff xmlns:n3=\"ftp://example.org\"></n3:stuff>\n   </n1:elem2>";
    let exc = Canonicalizer::new(C14nAlgorithm::Exclusive);
    assert_eq!(subset(EXC_EXAMPLE_2, "elem2", &exc), expected);
    // Exc-C14N's point: the same subtree in another context canonicalizes the same.
    let elsewhere = EXC_EXAMPLE_2
        .replace("n2:pdu", "other:wrap")
        .replace("xmlns:n2", "xmlns:other");
    assert_eq!(subset(&elsewhere, "elem2", &exc), expected);
}

#[test]
fn exc_c14n_prefix_list_renders_listed_prefixes_at_the_apex() {
    let c = Canonicalizer::new(C14nAlgorithm::Exclusive).with_inclusive_prefixes("n0 n9");
    assert_eq!(
        subset(EXC_EXAMPLE_1, "elem2", &c),
        "<n1:elem2 xmlns:n0=\"foo:bar\" xmlns:n1=\"http://example.net\" xml:lang=\"en\">\n     <n3:stuff xmlns:n3=\"ftp://example.org\"></n3:stuff>\n  </n1:elem2>"
    );
}

#[test]
fn exc_c14n_prefix_list_default_renders_the_default_namespace() {
    let xml = r#"<a xmlns="urn:d" xmlns:p="urn:p"><p:b><p:c/></p:b></a>"#;
    let plain = Canonicalizer::new(C14nAlgorithm::Exclusive);
    assert_eq!(
        subset(xml, "b", &plain),
        r#"<p:b xmlns:p="urn:p"><p:c></p:c></p:b>"#
    );
    let with_default = plain.clone().with_inclusive_prefixes("#default");
    assert_eq!(
        subset(xml, "b", &with_default),
        r#"<p:b xmlns="urn:d" xmlns:p="urn:p"><p:c></p:c></p:b>"#
    );
}

#[test]
fn exc_c14n_undeclared_default_is_written_only_to_undo_a_rendered_one() {
    let xml = r#"<a xmlns="urn:d"><b xmlns=""><c/></b></a>"#;
    let exc = Canonicalizer::new(C14nAlgorithm::Exclusive);
    assert_eq!(
        String::from_utf8(exc.document(&doc(xml)).unwrap()).unwrap(),
        r#"<a xmlns="urn:d"><b xmlns=""><c></c></b></a>"#
    );
    // As a subset, nothing rendered a default above b: no xmlns="" needed.
    assert_eq!(subset(xml, "b", &exc), "<b><c></c></b>");
}

#[test]
fn enveloped_exclusion_leaves_out_exactly_the_excluded_subtree() {
    let d = doc("<a>x<sig><k>1</k></sig>y<b/></a>");
    let a = d.root();
    let sig = a.children().next().unwrap();
    let out = Canonicalizer::new(C14nAlgorithm::Exclusive)
        .element_excluding(a, sig)
        .unwrap();
    assert_eq!(out, b"<a>xy<b></b></a>");
}

#[test]
fn namespace_amplification_hits_the_output_cap() {
    // A long namespace URI declared once and used by many siblings: exclusive c14n writes
    // it on each of them. The cap turns that expansion into an error.
    let uri = "u".repeat(10_000);
    let xml = format!(
        "<r xmlns:p=\"urn:{uri}\">{}</r>",
        "<a p:x=\"\"/>".repeat(2_000)
    );
    let d = doc(&xml);
    let c = Canonicalizer::new(C14nAlgorithm::Exclusive).with_max_output(1 << 20);
    match c.document(&d) {
        Err(rampart_xmldsig::Error::Limit { limit, .. }) => {
            assert_eq!(limit, rampart_xmldsig::LimitError::CanonicalOutput(1 << 20));
        }
        other => panic!("expected the output cap, got {:?}", other.map(|v| v.len())),
    }
    // Inclusive c14n renders the declaration once and stays small.
    assert!(
        Canonicalizer::new(C14nAlgorithm::Inclusive)
            .document(&d)
            .unwrap()
            .len()
            < 40_000
    );
}
