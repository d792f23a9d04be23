//! A master key in an HSM or token, through PKCS#11 (feature `pkcs11`).
//!
//! The key is an AES-256 secret key object that never leaves the token (`CKA_EXTRACTABLE`
//! false, `CKA_SENSITIVE` true: both checked when the key is opened). Wrapping is
//! `CKM_AES_GCM` inside the token with a 12-byte IV from the host CSPRNG and our AAD bound;
//! the key bytes we hand it are the 32-byte keyring key, once per keyring load.
//!
//! Wrapped layout: `0x01 ‖ IV(12) ‖ ciphertext(32) ‖ tag(16)`.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use zeroize::Zeroizing;

use crate::error::{Error, MasterKeyError, Pkcs11Error};
use crate::master_key::{KeyMaterial, MasterKey, MasterKeyId, WrappedKey};
use crate::primitives::{self, KEY_LEN};

mod session_pool;
mod uri;

use session_pool::SessionPool;
pub use uri::{PKCS11_PIN_ENV, PinSource, Pkcs11Uri};

const WRAP_FORMAT: u8 = 1;
const IV_LEN: usize = 12;
const TAG_LEN: usize = 16;
const WRAPPED_LEN: usize = 1 + IV_LEN + KEY_LEN + TAG_LEN;
/// Longest PIN file we read.
const MAX_PIN_LEN: u64 = 256;

/// A master key held by a PKCS#11 token (an HSM, SoftHSM2, a smart card), named by an RFC
/// 7512 URI.
///
/// Safe for concurrent use: each wrap or unwrap borrows a session of its own from a small
/// pool. The module is loaded and initialized once per process and kept loaded (PKCS#11
/// allows one `C_Initialize` per process; finalizing under another user of the module
/// would break it).
///
/// The identifier stored in keyring files is the URI's path part, e.g.
/// `pkcs11:token=prod;object=kek`: where the module lives and where the PIN comes from may
/// change between hosts without touching the keyring.
///
/// ```no_run
/// use rampart_envelope::{Keyring, Pkcs11MasterKey};
///
/// // The PIN is read from the file named by pin-source (or from RAMPART_PKCS11_PIN).
/// let hsm = Pkcs11MasterKey::open(
///     "pkcs11:token=prod;object=kek?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/secrets/pin",
/// )?;
/// let ring = Keyring::load("/var/lib/app/tokens.keyring.json", &hsm)?;
/// # Ok::<(), rampart_envelope::Error>(())
/// ```
pub struct Pkcs11MasterKey {
    id: MasterKeyId,
    key: ObjectHandle,
    pool: SessionPool,
}

impl fmt::Debug for Pkcs11MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs11MasterKey")
            .field("id", &self.id.as_str())
            .finish_non_exhaustive()
    }
}

fn device(e: CkError) -> Error {
    MasterKeyError::from(Pkcs11Error::Device(e)).into()
}

/// One initialized context per module path, for the life of the process.
fn module(path: &Path) -> Result<Pkcs11, Pkcs11Error> {
    static MODULES: Mutex<BTreeMap<PathBuf, Pkcs11>> = Mutex::new(BTreeMap::new());
    let mut modules = MODULES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(ctx) = modules.get(path) {
        return Ok(ctx.clone());
    }
    let fail = |reason, cause| Pkcs11Error::Module {
        path: path.to_path_buf(),
        reason,
        cause,
    };
    if !path.is_file() {
        return Err(fail("no such file", None));
    }
    let ctx = Pkcs11::new(path).map_err(|e| fail("the library does not load", Some(e)))?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        // Another library in this process initialized it first: share it.
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => return Err(fail("C_Initialize failed", Some(e))),
    }
    modules.insert(path.to_path_buf(), ctx.clone());
    Ok(ctx)
}

fn find_slot(ctx: &Pkcs11, uri: &Pkcs11Uri) -> Result<Slot, Error> {
    let slots = ctx.get_slots_with_initialized_token().map_err(device)?;
    for slot in slots {
        let Ok(info) = ctx.get_token_info(slot) else {
            continue;
        };
        // Labels and serials are blank-padded fields (PKCS#11 §3.2).
        let label_ok = uri
            .token
            .as_deref()
            .is_none_or(|t| info.label().trim_ascii_end() == t);
        let serial_ok = uri
            .serial
            .as_deref()
            .is_none_or(|s| info.serial_number().trim_ascii_end() == s);
        if label_ok && serial_ok {
            return Ok(slot);
        }
    }
    Err(MasterKeyError::from(Pkcs11Error::TokenNotFound {
        token: uri.token_name(),
        module: uri.module_path.clone(),
    })
    .into())
}

