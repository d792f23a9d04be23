//! Re-keying files by re-wrapping their data key only (`docs/envelope.md` §7, §8).
//!
//! The body of a file never depends on which key version wrapped its DEK (the slot is
//! outside the payload key derivation), so moving a file to the primary version rewrites
//! 120 bytes of header and no ciphertext: the cost does not grow with the file size.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

use super::dek::{self, dek_context, io_error, to_slot};
use super::format::{FileHeader, HEADER_LEN};
use super::read_full;
use crate::error::Error;
use crate::sealed;
use crate::{Context, Keyring};

/// What [`rekey_file`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RekeyOutcome {
    /// The data key was re-wrapped from version `from` to the primary version `to`.
    Rekeyed {
        /// The key version that wrapped the data key before.
        from: u32,
        /// The primary version that wraps it now.
        to: u32,
    },
    /// The data key was already wrapped under the primary version; nothing was written.
    AlreadyCurrent {
        /// The primary version.
        version: u32,
    },
}

/// The key version that wrapped this file's data key (no cryptography).
///
/// # Errors
/// The sealed-value header errors if the slot is malformed.
pub fn wrapping_version(header: &FileHeader) -> Result<u32, Error> {
    Ok(sealed::parse_header(header.wrapped_key())?.version)
}

/// Whether the file's data key is wrapped under a version older than the keyring's
/// primary (header only, no cryptography), like `Keyring::needs_reencrypt` for values.
///
/// # Errors
/// As `Keyring::needs_reencrypt` on the slot: the slot belongs to another keyring or region,
/// or is malformed.
pub fn needs_rekey(keyring: &Keyring, header: &FileHeader) -> Result<bool, Error> {
    keyring.needs_reencrypt(header.wrapped_key())
}

