//! Properties over generated inputs: otpauth round trips for any printable names, and the
//! verifier accepts exactly the codes of the window, each once.

use std::time::{Duration, UNIX_EPOCH};

use proptest::prelude::*;
use rampart_mfa::{ActiveFactor, Error, FactorState, OtpauthUri, TotpParams, TotpSecret};

fn name() -> impl Strategy<Value = String> {
    // Any characters but controls, 1 to 40 of them (escaping is per byte, so this covers
    // ASCII punctuation, spaces, colons and multi-byte UTF-8 alike).
    proptest::collection::vec(
        any::<char>().prop_filter("no controls", |c| !c.is_control()),
        1..40,
    )
    .prop_map(|v| v.into_iter().collect())
}

proptest! {
    #[test]
    fn otpauth_round_trips_any_printable_names(
        issuer in proptest::option::of(name()),
        account in name(),
        secret in proptest::collection::vec(any::<u8>(), 16..=64),
    ) {
        let s = TotpSecret::from_bytes(&secret).unwrap();
        let uri = OtpauthUri::new(issuer.as_deref(), &account, s, TotpParams::default()).unwrap();
        let text = uri.to_uri();
        prop_assert!(text.expose_secret().is_ascii());
        let back = OtpauthUri::parse(text.expose_secret()).unwrap();
        prop_assert_eq!(back.issuer(), issuer.as_deref());
        prop_assert_eq!(back.account(), account.as_str());
        prop_assert_eq!(back.secret().expose_secret(), &secret[..]);
    }

    #[test]
    fn codes_within_the_window_are_accepted_once_and_outside_refused(
        secret in proptest::collection::vec(any::<u8>(), 20..=20),
        now in 1_000_000_000u64..4_000_000_000,
        drift in -3i64..=3,
    ) {
        let s = TotpSecret::from_bytes(&secret).unwrap();
        let params = TotpParams::default();
        let at = |t: u64| UNIX_EPOCH + Duration::from_secs(t);
        let device = now.checked_add_signed(drift * 30).unwrap();
        let code = params.code_at(&s, at(device)).unwrap();
        let mut f = ActiveFactor::restore(s, FactorState::new(params));
        let result = f.verify(code.expose_secret(), at(now));
        if drift.abs() <= 1 {
            prop_assert_eq!(result.unwrap().step(), device / 30);
            prop_assert!(matches!(f.verify(code.expose_secret(), at(now)), Err(Error::ReusedCode)));
        } else {
            // A code two or more steps away matches a window step only by a 6-digit
            // collision (about 3 in a million): allowed, but then it is a valid code.
            if let Ok(accepted) = result {
                prop_assert!(accepted.step().abs_diff(now / 30) <= 1);
            }
        }
    }
}
