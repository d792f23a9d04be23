//! Behaviour of hashing and verification through the public API, at tiny argon2 parameters
//! except where a test says otherwise.

use argon2::password_hash::{PasswordHash, PasswordVerifier as _};
use rampart_password::{
    Caps, Error, Hasher, LimiterConfig, MalformedHash, Params, Password, Pepper, UpgradeReason,
    Verdict,
};

fn tiny(m: u32, t: u32) -> Params {
    Params::new(m, t, 1).unwrap()
}

fn hasher(params: Params) -> Hasher {
    Hasher::builder().with_params(params).build().unwrap()
}

fn pw(s: &str) -> Password {
    Password::new(s)
}

#[test]
fn hash_is_a_standard_phc_string_the_argon2_crate_verifies() {
    let h = hasher(tiny(64, 2));
    let stored = h.hash(&pw("correct horse")).unwrap();
    assert!(
        stored.starts_with("$argon2id$v=19$m=64,t=2,p=1$"),
        "{stored}"
    );
    let parsed = PasswordHash::new(&stored).unwrap();
    assert_eq!(parsed.salt.unwrap().len(), 22, "16-byte salt in B64");
    assert_eq!(parsed.hash.unwrap().len(), 32);
    assert!(
        argon2::Argon2::default()
            .verify_password(b"correct horse", &parsed)
            .is_ok()
    );
}

#[test]
fn default_hasher_uses_owasp_parameters() {
    let h = Hasher::new();
    assert_eq!(h.params(), Params::OWASP);
    let stored = h.hash(&pw("correct horse")).unwrap();
    assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    assert_eq!(
        h.verify(&pw("correct horse"), &stored).unwrap(),
        Verdict::Valid
    );
}

#[test]
fn two_hashes_of_one_password_differ_by_salt() {
    let h = hasher(tiny(64, 1));
    assert_ne!(h.hash(&pw("same")).unwrap(), h.hash(&pw("same")).unwrap());
}

#[test]
fn wrong_password_is_invalid_not_an_error() {
    let h = hasher(tiny(64, 1));
    let stored = h.hash(&pw("right")).unwrap();
    assert_eq!(h.verify(&pw("wrong"), &stored).unwrap(), Verdict::Invalid);
    assert_eq!(h.verify(&pw(""), &stored).unwrap(), Verdict::Invalid);
}

/// Each cost below the current one (memory, passes, lanes) asks for an upgrade on its own;
/// costs at or above the current ones do not (a stronger hash is never weakened).
#[test]
fn each_weaker_cost_upgrades_and_stronger_ones_do_not() {
    let current = hasher(Params::new(64, 2, 2).unwrap());
    for (m, t, p, upgrade) in [
        (32, 2, 2, true),
        (64, 1, 2, true),
        (64, 2, 1, true),
        (64, 2, 2, false),
        (128, 2, 2, false),
        (64, 3, 2, false),
        (64, 2, 3, false),
    ] {
        let stored = hasher(Params::new(m, t, p).unwrap())
            .hash(&pw("pw"))
            .unwrap();
        let expected = upgrade.then_some(UpgradeReason::Params);
        assert_eq!(
            current.needs_upgrade(&stored).unwrap(),
            expected,
            "m={m} t={t} p={p}"
        );
    }
    assert_eq!(
        UpgradeReason::Params.to_string(),
        "parameters below the current ones"
    );
}

/// A salt or output shorter than ours (16 and 32 bytes) asks for an upgrade; longer ones
/// do not.
#[test]
fn shorter_salt_or_output_upgrades_and_longer_ones_do_not() {
    use argon2::password_hash::{PasswordHasher as _, SaltString};
    let h = hasher(tiny(64, 1));
    for (salt_len, out_len, upgrade) in [
        (8, 32, true),
        (16, 16, true),
        (16, 32, false),
        (24, 32, false),
        (16, 48, false),
    ] {
        let ctx = argon2::Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            argon2::Params::new(64, 1, 1, Some(out_len)).unwrap(),
        );
        let salt = SaltString::encode_b64(&vec![7u8; salt_len]).unwrap();
        let stored = ctx.hash_password(b"pw", &salt).unwrap().to_string();
        let expected = upgrade.then_some(UpgradeReason::Lengths);
        assert_eq!(
            h.needs_upgrade(&stored).unwrap(),
            expected,
            "salt {salt_len} output {out_len}"
        );
    }
}

