//! The data key (DEK) and the keyring: the only place the file format talks to the
//! keyring. A DEK is sealed as an ordinary sealed value, so everything the keyring enforces
//! for values (keyring and region checks, version states, retention buckets, commitment)
//! holds for files too.

use zeroize::Zeroizing;

use super::format::{COMMIT_LEN, FileHeader, SALT_LEN, SLOT_LEN};
use super::segment::PayloadKey;
use crate::error::{Error, FileError};
use crate::primitives::{B64URL, KEY_LEN, os_fill, os_key};
use crate::sealed;
use crate::{Context, Keyring};

const _: () = assert!(sealed::OVERHEAD + KEY_LEN == SLOT_LEN);

/// The context the DEK is sealed under: the caller's pairs plus the file salt and purpose,
/// so a slot moved into another file's header (another salt) does not open, and a DEK slot
/// is never confused with a sealed value of the same caller context.
pub(crate) fn dek_context(context: &Context, salt: &[u8]) -> Context {
    use base64::Engine as _;
    context
        .clone()
        .with_reserved("file-salt", B64URL.encode(salt))
        .with_reserved("purpose", "file")
}

/// The canonical encoding of the caller's context (fed into the payload key derivation).
fn canonical(context: &Context) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    context.encode_into(&mut out)?;
    Ok(out)
}

/// Creates the header and payload key of a new file.
pub(crate) fn new_file(
    keyring: &Keyring,
    context: &Context,
) -> Result<(FileHeader, PayloadKey), Error> {
    let dek = os_key()?;
    let mut salt = [0u8; SALT_LEN];
    os_fill(&mut salt)?;
    let sealed = keyring.seal(&dek[..], &dek_context(context, &salt))?;
    let slot = to_slot(sealed.as_ref())?;
    let mut keyring_id = [0u8; 4];
    keyring_id.copy_from_slice(&slot[sealed::off::KEYRING..sealed::off::REGION]);
    let region = [slot[sealed::off::REGION], slot[sealed::off::REGION + 1]];
    let draft = FileHeader::build(
        u32::from_be_bytes(keyring_id),
        region,
        &salt,
        &slot,
        &[0u8; COMMIT_LEN],
    );
    let key = PayloadKey::derive(&dek, &salt, &draft.immutable(), &canonical(context)?);
    let header = FileHeader::build(
        u32::from_be_bytes(keyring_id),
        region,
        &salt,
        &slot,
        key.commitment(),
    );
    Ok((header, key))
}

/// Opens the DEK in `header`'s slot and checks the commitment.
pub(crate) fn open_file(
    keyring: &Keyring,
    context: &Context,
    header: &FileHeader,
) -> Result<PayloadKey, Error> {
    let dek = open_dek(keyring, context, header)?;
    let key = PayloadKey::derive(
        &dek,
        header.salt(),
        &header.immutable(),
        &canonical(context)?,
    );
    key.check_commitment(header.commitment())?;
    Ok(key)
}

/// Opens the DEK in the slot (keyring errors pass through unchanged).
pub(crate) fn open_dek(
    keyring: &Keyring,
    context: &Context,
    header: &FileHeader,
) -> Result<Zeroizing<[u8; KEY_LEN]>, Error> {
    let plain = keyring.open(header.wrapped_key(), &dek_context(context, header.salt()))?;
    // A slot that authenticates but does not hold 32 bytes was not written by this crate.
    let mut dek = Zeroizing::new([0u8; KEY_LEN]);
    if plain.len() != KEY_LEN {
        return Err(FileError::HeaderCommitment.into());
    }
    dek.copy_from_slice(&plain);
    Ok(dek)
}

/// A sealed DEK as a slot; a size other than 120 bytes would be a format change.
pub(crate) fn to_slot(sealed: &[u8]) -> Result<[u8; SLOT_LEN], Error> {
    sealed.try_into().map_err(|_| {
        Error::InvalidOperation("sealed data key does not fit the 120-byte file header slot")
    })
}

pub(crate) fn io_error(e: std::io::Error) -> Error {
    FileError::Io(e).into()
}
