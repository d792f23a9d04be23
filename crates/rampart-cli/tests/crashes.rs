//! Deploys kill processes: a real `rampart` child killed with SIGKILL after a random delay
//! within its run time, 50 rounds each. Afterwards the keyring must load (old or new, never
//! a mix) and, once the next command ran, no copy of the keyring and no plaintext may remain
//! in the directory. Each case runs twice: with O_TMPFILE (nothing has a name until it is
//! complete) and with the named-temporary fallback that systems without it use (what a
//! killed run leaves is swept by the next one).

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::procs::{Jitter, command, entries, ok, run, states};
use common::{MASTER_KEY, private_file};
use tempfile::TempDir;

const ROUNDS: usize = 50;
const FALLBACK: &str = "RAMPART_TEST_ONLY_FORCE_NAMED_TEMPORARIES";

/// Starts `args`, kills it (SIGKILL) after a random delay below `window`.
fn kill_midway(args: &[&str], key: &Path, named: bool, window: Duration, jitter: &mut Jitter) {
    let mut cmd = command(args, key);
    if named {
        cmd.env(FALLBACK, "1");
    }
    let mut child = cmd.spawn().unwrap();
    let window_us = u64::try_from(window.as_micros()).unwrap_or(u64::MAX);
    std::thread::sleep(Duration::from_micros(jitter.below(window_us)));
    let _ = child.kill(); // SIGKILL on Unix; it may have finished already
    let _ = child.wait();
}

fn timed(f: impl FnOnce()) -> Duration {
    let t = Instant::now();
    f();
    t.elapsed()
}

fn keyring_changes_killed_at_random_points(named: bool) {
    let dir = TempDir::new().unwrap();
    let key = private_file(dir.path(), "master.key", MASTER_KEY);
    let ring = dir.path().join("tokens.json");
    let ring_s = ring.display().to_string();
    let kr = |cmd: &'static str| ["keyring", cmd, "--keyring", &ring_s];
    ok(&run(&kr("init"), &key));
    // How long one change takes here, so the kills land all over it.
    let window = timed(|| {
        ok(&run(&kr("rotate"), &key));
    }) + Duration::from_millis(2);
    let mut jitter = Jitter::new();
    let mut expected_versions = 2;
    let mut left = 0;
    for round in 0..ROUNDS {
        let which = if round % 2 == 0 { "rotate" } else { "rewrap" };
        let args: Vec<&str> = if which == "rotate" {
            kr("rotate").to_vec()
        } else {
            // Rewrap to the same key: a full rewrite of the file, like any change.
            vec![
                "keyring",
                "rewrap",
                "--keyring",
                &ring_s,
                "--new-master-key-file",
                key.to_str().unwrap(),
            ]
        };
        kill_midway(&args, &key, named, window, &mut jitter);
        // The keyring loads: the old file or the new one.
        let listed = ok(&run(&kr("list"), &key));
        let n = states(&listed).len();
        assert!(
            n == expected_versions || (which == "rotate" && n == expected_versions + 1),
            "round {round}: {n} versions after a killed {which}"
        );
        if entries(dir.path()).iter().any(|n| n.contains(".tmp-")) {
            left += 1;
        }
        // The next command (a change) leaves nothing but the keyring and its lock file.
        let next = ok(&run(&kr("rotate"), &key));
        expected_versions = states(&next).len();
        // (The sidecar lock file stays by design; it holds no key.)
        let left_over: Vec<String> = entries(dir.path())
            .into_iter()
            .filter(|n| n != ".tokens.json.lock")
            .collect();
        assert_eq!(
            left_over,
            ["master.key", "tokens.json"],
            "round {round}: a copy of the keyring was left behind"
        );
    }
    eprintln!("{left}/{ROUNDS} killed changes left a temporary that the next one removed");
}

#[test]
fn keyring_changes_killed_at_random_points_leave_it_intact_and_no_copy() {
    keyring_changes_killed_at_random_points(false);
}

