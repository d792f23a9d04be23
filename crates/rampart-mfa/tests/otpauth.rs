//! otpauth URIs: building, escaping, round trips, and the parser's refusals.

use rampart_mfa::{
    Algorithm, Digits, Error, OtpauthUri, SecretError, TotpParams, TotpSecret, UriError,
};

const SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

fn secret() -> TotpSecret {
    TotpSecret::from_base32(SECRET).unwrap()
}

fn build(issuer: Option<&str>, account: &str, params: TotpParams) -> String {
    OtpauthUri::new(issuer, account, secret(), params)
        .unwrap()
        .to_uri()
        .expose_secret()
        .to_owned()
}

#[test]
fn uri_has_every_parameter() {
    assert_eq!(
        build(Some("ACME"), "ann", TotpParams::default()),
        format!(
            "otpauth://totp/ACME:ann?secret={SECRET}&issuer=ACME&algorithm=SHA1&digits=6&period=30"
        )
    );
    let params = TotpParams::default()
        .with_algorithm(Algorithm::Sha512)
        .with_digits(Digits::Eight)
        .with_period(60)
        .unwrap();
    assert!(build(Some("ACME"), "ann", params).ends_with("&algorithm=SHA512&digits=8&period=60"));
}

#[test]
fn spaces_colons_and_reserved_characters_are_escaped() {
    let uri = build(
        Some("ACME: Corp & Co"),
        "ann:smith@example.com?#/",
        TotpParams::default(),
    );
    assert_eq!(
        uri,
        format!(
            "otpauth://totp/ACME%3A%20Corp%20%26%20Co:ann%3Asmith%40example.com%3F%23%2F\
             ?secret={SECRET}&issuer=ACME%3A%20Corp%20%26%20Co&algorithm=SHA1&digits=6&period=30"
        )
    );
    // Exactly one literal colon (the separator) and one '?'.
    let (label, _) = uri["otpauth://totp/".len()..].split_once('?').unwrap();
    assert_eq!(label.matches(':').count(), 1);
}

#[test]
fn unicode_is_escaped_as_utf8() {
    let uri = build(
        Some("Société Générale"),
        "zoë@例え.jp",
        TotpParams::default(),
    );
    assert!(uri.starts_with(
        "otpauth://totp/Soci%C3%A9t%C3%A9%20G%C3%A9n%C3%A9rale:zo%C3%AB%40%E4%BE%8B%E3%81%88.jp?"
    ));
    assert!(uri.is_ascii());
}

#[test]
fn round_trip_keeps_issuer_account_secret_and_params() {
    let names = [
        (Some("ACME"), "ann"),
        (Some("ACME Co"), "ann smith"),
        (Some("a:b"), "c:d:e"),
        (Some("Société"), "zoë 例え"),
        (Some("100% + more"), "x+y=z&w"),
        (None, "just:account"),
        (Some(" lead"), " spaced "),
    ];
    let params = TotpParams::default()
        .with_algorithm(Algorithm::Sha256)
        .with_digits(Digits::Eight)
        .with_period(45)
        .unwrap();
    for (issuer, account) in names {
        let text = build(issuer, account, params);
        let back = OtpauthUri::parse(&text).unwrap();
        assert_eq!(back.issuer(), issuer, "{text}");
        assert_eq!(back.account(), account, "{text}");
        assert_eq!(back.secret().expose_secret(), secret().expose_secret());
        assert_eq!(*back.params(), params);
        assert_eq!(back.to_uri().expose_secret(), text);
    }
}

