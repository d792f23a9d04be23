//! Operators race: `keyring` commands started at the same moment as separate OS processes of
//! the built binary, 50 rounds each, with exact expected outcomes. Without the sidecar lock
//! and compare-and-swap each of these fails within a few rounds: a retired version comes
//! back, two rotations both make "version 2" (values sealed under the losing one are lost),
//! or two inits both succeed.

mod common;

use std::path::{Path, PathBuf};

use common::procs::{entries, ok, outcome, run, run_with_stdin, spawn, states};
use common::{MASTER_KEY, private_file};
use serde_json::Value;
use tempfile::TempDir;

const ROUNDS: usize = 50;

struct Dir {
    dir: TempDir,
    key: PathBuf,
}

impl Dir {
    fn new() -> Self {
        let dir = TempDir::new().unwrap();
        let key = private_file(dir.path(), "master.key", MASTER_KEY);
        Self { dir, key }
    }

    fn ring(&self, round: usize) -> PathBuf {
        self.dir.path().join(format!("ring{round}.json"))
    }
}

fn keyring(cmd: &str, ring: &Path, extra: &[&str]) -> Vec<String> {
    let mut args = vec![
        "keyring".to_owned(),
        cmd.to_owned(),
        "--keyring".to_owned(),
        ring.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    args
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn list(d: &Dir, ring: &Path) -> Value {
    ok(&run(&refs(&keyring("list", ring, &[])), &d.key))
}

#[test]
fn retire_racing_rotate_never_brings_the_retired_version_back() {
    let d = Dir::new();
    for round in 0..ROUNDS {
        let ring = d.ring(round);
        ok(&run(&refs(&keyring("init", &ring, &[])), &d.key));
        ok(&run(&refs(&keyring("rotate", &ring, &[])), &d.key));
        let retire = spawn(&refs(&keyring("retire", &ring, &["--below", "2"])), &d.key);
        let rotate = spawn(&refs(&keyring("rotate", &ring, &[])), &d.key);
        let retired = ok(&retire.wait_with_output().unwrap());
        let rotated = ok(&rotate.wait_with_output().unwrap());
        assert_eq!(retired["retired"], serde_json::json!([1]), "round {round}");
        assert_eq!(rotated["rotated_to"], 3, "round {round}");
        assert_eq!(
            states(&list(&d, &ring)),
            [
                (1, "retired".to_owned()),
                (2, "active".to_owned()),
                (3, "primary".to_owned())
            ],
            "round {round}: version 1 must stay retired"
        );
    }
}

#[test]
fn rotate_racing_rotate_with_concurrent_sealing_loses_no_value() {
    let d = Dir::new();
    let ctx = ["--context", "t=1"];
    for round in 0..ROUNDS {
        let ring = d.ring(round);
        let ring_s = ring.display().to_string();
        ok(&run(&refs(&keyring("init", &ring, &[])), &d.key));
        let rotates = [
            spawn(&refs(&keyring("rotate", &ring, &[])), &d.key),
            spawn(&refs(&keyring("rotate", &ring, &[])), &d.key),
        ];
        // Two services sealing meanwhile, each under whatever primary the file has.
        let secrets = [format!("a{round}"), format!("b{round}")];
        let seal_args = ["encrypt", "--keyring", &ring_s, "--value", ctx[0], ctx[1]];
        let sealed: Vec<String> = secrets
            .iter()
            .map(|s| {
                let out = run_with_stdin(&seal_args, &d.key, s.as_bytes());
                assert_eq!(out.status.code(), Some(0), "round {round}");
                String::from_utf8(out.stdout).unwrap()
            })
            .collect();
        let mut rotated_to: Vec<u64> = rotates
            .into_iter()
            .map(|c| {
                ok(&c.wait_with_output().unwrap())["rotated_to"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        rotated_to.sort_unstable();
        assert_eq!(
            rotated_to,
            [2, 3],
            "round {round}: two rotations, two versions"
        );
        assert_eq!(
            states(&list(&d, &ring)),
            [
                (1, "active".to_owned()),
                (2, "active".to_owned()),
                (3, "primary".to_owned())
            ],
            "round {round}"
        );
        for (secret, text) in secrets.iter().zip(&sealed) {
            let out = run_with_stdin(
                &["decrypt", "--keyring", &ring_s, ctx[0], ctx[1]],
                &d.key,
                text.as_bytes(),
            );
            assert_eq!(
                out.status.code(),
                Some(0),
                "round {round}: a value sealed during the race no longer opens: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(out.stdout, secret.as_bytes(), "round {round}");
        }
    }
}

#[test]
fn init_racing_init_has_exactly_one_winner() {
    let d = Dir::new();
    for round in 0..ROUNDS {
        let ring = d.ring(round);
        let children = [
            spawn(&refs(&keyring("init", &ring, &[])), &d.key),
            spawn(&refs(&keyring("init", &ring, &[])), &d.key),
        ];
        let outs: Vec<_> = children
            .into_iter()
            .map(|c| outcome(&c.wait_with_output().unwrap()))
            .collect();
        let winners: Vec<&Value> = outs
            .iter()
            .filter(|(code, _)| *code == Some(0))
            .map(|(_, j)| j)
            .collect();
        assert_eq!(winners.len(), 1, "round {round}: {outs:?}");
        let loser = outs.iter().find(|(code, _)| *code != Some(0)).unwrap();
        assert_eq!(loser.0, Some(2), "round {round}: {loser:?}");
        assert_eq!(loser.1["error"], "keyring_exists", "round {round}");
        assert_eq!(
            list(&d, &ring)["id"],
            winners[0]["id"],
            "round {round}: the file holds the winner's keyring"
        );
    }
}

#[cfg(unix)]
#[test]
fn init_refuses_a_dangling_symlink_and_leaves_it_alone() {
    let d = Dir::new();
    let ring = d.dir.path().join("tokens.json");
    let target = d.dir.path().join("elsewhere.json");
    std::os::unix::fs::symlink(&target, &ring).unwrap();
    let (code, json) = outcome(&run(&refs(&keyring("init", &ring, &[])), &d.key));
    assert_eq!(code, Some(2));
    assert_eq!(json["error"], "keyring_exists");
    assert!(
        std::fs::symlink_metadata(&ring)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(!target.exists(), "nothing was created through the link");
    assert_eq!(entries(d.dir.path()), ["master.key", "tokens.json"]);
}

#[cfg(unix)]
#[test]
fn rotate_refuses_a_keyring_path_that_is_a_symlink() {
    let d = Dir::new();
    let real = d.dir.path().join("real.json");
    ok(&run(&refs(&keyring("init", &real, &[])), &d.key));
    let link = d.dir.path().join("link.json");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let (code, json) = outcome(&run(&refs(&keyring("rotate", &link, &[])), &d.key));
    assert_eq!(
        (code, json["error"].as_str()),
        (Some(2), Some("keyring_symlink"))
    );
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    // Readers follow it.
    assert_eq!(states(&list(&d, &link)), [(1, "primary".to_owned())]);
}

#[test]
fn a_writer_that_loses_the_compare_and_swap_exits_1_and_writes_nothing() {
    // A writer that ignores the lock (an older rampart, a hand-made script, a second host
    // on NFS) replaces the keyring between our load and our save. The debug-build pause
    // holds the rotate between its change and its save while the test plays that writer.
    let d = Dir::new();
    let ring = d.ring(0);
    ok(&run(&refs(&keyring("init", &ring, &[])), &d.key));
    let generation_1 = std::fs::read(&ring).unwrap();
    ok(&run(&refs(&keyring("rotate", &ring, &[])), &d.key));
    let rotate = common::procs::command(&refs(&keyring("rotate", &ring, &[])), &d.key)
        .env("RAMPART_TEST_ONLY_PAUSE_BEFORE_SAVE_MS", "1500")
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(700));
    std::fs::write(&ring, &generation_1).unwrap();
    let (code, json) = outcome(&rotate.wait_with_output().unwrap());
    assert_eq!(code, Some(1), "{json}");
    assert_eq!(json["error"], "keyring_changed");
    assert_eq!(
        json["message"],
        "the keyring changed while this command ran; nothing was written"
    );
    assert_eq!(json["on_disk"]["generation"], 1, "{json}");
    assert_eq!(
        std::fs::read(&ring).unwrap(),
        generation_1,
        "nothing was written"
    );
}
