//! Replacing and creating files so that a crash leaves the old file or the new one, and no
//! copy: keyring files, re-encryption checkpoints, re-keyed encrypted files, and the
//! `rampart` tool's `-o` outputs (plaintext, for `decrypt`) all go through [`AtomicFile`].
//!
//! # Why it is built this way
//!
//! - **No name until complete.** On Linux the new contents go into an unnamed file
//!   (`O_TMPFILE` in the target's directory): a process killed while writing leaves nothing
//!   in the directory, so no half-written plaintext and no full copy of a keyring (with keys
//!   that are retired later) survives it. The file gets a name only when it is complete and
//!   fsynced: by `linkat` straight to the target for a creation (which fails if anything,
//!   even a dangling symlink, is there: no-replace), or to a temporary name immediately
//!   renamed over the target for a replacement.
//! - **Named temporaries are locked and swept.** Where `O_TMPFILE` is missing (other
//!   systems, NFS, some FUSE file systems), and in the instant between `linkat` and
//!   `rename`, the file has a temporary name `.NAME.tmp-<16 hex>`. Its creator holds an
//!   exclusive `flock` on it for as long as it lives; [`sweep_stale`] removes exactly those
//!   temporaries whose lock it can take, i.e. whose creator died. Writers sweep before they
//!   write, so the next command removes what a killed one left.
//! - **Unpredictable names, `create_new`.** A stale or planted file or symlink at a guessable
//!   name is never truncated or followed.
//! - **Durability.** The file is fsynced before it is named, and the directory after every
//!   link or rename (the new entry is durable only once the directory is).
//! - **Metadata.** New files are mode 0600. [`AtomicFile::with_keep_metadata`] makes a replacement
//!   keep the replaced file's permission bits (and its owner and group when running as root),
//!   as editing a file in place would.
//!
//! ```
//! use std::io::Write;
//! use rampart_envelope::atomic_file::AtomicFile;
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("report.csv");
//! let mut out = AtomicFile::new(&path)?;
//! out.write_all(b"a,b\n1,2\n")?;
//! assert!(!path.exists(), "nothing is visible before commit");
//! out.commit()?;
//! assert_eq!(std::fs::read(&path)?, b"a,b\n1,2\n");
//! assert_eq!(std::fs::read_dir(dir.path())?.count(), 1, "no temporary left behind");
//! # Ok::<(), std::io::Error>(())
//! ```

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::primitives;

/// Length of the random hex suffix of temporary names.
const SUFFIX_HEX: usize = 16;

/// A file being written that appears at its target path only on [`commit`](Self::commit)
/// (replacing) or [`commit_new`](Self::commit_new) (creating). Dropped without a commit, it
/// leaves nothing behind. See the module docs for the guarantees.
#[derive(Debug)]
pub struct AtomicFile {
    file: File,
    target: PathBuf,
    dir: PathBuf,
    /// The temporary name, while the file has one.
    named: Option<PathBuf>,
    /// Created with `O_TMPFILE`: no name until it is linked.
    unnamed: bool,
    keep_metadata: bool,
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn file_name(path: &Path) -> io::Result<&std::ffi::OsStr> {
    path.file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))
}

/// `.NAME.tmp-`: the prefix of every temporary for `target`.
fn temp_prefix(target: &Path) -> io::Result<OsString> {
    let mut p = OsString::from(".");
    p.push(file_name(target)?);
    p.push(".tmp-");
    Ok(p)
}

fn random_temp_name(target: &Path) -> io::Result<PathBuf> {
    let mut suffix = [0u8; 8];
    primitives::os_fill(&mut suffix).map_err(|_| io::Error::other("os random failed"))?;
    let mut name = temp_prefix(target)?;
    name.push(format!("{:016x}", u64::from_be_bytes(suffix)));
    Ok(parent_dir(target).join(name))
}

/// Test hook: pretend `O_TMPFILE` is missing, to exercise the named fallback.
#[cfg(test)]
pub(crate) static FORCE_NAMED: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

