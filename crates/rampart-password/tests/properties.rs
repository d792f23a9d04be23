//! Property tests: round trips, tamper detection, and parsers that never panic.

use proptest::prelude::*;
use rampart_password::{Hasher, Params, Password, Verdict, inspect};

fn hasher() -> Hasher {
    Hasher::builder()
        .with_params(Params::new(8, 1, 1).unwrap())
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_password_round_trips(p in "\\PC{0,40}") {
        let h = hasher();
        let stored = h.hash(&Password::new(p.clone())).unwrap();
        prop_assert_eq!(h.verify(&Password::new(p), &stored).unwrap(), Verdict::Valid);
    }

    #[test]
    fn a_different_password_is_invalid(p in "[a-z]{1,20}", q in "[A-Z0-9]{1,20}") {
        let h = hasher();
        let stored = h.hash(&Password::new(p)).unwrap();
        prop_assert_eq!(h.verify(&Password::new(q), &stored).unwrap(), Verdict::Invalid);
    }

    #[test]
    fn parsing_arbitrary_text_never_panics(s in "\\PC{0,200}") {
        let _ = inspect(&s);
        let _ = hasher().verify(&Password::new("pw"), &s);
    }

    #[test]
    fn parsing_phc_shaped_text_never_panics(
        alg in prop::sample::select(vec!["argon2id", "argon2i", "argon2d", "scrypt", "pbkdf2-sha256", "pbkdf2-sha512", "2b", "x"]),
        params in "[a-z]{1,5}=[0-9A-Za-z+/]{0,12}(,[a-z]{1,5}=[0-9A-Za-z]{0,12}){0,4}",
        salt in "[A-Za-z0-9+/.]{0,30}",
        out in "[A-Za-z0-9+/.]{0,50}",
    ) {
        let s = format!("${alg}$v=19${params}${salt}${out}");
        let _ = inspect(&s);
        // Verification must end in a typed result; caps keep any accepted costs small.
        let _ = hasher().verify(&Password::new("pw"), &s);
    }

    #[test]
    fn flipping_any_output_character_breaks_the_match(idx in 0usize..43, c in "[A-Za-z0-9+/]") {
        let h = hasher();
        let stored = h.hash(&Password::new("pw")).unwrap();
        let (head, out) = stored.rsplit_once('$').unwrap();
        let mut chars: Vec<char> = out.chars().collect();
        let c = c.chars().next().unwrap();
        prop_assume!(idx < chars.len() - 1 && chars[idx] != c);
        chars[idx] = c;
        let tampered = format!("{head}${}", chars.into_iter().collect::<String>());
        prop_assert_eq!(h.verify(&Password::new("pw"), &tampered).unwrap(), Verdict::Invalid);
    }
}
