//! A master key in AWS KMS (feature `aws-kms`): `Encrypt`/`Decrypt` of the 32-byte keyring
//! key under a symmetric KMS key, our AAD bound as the KMS encryption context.
//!
//! # One KMS key per region
//!
//! A KMS key lives in one AWS region, and a keyring's data is meant to stay in its region:
//! a keyring is wrapped only by a KMS key of its own region. The keyring's region label
//! admits an AWS region when it equals it (`eu-west-1`) or is a prefix of it ending at a
//! `-` boundary: `eu` admits `eu-*` (`eu-west-1`, `eu-central-2`...), `eu-central` admits
//! `eu-central-*`, `us` admits `us-*` (including `us-gov-*`), `ap` admits `ap-*`. Any other
//! label admits no AWS region. The check needs no call ([`MasterKeyError::RegionMismatch`]
//! comes before any request), because the key's region is known from its ARN or from the
//! SDK configuration.

use std::fmt;

use aws_config::{BehaviorVersion, Region};
use aws_sdk_kms::Client;
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kms::primitives::Blob;
use base64::Engine as _;
use zeroize::Zeroizing;

use crate::async_master_key::AsyncMasterKey;
use crate::error::{AwsKmsError, Error, MasterKeyError};
use crate::master_key::{KeyMaterial, MasterKeyId, WrappedKey};
use crate::primitives::KEY_LEN;

/// The encryption-context key that carries our AAD (its value: the AAD in standard
/// base64; a context is a map of strings).
pub const AAD_CONTEXT_KEY: &str = "rampart-aad";

/// Does keyring region label `label` admit AWS region `aws_region`? (See the module docs.)
pub(crate) fn region_admits(label: &str, aws_region: &str) -> bool {
    aws_region == label
        || aws_region
            .strip_prefix(label)
            .is_some_and(|rest| rest.starts_with('-') && !label.is_empty())
}

/// The region of a key ARN or alias ARN (`arn:aws:kms:REGION:ACCOUNT:key/ID`), `None` for a
/// bare key id or alias. A malformed ARN is an error.
fn arn_region(key: &str) -> Result<Option<String>, AwsKmsError> {
    let bad = |reason| AwsKmsError::InvalidKeyId {
        key: key.to_string(),
        reason,
    };
    if key.is_empty() || key.len() > 2048 || key.chars().any(char::is_control) {
        return Err(bad("empty, too long or with control characters"));
    }
    let Some(rest) = key.strip_prefix("arn:") else {
        return Ok(None);
    };
    let parts: Vec<&str> = rest.splitn(5, ':').collect();
    let [_partition, service, region, _account, resource] = parts.as_slice() else {
        return Err(bad(
            "an ARN has the form arn:PARTITION:kms:REGION:ACCOUNT:key/ID",
        ));
    };
    if *service != "kms" {
        return Err(bad("not a KMS ARN"));
    }
    if region.is_empty() {
        return Err(bad("the ARN names no region"));
    }
    if !(resource.starts_with("key/") || resource.starts_with("alias/")) {
        return Err(bad("the ARN names neither key/ID nor alias/NAME"));
    }
    Ok(Some((*region).to_string()))
}

/// The error for a KMS error `code` about `key`: separate from the SDK's error types so the
/// mapping is unit-tested (moto does not enforce key states, so "disabled" and "pending
/// deletion" cannot be provoked there).
fn service_error(key: &str, code: Option<&str>, message: Option<&str>) -> Error {
    let key = key.to_string();
    let err = match code {
        // A wrong key, context or altered ciphertext: the local key's Unwrap.
        Some("InvalidCiphertextException" | "IncorrectKeyException") => {
            return MasterKeyError::Unwrap.into();
        }
        Some("NotFoundException") => AwsKmsError::KeyNotFound { key },
        Some("DisabledException") => AwsKmsError::KeyDisabled { key },
        Some("KMSInvalidStateException" | "KeyUnavailableException") => {
            AwsKmsError::KeyUnavailable { key }
        }
        Some(
            "AccessDeniedException"
            | "UnrecognizedClientException"
            | "InvalidSignatureException"
            | "ExpiredTokenException",
        ) => AwsKmsError::AccessDenied(message.unwrap_or("").to_string()),
        code => AwsKmsError::Service {
            code: code.unwrap_or("unknown").to_owned(),
            message: message.unwrap_or("").to_owned(),
        },
    };
    MasterKeyError::from(err).into()
}

/// Builds an [`AwsKmsMasterKey`]: credentials, region and endpoint come from the AWS SDK's
/// standard chain (`AWS_ACCESS_KEY_ID`..., `AWS_PROFILE`, `AWS_REGION`,
/// `AWS_ENDPOINT_URL`) unless set here.
#[derive(Debug)]
#[must_use]
pub struct AwsKmsBuilder {
    key: String,
    region: Option<String>,
    endpoint_url: Option<String>,
    credentials: Option<(String, Zeroizing<String>)>,
}

