//! Getting metadata bytes: the caller's [`MetadataFetcher`], a file, or (feature
//! `fetch-reqwest`) an HTTPS URL.

use std::future::Future;
use std::path::PathBuf;

use crate::metadata::MAX_METADATA_BYTES;

/// Why metadata could not be fetched.
///
/// ```
/// let e = rampart_saml::FetchError::TooLarge;
/// assert_eq!(e.to_string(), "metadata larger than 4 MiB");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// Reading the file failed.
    #[error("{0}")]
    Io(#[source] std::io::Error),
    /// The server answered with a status other than 200.
    #[error("http status {0}")]
    Status(u16),
    /// The document is larger than [`MAX_METADATA_BYTES`].
    #[error("metadata larger than 4 MiB")]
    TooLarge,
    /// Another fetcher (the application's own, an HTTP client) failed.
    #[error("{0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Where a [`MetadataRefresher`](crate::MetadataRefresher) gets its metadata: a file, a URL,
/// a database row. Implementations bound their own time and size (at most
/// [`MAX_METADATA_BYTES`] is parsed).
///
/// ```
/// use rampart_saml::{FetchError, MetadataFetcher};
/// struct Fixed(Vec<u8>);
/// impl MetadataFetcher for Fixed {
///     fn fetch(&self) -> impl std::future::Future<Output = Result<Vec<u8>, FetchError>> + Send {
///         std::future::ready(Ok(self.0.clone()))
///     }
/// }
/// let bytes = rampart_testkit::block_on_ready(Fixed(b"<x/>".to_vec()).fetch())?;
/// assert_eq!(bytes, b"<x/>");
/// # Ok::<(), FetchError>(())
/// ```
pub trait MetadataFetcher: Send + Sync {
    /// The current metadata document.
    ///
    /// # Errors
    /// [`FetchError`] when it cannot be had; the refresher keeps the last good metadata.
    fn fetch(&self) -> impl Future<Output = Result<Vec<u8>, FetchError>> + Send;
}

/// Metadata read from a file (synchronously: a local file of a few KiB).
///
/// ```
/// use rampart_saml::{FileFetcher, MetadataFetcher};
/// let f = FileFetcher::new("tests/samples/python3-saml/data/metadata/idp_metadata.xml");
/// assert!(rampart_testkit::block_on_ready(f.fetch())?.starts_with(b"<"));
/// # Ok::<(), rampart_saml::FetchError>(())
/// ```
#[derive(Debug, Clone)]
pub struct FileFetcher {
    path: PathBuf,
}

impl FileFetcher {
    /// Reads `path` on every fetch.
    ///
    /// ```
    /// let f = rampart_saml::FileFetcher::new("/etc/rampart/idp-metadata.xml");
    /// # let _ = f;
    /// ```
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    fn read(&self) -> Result<Vec<u8>, FetchError> {
        use std::io::Read as _;
        let file = std::fs::File::open(&self.path).map_err(FetchError::Io)?;
        let mut out = Vec::new();
        file.take(MAX_METADATA_BYTES as u64 + 1)
            .read_to_end(&mut out)
            .map_err(FetchError::Io)?;
        if out.len() > MAX_METADATA_BYTES {
            return Err(FetchError::TooLarge);
        }
        Ok(out)
    }
}

impl MetadataFetcher for FileFetcher {
    fn fetch(&self) -> impl Future<Output = Result<Vec<u8>, FetchError>> + Send {
        std::future::ready(self.read())
    }
}

/// Metadata fetched from a URL with reqwest (rustls on ring, the system's trust roots), at
/// most [`MAX_METADATA_BYTES`], within a 30 s timeout unless the client says otherwise.
///
/// ```no_run
/// use rampart_saml::{MetadataRefresher, ReqwestFetcher, ServiceProvider};
/// # let signing_cert = rampart_saml::Certificate::from_pem(&std::fs::read("tests/keys/sp.cert.pem")?)?;
/// let refresher = MetadataRefresher::builder(
///     "acme",
///     "https://idp.example.com/metadata",
///     ReqwestFetcher::new("https://idp.example.com/metadata")?,
///     |idp| ServiceProvider::builder("https://sp.example.com/metadata", "https://sp.example.com/saml/acs")
///         .identity_provider(idp)
///         .build(),
/// )
/// .with_metadata_signing_certificate(signing_cert)
/// .build()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg(feature = "fetch-reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "fetch-reqwest")))]
#[derive(Debug, Clone)]
pub struct ReqwestFetcher {
    client: reqwest::Client,
    url: reqwest::Url,
}

#[cfg(feature = "fetch-reqwest")]
impl ReqwestFetcher {
    /// Fetches `url` (http or https) with a client of its own: 30 s timeout, rustls.
    ///
    /// ```
    /// let f = rampart_saml::ReqwestFetcher::new("https://idp.example.com/metadata")?;
    /// assert!(rampart_saml::ReqwestFetcher::new("not a url").is_err());
    /// # let _ = f;
    /// # Ok::<(), rampart_saml::FetchError>(())
    /// ```
    ///
    /// # Errors
    /// [`FetchError::Backend`] when the URL does not parse or the client cannot be built.
    pub fn new(url: &str) -> Result<Self, FetchError> {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(|e| FetchError::Backend(Box::new(e)))?;
        Self::with_client(client, url)
    }

    /// Fetches `url` with the application's `client` (its timeouts, proxy, roots).
    ///
    /// ```
    /// let client = reqwest::Client::new();
    /// let f = rampart_saml::ReqwestFetcher::with_client(client, "https://idp.example.com/metadata")?;
    /// # let _ = f;
    /// # Ok::<(), rampart_saml::FetchError>(())
    /// ```
    ///
    /// # Errors
    /// [`FetchError::Backend`] when the URL does not parse.
    pub fn with_client(client: reqwest::Client, url: &str) -> Result<Self, FetchError> {
        let url = reqwest::Url::parse(url).map_err(|e| FetchError::Backend(Box::new(e)))?;
        Ok(Self { client, url })
    }

    async fn get(&self) -> Result<Vec<u8>, FetchError> {
        let backend = |e: reqwest::Error| FetchError::Backend(Box::new(e));
        let mut response = self
            .client
            .get(self.url.clone())
            .send()
            .await
            .map_err(backend)?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(FetchError::Status(response.status().as_u16()));
        }
        if response
            .content_length()
            .is_some_and(|n| n > MAX_METADATA_BYTES as u64)
        {
            return Err(FetchError::TooLarge);
        }
        let mut out = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(backend)? {
            if out.len() + chunk.len() > MAX_METADATA_BYTES {
                return Err(FetchError::TooLarge);
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }
}

#[cfg(feature = "fetch-reqwest")]
impl MetadataFetcher for ReqwestFetcher {
    fn fetch(&self) -> impl Future<Output = Result<Vec<u8>, FetchError>> + Send {
        self.get()
    }
}
