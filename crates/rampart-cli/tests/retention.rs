//! Retention keyrings from the shell: the upload_retention story (1 h uploads) end to end,
//! with `keyring prepare` and `keyring purge` as cron would run them.

mod common;

use common::procs::{ok, outcome, run, run_with_stdin};
use common::{MASTER_KEY, private_file};
use tempfile::TempDir;
use time::format_description::well_known::Rfc3339;

fn later(hours: i64) -> String {
    (time::OffsetDateTime::now_utc() + time::Duration::hours(hours))
        .format(&Rfc3339)
        .unwrap()
}

#[test]
fn uploads_kept_one_hour_are_encrypted_read_back_and_shredded_by_purge() {
    let dir = TempDir::new().unwrap();
    let key = private_file(dir.path(), "master.key", MASTER_KEY);
    let ring = dir.path().join("uploads.json").display().to_string();
    let init = ok(&run(
        &["keyring", "init", "--keyring", &ring, "--retention", "1h"],
        &key,
    ));
    assert_eq!(init["kind"], "retention");
    assert_eq!(init["retention"]["bucket_seconds"], 3600);
    assert_eq!(init["retention"]["retain_seconds"], 3600);
    assert_eq!(
        init["versions"].as_array().unwrap().len(),
        2,
        "current + 1 ahead"
    );
    assert!(init["versions"][0]["expires_at"].is_string());

    // An upload (a file) and a value, encrypted in the current bucket.
    let csv = dir.path().join("invoices.csv");
    std::fs::write(&csv, b"invoice,amount\n2026-001,120.00\n").unwrap();
    let rpf = dir.path().join("invoices.csv.rpf").display().to_string();
    let ctx = ["--context", "file=invoices.csv"];
    let enc = ok(&run(
        &[
            "encrypt",
            "--keyring",
            &ring,
            ctx[0],
            ctx[1],
            csv.to_str().unwrap(),
            "-o",
            &rpf,
        ],
        &key,
    ));
    assert_eq!(enc["version"], init["primary"]);
    let value = run_with_stdin(
        &["encrypt", "--keyring", &ring, "--value", ctx[0], ctx[1]],
        &key,
        b"tok",
    );
    assert_eq!(value.status.code(), Some(0));
    let plain = dir.path().join("back.csv").display().to_string();
    let decrypt_upload = [
        "decrypt",
        "--keyring",
        &ring,
        ctx[0],
        ctx[1],
        &rpf,
        "-o",
        &plain,
    ];
    ok(&run(&decrypt_upload, &key));
    assert_eq!(std::fs::read(&plain).unwrap(), std::fs::read(&csv).unwrap());

    // Rotation and retirement belong to values keyrings: refused, nothing written.
    let before = std::fs::read(&ring).unwrap();
    for args in [
        vec!["keyring", "rotate", "--keyring", &ring],
        vec![
            "keyring",
            "retire",
            "--keyring",
            &ring,
            "--below",
            "2",
            "--yes",
        ],
    ] {
        let (code, json) = outcome(&run(&args, &key));
        assert_eq!(
            (code, json["error"].as_str()),
            (Some(2), Some("retention_keyring")),
            "{json}"
        );
        assert!(
            json["message"]
                .as_str()
                .unwrap()
                .contains("retention keyring")
        );
    }
    assert_eq!(std::fs::read(&ring).unwrap(), before);

    // Cron, now: nothing is old enough to purge.
    let purge = ok(&run(&["keyring", "purge", "--keyring", &ring], &key));
    assert_eq!(purge["purged"], serde_json::json!([]));

    // Cron, three hours on: prepare the new hour, purge the expired ones.
    let t = later(3);
    let prep = ok(&run(
        &[
            "keyring",
            "prepare",
            "--keyring",
            &ring,
            "--ahead",
            "2",
            "--now",
            &t,
        ],
        &key,
    ));
    assert!(prep["current_bucket"].as_u64().unwrap() > init["primary"].as_u64().unwrap());
    let purge = ok(&run(
        &["keyring", "purge", "--keyring", &ring, "--now", &t],
        &key,
    ));
    assert_eq!(purge["purged"].as_array().unwrap().len(), 2, "{purge}");
    assert!(purge["note"].as_str().unwrap().contains("backups"));

    // The upload and the value no longer open, anywhere: exit 1, "expired".
    let (code, json) = outcome(&run(&decrypt_upload, &key));
    assert_eq!(
        (code, json["error"].as_str()),
        (Some(1), Some("expired")),
        "{json}"
    );
    let out = run_with_stdin(
        &["decrypt", "--keyring", &ring, ctx[0], ctx[1]],
        &key,
        &value.stdout,
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn fourteen_day_retention_gets_day_buckets_and_bad_durations_are_refused() {
    let dir = TempDir::new().unwrap();
    let key = private_file(dir.path(), "master.key", MASTER_KEY);
    let ring = dir.path().join("r.json").display().to_string();
    ok(&run(
        &[
            "keyring",
            "init",
            "--keyring",
            &ring,
            "--retention",
            "14d",
            "--ahead",
            "0",
        ],
        &key,
    ));
    let listed = ok(&run(&["keyring", "list", "--keyring", &ring], &key));
    assert_eq!(
        listed["retention"]["bucket_seconds"], 86_400,
        "14 d gets day buckets"
    );
    let other = dir.path().join("o.json").display().to_string();
    let (code, json) = outcome(&run(
        &["keyring", "init", "--keyring", &other, "--retention", "2x"],
        &key,
    ));
    assert_eq!(
        (code, json["error"].as_str()),
        (Some(2), Some("invalid_option")),
        "{json}"
    );
}