impl AwsKmsBuilder {
    /// The region, for a bare key id or alias (an ARN's own region always wins).
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Sends requests to `url` instead of the regional endpoint: a local KMS (moto,
    /// LocalStack) in tests, or a VPC endpoint.
    pub fn with_endpoint_url(mut self, url: impl Into<String>) -> Self {
        self.endpoint_url = Some(url.into());
        self
    }

    /// Static credentials instead of the SDK chain (a local KMS in tests; production should
    /// use roles through the chain).
    pub fn with_static_credentials(
        mut self,
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
    ) -> Self {
        self.credentials = Some((
            access_key_id.into(),
            Zeroizing::new(secret_access_key.into()),
        ));
        self
    }

    /// Loads the SDK configuration and makes the client. No request is sent: a missing or
    /// disabled key is found by the first wrap or unwrap.
    ///
    /// Errors: [`AwsKmsError::InvalidKeyId`], [`AwsKmsError::NoRegion`].
    pub async fn build(self) -> Result<AwsKmsMasterKey, Error> {
        let from_arn = arn_region(&self.key).map_err(MasterKeyError::from)?;
        // TLS through rustls on ring, the crypto this crate already uses.
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(http);
        if let Some(region) = from_arn.clone().or(self.region) {
            loader = loader.region(Region::new(region));
        }
        if let Some(url) = self.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        if let Some((id, secret)) = self.credentials {
            loader = loader.credentials_provider(aws_sdk_kms::config::Credentials::new(
                id,
                secret.as_str(),
                None,
                None,
                "rampart-static",
            ));
        }
        let config = loader.load().await;
        let region = config.region().map(ToString::to_string).ok_or_else(|| {
            MasterKeyError::from(AwsKmsError::NoRegion {
                key: self.key.clone(),
            })
        })?;
        Ok(AwsKmsMasterKey {
            id: MasterKeyId::new(format!("aws-kms:{}", self.key)),
            client: Client::new(&config),
            key: self.key,
            region,
        })
    }
}

/// A master key in AWS KMS: a symmetric KMS key named by key id, alias, key ARN or alias
/// ARN; the identifier stored in keyring files is `aws-kms:<as given>` (give the key ARN:
/// it names one key in one region for good).
///
/// Wrap is `Encrypt`, unwrap is `Decrypt`, each with the encryption context
/// `{"rampart-aad": base64(AAD)}`, so a wrapped keyring key copied to another keyring id or
/// region fails at KMS (and shows in CloudTrail with its context). One call per keyring
/// load; sealing and opening never call KMS.
///
/// ```no_run
/// # async fn f() -> Result<(), rampart_envelope::Error> {
/// use rampart_envelope::{AwsKmsMasterKey, Keyring};
/// let kms = AwsKmsMasterKey::builder("arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab")
///     .build()
///     .await?;
/// let ring = Keyring::load_async("/var/lib/app/tokens.keyring.json", &kms).await?;
/// # Ok(()) }
/// ```
pub struct AwsKmsMasterKey {
    id: MasterKeyId,
    key: String,
    region: String,
    client: Client,
}

impl fmt::Debug for AwsKmsMasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsKmsMasterKey")
            .field("id", &self.id.as_str())
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl AwsKmsMasterKey {
    /// A builder for the key `key` (key id, alias `alias/NAME`, key ARN or alias ARN).
    ///
    /// ```
    /// # let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    /// # rt.block_on(async {
    /// use rampart_envelope::AwsKmsMasterKey;
    /// let kms = AwsKmsMasterKey::builder("arn:aws:kms:eu-west-1:111122223333:key/k1")
    ///     .with_static_credentials("AKIDEXAMPLE", "secret")
    ///     .build()
    ///     .await?;
    /// assert_eq!(kms.region(), "eu-west-1");
    /// # Ok::<(), rampart_envelope::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn builder(key: impl Into<String>) -> AwsKmsBuilder {
        AwsKmsBuilder {
            key: key.into(),
            region: None,
            endpoint_url: None,
            credentials: None,
        }
    }

    /// The AWS region the key lives in.
    pub fn region(&self) -> &str {
        &self.region
    }

    fn context(aad: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(aad)
    }

    fn classify<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
        &self,
        e: SdkError<E, aws_sdk_kms::config::http::HttpResponse>,
    ) -> Error {
        let err = match e {
            SdkError::ServiceError(se) => {
                let inner = se.err();
                return service_error(&self.key, inner.code(), inner.message());
            }
            e @ (SdkError::DispatchFailure(_) | SdkError::TimeoutError(_)) => {
                AwsKmsError::Unreachable(Box::new(e))
            }
            other => AwsKmsError::Sdk(Box::new(other)),
        };
        MasterKeyError::from(err).into()
    }
}

