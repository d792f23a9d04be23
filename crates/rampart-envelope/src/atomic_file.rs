//! The one place that replaces a file atomically: keyring files, re-encryption checkpoints
//! and re-keyed encrypted files all go through [`write_atomically`].
//!
//! Order of operations (POSIX rename semantics): write a temporary sibling created with
//! `create_new` under an unpredictable name (so a stale or planted file, or a symlink, at a
//! guessable name is never truncated or followed), fsync it, rename it over the target, then
//! fsync the directory (the rename is durable only once the directory entry is). A crash
//! leaves the old file or the new one, never a mix; on any error the temporary is removed.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use crate::primitives;

/// Writes `path` atomically: `fill` writes the new contents into a fresh temporary file
/// (mode 0600 on Unix; `fill` may widen it with `set_permissions`).
pub(crate) fn write_atomically(
    path: &Path,
    fill: impl FnOnce(&mut File) -> io::Result<()>,
) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?;
    let mut suffix = [0u8; 8];
    primitives::os_fill(&mut suffix).map_err(|_| io::Error::other("os random failed"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp-{:016x}", u64::from_be_bytes(suffix)));
    let tmp = dir.join(tmp_name);

    let result = (|| {
        let mut opts = OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts.open(&tmp)?;
        fill(&mut f)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        #[cfg(unix)]
        File::open(&dir)?.sync_all()?;
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn replaces_contents_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.json");
        fs::write(&p, b"old").unwrap();
        write_atomically(&p, |f| f.write_all(b"new")).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"new");
        assert_eq!(entries(dir.path()), vec!["f.json"]);
    }

    #[cfg(unix)]
    #[test]
    fn planted_symlink_at_a_guessable_temp_name_is_not_followed() {
        // A fixed "<path>.tmp" opened with truncate would write through this link.
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, b"precious").unwrap();
        let p = dir.path().join("f.json");
        std::os::unix::fs::symlink(&victim, dir.path().join("f.json.tmp")).unwrap();
        std::os::unix::fs::symlink(&victim, dir.path().join(".f.json.tmp")).unwrap();
        write_atomically(&p, |f| f.write_all(b"new")).unwrap();
        assert_eq!(fs::read(&victim).unwrap(), b"precious");
        assert_eq!(fs::read(&p).unwrap(), b"new");
    }

    #[test]
    fn failed_write_removes_the_temporary_and_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.json");
        fs::write(&p, b"old").unwrap();
        let err = write_atomically(&p, |f| {
            f.write_all(b"partial")?;
            Err(io::Error::other("disk full"))
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "disk full");
        assert_eq!(fs::read(&p).unwrap(), b"old");
        assert_eq!(entries(dir.path()), vec!["f.json"]);
    }

    #[test]
    fn failed_rename_removes_the_temporary() {
        // Renaming a file over a non-empty directory fails after the temporary was written.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("target");
        fs::create_dir(&p).unwrap();
        fs::write(p.join("inside"), b"x").unwrap();
        assert!(write_atomically(&p, |f| f.write_all(b"new")).is_err());
        assert_eq!(entries(dir.path()), vec!["target"]);
    }
}
