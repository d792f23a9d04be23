//! `rampart keyring init|rotate|list|retire|rewrap|prepare|purge`.
//!
//! Every change runs under the keyring's sidecar lock from load to save and saves with
//! compare-and-swap (rampart-envelope's `Keyring::update`): a cron `rotate` and an operator's
//! `retire` run one after the other instead of undoing each other, and a change that still
//! finds the keyring changed under it writes nothing and exits 1 ("keyring_changed", with what
//! is on disk). Init creates with no-replace semantics. Every saved keyring is loaded back
//! before the command reports success, so an operator never walks away from a keyring that
//! does not open.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::Path;
use std::time::{Duration, SystemTime};

use rampart::envelope::retention::{BucketSize, RetentionKeyring, RetentionPolicy};
use rampart::envelope::{
    Error, FileKeyringStore, Keyring, KeyringFileError, KeyringSummary, MasterKey,
};
use serde_json::{Value, json};

use super::envelope::{LOST_RACE, describe, describe_summary, failure, load, rfc3339};
use super::master_key;
use crate::cli::{KeyringCommand, KeyringFileArgs};
use crate::output::{Failure, Report};

/// Region label when `--region` is not given.
const DEFAULT_REGION: &str = "default";

/// What retire output and help say about copies of the keyring file.
const COPIES_NOTE: &str = "copies and backups of the keyring file made before this still open \
     the retired versions' data with the same master key; rotate the master key with \
     `rampart keyring rewrap` and destroy the old one to make the shredding final";

/// Runs a keyring subcommand.
pub(crate) fn run(cmd: KeyringCommand) -> Result<Report, Failure> {
    match cmd {
        KeyringCommand::Init {
            file,
            region,
            retention,
            bucket,
            ahead,
            name,
        } => {
            let region = region.as_deref().unwrap_or(DEFAULT_REGION);
            let name = match name {
                Some(name) => name,
                None => keyring_name(&file.keyring)?,
            };
            match retention {
                None => init(&file, &name, region),
                Some(r) => init_retention(
                    &file,
                    &name,
                    region,
                    &r,
                    bucket.as_deref(),
                    ahead.unwrap_or(1),
                ),
            }
        }
        KeyringCommand::Rotate { file } => {
            let master = master_key::from_args(&file.master_key)?;
            let (ring, version) = change(&file.keyring, &master, |ring| {
                ring.rotate(&master, SystemTime::now())
            })?;
            Ok(Report::success(with(
                describe(&ring),
                "rotated_to",
                json!(version),
            )))
        }
        KeyringCommand::List { file } => {
            let m = &file.master_key;
            if m.master_key.is_none()
                && m.master_key_file.is_none()
                && std::env::var_os(rampart::envelope::MASTER_KEY_ENV).is_none()
            {
                return list_unchecked(&file.keyring);
            }
            let ring = load(&file.keyring, &master_key::from_args(&file.master_key)?)?;
            let mut body = describe(&ring);
            body["integrity"] = json!("checked");
            Ok(Report::success(body))
        }
        KeyringCommand::Retire {
            file,
            below,
            dry_run,
            yes,
        } => retire(&file, below, dry_run, yes),
        KeyringCommand::Rewrap {
            file,
            new_master_key_file,
            to,
        } => {
            let old = master_key::from_args(&file.master_key)?;
            let new = match (&to, &new_master_key_file) {
                (Some(uri), _) => master_key::from_uri(uri)?,
                (None, Some(path)) => master_key::from_file(path)?,
                (None, None) => {
                    return Err(Failure::input(
                        "usage",
                        "give --to URI or --new-master-key-file FILE",
                    ));
                }
            };
            let (ring, ()) =
                change_then_check(&file.keyring, &old, &new, |ring| ring.rewrap(&old, &new))?;
            Ok(Report::success(describe(&ring)))
        }
        KeyringCommand::Prepare { file, ahead, now } => {
            let now = instant(now.as_deref())?;
            let master = master_key::from_args(&file.master_key)?;
            let (ring, current) =
                change_retention(&file.keyring, &master, |r| r.prepare(now, ahead))?;
            let mut body = describe(ring.keyring());
            body["current_bucket"] = json!(current);
            Ok(Report::success(body))
        }
        KeyringCommand::Purge { file, now } => {
            let now = instant(now.as_deref())?;
            let master = master_key::from_args(&file.master_key)?;
            let (ring, purged) = change_retention(&file.keyring, &master, |r| r.purge(now))?;
            let purged: Vec<Value> = purged
                .iter()
                .map(|p| {
                    json!({
                        "bucket": p.bucket,
                        "start": rfc3339(p.start),
                        "end": rfc3339(p.end),
                        "purged_at": rfc3339(p.purged_at),
                    })
                })
                .collect();
            let mut body = describe(ring.keyring());
            body["purged"] = Value::Array(purged);
            body["note"] = json!(
                "copies and backups of the keyring file made before this purge still hold \
                 the purged bucket keys: keep retention keyrings out of backups"
            );
            Ok(Report::success(body))
        }
    }
}