impl AtomicFile {
    /// Starts a file for `target` in the same directory (so the final rename or link stays on
    /// one file system): unnamed where the system allows it, otherwise under a locked
    /// temporary name. Mode 0600.
    ///
    /// # Errors
    /// I/O errors creating the file (missing directory, permissions).
    pub fn new(target: impl AsRef<Path>) -> io::Result<Self> {
        let target = target.as_ref().to_path_buf();
        file_name(&target)?;
        let dir = parent_dir(&target);
        #[cfg(target_os = "linux")]
        if let Some(file) = unnamed_in(&dir)? {
            // Locked before it ever has a name, so a sweep can never take it.
            file.lock()?;
            return Ok(Self {
                file,
                target,
                dir,
                named: None,
                unnamed: true,
                keep_metadata: false,
            });
        }
        let (file, named) = named_locked(&target)?;
        Ok(Self {
            file,
            target,
            dir,
            named: Some(named),
            unnamed: false,
            keep_metadata: false,
        })
    }

    /// Makes [`commit`](Self::commit) keep the permission bits of the file it replaces (and
    /// its owner and group when running as root; otherwise the group when allowed). A new
    /// file stays 0600. Set-user-id and set-group-id bits are not carried over.
    #[must_use]
    pub fn with_keep_metadata(mut self, keep: bool) -> Self {
        self.keep_metadata = keep;
        self
    }

    /// The file being written.
    pub fn as_file(&self) -> &File {
        &self.file
    }

    /// The file being written, mutably (for `set_permissions`, `io::copy` into it...).
    pub fn as_file_mut(&mut self) -> &mut File {
        &mut self.file
    }

    /// The path the file will have.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Flushes and fsyncs the contents, then replaces `target` with them in one rename and
    /// fsyncs the directory. A crash at any point leaves the old file or the new one.
    ///
    /// # Errors
    /// I/O errors; the target is then untouched and the temporary removed.
    pub fn commit(mut self) -> io::Result<()> {
        self.file.flush()?;
        if self.keep_metadata {
            self.copy_metadata()?;
        }
        self.file.sync_all()?;
        if self.unnamed {
            self.name_temporarily()?;
        }
        let named = self
            .named
            .clone()
            .ok_or_else(|| io::Error::other("temporary has no name"))?;
        fs::rename(&named, &self.target)?;
        self.named = None;
        sync_dir(&self.dir)
    }

    /// Like [`commit`](Self::commit) but never replaces anything: if `target` exists (a file,
    /// a directory, or a symlink, even a dangling one) nothing is written and the error kind
    /// is [`io::ErrorKind::AlreadyExists`]. Two processes creating the same file at once:
    /// exactly one succeeds.
    ///
    /// ```
    /// use std::io::Write;
    /// use rampart_envelope::atomic_file::AtomicFile;
    ///
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("new.json");
    /// let mut first = AtomicFile::new(&path)?;
    /// first.write_all(b"first")?;
    /// first.commit_new()?;
    /// let mut second = AtomicFile::new(&path)?;
    /// second.write_all(b"second")?;
    /// assert_eq!(second.commit_new().unwrap_err().kind(), std::io::ErrorKind::AlreadyExists);
    /// assert_eq!(std::fs::read(&path)?, b"first");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Errors
    /// `AlreadyExists`, or other I/O errors; nothing is left behind.
    pub fn commit_new(mut self) -> io::Result<()> {
        self.file.flush()?;
        self.file.sync_all()?;
        if self.unnamed {
            #[cfg(target_os = "linux")]
            link_fd(&self.file, &self.target)?;
        } else {
            let named = self
                .named
                .clone()
                .ok_or_else(|| io::Error::other("temporary has no name"))?;
            // link(2) never replaces: the no-replace step. The temporary name goes after.
            fs::hard_link(&named, &self.target)?;
            fs::remove_file(&named)?;
            self.named = None;
        }
        sync_dir(&self.dir)
    }

