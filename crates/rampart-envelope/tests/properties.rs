//! Property tests: seal/open round trips over random plaintexts and contexts; random bytes
//! never open; mutated real keyring documents never load as anything but the same keyring
//! and fail with a typed error, never a panic.

use std::sync::OnceLock;
use std::time::SystemTime;

use proptest::prelude::*;
use rampart_envelope::{Context, Keyring, LocalMasterKey, OVERHEAD};

fn fixture() -> &'static (LocalMasterKey, Keyring) {
    static F: OnceLock<(LocalMasterKey, Keyring)> = OnceLock::new();
    F.get_or_init(|| {
        let m = LocalMasterKey::generate().unwrap();
        let r = Keyring::create("prop", "eu", &m, SystemTime::UNIX_EPOCH).unwrap();
        (m, r)
    })
}

fn context() -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::btree_map("[a-z_]{1,12}", "\\PC{0,24}", 0..6)
        .prop_map(|m| m.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn seal_open_round_trip(pt in proptest::collection::vec(any::<u8>(), 0..2048), pairs in context()) {
        let (_, ring) = fixture();
        let ctx: Context = pairs.iter().cloned().collect();
        let ct = ring.seal(&pt, &ctx).unwrap();
        prop_assert_eq!(ct.len(), pt.len() + OVERHEAD);
        prop_assert_eq!(&ring.open(&ct, &ctx).unwrap()[..], &pt[..]);
        let text = ring.seal_text(&pt, &ctx).unwrap();
        prop_assert_eq!(&ring.open_text(&text, &ctx).unwrap()[..], &pt[..]);
    }

    #[test]
    fn any_changed_context_value_fails(pt in proptest::collection::vec(any::<u8>(), 0..64),
                                       pairs in proptest::collection::btree_map("[a-z_]{1,12}", "\\PC{0,24}", 1..6),
                                       pick in any::<proptest::sample::Index>(),
                                       other in "\\PC{0,24}") {
        // Same keys, one value changed (a moved row, another tenant): never opens.
        let (_, ring) = fixture();
        let pairs: Vec<(String, String)> = pairs.into_iter().collect();
        let ctx: Context = pairs.iter().cloned().collect();
        let ct = ring.seal(&pt, &ctx).unwrap();
        let at = pick.index(pairs.len());
        prop_assume!(pairs[at].1 != other);
        let changed: Context = pairs
            .iter()
            .enumerate()
            .map(|(i, (k, v))| (k.clone(), if i == at { other.clone() } else { v.clone() }))
            .collect();
        prop_assert!(ring.open(&ct, &changed).is_err());
    }

    #[test]
    fn an_added_context_pair_fails(pt in proptest::collection::vec(any::<u8>(), 0..64),
                                   pairs in context(), extra in "[a-z]{1,8}") {
        let (_, ring) = fixture();
        let ctx: Context = pairs.iter().cloned().collect();
        let ct = ring.seal(&pt, &ctx).unwrap();
        let changed: Context = pairs
            .iter()
            .cloned()
            .chain(std::iter::once((format!("zz{extra}"), extra.clone())))
            .collect();
        prop_assert!(ring.open(&ct, &changed).is_err());
    }

    #[test]
    fn random_bytes_never_open(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let (_, ring) = fixture();
        prop_assert!(ring.open(&bytes, &Context::new()).is_err());
    }

    #[test]
    fn random_header_on_own_keyring_never_opens(tail in proptest::collection::vec(any::<u8>(), 76..200)) {
        // Valid format, suite, keyring id, region and version: the rest is random.
        let (_, ring) = fixture();
        let mut ct = ring.seal(b"", &Context::new()).unwrap()[..12].to_vec();
        ct.extend_from_slice(&tail);
        prop_assert!(ring.open(&ct, &Context::new()).is_err());
    }
}

// ---- mutated keyring documents ---------------------------------------------------------

use rampart_envelope::retention::{BucketSize, RetentionKeyring, RetentionPolicy};
use rampart_envelope::{Error, KeyringFileError, MasterKeyError};
use serde_json::Value;
use std::time::Duration;

/// Real documents: a values keyring with a tombstone, an active, a staged and a primary
/// version and a rotation policy; a retention keyring with purged and live buckets.
fn documents() -> &'static (LocalMasterKey, Vec<String>) {
    static D: OnceLock<(LocalMasterKey, Vec<String>)> = OnceLock::new();
    D.get_or_init(|| {
        let m = LocalMasterKey::generate().unwrap();
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let mut values = Keyring::create("docs", "eu-central", &m, t).unwrap();
        values.rotate(&m, t).unwrap();
        values.rotate(&m, t).unwrap();
        values.add_version(&m, t).unwrap();
        values.retire_below(2, t).unwrap();
        values.set_rotate_after(Some(Duration::from_secs(86_400)));
        let policy = RetentionPolicy::new(BucketSize::Hour, Duration::from_secs(3600));
        let mut ret = RetentionKeyring::create("uploads", "eu-central", &m, policy).unwrap();
        ret.prepare(t, 2).unwrap();
        ret.purge(t + Duration::from_secs(3 * 3600)).unwrap();
        ret.prepare(t + Duration::from_secs(3 * 3600), 1).unwrap();
        let docs = vec![values.to_json().unwrap(), ret.keyring().to_json().unwrap()];
        (m, docs)
    })
}

