//! `--master-key URI` and `keyring rewrap --to URI` against real providers: SoftHSM2 (PKCS#11)
//! and moto's KMS. A keyring moves local -> HSM -> KMS -> local while a value sealed before the
//! first move keeps opening, and every way of failing to reach a key is exit 2 with a message
//! that says which.

mod common;

use std::path::PathBuf;
use std::process::Output;

use common::{MASTER_KEY, json_stderr, json_stdout, private_file, rampart};
use rampart::envelope::Pkcs11MasterKey;
use rampart_testkit::{MotoServer, SoftHsm};
use tempfile::TempDir;

const TOKEN: &str = "val-sealed-before-any-move";

/// A keyring under a local key in a temp dir, and how to run commands on it.
struct Ring {
    _dir: TempDir,
    local: PathBuf,
    ring: PathBuf,
    /// Extra environment for every command (SoftHSM2, moto).
    env: Vec<(String, String)>,
}

impl Ring {
    fn init(region: &str, env: Vec<(String, String)>) -> Self {
        let dir = TempDir::new().unwrap();
        let local = private_file(dir.path(), "master.key", &format!("{MASTER_KEY}\n"));
        let ring = dir.path().join("tokens.json");
        let r = Ring {
            _dir: dir,
            local,
            ring,
            env,
        };
        let out = r.run(
            &["keyring", "init", "--region", region],
            &r.local_args(),
            None,
        );
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        r
    }

    fn local_args(&self) -> Vec<String> {
        vec!["--master-key-file".into(), self.local.display().to_string()]
    }

    fn run(&self, cmd: &[&str], key: &[String], stdin: Option<&str>) -> Output {
        let mut c = rampart();
        c.args(cmd).arg("--keyring").arg(&self.ring).args(key);
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c.write_stdin(stdin.unwrap_or_default()).output().unwrap()
    }

    fn seal(&self, key: &[String]) -> String {
        let out = self.run(
            &["encrypt", "--value", "--context", "column=oauth"],
            key,
            Some(TOKEN),
        );
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    }

    /// Decrypts `sealed` with the master key `key`: the plaintext, or the failure report.
    fn open(&self, sealed: &str, key: &[String]) -> Result<String, (i32, serde_json::Value)> {
        let out = self.run(&["decrypt", "--context", "column=oauth"], key, Some(sealed));
        match out.status.code() {
            Some(0) => Ok(String::from_utf8(out.stdout).unwrap()),
            code => Err((code.unwrap(), json_stderr(&out))),
        }
    }

    fn rewrap(&self, from: &[String], to: &str) -> Output {
        self.run(&["keyring", "rewrap", "--to", to], from, None)
    }

    fn file(&self) -> String {
        std::fs::read_to_string(&self.ring).unwrap()
    }
}

fn uri_args(uri: &str) -> Vec<String> {
    vec!["--master-key".into(), uri.into()]
}

/// Creates a symmetric key in moto's KMS and returns its ARN.
fn kms_key(moto: &MotoServer, region: &str) -> String {
    let body = moto.kms(region, "CreateKey", "{}");
    let v: serde_json::Value = serde_json::from_str(&body).expect(&body);
    v["KeyMetadata"]["Arn"].as_str().expect(&body).to_string()
}

fn moto_env(moto: &MotoServer) -> Vec<(String, String)> {
    moto.env()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}

fn hsm_env(hsm: &SoftHsm) -> Vec<(String, String)> {
    hsm.env()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.display().to_string()))
        .collect()
}

/// An exit-2 failure whose message contains every one of `words`.
fn assert_input_error(result: Result<String, (i32, serde_json::Value)>, words: &[&str]) {
    let (code, report) = result.expect_err("must fail");
    assert_eq!(code, 2, "{report}");
    let message = report["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no message in {report}"))
        .to_string();
    for w in words {
        assert!(message.contains(w), "{message:?} does not say {w:?}");
    }
}

fn out_result(out: &Output) -> Result<String, (i32, serde_json::Value)> {
    match out.status.code() {
        Some(0) => Ok(String::from_utf8_lossy(&out.stdout).into_owned()),
        code => Err((code.unwrap(), json_stdout(out))),
    }
}

