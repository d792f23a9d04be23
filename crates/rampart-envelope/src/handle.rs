//! A keyring shared by a long-running service that follows rotations without a restart.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use crate::error::Error;
use crate::store::KeyringStore;
use crate::{Context, Keyring, MasterKey};

/// A keyring a service shares between its threads (`Arc<KeyringHandle>`), kept in step with
/// its store (a file, a database row) while the service runs.
///
/// - **Opening** a value sealed under a version this keyring does not know (a replica that
///   reloaded after a rotation sealed it) reloads once, then opens. A reload is attempted
///   only when the store's generation changed, so forged version numbers cannot make it
///   hammer the store.
/// - **Sealing** asks the store for its generation (a file store: one `stat`, the document is
///   re-read only when the file changed) at most every [`with_check_interval`](Self::with_check_interval)
///   (default: before every seal) and reloads when it changed, so the service seals under the
///   new primary as soon as the rotation is saved.
/// - **A failed reload** (bad MAC, a file edited by hand, the store down) keeps the last good
///   keyring, which goes on serving, and is reported by
///   [`last_reload_error`](Self::last_reload_error). But it never seals under a version
///   the stored document shows retired: then sealing fails with
///   [`Error::PrimaryRetiredInStore`] until a reload succeeds.
///
/// ```
/// use std::time::SystemTime;
/// use rampart_envelope::{Context, FileKeyringStore, Keyring, KeyringHandle, LocalMasterKey};
///
/// let master = std::sync::Arc::new(LocalMasterKey::generate()?);
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("tokens.json");
/// Keyring::create("tokens", "eu", &master, SystemTime::now())?.save(&path)?;
///
/// let handle = KeyringHandle::new(FileKeyringStore::new(&path), master.clone())?;
/// let ctx = Context::new().with("tenant", "42");
/// let old = handle.seal(b"before", &ctx)?;
///
/// // Another process (an operator, a cron job) rotates and seals under version 2.
/// let (rotated, _) = Keyring::update(&FileKeyringStore::new(&path), &master, |r| {
///     r.rotate(&master, SystemTime::now())
/// })?;
/// let new = rotated.seal(b"after", &ctx)?;
///
/// assert_eq!(&handle.open(&new, &ctx)?[..], b"after"); // reloads on the unknown version
/// assert_eq!(&handle.open(&old, &ctx)?[..], b"before");
/// let sealed = handle.seal(b"now", &ctx)?;
/// assert_eq!(handle.current().version_of(&sealed)?, 2); // seals under the new primary
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct KeyringHandle {
    store: Box<dyn KeyringStore>,
    master: Box<dyn MasterKey>,
    current: RwLock<Arc<Keyring>>,
    check_interval: Duration,
    last_check: Mutex<Option<Instant>>,
    last_error: Mutex<Option<Arc<Error>>>,
}

impl fmt::Debug for KeyringHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyringHandle")
            .field("current", &self.current())
            .field("check_interval", &self.check_interval)
            .finish_non_exhaustive()
    }
}

impl KeyringHandle {
    /// Loads the keyring from `store` with `master`; the first load must succeed.
    ///
    /// # Errors
    /// The errors of [`Keyring::load_from`].
    pub fn new(
        store: impl KeyringStore + 'static,
        master: impl MasterKey + 'static,
    ) -> Result<Self, Error> {
        let ring = Keyring::load_from(&store, &master)?;
        Ok(Self {
            store: Box::new(store),
            master: Box::new(master),
            current: RwLock::new(Arc::new(ring)),
            check_interval: Duration::ZERO,
            last_check: Mutex::new(None),
            last_error: Mutex::new(None),
        })
    }

    /// How often sealing asks the store whether the keyring changed (default zero: before
    /// every seal). Longer intervals save the `stat` per seal; then a replica may seal under
    /// the old primary for up to this long after a rotation, so retire the old version only
    /// after this interval has passed since the rotation (the old version still opens).
    #[must_use]
    pub fn with_check_interval(mut self, interval: Duration) -> Self {
        self.check_interval = interval;
        self
    }