#[test]
fn keyring_changes_killed_at_random_points_leave_no_copy_with_named_temporaries() {
    keyring_changes_killed_at_random_points(true);
}

fn decrypt_killed_at_random_points(named: bool) {
    let dir = TempDir::new().unwrap();
    let key = private_file(dir.path(), "master.key", MASTER_KEY);
    let ring = dir.path().join("files.json");
    let ring_s = ring.display().to_string();
    ok(&run(&["keyring", "init", "--keyring", &ring_s], &key));
    // 3 MiB of recognisable plaintext (a 16-byte marker repeated).
    let marker = b"PLAINTEXT-MARK-!";
    let plain: Vec<u8> = marker.iter().copied().cycle().take(3 << 20).collect();
    let input = dir.path().join("in.bin");
    std::fs::write(&input, &plain).unwrap();
    let sealed = dir.path().join("in.bin.rpf");
    let (input_s, sealed_s) = (input.display().to_string(), sealed.display().to_string());
    ok(&run(
        &["encrypt", "--keyring", &ring_s, &input_s, "-o", &sealed_s],
        &key,
    ));
    std::fs::remove_file(&input).unwrap();
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let out = out_dir.join("plain.bin");
    let out_s = out.display().to_string();
    let decrypt = ["decrypt", "--keyring", &ring_s, &sealed_s, "-o", &out_s];
    let window = timed(|| {
        ok(&run(&decrypt, &key));
    }) + Duration::from_millis(2);
    std::fs::remove_file(&out).unwrap();
    let mut jitter = Jitter::new();
    let mut left = 0;
    for round in 0..ROUNDS {
        kill_midway(&decrypt, &key, named, window, &mut jitter);
        if entries(&out_dir).iter().any(|n| n.contains(".tmp-")) {
            left += 1;
        }
        // OUT is absent or complete, never partial.
        if let Ok(got) = std::fs::read(&out) {
            assert!(got == plain, "round {round}: a partial OUT appeared");
        }
        // The next command removes whatever the killed one left.
        let mut next = command(&decrypt, &key);
        if named {
            next.env(FALLBACK, "1");
        }
        ok(&next.output().unwrap());
        assert_eq!(
            entries(&out_dir),
            ["plain.bin"],
            "round {round}: plaintext was left behind"
        );
        std::fs::remove_file(&out).unwrap();
    }
    eprintln!("{left}/{ROUNDS} killed decryptions left a temporary that the next one removed");
}

#[test]
fn decrypt_killed_at_random_points_leaves_no_plaintext_after_the_next_command() {
    decrypt_killed_at_random_points(false);
}

#[test]
fn decrypt_killed_at_random_points_leaves_no_plaintext_with_named_temporaries() {
    decrypt_killed_at_random_points(true);
}

#[cfg(unix)]
#[test]
fn output_replaced_by_o_keeps_its_mode() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = TempDir::new().unwrap();
    let key = private_file(dir.path(), "master.key", MASTER_KEY);
    let ring = dir.path().join("files.json");
    let ring_s = ring.display().to_string();
    ok(&run(&["keyring", "init", "--keyring", &ring_s], &key));
    let input = dir.path().join("a.csv");
    std::fs::write(&input, b"a,b\n").unwrap();
    let sealed = dir.path().join("a.csv.rpf");
    std::fs::write(&sealed, b"placeholder").unwrap();
    std::fs::set_permissions(&sealed, std::fs::Permissions::from_mode(0o640)).unwrap();
    let (input_s, sealed_s) = (input.display().to_string(), sealed.display().to_string());
    ok(&run(
        &["encrypt", "--keyring", &ring_s, &input_s, "-o", &sealed_s],
        &key,
    ));
    ok(&run(&["keyring", "rotate", "--keyring", &ring_s], &key));
    ok(&run(
        &[
            "reencrypt",
            "--keyring",
            &ring_s,
            &sealed_s,
            "-o",
            &sealed_s,
        ],
        &key,
    ));
    let mode = std::fs::metadata(&sealed).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640, "reencrypt -o same-file keeps the mode");
}
