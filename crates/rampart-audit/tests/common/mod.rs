//! A multi-file trail to tamper with, and helpers to edit its lines as an attacker would.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rampart_audit::{
    AccountActivity, ApiActivity, AuditLog, AuthActivity, Break, BreakReason, ChainKey,
    CheckpointPublicKey, CheckpointSigner, Event, FileSink, KeySet, Outcome, Summary, User,
    Verdict, Verifier,
};
use ring::hmac;

pub(crate) const KEY: [u8; 32] = [0x5a; 32];

pub(crate) struct Trail {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) files: Vec<PathBuf>,
    pub(crate) public: CheckpointPublicKey,
}

pub(crate) fn key() -> ChainKey {
    ChainKey::new("k1", &KEY).unwrap()
}

pub(crate) fn keys() -> KeySet {
    KeySet::new().with_key(key()).unwrap()
}

pub(crate) fn event(i: usize) -> Event {
    match i % 3 {
        0 => Event::authentication(AuthActivity::Logon, Outcome::Failure)
            .with_actor(User::named(format!("user{i}")))
            .with_src_ip("203.0.113.5".parse().unwrap()),
        1 => Event::account_change(AccountActivity::PasswordChange, Outcome::Success)
            .with_user(User::named(format!("user{i}")).with_uid(i.to_string())),
        _ => Event::api_activity(ApiActivity::Read, Outcome::Success)
            .with_api(format!("GET /orders/{i}"))
            .with_src_ip("2001:db8::1".parse().unwrap()),
    }
}

/// A closed trail of `events` events in files of about `max_bytes`, checkpointed every 4
/// events.
pub(crate) fn trail(events: usize, max_bytes: u64) -> Trail {
    let dir = tempfile::tempdir().unwrap();
    let signer =
        CheckpointSigner::from_pkcs8(&CheckpointSigner::generate_pkcs8().unwrap()).unwrap();
    let public = signer.public_key();
    let sink = FileSink::open(dir.path(), "audit")
        .unwrap()
        .with_max_bytes(max_bytes)
        .unwrap();
    let log = AuditLog::builder(key(), sink)
        .with_checkpoints(signer, 4)
        .start()
        .unwrap();
    for i in 0..events {
        log.append(event(i)).unwrap();
    }
    let files = log.shutdown().unwrap();
    Trail { dir, files, public }
}

impl Trail {
    pub(crate) fn with_keys(&self) -> Verdict {
        Verifier::new()
            .with_keys(keys())
            .verify_files(&self.files)
            .unwrap()
    }

    pub(crate) fn with_public_key(&self) -> Verdict {
        Verifier::new()
            .with_checkpoint_key(self.public)
            .verify_files(&self.files)
            .unwrap()
    }

    pub(crate) fn with_both(&self) -> Verdict {
        Verifier::new()
            .with_keys(keys())
            .with_checkpoint_key(self.public)
            .verify_files(&self.files)
            .unwrap()
    }
}

pub(crate) fn intact(v: Verdict) -> Summary {
    match v {
        Verdict::Intact(s) => s,
        Verdict::Broken(b) => panic!(
            "expected intact, broken at {}:{}: {}",
            b.file.display(),
            b.line,
            b.reason
        ),
    }
}

pub(crate) fn broken(v: Verdict) -> Break {
    match v {
        Verdict::Broken(b) => b,
        Verdict::Intact(s) => panic!("expected broken, intact: {s:?}"),
    }
}

pub(crate) fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

pub(crate) fn write_lines(path: &Path, lines: &[String]) {
    let mut text = lines.join("\n");
    if !lines.is_empty() {
        text.push('\n');
    }
    std::fs::write(path, text).unwrap();
}

/// 1-based line number of the first event line of `path` at or after line `from`.
pub(crate) fn event_line(path: &Path, from: usize) -> usize {
    lines(path)
        .iter()
        .enumerate()
        .skip(from - 1)
        .find(|(_, l)| l.contains("\"event\":"))
        .map(|(i, _)| i + 1)
        .expect("an event line")
}

pub(crate) fn chain_of(line: &str) -> [u8; 32] {
    let at = line.rfind(",\"chain\":\"").expect("a chained line");
    let b64 = &line[at + 10..line.len() - 2];
    URL_SAFE_NO_PAD.decode(b64).unwrap().try_into().unwrap()
}

/// Re-chains `line` as if it followed a line with chain value `prev`, under `key`: what an
/// attacker does after editing a record.
pub(crate) fn rechain(line: &str, prev: &[u8; 32], key: &[u8]) -> String {
    let at = line.rfind(",\"chain\":\"").expect("a chained line");
    let canonical = format!("{}}}", &line[..at]);
    let k = hmac::Key::new(hmac::HMAC_SHA256, key);
    let mut ctx = hmac::Context::with_key(&k);
    ctx.update(prev);
    ctx.update(canonical.as_bytes());
    let tag = ctx.sign();
    format!(
        "{},\"chain\":\"{}\"}}",
        &line[..at],
        URL_SAFE_NO_PAD.encode(tag.as_ref())
    )
}

pub(crate) fn assert_at(b: &Break, file: &Path, line: u64, kind: &str) {
    assert_eq!(
        (b.file.as_path(), b.line, b.reason.kind()),
        (file, line, kind),
        "reported: {}",
        b.reason
    );
}

pub(crate) fn reason(b: &Break) -> &BreakReason {
    &b.reason
}
