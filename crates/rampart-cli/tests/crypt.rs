//! `rampart encrypt|decrypt|reencrypt`: files and values, stdin/stdout and -o, every
//! tampering shape, and no plaintext or key in reports and errors.

mod common;

use std::path::PathBuf;
use std::process::Output;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{
    MASTER_KEY, assert_no_master_key, assert_no_secret, json_stderr, json_stdout, private_file,
    rampart,
};
use tempfile::TempDir;

/// Recognisable plaintext, so a leak would be found.
const MARKER: &[u8] = b"PLAINTEXT-MARKER-do-not-print-0451";
const HEADER_LEN: usize = 200;
const SEGMENT_CT_LEN: usize = 65_536 + 16;

struct Setup {
    dir: TempDir,
    key: PathBuf,
    ring: PathBuf,
}

impl Setup {
    fn new() -> Self {
        let dir = TempDir::new().unwrap();
        let key = private_file(dir.path(), "master.key", MASTER_KEY);
        let ring = dir.path().join("files.json");
        let s = Self { dir, key, ring };
        let out = s.keyring("init");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        s
    }

    fn keyring(&self, sub: &str) -> Output {
        rampart()
            .args(["keyring", sub, "--keyring"])
            .arg(&self.ring)
            .arg("--master-key-file")
            .arg(&self.key)
            .output()
            .unwrap()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs `rampart <cmd> --keyring .. --master-key-file .. <args>` with `stdin`.
    fn run(&self, cmd: &str, args: &[&str], stdin: &[u8]) -> Output {
        let out = rampart()
            .arg(cmd)
            .arg("--keyring")
            .arg(&self.ring)
            .arg("--master-key-file")
            .arg(&self.key)
            .args(args)
            .write_stdin(stdin.to_vec())
            .output()
            .unwrap();
        assert_no_master_key(&out, MASTER_KEY);
        out
    }

    /// Runs with IN and -o OUT files in the temp dir; checks nothing secret is printed.
    fn run_files(&self, cmd: &str, ctx: &[&str], input: &str, output: &str) -> Output {
        let (i, o) = (self.path(input), self.path(output));
        let mut args: Vec<String> = ctx.iter().map(|c| format!("--context={c}")).collect();
        args.push(i.display().to_string());
        args.push("-o".into());
        args.push(o.display().to_string());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = self.run(cmd, &args, b"");
        assert_no_secret(&out, MARKER);
        out
    }

    fn write(&self, name: &str, data: &[u8]) {
        std::fs::write(self.path(name), data).unwrap();
    }

    fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).unwrap()
    }
}

/// A plaintext of `len` bytes that contains the marker.
fn plaintext(len: usize) -> Vec<u8> {
    let mut data: Vec<u8> = (0..len)
        .map(|i| u8::try_from(i * 31 % 251).unwrap())
        .collect();
    if len >= MARKER.len() {
        data[..MARKER.len()].copy_from_slice(MARKER);
    }
    data
}

fn assert_rejected(out: &Output, kind: &str) {
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(json_stdout(out)["error"], kind);
}

#[test]
fn file_round_trip_through_files_across_segments() {
    let s = Setup::new();
    let data = plaintext(3 * 65_536 + 123);
    s.write("plain", &data);
    let out = s.run_files("encrypt", &["tenant=acme", "kind=export"], "plain", "enc");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let json = json_stdout(&out);
    assert_eq!(json["kind"], "file");
    assert_eq!(json["version"], 1);
    assert_eq!(json["plaintext_bytes"], data.len());
    let enc = s.read("enc");
    assert_eq!(&enc[..3], b"RPF");
    assert!(
        !enc.windows(MARKER.len()).any(|w| w == MARKER),
        "ciphertext hides the plaintext"
    );
    // Context order does not matter.
    let out = s.run_files("decrypt", &["kind=export", "tenant=acme"], "enc", "back");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(json_stdout(&out)["kind"], "file");
    assert_eq!(s.read("back"), data);
}

#[test]
fn empty_file_round_trip() {
    let s = Setup::new();
    s.write("plain", b"");
    assert_eq!(
        s.run_files("encrypt", &[], "plain", "enc").status.code(),
        Some(0)
    );
    assert_eq!(s.read("enc").len(), HEADER_LEN + 16);
    assert_eq!(
        s.run_files("decrypt", &[], "enc", "back").status.code(),
        Some(0)
    );
    assert_eq!(s.read("back"), b"");
}

#[test]
fn stdin_to_stdout_round_trip_reports_on_stderr() {
    let s = Setup::new();
    let data = plaintext(70_000);
    let enc = s.run("encrypt", &["--context", "t=1"], &data);
    assert_eq!(
        enc.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&enc.stderr)
    );
    assert_eq!(&enc.stdout[..3], b"RPF", "stdout carries only the data");
    assert_eq!(json_stderr(&enc)["kind"], "file");
    assert_no_secret(
        &Output {
            stdout: Vec::new(),
            ..enc.clone()
        },
        MARKER,
    );
    let dec = s.run("decrypt", &["--context", "t=1", "-"], &enc.stdout);
    assert_eq!(dec.status.code(), Some(0));
    assert_eq!(dec.stdout, data);
    assert_eq!(json_stderr(&dec)["plaintext_bytes"], data.len());
    assert!(!String::from_utf8_lossy(&dec.stderr).contains(std::str::from_utf8(MARKER).unwrap()));
}

