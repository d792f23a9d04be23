//! Real tools the tests drive (`redis-server`, `xmlsec1`, `script`...): a missing one is a
//! loud skip on a developer's machine and a failure under `CI=true`, where `.ci/run` installs
//! every one of them.

use std::process::Command;

/// True when `CI=true`: a missing tool fails the test instead of skipping it.
///
/// ```
/// let _ = rampart_testkit::tool::in_ci();
/// ```
#[must_use]
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Says loudly that `what` is missing and the calling test did not run; panics under
/// `CI=true`.
///
/// ```no_run
/// rampart_testkit::tool::missing("pg_ctl"); // prints the banner, or panics under CI=true
/// ```
pub fn missing(what: &str) {
    assert!(
        !in_ci(),
        "{what} is required under CI=true but was not found"
    );
    eprintln!("\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
    eprintln!("!!! SKIPPED: {what} not found; install it to run this test.");
    eprintln!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n");
}

/// Runs `cmd` to completion and returns its standard output; panics, naming the command and
/// quoting what it printed, if it cannot start or exits unsuccessfully.
///
/// ```
/// let out = rampart_testkit::tool::run(std::process::Command::new("echo").arg("hi"));
/// assert_eq!(out, b"hi\n");
/// ```
///
/// # Panics
/// When the command does not start or does not succeed.
#[track_caller]
pub fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?} did not start: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Whether `program` runs (`program --version` starts); if not, [`missing`] is called, so
/// the caller can `return` on `false`.
///
/// ```
/// if !rampart_testkit::tool::available("sh") {
///     return; // skipped loudly (or failed under CI=true)
/// }
/// ```
#[must_use]
pub fn available(program: &str) -> bool {
    let ok = Command::new(program).arg("--version").output().is_ok();
    if !ok {
        missing(program);
    }
    ok
}
