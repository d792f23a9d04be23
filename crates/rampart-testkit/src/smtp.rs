//! An SMTP server of the test's own: python3's `aiosmtpd` on a free loopback port, saving
//! every message it accepts to a maildir in a temporary directory, killed on drop. Tests of
//! mail notifications check the message on the receiving side, as a relay would pass it on.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::tool;

/// A running `python3 -m aiosmtpd` with a maildir.
///
/// ```no_run
/// use std::time::Duration;
/// if let Some(smtp) = rampart_testkit::SmtpServer::start() {
///     // ... send to 127.0.0.1:smtp.port() ...
///     let mails = smtp.wait_for_messages(1, Duration::from_secs(10));
///     assert!(mails[0].contains("X-RcptTo: owner@example.com"));
/// }
/// ```
#[derive(Debug)]
pub struct SmtpServer {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

/// A python3 that can import aiosmtpd (PATH first, then the system one).
fn python_with_aiosmtpd() -> Option<&'static str> {
    ["python3", "/usr/bin/python3"].into_iter().find(|py| {
        Command::new(py)
            .args(["-c", "import aiosmtpd"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

impl SmtpServer {
    /// Starts one and waits until it accepts connections, or returns `None` after a loud skip
    /// message when no python3 with aiosmtpd is installed (a panic under `CI=true`).
    ///
    /// # Panics
    /// When the server does not come up within 10 s.
    #[must_use]
    pub fn start() -> Option<Self> {
        let Some(py) = python_with_aiosmtpd() else {
            tool::missing("python3 with aiosmtpd");
            return None;
        };
        let dir = tempfile::tempdir().expect("temporary directory");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let child = Command::new(py)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(dir.path().join("mail"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn aiosmtpd");
        let server = SmtpServer { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not come up");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(server)
    }

    /// Its port on 127.0.0.1 (plain SMTP, no TLS, no authentication).
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:PORT`.
    #[must_use]
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn maildir(&self) -> PathBuf {
        self.dir.path().join("mail")
    }

    /// Every message received so far, raw (aiosmtpd adds `X-MailFrom`, `X-RcptTo`,
    /// `X-Peer` headers), with header folding and quoted-printable soft line breaks undone
    /// so that assertions see plain lines.
    ///
    /// # Panics
    /// When a saved message cannot be read.
    #[must_use]
    pub fn received(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.maildir().join("new")) else {
            return Vec::new();
        };
        entries
            .map(|e| std::fs::read_to_string(e.expect("maildir entry").path()).expect("message"))
            .map(|raw| unfold(&raw))
            .collect()
    }

    /// [`received`](Self::received), once at least `count` messages arrived or `timeout`
    /// passed (delivery is over the network: the caller asserts on what it gets).
    #[must_use]
    pub fn wait_for_messages(&self, count: usize, timeout: Duration) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let mails = self.received();
            if mails.len() >= count || Instant::now() >= deadline {
                return mails;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A raw message with header folding and quoted-printable soft line breaks undone, as
/// [`SmtpServer::received`] returns them (for messages built without a server, too).
///
/// ```
/// let raw = "Subject: a long\r\n subject\r\n\r\nbody that wr=\r\naps";
/// assert_eq!(rampart_testkit::smtp::unfold(raw), "Subject: a long subject\r\n\r\nbody that wraps");
/// ```
#[must_use]
pub fn unfold(raw: &str) -> String {
    raw.replace("=\r\n", "")
        .replace("=\n", "")
        .replace("\r\n ", " ")
        .replace("\n ", " ")
}
