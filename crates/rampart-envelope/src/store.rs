//! Where a keyring document lives, and how changes to it stay right when writers race.
//!
//! Every change of a keyring is load, modify, save. Two writers doing that at once (a cron
//! `keyring rotate` and an operator's `keyring retire`) would both succeed, the last rename
//! winning: a retired version would come back, or two different "version 2" keys would exist
//! and values sealed under the losing one would be lost. Two mechanisms stop that
//! (`docs/envelope.md` §11):
//!
//! - **Serialised changes.** [`KeyringStore::lock`] is held across load, modify and save
//!   ([`Keyring::update`] does the three under it). For files it is an exclusive `flock` on
//!   a sidecar file `.NAME.lock` beside the keyring (the keyring itself is replaced by rename,
//!   so it cannot carry the lock). The lock file stays in place: removing it would let two
//!   writers lock two different files. Readers never lock.
//! - **Compare-and-swap.** Every document carries a `generation`, covered by its MAC and
//!   raised by one at every save; [`KeyringStore::compare_and_swap`] writes only if the
//!   stored generation is still the one the change started from, and otherwise fails with
//!   [`Error::KeyringChanged`] having written nothing. This catches what the lock cannot: a
//!   writer that ignores it, a file on NFS, a keyring kept in a database row.
//!
//! A database store implements the trait with one row per keyring:
//! `UPDATE keyrings SET doc = $new, generation = $new_gen WHERE name = $1 AND generation =
//! $expected` (0 rows: [`Error::KeyringChanged`]), and `INSERT` for a creation (a unique
//! violation: [`Error::KeyringExists`]). Its CAS is atomic, so it may leave
//! [`KeyringStore::lock`] at the default (no lock): a lost race then fails cleanly.

use std::any::Any;
use std::fmt;
use std::fs::File;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::atomic_file::{AtomicFile, sweep_stale};
use crate::error::{Error, KeyringFileError};
use crate::keyring::MAX_FILE_LEN;

/// A stored keyring document and its generation.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoredKeyring {
    /// The document ([`Keyring::to_json`](crate::Keyring::to_json) form). It holds only
    /// wrapped keys, but is still kept out of logs ([`fmt::Debug`] shows its length).
    pub json: String,
    /// Its generation (the MAC-covered `generation` field; 0 for documents older than it).
    pub generation: u64,
}

impl StoredKeyring {
    /// A document with its generation (for [`KeyringStore`] implementations).
    pub fn new(json: String, generation: u64) -> Self {
        Self { json, generation }
    }
}

impl fmt::Debug for StoredKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredKeyring")
            .field("generation", &self.generation)
            .field("json_len", &self.json.len())
            .finish()
    }
}

/// Held while a change is made; dropping it releases the store's lock.
#[must_use = "the lock is released when this is dropped"]
pub struct StoreLock(Option<Box<dyn Any + Send>>);

impl StoreLock {
    /// No lock (stores whose compare-and-swap is atomic on its own).
    pub fn none() -> Self {
        Self(None)
    }

    /// A lock released when `guard` is dropped.
    pub fn holding<T: Send + 'static>(guard: T) -> Self {
        Self(Some(Box::new(guard)))
    }
}

impl fmt::Debug for StoreLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("StoreLock").field(&self.0.is_some()).finish()
    }
}

