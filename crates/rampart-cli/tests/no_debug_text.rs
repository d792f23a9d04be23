//! No Rust `Debug` text (`Some(..)`, `None`, `PublicId(..)`) in what a user reads: `saml
//! verify --explain` over every response of rampart-saml's sample corpus and of this crate's
//! fixtures, accepted and refused, with and without the debugging-only opt-ins.

mod common;

use std::path::{Path, PathBuf};

use common::rampart;

/// What `{:?}` of an Option, Result or newtype prints, which no user-facing line may hold.
const DEBUG_TEXT: &[&str] = &["Some(", "None", "Ok(", "Err(", "PublicId(", "Duration {"];

fn debug_text_in(text: &str) -> Option<&'static str> {
    DEBUG_TEXT.iter().copied().find(|pattern| {
        text.match_indices(pattern).any(|(at, _)| {
            // `None` as a word, not inside one ("NoneSuch", "_None_").
            let before = text[..at].chars().next_back();
            let after = text[at + pattern.len()..].chars().next();
            let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
            !(word(before) || (pattern.ends_with(|c: char| c.is_alphanumeric()) && word(after)))
        })
    })
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn samples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../rampart-saml/tests/samples")
}

/// Certificates of the corpus (PEM files holding certificates only), to reach the checks after
/// the signature.
fn corpus_certificates(files: &[PathBuf]) -> Vec<PathBuf> {
    files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "pem" || e == "crt"))
        .filter(|p| {
            std::fs::read_to_string(p)
                .is_ok_and(|t| t.contains("BEGIN CERTIFICATE") && !t.contains("PRIVATE KEY"))
        })
        .cloned()
        .collect()
}

fn assert_no_debug_text(what: &str, out: &std::process::Output) {
    for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        if let Some(pattern) = debug_text_in(&text) {
            panic!("{what}: {stream} holds Rust Debug text {pattern:?}:\n{text}");
        }
    }
}

#[test]
fn the_pattern_finds_debug_text_and_only_that() {
    assert_eq!(debug_text_in("expected Some(3)"), Some("Some("));
    assert_eq!(debug_text_in("got None."), Some("None"));
    assert_eq!(debug_text_in("id PublicId(\"x\")"), Some("PublicId("));
    assert_eq!(debug_text_in("NoneSuch and _None_ and Nonexistent"), None);
    assert_eq!(debug_text_in("nothing here"), None);
}

#[test]
fn saml_verify_explain_prints_no_debug_text_over_the_samples() {
    let mut files = Vec::new();
    files_under(&samples_dir(), &mut files);
    files.sort();
    let certs = corpus_certificates(&files);
    assert!(!certs.is_empty());
    let responses: Vec<&PathBuf> = files
        .iter()
        .filter(|p| {
            let name = p
                .file_name()
                .unwrap()
                .to_string_lossy()
                .to_ascii_lowercase();
            !(name.ends_with(".pem")
                || name.ends_with(".crt")
                || name.ends_with(".key")
                || name.ends_with(".md")
                || name.ends_with(".py")
                || name == "license"
                || name == "source")
        })
        .collect();
    assert!(responses.len() > 50, "{} responses", responses.len());
    for response in responses {
        for legacy in [&[][..], &["--allow-sha1", "--allow-small-rsa"][..]] {
            let mut cmd = rampart();
            cmd.args(["saml", "verify", "--explain"]);
            for cert in &certs {
                cmd.arg("--idp-cert").arg(cert);
            }
            let out = cmd
                .args(["--sp-entity-id", "https://sp.example.com/metadata"])
                .args(["--acs-url", "https://sp.example.com/saml/acs"])
                .args(legacy)
                .arg(response)
                .output()
                .unwrap();
            assert_no_debug_text(&format!("{} {legacy:?}", response.display()), &out);
        }
    }
}

#[test]
fn saml_verify_explain_prints_no_debug_text_over_the_fixtures() {
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for name in [
        "assertion_signed.xml",
        "response_signed.xml",
        "wrong_audience.xml",
        "wrong_issuer.xml",
        "attacker_signed.xml",
        "assertion_signed_sha1.xml",
        "assertion_signed_rsa1024.xml",
    ] {
        for now in [
            "2030-01-01T00:01:00Z",
            "2031-01-01T00:00:00Z",
            "2020-01-01T00:00:00Z",
        ] {
            for request in [&[][..], &["--request-id", "_other"][..]] {
                let out = rampart()
                    .args(["saml", "verify", "--explain", "--idp-cert"])
                    .arg(fixtures.join("idp.cert.pem"))
                    .arg("--idp-cert")
                    .arg(fixtures.join("idp1024.cert.pem"))
                    .args(["--sp-entity-id", "https://sp.example.com/metadata"])
                    .args(["--acs-url", "https://sp.example.com/saml/acs", "--now", now])
                    .args(request)
                    .arg(fixtures.join(name))
                    .output()
                    .unwrap();
                assert_no_debug_text(&format!("{name} at {now} {request:?}"), &out);
            }
        }
    }
}
