//! `rampart password hash|verify`: argon2id hashes, legacy formats an operator migrates from,
//! every refusal, and the password never in output.

mod common;

use std::process::Output;

use common::{assert_no_secret, json_stdout, rampart};

const PASSWORD: &str = "correct horse battery staple";

/// Made with the argon2 reference CLI: `argon2 saltsaltsalt16b -id -m 6 -t 1 -p 1 -e`
/// (parameters far below the current ones, so a rehash is due).
const WEAK_ARGON2ID: &str =
    "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0MTZi$fX4U82met1J4au97EQgql0dI9PF/KdvrnN5CdMayO+A";
/// Made with Python's hashlib.pbkdf2_hmac('sha256', PASSWORD, b"seasaltseasalt", 1000).
const DJANGO: &str =
    "pbkdf2_sha256$1000$seasaltseasalt$VNzPFE8wmAfZPF7ZBaPWZTpsgmcRgo3yR/SsvmOqXuY=";
/// Made with Python's `hashlib.scrypt(PASSWORD, salt=b"rampart-cli-salt", n=1024, r=8, p=1,
/// dklen=32)`, in the PHC form passlib writes.
const SCRYPT: &str =
    "$scrypt$ln=10,r=8,p=1$cmFtcGFydC1jbGktc2FsdA$p8bqzephsyMDFAydNjyMLmfdvRz6EIneU9RnfQ01ofs";
/// `hashlib.pbkdf2_hmac("sha256", PASSWORD, b"rampart-cli-salt", 10000, 32)`, PHC form.
const PBKDF2_SHA256: &str = "$pbkdf2-sha256$i=10000,l=32$cmFtcGFydC1jbGktc2FsdA$tQItagirRZBOjRCPjS19Oo4zn2zJRWFEwdbFJXPfJ3w";
/// `hashlib.pbkdf2_hmac("sha512", PASSWORD, b"rampart-cli-salt", 10000, 64)`, PHC form.
const PBKDF2_SHA512: &str = "$pbkdf2-sha512$i=10000,l=64$cmFtcGFydC1jbGktc2FsdA$kkgSfLU2lwI3RydzShFJFFt/ktD2qvcgViiBSff8y3wG2TA999inatuTGNMQClDhHl1koifMTu90wM41pIR4Pw";
/// Openwall crypt_blowfish test vector: password "U*U".
const BCRYPT: &str = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";

fn hash(password: &str) -> Output {
    let out = rampart()
        .args(["password", "hash"])
        .write_stdin(password.to_owned())
        .output()
        .unwrap();
    assert_no_secret(&out, password.as_bytes());
    out
}

fn verify(stored: &str, password: &str) -> Output {
    let out = rampart()
        .args(["password", "verify", stored])
        .write_stdin(format!("{password}\n"))
        .output()
        .unwrap();
    assert_no_secret(&out, password.as_bytes());
    out
}

#[test]
fn hash_prints_an_argon2id_phc_string_with_owasp_parameters() {
    let out = hash(PASSWORD);
    assert_eq!(out.status.code(), Some(0));
    let stored = json_stdout(&out)["hash"].as_str().unwrap().to_owned();
    assert!(
        stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{stored}"
    );
}

#[test]
fn two_hashes_of_one_password_differ_by_salt() {
    let a = json_stdout(&hash(PASSWORD))["hash"].clone();
    let b = json_stdout(&hash(PASSWORD))["hash"].clone();
    assert_ne!(a, b);
}

