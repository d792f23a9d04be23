//! Properties: canonicalizing the parse of a canonical form gives the same bytes, for every
//! algorithm; and no input makes the parser or the canonicalizer panic.

mod common;

use proptest::prelude::*;
use rampart_xmldsig::{C14nAlgorithm, Canonicalizer, Document};

const ALGORITHMS: [C14nAlgorithm; 4] = [
    C14nAlgorithm::Exclusive,
    C14nAlgorithm::ExclusiveWithComments,
    C14nAlgorithm::Inclusive,
    C14nAlgorithm::InclusiveWithComments,
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn canonical_form_is_a_fixed_point(seed in any::<u64>()) {
        let xml = common::generate::generate(&mut common::Rng(seed | 1));
        let doc = Document::parse(xml.as_bytes()).unwrap();
        for alg in ALGORITHMS {
            let c = Canonicalizer::new(alg);
            let once = c.document(&doc).unwrap();
            let again = Document::parse(&once)
                .unwrap_or_else(|e| panic!("canonical form does not parse ({e}): {}", String::from_utf8_lossy(&once)));
            prop_assert_eq!(&c.document(&again).unwrap(), &once, "{:?} on {}", alg, xml);
            // Subtrees too: the canonical form of the root's first child element.
            if let Some(child) = doc.root().children().next() {
                let sub = c.element(child).unwrap();
                let reparsed = Document::parse(&sub).unwrap();
                prop_assert_eq!(c.element(reparsed.root()).unwrap(), sub);
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(doc) = Document::parse(&bytes) {
            let _ = Canonicalizer::new(C14nAlgorithm::Inclusive).document(&doc);
        }
    }

    #[test]
    fn mutated_documents_never_panic(seed in any::<u64>(), cut in any::<usize>(), byte in any::<u8>()) {
        let xml = common::generate::generate(&mut common::Rng(seed | 1)).into_bytes();
        let mut m = xml.clone();
        let at = cut % m.len();
        m[at] = byte;
        if let Ok(doc) = Document::parse(&m) {
            for alg in ALGORITHMS {
                let _ = Canonicalizer::new(alg).document(&doc);
            }
        }
    }
}