    #[cfg(target_os = "linux")]
    fn name_temporarily(&mut self) -> io::Result<()> {
        loop {
            let tmp = random_temp_name(&self.target)?;
            match link_fd(&self.file, &tmp) {
                Ok(()) => {
                    self.named = Some(tmp);
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn name_temporarily(&mut self) -> io::Result<()> {
        Err(io::Error::other("unnamed files exist on linux only"))
    }

    #[cfg(unix)]
    fn copy_metadata(&self) -> io::Result<()> {
        use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
        let old = match fs::metadata(&self.target) {
            Ok(m) if m.is_file() => m,
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        // Owner first: chown clears set-id bits, and we drop those anyway.
        if rustix::process::geteuid().is_root() {
            std::os::unix::fs::fchown(&self.file, Some(old.uid()), Some(old.gid()))?;
        } else {
            // A user may give the file to a group they belong to; otherwise it stays theirs.
            let _ = std::os::unix::fs::fchown(&self.file, None, Some(old.gid()));
        }
        self.file
            .set_permissions(fs::Permissions::from_mode(old.mode() & 0o777))
    }

    #[cfg(not(unix))]
    fn copy_metadata(&self) -> io::Result<()> {
        match fs::metadata(&self.target) {
            Ok(m) => self.file.set_permissions(m.permissions()),
            Err(_) => Ok(()),
        }
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        // Not committed (an error, a failed authentication): the contents must not remain.
        if let Some(named) = self.named.take() {
            let _ = fs::remove_file(named);
        }
    }
}

/// An unnamed file in `dir`, or `None` where `O_TMPFILE` (or `/proc`, needed to name it
/// later without privileges) is not available.
#[cfg(target_os = "linux")]
fn unnamed_in(dir: &Path) -> io::Result<Option<File>> {
    use rustix::fs::{CWD, Mode, OFlags};
    #[cfg(test)]
    if FORCE_NAMED.load(std::sync::atomic::Ordering::Relaxed) {
        return Ok(None);
    }
    // Debug builds only: lets the `rampart` tool's crash tests exercise the named fallback
    // (NFS and other systems without O_TMPFILE) in real processes. Forcing the fallback is
    // harmless, and release builds do not read the variable at all.
    #[cfg(debug_assertions)]
    if std::env::var_os("RAMPART_TEST_ONLY_FORCE_NAMED_TEMPORARIES").is_some() {
        return Ok(None);
    }
    if !Path::new("/proc/self/fd").is_dir() {
        return Ok(None);
    }
    match rustix::fs::openat(
        CWD,
        dir,
        OFlags::WRONLY | OFlags::TMPFILE | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o600),
    ) {
        Ok(fd) => Ok(Some(File::from(fd))),
        // Kernels and file systems without O_TMPFILE answer with one of these.
        Err(e)
            if e == rustix::io::Errno::OPNOTSUPP
                || e == rustix::io::Errno::ISDIR
                || e == rustix::io::Errno::INVAL
                || e == rustix::io::Errno::NOSYS =>
        {
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// Gives an unnamed file the name `dest`; fails with `AlreadyExists` if `dest` exists.
#[cfg(target_os = "linux")]
fn link_fd(file: &File, dest: &Path) -> io::Result<()> {
    use std::os::fd::AsRawFd as _;

    use rustix::fs::{AtFlags, CWD};
    // Through /proc: linkat(AT_EMPTY_PATH) would need CAP_DAC_READ_SEARCH.
    let proc_path = format!("/proc/self/fd/{}", file.as_raw_fd());
    rustix::fs::linkat(CWD, proc_path.as_str(), CWD, dest, AtFlags::SYMLINK_FOLLOW)
        .map_err(io::Error::from)
}

/// A new temporary sibling of `target`, exclusively locked, that a concurrent sweep cannot
/// have removed: a sweep that took the lock between our `create_new` and our `lock` deletes
/// the name, which we see (the name no longer points at our file) and try again.
fn named_locked(target: &Path) -> io::Result<(File, PathBuf)> {
    loop {
        let tmp = random_temp_name(target)?;
        let mut opts = OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let file = match opts.open(&tmp) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        };
        file.lock()?;
        if same_file(&file, &tmp)? {
            return Ok((file, tmp));
        }
    }
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> io::Result<bool> {
    use std::os::unix::fs::MetadataExt as _;
    let ours = file.metadata()?;
    match fs::symlink_metadata(path) {
        Ok(m) => Ok(m.dev() == ours.dev() && m.ino() == ours.ino()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(not(unix))]
fn same_file(_file: &File, path: &Path) -> io::Result<bool> {
    Ok(path.exists())
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Removes the temporaries of `target` (`.NAME.tmp-<16 hex>` beside it) whose creator is
/// gone: those whose lock can be taken. A temporary of a live writer is locked and kept.
/// Returns how many were removed. Writers call it before they write; call it at start-up to
/// clean a directory after a crash.
///
/// ```
/// use rampart_envelope::atomic_file::sweep_stale;
///
/// let dir = tempfile::tempdir()?;
/// let target = dir.path().join("tokens.json");
/// // What a writer killed half-way (by an older version, or between link and rename) leaves:
/// std::fs::write(dir.path().join(".tokens.json.tmp-0123456789abcdef"), b"{...}")?;
/// assert_eq!(sweep_stale(&target)?, 1);
/// assert_eq!(std::fs::read_dir(dir.path())?.count(), 0);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Errors
/// I/O errors listing the directory; files that cannot be opened or removed are skipped.
pub fn sweep_stale(target: impl AsRef<Path>) -> io::Result<usize> {
    let target = target.as_ref();
    let prefix = temp_prefix(target)?;
    let prefix = prefix.to_string_lossy();
    let dir = parent_dir(target);
    let mut removed = 0;
    for entry in fs::read_dir(&dir)? {
        let Ok(entry) = entry else { continue };
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let Some(suffix) = name.strip_prefix(prefix.as_ref()) else {
            continue;
        };
        if suffix.len() != SUFFIX_HEX || !suffix.bytes().all(|b| b.is_ascii_hexdigit()) {
            continue;
        }
        let path = entry.path();
        // Regular files only: never follow or remove a planted symlink's target.
        if !fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_file()) {
            continue;
        }
        let Ok(file) = File::open(&path) else {
            continue;
        };
        if file.try_lock().is_err() {
            continue; // a live writer holds it
        }
        // Still the file we locked (not replaced by a live writer's new one meanwhile)?
        if same_file(&file, &path).unwrap_or(false) && fs::remove_file(&path).is_ok() {
            removed += 1;
        }
    }
    if removed > 0 {
        sync_dir(&dir)?;
    }
    Ok(removed)
}

/// Writes `path` atomically: `fill` writes the new contents into a fresh file (mode 0600;
/// `fill` may widen it with `set_permissions`), which then replaces `path`.
pub(crate) fn write_atomically(
    path: &Path,
    fill: impl FnOnce(&mut File) -> io::Result<()>,
) -> io::Result<()> {
    let mut out = AtomicFile::new(path)?;
    fill(out.as_file_mut())?;
    out.commit()
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;
    use std::sync::atomic::Ordering;

    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    /// Runs `f` with and without O_TMPFILE. The flag is process-wide, so tests that use it
    /// are serialised by this mutex.
    fn both_ways(f: impl Fn()) {
        static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _g = SERIAL
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for named in [false, true] {
            FORCE_NAMED.store(named, Ordering::Relaxed);
            f();
        }
        FORCE_NAMED.store(false, Ordering::Relaxed);
    }

    #[test]
    fn replaces_contents_and_leaves_no_temporary() {
        both_ways(|| {
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join("f.json");
            fs::write(&p, b"old").unwrap();
            write_atomically(&p, |f| f.write_all(b"new")).unwrap();
            assert_eq!(fs::read(&p).unwrap(), b"new");
            assert_eq!(entries(dir.path()), vec!["f.json"]);
        });
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn nothing_is_named_while_writing_where_o_tmpfile_exists() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("plain.txt");
        let mut out = AtomicFile::new(&p).unwrap();
        out.write_all(b"secret plaintext").unwrap();
        assert!(
            entries(dir.path()).is_empty(),
            "the half-written file has no name"
        );
        drop(out);
        assert!(entries(dir.path()).is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn planted_symlink_at_a_guessable_temp_name_is_not_followed() {
        // A fixed "<path>.tmp" opened with truncate would write through this link.
        both_ways(|| {
            let dir = tempfile::tempdir().unwrap();
            let victim = dir.path().join("victim");
            fs::write(&victim, b"precious").unwrap();
            let p = dir.path().join("f.json");
            std::os::unix::fs::symlink(&victim, dir.path().join("f.json.tmp")).unwrap();
            std::os::unix::fs::symlink(&victim, dir.path().join(".f.json.tmp")).unwrap();
            write_atomically(&p, |f| f.write_all(b"new")).unwrap();
            assert_eq!(fs::read(&victim).unwrap(), b"precious");
            assert_eq!(fs::read(&p).unwrap(), b"new");
        });
    }

    #[test]
    fn failed_write_removes_the_temporary_and_keeps_the_old_file() {
        both_ways(|| {
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
        });
    }

    #[test]
    fn failed_rename_removes_the_temporary() {
        // Renaming a file over a non-empty directory fails after the temporary was written.
        both_ways(|| {
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join("target");
            fs::create_dir(&p).unwrap();
            fs::write(p.join("inside"), b"x").unwrap();
            assert!(write_atomically(&p, |f| f.write_all(b"new")).is_err());
            assert_eq!(entries(dir.path()), vec!["target"]);
        });
    }

    #[cfg(unix)]
    #[test]
    fn commit_new_never_replaces_a_file_or_a_dangling_symlink() {
        both_ways(|| {
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join("k.json");
            std::os::unix::fs::symlink(dir.path().join("nowhere"), &p).unwrap();
            let mut out = AtomicFile::new(&p).unwrap();
            out.write_all(b"new").unwrap();
            assert_eq!(
                out.commit_new().unwrap_err().kind(),
                io::ErrorKind::AlreadyExists
            );
            assert!(fs::symlink_metadata(&p).unwrap().file_type().is_symlink());
            assert!(!dir.path().join("nowhere").exists());
            assert_eq!(entries(dir.path()), vec!["k.json"]);
        });
    }

    #[cfg(unix)]
    #[test]
    fn keep_metadata_keeps_the_mode_of_the_replaced_file() {
        use std::os::unix::fs::PermissionsExt as _;
        both_ways(|| {
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join("shared.rpf");
            fs::write(&p, b"old").unwrap();
            fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
            let mut out = AtomicFile::new(&p).unwrap().with_keep_metadata(true);
            out.write_all(b"new").unwrap();
            out.commit().unwrap();
            assert_eq!(
                fs::metadata(&p).unwrap().permissions().mode() & 0o777,
                0o640
            );
            let fresh = dir.path().join("fresh");
            let mut out = AtomicFile::new(&fresh).unwrap().with_keep_metadata(true);
            out.write_all(b"x").unwrap();
            out.commit().unwrap();
            let mode = fs::metadata(&fresh).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        });
    }

    #[test]
    fn sweep_keeps_a_live_writers_temporary_and_removes_a_dead_ones() {
        both_ways(|| {
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join("t.json");
            let mut live = AtomicFile::new(&p).unwrap();
            live.write_all(b"in progress").unwrap();
            if !live.unnamed {
                // Named fallback: the live writer's temporary is locked, so it stays.
                assert_eq!(sweep_stale(&p).unwrap(), 0);
                assert_eq!(entries(dir.path()).len(), 1);
            }
            fs::write(dir.path().join(".t.json.tmp-00000000000000aa"), b"dead").unwrap();
            fs::write(dir.path().join(".t.json.tmp-not-ours"), b"other").unwrap();
            assert_eq!(sweep_stale(&p).unwrap(), 1);
            live.commit().unwrap();
            assert_eq!(entries(dir.path()), vec![".t.json.tmp-not-ours", "t.json"]);
        });
    }
}
