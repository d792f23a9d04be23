//! Helpers shared by the integration tests: finding real tools, a small deterministic RNG.
#![allow(dead_code)]

use std::process::Command;

pub(crate) mod generate;

/// True under CI, where a missing tool is a failure, not a skip.
pub(crate) fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Skips loudly (or panics under `CI=true`) because `what` is missing.
pub(crate) fn missing(what: &str) {
    assert!(
        !in_ci(),
        "{what} is required under CI=true but was not found"
    );
    eprintln!("\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
    eprintln!("!!! SKIPPED: {what} not found; this test did not run.");
    eprintln!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n");
}

/// A python3 that can `import lxml`: the one on PATH, else Debian's /usr/bin/python3.
pub(crate) fn python_with_lxml() -> Option<String> {
    for candidate in ["python3", "/usr/bin/python3"] {
        let ok = Command::new(candidate)
            .args(["-c", "import lxml.etree"])
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return Some(candidate.to_owned());
        }
    }
    missing("python3 with lxml (Debian package python3-lxml)");
    None
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