/// JSON pointers of every node below the root.
fn pointers(v: &Value, at: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let p = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(p.clone());
                pointers(child, &p, out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let p = format!("{at}/{i}");
                out.push(p.clone());
                pointers(child, &p, out);
            }
        }
        _ => {}
    }
}

fn parent_and_key(pointer: &str) -> (&str, &str) {
    pointer.rsplit_once('/').unwrap_or(("", pointer))
}

/// Values a field could be changed to: other types, edge numbers, and strings lifted from
/// the same document (another version's wrapped key or time, a state name).
fn replacement(doc: &Value) -> BoxedStrategy<Value> {
    let mut strings = Vec::new();
    let mut nodes = Vec::new();
    pointers(doc, "", &mut nodes);
    for p in &nodes {
        if let Some(Value::String(s)) = doc.pointer(p) {
            strings.push(s.clone());
        }
    }
    for s in [
        "primary",
        "active",
        "staged",
        "retired",
        "retention",
        "values",
        "",
    ] {
        strings.push(s.to_owned());
    }
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        prop_oneof![
            Just(0i64),
            Just(1),
            Just(-1),
            Just(2),
            Just(3600),
            Just(86_400),
            Just(i64::from(u32::MAX)),
            Just(i64::from(u32::MAX) + 1),
            Just(i64::MAX),
            any::<i64>()
        ]
        .prop_map(Value::from),
        Just(Value::from(u64::MAX)),
        Just(Value::from(1.5)),
        proptest::sample::select(strings).prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
        Just(Value::Array(vec![])),
        Just(Value::Object(serde_json::Map::new())),
    ]
    .boxed()
}

#[derive(Debug, Clone)]
enum Mutation {
    Replace(usize, Value),
    Remove(usize),
    Insert(usize, String, Value),
    DuplicateVersion(usize),
    FlipByte(usize, u8),
    Truncate(usize),
}

fn mutation(doc: &Value) -> BoxedStrategy<Mutation> {
    let r = replacement(doc);
    prop_oneof![
        (any::<usize>(), r.clone()).prop_map(|(i, v)| Mutation::Replace(i, v)),
        any::<usize>().prop_map(Mutation::Remove),
        (any::<usize>(), "[a-z_]{1,20}", r).prop_map(|(i, k, v)| Mutation::Insert(i, k, v)),
        any::<usize>().prop_map(Mutation::DuplicateVersion),
        (any::<usize>(), 1u8..=255).prop_map(|(i, x)| Mutation::FlipByte(i, x)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
    .boxed()
}

/// Applies `m` to `text`; `None` when the result is not UTF-8 (from_json takes `&str`).
fn apply(text: &str, m: &Mutation) -> Option<String> {
    let mut v: Value = serde_json::from_str(text).unwrap();
    let mut nodes = Vec::new();
    pointers(&v, "", &mut nodes);
    let pick = |i: usize| nodes[i % nodes.len()].clone();
    match m {
        Mutation::Replace(i, new) => *v.pointer_mut(&pick(*i)).unwrap() = new.clone(),
        Mutation::Remove(i) => {
            let p = pick(*i);
            let (parent, key) = parent_and_key(&p);
            match v.pointer_mut(parent).unwrap() {
                Value::Object(map) => {
                    map.remove(&key.replace("~1", "/").replace("~0", "~"));
                }
                Value::Array(items) => {
                    items.remove(key.parse::<usize>().unwrap());
                }
                _ => unreachable!("a parent is a container"),
            }
        }
        Mutation::Insert(i, key, new) => {
            let p = pick(*i);
            let (parent, _) = parent_and_key(&p);
            match v.pointer_mut(parent).unwrap() {
                Value::Object(map) => {
                    map.insert(key.clone(), new.clone());
                }
                Value::Array(items) => items.push(new.clone()),
                _ => unreachable!("a parent is a container"),
            }
        }
        Mutation::DuplicateVersion(i) => {
            let items = v["versions"].as_array_mut().unwrap();
            let dup = items[i % items.len()].clone();
            items.push(dup);
        }
        Mutation::FlipByte(i, x) => {
            let mut bytes = text.as_bytes().to_vec();
            let n = i % bytes.len();
            bytes[n] ^= x;
            return String::from_utf8(bytes).ok();
        }
        Mutation::Truncate(i) => {
            let n = i % text.len();
            return text.is_char_boundary(n).then(|| text[..n].to_owned());
        }
    }
    Some(serde_json::to_string_pretty(&v).unwrap())
}

fn doc_and_mutation() -> impl Strategy<Value = (usize, Mutation)> {
    let (_, docs) = documents();
    let per_doc: Vec<_> = docs
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let v: Value = serde_json::from_str(text).unwrap();
            mutation(&v).prop_map(move |m| (i, m)).boxed()
        })
        .collect();
    proptest::strategy::Union::new(per_doc)
}

