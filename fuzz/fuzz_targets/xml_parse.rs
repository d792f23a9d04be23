#![no_main]
//! The hardened XML parser on arbitrary bytes: never panics, and whatever it accepts can be
//! walked completely (names, namespaces, attributes, text, positions inside the input).
use libfuzzer_sys::fuzz_target;
use rampart_xmldsig::{Document, Limits};

fuzz_target!(|data: &[u8]| {
    // Small limits too, so the limit paths are exercised.
    let small = Limits::default()
        .with_max_depth(8)
        .with_max_nodes(64)
        .with_max_attributes_per_element(4)
        .with_max_text_len(64);
    let _ = Document::parse_with_limits(data, &small);
    let Ok(doc) = Document::parse(data) else {
        return;
    };
    let root = doc.root();
    assert!(root.parent().is_none());
    for el in std::iter::once(root).chain(root.descendants()) {
        assert!(el.position() < data.len());
        assert!(!el.local_name().is_empty());
        let _ = (el.namespace(), el.prefix(), el.text(), el.has_content());
        for a in el.attributes() {
            let _ = (a.local_name(), a.namespace(), a.value());
            assert_eq!(
                a.namespace().map_or_else(
                    || el.attribute(a.local_name()),
                    |ns| el.attribute_ns(ns, a.local_name())
                ),
                Some(a.value())
            );
        }
        for c in el.children() {
            assert_eq!(c.parent(), Some(el));
        }
        let _ = el.lookup_namespace("");
    }
});
