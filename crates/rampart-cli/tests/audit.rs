//! `rampart audit verify`: an intact trail exits 0, a tampered one exits 1 naming the first
//! broken record, usage and input errors exit 2, and the chain key never shows in output.

mod common;

use std::path::{Path, PathBuf};

use common::{assert_no_secret, json_stdout, private_file, rampart};
use rampart::audit::{
    AuditLog, AuthActivity, ChainKey, CheckpointSigner, Event, FileSink, Outcome, User,
};
use tempfile::TempDir;

const CHAIN_KEY: [u8; 32] = [0x42; 32];
const CHAIN_KEY_B64: &str = "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=";

/// Writes a closed trail of 12 events over several files; returns (files, key file,
/// public key file).
fn trail(dir: &TempDir) -> (Vec<PathBuf>, PathBuf, PathBuf) {
    let signer =
        CheckpointSigner::from_pkcs8(&CheckpointSigner::generate_pkcs8().unwrap()).unwrap();
    let public = signer.public_key().to_base64();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let sink = FileSink::open(&logs, "audit")
        .unwrap()
        .with_max_bytes(1500)
        .unwrap();
    let log = AuditLog::builder(ChainKey::new("k1", &CHAIN_KEY).unwrap(), sink)
        .with_checkpoints(signer, 3)
        .start()
        .unwrap();
    for i in 0..12 {
        log.append(
            Event::authentication(AuthActivity::Logon, Outcome::Failure)
                .with_actor(User::named(format!("user{i}"))),
        )
        .unwrap();
    }
    let files = log.shutdown().unwrap();
    let keys = private_file(dir.path(), "audit.keys", &format!("k1 {CHAIN_KEY_B64}\n"));
    let public_file = dir.path().join("audit.pub");
    std::fs::write(&public_file, public).unwrap();
    (files, keys, public_file)
}

fn verify(files: &[PathBuf], extra: &[&std::ffi::OsStr]) -> std::process::Output {
    rampart()
        .args(["audit", "verify"])
        .args(extra)
        .args(files)
        .output()
        .unwrap()
}

fn opt<'a>(flag: &'a str, path: &'a Path) -> [&'a std::ffi::OsStr; 2] {
    [flag.as_ref(), path.as_os_str()]
}

#[test]
fn intact_trail_exits_0_with_counts() {
    let dir = TempDir::new().unwrap();
    let (files, keys, public) = trail(&dir);
    assert!(files.len() > 2);
    let mut args = opt("--key-file", &keys).to_vec();
    args.extend(opt("--checkpoint-key", &public));
    args.push("--require-closed".as_ref());
    let out = verify(&files, &args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json = json_stdout(&out);
    assert_eq!(json["valid"], true);
    assert_eq!(json["records"], 12);
    assert_eq!(json["files"], files.len());
    assert_eq!(json["closed"], true);
    assert_eq!(
        json["checked_with"],
        serde_json::json!(["chain_keys", "checkpoint_key"])
    );
    assert_no_secret(&out, &CHAIN_KEY);
    assert_no_secret(&out, CHAIN_KEY_B64.as_bytes());
}

#[test]
fn public_key_alone_verifies_the_checkpointed_trail() {
    let dir = TempDir::new().unwrap();
    let (files, _, public) = trail(&dir);
    let out = verify(&files, &opt("--checkpoint-key", &public));
    assert_eq!(out.status.code(), Some(0));
    let json = json_stdout(&out);
    assert_eq!(json["unverified_tail"], 0);
    assert_eq!(json["checked_with"], serde_json::json!(["checkpoint_key"]));
}

#[test]
fn edited_record_exits_1_with_its_file_line_and_seq() {
    let dir = TempDir::new().unwrap();
    let (files, keys, _) = trail(&dir);
    let target = &files[1];
    let text = std::fs::read_to_string(target).unwrap();
    let line_no = text
        .lines()
        .position(|l| l.contains("\"name\":\"user"))
        .unwrap()
        + 1;
    std::fs::write(
        target,
        text.replacen("\"name\":\"user", "\"name\":\"root", 1),
    )
    .unwrap();
    let out = verify(&files, &opt("--key-file", &keys));
    assert_eq!(out.status.code(), Some(1));
    let json = json_stdout(&out);
    assert_eq!(json["valid"], false);
    assert_eq!(json["error"], "chain_mismatch");
    assert_eq!(json["file"], target.display().to_string());
    assert_eq!(json["line"], line_no);
    assert!(json["seq"].as_u64().is_some());
    assert_no_secret(&out, &CHAIN_KEY);
}

#[test]
fn deleted_middle_file_exits_1() {
    let dir = TempDir::new().unwrap();
    let (mut files, keys, _) = trail(&dir);
    files.remove(1);
    let out = verify(&files, &opt("--key-file", &keys));
    assert_eq!(out.status.code(), Some(1));
    let json = json_stdout(&out);
    assert_eq!(json["file"], files[1].display().to_string());
    assert_eq!(json["line"], 1);
}

#[test]
fn wrong_key_exits_1_and_never_prints_either_key() {
    let dir = TempDir::new().unwrap();
    let (files, _, _) = trail(&dir);
    let wrong = "V1JPTkdXUk9OR1dST05HV1JPTkdXUk9OR1dST05HISE=";
    let keys = private_file(dir.path(), "wrong.keys", &format!("k1 {wrong}\n"));
    let out = verify(&files, &opt("--key-file", &keys));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json_stdout(&out)["error"], "chain_mismatch");
    assert_no_secret(&out, wrong.as_bytes());
    assert_no_secret(&out, &CHAIN_KEY);
}

