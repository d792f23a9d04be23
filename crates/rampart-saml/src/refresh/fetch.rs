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
