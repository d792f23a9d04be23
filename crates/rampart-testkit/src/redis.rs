//! A `redis-server` of the test's own, on a unix socket in a temporary directory: no port to
//! collide with, nothing persisted, killed on drop. Tests stop, freeze and restart it to check
//! that an outage loses nothing.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::tool;

/// A running `redis-server`; see the [crate docs](crate) for an example.
#[derive(Debug)]
pub struct RedisServer {
    child: Option<Child>,
    dir: tempfile::TempDir,
    durable: bool,
}

impl RedisServer {
    /// Starts one and waits until it accepts connections, or returns `None` after a loud skip
    /// message when `redis-server` is not installed (a panic under `CI=true`).
    ///
    /// # Panics
    /// When the server does not come up within 10 s.
    #[must_use]
    pub fn start() -> Option<Self> {
        Self::start_with(false)
    }

    /// Like [`start`](Self::start), with every write in an append-only file synced before
    /// the reply (`appendfsync always`): what survives a SIGKILL and [`restart`](Self::restart),
    /// as a production Redis holding security state is configured.
    ///
    /// # Panics
    /// When the server does not come up within 10 s.
    #[must_use]
    pub fn start_durable() -> Option<Self> {
        Self::start_with(true)
    }

    fn start_with(durable: bool) -> Option<Self> {
        if !tool::available("redis-server") {
            return None;
        }
        let mut server = RedisServer {
            child: None,
            dir: tempfile::tempdir().expect("temporary directory"),
            durable,
        };
        server.spawn();
        Some(server)
    }

    /// The unix socket it listens on.
    #[must_use]
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("redis.sock")
    }

    /// `redis+unix://<socket>`, for the `redis` crate.
    #[must_use]
    pub fn url(&self) -> String {
        format!("redis+unix://{}", self.socket().display())
    }

    fn spawn(&mut self) {
        let sock = self.socket();
        let _ = std::fs::remove_file(&sock);
        let child = Command::new("redis-server")
            .args(["--port", "0", "--unixsocket"])
            .arg(&sock)
            .args(["--save", ""])
            .args(if self.durable {
                ["--appendonly", "yes", "--appendfsync", "always"]
            } else {
                ["--appendonly", "no", "--appendfsync", "no"]
            })
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        // Accepting a connection is not enough: a durable server replaying its append-only
        // file answers `-LOADING` until it is done.
        while !answers_ping(&sock) {
            assert!(Instant::now() < deadline, "redis-server did not come up");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the server with SIGKILL (an outage, nothing flushed) and removes its socket.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_file(self.socket());
    }

    /// Sends `sig` (`-STOP` freezes: a server that accepts nothing; `-CONT` thaws it).
    ///
    /// # Panics
    /// When the server is not running or `kill` fails.
    pub fn signal(&self, sig: &str) {
        let pid = self.child.as_ref().expect("running").id().to_string();
        let ok = Command::new("kill")
            .args([sig, &pid])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill {sig} {pid}");
    }

    /// Kills it and starts it again on the same socket: scripts must be loaded again; keys
    /// are gone, unless it was started [durable](Self::start_durable).
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Whether the server on `sock` answers an inline `PING` with `+PONG`.
fn answers_ping(sock: &std::path::Path) -> bool {
    use std::io::{BufRead as _, BufReader, Write as _};
    let Ok(mut stream) = std::os::unix::net::UnixStream::connect(sock) else {
        return false;
    };
    let mut reply = String::new();
    stream.write_all(b"PING\r\n").is_ok()
        && BufReader::new(stream).read_line(&mut reply).is_ok()
        && reply.starts_with("+PONG")
}
