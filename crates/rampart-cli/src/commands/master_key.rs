//! Where a command's master key comes from: `--master-key URI` (`local:FILE`, `pkcs11:...`,
//! `aws-kms:KEY`), `--master-key-file FILE`, or `RAMPART_MASTER_KEY`.
//!
//! Every failure to reach the key (a missing file, a wrong PIN, a missing token, module or key
//! object, an unreachable or refusing KMS) is an input error (exit 2) whose message says which:
//! the operator has to fix the environment, not the data.

use std::path::Path;
use std::sync::Arc;

use rampart::envelope::{LocalMasterKey, MASTER_KEY_ENV, MasterKey};

use super::envelope::failure;
use crate::cli::MasterKeyArgs;
use crate::output::Failure;

/// A master key of any provider, as the keyring functions take it.
pub(crate) type AnyMasterKey = Arc<dyn MasterKey>;

/// The master key from `--master-key`, `--master-key-file`, or else `RAMPART_MASTER_KEY`
/// (32 bytes in base64, surrounding whitespace ignored; a key file must be private).
pub(crate) fn from_args(args: &MasterKeyArgs) -> Result<AnyMasterKey, Failure> {
    if let Some(uri) = &args.master_key {
        return from_uri(uri);
    }
    match &args.master_key_file {
        Some(path) => return from_file(path),
        None => LocalMasterKey::from_env(),
    }
    .map(|k| Arc::new(k) as AnyMasterKey)
    .map_err(|e| {
        let failure = failure(&e);
        if failure.kind == "missing_master_key" {
            let message = format!(
                "{}: give --master-key URI, --master-key-file FILE or set {MASTER_KEY_ENV} \
                 (32 bytes in base64, e.g. `head -c 32 /dev/urandom | base64 > master.key`)",
                failure.message
            );
            Failure { message, ..failure }
        } else {
            failure
        }
    })
}

/// A local master key from a named file (`--master-key-file`, `--new-master-key-file`).
pub(crate) fn from_file(path: &Path) -> Result<AnyMasterKey, Failure> {
    LocalMasterKey::from_file(path)
        .map(|k| Arc::new(k) as AnyMasterKey)
        .map_err(|e| failure(&e))
}

/// A master key by URI (`--master-key`, `keyring rewrap --to`).
pub(crate) fn from_uri(uri: &str) -> Result<AnyMasterKey, Failure> {
    if let Some(path) = uri.strip_prefix("local:") {
        return from_file(Path::new(path));
    }
    if uri.starts_with("pkcs11:") {
        return pkcs11(uri);
    }
    if let Some(key) = uri.strip_prefix("aws-kms:") {
        return aws_kms(key);
    }
    Err(Failure::input(
        "master_key_uri",
        "a master key URI is local:FILE, pkcs11:... (RFC 7512) or aws-kms:KEY-ARN",
    ))
}

#[cfg(feature = "pkcs11")]
fn pkcs11(uri: &str) -> Result<AnyMasterKey, Failure> {
    rampart::envelope::Pkcs11MasterKey::open(uri)
        .map(|k| Arc::new(k) as AnyMasterKey)
        .map_err(|e| failure(&e))
}

#[cfg(not(feature = "pkcs11"))]
fn pkcs11(_uri: &str) -> Result<AnyMasterKey, Failure> {
    Err(not_built_in("pkcs11"))
}

#[cfg(feature = "aws-kms")]
fn aws_kms(key: &str) -> Result<AnyMasterKey, Failure> {
    kms::BlockingKms::build(key).map(|k| Arc::new(k) as AnyMasterKey)
}

#[cfg(not(feature = "aws-kms"))]
fn aws_kms(_key: &str) -> Result<AnyMasterKey, Failure> {
    Err(not_built_in("aws-kms"))
}

#[cfg(any(not(feature = "pkcs11"), not(feature = "aws-kms")))]
fn not_built_in(feature: &str) -> Failure {
    Failure::input(
        "master_key_uri",
        format!("this rampart binary was built without the `{feature}` feature"),
    )
}

/// AWS KMS for a synchronous command: the library's key is async (a network call), so the
/// CLI drives it on a runtime of its own. Only a keyring load, create or rewrap calls KMS.
#[cfg(feature = "aws-kms")]
mod kms {
    use rampart::envelope::{
        AsyncMasterKey, AwsKmsMasterKey, Error, KeyMaterial, MasterKey, MasterKeyId, WrappedKey,
    };
    use tokio::runtime::{Builder, Runtime};

    use super::failure;
    use crate::output::Failure;

    pub(super) struct BlockingKms {
        key: AwsKmsMasterKey,
        // The SDK's client belongs to the runtime that built it.
        runtime: Runtime,
    }

    impl BlockingKms {
        /// Credentials, region and endpoint come from the AWS SDK's chain
        /// (`AWS_ENDPOINT_URL` for a local KMS); an ARN's own region wins.
        pub(super) fn build(key: &str) -> Result<Self, Failure> {
            let runtime = Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| Failure::input("runtime", format!("cannot start a runtime: {e}")))?;
            let key = runtime
                .block_on(AwsKmsMasterKey::builder(key).build())
                .map_err(|e| failure(&e))?;
            Ok(BlockingKms { key, runtime })
        }
    }

    impl MasterKey for BlockingKms {
        fn id(&self) -> &MasterKeyId {
            AsyncMasterKey::id(&self.key)
        }
        fn wrap(&self, key: &KeyMaterial, aad: &[u8]) -> Result<WrappedKey, Error> {
            self.runtime
                .block_on(AsyncMasterKey::wrap(&self.key, key, aad))
        }
        fn unwrap(&self, wrapped: &WrappedKey, aad: &[u8]) -> Result<KeyMaterial, Error> {
            self.runtime
                .block_on(AsyncMasterKey::unwrap(&self.key, wrapped, aad))
        }
        fn admits_region(&self, keyring_region: &str) -> Result<(), Error> {
            AsyncMasterKey::admits_region(&self.key, keyring_region)
        }
    }
}
