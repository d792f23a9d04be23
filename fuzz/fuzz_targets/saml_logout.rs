#![no_main]
//! Single Logout parsers on arbitrary bytes: the HTTP-Redirect query string (split, URL and
//! base64 decoding, bounded inflate, XML, reading, both with and without the signature
//! check) and the HTTP-POST form value. Must never panic, and must never accept a message
//! the test IdP did not sign.
//!
//! The first byte picks the input kind (`Q` query string, `P` POST form value, anything else
//! the XML of a message); the rest is the input.

use libfuzzer_sys::fuzz_target;
use rampart_saml::{LogoutSession, NameId};

#[path = "common/saml_sp.rs"]
mod saml_sp;
use saml_sp::{IDP_ENTITY, now, sp};

const SLO: &str = "https://sp.example.com/saml/slo";

fuzz_target!(|data: &[u8]| {
    let now = now();
    let slo = sp().single_logout(SLO);
    let session = LogoutSession::new(NameId::new("alice@example.com")).with_session_index("_s1");
    let Some((&kind, rest)) = data.split_first() else {
        return;
    };
    match kind {
        b'Q' => {
            let Ok(query) = std::str::from_utf8(rest) else {
                return;
            };
            rampart_saml::fuzz_redirect(query);
            if let Ok(v) = slo.validate_logout_request_redirect(query, &session, now) {
                let r = v.into_request_without_replay_check();
                assert_eq!(r.issuer(), IDP_ENTITY);
            }
            let _ = slo.validate_logout_response_redirect(query, "_ours", now);
        }
        b'P' => {
            if let Ok(v) = slo.validate_logout_request_post(rest, None, &session, now) {
                let r = v.into_request_without_replay_check();
                assert_eq!(r.issuer(), IDP_ENTITY);
            }
            let _ = slo.validate_logout_response_post(rest, "_ours", now);
        }
        _ => rampart_saml::fuzz_xml(rest),
    }
});
