//! Envelope encryption for values a service keeps at rest: OAuth tokens, database
//! credentials, webhook secrets, personal data columns.
//!
//! ```
//! use std::time::SystemTime;
//! use rampart_envelope::{Context, Keyring, LocalMasterKey};
//!
//! let master = LocalMasterKey::generate()?; // in production: LocalMasterKey::from_file(path)?
//! let mut ring = Keyring::create("oauth-tokens", "eu-central", &master, SystemTime::now())?;
//! let ctx = Context::new().with("tenant", "42").with("column", "oauth_token");
//! let column = ring.seal_text(b"ya29.a0Af...", &ctx)?;          // store this text
//! assert_eq!(&ring.open_text(&column, &ctx)?[..], b"ya29.a0Af...");
//! assert!(ring.open_text(&column, &Context::new().with("tenant", "43")).is_err());
//! ring.rotate(&master, SystemTime::now())?;                    // old values still open
//! # Ok::<(), rampart_envelope::Error>(())
//! ```
//!
//! # Key hierarchy
//!
//! ```text
//! MasterKey provider (LocalMasterKey today; PKCS#11 or a KMS behind the same trait)
//!   └─ keyring key KRK (256-bit, OS CSPRNG), wrapped once by the provider,
//!      AAD = "rampart/krk/v1" ‖ keyring id ‖ region
//!        └─ version keys K_v (256-bit, OS CSPRNG), AES-256-GCM-wrapped under a KRK-derived key,
//!           AAD = "rampart/keyring/v1" ‖ keyring id ‖ region ‖ version ‖ created
//!             └─ per-thread subkeys K_s = HKDF-SHA256(ikm = K_v, salt = S, info = label ‖ header
//!                prefix ‖ region ‖ name) → sealed values (counter nonces)
//! ```
//!
//! The [`MasterKey`] is called at keyring load, rotate and rewrap, never per message: loading a
//! keyring of 100 versions costs one provider call plus 100 local unwraps, and moving to a new
//! master key ([`Keyring::rewrap`]) rewraps one 32-byte key and touches no data.
//!
//! # Sealed value format (v1)
//!
//! A sealed value is an 88-byte overhead around the AES-256-GCM ciphertext. Big-endian.
//!
//! | offset | size | field | contents |
//! |---|---|---|---|
//! | 0 | 1 | format version | `0x01`; `0x00` is never valid, new formats get new numbers |
//! | 1 | 1 | suite | `0x01`: AES-256-GCM, HKDF-SHA256 subkeys, 32-byte commitment |
//! | 2 | 4 | keyring id | random u32 chosen at [`Keyring::create`] ([`KeyringId`]) |
//! | 6 | 2 | region code | first 2 bytes of SHA-256(region label) |
//! | 8 | 4 | key version | u32, only grows, never reused |
//! | 12 | 16 | subkey salt `S` | OS CSPRNG, one per sealer (thread × version), re-drawn after 2^32 seals |
//! | 28 | 12 | nonce | `00 00 00 00 ‖ u64 counter` (or 12 OS-random bytes with [`NonceSource::OsRandom`]) |
//! | 40 | 32 | commitment `C` | HKDF-Expand(PRK(K_v, S), `"rampart/v1/commit"` ‖ bytes 0..12 ‖ region ‖ name, 32) |
//! | 72 | n | ciphertext | AES-256-GCM under `K_s` |
//! | 72 + n | 16 | tag | GCM tag |
//!
//! The text form ([`Keyring::seal_text`], [`SealedValue`], serde) is unpadded base64url of
//! these bytes: a 64-byte token becomes 203 characters.
//!
//! **What is authenticated.** Every header byte: bytes 0..28 and the keyring's region label and
//! name are inputs of the HKDF that derives `K_s` and `C`, so changing any of them gives a
//! different key and commitment; the nonce is GCM's own nonce; the commitment is compared with
//! the derived one. The GCM associated data is the canonical encoding of the caller's
//! [`Context`] (`u16 count ‖ for each pair sorted by key: u16 len ‖ key ‖ u16 len ‖ value`).
//!
//! **Opening** checks, in this order and before any decryption: format and suite bytes,
//! length ([`Error::Truncated`]), keyring id ([`Error::KeyringMismatch`]), region code
//! ([`Error::RegionMismatch`]), version ([`Error::UnknownKeyVersion`], [`Error::KeyRetired`],
//! [`Error::BelowMinDecrypt`]), the key commitment in constant time
//! ([`Error::CommitmentMismatch`]), then the tag ([`Error::Authentication`], which is also what
//! a wrong context gives). No plaintext is returned on any failure.
//!
//! # Nonce safety without coordination
//!
//! Random 96-bit nonces under one key are limited to about 2^32 messages (NIST SP 800-38D
//! §8.3), which replicas sealing under one version for months could reach. Here no two sealers
//! share a key unless their 128-bit salts collide:
//!
//! - **Within one subkey** nonces come from a counter, unique by construction; the salt is
//!   re-drawn after 2^32 seals, keeping each subkey inside NIST's per-key guidance.
//! - **Across subkeys** (threads, processes, replicas, restarts) a repeat needs two equal salts:
//!   probability ≤ n²/2^129 for n sealer instances per version key, which stays below 2^-32
//!   up to **n = 2^48 instances** per version. No replica counts anything with another.
//! - **Fork.** A forked child inherits its parent's sealer state. A `pthread_atfork` child
//!   handler (the forkguard crate: registering one needs `unsafe`, which this crate forbids)
//!   counts forks; each seal reads the count (one atomic load) and a sealer created before a
//!   fork draws a new salt. Processes that fork without running atfork handlers (a raw
//!   `clone` system call, glibc's `_Fork`) choose [`NonceSource::CounterWithPidCheck`],
//!   which compares the process id on every seal (one `getpid` call; see BENCHMARKS.md).
//!   `tests/fork.rs` forks for real and checks that parent and child never share a nonce.
//! - **VM snapshot restore, CRIU, cloned containers** duplicate memory without a fork: call
//!   [`reseed()`] from the restore hook (every sealer in every thread then draws a new
//!   salt), or choose [`NonceSource::OsRandom`] (an OS-random nonce per seal, a new subkey
//!   every 2^20 seals, about 300 ns more per seal) when no hook exists.
//!
//! # Key commitment
//!
//! `C` comes from the same PRK as `K_s` under another label (as the AWS Encryption SDK's
//! DERIVEKEY/COMMITKEY split does) and is checked in constant time (`subtle`) before
//! decrypting, so a ciphertext opens under exactly one version key: producing one that opens
//! under two needs an HMAC-SHA256 collision on 256 bits. This is key commitment (CMT-1); the
//! context is authenticated by the tag but not committed. `(K_s, C)` are cached per
//! (version, salt) in a bounded LRU ([`Keyring::set_open_cache_capacity`]); only entries whose
//! commitment verified are inserted, so forged headers cannot evict real ones.
//!
//! # Rotation
//!
//! | state | seals | opens | key material |
//! |---|---|---|---|
//! | [`VersionState::Staged`] | no | yes | present |
//! | [`VersionState::Primary`] (one) | yes | yes | present |
//! | [`VersionState::Active`] | no | yes | present |
//! | [`VersionState::Retired`] | no | no: [`Error::KeyRetired`] | destroyed; tombstone (version, created, retired) |
//!
//! [`Keyring::rotate`] = [`Keyring::add_version`] + [`Keyring::promote`]. Then re-encrypt
//! ([`Keyring::needs_reencrypt`] reads the header only; [`Keyring::reencrypt`] never hands the
//! plaintext to the caller), optionally gate with [`Keyring::set_min_decrypt`] (reversible),
//! and finally [`Keyring::retire_below`] (irreversible). `retire_below(v)` raises
//! `min_decrypt` to `v` itself instead of requiring a `set_min_decrypt(v)` first: retiring is
//! the stronger gate anyway, and the CLI's `keyring retire --below V` stays one step.
//!
//! # What "destroyed" covers
//!
//! Retiring a version (or purging a retention bucket) removes its wrapped key from the keyring
//! (the next [`Keyring::save`] writes a tombstone), zeroizes our copies of the key bytes, and
//! drops the derived subkeys we cache. It does **not** cover:
//!
//! - **ring's key schedules.** ring 0.17 does not wipe expanded AES keys or HMAC keys on drop,
//!   so residue stays in freed memory until it is reused or the process exits. There is no
//!   fix without `unsafe` or a change in ring. Other threads' sealers for a retired version are
//!   dropped on their next seal miss, or when the thread exits.
//! - **Old copies of the keyring file.** The integrity MAC stops splicing a tombstoned key back
//!   into the current file, but cannot stop a rollback to a whole older file made under the
//!   same KRK. If old copies may exist (backups), rotate the master key and
//!   [`Keyring::rewrap`] after retiring so old files no longer unwrap; better, keep keyrings
//!   whose data must die out of backups.
//! - **A cloud KMS** schedules deletion (7 to 30 days); an HSM's `C_DestroyObject` is immediate.
//!
//! # Master keys
//!
//! [`LocalMasterKey`] reads 32 bytes in base64 from a file ([`LocalMasterKey::from_file`]:
//! refused with a `chmod 600` hint when group or others may read it) or from
//! `RAMPART_MASTER_KEY` ([`LocalMasterKey::from_env`]: our copy is zeroized; the variable
//! itself stays set because `std::env::remove_var` is `unsafe` in edition 2024). Missing,
//! malformed and short keys each have their own [`MasterKeyError`]. The key's identifier
//! `local:kcv=<16 hex>` (first 8 bytes of HMAC-SHA256(key, "rampart kcv")) is stored in the
//! keyring file, so a wrong key fails with [`MasterKeyError::WrongMasterKey`] naming both.
//!
//! # Keyring file (format 1)
//!
//! ```json
//! {
//!   "format": "rampart-keyring",
//!   "format_version": 1,
//!   "keyring_id": "5f3a9c21",
//!   "name": "oauth-tokens",
//!   "region": "eu-central",
//!   "kind": "values",
//!   "master_key": { "id": "local:kcv=9a1c03e2b7d4f160", "wrapped_keyring_key": "base64url" },
//!   "primary": 3,
//!   "min_decrypt": 2,
//!   "rotate_after_seconds": 7776000,
//!   "versions": [
//!     { "version": 1, "state": "retired", "created": "2026-01-02T00:00:00Z", "retired": "2026-09-01T00:00:00Z" },
//!     { "version": 2, "state": "active", "created": "2026-04-02T00:00:00Z", "wrapped": "base64url" },
//!     { "version": 3, "state": "primary", "created": "2026-07-01T00:00:00Z", "wrapped": "base64url" }
//!   ],
//!   "retention": null,
//!   "generation": 7,
//!   "integrity": "base64url"
//! }
//! ```
//!
//! - `generation`: raised by one at every save, covered by the MAC; the compare-and-swap
//!   token (see [`KeyringStore`]). Documents written before it existed have no such field:
//!   they load as generation 0 and their MAC (computed without the field) still verifies;
//!   removing the field from a newer document breaks its MAC.
//! - `wrapped`: `nonce(12) ‖ AES-256-GCM(version key) ‖ tag(16)` under a KRK-derived key, AAD
//!   binding keyring id, region, version and creation time.
//! - `integrity`: HMAC-SHA256 under a KRK-derived key over
//!   `"rampart/keyring-integrity/v1\n" ‖` the compact JSON of the document without
//!   `integrity` (fields in the order above), computed from parsed values: whitespace does not
//!   matter, any change of content does. It stops a file-level attacker from moving `primary`
//!   or `min_decrypt` or re-adding a tombstoned key.
//! - Times are RFC 3339 UTC whole seconds. `rotate_after_seconds` is a plain integer (not an
//!   ISO 8601 duration such as `"P90D"`), so no duration parser is needed.
//! - `kind` is `values` or `retention`; `retention` holds `{ "bucket_seconds", "retain_seconds" }`
//!   for retention keyrings (see [`retention`]).
//! - Loading refuses, each with its own [`KeyringFileError`]: files over [`MAX_FILE_LEN`],
//!   unknown `format_version`, unknown fields or kinds, a bad MAC, duplicate versions, more than
//!   one primary, `primary < min_decrypt`, live versions without keys, tombstones with keys.
//! - [`Keyring::save`] writes a temp file (mode 0600) in the same directory, fsyncs it, renames
//!   it over the target and fsyncs the directory: a crash leaves the old or the new file.
//!   Writers hold the sidecar lock `.NAME.lock` from load to save and save with
//!   compare-and-swap on `generation` ([`Keyring::update`], [`KeyringStore`]); replicas only
//!   load ([`KeyringHandle`]).
//!
//! Golden files in `tests/vectors/values-v1/` (a keyring, its master key, ciphertexts with their
//! contexts) must open with every future version of this crate.
//!
//! # Limits
//!
//! Plaintext up to [`MAX_PLAINTEXT_LEN`] (64 MiB; larger data uses [`stream`]); contexts up to
//! [`MAX_PAIRS`] pairs, [`MAX_KEY_LEN`]-byte keys, [`MAX_ENCODED_LEN`] bytes encoded, no
//! duplicate keys, no keys starting `rampart:`; keyring names and regions 1 to
//! [`MAX_LABEL_LEN`] bytes; up to [`MAX_VERSIONS`] versions.
//!
//! # Design notes
//!
//! The full design, byte by byte and with the reason for each choice, is `docs/envelope.md`
//! in the repository (its sections §1 to §12 are what this crate's comments cite).
//!
//! - **GCM AAD is the context only.** Every header field is already bound (through the
//!   subkey derivation, the nonce or the commitment check), and GHASH over ~100 extra AAD
//!   bytes per message costs about as much as sealing a 64-byte value (measured on a 2-vCPU
//!   machine), so the header prefix and the keyring binding (region label, keyring name) go
//!   into the HKDF info, computed once per sealer instead of once per message.
//! - **Fork safety by default, without a system call per seal.** A `pthread_atfork` child
//!   handler (through forkguard) counts forks and each seal reads the count, so `fork()` needs
//!   no caller action; [`NonceSource::CounterWithPidCheck`] adds a per-seal pid comparison for
//!   forks that skip atfork handlers, and [`reseed()`] covers snapshot restores.
//! - **`retire_below` raises `min_decrypt`** instead of requiring it to be raised first (see
//!   Rotation above).
#![forbid(unsafe_code)]

