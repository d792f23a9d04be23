//! A keyring's life cycle (`docs/envelope.md` §6): versions added, promoted, retired and
//! destroyed, the decrypt floor, rewrapping under a new master key, and the hooks retention
//! keyrings build their time buckets on.

use super::*;

impl Keyring {
    // ---- rotation --------------------------------------------------------------------------

    pub(super) fn check_master(&self, given: &MasterKeyId) -> Result<(), Error> {
        if given != &self.master_key_id {
            return Err(MasterKeyError::WrongMasterKey {
                expected: self.master_key_id.to_string(),
                got: given.to_string(),
            }
            .into());
        }
        Ok(())
    }

    fn next_version_number(&self) -> Result<u32, Error> {
        match self.versions.keys().next_back() {
            None => Ok(1),
            Some(&v) => v
                .checked_add(1)
                .ok_or(Error::InvalidOperation("version numbers exhausted")),
        }
    }

    /// Adds a new version in state [`VersionState::Staged`]: it decrypts but does not seal
    /// until [`Keyring::promote`]. Lets every replica learn a key before anything uses it.
    ///
    /// [`Error::NotForRetention`] for a retention keyring: its version numbers are time
    /// buckets, and the next number would be a bucket out of time order.
    pub fn add_version(&mut self, master: &dyn MasterKey, now: SystemTime) -> Result<u32, Error> {
        self.add_version_checked(master.id(), now)
    }

    /// [`Keyring::add_version`] once the master key is known by its id: adding a version
    /// wraps the new key under the keyring key and makes no provider call.
    pub(super) fn add_version_checked(
        &mut self,
        master: &MasterKeyId,
        now: SystemTime,
    ) -> Result<u32, Error> {
        self.refuse_retention("rotate")?;
        self.check_master(master)?;
        let v = self.next_version_number()?;
        self.insert_version(v, VersionState::Staged, now)?;
        Ok(v)
    }

    /// Makes `version` the primary; the old primary becomes [`VersionState::Active`].
    /// Only a staged or active version at or above `min_decrypt` can be promoted.
    pub fn promote(&mut self, version: u32) -> Result<(), Error> {
        let v = self
            .versions
            .get(&version)
            .ok_or(Error::UnknownKeyVersion { version })?;
        match v.state {
            VersionState::Primary => return Ok(()),
            VersionState::Retired => {
                return Err(Error::KeyRetired {
                    version,
                    retired_at: v.retired.unwrap_or(SystemTime::UNIX_EPOCH),
                });
            }
            VersionState::Staged | VersionState::Active => {}
        }
        if version < self.min_decrypt {
            return Err(Error::BelowMinDecrypt {
                version,
                min: self.min_decrypt,
            });
        }
        if let Some(old) = self.primary.and_then(|p| self.versions.get_mut(&p)) {
            old.state = VersionState::Active;
        }
        if let Some(v) = self.versions.get_mut(&version) {
            v.state = VersionState::Primary;
        }
        self.primary = Some(version);
        Ok(())
    }

    /// Adds a version and makes it primary in one step (single-node deployments); returns
    /// its number. `master` must be the keyring's master key ([`MasterKeyError::WrongMasterKey`]
    /// otherwise), so a rotation is never saved by someone who could not load the result.
    pub fn rotate(&mut self, master: &dyn MasterKey, now: SystemTime) -> Result<u32, Error> {
        let v = self.add_version(master, now)?;
        self.promote(v)?;
        Ok(v)
    }

    /// Sets the lowest version `open` accepts (reversible, like Vault's
    /// `min_decryption_version`). Must not exceed the primary.
    pub fn set_min_decrypt(&mut self, version: u32) -> Result<(), Error> {
        if self.primary.is_some_and(|p| version > p) {
            return Err(Error::InvalidOperation(
                "min_decrypt cannot exceed the primary version",
            ));
        }
        self.min_decrypt = version;
        Ok(())
    }