/// Where one keyring document is kept: a file ([`FileKeyringStore`]), a database row, a
/// secret store. Object-safe, so services can hold a `Box<dyn KeyringStore>`.
///
/// ```
/// use rampart_envelope::{FileKeyringStore, Keyring, KeyringStore, LocalMasterKey};
///
/// let master = LocalMasterKey::generate()?;
/// let dir = tempfile::tempdir()?;
/// let store = FileKeyringStore::new(dir.path().join("tokens.json"));
/// let ring = Keyring::create("tokens", "eu-central", &master, std::time::SystemTime::now())?;
/// ring.save_to(&store)?; // a creation: never replaces an existing document
/// assert_eq!(store.load()?.map(|d| d.generation), Some(1));
/// let (ring, v) = Keyring::update(&store, &master, |r| r.rotate(&master, std::time::SystemTime::now()))?;
/// assert_eq!((v, ring.generation()), (2, Some(2)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait KeyringStore: Send + Sync {
    /// The stored document, or `None` when there is none.
    ///
    /// # Errors
    /// The store's own errors (I/O, database).
    fn load(&self) -> Result<Option<StoredKeyring>, Error>;

    /// Stores `new` if the stored generation is `expected` (`None`: only if nothing is
    /// stored). Atomic against other calls of it, as far as the store allows (see
    /// [`FileKeyringStore`]).
    ///
    /// # Errors
    /// [`Error::KeyringChanged`] when the stored generation differs, [`Error::KeyringExists`]
    /// for a creation that finds a document; nothing is written in either case. The store's
    /// own errors otherwise.
    fn compare_and_swap(&self, expected: Option<u64>, new: &StoredKeyring) -> Result<(), Error>;

    /// Takes the store's exclusive change lock, held until the result is dropped. Default:
    /// no lock, for stores whose compare-and-swap suffices.
    ///
    /// # Errors
    /// When the lock cannot be taken (see [`KeyringFileError::Locked`]).
    fn lock(&self) -> Result<StoreLock, Error> {
        Ok(StoreLock::none())
    }

    /// The stored generation, cheaply if the store can (a file store `stat`s and re-reads
    /// only when the file changed). Default: [`load`](Self::load).
    ///
    /// # Errors
    /// As [`load`](Self::load).
    fn generation(&self) -> Result<Option<u64>, Error> {
        Ok(self.load()?.map(|d| d.generation))
    }
}

/// Default for how long [`FileKeyringStore::lock`] waits for another writer.
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(60);

/// A keyring kept in a file, replaced atomically (see [`crate::atomic_file`]), with a
/// sidecar lock file `.NAME.lock` in the same directory.
///
/// Its compare-and-swap reads the stored generation and then renames: atomic against
/// every writer that holds [`lock`](KeyringStore::lock) (all of this crate's writers and
/// the `rampart` tool do); against one that does not, it narrows the window to the instant
/// between the check and the rename.
///
/// A symlink at the keyring path is refused by every writer ([`KeyringFileError::Symlink`]):
/// a rename would replace the link, not the file it points to. Readers follow links.
pub struct FileKeyringStore {
    path: PathBuf,
    lock_wait: Duration,
    /// (file identity, generation) of the last read, for cheap [`KeyringStore::generation`].
    seen: Mutex<Option<(FileStamp, u64)>>,
}

impl fmt::Debug for FileKeyringStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileKeyringStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// What changes when a keyring file is replaced: every save renames a new inode over it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct FileStamp {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: Option<std::time::SystemTime>,
}

impl FileStamp {
    fn of(m: &std::fs::Metadata) -> Self {
        #[cfg(unix)]
        let (dev, ino) = {
            use std::os::unix::fs::MetadataExt as _;
            (m.dev(), m.ino())
        };
        #[cfg(not(unix))]
        let (dev, ino) = (0, 0);
        Self {
            dev,
            ino,
            len: m.len(),
            mtime: m.modified().ok(),
        }
    }
}

fn io_err(path: &Path, source: std::io::Error) -> Error {
    KeyringFileError::Io {
        path: path.to_path_buf(),
        source,
    }
    .into()
}