#[test]
fn verify_accepts_the_hashed_password() {
    let stored = json_stdout(&hash(PASSWORD))["hash"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = verify(&stored, PASSWORD);
    assert_eq!(out.status.code(), Some(0));
    let json = json_stdout(&out);
    assert_eq!(json["valid"], true);
    assert_eq!(json["needs_rehash"], false);
}

#[test]
fn verify_rejects_a_wrong_password_with_exit_1() {
    let stored = json_stdout(&hash(PASSWORD))["hash"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = verify(&stored, "Correct horse battery staple");
    assert_eq!(out.status.code(), Some(1));
    let json = json_stdout(&out);
    assert_eq!(json["valid"], false);
    assert_eq!(json["needs_rehash"], false);
}

#[test]
fn hash_and_verify_treat_a_trailing_newline_alike() {
    // `echo pw | rampart password hash` and `printf %s pw | ... verify` agree.
    let out = rampart()
        .args(["password", "hash"])
        .write_stdin(format!("{PASSWORD}\n"))
        .output()
        .unwrap();
    let stored = json_stdout(&out)["hash"].as_str().unwrap().to_owned();
    let out = rampart()
        .args(["password", "verify", &stored])
        .write_stdin(PASSWORD)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn weak_argon2id_verifies_and_needs_rehash_with_a_new_hash() {
    let out = verify(WEAK_ARGON2ID, PASSWORD);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let json = json_stdout(&out);
    assert_eq!(json["valid"], true);
    assert_eq!(json["needs_rehash"], true);
    let new_hash = json["new_hash"].as_str().unwrap();
    assert!(new_hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    assert_eq!(
        verify(new_hash, PASSWORD).status.code(),
        Some(0),
        "the new hash verifies"
    );
    assert_eq!(verify(WEAK_ARGON2ID, "wrong").status.code(), Some(1));
}

#[test]
fn django_pbkdf2_hash_verifies_and_needs_rehash() {
    let out = verify(DJANGO, PASSWORD);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(json_stdout(&out)["needs_rehash"], true);
    assert_eq!(
        verify(DJANGO, "correct horse battery stapl").status.code(),
        Some(1)
    );
}

#[test]
fn bcrypt_hash_verifies_and_needs_rehash() {
    let out = verify(BCRYPT, "U*U");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let json = json_stdout(&out);
    assert_eq!(json["needs_rehash"], true);
    assert!(json["reason"].as_str().unwrap().contains("bcrypt"));
    assert_eq!(verify(BCRYPT, "U*U*").status.code(), Some(1));
}

#[test]
fn malformed_hash_exits_2() {
    for bad in [
        "not-a-hash",
        "$argon2id$v=19$m=64,t=1,p=1$$",
        "$2a$05$short",
    ] {
        let out = verify(bad, PASSWORD);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert_eq!(json_stdout(&out)["error"], "malformed_hash", "{bad}");
    }
}

#[test]
fn hash_with_absurd_parameters_is_refused_before_hashing() {
    let planted = "$argon2id$v=19$m=4194304,t=1000,p=1$c2FsdHNhbHRzYWx0MTZi$fX4U82met1J4au97EQgql0dI9PF/KdvrnN5CdMayO+A";
    let out = verify(planted, PASSWORD);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json_stdout(&out)["error"], "params_above_cap");
}

#[test]
fn empty_stdin_exits_2() {
    let out = rampart()
        .args(["password", "hash"])
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json_stdout(&out)["error"], "empty_secret");
}

#[test]
fn overlong_password_exits_2_without_echo() {
    let long = "x".repeat(5000) + "TAIL-MARKER";
    let out = hash(&long);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json_stdout(&out)["error"], "password_too_long");
    assert_no_secret(&out, b"TAIL-MARKER");
}

#[test]
fn verify_without_hash_argument_is_a_usage_error() {
    let out = rampart()
        .args(["password", "verify"])
        .write_stdin(PASSWORD)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json_stdout(&out)["error"], "usage");
}

/// A legacy hash verifies with `needs_rehash` and a new argon2id hash that itself verifies;
/// a wrong password is a negative verdict (exit 1).
fn assert_legacy_hash_verifies(stored: &str, algorithm: &str) {
    let out = verify(stored, PASSWORD);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{algorithm}: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let json = json_stdout(&out);
    assert_eq!(json["valid"], true, "{algorithm}");
    assert_eq!(json["needs_rehash"], true, "{algorithm}");
    assert!(
        json["reason"].as_str().unwrap().contains(algorithm),
        "{algorithm}: {json}"
    );
    let new_hash = json["new_hash"].as_str().unwrap();
    assert!(new_hash.starts_with("$argon2id$"), "{new_hash}");
    assert_eq!(verify(new_hash, PASSWORD).status.code(), Some(0));
    let wrong = verify(stored, "correct horse battery stapler");
    assert_eq!(wrong.status.code(), Some(1), "{algorithm}");
    assert_eq!(
        json_stdout(&wrong),
        serde_json::json!({ "valid": false, "needs_rehash": false })
    );
}

#[test]
fn scrypt_hash_verifies_and_needs_rehash() {
    assert_legacy_hash_verifies(SCRYPT, "scrypt");
}

#[test]
fn pbkdf2_hashes_verify_and_need_rehash() {
    assert_legacy_hash_verifies(PBKDF2_SHA256, "pbkdf2-sha256");
    assert_legacy_hash_verifies(PBKDF2_SHA512, "pbkdf2-sha512");
}

#[test]
fn legacy_hash_with_altered_digest_is_a_mismatch_not_an_error() {
    // One character of the digest changed: still well-formed, so a verdict (exit 1).
    for stored in [SCRYPT, PBKDF2_SHA256] {
        let mut altered = stored.to_owned();
        let last = altered.pop().unwrap();
        altered.push(if last == 'A' { 'B' } else { 'A' });
        let out = verify(&altered, PASSWORD);
        assert_eq!(out.status.code(), Some(1), "{altered}");
    }
}

#[test]
fn password_typed_at_a_terminal_is_not_echoed() {
    const TYPED: &str = "typed-at-the-terminal-7c1e";
    let Some(run) = common::rampart_in_terminal(
        &["password".as_ref(), "hash".as_ref()],
        Some(("password", TYPED)),
    ) else {
        return;
    };
    let shown = String::from_utf8_lossy(&run.transcript).into_owned();
    assert_eq!(run.code, Some(0), "{shown}");
    assert!(!shown.contains(TYPED), "the password was echoed: {shown:?}");
    // The hash printed is of what was typed.
    let json_line = shown
        .lines()
        .find(|l| l.contains("\"hash\""))
        .unwrap_or_else(|| panic!("no hash in {shown:?}"));
    let start = json_line.find('{').unwrap();
    let hash: serde_json::Value = serde_json::from_str(json_line[start..].trim_ascii()).unwrap();
    let stored = hash["hash"].as_str().unwrap();
    assert_eq!(verify(stored, TYPED).status.code(), Some(0));
}

