//! Master key providers (`docs/envelope.md` §10): the one seam where a local key, an HSM
//! (PKCS#11) or a cloud KMS plugs in.
//!
//! A master key only wraps and unwraps 32-byte keys. The keyring calls it once per keyring
//! load, rotate and rewrap (to wrap or unwrap the keyring key, KRK), never per message.

use std::fmt;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use ring::aead::LessSafeKey;
use ring::hmac;
use zeroize::{Zeroize as _, Zeroizing};

use crate::error::{Error, MasterKeyError};
use crate::primitives::{self, B64_MASTER, KEY_LEN};

/// The environment variable [`LocalMasterKey::from_env`] reads (`docs/design.md`,
/// command-line contract).
pub const MASTER_KEY_ENV: &str = "RAMPART_MASTER_KEY";

/// Largest master key file we read: 32 bytes in base64 plus generous whitespace.
const MAX_KEY_FILE_LEN: u64 = 1024;

/// 32 bytes of secret key material: zeroized on drop, `[REDACTED]` in `Debug`, no `Display`,
/// no `Clone`; reading the bytes needs the explicit [`KeyMaterial::expose_secret`].
pub struct KeyMaterial(Zeroizing<[u8; KEY_LEN]>);

impl KeyMaterial {
    /// Wraps existing bytes (the caller's copy is theirs to zeroize).
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// 32 fresh bytes from the OS CSPRNG; [`Error::Random`] if the OS generator fails.
    pub fn generate() -> Result<Self, Error> {
        Ok(Self(primitives::os_key()?))
    }

    /// The raw key bytes. Named so every use is visible in review.
    pub fn expose_secret(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    pub(crate) fn from_zeroizing(z: Zeroizing<[u8; KEY_LEN]>) -> Self {
        Self(z)
    }
}

impl fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyMaterial([REDACTED])")
    }
}

/// A key wrapped (encrypted) by a master key: opaque bytes, safe to store and print.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct WrappedKey(Vec<u8>);

impl WrappedKey {
    /// Wraps provider output.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The wrapped bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for WrappedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WrappedKey({} bytes)", self.0.len())
    }
}

/// Stable identifier of a master key, stored in the keyring file: `local:kcv=<16 hex>`,
/// `pkcs11:<uri>`, `aws-kms:<arn>`. Loading compares it to detect a wrong key early.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MasterKeyId(String);