#[test]
fn weaker_parameters_upgrade_on_login() {
    let old = hasher(tiny(32, 1));
    let new = hasher(tiny(64, 2));
    let stored = old.hash(&pw("pw")).unwrap();
    let Verdict::ValidNeedsUpgrade { new_hash, reason } = new.verify(&pw("pw"), &stored).unwrap()
    else {
        panic!("expected upgrade")
    };
    assert_eq!(reason, UpgradeReason::Params);
    assert!(new_hash.contains("m=64,t=2,p=1"));
    assert_eq!(new.verify(&pw("pw"), &new_hash).unwrap(), Verdict::Valid);
    assert_eq!(
        new.needs_upgrade(&stored).unwrap(),
        Some(UpgradeReason::Params)
    );
    assert_eq!(new.needs_upgrade(&new_hash).unwrap(), None);
}

#[test]
fn stronger_stored_parameters_within_caps_are_valid_without_upgrade() {
    let strong = hasher(tiny(128, 3));
    let h = hasher(tiny(64, 1));
    let stored = strong.hash(&pw("pw")).unwrap();
    assert_eq!(h.verify(&pw("pw"), &stored).unwrap(), Verdict::Valid);
}

#[test]
fn wrong_password_with_old_params_gives_no_new_hash() {
    let old = hasher(tiny(32, 1));
    let new = hasher(tiny(64, 2));
    let stored = old.hash(&pw("pw")).unwrap();
    assert_eq!(new.verify(&pw("nope"), &stored).unwrap(), Verdict::Invalid);
}

#[test]
fn pepper_version_is_recorded_and_rotation_upgrades() {
    let v1 = Hasher::builder()
        .with_params(tiny(64, 1))
        .with_pepper(Pepper::new(1, vec![1u8; 32]).unwrap())
        .build()
        .unwrap();
    let stored = v1.hash(&pw("pw")).unwrap();
    assert!(stored.contains(",keyid=AAAAAQ$"), "{stored}");
    assert_eq!(v1.verify(&pw("pw"), &stored).unwrap(), Verdict::Valid);

    let v2 = Hasher::builder()
        .with_params(tiny(64, 1))
        .with_pepper(Pepper::new(2, vec![2u8; 32]).unwrap())
        .with_old_pepper(Pepper::new(1, vec![1u8; 32]).unwrap())
        .build()
        .unwrap();
    let Verdict::ValidNeedsUpgrade { new_hash, reason } = v2.verify(&pw("pw"), &stored).unwrap()
    else {
        panic!("expected upgrade")
    };
    assert_eq!(reason, UpgradeReason::Pepper);
    assert!(new_hash.contains(",keyid=AAAAAg$"));
    assert_eq!(v2.verify(&pw("pw"), &new_hash).unwrap(), Verdict::Valid);
    assert_eq!(v2.verify(&pw("nope"), &stored).unwrap(), Verdict::Invalid);
}

#[test]
fn pepper_is_really_an_input_wrong_pepper_does_not_verify() {
    let a = Hasher::builder()
        .with_params(tiny(64, 1))
        .with_pepper(Pepper::new(1, vec![1u8; 32]).unwrap())
        .build()
        .unwrap();
    let b = Hasher::builder()
        .with_params(tiny(64, 1))
        .with_pepper(Pepper::new(1, vec![9u8; 32]).unwrap())
        .build()
        .unwrap();
    let stored = a.hash(&pw("pw")).unwrap();
    assert_eq!(b.verify(&pw("pw"), &stored).unwrap(), Verdict::Invalid);
    // Without the pepper, the argon2 crate alone cannot verify it either.
    let parsed = PasswordHash::new(&stored).unwrap();
    assert!(
        argon2::Argon2::default()
            .verify_password(b"pw", &parsed)
            .is_err()
    );
}

