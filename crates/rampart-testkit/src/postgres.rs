//! A PostgreSQL cluster of the test's own: `initdb` in a temporary directory, the server on a
//! unix socket there (no TCP port to collide with), killed on drop. Tests kill it with SIGKILL
//! (the postmaster and every backend at once, a crash) and start it again on the same socket:
//! it recovers from its write-ahead log, as a production server does after a crash.
//!
//! Running as root (CI containers), the cluster belongs to the unprivileged `postgres` user
//! (Debian's package creates it) and is started through `setpriv`: PostgreSQL refuses to run
//! as root. Clients connect with `trust` authentication over the socket only.

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::tool;

/// Start-ups tried before a server that keeps exiting at start-up fails the test.
const START_ATTEMPTS: u32 = 5;

/// A running PostgreSQL server.
///
/// ```no_run
/// use rampart_testkit::PostgresServer;
///
/// if let Some(mut pg) = PostgresServer::start() {
///     let url = pg.create_database("attempts"); // postgres://postgres@localhost/attempts?host=...
///     assert!(url.contains("host="));
///     pg.restart(); // SIGKILL, then crash recovery on the same socket
/// }
/// ```
#[derive(Debug)]
pub struct PostgresServer {
    child: Option<Child>,
    dir: tempfile::TempDir,
    bin: PathBuf,
    /// `Some(uid, gid)` when the server runs as another user than the test (root).
    owner: Option<(u32, u32)>,
}