#[test]
fn no_key_is_a_usage_error() {
    let dir = TempDir::new().unwrap();
    let (files, _, _) = trail(&dir);
    let out = verify(&files, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json_stdout(&out)["error"], "missing_key");
}

#[test]
fn no_file_is_a_usage_error() {
    let dir = TempDir::new().unwrap();
    let keys = private_file(dir.path(), "audit.keys", &format!("k1 {CHAIN_KEY_B64}\n"));
    let out = verify(&[], &opt("--key-file", &keys));
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json_stdout(&out)["error"], "usage");
}

#[test]
fn missing_file_and_bad_key_files_are_input_errors() {
    let dir = TempDir::new().unwrap();
    let (files, keys, _) = trail(&dir);
    let out = verify(&[dir.path().join("nope.jsonl")], &opt("--key-file", &keys));
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json_stdout(&out)["error"], "io");

    let garbled = private_file(dir.path(), "garbled.keys", "k1 !!!notbase64!!!\n");
    let out = verify(&files, &opt("--key-file", &garbled));
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json_stdout(&out)["error"], "invalid_chain_key");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("notbase64"));

    let open = dir.path().join("open.keys");
    std::fs::write(&open, format!("k1 {CHAIN_KEY_B64}\n")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).unwrap();
        let out = verify(&files, &opt("--key-file", &open));
        assert_eq!(out.status.code(), Some(2));
        assert_eq!(json_stdout(&out)["error"], "insecure_key_file");
    }

    let bad_pub = dir.path().join("bad.pub");
    std::fs::write(&bad_pub, "short").unwrap();
    let out = verify(&files, &opt("--checkpoint-key", &bad_pub));
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json_stdout(&out)["error"], "invalid_public_key");
}

#[test]
fn garbage_file_exits_1_not_a_crash() {
    let dir = TempDir::new().unwrap();
    let (_, keys, _) = trail(&dir);
    let junk = dir.path().join("junk.jsonl");
    std::fs::write(&junk, b"\x00\xff{\"seq\":\n[]\n").unwrap();
    let out = verify(&[junk], &opt("--key-file", &keys));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json_stdout(&out)["error"], "malformed");
}

#[test]
fn audit_help_has_an_example_running_it() {
    for path in [&["audit"][..], &["audit", "verify"]] {
        let out = rampart().args(path).arg("--help").output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        let help = String::from_utf8(out.stdout).unwrap();
        assert!(help.contains("Example"), "{help}");
        assert!(
            help.contains(&format!("rampart {}", path.join(" "))),
            "{help}"
        );
    }
    let top = rampart().arg("--help").output().unwrap();
    assert!(String::from_utf8(top.stdout).unwrap().contains("audit"));
}
