//! Two processes share a keyring file: the `rampart` tool rotates and seals (an operator and
//! a replica that restarted), and a long-running service (this test binary, re-executed as a
//! child that holds a `KeyringHandle`) opens the new values and seals under the new primary
//! without restarting. Before `KeyringHandle`, a service kept the keyring it loaded at start.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use base64::Engine as _;
use common::procs::{ok, run, run_with_stdin};
use common::{MASTER_KEY, private_file};
use rampart::envelope::{Context, FileKeyringStore, KeyringHandle, LocalMasterKey};
use tempfile::TempDir;

const CHILD_ENV: &str = "RAMPART_TEST_REPLICA_KEYRING";
const CTX: [&str; 2] = ["--context", "tenant=acme"];

/// The service: one line per request on stdin (`seal TEXT`, `open SEALED`, `status`), one
/// `REPLY ...` line per answer on stdout. Runs only when the parent test starts it.
#[test]
fn replica_child() {
    let Some(ring) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let key = std::env::var_os("RAMPART_TEST_REPLICA_KEY").unwrap();
    let master = LocalMasterKey::from_file(Path::new(&key)).unwrap();
    let handle = KeyringHandle::new(FileKeyringStore::new(Path::new(&ring)), master).unwrap();
    let ctx = Context::new().with("tenant", "acme");
    let stdout = std::io::stdout();
    for line in std::io::stdin().lock().lines() {
        let line = line.unwrap();
        let (cmd, arg) = line.split_once(' ').unwrap_or((&line, ""));
        let reply = match cmd {
            "seal" => handle
                .seal_text(arg.as_bytes(), &ctx)
                .map_or_else(|e| format!("ERR {e}"), |t| format!("OK {t}")),
            "open" => handle.open_text(arg, &ctx).map_or_else(
                |e| format!("ERR {e}"),
                |p| format!("OK {}", String::from_utf8_lossy(&p)),
            ),
            "status" => match handle.last_reload_error() {
                Some(e) => format!("OK reload_error {e}"),
                None => "OK fine".to_owned(),
            },
            _ => "ERR unknown".to_owned(),
        };
        let mut out = stdout.lock();
        writeln!(out, "REPLY {reply}").unwrap();
        out.flush().unwrap();
    }
}

struct Replica {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Replica {
    fn start(ring: &Path, key: &Path) -> Self {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "replica_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, ring)
            .env("RAMPART_TEST_REPLICA_KEY", key)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Self {
            child,
            stdin,
            stdout,
        }
    }

    fn ask(&mut self, request: &str) -> Result<String, String> {
        writeln!(self.stdin, "{request}").unwrap();
        self.stdin.flush().unwrap();
        loop {
            let mut line = String::new();
            assert!(
                self.stdout.read_line(&mut line).unwrap() > 0,
                "replica died"
            );
            // libtest may print "test replica_child ... " before the first reply.
            if let Some(at) = line.find("REPLY ") {
                let reply = line[at + 6..].trim_ascii_end();
                return match reply.split_once(' ') {
                    Some(("OK", r)) => Ok(r.to_owned()),
                    Some((_, e)) => Err(e.to_owned()),
                    None => Err(reply.to_owned()),
                };
            }
        }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The key version named in a sealed value's header (bytes 8..12).
fn version(text: &str) -> u32 {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text.trim_ascii())
        .unwrap();
    u32::from_be_bytes(bytes[8..12].try_into().unwrap())
}

#[test]
fn a_running_replica_follows_a_rotation_made_by_another_process() {
    let dir = TempDir::new().unwrap();
    let key = private_file(dir.path(), "master.key", MASTER_KEY);
    let ring = dir.path().join("tokens.json");
    let ring_s = ring.display().to_string();
    let cli_seal = |plain: &str| {
        let out = run_with_stdin(
            &["encrypt", "--keyring", &ring_s, "--value", CTX[0], CTX[1]],
            &key,
            plain.as_bytes(),
        );
        assert_eq!(out.status.code(), Some(0));
        String::from_utf8(out.stdout)
            .unwrap()
            .trim_ascii()
            .to_owned()
    };
    let cli_open = |sealed: &str| {
        let out = run_with_stdin(
            &["decrypt", "--keyring", &ring_s, CTX[0], CTX[1]],
            &key,
            sealed.as_bytes(),
        );
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    ok(&run(&["keyring", "init", "--keyring", &ring_s], &key));
    let mut replica = Replica::start(&ring, &key);
    let before = replica.ask("seal before").unwrap();
    assert_eq!(version(&before), 1);

    // The other process rotates and seals under version 2.
    ok(&run(&["keyring", "rotate", "--keyring", &ring_s], &key));
    let after = cli_seal("after");
    assert_eq!(version(&after), 2);
    // The replica opens it (reload on the unknown version) and seals under version 2.
    assert_eq!(replica.ask(&format!("open {after}")).unwrap(), "after");
    let sealed = replica.ask("seal mine").unwrap();
    assert_eq!(version(&sealed), 2);
    assert_eq!(cli_open(&sealed), (Some(0), "mine".to_owned()));
    assert_eq!(replica.ask(&format!("open {before}")).unwrap(), "before");

    // Another rotation, and no value to open: the next seal already uses version 3.
    ok(&run(&["keyring", "rotate", "--keyring", &ring_s], &key));
    assert_eq!(version(&replica.ask("seal next").unwrap()), 3);

    // A newer keyring file that does not verify (edited by hand, or a writer's bug): the
    // last good keyring keeps serving, and the error is reported.
    let good = std::fs::read_to_string(&ring).unwrap();
    let broken = good.replacen("\"generation\": 3", "\"generation\": 4", 1);
    assert_ne!(good, broken);
    std::fs::write(&ring, &broken).unwrap();
    assert_eq!(version(&replica.ask("seal still").unwrap()), 3);
    let status = replica.ask("status").unwrap();
    assert!(
        status.starts_with("reload_error") && status.contains("integrity"),
        "{status}"
    );
    std::fs::write(&ring, &good).unwrap();
    assert_eq!(version(&replica.ask("seal again").unwrap()), 3);
    assert_eq!(replica.ask("status").unwrap(), "fine");
    ok(&run(&["keyring", "list", "--keyring", &ring_s], &key));

    // Rotated and version 3 retired on disk, but the file then fails to verify: the replica
    // cannot reload, and refuses to seal under version 3 rather than make unreadable data.
    ok(&run(&["keyring", "rotate", "--keyring", &ring_s], &key));
    ok(&run(
        &["keyring", "retire", "--keyring", &ring_s, "--below", "4"],
        &key,
    ));
    let retired = std::fs::read_to_string(&ring).unwrap();
    std::fs::write(
        &ring,
        retired.replacen("\"min_decrypt\": 4", "\"min_decrypt\": 3", 1),
    )
    .unwrap();
    let refused = replica.ask("seal doomed").unwrap_err();
    assert!(
        refused.contains("refusing to seal under key version 3"),
        "{refused}"
    );
    std::fs::write(&ring, &retired).unwrap();
    assert_eq!(version(&replica.ask("seal fine").unwrap()), 4);
}