impl AsyncMasterKey for AwsKmsMasterKey {
    fn id(&self) -> &MasterKeyId {
        &self.id
    }

    async fn wrap(&self, key: &KeyMaterial, aad: &[u8]) -> Result<WrappedKey, Error> {
        // The SDK copies the plaintext into its request body, which we cannot zeroize: the
        // same exposure as any KMS client (the key is in memory to be used anyway).
        let out = self
            .client
            .encrypt()
            .key_id(&self.key)
            .plaintext(Blob::new(key.expose_secret().to_vec()))
            .encryption_context(AAD_CONTEXT_KEY, Self::context(aad))
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        let blob = out.ciphertext_blob().ok_or_else(|| {
            MasterKeyError::from(AwsKmsError::UnexpectedOutput("no ciphertext from Encrypt"))
        })?;
        Ok(WrappedKey::from_bytes(blob.as_ref().to_vec()))
    }

    async fn unwrap(&self, wrapped: &WrappedKey, aad: &[u8]) -> Result<KeyMaterial, Error> {
        let out = self
            .client
            .decrypt()
            .key_id(&self.key)
            .ciphertext_blob(Blob::new(wrapped.as_bytes().to_vec()))
            .encryption_context(AAD_CONTEXT_KEY, Self::context(aad))
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        let plain = Zeroizing::new(
            out.plaintext()
                .map(|b| b.as_ref().to_vec())
                .unwrap_or_default(),
        );
        if plain.len() != KEY_LEN {
            return Err(MasterKeyError::Unwrap.into());
        }
        let mut raw = Zeroizing::new([0u8; KEY_LEN]);
        raw.copy_from_slice(&plain);
        Ok(KeyMaterial::from_zeroizing(raw))
    }

    fn admits_region(&self, keyring_region: &str) -> Result<(), Error> {
        if region_admits(keyring_region, &self.region) {
            return Ok(());
        }
        Err(MasterKeyError::RegionMismatch {
            keyring_region: keyring_region.to_string(),
            key_id: self.id.to_string(),
            key_region: self.region.clone(),
            admits: format!("{keyring_region} or {keyring_region}-*"),
        }
        .into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_labels_admit_their_aws_regions_only() {
        assert!(region_admits("eu-west-1", "eu-west-1"));
        assert!(region_admits("eu", "eu-west-1"));
        assert!(region_admits("eu", "eu-central-2"));
        assert!(region_admits("eu-central", "eu-central-1"));
        assert!(!region_admits("eu-central", "eu-west-1"));
        assert!(!region_admits("eu", "us-east-1"));
        assert!(!region_admits("eu-west-1", "eu-west-12"));
        assert!(!region_admits("e", "eu-west-1"));
        assert!(!region_admits("", "eu-west-1"));
        assert!(!region_admits("tokens", "eu-west-1"));
    }

    #[test]
    fn arns_give_their_region_and_bad_ones_are_refused() {
        assert_eq!(
            arn_region("arn:aws:kms:eu-west-1:111122223333:key/abc").unwrap(),
            Some("eu-west-1".into())
        );
        assert_eq!(
            arn_region("arn:aws:kms:us-east-1:111122223333:alias/app").unwrap(),
            Some("us-east-1".into())
        );
        assert_eq!(arn_region("alias/app").unwrap(), None);
        assert_eq!(arn_region("1234abcd").unwrap(), None);
        for bad in [
            "",
            "arn:aws:s3:eu-west-1:1:key/x",
            "arn:aws:kms::1:key/x",
            "arn:aws:kms:eu-west-1:1:secret/x",
            "arn:aws:kms",
            "a\nb",
        ] {
            assert!(arn_region(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn kms_error_codes_map_to_kinds() {
        let kind = |code| service_error("k", Some(code), Some("m")).kind();
        assert_eq!(kind("DisabledException"), "kms_key_unavailable");
        assert_eq!(kind("KMSInvalidStateException"), "kms_key_unavailable");
        assert_eq!(kind("NotFoundException"), "kms_key_missing");
        assert_eq!(kind("AccessDeniedException"), "kms_access_denied");
        assert_eq!(kind("InvalidCiphertextException"), "wrong_master_key");
        assert_eq!(kind("ThrottlingException"), "kms_service");
        assert!(matches!(
            service_error("k", Some("DisabledException"), None),
            Error::MasterKey(MasterKeyError::AwsKms(AwsKmsError::KeyDisabled { .. }))
        ));
    }
}