#[test]
fn keyring_moves_local_to_hsm_to_kms_and_back_without_stranding_a_value() {
    let Some(hsm) =
        SoftHsm::for_test("keyring_moves_local_to_hsm_to_kms_and_back_without_stranding_a_value")
    else {
        return;
    };
    let Some(moto) = MotoServer::start() else {
        return;
    };
    hsm.init_token("prod", "1234");
    let pin = hsm.pin_file("pin", "1234");
    let hsm_uri = SoftHsm::uri("prod", "kek", &pin);
    Pkcs11MasterKey::generate(&hsm_uri).unwrap();
    let arn = kms_key(&moto, "eu-west-1");
    let kms_uri = format!("aws-kms:{arn}");

    let mut env = hsm_env(&hsm);
    env.extend(moto_env(&moto));
    let r = Ring::init("eu", env);
    let sealed = r.seal(&r.local_args());

    // local -> HSM: the file now names the HSM key; the local key no longer loads it.
    let out = r.rewrap(&r.local_args(), &hsm_uri);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        json_stdout(&out)["master_key"]
            .as_str()
            .unwrap()
            .starts_with("pkcs11:")
    );
    assert_eq!(r.open(&sealed, &uri_args(&hsm_uri)).unwrap(), TOKEN);
    assert_input_error(
        r.open(&sealed, &r.local_args()),
        &["wrong master key", "pkcs11:"],
    );

    // HSM -> KMS (an eu-west-1 key for an `eu` keyring).
    let out = r.rewrap(&uri_args(&hsm_uri), &kms_uri);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(r.file().contains(&arn));
    assert_eq!(r.open(&sealed, &uri_args(&kms_uri)).unwrap(), TOKEN);
    assert_input_error(r.open(&sealed, &uri_args(&hsm_uri)), &["aws-kms:"]);
    // A value sealed under the KMS-wrapped keyring opens too.
    let later = r.seal(&uri_args(&kms_uri));
    assert_eq!(r.open(&later, &uri_args(&kms_uri)).unwrap(), TOKEN);

    // KMS -> local again (`local:FILE`): both values open with the file key.
    let local_uri = format!("local:{}", r.local.display());
    let out = r.rewrap(&uri_args(&kms_uri), &local_uri);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(r.open(&sealed, &r.local_args()).unwrap(), TOKEN);
    assert_eq!(r.open(&later, &uri_args(&local_uri)).unwrap(), TOKEN);
}

#[test]
fn hsm_failures_are_input_errors_that_say_which() {
    let Some(hsm) = SoftHsm::for_test("hsm_failures_are_input_errors_that_say_which") else {
        return;
    };
    hsm.init_token("prod", "1234");
    let pin = hsm.pin_file("pin", "1234");
    let uri = SoftHsm::uri("prod", "kek", &pin);
    Pkcs11MasterKey::generate(&uri).unwrap();
    let r = Ring::init("eu", hsm_env(&hsm));
    let sealed = r.seal(&r.local_args());
    assert_eq!(r.rewrap(&r.local_args(), &uri).status.code(), Some(0));
    let before = r.file();

    let wrong_pin = hsm.pin_file("wrong-pin", "9999");
    let cases = [
        (SoftHsm::uri("prod", "kek", &wrong_pin), vec!["wrong PIN"]),
        (
            SoftHsm::uri("prod", "no-such-key", &pin),
            vec!["no AES key object", "no-such-key"],
        ),
        (
            SoftHsm::uri("staging", "kek", &pin),
            vec!["no token", "staging"],
        ),
        (
            uri.replace(
                rampart_testkit::softhsm::MODULE,
                "/nonexistent/libpkcs11.so",
            ),
            vec!["cannot load PKCS#11 module", "/nonexistent/libpkcs11.so"],
        ),
    ];
    for (bad, words) in cases {
        assert_input_error(r.open(&sealed, &uri_args(&bad)), &words);
        // A rewrap from a key that cannot be reached writes nothing.
        let out = r.rewrap(&uri_args(&bad), &format!("local:{}", r.local.display()));
        assert_input_error(out_result(&out), &words);
        assert_eq!(r.file(), before);
    }
    assert_eq!(r.open(&sealed, &uri_args(&uri)).unwrap(), TOKEN);
}

#[test]
fn kms_failures_and_the_region_rule_are_input_errors_that_say_which() {
    let Some(moto) = MotoServer::start() else {
        return;
    };
    let arn = kms_key(&moto, "eu-west-1");
    let r = Ring::init("eu", moto_env(&moto));
    let sealed = r.seal(&r.local_args());
    let kms_uri = format!("aws-kms:{arn}");
    assert_eq!(r.rewrap(&r.local_args(), &kms_uri).status.code(), Some(0));
    let before = r.file();

    // A keyring pinned to `us` refuses an eu-west-1 key before any call.
    let us = Ring::init("us", moto_env(&moto));
    let out = us.rewrap(&us.local_args(), &kms_uri);
    assert_input_error(out_result(&out), &["region"]);
    assert!(!us.file().contains("aws-kms"));

    // Unreachable KMS (nothing listens on port 9).
    let mut down = Ring {
        _dir: TempDir::new().unwrap(),
        local: r.local.clone(),
        ring: r.ring.clone(),
        env: moto_env(&moto),
    };
    for (k, v) in &mut down.env {
        if k == "AWS_ENDPOINT_URL" {
            *v = "http://127.0.0.1:9".into();
        }
    }
    assert_input_error(
        down.open(&sealed, &uri_args(&kms_uri)),
        &["cannot reach AWS KMS"],
    );

    // A key that does not exist (deleted, or a typo in the ARN). Disabled and pending-deletion
    // keys cannot be tested here: moto 5.x encrypts and decrypts under them regardless (their
    // error mapping is unit-tested in rampart-envelope's src/aws_kms.rs).
    let gone = arn.replace(
        arn.rsplit('/').next().unwrap(),
        "00000000-0000-4000-8000-000000000000",
    );
    let out = r.rewrap(&uri_args(&kms_uri), &format!("aws-kms:{gone}"));
    assert_input_error(out_result(&out), &["KMS key", "not found"]);
    assert_eq!(r.file(), before);
    assert_eq!(r.open(&sealed, &uri_args(&kms_uri)).unwrap(), TOKEN);

    // A URI of no known provider.
    assert_input_error(
        r.open(&sealed, &uri_args("vault:transit/kek")),
        &["local:FILE", "pkcs11:", "aws-kms:"],
    );
}