impl MasterKeyId {
    /// Any provider-chosen identifier.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The identifier text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MasterKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Wraps and unwraps 32-byte keys. Called at keyring load, rotate and rewrap; never per
/// message.
///
/// Implementations must bind `aad` (authenticate it, as AES-GCM, PKCS#11 `CKM_AES_GCM` or a
/// KMS encryption context do) so a wrapped key moved to another keyring does not unwrap.
/// An HSM or KMS implements this trait without any change to callers.
///
/// A toy KMS client: the "remote" key is a [`LocalMasterKey`] here, and the call counter
/// shows that the provider is used once per keyring load, never per message.
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use rampart_envelope::{
///     Context, Error, KeyMaterial, Keyring, LocalMasterKey, MasterKey, MasterKeyError,
///     MasterKeyId, WrappedKey,
/// };
///
/// struct ToyKms {
///     id: MasterKeyId,
///     remote: LocalMasterKey, // stands in for a network call to the KMS
///     calls: AtomicUsize,
///     available: bool,
/// }
///
/// impl MasterKey for ToyKms {
///     fn id(&self) -> &MasterKeyId {
///         &self.id
///     }
///     fn wrap(&self, key: &KeyMaterial, aad: &[u8]) -> Result<WrappedKey, Error> {
///         self.calls.fetch_add(1, Ordering::Relaxed);
///         self.remote.wrap(key, aad) // a real client sends `aad` as the encryption context
///     }
///     fn unwrap(&self, wrapped: &WrappedKey, aad: &[u8]) -> Result<KeyMaterial, Error> {
///         self.calls.fetch_add(1, Ordering::Relaxed);
///         if !self.available {
///             return Err(MasterKeyError::Provider("kms: throttled".into()).into());
///         }
///         self.remote.unwrap(wrapped, aad)
///     }
/// }
///
/// let kms = ToyKms {
///     id: MasterKeyId::new("toy-kms:eu-central/key/1"),
///     remote: LocalMasterKey::generate()?,
///     calls: AtomicUsize::new(0),
///     available: true,
/// };
/// let ring = Keyring::create("tokens", "eu-central", &kms, std::time::SystemTime::now())?;
/// let json = ring.to_json()?;
/// assert_eq!(json.matches("toy-kms:eu-central/key/1").count(), 1);
/// let loaded = Keyring::from_json(&json, &kms)?;
/// let ctx = Context::new();
/// for _ in 0..100 {
///     loaded.open(&loaded.seal(b"x", &ctx)?, &ctx)?;
/// }
/// assert_eq!(kms.calls.load(Ordering::Relaxed), 2); // one wrap at create, one unwrap at load
///
/// let down = ToyKms { available: false, calls: AtomicUsize::new(0), ..kms };
/// assert!(matches!(
///     Keyring::from_json(&json, &down),
///     Err(Error::MasterKey(MasterKeyError::Provider(_)))
/// ));
/// # Ok::<(), Error>(())
/// ```
pub trait MasterKey: Send + Sync {
    /// Stable identifier stored in the keyring file.
    fn id(&self) -> &MasterKeyId;
    /// Encrypts `key` with `aad` bound; errors are [`Error::MasterKey`].
    fn wrap(&self, key: &KeyMaterial, aad: &[u8]) -> Result<WrappedKey, Error>;
    /// Decrypts a key produced by [`MasterKey::wrap`] with the same `aad`; a wrong key or
    /// altered input gives [`MasterKeyError::Unwrap`].
    fn unwrap(&self, wrapped: &WrappedKey, aad: &[u8]) -> Result<KeyMaterial, Error>;
    /// Whether this key may wrap a keyring of region `keyring_region`; asked before any
    /// wrap or unwrap (create, load, rewrap). A key bound to a place (a KMS key lives in one
    /// cloud region) refuses other regions with [`MasterKeyError::RegionMismatch`]; the
    /// default admits every region.
    fn admits_region(&self, keyring_region: &str) -> Result<(), Error> {
        let _ = keyring_region;
        Ok(())
    }
}

/// A shared master key (for example one `Arc<LocalMasterKey>` held by a
/// [`KeyringHandle`](crate::KeyringHandle) and by the code that rotates).
impl<T: MasterKey + ?Sized> MasterKey for std::sync::Arc<T> {
    fn id(&self) -> &MasterKeyId {
        (**self).id()
    }
    fn wrap(&self, key: &KeyMaterial, aad: &[u8]) -> Result<WrappedKey, Error> {
        (**self).wrap(key, aad)
    }
    fn unwrap(&self, wrapped: &WrappedKey, aad: &[u8]) -> Result<KeyMaterial, Error> {
        (**self).unwrap(wrapped, aad)
    }
    fn admits_region(&self, keyring_region: &str) -> Result<(), Error> {
        (**self).admits_region(keyring_region)
    }
}

/// A local 256-bit master key, read from a file or `RAMPART_MASTER_KEY` (32 bytes in base64).
///
/// The raw key never wraps anything directly: a wrapping key and a key check value (KCV) are
/// derived from it with HKDF-SHA256 / HMAC-SHA256 under distinct labels. The identifier is
/// `local:kcv=<first 8 bytes of HMAC-SHA256(master, "rampart kcv") in hex>`, so a keyring
/// loaded with the wrong local key fails with [`MasterKeyError::WrongMasterKey`].
///
/// ```
/// use rampart_envelope::{LocalMasterKey, MasterKey};
/// let key = LocalMasterKey::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")?;
/// assert!(key.id().as_str().starts_with("local:kcv="));
/// # Ok::<(), rampart_envelope::Error>(())
/// ```
pub struct LocalMasterKey {
    raw: Zeroizing<[u8; KEY_LEN]>,
    wrapping: LessSafeKey,
    id: MasterKeyId,
}

impl LocalMasterKey {
    /// From raw key material.
    pub fn from_key(key: KeyMaterial) -> Self {
        let raw = key.0;
        let wrap_key = primitives::derive32(&raw, b"rampart/v1/local-master/wrap");
        let wrapping = primitives::aes_key(&wrap_key);
        let kcv = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &raw[..]), b"rampart kcv");
        let mut id = String::from("local:kcv=");
        for b in &kcv.as_ref()[..8] {
            id.push_str(&format!("{b:02x}"));
        }
        Self {
            raw,
            wrapping,
            id: MasterKeyId(id),
        }
    }

    /// A fresh key from the OS CSPRNG (export it with [`LocalMasterKey::expose_secret_base64`]).
    pub fn generate() -> Result<Self, Error> {
        Ok(Self::from_key(KeyMaterial::generate()?))
    }

    /// Parses 32 bytes in standard base64 (padding optional, surrounding whitespace ignored).
    /// Errors: [`MasterKeyError::Missing`] for empty text, [`MasterKeyError::Malformed`],
    /// [`MasterKeyError::WrongLength`].
    pub fn from_base64(text: &str) -> Result<Self, Error> {
        Self::parse(text.as_bytes(), "the given text")
    }