#[test]
fn google_style_uris_from_other_tools_parse() {
    let uri = OtpauthUri::parse(&format!(
        "OTPAUTH://TOTP/Example:alice@google.com?secret={}&issuer=Example&image=https%3A%2F%2Fx",
        SECRET.to_lowercase()
    ))
    .unwrap();
    assert_eq!(uri.issuer(), Some("Example"));
    assert_eq!(uri.account(), "alice@google.com");
    assert_eq!(*uri.params(), TotpParams::default());
    // Issuer only as a parameter; space after the label colon; '+' in a value is a space.
    let uri = OtpauthUri::parse(&format!(
        "otpauth://totp/Big%20Corp:%20bob?secret={SECRET}&issuer=Big+Corp&algorithm=sha256"
    ))
    .unwrap();
    assert_eq!(uri.issuer(), Some("Big Corp"));
    assert_eq!(uri.account(), " bob", "escaped spaces are kept");
    let uri = OtpauthUri::parse(&format!("otpauth://totp/Big:  bob?secret={SECRET}")).unwrap();
    assert_eq!(
        uri.account(),
        "bob",
        "literal spaces after the colon are skipped"
    );
    let uri = OtpauthUri::parse(&format!("otpauth://totp/bob?secret={SECRET}&issuer=Big")).unwrap();
    assert_eq!((uri.issuer(), uri.account()), (Some("Big"), "bob"));
    assert_eq!(uri.params().algorithm(), Algorithm::Sha1);
}

#[test]
fn parser_rejects_bad_inputs_with_typed_errors() {
    let s = SECRET;
    let cases: Vec<(String, UriError)> = vec![
        ("https://totp/a?secret=x".into(), UriError::Scheme),
        ("otpauth:/totp/a".into(), UriError::Scheme),
        ("".into(), UriError::Scheme),
        (
            format!("otpauth://hotp/a?secret={s}&counter=1"),
            UriError::NotTotp,
        ),
        (format!("otpauth://xotp/a?secret={s}"), UriError::Malformed),
        ("otpauth://totp".into(), UriError::Malformed),
        (
            format!("otpauth://totp/a?secret={s}#frag"),
            UriError::Malformed,
        ),
        ("otpauth://totp/a".into(), UriError::MissingSecret),
        ("otpauth://totp/a?issuer=b".into(), UriError::MissingSecret),
        (format!("otpauth://totp/?secret={s}"), UriError::Label),
        (format!("otpauth://totp/ACME:?secret={s}"), UriError::Label),
        (format!("otpauth://totp/:ann?secret={s}"), UriError::Label),
        (format!("otpauth://totp/a%0Ab?secret={s}"), UriError::Label),
        (
            format!("otpauth://totp/{}?secret={s}", "a".repeat(257)),
            UriError::Label,
        ),
        (
            format!("otpauth://totp/a%zz?secret={s}"),
            UriError::BadEscape,
        ),
        (
            format!("otpauth://totp/a%C3?secret={s}"),
            UriError::BadEscape,
        ),
        (format!("otpauth://totp/a?secret={s}%"), UriError::BadEscape),
        (
            format!("otpauth://totp/a?secret={s}&secret={s}"),
            UriError::DuplicateParameter { name: "secret" },
        ),
        (
            format!("otpauth://totp/a?secret={s}&digits=6&digits=6"),
            UriError::DuplicateParameter { name: "digits" },
        ),
        (
            format!("otpauth://totp/A:b?secret={s}&issuer=B"),
            UriError::IssuerMismatch,
        ),
        (
            format!("otpauth://totp/a?secret={s}&algorithm=MD5"),
            UriError::Algorithm,
        ),
        (
            format!("otpauth://totp/a?secret={s}&digits=7"),
            UriError::Digits,
        ),
        (
            format!("otpauth://totp/a?secret={s}&digits=06"),
            UriError::Digits,
        ),
        (
            format!("otpauth://totp/a?secret={s}&period=0"),
            UriError::Period,
        ),
        (
            format!("otpauth://totp/a?secret={s}&period=-30"),
            UriError::Period,
        ),
        (
            format!("otpauth://totp/a?secret={s}&period=99999999999"),
            UriError::Period,
        ),
        (
            format!("otpauth://totp/a?secret={s}&period=3600"),
            UriError::Period,
        ),
        (
            "otpauth://totp/a?secret=".into(),
            UriError::Secret(SecretError::TooShort { min: 16 }),
        ),
        (
            "otpauth://totp/a?secret=GEZDGNBV".into(),
            UriError::Secret(SecretError::TooShort { min: 16 }),
        ),
        (
            "otpauth://totp/a?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ1".into(),
            UriError::Secret(SecretError::Base32),
        ),
        (
            format!("otpauth://totp/a?secret={}", "A".repeat(2000)),
            UriError::Secret(SecretError::TooLong { max: 128 }),
        ),
        (
            format!("otpauth://totp/a?secret={s}&x={}", "y".repeat(4096)),
            UriError::TooLong { max: 4096 },
        ),
    ];
    for (text, want) in cases {
        let got = OtpauthUri::parse(&text).unwrap_err();
        assert_eq!(got, want, "{text}");
    }
}

