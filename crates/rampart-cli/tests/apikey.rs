//! `rampart apikey new|check`: issue, check, every rejection shape, and no secret in output
//! except the one `new` is asked to print.

mod common;

use std::path::{Path, PathBuf};

use common::{assert_no_secret, json_stdout, private_file, rampart};
use serde_json::Value;
use tempfile::TempDir;

const HASHING_KEY: &str = "c2VydmljZS1oYXNoaW5nLWtleS0zMi1ieXRlcy1sb25nISE=";
const OTHER_HASHING_KEY: &str = "b3RoZXItaGFzaGluZy1rZXktMzItYnl0ZXMtbG9uZyEhIQ==";

/// Issues a key with `extra` arguments; returns (secret_key, record file, full JSON).
fn issue(dir: &TempDir, key_file: &Path, extra: &[&str]) -> (String, PathBuf, Value) {
    let out = rampart()
        .args(["apikey", "new", "--hashing-key-file"])
        .arg(key_file)
        .args(extra)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json = json_stdout(&out);
    let secret = json["secret_key"].as_str().unwrap().to_owned();
    let record = dir
        .path()
        .join(format!("record-{}.json", &secret[secret.len() - 6..]));
    std::fs::write(&record, json["record"].to_string()).unwrap();
    (secret, record, json)
}

fn check(record: &Path, key_file: &Path, secret: &str, extra: &[&str]) -> std::process::Output {
    rampart()
        .args(["apikey", "check", "--record"])
        .arg(record)
        .arg("--hashing-key-file")
        .arg(key_file)
        .args(extra)
        .write_stdin(format!("{secret}\n"))
        .output()
        .unwrap()
}

#[test]
fn new_prints_pair_and_record_without_the_hashing_key() {
    let dir = TempDir::new().unwrap();
    let key = private_file(dir.path(), "hashing.key", HASHING_KEY);
    let out = rampart()
        .args(["apikey", "new", "--hashing-key-file"])
        .arg(&key)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let json = json_stdout(&out);
    let secret = json["secret_key"].as_str().unwrap();
    let public = json["public_key"].as_str().unwrap();
    assert!(secret.starts_with("rk_live_"), "default prefix");
    assert!(
        secret.starts_with(public),
        "the secret embeds the public key"
    );
    assert_eq!(json["record"]["v"], 1);
    assert_eq!(
        json["record"]["public_id"].as_str().unwrap(),
        &public["rk_live_".len()..]
    );
    assert!(
        !json["record"].to_string().contains(secret),
        "record holds only a hash"
    );
    assert_no_secret(&out, HASHING_KEY.as_bytes());
}

#[test]
fn new_with_prefix_uses_it() {
    let dir = TempDir::new().unwrap();
    let key = private_file(dir.path(), "hashing.key", HASHING_KEY);
    let (secret, _, json) = issue(&dir, &key, &["--prefix", "acme_test"]);
    assert!(secret.starts_with("acme_test_"));
    assert_eq!(json["record"]["prefix"], "acme_test");
}

#[test]
fn new_with_malformed_prefix_exits_2() {
    let dir = TempDir::new().unwrap();
    let key = private_file(dir.path(), "hashing.key", HASHING_KEY);
    let out = rampart()
        .args([
            "apikey",
            "new",
            "--prefix",
            "Not A Prefix",
            "--hashing-key-file",
        ])
        .arg(&key)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json_stdout(&out)["error"], "invalid_option");
}

