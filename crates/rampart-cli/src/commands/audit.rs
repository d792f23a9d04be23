//! `rampart audit verify`: is an audit trail intact, and if not, where does it first break.

use std::path::{Path, PathBuf};

use rampart::audit::{CheckpointPublicKey, KeySet, Verdict, Verifier};
use serde_json::{Value, json};

use crate::cli::AuditCommand;
use crate::input;
use crate::output::{Failure, Report};

/// Runs an audit subcommand.
pub(crate) fn run(cmd: AuditCommand) -> Result<Report, Failure> {
    match cmd {
        AuditCommand::Verify {
            files,
            key_file,
            checkpoint_key,
            require_closed,
        } => verify(
            &files,
            key_file.as_deref(),
            checkpoint_key.as_deref(),
            require_closed,
        ),
    }
}

fn verify(
    files: &[PathBuf],
    key_file: Option<&Path>,
    checkpoint_key: Option<&Path>,
    require_closed: bool,
) -> Result<Report, Failure> {
    if key_file.is_none() && checkpoint_key.is_none() {
        return Err(Failure::input(
            "missing_key",
            "give --key-file (chain keys) or --checkpoint-key (public key), or both",
        ));
    }
    let mut verifier = Verifier::new().with_require_closed(require_closed);
    let mut checked_with = Vec::new();
    if let Some(path) = key_file {
        // Read like every key file: owner-only, zeroized, never echoed. The environment
        // variable is never consulted here (a file is given).
        let text = input::key_text(Some(path), "RAMPART_AUDIT_KEYS", "audit chain key")?;
        let keys = KeySet::parse(&text).map_err(|e| Failure::input(e.kind(), e.to_string()))?;
        if keys.is_empty() {
            return Err(Failure::input(
                "missing_key",
                format!("{}: no key in the key file", path.display()),
            ));
        }
        verifier = verifier.with_keys(keys);
        checked_with.push("chain_keys");
    }
    if let Some(path) = checkpoint_key {
        let text = input::text_document(path)?;
        let key = CheckpointPublicKey::from_base64(&text)
            .map_err(|e| Failure::input(e.kind(), format!("{}: {e}", path.display())))?;
        verifier = verifier.with_checkpoint_key(key);
        checked_with.push("checkpoint_key");
    }
    let verdict = verifier
        .verify_files(files)
        .map_err(|e| Failure::input(e.kind(), describe(&e)))?;
    match verdict {
        Verdict::Intact(s) => Ok(Report::success(json!({
            "valid": true,
            "records": s.records,
            "lines": s.lines,
            "checkpoints": s.checkpoints,
            "files": s.files,
            "closed": s.closed,
            "unverified_tail": s.unverified_tail,
            "checked_with": checked_with,
        }))),
        Verdict::Broken(b) => Err(Failure::rejected(
            b.reason.kind(),
            format!("{}:{}: {}", b.file.display(), b.line, b.reason),
        )
        .with("file", Value::String(b.file.display().to_string()))
        .with("line", json!(b.line))
        .with("seq", json!(b.seq))),
    }
}

/// The error and its source (for I/O: which file, and why).
fn describe(err: &rampart::audit::Error) -> String {
    match err {
        rampart::audit::Error::Io { path, source } => {
            let why = match source.kind() {
                std::io::ErrorKind::NotFound => "no such file".to_owned(),
                std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
                _ => source.to_string(),
            };
            format!("{}: {why}", path.display())
        }
        other => other.to_string(),
    }
}
