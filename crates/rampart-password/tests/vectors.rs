//! Golden hashes from reference implementations (tests/vectors/hashes.json, made by
//! tests/vectors/generate.py): every one must verify, and fail with a wrong password.

use rampart_password::{Caps, Hasher, Params, Password, Pepper, UpgradeReason, Verdict};
use serde_json::Value;

fn vectors() -> Vec<Value> {
    let text = include_str!("vectors/hashes.json");
    serde_json::from_str::<Vec<Value>>(text).expect("hashes.json is valid JSON")
}

/// Current parameters at argon2's minimum, so every vector is at or above them and upgrades
/// are cheap; caps at the default 4x OWASP. The RFC 9106 vector's secret is pepper version 1.
fn hasher(with_pepper: bool) -> Hasher {
    let mut b = Hasher::builder()
        .with_params(Params::new(8, 1, 1).unwrap())
        .with_caps(Caps::times(&Params::OWASP, 4));
    if with_pepper {
        b = b.with_pepper(Pepper::new(1, vec![3u8; 8]).unwrap());
    }
    b.build().unwrap()
}

#[test]
fn golden_vectors_verify_and_reject_wrong_passwords() {
    let peppered = hasher(true);
    let plain = hasher(false);
    let all = vectors();
    assert!(all.len() >= 15);
    for v in &all {
        let format = v["format"].as_str().unwrap();
        let password = v["password"].as_str().unwrap();
        let hash = v["hash"].as_str().unwrap();
        let h = if hash.contains("keyid=") {
            &peppered
        } else {
            &plain
        };
        if !cfg!(feature = "legacy") && !format.starts_with("argon2") {
            let err = h.verify(&Password::new(password), hash).unwrap_err();
            assert!(matches!(
                err,
                rampart_password::Error::LegacyFormatDisabled { .. }
            ));
            continue;
        }
        let verdict = h
            .verify(&Password::new(password), hash)
            .unwrap_or_else(|e| panic!("{format} vector {hash}: {e}"));
        assert!(verdict.is_valid(), "{format} vector {hash} should verify");
        let legacy = format != "argon2id" || hash.contains("$v=16$");
        match (&verdict, legacy) {
            (Verdict::ValidNeedsUpgrade { new_hash, reason }, true) => {
                if format == "argon2id" {
                    assert_eq!(*reason, UpgradeReason::Version);
                } else {
                    assert!(
                        matches!(reason, UpgradeReason::Algorithm(_)),
                        "{format}: {reason:?}"
                    );
                }
                assert_eq!(
                    h.verify(&Password::new(password), new_hash).unwrap(),
                    Verdict::Valid
                );
            }
            (Verdict::Valid, false) => {}
            // "somesalt" is 8 bytes, below the 16 this crate writes: verified, then upgraded.
            (
                Verdict::ValidNeedsUpgrade {
                    reason: UpgradeReason::Lengths,
                    ..
                },
                false,
            ) if hash.contains("$c29tZXNhbHQ$") => {}
            other => panic!("{format} vector {hash}: unexpected {other:?}"),
        }
        let wrong = format!("{password}!");
        // bcrypt ignores bytes past 72, so extend the wrong guess at the start instead.
        let wrong = if password.len() >= 72 {
            format!("!{password}")
        } else {
            wrong
        };
        assert_eq!(
            h.verify(&Password::new(wrong), hash).unwrap(),
            Verdict::Invalid,
            "{format} vector {hash} accepted a wrong password"
        );
    }
}

#[test]
fn every_supported_format_has_a_vector() {
    let formats: Vec<String> = vectors()
        .iter()
        .map(|v| v["format"].as_str().unwrap().to_owned())
        .collect();
    for f in [
        "argon2id",
        "argon2i",
        "argon2d",
        "bcrypt",
        "scrypt",
        "pbkdf2-sha256",
        "django",
    ] {
        assert!(formats.iter().any(|x| x == f), "no vector for {f}");
    }
    let hashes: Vec<String> = vectors()
        .iter()
        .map(|v| v["hash"].as_str().unwrap().to_owned())
        .collect();
    for prefix in ["$2a$", "$2b$", "$2y$"] {
        assert!(
            hashes.iter().any(|h| h.starts_with(prefix)),
            "no {prefix} vector"
        );
    }
}

#[test]
fn rfc9106_vector_needs_its_pepper() {
    let v = vectors();
    let rfc = v
        .iter()
        .find(|v| v["source"].as_str().unwrap().starts_with("RFC 9106"))
        .unwrap();
    let pw = Password::new(rfc["password"].as_str().unwrap());
    let err = hasher(false)
        .verify(&pw, rfc["hash"].as_str().unwrap())
        .unwrap_err();
    assert!(matches!(
        err,
        rampart_password::Error::UnknownPepperVersion { version: 1 }
    ));
}