    /// Retires every version below `version`: destroys its key material (data sealed under
    /// it becomes unreadable, on purpose) and keeps a tombstone. Irreversible. Raises
    /// `min_decrypt` to `version` if it was lower; `version` must not exceed the primary.
    /// Returns the versions newly retired. See the crate docs for what "destroyed" covers.
    ///
    /// ```
    /// use rampart_envelope::{Context, Error, Keyring, LocalMasterKey};
    ///
    /// let master = LocalMasterKey::generate()?;
    /// let now = std::time::SystemTime::now();
    /// let mut ring = Keyring::create("tokens", "eu-central", &master, now)?;
    /// let ctx = Context::new();
    /// let old = ring.seal(b"v1 data", &ctx)?;
    /// ring.rotate(&master, now)?;
    /// let upgraded = ring.reencrypt(&old, &ctx)?; // what a ReencryptJob does for every row
    /// assert_eq!(ring.retire_below(2, now)?, vec![1]);
    /// assert!(matches!(ring.open(&old, &ctx), Err(Error::KeyRetired { version: 1, .. })));
    /// assert_eq!(&ring.open(&upgraded, &ctx)?[..], b"v1 data");
    /// assert!(ring.retire_below(3, now).is_err()); // never the primary
    /// # Ok::<(), Error>(())
    /// ```
    ///
    /// [`Error::NotForRetention`] for a retention keyring (buckets are destroyed by
    /// [`purge`](crate::retention::RetentionKeyring::purge), in time order).
    pub fn retire_below(&mut self, version: u32, now: SystemTime) -> Result<Vec<u32>, Error> {
        self.refuse_retention("retire")?;
        let primary = self.primary.ok_or(Error::NoPrimary)?;
        if version > primary {
            return Err(Error::InvalidOperation(
                "cannot retire the primary version or newer ones",
            ));
        }
        let targets: Vec<u32> = self
            .versions
            .range(..version)
            .filter(|(_, v)| v.state != VersionState::Retired)
            .map(|(&n, _)| n)
            .collect();
        for &n in &targets {
            self.destroy_version(n, now)?;
        }
        self.min_decrypt = self.min_decrypt.max(version);
        Ok(targets)
    }

    /// Moves the keyring to a new master key: rewraps the keyring key only; no data and no
    /// version key changes. `old` must be the current master key and must unwrap it.
    ///
    /// ```
    /// use rampart_envelope::{Context, Keyring, LocalMasterKey, MasterKey};
    ///
    /// let old = LocalMasterKey::generate()?;
    /// let new = LocalMasterKey::generate()?;
    /// let mut ring = Keyring::create("tokens", "eu-central", &old, std::time::SystemTime::now())?;
    /// let ctx = Context::new();
    /// let sealed = ring.seal(b"kept", &ctx)?;
    /// ring.rewrap(&old, &new)?;
    /// assert_eq!(ring.master_key_id(), new.id());
    /// let json = ring.to_json()?;
    /// let loaded = Keyring::from_json(&json, &new)?;
    /// assert_eq!(&loaded.open(&sealed, &ctx)?[..], b"kept"); // data untouched
    /// assert!(Keyring::from_json(&json, &old).is_err());
    /// # Ok::<(), rampart_envelope::Error>(())
    /// ```
    pub fn rewrap(&mut self, old: &dyn MasterKey, new: &dyn MasterKey) -> Result<(), Error> {
        let aad = self.rewrap_check(old.id(), |r| new.admits_region(r))?;
        self.rewrap_confirm(&old.unwrap(&self.wrapped_krk, &aad)?)?;
        let wrapped = new.wrap(&self.krk.raw, &aad)?;
        self.rewrap_finish(new.id(), wrapped);
        Ok(())
    }

    /// Before any provider call of a rewrap: `old` is this keyring's master key and `new`
    /// admits its region. Returns the AAD the keyring key is wrapped with.
    pub(super) fn rewrap_check(
        &self,
        old: &MasterKeyId,
        new_admits_region: impl FnOnce(&str) -> Result<(), Error>,
    ) -> Result<Vec<u8>, Error> {
        self.check_master(old)?;
        new_admits_region(&self.region)?;
        Ok(krk_aad(self.id, &self.region))
    }

    /// The old master key must really unwrap the keyring key we hold (a stale or foreign
    /// wrapped key would otherwise be replaced silently).
    pub(super) fn rewrap_confirm(&self, unwrapped: &KeyMaterial) -> Result<(), Error> {
        if !bool::from(subtle::ConstantTimeEq::ct_eq(
            &unwrapped.expose_secret()[..],
            &self.krk.raw.expose_secret()[..],
        )) {
            return Err(MasterKeyError::Unwrap.into());
        }
        Ok(())
    }

    pub(super) fn rewrap_finish(&mut self, new: &MasterKeyId, wrapped: WrappedKey) {
        self.wrapped_krk = wrapped;
        self.master_key_id = new.clone();
    }