    /// The keyring in use now (a snapshot: later reloads do not change it).
    pub fn current(&self) -> Arc<Keyring> {
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// The error of the last reload if it failed (`None` once a reload succeeds again).
    pub fn last_reload_error(&self) -> Option<Arc<Error>> {
        self.last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Reloads now if the store's generation differs from the keyring in use. Returns
    /// whether it changed the keyring. On failure the last good keyring stays in use and
    /// the error is also kept for [`last_reload_error`](Self::last_reload_error).
    ///
    /// # Errors
    /// The store's and [`Keyring::load_from`]'s errors (shared: the same error is kept).
    pub fn reload_if_changed(&self) -> Result<bool, Arc<Error>> {
        let result = self.try_reload().map_err(Arc::new);
        *self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = result.as_ref().err().map(Arc::clone);
        result
    }

    fn try_reload(&self) -> Result<bool, Error> {
        let stored = self.store.generation()?;
        if stored.is_some() && stored == self.current().generation() {
            return Ok(false);
        }
        let ring = Keyring::load_from(self.store.as_ref(), self.master.as_ref())?;
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        // Never go back to an older generation (two threads reloading at once).
        if current.generation() < ring.generation() {
            *current = Arc::new(ring);
            return Ok(true);
        }
        Ok(false)
    }

    /// The keyring to seal with: checked against the store when the interval has passed.
    ///
    /// # Errors
    /// [`Error::PrimaryRetiredInStore`] when the reload failed and the stored document
    /// shows the primary in use retired.
    pub fn sealing_keyring(&self) -> Result<Arc<Keyring>, Error> {
        let due = {
            let mut last = self
                .last_check
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let due = last.is_none_or(|t| t.elapsed() >= self.check_interval);
            if due {
                *last = Some(Instant::now());
            }
            due
        };
        if due && self.reload_if_changed().is_err() {
            self.refuse_if_retired_in_store()?;
        }
        Ok(self.current())
    }

    /// After a failed reload: the stored document, unverified, may still say that our
    /// primary is retired; believing it can only make us refuse, never accept.
    fn refuse_if_retired_in_store(&self) -> Result<(), Error> {
        let ring = self.current();
        let Some(primary) = ring.primary_version() else {
            return Ok(());
        };
        if let Ok(Some(doc)) = self.store.load()
            && crate::keyring_file::peek_retired(&doc.json)
                .is_some_and(|retired| retired.contains(&primary))
        {
            return Err(Error::PrimaryRetiredInStore { version: primary });
        }
        Ok(())
    }

    /// Seals under the current primary (see [`Keyring::seal`]), after the store check.
    ///
    /// # Errors
    /// As [`Keyring::seal`] and [`sealing_keyring`](Self::sealing_keyring).
    pub fn seal(&self, plaintext: &[u8], context: &Context) -> Result<Vec<u8>, Error> {
        self.sealing_keyring()?.seal(plaintext, context)
    }

    /// Opens (see [`Keyring::open`]); a version newer than any this keyring knows triggers
    /// one reload (if the store changed) and a second attempt.
    ///
    /// # Errors
    /// As [`Keyring::open`].
    pub fn open(&self, ciphertext: &[u8], context: &Context) -> Result<Zeroizing<Vec<u8>>, Error> {
        let ring = self.current();
        match ring.open(ciphertext, context) {
            Err(Error::UnknownKeyVersion { version })
                if ring.versions().last().is_none_or(|v| version > v.version) =>
            {
                if self.reload_if_changed().unwrap_or(false) {
                    self.current().open(ciphertext, context)
                } else {
                    Err(Error::UnknownKeyVersion { version })
                }
            }
            other => other,
        }
    }

    /// [`seal`](Self::seal) then unpadded base64url.
    ///
    /// # Errors
    /// As [`seal`](Self::seal).
    pub fn seal_text(&self, plaintext: &[u8], context: &Context) -> Result<String, Error> {
        self.sealing_keyring()?.seal_text(plaintext, context)
    }

    /// Decodes the text form then [`open`](Self::open).
    ///
    /// # Errors
    /// [`Error::MalformedText`], and as [`open`](Self::open).
    pub fn open_text(&self, text: &str, context: &Context) -> Result<Zeroizing<Vec<u8>>, Error> {
        let ct = crate::primitives::b64url_decode(text).ok_or(Error::MalformedText)?;
        self.open(&ct, context)
    }
}