#[test]
fn failure_with_stdout_output_is_reported_on_stderr_only() {
    let s = Setup::new();
    let enc = s.run("encrypt", &["--context", "t=1"], &plaintext(1000));
    let dec = s.run("decrypt", &["--context", "t=2"], &enc.stdout);
    assert_eq!(dec.status.code(), Some(1));
    assert!(
        dec.stdout.is_empty(),
        "no plaintext and no JSON in the data stream"
    );
    assert_eq!(json_stderr(&dec)["error"], "authentication_failed");
}

#[test]
fn value_round_trip_text_and_binary_forms() {
    let s = Setup::new();
    let enc = s.run("encrypt", &["--value", "--context", "column=token"], MARKER);
    assert_eq!(
        enc.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&enc.stderr)
    );
    let text = String::from_utf8(enc.stdout.clone()).unwrap();
    assert!(text.ends_with('\n'), "one line: {text}");
    assert!(
        text.trim_end()
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'),
        "unpadded base64url text: {text}"
    );
    assert_eq!(json_stderr(&enc)["kind"], "value");
    assert_no_secret(
        &Output {
            stdout: Vec::new(),
            ..enc.clone()
        },
        MARKER,
    );
    // Text form, detected.
    let dec = s.run("decrypt", &["--context", "column=token"], text.as_bytes());
    assert_eq!(dec.status.code(), Some(0));
    assert_eq!(dec.stdout, MARKER);
    assert_eq!(json_stderr(&dec)["kind"], "value");
    // Binary form of the same value, detected too.
    let binary = URL_SAFE_NO_PAD.decode(text.trim()).unwrap();
    let dec = s.run("decrypt", &["--context", "column=token"], &binary);
    assert_eq!(dec.status.code(), Some(0));
    assert_eq!(dec.stdout, MARKER);
}

#[test]
fn value_with_wrong_context_is_rejected_without_plaintext() {
    let s = Setup::new();
    let enc = s.run("encrypt", &["--value", "--context", "row=1"], MARKER);
    s.write("value.txt", &enc.stdout);
    let out = s.run_files("decrypt", &["row=2"], "value.txt", "back");
    assert_rejected(&out, "authentication_failed");
    assert!(!s.path("back").exists());
}

#[test]
fn wrong_context_leaves_no_output_file() {
    let s = Setup::new();
    s.write("plain", &plaintext(5000));
    s.run_files("encrypt", &["tenant=acme"], "plain", "enc");
    assert_rejected(
        &s.run_files("decrypt", &["tenant=evil"], "enc", "back"),
        "authentication_failed",
    );
    assert_rejected(
        &s.run_files("decrypt", &[], "enc", "back"),
        "authentication_failed",
    );
    assert!(!s.path("back").exists(), "no partial plaintext on disk");
    let leftovers: Vec<_> = std::fs::read_dir(s.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with(".rampart-"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "temporary files removed: {leftovers:?}"
    );
}

#[test]
fn flipped_body_byte_is_rejected_and_no_output_file_appears() {
    let s = Setup::new();
    s.write("plain", &plaintext(2 * 65_536 + 10));
    s.run_files("encrypt", &[], "plain", "enc");
    let mut enc = s.read("enc");
    enc[HEADER_LEN + SEGMENT_CT_LEN + 7] ^= 0x01; // inside segment 1
    s.write("enc", &enc);
    let out = s.run_files("decrypt", &[], "enc", "back");
    assert_rejected(&out, "segment_authentication");
    assert!(!s.path("back").exists());
}

#[test]
fn truncated_at_a_segment_boundary_is_rejected() {
    let s = Setup::new();
    s.write("plain", &plaintext(2 * 65_536 + 10));
    s.run_files("encrypt", &[], "plain", "enc");
    let enc = s.read("enc");
    s.write("enc", &enc[..HEADER_LEN + 2 * SEGMENT_CT_LEN]);
    assert_rejected(&s.run_files("decrypt", &[], "enc", "back"), "truncated");
    assert!(!s.path("back").exists());
}

#[test]
fn altered_header_is_rejected() {
    let s = Setup::new();
    s.write("plain", &plaintext(1000));
    s.run_files("encrypt", &[], "plain", "enc");
    let mut enc = s.read("enc");
    enc[20] ^= 0x80; // file salt
    s.write("enc", &enc);
    let out = s.run_files("decrypt", &[], "enc", "back");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn file_from_another_keyring_is_rejected() {
    let s = Setup::new();
    let other = Setup::new();
    other.write("plain", &plaintext(1000));
    other.run_files("encrypt", &[], "plain", "enc");
    std::fs::copy(other.path("enc"), s.path("enc")).unwrap();
    assert_rejected(
        &s.run_files("decrypt", &[], "enc", "back"),
        "keyring_mismatch",
    );
}

#[test]
fn garbage_input_is_an_input_error() {
    let s = Setup::new();
    s.write("junk", b"just some text that is not encrypted\n");
    let out = s.run_files("decrypt", &[], "junk", "back");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json_stdout(&out)["error"], "unrecognized_input");
}

#[test]
fn malformed_context_argument_is_an_input_error() {
    let s = Setup::new();
    s.write("plain", b"x");
    let out = s.run_files("encrypt", &["no-equals-sign"], "plain", "enc");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json_stdout(&out)["error"], "malformed_context");
    let out = s.run_files("encrypt", &["rampart:region=x"], "plain", "enc");
    assert_eq!(out.status.code(), Some(2), "reserved prefix refused");
    assert!(!s.path("enc").exists());
}