    /// Reads the key from `RAMPART_MASTER_KEY`.
    ///
    /// Our copy of the text is zeroized after decoding. The variable itself stays in the
    /// process environment: removing it needs `std::env::remove_var`, which is `unsafe` in
    /// edition 2024 (other threads may read the environment) and this crate forbids `unsafe`.
    /// Prefer a key file (systemd `LoadCredential`, a mounted secret) where the environment
    /// leaks (child processes, `/proc/PID/environ`, `docker inspect`, crash reports).
    pub fn from_env() -> Result<Self, Error> {
        match std::env::var_os(MASTER_KEY_ENV) {
            None => Err(MasterKeyError::Missing {
                source_name: format!("environment variable {MASTER_KEY_ENV}"),
            }
            .into()),
            Some(value) => {
                let mut bytes = Zeroizing::new(value.into_encoded_bytes());
                let result = Self::parse(&bytes, MASTER_KEY_ENV);
                bytes.zeroize();
                result
            }
        }
    }

    /// Reads the key from a file holding 32 bytes in base64.
    ///
    /// A file that does not exist (or is empty) gives [`MasterKeyError::Missing`] naming the
    /// path; other read failures give [`MasterKeyError::Io`].
    ///
    /// On Unix the file must not be readable or writable by group or others (like ssh's
    /// private keys): otherwise [`MasterKeyError::InsecurePermissions`] says to run
    /// `chmod 600`. (Kubernetes mounts secrets 0644 unless `defaultMode: 0400` is set.)
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let io = |source| MasterKeyError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::open(path).map_err(|e| {
            // "No key here" is the common deployment mistake; say it plainly.
            if e.kind() == std::io::ErrorKind::NotFound {
                MasterKeyError::Missing {
                    source_name: path.display().to_string(),
                }
            } else {
                io(e)
            }
        })?;
        check_permissions(path, &file)?;
        let mut buf = Zeroizing::new(Vec::with_capacity(64));
        file.take(MAX_KEY_FILE_LEN + 1)
            .read_to_end(&mut buf)
            .map_err(io)?;
        if buf.len() as u64 > MAX_KEY_FILE_LEN {
            return Err(MasterKeyError::Malformed.into());
        }
        Self::parse(&buf, &path.display().to_string())
    }

    /// Reads a systemd credential: `$CREDENTIALS_DIRECTORY/<name>` (`LoadCredential=`).
    pub fn from_systemd_credential(name: &str) -> Result<Self, Error> {
        let dir =
            std::env::var_os("CREDENTIALS_DIRECTORY").ok_or_else(|| MasterKeyError::Missing {
                source_name: "CREDENTIALS_DIRECTORY (not started by systemd with LoadCredential?)"
                    .into(),
            })?;
        Self::from_file(PathBuf::from(dir).join(name))
    }

    /// The key in standard base64, for writing a new key file once. Zeroized on drop.
    pub fn expose_secret_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(B64_MASTER.encode(&self.raw[..]))
    }

    fn parse(text: &[u8], source_name: &str) -> Result<Self, Error> {
        let trimmed = text.trim_ascii();
        if trimmed.is_empty() {
            return Err(MasterKeyError::Missing {
                source_name: source_name.to_string(),
            }
            .into());
        }
        // 32 bytes need 43 or 44 characters; anything far longer is not a key.
        if trimmed.len() > 128 {
            return Err(MasterKeyError::Malformed.into());
        }
        let decoded = Zeroizing::new(
            B64_MASTER
                .decode(trimmed)
                .map_err(|_| MasterKeyError::Malformed)?,
        );
        if decoded.len() != KEY_LEN {
            return Err(MasterKeyError::WrongLength { got: decoded.len() }.into());
        }
        let mut raw = [0u8; KEY_LEN];
        raw.copy_from_slice(&decoded);
        let key = KeyMaterial::from_bytes(raw);
        raw.zeroize();
        Ok(Self::from_key(key))
    }
}

impl fmt::Debug for LocalMasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalMasterKey")
            .field("id", &self.id.0)
            .field("key", &"[REDACTED]")
            .finish()
    }
}

impl MasterKey for LocalMasterKey {
    fn id(&self) -> &MasterKeyId {
        &self.id
    }

    fn wrap(&self, key: &KeyMaterial, aad: &[u8]) -> Result<WrappedKey, Error> {
        Ok(WrappedKey(primitives::wrap(
            &self.wrapping,
            key.expose_secret(),
            aad,
        )?))
    }

    fn unwrap(&self, wrapped: &WrappedKey, aad: &[u8]) -> Result<KeyMaterial, Error> {
        primitives::unwrap32(&self.wrapping, &wrapped.0, aad)
            .map(KeyMaterial::from_zeroizing)
            .ok_or_else(|| MasterKeyError::Unwrap.into())
    }
}