#[test]
fn new_without_hashing_key_names_the_option_and_how_to_make_one() {
    let out = rampart()
        .args(["apikey", "new"])
        .env_remove("RAMPART_APIKEY_HASHING_KEY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let json = json_stdout(&out);
    assert_eq!(json["error"], "missing_key");
    let message = json["message"].as_str().unwrap();
    assert!(message.contains("--hashing-key-file FILE"), "{message}");
    assert!(message.contains("RAMPART_APIKEY_HASHING_KEY"), "{message}");
    assert!(
        message.contains("head -c 32 /dev/urandom | base64 > hashing.key"),
        "{message}"
    );
}

#[test]
fn new_reads_hashing_key_from_environment() {
    let out = rampart()
        .args(["apikey", "new"])
        .env("RAMPART_APIKEY_HASHING_KEY", HASHING_KEY)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_no_secret(&out, HASHING_KEY.as_bytes());
}

#[test]
fn short_hashing_key_exits_2_without_echoing_it() {
    let dir = TempDir::new().unwrap();
    let short = "c2hvcnQta2V5"; // "short-key"
    let key = private_file(dir.path(), "hashing.key", short);
    let out = rampart()
        .args(["apikey", "new", "--hashing-key-file"])
        .arg(&key)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json_stdout(&out)["error"], "malformed_key");
    assert_no_secret(&out, short.as_bytes());
}

#[cfg(unix)]
#[test]
fn world_readable_hashing_key_file_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new().unwrap();
    let key = private_file(dir.path(), "hashing.key", HASHING_KEY);
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = rampart()
        .args(["apikey", "new", "--hashing-key-file"])
        .arg(&key)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let json = json_stdout(&out);
    assert_eq!(json["error"], "insecure_key_file");
    assert!(json["message"].as_str().unwrap().contains("chmod 600"));
    assert_no_secret(&out, HASHING_KEY.as_bytes());
}