mod async_master_key;
pub mod atomic_file;
#[cfg(feature = "aws-kms")]
mod aws_kms;
mod context;
mod error;
mod handle;
mod keyring;
mod keyring_file;
mod master_key;
#[cfg(feature = "pkcs11")]
mod pkcs11;
mod primitives;
mod sealed;
mod store;
mod subkey;

// Only in cargo-fuzz builds (which pass `--cfg fuzzing`): never part of the API.
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;
pub mod reencrypt;
pub mod retention;
pub mod stream;

pub use async_master_key::AsyncMasterKey;
#[cfg(feature = "aws-kms")]
pub use aws_kms::{AAD_CONTEXT_KEY, AwsKmsBuilder, AwsKmsMasterKey};
pub use context::{Context, MAX_ENCODED_LEN, MAX_KEY_LEN, MAX_PAIRS};
#[cfg(feature = "aws-kms")]
pub use error::AwsKmsError;
#[cfg(feature = "pkcs11")]
pub use error::Pkcs11Error;
pub use error::{ContextError, Error, FileError, KeyringFileError, MasterKeyError};
pub use handle::KeyringHandle;
pub use keyring::{
    Keyring, KeyringId, KeyringKind, KeyringSummary, MAX_FILE_LEN, MAX_LABEL_LEN, MAX_VERSIONS,
    VersionInfo, VersionState,
};
pub use master_key::{
    KeyMaterial, LocalMasterKey, MASTER_KEY_ENV, MasterKey, MasterKeyId, WrappedKey,
};
#[cfg(feature = "pkcs11")]
pub use pkcs11::{PKCS11_PIN_ENV, PinSource, Pkcs11MasterKey, Pkcs11Uri};
pub use sealed::{MAX_PLAINTEXT_LEN, OVERHEAD, SealedValue};
pub use store::{DEFAULT_LOCK_WAIT, FileKeyringStore, KeyringStore, StoreLock, StoredKeyring};
pub use subkey::{NonceSource, reseed};
