//! Keyring files: atomic save, load, integrity, wrong master key, rewrap, generations, and
//! what a handle does when the stored file stops verifying.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rampart_envelope::{
    Context, Error, FileKeyringStore, Keyring, KeyringFileError, KeyringHandle, KeyringStore,
    KeyringSummary, LocalMasterKey, MasterKey, MasterKeyError, VersionState,
};
use serde_json::Value;

fn t(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_780_000_000 + secs)
}

fn three_versions() -> (LocalMasterKey, Keyring) {
    let m = LocalMasterKey::generate().unwrap();
    let mut ring = Keyring::create("webhooks", "eu-central", &m, t(0)).unwrap();
    ring.rotate(&m, t(100)).unwrap();
    ring.rotate(&m, t(200)).unwrap();
    ring.retire_below(2, t(300)).unwrap();
    (m, ring)
}

/// Edits the JSON document and returns it as text (the MAC is left as it was).
fn edit(json: &str, f: impl FnOnce(&mut Value)) -> String {
    let mut v: Value = serde_json::from_str(json).unwrap();
    f(&mut v);
    serde_json::to_string_pretty(&v).unwrap()
}

#[test]
fn save_then_load_round_trips_and_opens_values() {
    let (m, ring) = three_versions();
    let ctx = Context::new().with("hook", "7");
    let ct = ring.seal(b"whsec_abc", &ctx).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("webhooks.keyring.json");
    ring.save(&path).unwrap();
    let loaded = Keyring::load(&path, &m).unwrap();
    assert_eq!(loaded.id(), ring.id());
    assert_eq!(loaded.name(), "webhooks");
    assert_eq!(loaded.region(), "eu-central");
    assert_eq!(loaded.primary_version(), Some(3));
    assert_eq!(loaded.min_decrypt(), 2);
    assert_eq!(loaded.versions(), ring.versions());
    assert_eq!(&loaded.open(&ct, &ctx).unwrap()[..], b"whsec_abc");
    // Save over an existing file, no temp files left behind (the sidecar lock file stays:
    // removing it would let two writers lock two different files).
    loaded.save(&path).unwrap();
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [".webhooks.keyring.json.lock", "webhooks.keyring.json"],
        "{names:?}"
    );
}

