//! The async edge for master keys behind a network call (a cloud KMS, Vault): the keyring
//! loaders, creators and rewrappers that await the provider (`Keyring::load_async`...).
//!
//! Only those await. Sealing and opening never reach the master key (it wraps the keyring
//! key, unwrapped once per load), so nothing on the message path is async.

use std::future::Future;

use crate::error::Error;
use crate::master_key::{KeyMaterial, MasterKey, MasterKeyId, WrappedKey};

/// A master key whose wrap and unwrap are network calls.
///
/// Every [`MasterKey`] is also an `AsyncMasterKey` (its calls complete at once), so the async
/// keyring functions take local keys, HSM keys and KMS keys alike, and
/// [`Keyring::rewrap_async`](crate::Keyring::rewrap_async) moves a keyring between any two.
///
/// # Implementing it for another KMS
///
/// Rampart ships AWS KMS ([`AwsKmsMasterKey`](crate::AwsKmsMasterKey), feature `aws-kms`)
/// because it can be tested against a real local implementation; GCP Cloud KMS, Azure Key
/// Vault and Vault Transit have none installable here, so no untested adapter is shipped.
/// An adapter is small; keep these rules:
///
/// - **Bind `aad`.** GCP Cloud KMS: `encrypt`/`decrypt` with `additional_authenticated_data`
///   = `aad`. Azure Key Vault: `wrapKey`/`unwrapKey` take no AAD, so use `encrypt`/`decrypt`
///   with `A256GCM` on a Managed HSM key, `aad` as `additionalAuthenticatedData`. Vault
///   Transit: `encrypt`/`decrypt` with `context` = base64(`aad`) on a `derived` key, or
///   `associated_data` for `aes256-gcm96` keys (Vault 1.16+).
/// - **A stable `id`**: the full resource name (`gcp-kms:projects/p/locations/europe-west1/
///   keyRings/r/cryptoKeys/k`, `azure-kv:https://v.vault.azure.net/keys/k`,
///   `vault-transit:https://vault:8200/transit/keys/k`). It is stored in the keyring file
///   and compared at load.
/// - **`admits_region`**: refuse a keyring of another region before any call, as
///   [`MasterKey::admits_region`] describes (GCP: the `locations/` segment; Azure: the
///   vault's location).
/// - **Errors**: map "unreachable", "not found", "disabled", "permission denied" to
///   [`MasterKeyError::Provider`](crate::MasterKeyError::Provider) with a message that
///   says which, and a failed authentication of the ciphertext to
///   [`MasterKeyError::Unwrap`](crate::MasterKeyError::Unwrap).
/// - **Futures are `Send`** (they run on multi-threaded runtimes); never block a runtime
///   thread in them.
///
/// A Vault Transit adapter, with the HTTP client stubbed by a local key so the example runs:
///
/// ```
/// use rampart_envelope::{
///     AsyncMasterKey, Context, Error, KeyMaterial, Keyring, LocalMasterKey, MasterKey,
///     MasterKeyError, MasterKeyId, WrappedKey,
/// };
///
/// /// Stands in for `reqwest` calls to `POST /v1/transit/{encrypt,decrypt}/<key>`.
/// struct TransitClient { key: LocalMasterKey }
/// impl TransitClient {
///     async fn encrypt(&self, plaintext: &[u8; 32], context: &[u8]) -> Result<Vec<u8>, Error> {
///         let k = KeyMaterial::from_bytes(*plaintext);
///         MasterKey::wrap(&self.key, &k, context).map(|w| w.as_bytes().to_vec())
///     }
///     async fn decrypt(&self, ciphertext: &[u8], context: &[u8]) -> Result<[u8; 32], Error> {
///         let w = WrappedKey::from_bytes(ciphertext.to_vec());
///         MasterKey::unwrap(&self.key, &w, context).map(|k| *k.expose_secret())
///     }
/// }
///
/// struct VaultTransitKey { id: MasterKeyId, client: TransitClient }
///
/// impl AsyncMasterKey for VaultTransitKey {
///     fn id(&self) -> &MasterKeyId {
///         &self.id
///     }
///     async fn wrap(&self, key: &KeyMaterial, aad: &[u8]) -> Result<WrappedKey, Error> {
///         let ct = self.client.encrypt(key.expose_secret(), aad).await
///             .map_err(|e| MasterKeyError::Provider(Box::new(e)))?; // the client's error, typed
///         Ok(WrappedKey::from_bytes(ct))
///     }
///     async fn unwrap(&self, wrapped: &WrappedKey, aad: &[u8]) -> Result<KeyMaterial, Error> {
///         // A real client maps Vault's "cipher: message authentication failed" to Unwrap.
///         let pt = self.client.decrypt(wrapped.as_bytes(), aad).await
///             .map_err(|_| MasterKeyError::Unwrap)?;
///         Ok(KeyMaterial::from_bytes(pt))
///     }
/// }
///
/// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// # rt.block_on(async {
/// let vault = VaultTransitKey {
///     id: MasterKeyId::new("vault-transit:https://vault:8200/transit/keys/tokens"),
///     client: TransitClient { key: LocalMasterKey::generate()? },
/// };
/// let now = std::time::SystemTime::now();
/// let ring = Keyring::create_async("tokens", "eu-central", &vault, now).await?;
/// let json = ring.to_json()?;
/// let loaded = Keyring::from_json_async(&json, &vault).await?;
/// let ctx = Context::new();
/// assert_eq!(&loaded.open(&ring.seal(b"x", &ctx)?, &ctx)?[..], b"x"); // no await here
/// # Ok::<(), Error>(())
/// # }).unwrap();
/// ```
pub trait AsyncMasterKey: Send + Sync {
    /// Stable identifier stored in the keyring file.
    fn id(&self) -> &MasterKeyId;
    /// Encrypts `key` with `aad` bound (see [`MasterKey::wrap`]).
    fn wrap(
        &self,
        key: &KeyMaterial,
        aad: &[u8],
    ) -> impl Future<Output = Result<WrappedKey, Error>> + Send;
    /// Decrypts a key produced by [`AsyncMasterKey::wrap`] with the same `aad` (see
    /// [`MasterKey::unwrap`]).
    fn unwrap(
        &self,
        wrapped: &WrappedKey,
        aad: &[u8],
    ) -> impl Future<Output = Result<KeyMaterial, Error>> + Send;
    /// Whether this key may wrap a keyring of region `keyring_region`, asked before any
    /// call (see [`MasterKey::admits_region`]).
    fn admits_region(&self, keyring_region: &str) -> Result<(), Error> {
        let _ = keyring_region;
        Ok(())
    }
}

/// Every synchronous master key (local, PKCS#11) is usable where an async one is expected;
/// its calls complete without waiting on the network (a PKCS#11 call to a local token
/// blocks briefly, as a file read would).
impl<T: MasterKey + ?Sized> AsyncMasterKey for T {
    fn id(&self) -> &MasterKeyId {
        MasterKey::id(self)
    }
    fn wrap(
        &self,
        key: &KeyMaterial,
        aad: &[u8],
    ) -> impl Future<Output = Result<WrappedKey, Error>> + Send {
        std::future::ready(MasterKey::wrap(self, key, aad))
    }
    fn unwrap(
        &self,
        wrapped: &WrappedKey,
        aad: &[u8],
    ) -> impl Future<Output = Result<KeyMaterial, Error>> + Send {
        std::future::ready(MasterKey::unwrap(self, wrapped, aad))
    }
    fn admits_region(&self, keyring_region: &str) -> Result<(), Error> {
        MasterKey::admits_region(self, keyring_region)
    }
}
