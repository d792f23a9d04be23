//! SoftHSM2 tokens of the test's own, in a temporary directory.
//!
//! SoftHSM reads its configuration (where tokens live) from `SOFTHSM2_CONF` once, when the
//! module is initialized, and a process initializes a PKCS#11 module once. Setting a
//! variable in our own process needs `unsafe` (edition 2024), which every crate here
//! forbids, so a test (or an example, or a bench) runs itself again as a child process with
//! the variable set: [`SoftHsm::for_test`] and [`SoftHsm::reexec`]. Commands the test
//! starts (the CLI) get the variable through [`SoftHsm::env`].

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::tool;

/// Where Debian's `softhsm2` package installs the module.
pub const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
/// The variable SoftHSM2 reads its configuration file from.
pub const CONF_ENV: &str = "SOFTHSM2_CONF";
/// Set in a re-executed child: the configuration it runs under (and that it is the child).
const CHILD_ENV: &str = "RAMPART_TESTKIT_SOFTHSM_CHILD";
/// The Security Officer PIN of every token made here.
const SO_PIN: &str = "12345678";

/// A SoftHSM2 token directory and its configuration file.
#[derive(Debug)]
pub struct SoftHsm {
    conf: PathBuf,
    dir: PathBuf,
    _owned: Option<tempfile::TempDir>,
}

impl SoftHsm {
    /// A fresh token directory for commands this process starts (pass [`SoftHsm::env`] to
    /// them), or `None` after a loud skip when `softhsm2-util` or the module is missing (a
    /// panic under `CI=true`).
    ///
    /// ```
    /// if let Some(hsm) = rampart_testkit::SoftHsm::start() {
    ///     hsm.init_token("demo", "1234");
    ///     assert!(hsm.conf().is_file());
    /// }
    /// ```
    ///
    /// # Panics
    /// When the temporary directory cannot be written.
    #[must_use]
    pub fn start() -> Option<Self> {
        if !installed() {
            return None;
        }
        let tmp = tempfile::tempdir().expect("temporary directory");
        let dir = tmp.path().join("tokens");
        std::fs::create_dir(&dir).expect("token directory");
        let conf = tmp.path().join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n",
                dir.display()
            ),
        )
        .expect("softhsm2.conf");
        Some(Self {
            conf,
            dir,
            _owned: Some(tmp),
        })
    }

    /// In a test: `Some` in the child process this call starts (with `SOFTHSM2_CONF` set to a
    /// fresh token directory), where the test body runs; `None` in the parent, after the
    /// child ran `test_name` and passed (a failing child fails the parent), and `None` after
    /// a loud skip when SoftHSM2 is missing. `test_name` is the test's path within its
    /// binary (`my_test`, or `module::my_test`).
    ///
    /// ```no_run
    /// #[test]
    /// fn hsm_test() {
    ///     let Some(hsm) = rampart_testkit::SoftHsm::for_test("hsm_test") else { return };
    ///     hsm.init_token("t", "1234");
    ///     // ... use the module at rampart_testkit::softhsm::MODULE
    /// }
    /// ```
    ///
    /// # Panics
    /// When the child fails or did not run exactly one test.
    #[must_use]
    pub fn for_test(test_name: &str) -> Option<Self> {
        if let Some(child) = Self::in_child() {
            return Some(child);
        }
        let hsm = Self::start()?;
        let exe = std::env::current_exe().expect("current test binary");
        let out = Command::new(exe)
            .args([test_name, "--exact", "--nocapture", "--test-threads", "1"])
            .envs(hsm.env())
            .env(CHILD_ENV, &hsm.conf)
            .stdin(Stdio::null())
            .output()
            .expect("re-run the test binary");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        print!("{stdout}");
        eprint!("{stderr}");
        assert!(out.status.success(), "{test_name} failed under SoftHSM2");
        assert!(
            stdout.contains("1 passed"),
            "{test_name}: the child ran no test (is the name exact?)"
        );
        None
    }

    /// For an example or a bench (a `main`): in the parent, runs this program again with the
    /// same arguments and `SOFTHSM2_CONF` set, then exits with its status; in that child,
    /// returns the token directory. `None` after a loud skip when SoftHSM2 is missing (a
    /// panic under `CI=true`).
    ///
    /// ```no_run
    /// let Some(hsm) = rampart_testkit::SoftHsm::reexec() else { return };
    /// hsm.init_token("demo", "1234");
    /// ```
    ///
    /// # Panics
    /// When the program cannot be started again.
    #[must_use]
    pub fn reexec() -> Option<Self> {
        if let Some(child) = Self::in_child() {
            return Some(child);
        }
        let hsm = Self::start()?;
        let exe = std::env::current_exe().expect("current executable");
        let status = Command::new(exe)
            .args(std::env::args_os().skip(1))
            .envs(hsm.env())
            .env(CHILD_ENV, &hsm.conf)
            .status()
            .expect("re-run the program");
        drop(hsm);
        std::process::exit(status.code().unwrap_or(1));
    }

    fn in_child() -> Option<Self> {
        let conf = PathBuf::from(std::env::var_os(CHILD_ENV)?);
        let dir = conf.parent().expect("conf has a parent").join("tokens");
        Some(Self {
            conf,
            dir,
            _owned: None,
        })
    }

    /// The configuration file.
    #[must_use]
    pub fn conf(&self) -> &Path {
        &self.conf
    }

    /// The variables a command needs to see these tokens.
    #[must_use]
    pub fn env(&self) -> Vec<(&'static str, PathBuf)> {
        vec![(CONF_ENV, self.conf.clone())]
    }

    /// Creates a token labelled `label` with user PIN `pin` in the first free slot.
    ///
    /// # Panics
    /// When `softhsm2-util` fails.
    pub fn init_token(&self, label: &str, pin: &str) {
        let out = Command::new("softhsm2-util")
            .args([
                "--init-token",
                "--free",
                "--label",
                label,
                "--so-pin",
                SO_PIN,
                "--pin",
                pin,
            ])
            .env(CONF_ENV, &self.conf)
            .stdin(Stdio::null())
            .output()
            .expect("softhsm2-util");
        assert!(
            out.status.success(),
            "softhsm2-util --init-token failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Writes `pin` to a file (mode 0600) beside the tokens and returns its path.
    ///
    /// # Panics
    /// When the file cannot be written.
    #[must_use]
    pub fn pin_file(&self, name: &str, pin: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt as _;
        let path = self.dir.parent().expect("tokens has a parent").join(name);
        std::fs::write(&path, format!("{pin}\n")).expect("pin file");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .expect("chmod pin file");
        path
    }

    /// `pkcs11:token=<token>;object=<object>?module-path=<MODULE>&pin-source=file:<pin_file>`
    /// (labels must not need percent-encoding).
    #[must_use]
    pub fn uri(token: &str, object: &str, pin_file: &Path) -> String {
        format!(
            "pkcs11:token={token};object={object}?module-path={MODULE}&pin-source=file:{}",
            pin_file.display()
        )
    }
}

fn installed() -> bool {
    if !tool::available("softhsm2-util") {
        return false;
    }
    if !Path::new(MODULE).is_file() {
        tool::missing(MODULE);
        return false;
    }
    true
}