fn typed_load_error(e: &Error) -> bool {
    matches!(e, Error::KeyringFile(_) | Error::MasterKey(_))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(768))]

    /// The integrity MAC (or a check before it) refuses every real change with a typed
    /// error; a change that keeps the content (e.g. `"wrapped": null` for an absent key)
    /// may load, but only as the very same keyring.
    #[test]
    fn mutated_keyring_documents_never_load_as_a_different_keyring((doc, m) in doc_and_mutation()) {
        let (master, docs) = documents();
        let original = &docs[doc];
        let Some(text) = apply(original, &m) else { return Ok(()) };
        match Keyring::from_json(&text, master) {
            Ok(ring) => prop_assert_eq!(&ring.to_json().unwrap(), original, "{:?}", m),
            Err(e) => prop_assert!(typed_load_error(&e), "{:?} gave {:?}", m, e),
        }
    }
}

#[test]
fn mutations_are_refused_by_the_mac_and_not_only_by_parsing() {
    // Keeps the property above honest: changes that parse fine die at the MAC.
    let (master, docs) = documents();
    let mut v: Value = serde_json::from_str(&docs[0]).unwrap();
    v["min_decrypt"] = Value::from(3);
    let e = Keyring::from_json(&v.to_string(), master).unwrap_err();
    assert!(matches!(
        e,
        Error::KeyringFile(KeyringFileError::IntegrityMismatch)
    ));
    let mut v: Value = serde_json::from_str(&docs[0]).unwrap();
    v["master_key"]["id"] = Value::from("local:kcv=0000000000000000");
    let e = Keyring::from_json(&v.to_string(), master).unwrap_err();
    assert!(matches!(
        e,
        Error::MasterKey(MasterKeyError::WrongMasterKey { .. })
    ));
}

/// With the fuzzing hook (`--cfg fuzzing`: run by hand with
/// `RUSTFLAGS="--cfg fuzzing" cargo test -p rampart-envelope --test properties resigned`; CI
/// runs the same mutations through the `envelope_keyring_resigned` fuzz target) the MAC is
/// recomputed, so the same mutations reach the checks after it: still never a panic, and
/// anything accepted must round-trip.
#[cfg(fuzzing)]
mod resigned {
    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(768))]

        #[test]
        fn resigned_mutated_documents_fail_typed_or_round_trip((doc, m) in doc_and_mutation()) {
            let (master, docs) = documents();
            let Some(text) = apply(&docs[doc], &m) else { return Ok(()) };
            let Some(signed) = rampart_envelope::fuzzing::resign_keyring_json(&text, master)
            else {
                return Ok(());
            };
            match Keyring::from_json(&signed, master) {
                Ok(ring) => {
                    let again = Keyring::from_json(&ring.to_json().unwrap(), master).unwrap();
                    prop_assert_eq!(again.versions(), ring.versions());
                    if ring.kind() == rampart_envelope::KeyringKind::Retention {
                        let r = RetentionKeyring::from_keyring(ring).unwrap();
                        let _ = r.buckets();
                    }
                }
                Err(e) => prop_assert!(typed_load_error(&e), "{:?} gave {:?}", m, e),
            }
        }
    }

    #[test]
    fn resigned_unchanged_documents_load() {
        let (master, docs) = documents();
        for d in docs {
            let signed = rampart_envelope::fuzzing::resign_keyring_json(d, master).unwrap();
            assert!(Keyring::from_json(&signed, master).is_ok());
        }
    }

    #[test]
    fn resigned_huge_retain_seconds_is_refused_with_a_typed_error() {
        let (master, docs) = documents();
        let mut v: Value = serde_json::from_str(&docs[1]).unwrap();
        v["retention"]["retain_seconds"] = Value::from(u64::MAX);
        let signed =
            rampart_envelope::fuzzing::resign_keyring_json(&v.to_string(), master).unwrap();
        assert!(matches!(
            Keyring::from_json(&signed, master),
            Err(Error::KeyringFile(KeyringFileError::InvalidField {
                field: "retain_seconds",
                ..
            }))
        ));
    }
}