fn read_pin(source: &PinSource) -> Result<AuthPin, Error> {
    let pin_err = |source_name: String, reason: &'static str, cause| -> Error {
        MasterKeyError::from(Pkcs11Error::Pin {
            source_name,
            reason,
            cause,
        })
        .into()
    };
    let (bytes, name) = match source {
        PinSource::Env(var) => match std::env::var_os(var) {
            None => {
                return Err(pin_err(
                    format!("environment variable {var}"),
                    "not set",
                    None,
                ));
            }
            Some(v) => (
                Zeroizing::new(v.into_encoded_bytes()),
                format!("environment variable {var}"),
            ),
        },
        PinSource::File(path) => {
            let name = path.display().to_string();
            let file = std::fs::File::open(path)
                .map_err(|e| pin_err(name.clone(), "cannot open", Some(e)))?;
            // Same rule as a local master key file: a PIN readable by others is refused.
            crate::master_key::check_permissions(path, &file)?;
            let mut buf = Zeroizing::new(Vec::with_capacity(32));
            file.take(MAX_PIN_LEN + 1)
                .read_to_end(&mut buf)
                .map_err(|e| pin_err(name.clone(), "cannot read", Some(e)))?;
            if buf.len() as u64 > MAX_PIN_LEN {
                return Err(pin_err(name, "longer than 256 bytes", None));
            }
            (buf, name)
        }
    };
    // A file written by `echo` ends in a newline that is not part of the PIN.
    let mut pin: &[u8] = &bytes;
    while let [rest @ .., b'\n' | b'\r'] = pin {
        pin = rest;
    }
    if pin.is_empty() {
        return Err(pin_err(name, "empty", None));
    }
    let text = std::str::from_utf8(pin).map_err(|_| pin_err(name, "not UTF-8", None))?;
    Ok(AuthPin::from(text))
}

fn login(session: &Session, pin: &AuthPin, uri: &Pkcs11Uri) -> Result<(), Error> {
    match session.login(UserType::User, Some(pin)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(()),
        Err(CkError::Pkcs11(RvError::PinIncorrect | RvError::PinLenRange, _)) => {
            Err(MasterKeyError::from(Pkcs11Error::WrongPin {
                token: uri.token_name(),
            })
            .into())
        }
        Err(CkError::Pkcs11(RvError::PinLocked, _)) => {
            Err(MasterKeyError::from(Pkcs11Error::PinLocked {
                token: uri.token_name(),
            })
            .into())
        }
        Err(e) => Err(device(e)),
    }
}

fn key_template(uri: &Pkcs11Uri) -> Vec<Attribute> {
    let mut t = vec![
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(KeyType::AES),
    ];
    if let Some(o) = &uri.object {
        t.push(Attribute::Label(o.as_bytes().to_vec()));
    }
    if let Some(id) = &uri.id {
        t.push(Attribute::Id(id.clone()));
    }
    t
}

