//! `rampart reencrypt` as a migration job uses it before `keyring retire`: it must say which
//! inputs will not open, at the primary version as after a rotation. Before, a file already
//! at the primary version was copied without any check (exit 0, "changed":false, even with a
//! wrong context or a garbage body) and a truncated body was re-keyed as "changed":true.

mod common;

use std::path::PathBuf;

use common::procs::{entries, ok, outcome, run};
use common::{MASTER_KEY, private_file};
use serde_json::Value;
use tempfile::TempDir;

struct S {
    dir: TempDir,
    key: PathBuf,
    ring: String,
}

const CTX: [&str; 2] = ["--context", "tenant=acme"];
const WRONG_CTX: [&str; 2] = ["--context", "tenant=evil"];

impl S {
    fn new() -> Self {
        let dir = TempDir::new().unwrap();
        let key = private_file(dir.path(), "master.key", MASTER_KEY);
        let ring = dir.path().join("files.json").display().to_string();
        ok(&run(&["keyring", "init", "--keyring", &ring], &key));
        Self { dir, key, ring }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    /// An encrypted file of 200 000 bytes (4 segments) named `name`.
    fn file(&self, name: &str) -> String {
        let plain = self.path(&format!("{name}.plain"));
        std::fs::write(&plain, vec![7u8; 200_000]).unwrap();
        let out = self.path(name);
        ok(&run(
            &[
                "encrypt",
                "--keyring",
                &self.ring,
                CTX[0],
                CTX[1],
                &plain,
                "-o",
                &out,
            ],
            &self.key,
        ));
        std::fs::remove_file(&plain).unwrap();
        out
    }

    fn rotate(&self) {
        ok(&run(
            &["keyring", "rotate", "--keyring", &self.ring],
            &self.key,
        ));
    }

    fn reencrypt(&self, input: &str, ctx: [&str; 2], verify: bool) -> (Option<i32>, Value, bool) {
        let out = self.path("out.rpf");
        let _ = std::fs::remove_file(&out);
        let mut args = vec![
            "reencrypt",
            "--keyring",
            &self.ring,
            ctx[0],
            ctx[1],
            input,
            "-o",
            &out,
        ];
        if verify {
            args.push("--verify");
        }
        let (code, json) = outcome(&run(&args, &self.key));
        let written = std::path::Path::new(&out).exists();
        (code, json, written)
    }
}

fn truncate(path: &str, by: u64) {
    let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    let len = f.metadata().unwrap().len();
    f.set_len(len - by).unwrap();
}

fn garble(path: &str) {
    let mut bytes = std::fs::read(path).unwrap();
    // A byte in the third segment of the body: the header stays valid.
    let at = 200 + 2 * 65_552 + 100;
    bytes[at] ^= 0x55;
    std::fs::write(path, bytes).unwrap();
}

fn assert_refused(r: &(Option<i32>, Value, bool), what: &str) {
    assert_eq!(r.0, Some(1), "{what}: {}", r.1);
    assert_eq!(r.1["valid"], false, "{what}");
    assert!(!r.2, "{what}: no output written");
}

fn cases(rotated: bool) {
    let s = S::new();
    let good = s.file("good.rpf");
    let wrong_ctx = s.file("ctx.rpf");
    let truncated = s.file("short.rpf");
    let garbage = s.file("garbage.rpf");
    truncate(&truncated, 200_000 - 3 * 65_536 + 16); // the whole final segment
    garble(&garbage);
    if rotated {
        s.rotate();
    }
    let (code, json, written) = s.reencrypt(&good, CTX, true);
    assert_eq!((code, written), (Some(0), true), "{json}");
    assert_eq!(json["changed"], rotated);
    assert_eq!(json["verified"], "full");
    let (code, json, _) = s.reencrypt(&good, CTX, false);
    assert_eq!(code, Some(0));
    assert_eq!(json["verified"], "header");
    // A wrong context fails on the header alone, with or without --verify.
    assert_refused(&s.reencrypt(&wrong_ctx, WRONG_CTX, false), "wrong context");
    assert_refused(
        &s.reencrypt(&wrong_ctx, WRONG_CTX, true),
        "wrong context, --verify",
    );
    // A damaged body needs --verify, which reads it all.
    let r = s.reencrypt(&truncated, CTX, true);
    assert_refused(&r, "truncated body");
    assert_eq!(r.1["error"], "truncated");
    let r = s.reencrypt(&garbage, CTX, true);
    assert_refused(&r, "garbage body");
    assert_eq!(r.1["error"], "segment_authentication");
    assert!(
        !entries(s.dir.path()).iter().any(|n| n.contains(".tmp-")),
        "no temporary left"
    );
}

#[test]
fn reencrypt_at_the_primary_version_refuses_wrong_context_truncated_and_garbage_bodies() {
    cases(false);
}

#[test]
fn reencrypt_after_a_rotation_refuses_wrong_context_truncated_and_garbage_bodies() {
    cases(true);
}

#[test]
fn reencrypt_of_values_always_opens_them() {
    let s = S::new();
    let value = |plain: &str| {
        let out = common::procs::run_with_stdin(
            &["encrypt", "--keyring", &s.ring, "--value", CTX[0], CTX[1]],
            &s.key,
            plain.as_bytes(),
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let run_value = |text: &str, ctx: [&str; 2]| {
        let out = common::procs::run_with_stdin(
            &[
                "reencrypt",
                "--keyring",
                &s.ring,
                ctx[0],
                ctx[1],
                "-o",
                &s.path("v.out"),
            ],
            &s.key,
            text.as_bytes(),
        );
        outcome(&out)
    };
    let sealed = value("token");
    let (code, json) = run_value(&sealed, CTX);
    assert_eq!(code, Some(0), "{json}");
    assert_eq!(
        (json["changed"].clone(), json["verified"].clone()),
        (false.into(), "full".into())
    );
    assert_eq!(
        run_value(&sealed, WRONG_CTX).0,
        Some(1),
        "wrong context at the primary"
    );
    // Flip a character of the ciphertext part (the header stays parseable).
    let mut garbled: Vec<u8> = sealed.trim_ascii().bytes().collect();
    let i = garbled.len() - 5;
    garbled[i] = if garbled[i] == b'A' { b'B' } else { b'A' };
    let garbled = String::from_utf8(garbled).unwrap();
    assert_eq!(
        run_value(&garbled, CTX).0,
        Some(1),
        "garbage at the primary"
    );
    s.rotate();
    let (code, json) = run_value(&sealed, CTX);
    assert_eq!((code, json["changed"].clone()), (Some(0), true.into()));
    assert_eq!(
        run_value(&sealed, WRONG_CTX).0,
        Some(1),
        "wrong context after rotation"
    );
    assert_eq!(
        run_value(&garbled, CTX).0,
        Some(1),
        "garbage after rotation"
    );
}

#[test]
fn verify_is_refused_on_encrypt_and_decrypt() {
    let s = S::new();
    let good = s.file("good.rpf");
    let (code, json) = outcome(&run(
        &[
            "decrypt",
            "--keyring",
            &s.ring,
            CTX[0],
            CTX[1],
            &good,
            "-o",
            &s.path("x"),
            "--verify",
        ],
        &s.key,
    ));
    assert_eq!((code, json["error"].as_str()), (Some(2), Some("usage")));
}