fn init(file: &KeyringFileArgs, name: &str, region: &str) -> Result<Report, Failure> {
    let path = &file.keyring;
    refuse_existing(path)?;
    let master = master_key::from_args(&file.master_key)?;
    let ring =
        Keyring::create(name, region, &master, SystemTime::now()).map_err(|e| failure(&e))?;
    create(path, &master, |store| ring.save_to(store))?;
    Ok(Report::success(describe(&ring)))
}

fn init_retention(
    file: &KeyringFileArgs,
    name: &str,
    region: &str,
    retention: &str,
    bucket: Option<&str>,
    ahead: u32,
) -> Result<Report, Failure> {
    let path = &file.keyring;
    refuse_existing(path)?;
    let retain = parse_duration(retention)?;
    let bucket = match bucket {
        None if retain < Duration::from_secs(2 * 86_400) => "hour",
        None => "day",
        Some(b) => b,
    };
    let bucket = match bucket {
        "hour" => BucketSize::Hour,
        "day" => BucketSize::Day,
        _ => return Err(Failure::input("invalid_option", "--bucket is hour or day")),
    };
    let master = master_key::from_args(&file.master_key)?;
    let mut ring =
        RetentionKeyring::create(name, region, &master, RetentionPolicy::new(bucket, retain))
            .map_err(|e| failure(&e))?;
    // Buckets exist before anyone encrypts: a bucket key only in one process's memory
    // would be lost with it, and the data with it.
    ring.prepare(SystemTime::now(), ahead)
        .map_err(|e| failure(&e))?;
    create(path, &master, |store| ring.keyring().save_to(store))?;
    Ok(Report::success(describe(ring.keyring())))
}

/// `keyring list` with no master key at all: what the file says (read by rampart-envelope
/// without verifying it), with `"integrity":"not checked"`. Nothing is unwrapped or verified
/// (that needs the master key), so an edited file is shown as edited; every command that uses
/// the keys still verifies it.
fn list_unchecked(path: &Path) -> Result<Report, Failure> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| crate::output::io_failure(&name, &e))?;
    let mut text = Vec::new();
    crate::input::read_bounded(
        file,
        &mut text,
        rampart::envelope::MAX_FILE_LEN as u64,
        &name,
    )?;
    let not_a_keyring = || {
        Failure::input(
            "not_a_keyring",
            format!("{name}: not a rampart keyring file (format 1)"),
        )
    };
    let text = std::str::from_utf8(&text).map_err(|_| not_a_keyring())?;
    let summary = KeyringSummary::read_unverified(text).map_err(|e| match e {
        Error::KeyringFile(
            KeyringFileError::NotAKeyring
            | KeyringFileError::UnsupportedVersion { .. }
            | KeyringFileError::Json(_),
        ) => not_a_keyring(),
        other => failure(&other).with("keyring_file", json!(name)),
    })?;
    let mut body = describe_summary(&summary);
    body["integrity"] = json!(
        "not checked (no master key given: --master-key, --master-key-file or \
         RAMPART_MASTER_KEY)"
    );
    Ok(Report::success(body))
}