impl FileKeyringStore {
    /// A store for the keyring file at `path` (which need not exist yet).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            lock_wait: DEFAULT_LOCK_WAIT,
            seen: Mutex::new(None),
        }
    }

    /// How long [`lock`](KeyringStore::lock) waits for another writer (default
    /// [`DEFAULT_LOCK_WAIT`]) before failing with [`KeyringFileError::Locked`].
    #[must_use]
    pub fn with_lock_wait(mut self, wait: Duration) -> Self {
        self.lock_wait = wait;
        self
    }

    /// The keyring file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The sidecar lock file, `.NAME.lock` beside the keyring.
    pub fn lock_path(&self) -> PathBuf {
        let mut name = std::ffi::OsString::from(".");
        name.push(self.path.file_name().unwrap_or_default());
        name.push(".lock");
        self.path.with_file_name(name)
    }

    /// Refuses a symlink (even a dangling one) at the keyring path.
    fn refuse_symlink(&self) -> Result<(), Error> {
        match std::fs::symlink_metadata(&self.path) {
            Ok(m) if m.file_type().is_symlink() => Err(KeyringFileError::Symlink {
                path: self.path.clone(),
            }
            .into()),
            _ => Ok(()),
        }
    }

    /// The stored document; a missing file is the I/O error (with its path), as
    /// `Keyring::load` has always reported it.
    pub(crate) fn load_existing(&self) -> Result<StoredKeyring, Error> {
        let file = File::open(&self.path).map_err(|e| io_err(&self.path, e))?;
        let (json, stamp) = self.read_from(file)?;
        let generation = crate::keyring_file::peek_generation(&json)?;
        self.remember(stamp, generation);
        Ok(StoredKeyring { json, generation })
    }

    fn read(&self) -> Result<Option<(String, FileStamp)>, Error> {
        let file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err(&self.path, e)),
        };
        self.read_from(file).map(Some)
    }

    fn read_from(&self, file: File) -> Result<(String, FileStamp), Error> {
        let stamp = FileStamp::of(&file.metadata().map_err(|e| io_err(&self.path, e))?);
        let mut text = String::new();
        file.take(MAX_FILE_LEN as u64 + 1)
            .read_to_string(&mut text)
            .map_err(|e| io_err(&self.path, e))?;
        if text.len() > MAX_FILE_LEN {
            return Err(KeyringFileError::TooLarge { max: MAX_FILE_LEN }.into());
        }
        Ok((text, stamp))
    }

    fn remember(&self, stamp: FileStamp, generation: u64) {
        if let Ok(mut seen) = self.seen.lock() {
            *seen = Some((stamp, generation));
        }
    }
}

impl KeyringStore for FileKeyringStore {
    fn load(&self) -> Result<Option<StoredKeyring>, Error> {
        let Some((json, stamp)) = self.read()? else {
            return Ok(None);
        };
        let generation = crate::keyring_file::peek_generation(&json)?;
        self.remember(stamp, generation);
        Ok(Some(StoredKeyring { json, generation }))
    }

    fn compare_and_swap(&self, expected: Option<u64>, new: &StoredKeyring) -> Result<(), Error> {
        self.refuse_symlink()?;
        let found = self
            .read()?
            .map(|(json, _)| crate::keyring_file::peek_generation(&json).unwrap_or(0));
        match (expected, found) {
            (None, Some(_)) => return Err(Error::KeyringExists),
            (e, f) if e != f => {
                return Err(Error::KeyringChanged {
                    expected: e,
                    found: f,
                });
            }
            _ => {}
        }
        let mut out = AtomicFile::new(&self.path).map_err(|e| io_err(&self.path, e))?;
        out.write_all(new.json.as_bytes())
            .map_err(|e| io_err(&self.path, e))?;
        match expected {
            // A creation never replaces: two creators at once, exactly one wins.
            None => out.commit_new().map_err(|e| {
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    Error::KeyringExists
                } else {
                    io_err(&self.path, e)
                }
            }),
            Some(_) => out.commit().map_err(|e| io_err(&self.path, e)),
        }
    }

    fn lock(&self) -> Result<StoreLock, Error> {
        let lock_path = self.lock_path();
        let file = open_lock_file(&lock_path).map_err(|e| io_err(&lock_path, e))?;
        let started = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) => {
                    if started.elapsed() >= self.lock_wait {
                        return Err(KeyringFileError::Locked {
                            path: lock_path,
                            waited_secs: self.lock_wait.as_secs(),
                        }
                        .into());
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(io_err(&lock_path, e)),
            }
        }
        // Under the lock no other writer of this keyring is mid-write, so a temporary copy of
        // it can only be a dead writer's: remove it (it may hold keys retired since).
        let _ = sweep_stale(&self.path);
        Ok(StoreLock::holding(file))
    }

    fn generation(&self) -> Result<Option<u64>, Error> {
        let stamp = match std::fs::metadata(&self.path) {
            Ok(m) => FileStamp::of(&m),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err(&self.path, e)),
        };
        if let Ok(seen) = self.seen.lock()
            && let Some((s, g)) = *seen
            && s == stamp
        {
            return Ok(Some(g));
        }
        Ok(self.load()?.map(|d| d.generation))
    }
}

/// Opens (creating, mode 0600) the sidecar lock file without following a symlink there.
fn open_lock_file(path: &Path) -> std::io::Result<File> {
    #[cfg(unix)]
    {
        use rustix::fs::{CWD, Mode, OFlags};
        let fd = rustix::fs::openat(
            CWD,
            path,
            OFlags::RDWR | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )?;
        Ok(File::from(fd))
    }
    #[cfg(not(unix))]
    {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
    }
}
