//! The keyring operations that call the master key, for an [`AsyncMasterKey`] (a KMS behind
//! the network). Each one is the sync operation's pure parts (in `keyring.rs`,
//! `keyring_file.rs` and `lifecycle.rs`) around one awaited provider call; reading and
//! writing the keyring file stay synchronous (a small local file, replaced by rename).

use super::*;
use crate::async_master_key::AsyncMasterKey;

impl Keyring {
    /// [`Keyring::create`] with an async master key: one awaited wrap. A key that does
    /// not admit `region` ([`MasterKeyError::RegionMismatch`]) is refused before the call.
    ///
    /// ```
    /// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// # rt.block_on(async {
    /// use rampart_envelope::{Keyring, LocalMasterKey};
    /// let master = LocalMasterKey::generate()?; // every MasterKey is an AsyncMasterKey
    /// let ring = Keyring::create_async("tokens", "eu", &master, std::time::SystemTime::now()).await?;
    /// assert_eq!(ring.primary_version(), Some(1));
    /// # Ok::<(), rampart_envelope::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn create_async(
        name: &str,
        region: &str,
        master: &(impl AsyncMasterKey + ?Sized),
        now: SystemTime,
    ) -> Result<Keyring, Error> {
        let draft = Draft::new(name, region, KeyringKind::Values, master.id(), |r| {
            master.admits_region(r)
        })?;
        let wrapped = master.wrap(&draft.krk, &draft.aad).await?;
        let mut ring = draft.finish(wrapped);
        ring.insert_version(1, VersionState::Primary, now)?;
        Ok(ring)
    }

    /// [`Keyring::from_json`] with an async master key: every check of the document, the
    /// master key's id and region before the one awaited unwrap.
    ///
    /// ```
    /// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// # rt.block_on(async {
    /// use rampart_envelope::{Keyring, LocalMasterKey};
    /// let master = LocalMasterKey::generate()?;
    /// let json = Keyring::create("t", "eu", &master, std::time::SystemTime::now())?.to_json()?;
    /// let ring = Keyring::from_json_async(&json, &master).await?;
    /// assert_eq!(ring.name(), "t");
    /// # Ok::<(), rampart_envelope::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn from_json_async(
        json: &str,
        master: &(impl AsyncMasterKey + ?Sized),
    ) -> Result<Keyring, Error> {
        let parsed = crate::keyring_file::parse(json)?;
        parsed.check_master(master.id(), |r| master.admits_region(r))?;
        let krk = master.unwrap(&parsed.wrapped_krk, &parsed.aad).await?;
        parsed.finish(krk)
    }

    /// [`Keyring::load`] with an async master key (the file is read synchronously: it is
    /// small and local).
    ///
    /// ```
    /// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// # rt.block_on(async {
    /// use rampart_envelope::{Keyring, LocalMasterKey};
    /// let master = LocalMasterKey::generate()?;
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("k.json");
    /// Keyring::create("k", "eu", &master, std::time::SystemTime::now())?.save(&path)?;
    /// assert_eq!(Keyring::load_async(&path, &master).await?.generation(), Some(1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn load_async(
        path: impl AsRef<Path>,
        master: &(impl AsyncMasterKey + ?Sized),
    ) -> Result<Keyring, Error> {
        let doc = FileKeyringStore::new(path.as_ref()).load_existing()?;
        Self::from_json_async(&doc.json, master).await
    }

    /// [`Keyring::rotate`] with an async master key. Rotation makes no provider call (the
    /// new version key is wrapped under the keyring key); the master key is checked by id so
    /// a rotation is never saved by someone who could not load the result.
    ///
    /// ```
    /// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// # rt.block_on(async {
    /// use rampart_envelope::{Keyring, LocalMasterKey};
    /// let master = LocalMasterKey::generate()?;
    /// let now = std::time::SystemTime::now();
    /// let mut ring = Keyring::create_async("k", "eu", &master, now).await?;
    /// assert_eq!(ring.rotate_async(&master, now).await?, 2);
    /// # Ok::<(), rampart_envelope::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn rotate_async(
        &mut self,
        master: &(impl AsyncMasterKey + ?Sized),
        now: SystemTime,
    ) -> Result<u32, Error> {
        let v = self.add_version_checked(master.id(), now)?;
        self.promote(v)?;
        Ok(v)
    }

    /// [`Keyring::rewrap`] between any two providers (local, PKCS#11, KMS): the old key
    /// unwraps the keyring key (and must give the one we hold), the new key wraps it. No
    /// version key and no data changes. `new`'s region rule is checked before any call.
    ///
    /// ```
    /// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// # rt.block_on(async {
    /// use rampart_envelope::{Context, Keyring, LocalMasterKey, MasterKey};
    /// let (old, new) = (LocalMasterKey::generate()?, LocalMasterKey::generate()?);
    /// let mut ring = Keyring::create("k", "eu", &old, std::time::SystemTime::now())?;
    /// let sealed = ring.seal(b"kept", &Context::new())?;
    /// ring.rewrap_async(&old, &new).await?;
    /// let loaded = Keyring::from_json_async(&ring.to_json()?, &new).await?;
    /// assert_eq!(&loaded.open(&sealed, &Context::new())?[..], b"kept");
    /// # Ok::<(), rampart_envelope::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn rewrap_async(
        &mut self,
        old: &(impl AsyncMasterKey + ?Sized),
        new: &(impl AsyncMasterKey + ?Sized),
    ) -> Result<(), Error> {
        let aad = self.rewrap_check(old.id(), |r| new.admits_region(r))?;
        self.rewrap_confirm(&old.unwrap(&self.wrapped_krk, &aad).await?)?;
        let wrapped = new.wrap(&self.krk.raw, &aad).await?;
        self.rewrap_finish(new.id(), wrapped);
        Ok(())
    }
}
