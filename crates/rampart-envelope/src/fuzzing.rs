//! Hooks for the fuzz targets in `fuzz/`, built only with `--cfg fuzzing` (which cargo-fuzz
//! passes). Not a supported API: hidden from the docs, may change at any time, and absent
//! from every normal build.

use crate::MasterKey;
use crate::error::Error;

/// Re-signs a keyring document (see `keyring_file::resign_for_fuzzing`): the integrity MAC
/// is recomputed with the keyring key `master` unwraps, so a mutated structure reaches the
/// validation that runs after the MAC.
pub fn resign_keyring_json(json: &str, master: &dyn MasterKey) -> Option<String> {
    crate::keyring_file::resign_for_fuzzing(json, master)
}

/// Parses re-encryption checkpoint bytes as `FileCheckpoint::load` does, with JSON ids.
///
/// # Errors
/// The checkpoint parse errors.
pub fn parse_checkpoint(bytes: &[u8]) -> Result<(), Error> {
    crate::reencrypt::parse_checkpoint::<serde_json::Value>(bytes).map(|_| ())
}
