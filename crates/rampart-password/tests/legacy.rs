//! Legacy formats: caps before hashing, upgrade on success, and what happens without the
//! `legacy` feature.

use rampart_password::{Algorithm, Error, Hasher, Params, Password, UpgradeReason, inspect};

fn hasher() -> Hasher {
    Hasher::builder()
        .with_params(Params::new(64, 1, 1).unwrap())
        .build()
        .unwrap()
}

fn pw(s: &str) -> Password {
    Password::new(s)
}

// Published/generated vectors also used in tests/vectors/hashes.json.
const BCRYPT: &str = "$2a$04$UuTkLRZZ6QofpDOlMz32MuuxEHA43WOemOYHPz6.SjsVsyO1tDU96";
const DJANGO_BIG: &str =
    "pbkdf2_sha256$999999999$saltsalt$fSG3d7B+Ye6KTEpMtIxyoa3x/J8XvGuKyw4d2oWw3eA=";

#[test]
fn legacy_formats_are_recognised_without_a_password() {
    assert_eq!(inspect(BCRYPT).unwrap().algorithm(), Algorithm::Bcrypt);
    assert_eq!(
        inspect(DJANGO_BIG).unwrap().algorithm(),
        Algorithm::DjangoPbkdf2Sha256
    );
    assert!(Algorithm::Bcrypt.is_legacy());
    assert!(!Algorithm::Argon2id.is_legacy());
    assert_eq!(
        hasher().needs_upgrade(BCRYPT).unwrap(),
        Some(UpgradeReason::Algorithm(Algorithm::Bcrypt))
    );
}

#[cfg(feature = "legacy")]
mod enabled {
    use super::*;
    use rampart_password::Verdict;

    #[test]
    fn bcrypt_login_migrates_to_argon2id() {
        let h = hasher();
        let Verdict::ValidNeedsUpgrade { new_hash, reason } =
            h.verify(&pw("password"), BCRYPT).unwrap()
        else {
            panic!("expected upgrade")
        };
        assert_eq!(reason, UpgradeReason::Algorithm(Algorithm::Bcrypt));
        assert!(new_hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert_eq!(
            h.verify(&pw("password"), &new_hash).unwrap(),
            Verdict::Valid
        );
    }

    #[test]
    fn bcrypt_cost_above_cap_is_refused_before_hashing() {
        // cost 31 = 2^31 rounds: hours of CPU if it ran.
        let planted = BCRYPT.replacen("$04$", "$31$", 1);
        let err = hasher().verify(&pw("password"), &planted).unwrap_err();
        assert!(
            matches!(
                err,
                Error::ParamsAboveCap {
                    param: "bcrypt cost",
                    value: 31,
                    cap: 14
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn django_iterations_above_cap_are_refused() {
        let err = hasher().verify(&pw("pw"), DJANGO_BIG).unwrap_err();
        assert!(
            matches!(
                err,
                Error::ParamsAboveCap {
                    param: "pbkdf2 iterations",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn pbkdf2_phc_iterations_above_cap_are_refused() {
        let planted = "$pbkdf2-sha256$i=4294967295,l=32$TmFDbC1zYWx0LTE2Ynl0ZQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        let err = hasher().verify(&pw("pw"), planted).unwrap_err();
        assert!(matches!(err, Error::ParamsAboveCap { .. }), "{err}");
    }

    #[test]
    fn scrypt_memory_above_cap_is_refused() {
        // ln=30, r=8: 128 GiB.
        let planted = "$scrypt$ln=30,r=8,p=1$TmFDbC1zYWx0LTE2Ynl0ZQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        let err = hasher().verify(&pw("pw"), planted).unwrap_err();
        assert!(
            matches!(
                err,
                Error::ParamsAboveCap {
                    param: "scrypt memory",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn scrypt_work_above_cap_is_refused() {
        // Small memory, huge parallelism: ln=10, r=1, p=2^24.
        let planted = "$scrypt$ln=10,r=1,p=16777216$TmFDbC1zYWx0LTE2Ynl0ZQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        let err = hasher().verify(&pw("pw"), planted).unwrap_err();
        assert!(
            matches!(
                err,
                Error::ParamsAboveCap {
                    param: "scrypt work",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn scrypt_defaults_apply_when_params_are_missing() {
        // No ln/r/p: the scrypt crate reads ln=17, r=8 (128 MiB), above the default cap.
        let planted = "$scrypt$TmFDbC1zYWx0LTE2Ynl0ZQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        let err = hasher().verify(&pw("pw"), planted).unwrap_err();
        assert!(
            matches!(err, Error::ParamsAboveCap { param: "scrypt memory", value, .. } if value == 128 << 20),
            "{err}"
        );
    }

    #[test]
    fn wrong_password_on_legacy_hash_is_invalid() {
        assert_eq!(
            hasher().verify(&pw("Password"), BCRYPT).unwrap(),
            Verdict::Invalid
        );
    }
}

#[cfg(not(feature = "legacy"))]
#[test]
fn legacy_formats_need_the_feature() {
    // The error names the format found, so an operator knows which feature a migration needs.
    for (stored, name) in [
        (BCRYPT, "bcrypt"),
        (
            "$scrypt$ln=10,r=8,p=1$TmFDbC1zYWx0LTE2Ynl0ZQ$mY+0WQT2BY9S6u9B7FUL4OzBDML77wSrkQ0E4kT87Qk",
            "scrypt",
        ),
        (
            "pbkdf2_sha256$20000$seasalt$oBSd886ysm3AqYun62DOdin8YcfbU1z9cksZSuLP9r0=",
            "django",
        ),
        (
            "$pbkdf2-sha256$i=10000,l=32$TmFDbC1zYWx0LTE2Ynl0ZQ$Femyxq6PO9pxCJozSHchNbDb1xfhnyfQ8ClgxYniKJ0",
            "pbkdf2",
        ),
    ] {
        let err = hasher().verify(&pw("password"), stored).unwrap_err();
        assert!(
            matches!(err, Error::LegacyFormatDisabled { format } if format == name),
            "{name}: {err:?}"
        );
    }
}
