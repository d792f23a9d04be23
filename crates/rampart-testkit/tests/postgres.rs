//! The PostgreSQL helper does what store tests rely on: each test gets its own database, a
//! stop is a crash (nothing answers), and a restart recovers committed rows on the same
//! socket. Spoken to through `psql`, with no client library.

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Command, Stdio};

use rampart_testkit::PostgresServer;

/// Runs one statement through `psql` and returns its unaligned output, or `None` on failure.
fn psql(url: &str, sql: &str) -> Option<String> {
    let out = Command::new("psql")
        .args([
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            url,
            "-c",
            sql,
        ])
        .output()
        .expect("psql (Debian package postgresql-client)");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim_ascii().to_owned())
}

#[test]
fn committed_rows_survive_a_kill_and_restart() {
    let Some(mut pg) = PostgresServer::start() else {
        return;
    };
    let url = pg.create_database("survives");
    assert!(
        psql(
            &url,
            "CREATE TABLE t (k int primary key); INSERT INTO t VALUES (7)"
        )
        .is_some()
    );
    pg.stop();
    assert!(
        psql(&url, "SELECT 1").is_none(),
        "a stopped server answers nothing"
    );
    pg.restart();
    assert_eq!(psql(&url, "SELECT k FROM t").as_deref(), Some("7"));
}

#[test]
fn each_database_is_its_own() {
    let Some(pg) = PostgresServer::start() else {
        return;
    };
    let a = pg.create_database("a");
    let b = pg.create_database("b");
    assert!(psql(&a, "CREATE TABLE only_in_a (k int)").is_some());
    assert!(psql(&b, "SELECT * FROM only_in_a").is_none());
    assert_eq!(
        psql(&pg.url(), "SELECT current_user").as_deref(),
        Some("postgres")
    );
}

/// A stop is a crash of every process at once: a backend serving an open session does not
/// outlive the postmaster (PostgreSQL backends leave its process group, so killing the group
/// alone left them running until they noticed, and a pooled connection could still write).
#[test]
fn a_stop_kills_the_backends_of_open_sessions_too() {
    let Some(mut pg) = PostgresServer::start() else {
        return;
    };
    let url = pg.create_database("sessions");
    let mut session = Command::new("psql")
        .args(["-X", "-q", "-A", "-t", "-d", &url])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("psql (Debian package postgresql-client)");
    let mut stdin = session.stdin.take().unwrap();
    let mut stdout = BufReader::new(session.stdout.take().unwrap());
    stdin.write_all(b"SELECT pg_backend_pid();\n").unwrap();
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let backend = line.trim_ascii().to_owned();
    assert!(backend.parse::<u32>().is_ok(), "{line:?}");
    pg.stop();
    // Gone, or a zombie nobody has reaped yet: not running, not serving.
    let state = std::fs::read_to_string(format!("/proc/{backend}/stat"))
        .ok()
        .and_then(|s| {
            Some(
                s.rsplit_once(')')?
                    .1
                    .split_ascii_whitespace()
                    .next()?
                    .to_owned(),
            )
        });
    assert!(
        matches!(state.as_deref(), None | Some("Z" | "X")),
        "backend {backend} is still {state:?}"
    );
    drop(stdin);
    let _ = session.wait();
}
