//! Checking codes through the public API: once only, the drift window, enrolment.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rampart_mfa::{
    ActiveFactor, Algorithm, ConfigError, Digits, Error, FactorState, PendingFactor, TotpParams,
    TotpSecret,
};

const T: u64 = 1_700_000_010; // step 56_666_667, 0 s into it

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn factor() -> ActiveFactor {
    let secret = TotpSecret::from_bytes(b"12345678901234567890").unwrap();
    ActiveFactor::restore(secret, FactorState::new(TotpParams::default()))
}

fn code(f: &ActiveFactor, secs: u64) -> String {
    f.state()
        .params()
        .code_at(f.secret(), at(secs))
        .unwrap()
        .expose_secret()
        .to_owned()
}

#[test]
fn replayed_code_is_refused_within_its_step() {
    let mut f = factor();
    let c = code(&f, T);
    assert_eq!(f.verify(&c, at(T)).unwrap().step(), T / 30);
    assert!(matches!(f.verify(&c, at(T + 5)), Err(Error::ReusedCode)));
}

#[test]
fn replayed_code_is_refused_in_the_next_step_while_still_in_the_window() {
    let mut f = factor();
    let c = code(&f, T);
    let _ = f.verify(&c, at(T)).unwrap();
    // 30 s later the code is one step old: inside the default window, still refused.
    assert!(matches!(f.verify(&c, at(T + 30)), Err(Error::ReusedCode)));
}

#[test]
fn an_older_code_is_refused_after_a_newer_one_was_used() {
    let mut f = factor();
    let old = code(&f, T - 30);
    let new = code(&f, T);
    let _ = f.verify(&new, at(T)).unwrap();
    // The previous step's code is in the window, but its step is before the last used.
    assert!(matches!(f.verify(&old, at(T)), Err(Error::ReusedCode)));
    // The next step's code is fine.
    let next = code(&f, T + 30);
    assert_eq!(f.verify(&next, at(T + 30)).unwrap().step(), T / 30 + 1);
}

#[test]
fn replay_across_restarts_is_refused_through_the_stored_state() {
    let mut f = factor();
    let c = code(&f, T);
    let _ = f.verify(&c, at(T)).unwrap();
    let stored = serde_json::to_string(f.state()).unwrap();
    let secret = TotpSecret::from_bytes(f.secret().expose_secret()).unwrap();
    let mut again = ActiveFactor::restore(secret, serde_json::from_str(&stored).unwrap());
    assert!(matches!(again.verify(&c, at(T)), Err(Error::ReusedCode)));
}

#[test]
fn failed_verification_leaves_the_state_unchanged() {
    let mut f = factor();
    let before = *f.state();
    let wrong = if code(&f, T) == "123456" {
        "654321"
    } else {
        "123456"
    };
    assert!(matches!(f.verify(wrong, at(T)), Err(Error::InvalidCode)));
    assert_eq!(*f.state(), before);
}

#[test]
fn drift_window_accepts_one_step_either_side_by_default() {
    for (offset, ok) in [
        (-60i64, false),
        (-30, true),
        (0, true),
        (30, true),
        (60, false),
    ] {
        let mut f = factor();
        let device = T.checked_add_signed(offset).unwrap();
        let c = code(&f, device);
        let result = f.verify(&c, at(T));
        assert_eq!(result.is_ok(), ok, "device clock {offset:+} s");
        if let Err(e) = result {
            assert!(matches!(e, Error::InvalidCode));
        }
    }
}

#[test]
fn wider_window_accepts_more_drift_and_zero_window_only_the_current_step() {
    let mut wide = factor().with_window(2).unwrap();
    let c = code(&wide, T - 60);
    assert_eq!(wide.verify(&c, at(T)).unwrap().step(), T / 30 - 2);

    let mut exact = factor().with_window(0).unwrap();
    let c = code(&exact, T - 30);
    assert!(exact.verify(&c, at(T)).is_err());
    let c = code(&exact, T);
    assert!(exact.verify(&c, at(T)).is_ok());
}

#[test]
fn window_above_the_limit_is_a_config_error() {
    assert!(matches!(
        factor().with_window(11),
        Err(Error::Config(ConfigError::Window { max: 10 }))
    ));
}

