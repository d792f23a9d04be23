//! The test SP/IdP of rampart-saml as the `saml` and `saml_logout` CLI tests use it: names,
//! times, fixture files and the runs both make.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::Output;

use serde_json::Value;

use super::{json_stdout, rampart};

pub(crate) const SP_ENTITY: &str = "https://sp.example.com/metadata";
pub(crate) const ACS: &str = "https://sp.example.com/saml/acs";
pub(crate) const IDP_ENTITY: &str = "https://idp.example.com/metadata";
/// Inside the fixtures' validity window.
pub(crate) const NOW: &str = "2030-01-01T00:01:00Z";

/// `tests/fixtures/<name>` of this crate.
pub(crate) fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The text of `tests/fixtures/<name>`.
pub(crate) fn read(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).unwrap()
}

/// `saml metadata` for the test SP with `extra` arguments.
pub(crate) fn metadata(extra: &[&OsStr]) -> Output {
    rampart()
        .args([
            "saml",
            "metadata",
            "--sp-entity-id",
            SP_ENTITY,
            "--acs-url",
            ACS,
        ])
        .args(extra)
        .output()
        .unwrap()
}

/// Asserts a verification refused with exit code 1 and `"valid": false, "error": kind`;
/// returns the JSON.
pub(crate) fn assert_refused(out: &Output, kind: &str) -> Value {
    super::assert_exit(out, 1);
    let json = json_stdout(out);
    assert_eq!(json["valid"], false);
    assert_eq!(json["error"], kind, "{json}");
    json
}