    /// Sets an age policy: [`Keyring::rotation_due`] says when the primary is older.
    pub fn set_rotate_after(&mut self, age: Option<Duration>) {
        self.rotate_after = age.map(|d| Duration::from_secs(d.as_secs()));
    }

    /// True when a rotation policy is set and the primary is older than it at `now`.
    pub fn rotation_due(&self, now: SystemTime) -> bool {
        let (Some(age), Some(p)) = (self.rotate_after, self.primary) else {
            return false;
        };
        self.versions
            .get(&p)
            .is_some_and(|v| now.duration_since(v.created).is_ok_and(|d| d >= age))
    }

    /// Rotates if [`Keyring::rotation_due`]; returns the new primary if it did.
    pub fn maintain(
        &mut self,
        master: &dyn MasterKey,
        now: SystemTime,
    ) -> Result<Option<u32>, Error> {
        if self.rotation_due(now) {
            self.rotate(master, now).map(Some)
        } else {
            Ok(None)
        }
    }

    // ---- hooks for retention keyrings (pub(crate)) ----------------------------------------

    /// Adds version `number` with a fresh random key (retention picks the number: the time
    /// bucket). Numbers are never reused: an existing or tombstoned number gives
    /// [`Error::VersionExists`]. A `Primary` state demotes the current primary to active.
    pub(crate) fn insert_version(
        &mut self,
        number: u32,
        state: VersionState,
        now: SystemTime,
    ) -> Result<(), Error> {
        if number == 0 {
            return Err(Error::InvalidOperation("version 0 is not valid"));
        }
        if self.versions.contains_key(&number) {
            return Err(Error::VersionExists { version: number });
        }
        if self.versions.len() >= MAX_VERSIONS {
            return Err(Error::InvalidOperation("too many versions"));
        }
        if state == VersionState::Retired {
            return Err(Error::InvalidOperation("cannot insert a retired version"));
        }
        let created = whole_seconds(now);
        let key = primitives::os_key()?;
        let wrapped = primitives::wrap(
            &self.krk.wrap,
            &key[..],
            &version_aad(self.id, &self.region, number, created),
        )?;
        self.versions.insert(
            number,
            Version {
                state: VersionState::Staged,
                created,
                retired: None,
                wrapped: Some(wrapped),
                key: Some(VersionKey::new(key)),
            },
        );
        match state {
            VersionState::Primary => self.promote(number)?,
            other => {
                if let Some(v) = self.versions.get_mut(&number) {
                    v.state = other;
                }
            }
        }
        Ok(())
    }

    /// Destroys version `number`'s key material and leaves a tombstone retired at `now`.
    /// Returns false if it was already retired. The primary cannot be destroyed.
    pub(crate) fn destroy_version(&mut self, number: u32, now: SystemTime) -> Result<bool, Error> {
        if self.primary == Some(number) {
            return Err(Error::InvalidOperation(
                "cannot destroy the primary version",
            ));
        }
        let v = self
            .versions
            .get_mut(&number)
            .ok_or(Error::UnknownKeyVersion { version: number })?;
        if v.state == VersionState::Retired {
            return Ok(false);
        }
        v.state = VersionState::Retired;
        v.retired = Some(whole_seconds(now));
        v.wrapped = None;
        // Dropping the VersionKey zeroizes the bytes and kills the sealers' Weak handles.
        v.key = None;
        self.cache.forget_version(number);
        Ok(true)
    }

    /// The unwrapped key of a live version, or the typed reason it cannot be used to open.
    pub(crate) fn version_key(&self, version: u32) -> Result<&VersionKey, Error> {
        let v = self
            .versions
            .get(&version)
            .ok_or(Error::UnknownKeyVersion { version })?;
        if v.state == VersionState::Retired {
            let at = v.retired.unwrap_or(SystemTime::UNIX_EPOCH);
            return Err(match self.kind {
                KeyringKind::Retention => Error::Expired {
                    bucket: version,
                    purged_at: at,
                },
                KeyringKind::Values => Error::KeyRetired {
                    version,
                    retired_at: at,
                },
            });
        }
        if version < self.min_decrypt {
            return Err(Error::BelowMinDecrypt {
                version,
                min: self.min_decrypt,
            });
        }
        v.key.as_ref().ok_or(Error::UnknownKeyVersion { version })
    }
}
