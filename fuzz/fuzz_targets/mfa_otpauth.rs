#![no_main]
//! otpauth URI parsing and base32 secret parsing on arbitrary input: never panics, and
//! whatever parses round-trips through our own URI (a canonical form that parses back to
//! the same issuer, account, secret and parameters).
use libfuzzer_sys::fuzz_target;
use rampart_mfa::{OtpauthUri, TotpSecret};

fuzz_target!(|data: &[u8]| {
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

    if let Ok(secret) = TotpSecret::from_base32(&text) {
        let b32 = secret.to_base32();
        // Canonical: the same text, upper-cased, without trailing padding.
        assert_eq!(
            b32.as_str(),
            text.trim_end_matches('=').to_ascii_uppercase()
        );
        let back = TotpSecret::from_base32(&b32).expect("our own base32 parses");
        assert_eq!(back.expose_secret(), secret.expose_secret());
    }
});