#[test]
fn check_accepts_the_issued_secret() {
    let dir = TempDir::new().unwrap();
    let key = private_file(dir.path(), "hashing.key", HASHING_KEY);
    let (secret, record, issued) = issue(&dir, &key, &["--scope", "orders:read"]);
    let out = check(&record, &key, &secret, &["--scope", "orders:read"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let json = json_stdout(&out);
    assert_eq!(json["valid"], true);
    assert_eq!(json["public_id"], issued["record"]["public_id"]);
    assert_eq!(json["scopes"], serde_json::json!(["orders:read"]));
    assert_no_secret(&out, secret.as_bytes());
    assert_no_secret(&out, HASHING_KEY.as_bytes());
}

#[test]
fn check_without_trailing_newline_is_the_same_secret() {
    let dir = TempDir::new().unwrap();
    let key = private_file(dir.path(), "hashing.key", HASHING_KEY);
    let (secret, record, _) = issue(&dir, &key, &[]);
    let out = rampart()
        .args(["apikey", "check", "--record"])
        .arg(&record)
        .env("RAMPART_APIKEY_HASHING_KEY", HASHING_KEY)
        .write_stdin(secret.clone())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

/// Asserts a rejection: exit 1, `{"valid":false,"error":kind}`, secret absent.
fn assert_rejected(out: &std::process::Output, kind: &str, secret: &str) -> Value {
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let json = json_stdout(out);
    assert_eq!(json["valid"], false);
    assert_eq!(json["error"], kind, "{json}");
    assert_no_secret(out, secret.as_bytes());
    json
}

#[test]
fn check_rejects_a_mistyped_secret_by_checksum() {
    let dir = TempDir::new().unwrap();
    let key = private_file(dir.path(), "hashing.key", HASHING_KEY);
    let (secret, record, _) = issue(&dir, &key, &[]);
    let mut typo: Vec<char> = secret.chars().collect();
    let i = typo.len() - 10;
    typo[i] = if typo[i] == 'a' { 'b' } else { 'a' };
    let typo: String = typo.into_iter().collect();
    let json = assert_rejected(&check(&record, &key, &typo, &[]), "bad_checksum", &typo);
    assert!(
        json["public_id"].is_string(),
        "the public id is named for attempt counting"
    );
}

#[test]
fn check_rejects_a_truncated_secret() {
    let dir = TempDir::new().unwrap();
    let key = private_file(dir.path(), "hashing.key", HASHING_KEY);
    let (secret, record, _) = issue(&dir, &key, &[]);
    let cut = &secret[..secret.len() - 3];
    assert_rejected(&check(&record, &key, cut, &[]), "malformed", cut);
}

#[test]
fn check_rejects_garbage() {
    let dir = TempDir::new().unwrap();
    let key = private_file(dir.path(), "hashing.key", HASHING_KEY);
    let (_, record, _) = issue(&dir, &key, &[]);
    let garbage = "hunter2-is-not-an-api-key";
    assert_rejected(&check(&record, &key, garbage, &[]), "malformed", garbage);
}

#[test]
fn check_rejects_another_keys_secret_as_unknown() {
    let dir = TempDir::new().unwrap();
    let key = private_file(dir.path(), "hashing.key", HASHING_KEY);
    let (_, record, _) = issue(&dir, &key, &[]);
    let (other_secret, _, _) = issue(&dir, &key, &[]);
    assert_rejected(
        &check(&record, &key, &other_secret, &[]),
        "unknown_key",
        &other_secret,
    );
}

#[test]
fn check_under_another_hashing_key_says_wrong_hashing_key() {
    let dir = TempDir::new().unwrap();
    let key = private_file(dir.path(), "hashing.key", HASHING_KEY);
    let other = private_file(dir.path(), "other.key", OTHER_HASHING_KEY);
    let (secret, record, _) = issue(&dir, &key, &[]);
    let out = check(&record, &other, &secret, &[]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a configuration error, not a verdict"
    );
    let json = json_stdout(&out);
    assert_eq!(json["error"], "wrong_hashing_key");
    let message = json["message"].as_str().unwrap();
    assert!(
        message.contains("the hashing key is not the one this record was made with"),
        "{message}"
    );
    assert!(message.contains("--hashing-key-file"), "{message}");
    assert!(json.get("valid").is_none(), "no verdict on the secret");
    assert_no_secret(&out, secret.as_bytes());
}

/// Records made before the check value existed are still read; a wrong key then fails as a
/// mismatch, as it always did.
#[test]
fn record_without_check_value_is_read_and_a_wrong_key_is_a_mismatch() {
    let dir = TempDir::new().unwrap();
    let key = private_file(dir.path(), "hashing.key", HASHING_KEY);
    let other = private_file(dir.path(), "other.key", OTHER_HASHING_KEY);
    let (secret, record, json) = issue(&dir, &key, &[]);
    let mut old = json["record"].clone();
    old.as_object_mut()
        .unwrap()
        .remove("hashing_key_check")
        .unwrap();
    std::fs::write(&record, old.to_string()).unwrap();
    assert_eq!(check(&record, &key, &secret, &[]).status.code(), Some(0));
    assert_rejected(&check(&record, &other, &secret, &[]), "mismatch", &secret);
}

#[test]
fn check_rejects_a_missing_scope() {
    let dir = TempDir::new().unwrap();
    let key = private_file(dir.path(), "hashing.key", HASHING_KEY);
    let (secret, record, _) = issue(&dir, &key, &["--scope", "orders:read"]);
    let out = check(&record, &key, &secret, &["--scope", "orders:write"]);
    assert_rejected(&out, "missing_scope", &secret);
}

#[test]
fn check_rejects_a_test_key_against_a_live_record() {
    let dir = TempDir::new().unwrap();
    let key = private_file(dir.path(), "hashing.key", HASHING_KEY);
    let (_, live_record, _) = issue(&dir, &key, &[]);
    let (test_secret, _, _) = issue(&dir, &key, &["--prefix", "rk_test"]);
    let out = check(&live_record, &key, &test_secret, &[]);
    assert_rejected(&out, "unexpected_prefix", &test_secret);
}

#[test]
fn check_with_malformed_record_exits_2() {
    let dir = TempDir::new().unwrap();
    let key = private_file(dir.path(), "hashing.key", HASHING_KEY);
    let record = dir.path().join("record.json");
    std::fs::write(&record, r#"{"v":99}"#).unwrap();
    let secret = "rk_live_0123456789ABCDEF_00000000000000000000000000000000000000";
    let out = check(&record, &key, secret, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json_stdout(&out)["error"], "malformed_record");
    assert_no_secret(&out, secret.as_bytes());
}

#[test]
fn check_with_missing_record_file_exits_2() {
    let dir = TempDir::new().unwrap();
    let key = private_file(dir.path(), "hashing.key", HASHING_KEY);
    let out = check(&dir.path().join("nope.json"), &key, "x", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json_stdout(&out)["error"], "io");
}

#[test]
fn check_with_empty_stdin_exits_2() {
    let dir = TempDir::new().unwrap();
    let key = private_file(dir.path(), "hashing.key", HASHING_KEY);
    let (_, record, _) = issue(&dir, &key, &[]);
    let out = check(&record, &key, "", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json_stdout(&out)["error"], "empty_secret");
}

#[test]
fn secret_typed_at_a_terminal_is_not_echoed() {
    let dir = TempDir::new().unwrap();
    let key = private_file(dir.path(), "hashing.key", HASHING_KEY);
    let (secret, record, _) = issue(&dir, &key, &[]);
    let Some(run) = common::rampart_in_terminal(
        &[
            "apikey".as_ref(),
            "check".as_ref(),
            "--record".as_ref(),
            record.as_os_str(),
            "--hashing-key-file".as_ref(),
            key.as_os_str(),
        ],
        Some(("API secret key", &secret)),
    ) else {
        return;
    };
    let shown = String::from_utf8_lossy(&run.transcript).into_owned();
    assert_eq!(run.code, Some(0), "the typed secret was read: {shown}");
    assert!(shown.contains("\"valid\":true"), "{shown}");
    assert!(!shown.contains(&secret), "the secret was echoed: {shown:?}");
}

#[test]
fn new_with_expires_in_records_the_expiry() {
    let dir = TempDir::new().unwrap();
    let key = private_file(dir.path(), "hashing.key", HASHING_KEY);
    let (secret, record, json) = issue(&dir, &key, &["--expires-in", "90d"]);
    let expires = json["record"]["expires_at"].clone();
    assert!(!expires.is_null(), "{json}");
    let created = json["record"]["created_at"].clone();
    assert_ne!(expires, created);
    assert_eq!(check(&record, &key, &secret, &[]).status.code(), Some(0));
}

#[test]
fn new_with_malformed_expires_in_exits_2() {
    let dir = TempDir::new().unwrap();
    let key = private_file(dir.path(), "hashing.key", HASHING_KEY);
    for bad in ["90", "0d", "3w", "soon"] {
        let out = rampart()
            .args(["apikey", "new", "--expires-in", bad, "--hashing-key-file"])
            .arg(&key)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let json = json_stdout(&out);
        assert_eq!(json["error"], "invalid_option", "{bad}");
        assert!(json["message"].as_str().unwrap().contains("--expires-in"));
        assert!(json.get("secret_key").is_none());
    }
}

fn revoke(record: &Path) -> std::process::Output {
    rampart()
        .args(["apikey", "revoke", "--record"])
        .arg(record)
        .output()
        .unwrap()
}

#[test]
fn revoke_rewrites_the_record_and_the_key_no_longer_checks() {
    let dir = TempDir::new().unwrap();
    let key = private_file(dir.path(), "hashing.key", HASHING_KEY);
    let (secret, record, json) = issue(&dir, &key, &[]);
    let out = revoke(&record);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_stdout(&out);
    assert_eq!(report["revoked"], true);
    assert_eq!(report["public_id"], json["record"]["public_id"]);
    let stored: Value = serde_json::from_str(&std::fs::read_to_string(&record).unwrap()).unwrap();
    assert!(!stored["revoked_at"].is_null(), "{stored}");
    assert_eq!(
        stored["hashing_key_check"],
        json["record"]["hashing_key_check"]
    );
    assert_rejected(&check(&record, &key, &secret, &[]), "revoked", &secret);
}

#[test]
fn revoking_twice_leaves_the_record_unchanged() {
    let dir = TempDir::new().unwrap();
    let key = private_file(dir.path(), "hashing.key", HASHING_KEY);
    let (_, record, _) = issue(&dir, &key, &[]);
    assert_eq!(revoke(&record).status.code(), Some(0));
    let before = std::fs::read(&record).unwrap();
    let out = revoke(&record);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json_stdout(&out)["error"], "already_revoked");
    assert_eq!(std::fs::read(&record).unwrap(), before);
}

#[test]
fn revoke_of_a_malformed_record_exits_2_and_writes_nothing() {
    let dir = TempDir::new().unwrap();
    let record = dir.path().join("record.json");
    std::fs::write(&record, r#"{"v":99}"#).unwrap();
    let out = revoke(&record);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json_stdout(&out)["error"], "malformed_record");
    assert_eq!(std::fs::read_to_string(&record).unwrap(), r#"{"v":99}"#);
}

fn rotate(record: &Path, key_file: &Path, overlap: &str) -> std::process::Output {
    rampart()
        .args(["apikey", "rotate", "--overlap", overlap, "--record"])
        .arg(record)
        .arg("--hashing-key-file")
        .arg(key_file)
        .output()
        .unwrap()
}

#[test]
fn rotate_issues_a_new_secret_and_keeps_the_old_one_for_the_overlap() {
    let dir = TempDir::new().unwrap();
    let key = private_file(dir.path(), "hashing.key", HASHING_KEY);
    let (old_secret, record, issued) = issue(&dir, &key, &[]);
    let out = rotate(&record, &key, "7d");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json = json_stdout(&out);
    let new_secret = json["secret_key"].as_str().unwrap();
    assert_ne!(new_secret, old_secret);
    assert_eq!(
        json["public_key"], issued["public_key"],
        "the public key stays"
    );
    assert!(json["previous_valid_until"].is_string(), "{json}");
    let new_check = check(&record, &key, new_secret, &[]);
    assert_eq!(new_check.status.code(), Some(0));
    assert_eq!(json_stdout(&new_check)["used_previous_secret"], false);
    let old_check = check(&record, &key, &old_secret, &[]);
    assert_eq!(
        old_check.status.code(),
        Some(0),
        "the old secret works during the overlap"
    );
    assert_eq!(json_stdout(&old_check)["used_previous_secret"], true);
}

#[test]
fn rotate_with_no_overlap_ends_the_old_secret_at_once() {
    let dir = TempDir::new().unwrap();
    let key = private_file(dir.path(), "hashing.key", HASHING_KEY);
    let (old_secret, record, _) = issue(&dir, &key, &[]);
    let out = rotate(&record, &key, "0");
    assert_eq!(out.status.code(), Some(0));
    assert!(json_stdout(&out)["previous_valid_until"].is_null());
    assert_rejected(
        &check(&record, &key, &old_secret, &[]),
        "mismatch",
        &old_secret,
    );
}

#[test]
fn rotate_with_the_wrong_hashing_key_changes_nothing() {
    let dir = TempDir::new().unwrap();
    let key = private_file(dir.path(), "hashing.key", HASHING_KEY);
    let other = private_file(dir.path(), "other.key", OTHER_HASHING_KEY);
    let (secret, record, _) = issue(&dir, &key, &[]);
    let before = std::fs::read(&record).unwrap();
    let out = rotate(&record, &other, "1d");
    assert_eq!(out.status.code(), Some(2));
    let json = json_stdout(&out);
    assert_eq!(json["error"], "wrong_hashing_key");
    assert!(json.get("secret_key").is_none());
    assert_eq!(std::fs::read(&record).unwrap(), before);
    assert_eq!(check(&record, &key, &secret, &[]).status.code(), Some(0));
}

#[test]
fn rotate_of_a_revoked_key_is_refused() {
    let dir = TempDir::new().unwrap();
    let key = private_file(dir.path(), "hashing.key", HASHING_KEY);
    let (_, record, _) = issue(&dir, &key, &[]);
    assert_eq!(revoke(&record).status.code(), Some(0));
    let out = rotate(&record, &key, "1d");
    assert_eq!(out.status.code(), Some(1));
    let json = json_stdout(&out);
    assert_eq!(json["error"], "revoked");
    assert!(json["message"].as_str().unwrap().contains("apikey new"));
    assert!(json.get("secret_key").is_none());
}