/// Finds the one key object and checks that it can never leave the token.
fn find_key(session: &Session, uri: &Pkcs11Uri) -> Result<ObjectHandle, Error> {
    let found = session.find_objects(&key_template(uri)).map_err(device)?;
    let key = match found.as_slice() {
        [] => {
            return Err(MasterKeyError::from(Pkcs11Error::KeyNotFound {
                object: uri.object_name(),
                token: uri.token_name(),
            })
            .into());
        }
        [one] => *one,
        many => {
            return Err(MasterKeyError::from(Pkcs11Error::AmbiguousKey {
                object: uri.object_name(),
                token: uri.token_name(),
                count: many.len(),
            })
            .into());
        }
    };
    let attrs = session
        .get_attributes(
            key,
            &[
                AttributeType::Extractable,
                AttributeType::Sensitive,
                AttributeType::ValueLen,
                AttributeType::Encrypt,
                AttributeType::Decrypt,
            ],
        )
        .map_err(device)?;
    // An attribute the token does not report counts as the unsafe answer.
    let (mut extractable, mut sensitive, mut len, mut enc, mut dec) =
        (true, false, 0u64, false, false);
    for a in attrs {
        match a {
            Attribute::Extractable(b) => extractable = b,
            Attribute::Sensitive(b) => sensitive = b,
            Attribute::ValueLen(n) => len = u64::from(n),
            Attribute::Encrypt(b) => enc = b,
            Attribute::Decrypt(b) => dec = b,
            _ => {}
        }
    }
    let object = uri.object_name();
    let refuse =
        |e: Pkcs11Error| -> Result<ObjectHandle, Error> { Err(MasterKeyError::from(e).into()) };
    if extractable {
        return refuse(Pkcs11Error::KeyExportable {
            object,
            reason: "extractable",
        });
    }
    if !sensitive {
        return refuse(Pkcs11Error::KeyExportable {
            object,
            reason: "not sensitive",
        });
    }
    if len != KEY_LEN as u64 {
        return refuse(Pkcs11Error::WrongKey {
            object,
            reason: "not a 256-bit AES key",
        });
    }
    if !(enc && dec) {
        return refuse(Pkcs11Error::WrongKey {
            object,
            reason: "CKA_ENCRYPT and CKA_DECRYPT must both be true",
        });
    }
    Ok(key)
}

fn check_gcm(ctx: &Pkcs11, slot: Slot, uri: &Pkcs11Uri) -> Result<(), Error> {
    let mechanisms = ctx.get_mechanism_list(slot).map_err(device)?;
    if !mechanisms.contains(&MechanismType::AES_GCM) {
        return Err(MasterKeyError::from(Pkcs11Error::MechanismUnsupported {
            token: uri.token_name(),
            mechanism: "CKM_AES_GCM",
        })
        .into());
    }
    Ok(())
}

impl Pkcs11MasterKey {
    /// Opens the key object named by `uri` (see [`Pkcs11Uri::parse`]): loads the module,
    /// finds the token, logs in with the PIN from the URI's `pin-source` (or
    /// [`PKCS11_PIN_ENV`](crate::PKCS11_PIN_ENV)), finds exactly one AES-256 key object and checks
    /// that it is non-extractable and sensitive and that the token offers `CKM_AES_GCM`.
    ///
    /// Errors ([`MasterKeyError::Pkcs11`]): [`Pkcs11Error::InvalidUri`],
    /// [`Pkcs11Error::Module`], [`Pkcs11Error::TokenNotFound`], [`Pkcs11Error::Pin`],
    /// [`Pkcs11Error::WrongPin`], [`Pkcs11Error::KeyNotFound`],
    /// [`Pkcs11Error::KeyExportable`], [`Pkcs11Error::MechanismUnsupported`].
    ///
    /// ```no_run
    /// use rampart_envelope::{Error, MasterKeyError, Pkcs11Error, Pkcs11MasterKey};
    /// match Pkcs11MasterKey::open("pkcs11:token=prod;object=kek?module-path=/usr/lib/softhsm/libsofthsm2.so") {
    ///     Err(Error::MasterKey(MasterKeyError::Pkcs11(Pkcs11Error::WrongPin { token }))) => {
    ///         eprintln!("token {token} refused RAMPART_PKCS11_PIN");
    ///     }
    ///     other => { other?; }
    /// }
    /// # Ok::<(), Error>(())
    /// ```
    pub fn open(uri: &str) -> Result<Self, Error> {
        let uri = Pkcs11Uri::parse(uri).map_err(MasterKeyError::from)?;
        Self::open_parsed(&uri, false)
    }

    /// Creates the key object named by `uri` in the token (`CKM_AES_KEY_GEN`, 256 bits,
    /// generated inside the token: non-extractable, sensitive, encrypt/decrypt only) and
    /// opens it. Refuses ([`Error::InvalidOperation`]) when an object of that name exists.
    /// For provisioning: the key exists only in the token (and its backups).
    ///
    /// ```no_run
    /// use rampart_envelope::Pkcs11MasterKey;
    /// let hsm = Pkcs11MasterKey::generate(
    ///     "pkcs11:token=prod;object=kek-2026?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=env:HSM_PIN",
    /// )?;
    /// # Ok::<(), rampart_envelope::Error>(())
    /// ```
    pub fn generate(uri: &str) -> Result<Self, Error> {
        let uri = Pkcs11Uri::parse(uri).map_err(MasterKeyError::from)?;
        Self::open_parsed(&uri, true)
    }