impl PostgresServer {
    /// Creates a cluster, starts it and waits until it accepts connections, or returns `None`
    /// after a loud skip message when PostgreSQL's server binaries are not installed (a panic
    /// under `CI=true`).
    ///
    /// # Panics
    /// When `initdb` fails or the server does not come up within 30 s.
    #[must_use]
    pub fn start() -> Option<Self> {
        let Some(bin) = server_bin_dir() else {
            tool::missing("PostgreSQL server (initdb, postgres: Debian package postgresql)");
            return None;
        };
        let owner = if rustix::process::geteuid().is_root() {
            Some(user_ids("postgres").unwrap_or_else(|| user_ids("nobody").expect("user nobody")))
        } else {
            None
        };
        let dir = tempfile::tempdir().expect("temporary directory");
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).expect("chown cluster dir");
        }
        let mut server = PostgresServer {
            child: None,
            dir,
            bin,
            owner,
        };
        let data = server.data_dir();
        crate::tool::run(
            server
                .command("initdb")
                .arg("-D")
                .arg(&data)
                .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
                .args(["--locale=C"]),
        );
        server.spawn();
        Some(server)
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The directory holding the server's socket (`.s.PGSQL.5432`).
    #[must_use]
    pub fn socket_dir(&self) -> &Path {
        self.dir.path()
    }

    /// A connection URL for database `db` over the unix socket, in the form `sqlx` and `libpq`
    /// accept.
    #[must_use]
    pub fn url_for(&self, db: &str) -> String {
        format!(
            "postgres://postgres@localhost/{db}?host={}",
            self.socket_dir().display()
        )
    }

    /// The URL of the default `postgres` database.
    #[must_use]
    pub fn url(&self) -> String {
        self.url_for("postgres")
    }

    /// Creates database `name` (each test its own, so tests in one binary do not share
    /// tables) and returns its URL.
    ///
    /// # Panics
    /// When `createdb` fails (the name is taken, the server is down).
    pub fn create_database(&self, name: &str) -> String {
        crate::tool::run(
            Command::new(self.bin.join("createdb"))
                .arg("-h")
                .arg(self.socket_dir())
                .args(["-U", "postgres", name]),
        );
        self.url_for(name)
    }

    /// A command for one of the server's binaries, run as the cluster's owner.
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        match self.owner {
            Some((uid, gid)) => {
                let mut c = Command::new("setpriv");
                c.arg(format!("--reuid={uid}"))
                    .arg(format!("--regid={gid}"))
                    .arg("--clear-groups")
                    .arg(path);
                c
            }
            None => Command::new(path),
        }
    }

    fn spawn(&mut self) {
        // Right after a SIGKILL, the killed backends may still be exiting and holding the
        // old shared memory segment: the new postmaster then exits at once ("pre-existing
        // shared memory block is still in use"). Starting again shortly after succeeds.
        for attempt in 1..=START_ATTEMPTS {
            match self.try_spawn() {
                Ok(()) => return,
                Err(status) if attempt < START_ATTEMPTS => {
                    eprintln!("postgres exited at start-up ({status}); starting it again");
                    std::thread::sleep(Duration::from_millis(250 * u64::from(attempt)));
                }
                Err(status) => panic!("postgres exited at start-up: {status}"),
            }
        }
    }

    /// Starts the postmaster and waits until it accepts connections; `Err` with its exit
    /// status when it exited during start-up.
    fn try_spawn(&mut self) -> Result<(), std::process::ExitStatus> {
        let data = self.data_dir();
        // fsync off: tests kill processes, not the machine, and the page cache survives a
        // SIGKILL; crash recovery from the WAL still runs on restart.
        let child = self
            .command("postgres")
            .arg("-D")
            .arg(&data)
            .arg("-k")
            .arg(self.socket_dir())
            .args(["-c", "listen_addresses=", "-c", "fsync=off"])
            .args(["-c", "max_connections=200", "-c", "shared_buffers=32MB"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group: `stop` kills the postmaster and all its backends at once.
            .process_group(0)
            .spawn()
            .expect("spawn postgres");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = Command::new(self.bin.join("pg_isready"))
                .arg("-h")
                .arg(self.socket_dir())
                .args(["-U", "postgres", "-q"])
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                return Ok(());
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                self.child = None;
                return Err(status);
            }
            assert!(Instant::now() < deadline, "postgres did not come up");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills the server and every backend with SIGKILL (a crash: nothing shut down cleanly).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // Every backend calls setsid() (PostgreSQL's InitPostmasterChild), so killing the
            // postmaster's process group leaves them running until they notice its death,
            // and a pooled connection could still write meanwhile. Freeze the postmaster (no
            // new backend), then kill it and each of its children at once.
            let postmaster = child.id().to_string();
            let _ = Command::new("kill").args(["-STOP", &postmaster]).status();
            let mut pids = children_of(child.id());
            pids.push(postmaster);
            let _ = Command::new("kill").arg("-KILL").args(&pids).status();
            let _ = child.kill();
            let _ = child.wait();
            // A killed process runs no more code, but is only gone once the kernel has torn
            // it down: wait for that (the postmaster was reaped above, so its socket no
            // longer answers), so a test sees the crash complete.
            let deadline = Instant::now() + Duration::from_secs(10);
            while pids.iter().any(|pid| running(pid)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }

    /// Kills it (SIGKILL) and starts it again on the same socket; committed rows survive.
    pub fn restart(&mut self) {
        self.stop();
        // A killed postmaster leaves its pid file; PostgreSQL checks the pid is gone and
        // starts crash recovery.
        self.spawn();
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The directory of `initdb`/`postgres`: Debian keeps them out of PATH, under
/// `/usr/lib/postgresql/<major>/bin`; the newest major wins. Elsewhere, PATH.
fn server_bin_dir() -> Option<PathBuf> {
    let debian = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let major: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((major, bin))
        })
        .max_by_key(|(major, _)| *major)
        .map(|(_, bin)| bin);
    debian.or_else(|| {
        let out = Command::new("sh")
            .args(["-c", "command -v initdb"])
            .output()
            .ok()?;
        let path = String::from_utf8(out.stdout).ok()?;
        let path = PathBuf::from(path.trim_ascii());
        (out.status.success() && path.is_file()).then(|| path.parent().map(Path::to_path_buf))?
    })
}

/// `(uid, gid)` of `user`, from `id`.
fn user_ids(user: &str) -> Option<(u32, u32)> {
    let id = |flag: &str| -> Option<u32> {
        let out = Command::new("id").args([flag, user]).output().ok()?;
        if !out.status.success() {
            return None;
        }
        String::from_utf8(out.stdout)
            .ok()?
            .trim_ascii()
            .parse()
            .ok()
    };
    Some((id("-u")?, id("-g")?))
}

/// Whether process `pid` exists and is not a zombie (`Z`) or dead (`X`).
fn running(pid: &str) -> bool {
    stat_field(pid, 0).is_some_and(|s| s != "Z" && s != "X")
}

/// Field `n` after the command name in `/proc/<pid>/stat` (0: the state letter, 1: the
/// parent's pid); the name is parenthesised and may itself hold spaces or parentheses.
fn stat_field(pid: &str, n: usize) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, after_name) = stat.rsplit_once(')')?;
    Some(after_name.split_ascii_whitespace().nth(n)?.to_owned())
}

/// The pids of `parent`'s children.
fn children_of(parent: u32) -> Vec<String> {
    let parent = parent.to_string();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|pid| stat_field(pid, 1).is_some_and(|ppid| ppid == parent))
        .collect()
}
