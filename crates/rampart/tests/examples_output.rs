//! What the examples print is read by people: no Rust `Debug` text (`Some(..)`, `None`,
//! `PublicId(..)`, `Locked { until: .. }`) in any line. Runs each example's binary, which
//! `cargo test` builds beside this test (`target/<profile>/examples/`); a binary that is not
//! there (a build without the examples' features) is a loud skip, and a failure under
//! `CI=true`.
//!
//! `keyring_to_hsm` is left out: it needs a SoftHSM token set up by its own instructions.

use std::path::PathBuf;
use std::process::Command;

/// What `{:?}` of an Option, Result, struct or newtype prints.
const DEBUG_TEXT: &[&str] = &[
    "Some(",
    "None",
    "Ok(",
    "Err(",
    "PublicId(",
    "Locked {",
    "RetryAfter(",
    "ValidNeedsUpgrade {",
];

const EXAMPLES: &[&str] = &[
    "tour",
    "mfa_login",
    "password_migration",
    "encrypt_tokens",
    "upload_retention",
    "api_keys",
    "brute_force",
    "saml_sp",
];

fn debug_text_in(line: &str) -> Option<&'static str> {
    DEBUG_TEXT.iter().copied().find(|pattern| {
        line.match_indices(pattern).any(|(at, _)| {
            let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
            let before = line[..at].chars().next_back();
            let after = line[at + pattern.len()..].chars().next();
            !(word(before) || (pattern.ends_with(|c: char| c.is_alphanumeric()) && word(after)))
        })
    })
}

fn examples_dir() -> PathBuf {
    // target/<profile>/deps/examples_output-<hash> -> target/<profile>/examples
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().join("examples")
}

#[test]
fn the_pattern_finds_debug_text_and_only_that() {
    assert_eq!(
        debug_text_in("count failure for Some(PublicId(\"x\"))"),
        Some("Some(")
    );
    assert_eq!(
        debug_text_in("locked: Locked { until: None }"),
        Some("None")
    );
    assert_eq!(debug_text_in("a NoneSuch value, { braces }"), None);
    assert_eq!(
        debug_text_in("check -> RetryAfter(1s)"),
        Some("RetryAfter(")
    );
}

#[test]
fn examples_print_no_debug_text() {
    for name in EXAMPLES {
        let binary = examples_dir().join(name);
        if !binary.exists() {
            rampart_testkit::tool::missing(&format!(
                "example binary {} (build with --all-features)",
                binary.display()
            ));
            continue;
        }
        let out = Command::new(&binary).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{name} failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for line in stdout.lines() {
            if let Some(pattern) = debug_text_in(line) {
                panic!("{name} prints Rust Debug text {pattern:?}: {line}");
            }
        }
    }
}
