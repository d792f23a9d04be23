//! `rampart keyring init|rotate|list|retire|rewrap`.
//!
//! Every change is saved atomically by rampart-envelope (temp file, fsync, rename), and is
//! checked by loading the saved file back before the command reports success, so an
//! operator never walks away from a keyring that does not open.

use std::path::Path;
use std::time::SystemTime;

use rampart::envelope::{Keyring, LocalMasterKey};
use serde_json::{Value, json};

use super::envelope::{describe, failure, load, master_key, master_key_file};
use crate::cli::{KeyringCommand, KeyringFileArgs};
use crate::output::{Failure, Report};

/// Region label when `--region` is not given.
const DEFAULT_REGION: &str = "default";

/// Runs a keyring subcommand.
pub(crate) fn run(cmd: KeyringCommand) -> Result<Report, Failure> {
    match cmd {
        KeyringCommand::Init { file, region } => {
            init(&file, region.as_deref().unwrap_or(DEFAULT_REGION))
        }
        KeyringCommand::Rotate { file } => {
            let master = master_key(&file.master_key)?;
            let mut ring = load(&file.keyring, &master)?;
            let version = ring
                .rotate(&master, SystemTime::now())
                .map_err(|e| failure(&e))?;
            save_checked(&ring, &file.keyring, &master)?;
            Ok(Report::success(with(
                describe(&ring),
                "rotated_to",
                json!(version),
            )))
        }
        KeyringCommand::List { file } => {
            let ring = load(&file.keyring, &master_key(&file.master_key)?)?;
            Ok(Report::success(describe(&ring)))
        }
        KeyringCommand::Retire { file, below } => {
            let master = master_key(&file.master_key)?;
            let mut ring = load(&file.keyring, &master)?;
            let retired = ring
                .retire_below(below, SystemTime::now())
                .map_err(|e| failure(&e))?;
            save_checked(&ring, &file.keyring, &master)?;
            Ok(Report::success(with(
                describe(&ring),
                "retired",
                json!(retired),
            )))
        }
        KeyringCommand::Rewrap {
            file,
            new_master_key_file,
        } => {
            let old = master_key(&file.master_key)?;
            let new = master_key_file(&new_master_key_file)?;
            let mut ring = load(&file.keyring, &old)?;
            ring.rewrap(&old, &new).map_err(|e| failure(&e))?;
            save_checked(&ring, &file.keyring, &new)?;
            Ok(Report::success(describe(&ring)))
        }
    }
}

fn init(file: &KeyringFileArgs, region: &str) -> Result<Report, Failure> {
    let path = &file.keyring;
    // Overwriting a keyring would destroy every key in it: refuse, always.
    if path.exists() {
        return Err(Failure::input(
            "keyring_exists",
            format!(
                "{} already exists; a keyring is never overwritten",
                path.display()
            ),
        ));
    }
    let name = keyring_name(path)?;
    let master = master_key(&file.master_key)?;
    let ring =
        Keyring::create(&name, region, &master, SystemTime::now()).map_err(|e| failure(&e))?;
    save_checked(&ring, path, &master)?;
    Ok(Report::success(describe(&ring)))
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

/// Saves atomically, then loads the result back with `master`.
fn save_checked(ring: &Keyring, path: &Path, master: &LocalMasterKey) -> Result<(), Failure> {
    ring.save(path).map_err(|e| failure(&e))?;
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
