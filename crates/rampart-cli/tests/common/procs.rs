//! Real concurrent processes of the built `rampart` binary, for the race and crash tests.
//!
//! `RAMPART_TEST_BIN` points the tests at another build (to check that they fail on a
//! version without the fix); by default it is the binary cargo built for this test run.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

/// The binary under test.
pub(crate) fn bin() -> PathBuf {
    std::env::var_os("RAMPART_TEST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| assert_cmd::cargo::cargo_bin("rampart"))
}

/// `rampart ARGS --master-key-file KEY`, not yet started, with a clean environment.
pub(crate) fn command(args: &[&str], key: &Path) -> Command {
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .arg("--master-key-file")
        .arg(key)
        .env_remove("RAMPART_MASTER_KEY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Starts `rampart ARGS`.
pub(crate) fn spawn(args: &[&str], key: &Path) -> Child {
    command(args, key).spawn().expect("rampart starts")
}

/// Runs `rampart ARGS` to the end.
pub(crate) fn run(args: &[&str], key: &Path) -> Output {
    command(args, key).output().expect("rampart runs")
}

/// Runs `rampart ARGS` with `stdin`.
pub(crate) fn run_with_stdin(args: &[&str], key: &Path, stdin: &[u8]) -> Output {
    use std::io::Write as _;
    let mut child = command(args, key)
        .stdin(Stdio::piped())
        .spawn()
        .expect("rampart starts");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

/// Exit code and the JSON object on stdout (`Null` when stdout holds none).
pub(crate) fn outcome(out: &Output) -> (Option<i32>, Value) {
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code(), json)
}

/// Asserts exit 0 and returns the JSON object.
pub(crate) fn ok(out: &Output) -> Value {
    let (code, json) = outcome(out);
    assert_eq!(
        code,
        Some(0),
        "stdout {} stderr {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    json
}

/// `(version, state)` of every version in a keyring description.
pub(crate) fn states(json: &Value) -> Vec<(u64, String)> {
    json["versions"]
        .as_array()
        .map(|vs| {
            vs.iter()
                .map(|v| {
                    (
                        v["version"].as_u64().unwrap(),
                        v["state"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The names in `dir`, sorted.
pub(crate) fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// A small pseudo-random generator for kill delays (tests need no cryptographic quality,
/// only spread; seeded from the clock and printed so a failure can be replayed).
pub(crate) struct Jitter(u64);

impl Jitter {
    pub(crate) fn new() -> Self {
        let seed: u64 = std::env::var("RAMPART_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .subsec_nanos()
                    .into()
            });
        eprintln!("jitter seed {seed} (RAMPART_TEST_SEED replays it)");
        Self(seed | 1)
    }

    /// Uniform in `0..n`.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        // xorshift64
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}