#[cfg(unix)]
pub(crate) fn check_permissions(path: &Path, file: &std::fs::File) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = file
        .metadata()
        .map_err(|source| MasterKeyError::Io {
            path: path.to_path_buf(),
            source,
        })?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(MasterKeyError::InsecurePermissions {
            path: path.to_path_buf(),
            mode: mode & 0o7777,
        }
        .into());
    }
    Ok(())
}

#[cfg(not(unix))]
pub(crate) fn check_permissions(_path: &Path, _file: &std::fs::File) -> Result<(), Error> {
    // Windows ACLs are not mode bits; the caller must restrict the file with its ACL.
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_B64: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    #[test]
    fn parses_padded_unpadded_and_whitespace() {
        let a = LocalMasterKey::from_base64(KEY_B64).unwrap();
        let b = LocalMasterKey::from_base64(KEY_B64.trim_end_matches('=')).unwrap();
        let c = LocalMasterKey::from_base64(&format!("  {KEY_B64}\n")).unwrap();
        assert_eq!(a.id(), b.id());
        assert_eq!(a.id(), c.id());
        assert_eq!(*a.expose_secret_base64(), KEY_B64);
    }

    #[test]
    fn empty_key_is_missing() {
        let e = LocalMasterKey::from_base64(" \n").unwrap_err();
        assert!(matches!(
            e,
            Error::MasterKey(MasterKeyError::Missing { .. })
        ));
    }

    #[test]
    fn short_key_is_wrong_length() {
        let e = LocalMasterKey::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==")
            .unwrap_err();
        assert!(matches!(
            e,
            Error::MasterKey(MasterKeyError::WrongLength { got: 31 })
        ));
    }

    #[test]
    fn non_base64_key_is_malformed() {
        let e = LocalMasterKey::from_base64("not base64 at all!").unwrap_err();
        assert!(matches!(e, Error::MasterKey(MasterKeyError::Malformed)));
        // Non-canonical trailing bits are refused too.
        let e = LocalMasterKey::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=")
            .unwrap_err();
        assert!(matches!(e, Error::MasterKey(MasterKeyError::Malformed)));
    }

    #[test]
    fn debug_redacts() {
        let k = LocalMasterKey::from_base64(KEY_B64).unwrap();
        let s = format!("{k:?}");
        assert!(s.contains("[REDACTED]"));
        assert!(!s.contains(KEY_B64));
        assert_eq!(
            format!("{:?}", KeyMaterial::from_bytes([1; 32])),
            "KeyMaterial([REDACTED])"
        );
    }

    #[test]
    fn wrap_binds_aad_and_key() {
        let k = LocalMasterKey::generate().unwrap();
        let other = LocalMasterKey::generate().unwrap();
        let w = k.wrap(&KeyMaterial::from_bytes([5; 32]), b"a").unwrap();
        assert_eq!(k.unwrap(&w, b"a").unwrap().expose_secret(), &[5; 32]);
        assert!(matches!(
            k.unwrap(&w, b"b"),
            Err(Error::MasterKey(MasterKeyError::Unwrap))
        ));
        assert!(matches!(
            other.unwrap(&w, b"a"),
            Err(Error::MasterKey(MasterKeyError::Unwrap))
        ));
        assert_ne!(k.id(), other.id());
    }

    #[cfg(unix)]
    #[test]
    fn group_readable_key_file_is_refused_with_fix() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("master.key");
        std::fs::write(&p, KEY_B64).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
        let e = LocalMasterKey::from_file(&p).unwrap_err();
        assert!(matches!(
            e,
            Error::MasterKey(MasterKeyError::InsecurePermissions { mode: 0o640, .. })
        ));
        assert!(e.to_string().contains("chmod 600"));
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        let k = LocalMasterKey::from_file(&p).unwrap();
        assert_eq!(k.id(), LocalMasterKey::from_base64(KEY_B64).unwrap().id());
    }

    #[test]
    fn missing_key_file_is_missing_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("master.key");
        let e = LocalMasterKey::from_file(&p).unwrap_err();
        match &e {
            Error::MasterKey(MasterKeyError::Missing { source_name }) => {
                assert_eq!(source_name, &p.display().to_string());
            }
            other => panic!("expected Missing, got {other:?}"),
        }
    }

    #[cfg(unix)]
    #[test]
    fn unreadable_key_path_is_still_io_error() {
        // A directory opens but cannot be read: not "missing", a real I/O problem.
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("keydir");
        std::fs::create_dir(&p).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o700)).unwrap();
        let e = LocalMasterKey::from_file(&p).unwrap_err();
        assert!(
            matches!(e, Error::MasterKey(MasterKeyError::Io { .. })),
            "{e:?}"
        );
    }
}
