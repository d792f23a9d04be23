//! The command-line layer itself: help with an example on every subcommand, and usage errors
//! that exit 2 with one JSON object on stdout and never echo a stray argument.

mod common;

use common::{json_stdout, rampart};
use predicates::prelude::*;

/// Every subcommand path of the contract in `docs/design.md` (command-line contract).
const SUBCOMMANDS: &[&[&str]] = &[
    &["keyring"],
    &["keyring", "init"],
    &["keyring", "rotate"],
    &["keyring", "list"],
    &["keyring", "retire"],
    &["keyring", "rewrap"],
    &["keyring", "prepare"],
    &["keyring", "purge"],
    &["encrypt"],
    &["decrypt"],
    &["reencrypt"],
    &["password"],
    &["password", "hash"],
    &["password", "verify"],
    &["apikey"],
    &["apikey", "new"],
    &["apikey", "check"],
    &["saml"],
    &["saml", "verify"],
    &["saml", "metadata"],
    &["saml", "authn-request"],
];

#[test]
fn every_subcommand_has_help_with_an_example() {
    for path in SUBCOMMANDS {
        let out = rampart().args(*path).arg("--help").output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{path:?} --help");
        let help = String::from_utf8(out.stdout).unwrap();
        assert!(
            help.contains("Usage: rampart"),
            "{path:?} help has no usage line"
        );
        assert!(
            help.contains("Example"),
            "{path:?} help has no example:\n{help}"
        );
        // The example runs this very subcommand (not merely mentions its name).
        let invocation = format!("rampart {}", path.join(" "));
        assert!(
            help.contains(&invocation),
            "{path:?} help has no example running {invocation:?}:\n{help}"
        );
    }
}

#[test]
fn top_level_help_lists_every_command_and_the_exit_codes() {
    let out = rampart().arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8(out.stdout).unwrap();
    for cmd in [
        "keyring",
        "encrypt",
        "decrypt",
        "reencrypt",
        "password",
        "apikey",
        "saml",
    ] {
        assert!(help.contains(cmd), "{cmd} missing from help");
    }
    assert!(help.contains("0 success, 1 negative verdict"));
}

#[test]
fn version_exits_zero() {
    rampart()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::contains("rampart"));
}

#[test]
fn no_arguments_is_a_usage_error_exit_2_with_json() {
    let out = rampart().output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json_stdout(&out)["error"], "usage");
}

#[test]
fn missing_subcommand_is_a_usage_error_exit_2_with_json() {
    for family in ["keyring", "password", "apikey", "saml"] {
        let out = rampart().arg(family).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{family}");
        assert_eq!(json_stdout(&out)["error"], "usage", "{family}");
    }
}

#[test]
fn unknown_subcommand_is_a_usage_error_exit_2() {
    let out = rampart().arg("frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json_stdout(&out)["error"], "usage");
}

#[test]
fn missing_required_option_is_a_usage_error_exit_2() {
    let out = rampart().args(["keyring", "list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let json = json_stdout(&out);
    assert_eq!(json["error"], "usage");
    assert!(json["message"].as_str().unwrap().contains("--keyring"));
}

#[test]
fn malformed_option_value_is_a_usage_error_exit_2() {
    let out = rampart()
        .args([
            "keyring",
            "retire",
            "--keyring",
            "k.json",
            "--below",
            "three",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json_stdout(&out)["error"], "usage");
}

#[test]
fn password_given_as_argument_is_refused_and_not_echoed() {
    let secret = "correct-horse-battery-staple-7781";
    let out = rampart()
        .args(["password", "hash", secret])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json_stdout(&out)["error"], "usage");
    common::assert_no_secret(&out, secret.as_bytes());
}

#[test]
fn api_secret_given_as_argument_is_refused_and_not_echoed() {
    let secret = "rk_live_notarealsecret0123456789abcdef";
    let out = rampart()
        .args(["apikey", "check", "--record", "r.json", secret])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    common::assert_no_secret(&out, secret.as_bytes());
}

#[test]
fn master_key_option_does_not_exist() {
    // The key comes from a file or the environment only: an option taking the key itself
    // would put it in the process table.
    let key = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=";
    let out = rampart()
        .args([
            "keyring",
            "list",
            "--keyring",
            "k.json",
            "--master-key",
            key,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    common::assert_no_secret(&out, key.as_bytes());
}