/// `--now RFC3339`, or the clock.
fn instant(now: Option<&str>) -> Result<SystemTime, Failure> {
    let Some(text) = now else {
        return Ok(SystemTime::now());
    };
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(SystemTime::from)
        .map_err(|_| {
            Failure::input(
                "invalid_option",
                format!("--now {text:?} is not an RFC 3339 time"),
            )
        })
}

/// `1h`, `90m`, `14d`, `3600s`: a retention period in whole seconds.
fn parse_duration(text: &str) -> Result<Duration, Failure> {
    crate::input::duration("--retention", text)
}

fn retire(file: &KeyringFileArgs, below: u32, dry_run: bool, yes: bool) -> Result<Report, Failure> {
    let master = master_key::from_args(&file.master_key)?;
    // What would be destroyed, from the keyring as it is now (no lock: nothing is written).
    let mut preview = load(&file.keyring, &master)?;
    let would = preview
        .retire_below(below, SystemTime::now())
        .map_err(|e| failure(&e))?;
    if dry_run {
        let mut body = describe(&load(&file.keyring, &master)?);
        body["dry_run"] = json!(true);
        body["would_retire"] = json!(would);
        body["note"] = json!(COPIES_NOTE);
        return Ok(Report::success(body));
    }
    if !would.is_empty() && !yes && std::io::stdin().is_terminal() {
        confirm_retire(preview.name(), &would)?;
    }
    let (ring, retired) = change(&file.keyring, &master, |ring| {
        ring.retire_below(below, SystemTime::now())
    })?;
    let mut body = with(describe(&ring), "retired", json!(retired));
    body["note"] = json!(COPIES_NOTE);
    Ok(Report::success(body))
}

/// Asks at the terminal; anything but "retire" aborts with exit 1 and nothing written.
fn confirm_retire(name: &str, versions: &[u32]) -> Result<(), Failure> {
    let list: Vec<String> = versions.iter().map(u32::to_string).collect();
    let mut err = std::io::stderr().lock();
    let _ = write!(
        err,
        "Retire version(s) {} of keyring {name:?}? Their keys are destroyed: data sealed under \
         them becomes unreadable. Note: {COPIES_NOTE}.\nType 'retire' to confirm: ",
        list.join(", ")
    );
    let _ = err.flush();
    drop(err);
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| crate::output::io_failure("stdin", &e))?;
    if answer.trim_ascii() == "retire" {
        Ok(())
    } else {
        Err(Failure::rejected(
            "not_confirmed",
            "retire was not confirmed; nothing was written",
        ))
    }
}

/// Refuses init over anything at `path`, a symlink (even a dangling one) included. The
/// no-replace creation makes this final; this check gives the plain message early.
fn refuse_existing(path: &Path) -> Result<(), Failure> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(Failure::input(
            "keyring_exists",
            format!(
                "{} is a symbolic link; a keyring is never created through a link or over one",
                path.display()
            ),
        )),
        Ok(_) => Err(exists(path)),
        Err(_) => Ok(()),
    }
}

fn exists(path: &Path) -> Failure {
    Failure::input(
        "keyring_exists",
        format!(
            "{} already exists; a keyring is never overwritten",
            path.display()
        ),
    )
}

/// Creates the keyring file under its lock with no-replace semantics, then loads it back.
fn create(
    path: &Path,
    master: &dyn MasterKey,
    save: impl FnOnce(&FileKeyringStore) -> Result<(), Error>,
) -> Result<(), Failure> {
    let store = FileKeyringStore::new(path);
    let lock = rampart::envelope::KeyringStore::lock(&store).map_err(|e| failure(&e))?;
    save(&store).map_err(|e| match e {
        Error::KeyringExists => exists(path),
        e => failure(&e),
    })?;
    drop(lock);
    check_loads(path, master)
}