#[test]
fn missing_input_file_is_an_input_error() {
    let s = Setup::new();
    let out = s.run_files("encrypt", &[], "absent", "enc");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json_stdout(&out)["error"], "io");
}

#[test]
fn value_flag_on_decrypt_is_a_usage_error() {
    let s = Setup::new();
    let out = s.run("decrypt", &["--value", "-o", "/dev/null"], b"x");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn reencrypt_file_rewraps_the_header_and_keeps_the_body() {
    let s = Setup::new();
    let data = plaintext(100_000);
    s.write("plain", &data);
    s.run_files("encrypt", &["t=1"], "plain", "v1");
    assert_eq!(s.keyring("rotate").status.code(), Some(0));
    let out = s.run_files("reencrypt", &["t=1"], "v1", "v2");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let json = json_stdout(&out);
    assert_eq!(
        (json["from_version"].as_u64(), json["to_version"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(json["changed"], true);
    let (v1, v2) = (s.read("v1"), s.read("v2"));
    assert_ne!(v1[..HEADER_LEN], v2[..HEADER_LEN]);
    assert_eq!(
        v1[HEADER_LEN..],
        v2[HEADER_LEN..],
        "body copied, not re-encrypted"
    );
    assert_eq!(
        s.run_files("decrypt", &["t=1"], "v2", "back").status.code(),
        Some(0)
    );
    assert_eq!(s.read("back"), data);
    // Already current: unchanged.
    let again = s.run_files("reencrypt", &["t=1"], "v2", "v3");
    assert_eq!(json_stdout(&again)["changed"], false);
    assert_eq!(s.read("v3"), v2);
}

#[test]
fn reencrypt_after_retire_makes_old_data_unreadable_but_moved_data_readable() {
    let s = Setup::new();
    let enc = s.run("encrypt", &["--value", "--context", "c=1"], MARKER);
    s.write("old.txt", &enc.stdout);
    s.keyring("rotate");
    let out = s.run_files("reencrypt", &["c=1"], "old.txt", "new.txt");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(json_stdout(&out)["to_version"], 2);
    let out = rampart()
        .args(["keyring", "retire", "--below", "2", "--keyring"])
        .arg(&s.ring)
        .arg("--master-key-file")
        .arg(&s.key)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_rejected(
        &s.run_files("decrypt", &["c=1"], "old.txt", "back"),
        "key_retired",
    );
    assert_eq!(
        s.run_files("decrypt", &["c=1"], "new.txt", "back")
            .status
            .code(),
        Some(0)
    );
    assert_eq!(s.read("back"), MARKER);
}

#[test]
fn wrong_master_key_cannot_decrypt() {
    let s = Setup::new();
    s.write("plain", &plaintext(100));
    s.run_files("encrypt", &[], "plain", "enc");
    let out = rampart()
        .args(["decrypt", "--keyring"])
        .arg(&s.ring)
        .arg(s.path("enc"))
        .env("RAMPART_MASTER_KEY", common::OTHER_MASTER_KEY)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert_eq!(json_stderr(&out)["error"], "wrong_master_key");
    assert_no_master_key(&out, common::OTHER_MASTER_KEY);
}

#[test]
fn no_progress_output_when_stderr_is_not_a_terminal() {
    let s = Setup::new();
    // Stdin has no known size, which is when a spinner would be drawn on a terminal.
    let enc = s.run("encrypt", &[], &plaintext(3 * 65_536));
    assert_eq!(enc.status.code(), Some(0));
    let stderr = String::from_utf8(enc.stderr.clone()).unwrap();
    assert_eq!(
        stderr.lines().count(),
        1,
        "only the JSON report: {stderr:?}"
    );
    assert!(
        !stderr.contains('\r') && !stderr.contains('\u{1b}'),
        "no terminal control codes"
    );
    assert_eq!(json_stderr(&enc)["kind"], "file");
}
