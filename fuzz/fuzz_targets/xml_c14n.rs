#![no_main]
//! Canonicalization of whatever the parser accepts: never panics, and the canonical form is a
//! fixed point (it parses, and canonicalizing it again gives the same bytes), for every
//! algorithm, for the whole document and for each child subtree of the root.
use libfuzzer_sys::fuzz_target;
use rampart_xmldsig::{C14nAlgorithm, Canonicalizer, Document};

const ALGORITHMS: [C14nAlgorithm; 4] = [
    C14nAlgorithm::Exclusive,
    C14nAlgorithm::ExclusiveWithComments,
    C14nAlgorithm::Inclusive,
    C14nAlgorithm::InclusiveWithComments,
];

fn fixed_point(c: &Canonicalizer, canonical: &[u8], subtree: bool) {
    let again = Document::parse(canonical).unwrap_or_else(|e| {
        panic!(
            "canonical form rejected ({e}): {}",
            String::from_utf8_lossy(canonical)
        )
    });
    let twice = if subtree {
        c.element(again.root())
    } else {
        c.document(&again)
    }
    .expect("within the output cap");
    assert_eq!(twice, canonical, "not a fixed point");
}

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = Document::parse(data) else {
        return;
    };
    for alg in ALGORITHMS {
        // A small cap, so the cap path is exercised and large expansions stay cheap.
        let c = Canonicalizer::new(alg)
            .with_inclusive_prefixes("#default a b")
            .with_max_output(1 << 20);
        if let Ok(canonical) = c.document(&doc) {
            fixed_point(&c, &canonical, false);
        }
        for child in doc.root().children().take(4) {
            if let Ok(canonical) = c.element(child) {
                fixed_point(&c, &canonical, true);
            }
            if let Some(grandchild) = child.children().next() {
                let _ = c.element_excluding(child, grandchild);
            }
        }
    }
});
