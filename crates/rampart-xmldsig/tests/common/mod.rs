//! Helpers shared by the integration tests: finding real tools, a small deterministic RNG.
#![allow(dead_code)]

use std::process::Command;

pub(crate) mod generate;

pub(crate) use rampart_testkit::tool::missing;

/// Every distinct python3 that can `import lxml`, with the libxml2 version lxml runs on:
/// Debian's /usr/bin/python3 (python3-lxml on the system libxml2, the one xmlsec1 uses) and
/// the one on PATH (often a PyPI wheel bundling a newer libxml2). Comparing against both
/// holds us to old and new libxml2 alike. Debian's is required under `CI=true`.
pub(crate) fn pythons_with_lxml() -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = Vec::new();
    for candidate in ["/usr/bin/python3", "python3"] {
        let Ok(o) = Command::new(candidate)
            .args([
                "-c",
                "import sys, lxml.etree as e; print(sys.executable, '.'.join(map(str, e.LIBXML_VERSION)))",
            ])
            .output()
        else {
            continue;
        };
        if !o.status.success() {
            continue;
        }
        let out = String::from_utf8_lossy(&o.stdout).trim_ascii().to_owned();
        let (exe, version) = out.rsplit_once(' ').unwrap_or((candidate, "?"));
        let exe = std::fs::canonicalize(exe).map_or(exe.to_owned(), |p| p.display().to_string());
        if !found.iter().any(|(e, _)| *e == exe) {
            found.push((exe, version.to_owned()));
        }
    }
    if !found.iter().any(|(e, _)| e.starts_with("/usr/bin/")) {
        missing("Debian's python3 with lxml (package python3-lxml)");
    }
    if found.is_empty() {
        missing("python3 with lxml (Debian package python3-lxml)");
    }
    found
}

/// The xmlsec1 binary, if installed.
pub(crate) fn xmlsec1() -> Option<&'static str> {
    let ok = Command::new("xmlsec1")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        Some("xmlsec1")
    } else {
        missing("xmlsec1 (Debian package xmlsec1)");
        None
    }
}

/// xorshift64*: deterministic, so a failing generated document can be reproduced.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub(crate) fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap()
    }
    pub(crate) fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}