#[test]
fn verify_reads_the_hash_from_a_file_or_the_environment_without_the_ps_warning() {
    let hashed = json_stdout(
        &rampart()
            .args(["password", "hash"])
            .write_stdin(PASSWORD)
            .output()
            .unwrap(),
    )["hash"]
        .as_str()
        .unwrap()
        .to_owned();
    let dir = tempfile::TempDir::new().unwrap();
    let file = dir.path().join("stored.hash");
    std::fs::write(&file, format!("{hashed}\n")).unwrap();
    let from_file = rampart()
        .args(["password", "verify", "--hash-file"])
        .arg(&file)
        .write_stdin(PASSWORD)
        .output()
        .unwrap();
    let from_env = rampart()
        .args(["password", "verify"])
        .env("RAMPART_PASSWORD_HASH", &hashed)
        .write_stdin(PASSWORD)
        .output()
        .unwrap();
    for out in [&from_file, &from_env] {
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(json_stdout(out)["valid"], true);
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let wrong = rampart()
        .args(["password", "verify", "--hash-file"])
        .arg(&file)
        .write_stdin("wrong")
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(1));
}

#[test]
fn verify_with_the_hash_as_an_argument_still_works_but_warns_about_ps() {
    let out = verify(BCRYPT, "U*U");
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("visible to other users in `ps`"), "{err}");
    assert!(
        !err.contains(BCRYPT),
        "the warning does not repeat the hash"
    );
}

#[test]
fn hash_applies_the_password_policy_by_default() {
    for (password, why) in [
        ("short", "password must be at least 8 characters"),
        (
            "12345678",
            "password is a repeated or sequential run of characters",
        ),
    ] {
        let out = hash(password);
        assert_eq!(out.status.code(), Some(1), "{password}");
        let json = json_stdout(&out);
        assert_eq!(json["error"], "password_policy");
        assert_eq!(
            json["message"],
            format!("{why}; nothing was hashed (--no-policy hashes it anyway)")
        );
        assert!(json.get("hash").is_none());
        assert_no_secret(&out, password.as_bytes());
    }
}

#[test]
fn hash_refuses_a_password_containing_the_user_name() {
    let out = rampart()
        .args(["password", "hash", "--user-name", "alice"])
        .write_stdin("alice-in-wonderland")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json_stdout(&out)["error"], "password_policy");
}

#[test]
fn hash_with_no_policy_skips_it_and_says_so() {
    let out = rampart()
        .args(["password", "hash", "--no-policy"])
        .write_stdin("short")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let json = json_stdout(&out);
    assert_eq!(json["policy_checked"], false);
    let stored = json["hash"].as_str().unwrap();
    assert_eq!(verify(stored, "short").status.code(), Some(0));
}

#[test]
fn hash_without_pepper_says_it_carries_none() {
    let out = hash(PASSWORD);
    assert_eq!(out.status.code(), Some(0));
    let json = json_stdout(&out);
    assert_eq!(json["peppered"], false);
    assert_eq!(json["policy_checked"], true);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("note: this hash carries no pepper (none given with --pepper-file)"),
        "{stderr}"
    );
}

#[test]
fn hash_with_a_pepper_verifies_only_with_it() {
    let dir = tempfile::TempDir::new().unwrap();
    // 32 bytes, base64.
    let pepper = common::private_file(
        dir.path(),
        "pepper.key",
        "cGVwcGVyLWZvci10aGUtY2xpLXRlc3QtMzItYnl0ZXM=",
    );
    let out = rampart()
        .args(["password", "hash", "--pepper-version", "3", "--pepper-file"])
        .arg(&pepper)
        .write_stdin(PASSWORD)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json = json_stdout(&out);
    assert_eq!(json["peppered"], true);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("no pepper"));
    let stored = json["hash"].as_str().unwrap().to_owned();
    assert!(stored.contains("keyid="), "{stored}");
    let with = rampart()
        .args([
            "password",
            "verify",
            "--pepper-version",
            "3",
            "--pepper-file",
        ])
        .arg(&pepper)
        .env("RAMPART_PASSWORD_HASH", &stored)
        .write_stdin(PASSWORD)
        .output()
        .unwrap();
    assert_eq!(
        with.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&with.stdout)
    );
    assert_ne!(
        verify(&stored, PASSWORD).status.code(),
        Some(0),
        "not without the pepper"
    );
}

#[test]
fn malformed_pepper_file_exits_2() {
    let dir = tempfile::TempDir::new().unwrap();
    let pepper = common::private_file(dir.path(), "pepper.key", "not base64 !!!");
    let out = rampart()
        .args(["password", "hash", "--pepper-file"])
        .arg(&pepper)
        .write_stdin(PASSWORD)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json_stdout(&out)["error"], "malformed_key");
    assert!(json_stdout(&out).get("hash").is_none());
}