#[test]
fn code_from_the_future_step_moves_last_used_forward() {
    let mut f = factor();
    let ahead = code(&f, T + 30);
    assert_eq!(f.verify(&ahead, at(T)).unwrap().step(), T / 30 + 1);
    // The current step's code is now older than the last used one.
    let now_code = code(&f, T);
    assert!(matches!(f.verify(&now_code, at(T)), Err(Error::ReusedCode)));
}

#[test]
fn eight_digit_sha512_factor_round_trips() {
    let params = TotpParams::default()
        .with_algorithm(Algorithm::Sha512)
        .with_digits(Digits::Eight)
        .with_period(60)
        .unwrap();
    let mut f = ActiveFactor::restore(TotpSecret::generate().unwrap(), FactorState::new(params));
    let c = code(&f, T);
    assert_eq!(c.len(), 8);
    assert_eq!(f.verify(&c, at(T)).unwrap().step(), T / 60);
    assert!(matches!(f.verify(&c[..6], at(T)), Err(Error::InvalidCode)));
}

#[test]
fn period_out_of_range_is_refused() {
    assert!(TotpParams::default().with_period(9).is_err());
    assert!(TotpParams::default().with_period(301).is_err());
    let bad = r#"{"v":1,"algorithm":"SHA1","digits":6,"period":0,"last_used_step":0}"#;
    assert!(serde_json::from_str::<FactorState>(bad).is_err());
    let bad = r#"{"v":1,"algorithm":"SHA1","digits":7,"period":30,"last_used_step":0}"#;
    assert!(serde_json::from_str::<FactorState>(bad).is_err());
    let bad = r#"{"v":2,"algorithm":"SHA1","digits":6,"period":30,"last_used_step":0}"#;
    assert!(serde_json::from_str::<FactorState>(bad).is_err());
}

#[test]
fn golden_factor_state_v1_still_loads() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/factor_state_v1.json"
    );
    let state: FactorState = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(state.params().algorithm(), Algorithm::Sha256);
    assert_eq!(state.params().digits(), Digits::Eight);
    assert_eq!(state.params().period(), 60);
    assert_eq!(state.last_used_step(), 28_333_333);
}

#[test]
fn enrolment_is_active_only_after_a_valid_first_code() {
    let pending = PendingFactor::generate("ACME", "ann", TotpParams::default()).unwrap();
    let p = *pending.params();
    let wrong = {
        let right = p.code_at(pending.secret(), at(T)).unwrap();
        if right.expose_secret() == "000000" {
            "111111"
        } else {
            "000000"
        }
    };
    assert!(matches!(
        pending.confirm(wrong, at(T)),
        Err(Error::InvalidCode)
    ));
    // Still pending: a second try with the right code works.
    let right = p.code_at(pending.secret(), at(T)).unwrap();
    let mut active = pending.confirm(right.expose_secret(), at(T)).unwrap();
    assert_eq!(active.state().last_used_step(), T / 30);
    assert_eq!(
        active.secret().expose_secret(),
        pending.secret().expose_secret()
    );
    // The confirming code cannot log in.
    assert!(matches!(
        active.verify(right.expose_secret(), at(T)),
        Err(Error::ReusedCode)
    ));
}

#[test]
fn pending_factor_restores_from_its_secret() {
    let pending = PendingFactor::generate("ACME", "ann", TotpParams::default()).unwrap();
    let sealed = pending.secret().expose_secret().to_vec();
    let again = PendingFactor::restore(
        TotpSecret::from_bytes(&sealed).unwrap(),
        "ACME",
        "ann",
        TotpParams::default(),
    )
    .unwrap();
    assert_eq!(
        again.otpauth_uri().expose_secret(),
        pending.otpauth_uri().expose_secret()
    );
    assert_eq!(again.secret_base32().len(), 32);
}

#[test]
fn secrets_and_codes_do_not_leak_through_debug() {
    let pending = PendingFactor::generate("ACME", "ann", TotpParams::default()).unwrap();
    let b32 = pending.secret_base32();
    let shown = format!("{pending:?} {:?}", pending.otpauth_uri());
    assert!(!shown.contains(b32.as_str()), "{shown}");
    assert!(shown.contains("[REDACTED]"));
    let c = pending.params().code_at(pending.secret(), at(T)).unwrap();
    assert_eq!(format!("{c:?}"), "OtpCode([REDACTED])");
}

#[test]
fn a_clock_before_1970_is_an_error() {
    let mut f = factor();
    assert!(matches!(
        f.verify("123456", UNIX_EPOCH - Duration::from_secs(1)),
        Err(Error::Clock)
    ));
}