/// Returns `header` with its data key re-wrapped under the keyring's primary version, or
/// `None` if it already is. The body that follows the header stays valid unchanged. Use it
/// where files live in an object store: write the new header, copy the body as is.
///
/// The header is always verified first (data key opens under `context`, commitment
/// matches), also when it is already current: a wrong context or a tampered header is an
/// error, never a quiet `None`, so a migration can tell which files will not open before it
/// retires their version. The body is not read (see
/// [`DecryptingReader`](super::DecryptingReader) to authenticate it too).
///
/// ```
/// use std::io::{Read, Write};
/// use rampart_envelope::stream::{
///     DecryptingReader, EncryptingWriter, FileHeader, HEADER_LEN, rewrap_header, wrapping_version,
/// };
/// use rampart_envelope::{Context, Keyring, LocalMasterKey};
///
/// let master = LocalMasterKey::generate()?;
/// let now = std::time::SystemTime::now();
/// let mut ring = Keyring::create("exports", "eu-central", &master, now)?;
/// let ctx = Context::new().with("object", "exports/2026-11.xlsx");
/// let mut w = EncryptingWriter::new(&ring, &ctx, Vec::new())?;
/// w.write_all(&[7u8; 100_000])?;
/// let object = w.finish()?;
/// ring.rotate(&master, now)?;
///
/// let header = FileHeader::parse(&object)?;
/// let new_header = rewrap_header(&ring, &ctx, &header)?.expect("wrapped under v1");
/// assert_eq!(wrapping_version(&new_header)?, 2);
/// // New header + the body exactly as stored (an object store can copy it server-side).
/// let mut rekeyed = new_header.as_bytes().to_vec();
/// rekeyed.extend_from_slice(&object[HEADER_LEN..]);
/// let mut plain = Vec::new();
/// DecryptingReader::new(&ring, &ctx, &rekeyed[..])?.read_to_end(&mut plain)?;
/// assert_eq!(plain, vec![7u8; 100_000]);
/// assert!(rewrap_header(&ring, &ctx, &new_header)?.is_none()); // already current
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`Error::RetentionReencrypt`] for a retention keyring (moving a file into the current
/// bucket would extend its retention); the errors of opening the file
/// ([`DecryptingReader::new`](super::DecryptingReader::new)), and the keyring's errors for
/// sealing under the primary version.
pub fn rewrap_header(
    keyring: &Keyring,
    context: &Context,
    header: &FileHeader,
) -> Result<Option<FileHeader>, Error> {
    keyring.refuse_retention_reencrypt()?;
    let current = !needs_rekey(keyring, header)?;
    dek::open_file(keyring, context, header)?;
    if current {
        return Ok(None);
    }
    let resealed = keyring.reencrypt(header.wrapped_key(), &dek_context(context, header.salt()))?;
    let slot = to_slot(resealed.as_ref())?;
    Ok(Some(header.with_slot(&slot)))
}

/// Re-keys the encrypted file at `path` in place: the data key is re-wrapped under the
/// primary version and the file is replaced atomically (new header plus the unchanged body
/// copied to a temporary file in the same directory, fsync, rename, fsync of the directory),
/// so a crash leaves either the old or the new file, never a mix. The body is copied byte
/// for byte, never decrypted.
///
/// ```
/// use std::io::Write;
/// use rampart_envelope::stream::{EncryptingWriter, RekeyOutcome, rekey_file};
/// use rampart_envelope::{Context, Keyring, LocalMasterKey};
///
/// let master = LocalMasterKey::generate()?;
/// let now = std::time::SystemTime::now();
/// let mut ring = Keyring::create("uploads", "eu-central", &master, now)?;
/// let ctx = Context::new().with("file", "a.csv");
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("a.csv.rpf");
/// let mut w = EncryptingWriter::new(&ring, &ctx, std::fs::File::create(&path)?)?;
/// w.write_all(b"a,b\n1,2\n")?;
/// w.finish()?.sync_all()?;
///
/// ring.rotate(&master, now)?;
/// assert_eq!(rekey_file(&ring, &ctx, &path)?, RekeyOutcome::Rekeyed { from: 1, to: 2 });
/// assert_eq!(rekey_file(&ring, &ctx, &path)?, RekeyOutcome::AlreadyCurrent { version: 2 });
/// ring.retire_below(2, now)?; // the file no longer needs version 1
/// let mut plain = Vec::new();
/// std::io::Read::read_to_end(
///     &mut rampart_envelope::stream::DecryptingReader::new(&ring, &ctx, std::fs::File::open(&path)?)?,
///     &mut plain,
/// )?;
/// assert_eq!(plain, b"a,b\n1,2\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// The errors of [`rewrap_header`] (including [`Error::RetentionReencrypt`], checked before
/// the file is opened), and `FileError::Io` for file system errors (the original
/// file is then untouched).
pub fn rekey_file(
    keyring: &Keyring,
    context: &Context,
    path: impl AsRef<Path>,
) -> Result<RekeyOutcome, Error> {
    keyring.refuse_retention_reencrypt()?;
    let path = path.as_ref();
    let mut src = File::open(path).map_err(io_error)?;
    let mut head = [0u8; HEADER_LEN];
    let n = read_full(&mut src, &mut head).map_err(io_error)?;
    let header = FileHeader::parse(&head[..n])?;
    let from = wrapping_version(&header)?;
    let Some(new_header) = rewrap_header(keyring, context, &header)? else {
        return Ok(RekeyOutcome::AlreadyCurrent { version: from });
    };
    let to = wrapping_version(&new_header)?;
    replace_atomically(path, &mut src, &new_header).map_err(io_error)?;
    Ok(RekeyOutcome::Rekeyed { from, to })
}

/// Writes `header` + the rest of `body` to a temporary sibling of `path` (keeping the
/// original's permissions), then renames it over `path`.
fn replace_atomically(path: &Path, body: &mut File, header: &FileHeader) -> io::Result<()> {
    let permissions = body.metadata()?.permissions();
    crate::atomic_file::write_atomically(path, |out| {
        out.set_permissions(permissions)?;
        out.write_all(header.as_bytes())?;
        io::copy(body, out)?;
        Ok(())
    })
}