#[test]
fn unpeppered_hash_upgrades_when_a_pepper_is_introduced() {
    let plain = hasher(tiny(64, 1));
    let stored = plain.hash(&pw("pw")).unwrap();
    let peppered = Hasher::builder()
        .with_params(tiny(64, 1))
        .with_pepper(Pepper::new(1, vec![1u8; 32]).unwrap())
        .build()
        .unwrap();
    let v = peppered.verify(&pw("pw"), &stored).unwrap();
    assert!(matches!(
        v,
        Verdict::ValidNeedsUpgrade {
            reason: UpgradeReason::Pepper,
            ..
        }
    ));
}

#[test]
fn unknown_pepper_version_is_a_typed_error() {
    let v1 = Hasher::builder()
        .with_params(tiny(64, 1))
        .with_pepper(Pepper::new(7, vec![1u8; 32]).unwrap())
        .build()
        .unwrap();
    let stored = v1.hash(&pw("pw")).unwrap();
    let err = hasher(tiny(64, 1)).verify(&pw("pw"), &stored).unwrap_err();
    assert!(matches!(err, Error::UnknownPepperVersion { version: 7 }));
}

#[test]
fn planted_huge_memory_is_refused_before_hashing() {
    let h = hasher(tiny(64, 1));
    let planted = "$argon2id$v=19$m=4294967295,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$FqGkmHNGCd0BRW2kBt6fPZ2pPmyGwwChL8FGUhTOSSI";
    let start = std::time::Instant::now();
    let err = h.verify(&pw("pw"), planted).unwrap_err();
    assert!(
        matches!(
            err,
            Error::ParamsAboveCap {
                param: "m",
                value: 4_294_967_295,
                ..
            }
        ),
        "{err}"
    );
    // Refused without allocating 4 TiB; generous bound so a loaded machine does not flake.
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn planted_huge_iterations_are_refused() {
    let h = hasher(tiny(64, 1));
    let planted = "$argon2id$v=19$m=64,t=4000000000,p=1$c29tZXNhbHRzb21lc2FsdA$FqGkmHNGCd0BRW2kBt6fPZ2pPmyGwwChL8FGUhTOSSI";
    assert!(matches!(
        h.verify(&pw("pw"), planted).unwrap_err(),
        Error::ParamsAboveCap { param: "t", .. }
    ));
}

#[test]
fn planted_many_lanes_are_refused() {
    let h = hasher(tiny(64, 1));
    let planted = "$argon2id$v=19$m=65536,t=1,p=64$c29tZXNhbHRzb21lc2FsdA$FqGkmHNGCd0BRW2kBt6fPZ2pPmyGwwChL8FGUhTOSSI";
    assert!(matches!(
        h.verify(&pw("pw"), planted).unwrap_err(),
        Error::ParamsAboveCap { .. }
    ));
}

#[test]
fn caps_are_configurable_and_must_cover_current_params() {
    let mut caps = Caps::times(&tiny(64, 1), 1);
    caps.max_t = 1;
    let h = Hasher::builder()
        .with_params(tiny(64, 1))
        .with_caps(caps)
        .build()
        .unwrap();
    let stored = hasher(tiny(64, 2)).hash(&pw("pw")).unwrap();
    assert!(matches!(
        h.verify(&pw("pw"), &stored).unwrap_err(),
        Error::ParamsAboveCap {
            param: "t",
            value: 2,
            cap: 1
        }
    ));
    let low = Caps::times(&tiny(32, 1), 1);
    assert!(
        Hasher::builder()
            .with_params(tiny(64, 1))
            .with_caps(low)
            .build()
            .is_err()
    );
}

#[test]
fn tampered_output_is_invalid() {
    let h = hasher(tiny(64, 1));
    let stored = h.hash(&pw("pw")).unwrap();
    let (head, out) = stored.rsplit_once('$').unwrap();
    let mut bytes: Vec<char> = out.chars().collect();
    bytes[0] = if bytes[0] == 'A' { 'B' } else { 'A' };
    let tampered = format!("{head}${}", bytes.into_iter().collect::<String>());
    assert_eq!(h.verify(&pw("pw"), &tampered).unwrap(), Verdict::Invalid);
}

#[test]
fn tampered_salt_is_invalid() {
    let h = hasher(tiny(64, 1));
    let stored = h.hash(&pw("pw")).unwrap();
    let parts: Vec<&str> = stored.split('$').collect();
    let salt = parts[4];
    let new_salt = if salt.starts_with('A') {
        salt.replacen('A', "B", 1)
    } else {
        format!("A{}", &salt[1..])
    };
    let tampered = stored.replace(salt, &new_salt);
    assert_eq!(h.verify(&pw("pw"), &tampered).unwrap(), Verdict::Invalid);
}

#[test]
fn downgraded_algorithm_label_is_invalid() {
    // Relabelling an argon2id hash as argon2i changes the computation: no match.
    let h = hasher(tiny(64, 1));
    let stored = h
        .hash(&pw("pw"))
        .unwrap()
        .replacen("$argon2id$", "$argon2i$", 1);
    assert_eq!(h.verify(&pw("pw"), &stored).unwrap(), Verdict::Invalid);
}

#[test]
fn argon2i_and_argon2d_hashes_verify_and_upgrade() {
    let h = hasher(tiny(64, 1));
    for alg in [argon2::Algorithm::Argon2i, argon2::Algorithm::Argon2d] {
        use argon2::password_hash::{PasswordHasher as _, SaltString};
        let ctx = argon2::Argon2::new(
            alg,
            argon2::Version::V0x13,
            argon2::Params::new(64, 1, 1, None).unwrap(),
        );
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let stored = ctx.hash_password(b"pw", &salt).unwrap().to_string();
        let v = h.verify(&pw("pw"), &stored).unwrap();
        assert!(
            matches!(
                v,
                Verdict::ValidNeedsUpgrade {
                    reason: UpgradeReason::Algorithm(_),
                    ..
                }
            ),
            "{v:?}"
        );
        // The reason names the algorithm found, for the operator's migration report.
        let expected = match alg {
            argon2::Algorithm::Argon2i => "legacy algorithm argon2i",
            _ => "legacy algorithm argon2d",
        };
        assert_eq!(
            h.needs_upgrade(&stored).unwrap().unwrap().to_string(),
            expected
        );
    }
}

#[test]
fn unicode_equivalent_forms_verify_after_nfkc() {
    let h = hasher(tiny(64, 1));
    // "é" precomposed (U+00E9) vs "e" + combining acute (U+0065 U+0301).
    let stored = h.hash(&pw("caf\u{e9}-au-lait")).unwrap();
    assert_eq!(
        h.verify(&pw("cafe\u{301}-au-lait"), &stored).unwrap(),
        Verdict::Valid
    );
    // Fullwidth letters fold to ASCII under NFKC.
    let stored = h.hash(&pw("password")).unwrap();
    assert_eq!(
        h.verify(&pw("\u{ff50}assword"), &stored).unwrap(),
        Verdict::Valid
    );
}

#[test]
fn overlong_password_is_refused() {
    let h = Hasher::builder()
        .with_params(tiny(64, 1))
        .with_max_password_bytes(100)
        .build()
        .unwrap();
    let long = pw(&"a".repeat(101));
    assert!(matches!(
        h.hash(&long).unwrap_err(),
        Error::PasswordTooLong { max_bytes: 100 }
    ));
    let stored = h.hash(&pw("a")).unwrap();
    assert!(matches!(
        h.verify(&long, &stored).unwrap_err(),
        Error::PasswordTooLong { .. }
    ));
}

#[test]
fn malformed_hashes_are_typed_errors() {
    let h = hasher(tiny(64, 1));
    let cases = [
        "",
        "plaintext-password",
        "$argon2id$",
        "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ",
        "$argon2id$v=19$m=64,t=1,p=1,x=1$c29tZXNhbHRzb21l$FqGkmHNGCd0BRW2kBt6fPZ2pPmyGwwChL8FGUhTOSSI",
        "$argon2id$v=19$m=64,t=1,p=1,keyid=AAA$c29tZXNhbHRzb21l$FqGkmHNGCd0BRW2kBt6fPZ2pPmyGwwChL8FGUhTOSSI",
        "$argon2id$v=19$m=x,t=1,p=1$c29tZXNhbHRzb21l$FqGkmHNGCd0BRW2kBt6fPZ2pPmyGwwChL8FGUhTOSSI",
    ];
    for c in cases {
        let err = h.verify(&pw("pw"), c).unwrap_err();
        assert!(matches!(err, Error::Malformed(_)), "{c:?} gave {err:?}");
    }
    assert!(matches!(
        h.verify(
            &pw("pw"),
            "$sha1$c29tZXNhbHQ$FqGkmHNGCd0BRW2kBt6fPZ2pPmyGwwChL8FGUhTOSSI"
        )
        .unwrap_err(),
        Error::UnsupportedAlgorithm { .. }
    ));
    assert!(matches!(
        h.verify(&pw("pw"), &"$".repeat(600)).unwrap_err(),
        Error::Malformed(MalformedHash::TooLong { .. })
    ));
}

#[test]
fn errors_never_contain_the_password_or_hash_output() {
    let h = hasher(tiny(64, 1));
    let stored = h.hash(&pw("s3cret-pw")).unwrap();
    let output = stored.rsplit('$').next().unwrap().to_owned();
    let planted = stored.replace("m=64", "m=999999999");
    let errs = [
        h.verify(&pw("s3cret-pw"), &planted).unwrap_err(),
        h.verify(&pw("s3cret-pw"), &stored.replace("$v=19", "$v=99"))
            .unwrap_err(),
        h.verify(&pw("s3cret-pw"), &format!("{stored}$extra"))
            .unwrap_err(),
    ];
    for e in errs {
        let text = format!("{e} {e:?}");
        assert!(!text.contains("s3cret"), "{text}");
        assert!(!text.contains(&output), "{text}");
    }
}

#[test]
fn dummy_verify_is_invalid_and_matches_current_parameters() {
    let h = hasher(tiny(64, 1));
    assert_eq!(h.dummy_verify(&pw("anything")).unwrap(), Verdict::Invalid);
    assert_eq!(
        h.verify_or_dummy(&pw("anything"), None).unwrap(),
        Verdict::Invalid
    );
    let stored = h.hash(&pw("x")).unwrap();
    assert_eq!(
        h.verify_or_dummy(&pw("x"), Some(&stored)).unwrap(),
        Verdict::Valid
    );
}

#[test]
fn hasher_debug_shows_no_pepper_secret() {
    let h = Hasher::builder()
        .with_params(tiny(64, 1))
        .with_pepper(Pepper::new(3, b"very-secret-pepper-bytes".to_vec()).unwrap())
        .build()
        .unwrap();
    let shown = format!("{h:?}");
    assert!(!shown.contains("very-secret"));
    assert!(shown.contains("pepper_version: Some(3)"));
}

#[test]
fn limiter_sizes_workers_by_budget() {
    let h = Hasher::builder()
        .with_params(tiny(1024, 1))
        .with_limiter(
            LimiterConfig::default()
                .with_memory_budget_bytes(3 * 1024 * 1024)
                .with_max_workers(64),
        )
        .build()
        .unwrap();
    assert_eq!(h.workers(), 3);
    let one = Hasher::builder()
        .with_params(tiny(1024, 1))
        .with_limiter(LimiterConfig::default().with_max_workers(1))
        .build()
        .unwrap();
    assert_eq!(one.workers(), 1);
}

#[test]
fn concurrent_hashing_through_one_worker_is_correct() {
    let h = Hasher::builder()
        .with_params(tiny(64, 1))
        .with_limiter(LimiterConfig::default().with_max_workers(1))
        .build()
        .unwrap();
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let h = h.clone();
            std::thread::spawn(move || {
                let p = format!("password-{i}");
                let stored = h.hash(&Password::new(p.clone())).unwrap();
                assert_eq!(
                    h.verify(&Password::new(p), &stored).unwrap(),
                    Verdict::Valid
                );
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn stored_hash_with_more_memory_than_a_worker_slot_verifies() {
    // Current m=64 sizes the slots; a stored m=256 (within caps) spans several slots.
    let h = Hasher::builder()
        .with_params(tiny(64, 1))
        .with_limiter(LimiterConfig::default().with_max_workers(2))
        .build()
        .unwrap();
    let stored = hasher(tiny(256, 1)).hash(&pw("pw")).unwrap();
    assert_eq!(h.verify(&pw("pw"), &stored).unwrap(), Verdict::Valid);
}
