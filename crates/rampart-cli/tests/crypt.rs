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

/// Files are copied through a 1 MiB buffer (several segments at a time): a file of several
/// buffers, not a multiple of the buffer or of a segment, comes back whole and exact in length.
#[test]
fn file_of_several_copy_buffers_round_trips_exactly() {
    let s = Setup::new();
    let data = plaintext((3 << 20) + 70_000 + 5);
    s.write("plain", &data);
    let out = s.run_files("encrypt", &["tenant=acme"], "plain", "enc");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(json_stdout(&out)["plaintext_bytes"], data.len());
    let enc_len = std::fs::metadata(s.path("enc")).unwrap().len();
    assert_eq!(
        Some(enc_len),
        rampart::envelope::stream::encrypted_len(data.len() as u64)
    );
    let out = s.run_files("decrypt", &["tenant=acme"], "enc", "back");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(json_stdout(&out)["plaintext_bytes"], data.len());
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
        text.trim_ascii_end()
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
    let binary = URL_SAFE_NO_PAD.decode(text.trim_ascii()).unwrap();
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

#[test]
fn usage_error_of_a_data_command_is_not_written_into_the_data_stream() {
    let s = Setup::new();
    for cmd in ["encrypt", "decrypt", "reencrypt"] {
        // `rampart decrypt --bogus > out`: stdout is the data stream.
        let out = s.run(cmd, &["--bogus"], b"");
        assert_eq!(out.status.code(), Some(2), "{cmd}");
        assert!(
            out.stdout.is_empty(),
            "{cmd}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert_eq!(json_stderr(&out)["error"], "usage", "{cmd}");
        // A missing option value, and `-o -` (stdout named explicitly), alike.
        for args in [&["--context"][..], &["--bogus", "-o", "-"]] {
            let out = s.run(cmd, args, b"");
            assert_eq!(out.status.code(), Some(2), "{cmd} {args:?}");
            assert!(out.stdout.is_empty(), "{cmd} {args:?}");
            assert_eq!(json_stderr(&out)["error"], "usage", "{cmd} {args:?}");
        }
        // With -o OUT, stdout is free again and carries the JSON object, as for other
        // commands.
        let o = s.path("out").display().to_string();
        let out = s.run(cmd, &["--bogus", "-o", &o], b"");
        assert_eq!(out.status.code(), Some(2), "{cmd}");
        assert_eq!(json_stdout(&out)["error"], "usage", "{cmd}");
        assert!(!s.path("out").exists());
    }
    // Other commands keep the JSON object on stdout.
    let out = rampart()
        .args(["keyring", "list", "--bogus"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json_stdout(&out)["error"], "usage");
}

#[test]
fn reencrypt_with_the_wrong_context_is_rejected_and_writes_nothing() {
    let s = Setup::new();
    s.write("plain", &plaintext(70_000));
    s.run_files("encrypt", &["t=1"], "plain", "v1");
    let enc = s.run("encrypt", &["--value", "--context", "t=1"], MARKER);
    s.write("value.txt", &enc.stdout);
    s.keyring("rotate");
    for input in ["v1", "value.txt"] {
        let out = s.run_files("reencrypt", &["t=2"], input, "v2");
        assert_rejected(&out, "authentication_failed");
        assert!(!s.path("v2").exists(), "{input}: no output file");
        // Through stdout: nothing in the data stream, the report on stderr.
        let out = s.run("reencrypt", &["--context", "t=2"], &s.read(input));
        assert_eq!(out.status.code(), Some(1), "{input}");
        assert!(out.stdout.is_empty(), "{input}");
        assert_eq!(json_stderr(&out)["error"], "authentication_failed");
        assert_no_secret(&out, MARKER);
    }
}

#[test]
fn reencrypt_of_a_tampered_header_is_rejected_and_writes_nothing() {
    let s = Setup::new();
    s.write("plain", &plaintext(1000));
    s.run_files("encrypt", &[], "plain", "enc");
    s.keyring("rotate");
    let original = s.read("enc");
    // The wrapped data key, the file salt, and the key version.
    for at in [HEADER_LEN - 10, 20, 8] {
        let mut enc = original.clone();
        enc[at] ^= 0x01;
        s.write("tampered", &enc);
        let out = s.run_files("reencrypt", &[], "tampered", "moved");
        // A verdict (exit 1): the header does not authenticate under this keyring.
        assert_eq!(
            out.status.code(),
            Some(1),
            "byte {at}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let json = json_stdout(&out);
        assert_eq!(json["valid"], false);
        let kind = json["error"].as_str().unwrap();
        assert!(
            ["header_commitment", "authentication_failed"].contains(&kind),
            "byte {at}: {json}"
        );
        assert!(!s.path("moved").exists(), "byte {at}: no output file");
    }
}

#[test]
fn reencrypt_of_garbage_is_an_input_error() {
    let s = Setup::new();
    s.write("junk", b"just some text that is not encrypted\n");
    let out = s.run_files("reencrypt", &[], "junk", "moved");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json_stdout(&out)["error"], "unrecognized_input");
    assert!(!s.path("moved").exists());
    let out = s.run("reencrypt", &[], b"");
    assert_eq!(out.status.code(), Some(2), "empty input");
    assert!(out.stdout.is_empty());
    assert_eq!(json_stderr(&out)["error"], "unrecognized_input");
}

impl Setup {
    /// `rampart <cmd> --keyring .. --master-key-file .. <args>` with a terminal for stdin,
    /// stdout and stderr.
    fn run_at_terminal(&self, cmd: &str, args: &[&str]) -> Option<common::TerminalRun> {
        let mut all: Vec<&std::ffi::OsStr> = vec![
            cmd.as_ref(),
            "--keyring".as_ref(),
            self.ring.as_os_str(),
            "--master-key-file".as_ref(),
            self.key.as_os_str(),
        ];
        all.extend(args.iter().map(std::ffi::OsStr::new));
        common::rampart_in_terminal(&all, None)
    }
}

fn refused_at_terminal(run: &common::TerminalRun, what: &str) {
    let text = String::from_utf8_lossy(&run.transcript);
    assert_eq!(run.code, Some(2), "{what}: {text}");
    assert!(text.contains("\"error\":\"refused\""), "{what}: {text}");
    assert!(
        !text.contains("RPF"),
        "{what}: no ciphertext on the terminal: {text}"
    );
}

#[test]
fn binary_output_is_refused_at_a_terminal() {
    let s = Setup::new();
    s.write("plain", &plaintext(1000));
    s.run_files("encrypt", &[], "plain", "v1");
    let binary = s.run("encrypt", &["--value"], MARKER);
    // The binary form of a sealed value: reencrypt a text value into a file, decoded.
    let text = String::from_utf8(binary.stdout).unwrap();
    let raw = URL_SAFE_NO_PAD.decode(text.trim_ascii()).unwrap();
    s.write("value.bin", &raw);
    s.write("value.txt", text.as_bytes());
    s.keyring("rotate");

    let plain = s.path("plain").display().to_string();
    let Some(run) = s.run_at_terminal("encrypt", &[&plain]) else {
        return;
    };
    refused_at_terminal(&run, "encrypt");
    for input in ["v1", "value.bin"] {
        let path = s.path(input).display().to_string();
        let run = s.run_at_terminal("reencrypt", &[&path]).unwrap();
        refused_at_terminal(&run, input);
    }
    // A text value is text: it may go to the terminal.
    let path = s.path("value.txt").display().to_string();
    let run = s.run_at_terminal("reencrypt", &[&path]).unwrap();
    let shown = String::from_utf8_lossy(&run.transcript);
    assert_eq!(run.code, Some(0), "{shown}");
    assert!(shown.contains("\"to_version\":2"), "{shown}");
    assert_no_secret(
        &std::process::Output {
            status: std::process::ExitStatus::default(),
            stdout: run.transcript.clone(),
            stderr: Vec::new(),
        },
        MARKER,
    );
}

#[test]
fn wrong_context_says_the_pairs_must_be_those_given_to_encrypt() {
    let s = Setup::new();
    let enc = s.run("encrypt", &["--value", "--context", "row=1"], MARKER);
    for (what, input) in [
        ("value", enc.stdout.clone()),
        ("file", {
            s.run("encrypt", &["--context", "row=1"], &plaintext(3000))
                .stdout
        }),
    ] {
        let dec = s.run("decrypt", &["--context", "row=2"], &input);
        assert_eq!(dec.status.code(), Some(1), "{what}");
        let json = json_stderr(&dec);
        assert_eq!(json["error"], "authentication_failed", "{what}");
        let message = json["message"].as_str().unwrap();
        assert!(
            message.contains(
                "the --context pairs must be exactly those given to encrypt (same keys and \
                 values, all of them): they are not stored with the data"
            ),
            "{what}: {message}"
        );
    }
}