#[test]
fn errors_never_echo_the_secret_or_the_uri() {
    let secret_text = "MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43UOV3HO6DZ";
    let bad = [
        format!("otpauth://totp/a?secret={secret_text}1"),
        format!("otpauth://totp/a?secret={secret_text}&algorithm=MD5{secret_text}"),
        format!("otpauth://totp/A{secret_text}:b?secret={secret_text}&issuer=B"),
        format!("otpauth://hotp/a?secret={secret_text}"),
    ];
    for text in bad {
        let err = OtpauthUri::parse(&text).unwrap_err();
        let shown = format!("{err} {err:?} {}", Error::from(err));
        assert!(!shown.contains(&secret_text[..8]), "{shown}");
    }
}

#[test]
fn builder_refuses_empty_or_control_character_names() {
    for (issuer, account) in [
        (Some(""), "ann"),
        (Some("ACME"), ""),
        (Some("a\nb"), "ann"),
        (None, "a\u{7f}"),
    ] {
        assert!(matches!(
            OtpauthUri::new(issuer, account, secret(), TotpParams::default()),
            Err(Error::Config(_))
        ));
    }
}

#[test]
fn qr_code_is_rendered_and_too_long_uris_are_a_typed_error() {
    let uri = OtpauthUri::new(Some("ACME"), "ann", secret(), TotpParams::default())
        .unwrap()
        .to_uri();
    let svg = uri.qr_svg().unwrap();
    assert!(svg.contains("<svg"));
    let text = uri.qr_terminal().unwrap();
    assert!(text.lines().count() > 10);
    // 256 bytes of issuer and account each, all escaped (x3), plus a 128-byte secret:
    // over what a QR code holds at level M.
    let big = "é".repeat(128);
    let long = TotpSecret::from_bytes(&[7; 128]).unwrap();
    let uri = OtpauthUri::new(Some(&big), &big, long, TotpParams::default())
        .unwrap()
        .to_uri();
    assert!(matches!(uri.qr_svg(), Err(Error::QrTooLong)));
}

/// What the fuzz target asserts, for crash inputs kept as regression tests.
fn fuzz_round_trip(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(uri) = OtpauthUri::parse(&text) {
        let built = uri.to_uri();
        let again = OtpauthUri::parse(built.expose_secret()).expect("our own uri parses");
        assert_eq!(again.issuer(), uri.issuer());
        assert_eq!(again.account(), uri.account());
        assert_eq!(again.secret().expose_secret(), uri.secret().expose_secret());
        assert_eq!(again.params(), uri.params());
        assert_eq!(again.to_uri().expose_secret(), built.expose_secret());
    }
}

#[test]
fn fuzz_crash_inputs_round_trip() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/fuzz");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        fuzz_round_trip(&std::fs::read(&path).unwrap());
        n += 1;
    }
    assert!(n >= 1);
}

#[test]
fn longest_names_and_secret_build_a_uri_the_parser_accepts() {
    // The fuzzer found non-ASCII names whose escaped form passed the old 2048-byte limit.
    for unit in ["\u{fffd}", "\u{10ffff}", "%", "a"] {
        let name: String = std::iter::repeat_n(unit, 256 / unit.len()).collect();
        let long = TotpSecret::from_bytes(&[0xff; 128]).unwrap();
        let uri = OtpauthUri::new(Some(&name), &name, long, TotpParams::default()).unwrap();
        let text = uri.to_uri();
        assert!(text.expose_secret().len() <= rampart_mfa::MAX_URI_LEN);
        let back = OtpauthUri::parse(text.expose_secret()).unwrap();
        assert_eq!(back.account(), name);
    }
}