    /// Opens (or first generates) the key of a parsed URI.
    fn open_parsed(uri: &Pkcs11Uri, generate: bool) -> Result<Self, Error> {
        let ctx = module(&uri.module_path).map_err(MasterKeyError::from)?;
        let slot = find_slot(&ctx, uri)?;
        check_gcm(&ctx, slot, uri)?;
        let pin = read_pin(&uri.pin_source)?;
        let session = ctx.open_rw_session(slot).map_err(device)?;
        login(&session, &pin, uri)?;
        drop(pin);
        if generate {
            if !session
                .find_objects(&key_template(uri))
                .map_err(device)?
                .is_empty()
            {
                return Err(Error::InvalidOperation(
                    "a key object of that name already exists in the token",
                ));
            }
            let mut template = vec![
                Attribute::Token(true),
                Attribute::Private(true),
                Attribute::Sensitive(true),
                Attribute::Extractable(false),
                Attribute::Encrypt(true),
                Attribute::Decrypt(true),
                Attribute::Wrap(false),
                Attribute::Unwrap(false),
                Attribute::ValueLen((KEY_LEN as u64).into()),
            ];
            template.extend(key_template(uri).into_iter().skip(2));
            session
                .generate_key(&Mechanism::AesKeyGen, &template)
                .map_err(device)?;
        }
        let key = find_key(&session, uri)?;
        Ok(Self {
            id: MasterKeyId::new(uri.identity()),
            key,
            pool: SessionPool::new(ctx, slot, session),
        })
    }
}

impl MasterKey for Pkcs11MasterKey {
    fn id(&self) -> &MasterKeyId {
        &self.id
    }

    fn wrap(&self, key: &KeyMaterial, aad: &[u8]) -> Result<WrappedKey, Error> {
        let mut iv = [0u8; IV_LEN];
        primitives::os_fill(&mut iv)?;
        let mut params_iv = iv;
        let sealed = self
            .pool
            .with_session(|s| {
                let params = GcmParams::new(&mut params_iv, aad, (TAG_LEN as u64 * 8).into())?;
                s.encrypt(&Mechanism::AesGcm(params), self.key, key.expose_secret())
            })
            .map_err(device)?;
        if sealed.len() != KEY_LEN + TAG_LEN {
            return Err(MasterKeyError::from(Pkcs11Error::UnexpectedOutput(
                "a CKM_AES_GCM ciphertext of an unexpected length",
            ))
            .into());
        }
        let mut out = Vec::with_capacity(WRAPPED_LEN);
        out.push(WRAP_FORMAT);
        out.extend_from_slice(&iv);
        out.extend_from_slice(&sealed);
        Ok(WrappedKey::from_bytes(out))
    }

    fn unwrap(&self, wrapped: &WrappedKey, aad: &[u8]) -> Result<KeyMaterial, Error> {
        let bytes = wrapped.as_bytes();
        if bytes.len() != WRAPPED_LEN || bytes[0] != WRAP_FORMAT {
            return Err(MasterKeyError::Unwrap.into());
        }
        let mut iv = [0u8; IV_LEN];
        iv.copy_from_slice(&bytes[1..=IV_LEN]);
        let opened = self.pool.with_session(|s| {
            let params = GcmParams::new(&mut iv, aad, (TAG_LEN as u64 * 8).into())?;
            s.decrypt(&Mechanism::AesGcm(params), self.key, &bytes[1 + IV_LEN..])
        });
        let plain = match opened {
            Ok(p) => Zeroizing::new(p),
            // A wrong key, AAD or altered bytes: GCM's tag check, as for a local key. SoftHSM2
            // (2.6) reports a failed tag as CKR_GENERAL_ERROR from C_Decrypt; the input was
            // well-formed (length and format checked above), so we read it the same way.
            Err(CkError::Pkcs11(
                RvError::EncryptedDataInvalid
                | RvError::EncryptedDataLenRange
                | RvError::GeneralError,
                _,
            )) => return Err(MasterKeyError::Unwrap.into()),
            Err(e) => return Err(device(e)),
        };
        if plain.len() != KEY_LEN {
            return Err(MasterKeyError::Unwrap.into());
        }
        let mut raw = Zeroizing::new([0u8; KEY_LEN]);
        raw.copy_from_slice(&plain);
        Ok(KeyMaterial::from_zeroizing(raw))
    }
}