#[cfg(unix)]
#[test]
fn saved_file_is_private_to_its_owner() {
    use std::os::unix::fs::PermissionsExt as _;
    let (_m, ring) = three_versions();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.json");
    ring.save(&path).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn save_into_missing_directory_fails_and_leaves_nothing() {
    let (_m, ring) = three_versions();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope").join("k.json");
    assert!(matches!(
        ring.save(&path),
        Err(Error::KeyringFile(KeyringFileError::Io { .. }))
    ));
}

#[test]
fn document_has_the_documented_shape() {
    let (m, ring) = three_versions();
    let doc: Value = serde_json::from_str(&ring.to_json().unwrap()).unwrap();
    assert_eq!(doc["format"], "rampart-keyring");
    assert_eq!(doc["format_version"], 1);
    assert_eq!(doc["keyring_id"], ring.id().to_string());
    assert_eq!(doc["kind"], "values");
    assert_eq!(doc["master_key"]["id"], m.id().as_str());
    assert_eq!(doc["primary"], 3);
    assert_eq!(doc["min_decrypt"], 2);
    assert_eq!(doc["retention"], Value::Null);
    assert_eq!(doc["versions"][0]["created"], "2026-05-28T20:26:40Z");
    assert_eq!(doc["versions"][0]["retired"], "2026-05-28T20:31:40Z");
    assert!(doc["integrity"].is_string());
}

#[test]
fn wrong_master_key_is_named_with_both_ids() {
    let (m, ring) = three_versions();
    let other = LocalMasterKey::generate().unwrap();
    match Keyring::from_json(&ring.to_json().unwrap(), &other) {
        Err(Error::MasterKey(MasterKeyError::WrongMasterKey { expected, got })) => {
            assert_eq!(expected, m.id().as_str());
            assert_eq!(got, other.id().as_str());
        }
        r => panic!("expected WrongMasterKey, got {r:?}"),
    }
}

#[test]
fn wrapped_keyring_key_that_does_not_unwrap_is_refused() {
    let (m, ring) = three_versions();
    let json = edit(&ring.to_json().unwrap(), |v| {
        let w = v["master_key"]["wrapped_keyring_key"].as_str().unwrap();
        let mut s = w.to_string();
        let c = if s.ends_with('A') { 'B' } else { 'A' };
        s.pop();
        s.push(c);
        v["master_key"]["wrapped_keyring_key"] = Value::String(s);
    });
    assert!(matches!(
        Keyring::from_json(&json, &m),
        Err(Error::MasterKey(MasterKeyError::Unwrap))
    ));
}

#[test]
fn summary_read_without_the_master_key_matches_the_loaded_keyrings() {
    let (m, ring) = three_versions();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("webhooks.keyring.json");
    ring.save(&path).unwrap();
    let json = std::fs::read_to_string(&path).unwrap();
    let read = KeyringSummary::read_unverified(&json).unwrap();
    assert_eq!(read, Keyring::load(&path, &m).unwrap().summary());
    let states: Vec<_> = read.versions.iter().map(|v| (v.version, v.state)).collect();
    assert_eq!(
        states,
        [
            (1, VersionState::Retired),
            (2, VersionState::Active),
            (3, VersionState::Primary)
        ]
    );
    assert_eq!(read.versions[0].retired, Some(t(300)));
    assert_eq!(read.master_key_id, *m.id());
}

#[test]
fn summary_read_without_the_master_key_shows_an_edit_that_loading_refuses() {
    let (m, ring) = three_versions();
    let json = edit(&ring.to_json().unwrap(), |v| v["name"] = "renamed".into());
    assert_eq!(
        KeyringSummary::read_unverified(&json).unwrap().name,
        "renamed"
    );
    assert!(matches!(
        Keyring::from_json(&json, &m),
        Err(Error::KeyringFile(KeyringFileError::IntegrityMismatch))
    ));
}

#[test]
fn edited_primary_fails_integrity() {
    let (m, ring) = three_versions();
    let json = edit(&ring.to_json().unwrap(), |v| v["min_decrypt"] = 1.into());
    assert!(matches!(
        Keyring::from_json(&json, &m),
        Err(Error::KeyringFile(KeyringFileError::IntegrityMismatch))
    ));
}

#[test]
fn resurrected_tombstone_from_an_old_copy_fails_integrity() {
    // An attacker keeps an old copy (v1 live) and splices v1's wrapped key into the new file.
    let m = LocalMasterKey::generate().unwrap();
    let mut ring = Keyring::create("r", "eu", &m, t(0)).unwrap();
    ring.rotate(&m, t(1)).unwrap();
    let old: Value = serde_json::from_str(&ring.to_json().unwrap()).unwrap();
    ring.retire_below(2, t(2)).unwrap();
    let json = edit(&ring.to_json().unwrap(), |v| {
        v["versions"][0] = old["versions"][0].clone();
    });
    assert!(matches!(
        Keyring::from_json(&json, &m),
        Err(Error::KeyringFile(KeyringFileError::IntegrityMismatch))
    ));
}

#[test]
fn missing_integrity_fails() {
    let (m, ring) = three_versions();
    let json = edit(&ring.to_json().unwrap(), |v| {
        v.as_object_mut().unwrap().remove("integrity");
    });
    assert!(matches!(
        Keyring::from_json(&json, &m),
        Err(Error::KeyringFile(KeyringFileError::IntegrityMismatch))
    ));
}

#[test]
fn whitespace_changes_do_not_break_integrity() {
    let (m, ring) = three_versions();
    let compact = edit(&ring.to_json().unwrap(), |_| {});
    let compact: Value = serde_json::from_str(&compact).unwrap();
    let json = serde_json::to_string(&compact).unwrap();
    assert!(Keyring::from_json(&json, &m).is_ok());
}

#[test]
fn unknown_format_version_is_refused() {
    let (m, ring) = three_versions();
    let json = edit(&ring.to_json().unwrap(), |v| v["format_version"] = 2.into());
    assert!(matches!(
        Keyring::from_json(&json, &m),
        Err(Error::KeyringFile(KeyringFileError::UnsupportedVersion {
            version: 2
        }))
    ));
}

#[test]
fn not_a_keyring_is_refused() {
    let m = LocalMasterKey::generate().unwrap();
    for text in ["{}", r#"{"format":"something-else"}"#, "[1,2]"] {
        assert!(matches!(
            Keyring::from_json(text, &m),
            Err(Error::KeyringFile(KeyringFileError::NotAKeyring))
        ));
    }
    assert!(matches!(
        Keyring::from_json("not json", &m),
        Err(Error::KeyringFile(KeyringFileError::Json(_)))
    ));
}

#[test]
fn unknown_field_and_unknown_kind_are_refused() {
    let (m, ring) = three_versions();
    let json = edit(&ring.to_json().unwrap(), |v| v["extra"] = 1.into());
    assert!(matches!(
        Keyring::from_json(&json, &m),
        Err(Error::KeyringFile(KeyringFileError::Json(_)))
    ));
    let json = edit(&ring.to_json().unwrap(), |v| v["kind"] = "files".into());
    assert!(matches!(
        Keyring::from_json(&json, &m),
        Err(Error::KeyringFile(KeyringFileError::Json(_)))
    ));
}

#[test]
fn bad_keyring_id_is_refused() {
    let (m, ring) = three_versions();
    let json = edit(&ring.to_json().unwrap(), |v| v["keyring_id"] = "XYZ".into());
    assert!(matches!(
        Keyring::from_json(&json, &m),
        Err(Error::KeyringFile(KeyringFileError::InvalidField {
            field: "keyring_id",
            ..
        }))
    ));
}

#[test]
fn oversized_file_is_refused() {
    let m = LocalMasterKey::generate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.json");
    let big = vec![b' '; rampart_envelope::MAX_FILE_LEN + 10];
    std::fs::write(&path, big).unwrap();
    assert!(matches!(
        Keyring::load(&path, &m),
        Err(Error::KeyringFile(KeyringFileError::TooLarge { .. }))
    ));
}

#[test]
fn rewrap_moves_to_a_new_master_key_without_touching_data() {
    let (m, mut ring) = three_versions();
    let ctx = Context::new().with("k", "v");
    let ct = ring.seal(b"data", &ctx).unwrap();
    let before = ring.versions();
    let new = LocalMasterKey::generate().unwrap();
    ring.rewrap(&m, &new).unwrap();
    assert_eq!(ring.master_key_id(), new.id());
    let json = ring.to_json().unwrap();
    let loaded = Keyring::from_json(&json, &new).unwrap();
    assert_eq!(loaded.versions(), before);
    assert_eq!(&loaded.open(&ct, &ctx).unwrap()[..], b"data");
    assert!(matches!(
        Keyring::from_json(&json, &m),
        Err(Error::MasterKey(MasterKeyError::WrongMasterKey { .. }))
    ));
}

#[test]
fn rewrap_with_wrong_old_key_is_refused() {
    let (_m, mut ring) = three_versions();
    let stranger = LocalMasterKey::generate().unwrap();
    let new = LocalMasterKey::generate().unwrap();
    assert!(matches!(
        ring.rewrap(&stranger, &new),
        Err(Error::MasterKey(MasterKeyError::WrongMasterKey { .. }))
    ));
}

#[test]
fn load_reads_master_key_from_file_end_to_end() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("master.key");
    let m = LocalMasterKey::generate().unwrap();
    {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts.open(&key_path).unwrap();
        writeln!(f, "{}", &*m.expose_secret_base64()).unwrap();
    }
    let ring_path = dir.path().join("ring.json");
    Keyring::create("r", "eu", &m, t(0))
        .unwrap()
        .save(&ring_path)
        .unwrap();
    let m2 = LocalMasterKey::from_file(&key_path).unwrap();
    assert!(Keyring::load(&ring_path, &m2).is_ok());
}

