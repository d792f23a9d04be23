//! `rampart keyring init|rotate|list|retire|rewrap`, with master keys from files and the
//! environment, and every refusal an operator can run into.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{
    MASTER_KEY, OTHER_MASTER_KEY, assert_no_master_key, json_stdout, private_file, rampart,
};
use tempfile::TempDir;

struct Setup {
    dir: TempDir,
    key: PathBuf,
    ring: PathBuf,
}

impl Setup {
    fn new() -> Self {
        let dir = TempDir::new().unwrap();
        let key = private_file(dir.path(), "master.key", &format!("{MASTER_KEY}\n"));
        let ring = dir.path().join("tokens.json");
        Self { dir, key, ring }
    }

    fn keyring(&self, args: &[&str]) -> Output {
        let out = rampart()
            .arg("keyring")
            .args(args)
            .arg("--keyring")
            .arg(&self.ring)
            .arg("--master-key-file")
            .arg(&self.key)
            .output()
            .unwrap();
        assert_no_master_key(&out, MASTER_KEY);
        out
    }

    fn init(&self) -> serde_json::Value {
        let out = self.keyring(&["init", "--region", "eu-central"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        json_stdout(&out)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn states(json: &serde_json::Value) -> Vec<(u64, String)> {
    json["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["version"].as_u64().unwrap(),
                v["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn init_creates_a_keyring_with_one_primary_version() {
    let s = Setup::new();
    let json = s.init();
    assert_eq!(json["keyring"], "tokens");
    assert_eq!(json["region"], "eu-central");
    assert_eq!(states(&json), vec![(1, "primary".to_owned())]);
    let created = json["versions"][0]["created_at"].as_str().unwrap();
    assert!(
        created.ends_with('Z') && created.contains('T'),
        "RFC 3339: {created}"
    );
    assert!(s.ring.exists());
    let file = std::fs::read_to_string(&s.ring).unwrap();
    assert!(!file.contains(MASTER_KEY));
}

#[test]
fn init_without_region_uses_default() {
    let s = Setup::new();
    let out = s.keyring(&["init"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json_stdout(&out)["region"], "default");
}

#[test]
fn init_refuses_to_overwrite_an_existing_keyring() {
    let s = Setup::new();
    s.init();
    let before = std::fs::read(&s.ring).unwrap();
    let out = s.keyring(&["init"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json_stdout(&out)["error"], "keyring_exists");
    assert_eq!(std::fs::read(&s.ring).unwrap(), before, "file untouched");
}

#[test]
fn init_reads_master_key_from_environment() {
    let s = Setup::new();
    let out = rampart()
        .args(["keyring", "init", "--keyring"])
        .arg(&s.ring)
        .env("RAMPART_MASTER_KEY", format!("  {MASTER_KEY}\n"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_no_master_key(&out, MASTER_KEY);
    // The same key from a file opens it.
    assert_eq!(s.keyring(&["list"]).status.code(), Some(0));
}

#[test]
fn missing_master_key_exits_2_with_how_to_make_one() {
    let s = Setup::new();
    let out = rampart()
        .args(["keyring", "init", "--keyring"])
        .arg(&s.ring)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let json = json_stdout(&out);
    assert_eq!(json["error"], "missing_master_key");
    assert!(
        json["message"]
            .as_str()
            .unwrap()
            .contains("RAMPART_MASTER_KEY")
    );
    assert!(!s.ring.exists());
}

#[test]
fn malformed_master_key_exits_2_and_is_not_echoed() {
    let s = Setup::new();
    for bad in ["this is not base64 at all!!", "c2hvcnQga2V5IDE2IGJ5dGVz"] {
        let out = rampart()
            .args(["keyring", "init", "--keyring"])
            .arg(&s.ring)
            .env("RAMPART_MASTER_KEY", bad)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert_eq!(json_stdout(&out)["error"], "malformed_master_key", "{bad}");
        common::assert_no_secret(&out, bad.as_bytes());
        assert!(!s.ring.exists());
    }
}

#[cfg(unix)]
#[test]
fn group_readable_master_key_file_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let s = Setup::new();
    std::fs::set_permissions(&s.key, std::fs::Permissions::from_mode(0o640)).unwrap();
    let out = s.keyring(&["init"]);
    assert_eq!(out.status.code(), Some(2));
    let json = json_stdout(&out);
    assert_eq!(json["error"], "insecure_key_file");
    assert!(json["message"].as_str().unwrap().contains("chmod 600"));
}

#[test]
fn rotate_adds_a_primary_and_keeps_the_old_version_active() {
    let s = Setup::new();
    s.init();
    let out = s.keyring(&["rotate"]);
    assert_eq!(out.status.code(), Some(0));
    let json = json_stdout(&out);
    assert_eq!(json["rotated_to"], 2);
    assert_eq!(
        states(&json),
        vec![(1, "active".into()), (2, "primary".into())]
    );
}

#[test]
fn list_prints_the_contract_shape() {
    let s = Setup::new();
    s.init();
    s.keyring(&["rotate"]);
    let out = s.keyring(&["list"]);
    assert_eq!(out.status.code(), Some(0));
    let json = json_stdout(&out);
    assert_eq!(json["keyring"], "tokens");
    assert_eq!(json["region"], "eu-central");
    assert_eq!(json["versions"].as_array().unwrap().len(), 2);
    for v in json["versions"].as_array().unwrap() {
        assert!(v["version"].is_u64() && v["state"].is_string() && v["created_at"].is_string());
    }
}

#[test]
fn list_of_a_missing_file_exits_2() {
    let s = Setup::new();
    let out = s.keyring(&["list"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json_stdout(&out)["error"], "io");
}

#[test]
fn list_with_the_wrong_master_key_exits_2() {
    let s = Setup::new();
    s.init();
    let other = private_file(s.dir.path(), "other.key", OTHER_MASTER_KEY);
    let out = rampart()
        .args(["keyring", "list", "--keyring"])
        .arg(&s.ring)
        .arg("--master-key-file")
        .arg(&other)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json_stdout(&out)["error"], "wrong_master_key");
    assert_no_master_key(&out, OTHER_MASTER_KEY);
}

#[test]
fn list_of_an_edited_keyring_file_exits_2() {
    let s = Setup::new();
    s.init();
    s.keyring(&["rotate"]);
    let text = std::fs::read_to_string(&s.ring).unwrap();
    // Point "primary" back at version 1 without the integrity MAC's key.
    let edited = text.replacen("\"primary\": 2", "\"primary\": 1", 1);
    assert_ne!(text, edited, "fixture: the file has a primary field");
    std::fs::write(&s.ring, edited).unwrap();
    let out = s.keyring(&["list"]);
    assert_eq!(out.status.code(), Some(2));
    let kind = json_stdout(&out)["error"].as_str().unwrap().to_owned();
    assert!(
        kind == "keyring_integrity" || kind == "malformed_keyring",
        "{kind}"
    );
}

#[test]
fn retire_below_destroys_old_versions() {
    let s = Setup::new();
    s.init();
    s.keyring(&["rotate"]);
    s.keyring(&["rotate"]);
    let out = s.keyring(&["retire", "--below", "3"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let json = json_stdout(&out);
    assert_eq!(json["retired"], serde_json::json!([1, 2]));
    assert_eq!(
        states(&json),
        vec![
            (1, "retired".into()),
            (2, "retired".into()),
            (3, "primary".into())
        ]
    );
    assert!(json["versions"][0]["retired_at"].is_string());
    // Saved: list shows the same.
    assert_eq!(states(&json_stdout(&s.keyring(&["list"]))), states(&json));
}

#[test]
fn retire_the_primary_or_beyond_is_refused() {
    let s = Setup::new();
    s.init();
    let out = s.keyring(&["retire", "--below", "5"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json_stdout(&out)["error"], "invalid_operation");
}

#[test]
fn rewrap_moves_the_keyring_to_the_new_master_key() {
    let s = Setup::new();
    s.init();
    let new_key = private_file(s.dir.path(), "new.key", OTHER_MASTER_KEY);
    let out = s.keyring_rewrap(&new_key);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_no_master_key(&out, OTHER_MASTER_KEY);
    // The old key no longer opens it; the new one does.
    let old = s.keyring(&["list"]);
    assert_eq!(old.status.code(), Some(2));
    assert_eq!(json_stdout(&old)["error"], "wrong_master_key");
    let new = list_with(&s.ring, &new_key);
    assert_eq!(new.status.code(), Some(0));
    assert_eq!(states(&json_stdout(&new)), vec![(1, "primary".into())]);
}

#[test]
fn rewrap_with_a_missing_new_key_file_exits_2_and_keeps_the_keyring() {
    let s = Setup::new();
    s.init();
    let before = std::fs::read(&s.ring).unwrap();
    let out = s.keyring_rewrap(&s.path("absent.key"));
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read(&s.ring).unwrap(), before);
}

impl Setup {
    fn keyring_rewrap(&self, new_key: &Path) -> Output {
        let out = rampart()
            .args(["keyring", "rewrap", "--keyring"])
            .arg(&self.ring)
            .arg("--master-key-file")
            .arg(&self.key)
            .arg("--new-master-key-file")
            .arg(new_key)
            .output()
            .unwrap();
        assert_no_master_key(&out, MASTER_KEY);
        out
    }
}

fn list_with(ring: &Path, key: &Path) -> Output {
    rampart()
        .args(["keyring", "list", "--keyring"])
        .arg(ring)
        .arg("--master-key-file")
        .arg(key)
        .output()
        .unwrap()
}

#[test]
fn rotate_with_the_wrong_master_key_exits_2_and_keeps_the_keyring() {
    let s = Setup::new();
    s.init();
    let before = std::fs::read(&s.ring).unwrap();
    let other = private_file(s.dir.path(), "other.key", OTHER_MASTER_KEY);
    for (how, out) in [
        (
            "file",
            rampart()
                .args(["keyring", "rotate", "--keyring"])
                .arg(&s.ring)
                .arg("--master-key-file")
                .arg(&other)
                .output()
                .unwrap(),
        ),
        (
            "environment",
            rampart()
                .args(["keyring", "rotate", "--keyring"])
                .arg(&s.ring)
                .env("RAMPART_MASTER_KEY", OTHER_MASTER_KEY)
                .output()
                .unwrap(),
        ),
    ] {
        assert_eq!(out.status.code(), Some(2), "{how}");
        assert_eq!(json_stdout(&out)["error"], "wrong_master_key", "{how}");
        assert_no_master_key(&out, OTHER_MASTER_KEY);
        assert_no_master_key(&out, MASTER_KEY);
        assert_eq!(
            std::fs::read(&s.ring).unwrap(),
            before,
            "{how}: keyring untouched"
        );
    }
    let json = json_stdout(&list_with(&s.ring, &s.key));
    assert_eq!(
        states(&json),
        [(1, "primary".to_owned())],
        "no version added"
    );
}

#[test]
fn rotate_of_a_missing_file_exits_2_and_creates_nothing() {
    let s = Setup::new();
    let out = s.keyring(&["rotate"]);
    assert_eq!(out.status.code(), Some(2));
    let json = json_stdout(&out);
    assert_eq!(json["error"], "io", "{json}");
    assert!(
        json["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("no such file"),
        "{json}"
    );
    assert!(!s.ring.exists(), "rotate does not create a keyring");
}

#[test]
fn retire_dry_run_lists_what_would_be_destroyed_and_changes_nothing() {
    let s = Setup::new();
    s.init();
    s.keyring(&["rotate"]);
    s.keyring(&["rotate"]);
    let before = std::fs::read(&s.ring).unwrap();
    let out = s.keyring(&["retire", "--below", "3", "--dry-run"]);
    assert_eq!(out.status.code(), Some(0));
    let json = json_stdout(&out);
    assert_eq!(json["dry_run"], true);
    assert_eq!(json["would_retire"], serde_json::json!([1, 2]));
    assert!(json["note"].as_str().unwrap().contains("keyring rewrap"));
    assert_eq!(std::fs::read(&s.ring).unwrap(), before, "nothing written");
    let out = s.keyring(&["retire", "--below", "3"]);
    let json = json_stdout(&out);
    assert_eq!(json["retired"], serde_json::json!([1, 2]));
    assert!(json["note"].as_str().unwrap().contains("backups"));
}

#[test]
fn retire_help_says_copies_still_open_retired_data_until_rewrap() {
    let out = rampart()
        .args(["keyring", "retire", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("--dry-run") && help.contains("--yes"),
        "{help}"
    );
    assert!(help.contains("Copies and backups"), "{help}");
    assert!(help.contains("keyring rewrap"), "{help}");
}

#[test]
fn retire_at_a_terminal_asks_and_writes_nothing_unless_confirmed() {
    use std::ffi::OsStr;
    let s = Setup::new();
    s.init();
    s.keyring(&["rotate"]);
    let before = std::fs::read(&s.ring).unwrap();
    let args = |extra: &[&'static str]| {
        let mut v: Vec<std::ffi::OsString> = ["keyring", "retire", "--below", "2", "--keyring"]
            .iter()
            .map(Into::into)
            .collect();
        v.push(s.ring.clone().into());
        v.push("--master-key-file".into());
        v.push(s.key.clone().into());
        v.extend(extra.iter().map(Into::into));
        v
    };
    let declined = args(&[]);
    let declined: Vec<&OsStr> = declined.iter().map(std::ffi::OsString::as_os_str).collect();
    let Some(run) = common::rampart_in_terminal(&declined, Some(("Type 'retire'", "no"))) else {
        return;
    };
    let text = String::from_utf8_lossy(&run.transcript);
    assert_eq!(run.code, Some(1), "{text}");
    assert!(text.contains("not_confirmed"), "{text}");
    assert!(
        text.contains("keyring rewrap"),
        "the prompt says what copies still do: {text}"
    );
    assert_eq!(std::fs::read(&s.ring).unwrap(), before, "nothing written");

    let run = common::rampart_in_terminal(&declined, Some(("Type 'retire'", "retire"))).unwrap();
    assert_eq!(
        run.code,
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.transcript)
    );

    s.keyring(&["rotate"]);
    let yes = args(&["--yes"]);
    let mut yes: Vec<&OsStr> = yes.iter().map(std::ffi::OsString::as_os_str).collect();
    // --below 3 now; --yes never asks.
    yes[3] = OsStr::new("3");
    let run = common::rampart_in_terminal(&yes, None).unwrap();
    assert_eq!(
        run.code,
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.transcript)
    );
}

#[test]
fn init_names_the_keyring_after_the_file_or_name() {
    let s = Setup::new();
    assert_eq!(s.init()["keyring"], "tokens", "the file stem by default");
    let other = Setup::new();
    let out = other.keyring(&["init", "--name", "oauth-tokens"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(json_stdout(&out)["keyring"], "oauth-tokens");
    let listed = other.keyring(&["list"]);
    assert_eq!(json_stdout(&listed)["keyring"], "oauth-tokens");
}

#[test]
fn init_with_an_unusable_name_writes_nothing() {
    let s = Setup::new();
    let out = s.keyring(&["init", "--name", "bad\u{7}name"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!s.ring.exists());
}

fn list_without_master_key(ring: &Path) -> Output {
    rampart()
        .args(["keyring", "list", "--keyring"])
        .arg(ring)
        .env_remove("RAMPART_MASTER_KEY")
        .output()
        .unwrap()
}

#[test]
fn list_without_master_key_shows_the_file_with_integrity_not_checked() {
    let s = Setup::new();
    s.init();
    s.keyring(&["rotate"]);
    let checked = json_stdout(&s.keyring(&["list"]));
    assert_eq!(checked["integrity"], "checked");
    let out = list_without_master_key(&s.ring);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let json = json_stdout(&out);
    assert!(
        json["integrity"]
            .as_str()
            .unwrap()
            .starts_with("not checked (no master key given"),
        "{json}"
    );
    for field in [
        "keyring",
        "region",
        "id",
        "kind",
        "primary",
        "min_decrypt",
        "master_key",
    ] {
        assert_eq!(json[field], checked[field], "{field}");
    }
    assert_eq!(states(&json), states(&checked));
}

/// Everything the checked listing shows, the unchecked one shows too (generation, a retention
/// keyring's buckets), but the integrity line.
#[test]
fn list_without_master_key_matches_the_checked_listing_but_for_integrity() {
    for init in [
        &["init", "--region", "eu-central"][..],
        &["init", "--region", "eu-central", "--retention", "1h"],
    ] {
        let s = Setup::new();
        assert_eq!(s.keyring(init).status.code(), Some(0));
        let mut checked = json_stdout(&s.keyring(&["list"]));
        let mut unchecked = json_stdout(&list_without_master_key(&s.ring));
        for body in [&mut checked, &mut unchecked] {
            body.as_object_mut().unwrap().remove("integrity");
        }
        assert_eq!(unchecked, checked, "{init:?}");
    }
}

#[test]
fn list_without_master_key_of_a_file_that_is_no_keyring_exits_2() {
    let s = Setup::new();
    std::fs::write(&s.ring, r#"{"format":"something-else"}"#).unwrap();
    let out = list_without_master_key(&s.ring);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json_stdout(&out)["error"], "not_a_keyring");
    let missing = list_without_master_key(&s.path("missing.json"));
    assert_eq!(missing.status.code(), Some(2));
    assert_eq!(json_stdout(&missing)["error"], "io");
}
