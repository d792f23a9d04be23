//! What a keyring says about itself, without key material: one description for a loaded
//! keyring and for a document read without its master key.

use super::{Keyring, KeyringId, KeyringKind, VersionInfo};
use crate::error::Error;
use crate::master_key::MasterKeyId;
use crate::retention::RetentionPolicy;

/// A keyring's names, versions and states, and no key: what `rampart keyring list` shows.
///
/// [`Keyring::summary`] describes a loaded keyring, whose document was verified;
/// [`KeyringSummary::read_unverified`] reads a document without the master key, and so
/// without verifying it.
///
/// ```
/// use std::time::SystemTime;
/// use rampart_envelope::{Keyring, KeyringSummary, LocalMasterKey};
///
/// let master = LocalMasterKey::generate()?;
/// let ring = Keyring::create("tokens", "eu", &master, SystemTime::now())?;
/// let read = KeyringSummary::read_unverified(&ring.to_json()?)?;
/// assert_eq!(read.name, "tokens");
/// assert_eq!(read.versions, ring.summary().versions);
/// # Ok::<(), rampart_envelope::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyringSummary {
    /// The keyring's id.
    pub id: KeyringId,
    /// Its name.
    pub name: String,
    /// Its region label.
    pub region: String,
    /// What it is for.
    pub kind: KeyringKind,
    /// The master key that wraps it.
    pub master_key_id: MasterKeyId,
    /// The version that seals, if any.
    pub primary_version: Option<u32>,
    /// The lowest version `open` accepts.
    pub min_decrypt: u32,
    /// The stored generation (`None`: a keyring never stored).
    pub generation: Option<u64>,
    /// Every version, tombstones included, in ascending order.
    pub versions: Vec<VersionInfo>,
    /// A retention keyring's policy.
    pub retention: Option<RetentionPolicy>,
}

impl KeyringSummary {
    /// Reads a keyring document (a keyring file's contents) **without verifying it**: with no
    /// master key there is no integrity check, so an edited document shows its edits. For
    /// listing and diagnostics only: everything that uses the keys loads the document, which
    /// verifies it. The document's structure is checked as loading checks it before the
    /// master key is called (format, labels, limits, field syntax).
    ///
    /// ```
    /// use rampart_envelope::{Error, KeyringFileError, KeyringSummary};
    /// assert!(matches!(
    ///     KeyringSummary::read_unverified(r#"{"format":"something-else"}"#),
    ///     Err(Error::KeyringFile(KeyringFileError::NotAKeyring))
    /// ));
    /// ```
    ///
    /// # Errors
    /// [`Error::KeyringFile`] for a document that is not a keyring of a format this crate
    /// reads, or whose fields break its rules.
    pub fn read_unverified(json: &str) -> Result<KeyringSummary, Error> {
        crate::keyring_file::summary_unverified(json)
    }
}

impl Keyring {
    /// The keyring's description ([`KeyringSummary`]), as loaded and verified.
    ///
    /// ```
    /// use std::time::SystemTime;
    /// use rampart_envelope::{Keyring, LocalMasterKey};
    /// let master = LocalMasterKey::generate()?;
    /// let ring = Keyring::create("tokens", "eu", &master, SystemTime::now())?;
    /// assert_eq!(ring.summary().primary_version, Some(1));
    /// # Ok::<(), rampart_envelope::Error>(())
    /// ```
    #[must_use]
    pub fn summary(&self) -> KeyringSummary {
        KeyringSummary {
            id: self.id(),
            name: self.name().to_owned(),
            region: self.region().to_owned(),
            kind: self.kind(),
            master_key_id: self.master_key_id().clone(),
            primary_version: self.primary_version(),
            min_decrypt: self.min_decrypt(),
            generation: self.generation(),
            versions: self.versions(),
            retention: self.retention_policy(),
        }
    }
}