#[test]
fn keyring_id_must_be_exactly_eight_lower_case_hex_digits() {
    let (m, ring) = three_versions();
    // Each would parse as a u32: upper case, a sign, and too few digits.
    for bad in ["ABCDEF12", "+1234567", "1234567"] {
        let json = edit(&ring.to_json().unwrap(), |v| v["keyring_id"] = bad.into());
        assert!(
            matches!(
                Keyring::from_json(&json, &m),
                Err(Error::KeyringFile(KeyringFileError::InvalidField {
                    field: "keyring_id",
                    ..
                }))
            ),
            "{bad}"
        );
    }
}

#[test]
fn document_of_exactly_the_size_limit_loads_and_one_byte_more_does_not() {
    let (m, ring) = three_versions();
    let mut json = ring.to_json().unwrap();
    json.extend(std::iter::repeat_n(
        ' ',
        rampart_envelope::MAX_FILE_LEN - json.len(),
    ));
    assert_eq!(Keyring::from_json(&json, &m).unwrap().id(), ring.id());
    json.push(' ');
    assert!(matches!(
        Keyring::from_json(&json, &m),
        Err(Error::KeyringFile(KeyringFileError::TooLarge { .. }))
    ));
}

#[test]
fn version_count_limit_admits_exactly_the_maximum() {
    let (m, ring) = three_versions();
    let doc: Value = serde_json::from_str(&ring.to_json().unwrap()).unwrap();
    let with_versions = |n: usize| {
        let mut doc = doc.clone();
        let versions = doc["versions"].as_array_mut().unwrap();
        let tombstone = versions[0].clone();
        versions.resize(n, tombstone);
        serde_json::to_string(&doc).unwrap()
    };
    // At the limit the count passes and the (edited) document fails its MAC instead.
    assert!(matches!(
        Keyring::from_json(&with_versions(rampart_envelope::MAX_VERSIONS), &m),
        Err(Error::KeyringFile(KeyringFileError::IntegrityMismatch))
    ));
    assert!(matches!(
        Keyring::from_json(&with_versions(rampart_envelope::MAX_VERSIONS + 1), &m),
        Err(Error::KeyringFile(KeyringFileError::TooManyVersions { .. }))
    ));
}

