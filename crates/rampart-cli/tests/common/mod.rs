//! Helpers shared by the CLI tests: run the binary, parse its one JSON object, and check that a
//! secret never shows up in what it printed.
#![allow(dead_code)] // each test binary uses a different subset

pub(crate) mod procs;
pub(crate) mod saml;

use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

/// The `rampart` binary with a clean environment for the variables it reads.
pub(crate) fn rampart() -> Command {
    let mut cmd = Command::cargo_bin("rampart").expect("binary built");
    cmd.env_remove("RAMPART_MASTER_KEY")
        .env_remove("RAMPART_APIKEY_HASHING_KEY")
        .env_remove("RAMPART_PASSWORD_HASH");
    cmd
}

/// Asserts the exit code, showing stdout (where the JSON goes) when it is another.
#[track_caller]
pub(crate) fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Parses stdout as exactly one JSON object (one line).
pub(crate) fn json_stdout(out: &Output) -> Value {
    parse_one_object(&out.stdout, "stdout")
}

/// Parses stderr as exactly one JSON object (used when stdout carries data).
pub(crate) fn json_stderr(out: &Output) -> Value {
    let text = String::from_utf8_lossy(&out.stderr);
    let last = text.lines().last().unwrap_or_default();
    parse_one_object(last.as_bytes(), "stderr")
}

fn parse_one_object(bytes: &[u8], what: &str) -> Value {
    let text = std::str::from_utf8(bytes).unwrap_or_else(|_| panic!("{what} is not UTF-8"));
    let trimmed = text.trim_end_matches('\n');
    assert!(
        !trimmed.contains('\n'),
        "{what} has more than one line: {text:?}"
    );
    let value: Value = serde_json::from_str(trimmed)
        .unwrap_or_else(|e| panic!("{what} is not one JSON object ({e}): {text:?}"));
    assert!(
        value.is_object(),
        "{what} is JSON but not an object: {text:?}"
    );
    value
}

/// Asserts that `secret` appears in neither stdout nor stderr, also not base64- or
/// hex-encoded (a careless Debug of bytes would print one of those).
pub(crate) fn assert_no_secret(out: &Output, secret: &[u8]) {
    use base64::Engine;
    let forms = [
        secret.to_vec(),
        base64::engine::general_purpose::STANDARD
            .encode(secret)
            .into_bytes(),
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(secret)
            .into_bytes(),
        secret
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
            .into_bytes(),
    ];
    for form in forms {
        for (name, stream) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            assert!(
                !contains(stream, &form),
                "a secret leaked into {name}: {}",
                String::from_utf8_lossy(stream)
            );
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// A master key (base64 of 32 bytes) that tests write to files and the environment.
pub(crate) const MASTER_KEY: &str = "7Jbr3sVnq6b0m1XgS2rC9yE4Zt8pQwLkHdFaNuJiMoY=";
/// A second master key, for rewrap and wrong-key tests.
pub(crate) const OTHER_MASTER_KEY: &str = "Q2hhbmdlZCBtYXN0ZXIga2V5IGZvciByZXdyYXAhISE=";

/// Writes `contents` to `dir/name` with mode 0600 (key files must be private).
pub(crate) fn private_file(
    dir: &std::path::Path,
    name: &str,
    contents: &str,
) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    path
}

/// The raw bytes of a base64 master key, to check no encoding of it leaks.
pub(crate) fn key_bytes(b64: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap()
}

/// Asserts that neither the base64 text of `b64_key` nor its raw bytes (in any encoding
/// `assert_no_secret` knows) appear in the output.
pub(crate) fn assert_no_master_key(out: &Output, b64_key: &str) {
    assert_no_secret(out, b64_key.as_bytes());
    assert_no_secret(out, &key_bytes(b64_key));
}

/// What a run at a terminal printed (stdout and stderr together, as a terminal shows them)
/// and its exit code.
pub(crate) struct TerminalRun {
    pub(crate) code: Option<i32>,
    pub(crate) transcript: Vec<u8>,
}

/// Runs `rampart ARGS` with stdin, stdout and stderr on a pseudo-terminal (util-linux
/// `script`). When `typed` is given, it is typed followed by Enter once `prompt` has appeared.
/// `None` (with a loud message) when `script` is missing, except under `CI=true`, where that
/// fails the test.
pub(crate) fn rampart_in_terminal(
    args: &[&std::ffi::OsStr],
    typed: Option<(&str, &str)>,
) -> Option<TerminalRun> {
    use std::io::{Read, Write};
    use std::process::Stdio;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    if !rampart_testkit::tool::available("script") {
        return None;
    }
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let mut line = quote(assert_cmd::cargo::cargo_bin("rampart").to_str().unwrap());
    for a in args {
        line.push(' ');
        line.push_str(&quote(a.to_str().unwrap()));
    }
    let mut child = std::process::Command::new("script")
        .args(["-q", "-e", "-c", &line, "/dev/null"])
        .env_remove("RAMPART_MASTER_KEY")
        .env_remove("RAMPART_APIKEY_HASHING_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let transcript = Arc::new(Mutex::new(Vec::new()));
    let mut stdout = child.stdout.take().unwrap();
    let sink = Arc::clone(&transcript);
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    let mut stdin = child.stdin.take().unwrap();
    if let Some((prompt, text)) = typed {
        let start = Instant::now();
        while !contains(&transcript.lock().unwrap(), prompt.as_bytes()) {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "no prompt {prompt:?}: {}",
                String::from_utf8_lossy(&transcript.lock().unwrap())
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // The prompt is written just before the terminal is set up; give that a moment.
        std::thread::sleep(Duration::from_millis(300));
        stdin.write_all(text.as_bytes()).unwrap();
        stdin.write_all(b"\r").unwrap();
        stdin.flush().unwrap();
    }
    let status = child.wait().unwrap();
    drop(stdin);
    reader.join().unwrap();
    let transcript = transcript.lock().unwrap().clone();
    Some(TerminalRun {
        code: status.code(),
        transcript,
    })
}
