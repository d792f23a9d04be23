//! Interop with OATH Toolkit's `oathtool` (Debian package `oathtool`): secrets we generate,
//! codes it computes, compared with ours and accepted by our verifier. Skips loudly when
//! `oathtool` is missing, fails under `CI=true`.

use std::process::Command;
use std::time::{Duration, UNIX_EPOCH};

use rampart_mfa::{
    ActiveFactor, Algorithm, Digits, FactorState, OtpauthUri, PendingFactor, TotpParams, TotpSecret,
};

fn oathtool(args: &[&str]) -> String {
    let out = rampart_testkit::tool::run(Command::new("oathtool").args(args));
    String::from_utf8(out).unwrap().trim_ascii().to_owned()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

const TIMES: [u64; 5] = [
    59,
    1_111_111_109,
    1_700_000_000,
    2_000_000_000,
    4_102_444_799,
];

#[test]
fn oathtool_codes_match_ours_for_generated_secrets() {
    if !rampart_testkit::tool::available("oathtool") {
        return;
    }
    for (algorithm, flag) in [
        (Algorithm::Sha1, "--totp"),
        (Algorithm::Sha256, "--totp=sha256"),
        (Algorithm::Sha512, "--totp=sha512"),
    ] {
        for (digits, d) in [(Digits::Six, "6"), (Digits::Eight, "8")] {
            let params = TotpParams::default()
                .with_algorithm(algorithm)
                .with_digits(digits);
            let secret = TotpSecret::generate().unwrap();
            let b32 = secret.to_base32();
            for t in TIMES {
                let now = format!("--now=@{t}");
                let theirs = if algorithm == Algorithm::Sha1 {
                    // The base32 form, as a user would paste it from the enrolment page.
                    oathtool(&[flag, "-b", "-d", d, &now, b32.as_str()])
                } else {
                    // oathtool's -b is SHA-1 only in some versions: give SHA-2 keys in hex.
                    oathtool(&[flag, "-d", d, &now, &hex(secret.expose_secret())])
                };
                let when = UNIX_EPOCH + Duration::from_secs(t);
                let ours = params.code_at(&secret, when).unwrap();
                assert_eq!(
                    ours.expose_secret(),
                    theirs,
                    "{algorithm:?} {d} digits at {t}"
                );

                let mut factor = ActiveFactor::restore(
                    TotpSecret::from_bytes(secret.expose_secret()).unwrap(),
                    FactorState::new(params),
                );
                assert!(factor.verify(&theirs, when).is_ok());
                assert!(factor.verify(&theirs, when).is_err(), "replay");
            }
        }
    }
}

#[test]
fn oathtool_reads_the_secret_from_our_enrolment_uri_and_confirms_it() {
    if !rampart_testkit::tool::available("oathtool") {
        return;
    }
    let pending =
        PendingFactor::generate("ACME Co", "ann@example.com", TotpParams::default()).unwrap();
    // What an app does: parse the URI, take the base32 secret.
    let uri = pending.otpauth_uri();
    let parsed = OtpauthUri::parse(uri.expose_secret()).unwrap();
    let b32 = parsed.secret().to_base32();
    let t = 1_765_000_000u64;
    let code = oathtool(&["--totp", "-b", &format!("--now=@{t}"), b32.as_str()]);
    let active = pending
        .confirm(&code, UNIX_EPOCH + Duration::from_secs(t))
        .unwrap();
    assert_eq!(active.state().last_used_step(), t / 30);
}

#[test]
fn oathtool_window_codes_are_accepted_within_our_drift_window() {
    if !rampart_testkit::tool::available("oathtool") {
        return;
    }
    let secret = TotpSecret::generate().unwrap();
    let b32 = secret.to_base32();
    let t = 1_800_000_000u64;
    // `-w 2` prints the current code and the two after it.
    let listed = oathtool(&[
        "--totp",
        "-b",
        "-w",
        "2",
        &format!("--now=@{t}"),
        b32.as_str(),
    ]);
    let codes: Vec<&str> = listed.lines().collect();
    assert_eq!(codes.len(), 3);
    let now = UNIX_EPOCH + Duration::from_secs(t);
    let mut factor = ActiveFactor::restore(secret, FactorState::new(TotpParams::default()));
    assert!(
        factor.verify(codes[2], now).is_err(),
        "two steps ahead: outside +-1"
    );
    assert_eq!(factor.verify(codes[1], now).unwrap().step(), t / 30 + 1);
    assert!(
        factor.verify(codes[0], now).is_err(),
        "older than the last used step"
    );
}