#[test]
fn each_save_raises_the_generation_and_a_stale_writer_loses() {
    let m = LocalMasterKey::generate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.json");
    Keyring::create("g", "eu", &m, t(0))
        .unwrap()
        .save(&path)
        .unwrap();
    let mut first = Keyring::load(&path, &m).unwrap();
    let mut stale = Keyring::load(&path, &m).unwrap();
    assert_eq!(first.generation(), Some(1));
    first.rotate(&m, t(1)).unwrap();
    first.save(&path).unwrap();
    assert_eq!(first.generation(), Some(2));
    let store = FileKeyringStore::new(&path);
    assert_eq!(store.load().unwrap().unwrap().generation, 2);
    assert_eq!(
        Keyring::load_from(&store, &m).unwrap().generation(),
        Some(2)
    );
    stale.rotate(&m, t(2)).unwrap();
    assert!(matches!(
        stale.save(&path),
        Err(Error::KeyringChanged { .. })
    ));
    assert_eq!(Keyring::load(&path, &m).unwrap().primary_version(), Some(2));
}

/// A handle on a file that another writer rotated (and, with `retire`, retired version 1
/// in), then someone edited so that it no longer verifies.
fn handle_after_a_broken_rotation(retire: bool) -> (tempfile::TempDir, KeyringHandle) {
    let m = Arc::new(LocalMasterKey::generate().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.json");
    Keyring::create("h", "eu", &m, t(0))
        .unwrap()
        .save(&path)
        .unwrap();
    let handle = KeyringHandle::new(FileKeyringStore::new(&path), Arc::clone(&m)).unwrap();
    Keyring::update(&FileKeyringStore::new(&path), &m, |r| {
        r.rotate(&m, t(1))?;
        if retire {
            r.retire_below(2, t(2))?;
        }
        Ok(())
    })
    .unwrap();
    let json = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        edit(&json, |v| v["rotate_after_seconds"] = 60.into()),
    )
    .unwrap();
    (dir, handle)
}

#[test]
fn handle_refuses_to_seal_under_a_primary_the_unverified_stored_file_shows_retired() {
    let (_dir, handle) = handle_after_a_broken_rotation(true);
    let ctx = Context::new().with("k", "v");
    assert!(matches!(
        handle.seal(b"x", &ctx),
        Err(Error::PrimaryRetiredInStore { version: 1 })
    ));
    assert!(matches!(
        handle.last_reload_error().as_deref(),
        Some(Error::KeyringFile(KeyringFileError::IntegrityMismatch))
    ));
}

#[test]
fn handle_keeps_sealing_when_the_unverified_stored_file_leaves_its_primary_live() {
    let (_dir, handle) = handle_after_a_broken_rotation(false);
    let ctx = Context::new().with("k", "v");
    let sealed = handle.seal(b"x", &ctx).unwrap();
    assert_eq!(handle.current().version_of(&sealed).unwrap(), 1);
    assert!(handle.last_reload_error().is_some());
}

/// The primary may be the lowest version `open` accepts (everything older retired): such a
/// file loads and seals. `primary == min_decrypt` is the boundary of the "primary is below
/// min_decrypt" refusal.
#[test]
fn keyring_whose_primary_is_its_lowest_decryptable_version_loads() {
    let (m, mut ring) = three_versions();
    ring.retire_below(3, t(400)).unwrap();
    assert_eq!(ring.min_decrypt(), 3);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("webhooks.keyring.json");
    ring.save(&path).unwrap();
    let loaded = Keyring::load(&path, &m).unwrap();
    assert_eq!(loaded.primary_version(), Some(3));
    assert_eq!(loaded.min_decrypt(), 3);
    let ctx = Context::new().with("hook", "8");
    let ct = loaded.seal(b"whsec_def", &ctx).unwrap();
    assert_eq!(&loaded.open(&ct, &ctx).unwrap()[..], b"whsec_def");
}