/// Load, change, save under the lock; then load the result back.
fn change<T>(
    path: &Path,
    master: &dyn MasterKey,
    f: impl FnOnce(&mut Keyring) -> Result<T, Error>,
) -> Result<(Keyring, T), Failure> {
    change_then_check(path, master, master, f)
}

fn change_then_check<T>(
    path: &Path,
    master: &dyn MasterKey,
    check_with: &dyn MasterKey,
    f: impl FnOnce(&mut Keyring) -> Result<T, Error>,
) -> Result<(Keyring, T), Failure> {
    // A missing or unreadable keyring fails here with the load's error (and no lock file is
    // made beside a keyring that does not exist).
    load(path, master)?;
    let store = FileKeyringStore::new(path);
    let out = Keyring::update(&store, master, |ring| {
        let out = f(ring)?;
        test_only_pause_before_save();
        Ok(out)
    })
    .map_err(|e| lost_race_or(&e, path, master))?;
    check_loads(path, check_with)?;
    Ok(out)
}

fn change_retention<T>(
    path: &Path,
    master: &dyn MasterKey,
    f: impl FnOnce(&mut RetentionKeyring) -> Result<T, Error>,
) -> Result<(RetentionKeyring, T), Failure> {
    load(path, master)?;
    let store = FileKeyringStore::new(path);
    let out =
        RetentionKeyring::update(&store, master, f).map_err(|e| lost_race_or(&e, path, master))?;
    check_loads(path, master)?;
    Ok(out)
}

/// Debug builds only: `RAMPART_TEST_ONLY_PAUSE_BEFORE_SAVE_MS` holds a change between its
/// modification and its save, so a test can play a writer that ignores the lock and check
/// that compare-and-swap refuses. Release builds do not read it.
fn test_only_pause_before_save() {
    #[cfg(debug_assertions)]
    if let Some(ms) = std::env::var("RAMPART_TEST_ONLY_PAUSE_BEFORE_SAVE_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        std::thread::sleep(Duration::from_millis(ms));
    }
}

/// A lost race says so and shows what is on disk; other errors map as usual.
fn lost_race_or(err: &Error, path: &Path, master: &dyn MasterKey) -> Failure {
    let f = failure(err);
    if let Error::KeyringChanged { .. } = err {
        let on_disk = match Keyring::load(path, master) {
            Ok(ring) => describe(&ring),
            Err(e) => json!({ "error": e.to_string() }),
        };
        return Failure::rejected("keyring_changed", LOST_RACE).with("on_disk", on_disk);
    }
    f
}

/// The keyring's name is its file name without the extension (`tokens.json` -> `tokens`);
/// it is bound into every ciphertext, so it is fixed at creation.
fn keyring_name(path: &Path) -> Result<String, Failure> {
    path.file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| {
            Failure::input(
                "invalid_option",
                format!(
                    "{}: the keyring file needs a UTF-8 file name",
                    path.display()
                ),
            )
        })
}

/// Loads the saved file back with `master`.
fn check_loads(path: &Path, master: &dyn MasterKey) -> Result<(), Failure> {
    Keyring::load(path, master).map_err(|e| {
        let f = failure(&e);
        Failure::input(
            "save_check_failed",
            format!("saved keyring does not load back: {}", f.message),
        )
    })?;
    Ok(())
}

fn with(mut body: Value, key: &str, value: Value) -> Value {
    body[key] = value;
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_durations_parse_with_their_unit() {
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_duration("90m").unwrap(), Duration::from_secs(5400));
        assert_eq!(
            parse_duration("14d").unwrap(),
            Duration::from_secs(14 * 86_400)
        );
        for bad in [
            "",
            "h",
            "1",
            "0h",
            "1w",
            "-1h",
            "1.5h",
            "99999999999999999999d",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
