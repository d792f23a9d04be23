//! The server helpers do what tests rely on: a stop is an outage (nothing answers), a restart
//! answers on the same socket, an ordinary server forgets its keys and a durable one keeps
//! them. Spoken to in Redis' inline protocol over the unix socket, with no client library.

use std::io::{BufRead as _, BufReader, Write as _};
use std::os::unix::net::UnixStream;

use rampart_testkit::RedisServer;

/// Sends one inline command and returns the first reply line.
fn command(server: &RedisServer, line: &str) -> std::io::Result<String> {
    let mut stream = UnixStream::connect(server.socket())?;
    stream.write_all(format!("{line}\r\n").as_bytes())?;
    let mut reply = String::new();
    BufReader::new(stream).read_line(&mut reply)?;
    Ok(reply.trim_ascii_end().to_owned())
}

fn restart_keeps_key(mut server: RedisServer) -> String {
    assert_eq!(command(&server, "SET k v").unwrap(), "+OK");
    server.stop();
    assert!(
        command(&server, "PING").is_err(),
        "a stopped server answers nothing"
    );
    server.restart();
    assert_eq!(command(&server, "PING").unwrap(), "+PONG");
    command(&server, "EXISTS k").unwrap()
}

#[test]
fn a_restarted_server_answers_on_the_same_socket_and_forgets_its_keys() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    assert!(server.url().ends_with("redis.sock"));
    assert_eq!(restart_keeps_key(server), ":0");
}

#[test]
fn a_durable_server_keeps_its_keys_across_a_sigkill() {
    let Some(server) = RedisServer::start_durable() else {
        return;
    };
    assert_eq!(restart_keeps_key(server), ":1");
}

#[test]
fn a_frozen_server_accepts_but_does_not_answer_until_thawed() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    server.signal("-STOP");
    let mut stream = UnixStream::connect(server.socket()).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_millis(200)))
        .unwrap();
    stream.write_all(b"PING\r\n").unwrap();
    let mut reply = String::new();
    assert!(
        BufReader::new(&stream).read_line(&mut reply).is_err(),
        "{reply:?}"
    );
    server.signal("-CONT");
    assert_eq!(command(&server, "PING").unwrap(), "+PONG");
}

#[test]
#[should_panic(expected = "pending")]
fn block_on_ready_refuses_a_future_that_waits() {
    rampart_testkit::block_on_ready(std::future::pending::<()>());
}
