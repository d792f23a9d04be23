//! Golden vectors: a keyring file, its master key and sealed values made once with format v1
//! (`tests/vectors/values-v1/`). Every future version of the crate must still load and open
//! them. Regenerate only for a new format version, into a new directory:
//! `cargo test -p rampart-envelope --test golden -- --ignored generate`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use rampart_envelope::{Context, Error, Keyring, LocalMasterKey, VersionState};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Case {
    name: String,
    version: u32,
    context: BTreeMap<String, String>,
    plaintext: String,
    ciphertext: String,
    /// "ok", "key_retired"
    expect: String,
}

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/values-v1")
}

fn ctx(map: &BTreeMap<String, String>) -> Context {
    map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn load() -> (Keyring, Vec<Case>) {
    let key = std::fs::read_to_string(dir().join("master.key")).unwrap();
    let master = LocalMasterKey::from_base64(&key).unwrap();
    let json = std::fs::read_to_string(dir().join("keyring.json")).unwrap();
    let ring = Keyring::from_json(&json, &master).unwrap();
    let cases: Vec<Case> =
        serde_json::from_str(&std::fs::read_to_string(dir().join("cases.json")).unwrap()).unwrap();
    (ring, cases)
}

#[test]
fn golden_keyring_loads_with_its_states() {
    let (ring, _) = load();
    assert_eq!(ring.name(), "golden-values");
    assert_eq!(ring.region(), "eu-central");
    assert_eq!(ring.primary_version(), Some(3));
    assert_eq!(ring.min_decrypt(), 2);
    let states: Vec<_> = ring.versions().iter().map(|v| v.state).collect();
    assert_eq!(
        states,
        [
            VersionState::Retired,
            VersionState::Active,
            VersionState::Primary
        ]
    );
}

#[test]
fn golden_ciphertexts_still_open() {
    let (ring, cases) = load();
    assert!(cases.len() >= 5);
    for case in &cases {
        let c = ctx(&case.context);
        let result = ring.open_text(&case.ciphertext, &c);
        match case.expect.as_str() {
            "ok" => {
                let pt = result.unwrap_or_else(|e| panic!("{}: {e}", case.name));
                assert_eq!(&pt[..], case.plaintext.as_bytes(), "{}", case.name);
                let ct = rampart_envelope::SealedValue::from_text(&case.ciphertext).unwrap();
                assert_eq!(ring.version_of(ct.as_bytes()).unwrap(), case.version);
                assert_eq!(
                    ring.needs_reencrypt(ct.as_bytes()).unwrap(),
                    case.version < 3
                );
            }
            "key_retired" => assert!(
                matches!(result, Err(Error::KeyRetired { version, .. }) if version == case.version),
                "{}",
                case.name
            ),
            other => panic!("unknown expectation {other}"),
        }
    }
}

#[test]
fn golden_ciphertexts_fail_with_another_context() {
    let (ring, cases) = load();
    for case in cases.iter().filter(|c| c.expect == "ok") {
        let mut other = case.context.clone();
        other.insert("tenant".into(), "someone-else".into());
        assert!(matches!(
            ring.open_text(&case.ciphertext, &ctx(&other)),
            Err(Error::Authentication)
        ));
    }
}

#[test]
#[ignore = "writes the golden files; run once per format version"]
fn generate() {
    let d = dir();
    assert!(
        !d.join("keyring.json").exists(),
        "golden vectors exist: never regenerate them"
    );
    std::fs::create_dir_all(&d).unwrap();
    let t = |days: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600 + days * 86400);
    let master = LocalMasterKey::generate().unwrap();
    let mut ring = Keyring::create("golden-values", "eu-central", &master, t(0)).unwrap();
    let mut cases = Vec::new();
    let mut add = |ring: &Keyring, name: &str, pairs: &[(&str, &str)], pt: &str| {
        let context: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let ct = ring.seal_text(pt.as_bytes(), &ctx(&context)).unwrap();
        cases.push(Case {
            name: name.into(),
            version: ring.primary_version().unwrap(),
            context,
            plaintext: pt.into(),
            ciphertext: ct,
            expect: "ok".into(),
        });
    };
    let tok = [
        ("tenant", "42"),
        ("table", "accounts"),
        ("column", "oauth_token"),
    ];
    add(
        &ring,
        "v1 oauth token (retired later)",
        &tok,
        "ya29.retired-token",
    );
    ring.rotate(&master, t(90)).unwrap();
    add(&ring, "v2 oauth token", &tok, "ya29.a0AfH6SMB-v2");
    add(&ring, "v2 empty plaintext, empty context", &[], "");
    ring.rotate(&master, t(180)).unwrap();
    add(&ring, "v3 oauth token", &tok, "ya29.a0AfH6SMB-v3");
    add(
        &ring,
        "v3 unicode context and plaintext",
        &[("tenant", "zürich"), ("column", "note")],
        "grüße, 世界",
    );
    add(
        &ring,
        "v3 webhook secret",
        &[("tenant", "7"), ("column", "webhook_secret")],
        "whsec_5WbX5kEWLlfzsGNjH64I8lOOqUB6e8FH",
    );
    ring.retire_below(2, t(200)).unwrap();
    cases[0].expect = "key_retired".into();
    std::fs::write(
        d.join("master.key"),
        format!("{}\n", &*master.expose_secret_base64()),
    )
    .unwrap();
    std::fs::write(d.join("keyring.json"), ring.to_json().unwrap()).unwrap();
    std::fs::write(
        d.join("cases.json"),
        serde_json::to_string_pretty(&cases).unwrap() + "\n",
    )
    .unwrap();
}
