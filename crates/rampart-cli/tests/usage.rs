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
    &["apikey", "revoke"],
    &["apikey", "rotate"],
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

/// Where reports really go (`output.rs`): the help says the same.
#[test]
fn top_level_help_says_where_reports_go() {
    let out = rampart().arg("--help").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap().replace('\n', " ");
    for said in [
        "Reports: one JSON object per run, on stdout.",
        "write their data to stdout when no -o OUT is given, and then put the JSON object on \
         stderr instead",
        "with -o OUT the report is on stdout",
        "A failure reported on stdout also prints its message on stderr",
    ] {
        assert!(help.contains(said), "{said:?} not in:\n{help}");
    }
}

/// The flags issue #32 added: each has its own help line and appears in an example of its
/// command's after_help.
#[test]
fn every_new_flag_has_help_and_an_example() {
    let flags: &[(&[&str], &[&str])] = &[
        (&["saml", "verify"], &["--allow-sha1", "--allow-small-rsa"]),
        (
            &["saml", "verify-logout"],
            &["--allow-sha1", "--allow-small-rsa"],
        ),
        (&["saml", "metadata"], &["-o", "--raw"]),
        (
            &["password", "hash"],
            &[
                "--no-policy",
                "--user-name",
                "--email",
                "--pepper-file",
                "--pepper-version",
            ],
        ),
        (
            &["password", "verify"],
            &["--pepper-file", "--pepper-version"],
        ),
        (&["apikey", "new"], &["--expires-in"]),
        (&["apikey", "revoke"], &["--record"]),
        (&["apikey", "rotate"], &["--record", "--overlap"]),
        (&["keyring", "init"], &["--name"]),
    ];
    for (path, names) in flags {
        let out = rampart().args(*path).arg("--help").output().unwrap();
        let help = String::from_utf8(out.stdout).unwrap();
        let (options, after) = help
            .split_once("Example")
            .unwrap_or_else(|| panic!("{path:?}"));
        let examples: Vec<&str> = after
            .lines()
            .filter(|l| (l.starts_with("  ") && l.contains("rampart ")) || l.starts_with("      "))
            .collect();
        for name in *names {
            let option_line = options.lines().any(|l| {
                l.trim_ascii_start().starts_with(name) || l.contains(&format!(", {name}"))
            });
            assert!(option_line, "{path:?}: no help line for {name}:\n{help}");
            assert!(
                examples
                    .iter()
                    .any(|l| l.split_ascii_whitespace().any(|w| w == *name)),
                "{path:?}: no example uses {name}:\n{help}"
            );
        }
    }
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
