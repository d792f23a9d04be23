//! Data residency: each tenant is pinned to a region, each region has its own master key and
//! keyrings, and a request for a tenant's data through another region is refused before any
//! key is touched. Even past that check the other region's keyring could not open the data:
//! its keyring id differs and the region is bound in every context.

use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use rampart_envelope::retention::{BucketSize, RetentionKeyring, RetentionPolicy};
use rampart_envelope::{Keyring, LocalMasterKey};

use crate::app::AppState;
use crate::error::{AppError, StartError};
use crate::roles::CurrentUser;

/// Uploaded files are readable for one hour (then crypto-shredded).
pub const UPLOAD_RETENTION: Duration = Duration::from_secs(3_600);
/// What the service computed from an upload is kept 14 days.
pub const RESULT_RETENTION: Duration = Duration::from_secs(14 * 86_400);

/// Where a tenant's data lives.
///
/// ```
/// use rampart_service::Region;
/// assert_eq!(Region::parse("eu"), Some(Region::Eu));
/// assert_eq!(Region::Us.as_str(), "us");
/// assert_eq!(Region::parse("EU"), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Region {
    /// The European Union (keyrings in region `eu-central`).
    Eu,
    /// The United States (keyrings in region `us-east`).
    Us,
}

impl Region {
    /// Every region.
    pub const ALL: [Region; 2] = [Region::Eu, Region::Us];

    /// The region's name in URLs: `eu` or `us`.
    pub fn as_str(self) -> &'static str {
        match self {
            Region::Eu => "eu",
            Region::Us => "us",
        }
    }

    /// The region named by `text` (exactly `eu` or `us`).
    pub fn parse(text: &str) -> Option<Region> {
        Region::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// The region recorded in its keyrings.
    fn keyring_region(self) -> &'static str {
        match self {
            Region::Eu => "eu-central",
            Region::Us => "us-east",
        }
    }
}

/// One region's master key and keyrings.
pub(crate) struct RegionKeys {
    pub(crate) region: Region,
    master: LocalMasterKey,
    tokens_path: PathBuf,
    /// Swapped whole on rotation: readers keep the `Arc` they took.
    tokens: RwLock<Arc<Keyring>>,
    pub(crate) uploads_path: PathBuf,
    pub(crate) uploads: Arc<Mutex<RetentionKeyring>>,
    pub(crate) results_path: PathBuf,
    pub(crate) results: Arc<Mutex<RetentionKeyring>>,
    pub(crate) files_dir: PathBuf,
}

impl std::fmt::Debug for RegionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegionKeys")
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl RegionKeys {
    fn open(data_dir: &Path, region: Region, now: SystemTime) -> Result<Self, StartError> {
        let dir = data_dir.join("keys").join(region.as_str());
        fs::create_dir_all(&dir).map_err(StartError::Io)?;
        let master = master_key(&dir.join("master.key"))?;
        let name = region.keyring_region();
        let tokens_path = dir.join("oauth-tokens.keyring.json");
        let tokens = if tokens_path.exists() {
            Keyring::load(&tokens_path, &master)?
        } else {
            let ring = Keyring::create("oauth-tokens", name, &master, now)?;
            ring.save(&tokens_path)?;
            ring
        };
        let retention = |file: &str, policy: RetentionPolicy| {
            let path = dir.join(file);
            let ring = if path.exists() {
                RetentionKeyring::load(&path, &master)?
            } else {
                RetentionKeyring::create(file, name, &master, policy)?
            };
            Ok::<_, rampart_envelope::Error>((path, ring))
        };
        let (uploads_path, uploads) = retention(
            "uploads",
            RetentionPolicy::new(BucketSize::Hour, UPLOAD_RETENTION),
        )?;
        let (results_path, results) = retention(
            "results",
            RetentionPolicy::new(BucketSize::Day, RESULT_RETENTION),
        )?;
        let files_dir = data_dir.join("uploads").join(region.as_str());
        fs::create_dir_all(&files_dir).map_err(StartError::Io)?;
        let keys = Self {
            region,
            master,
            tokens_path,
            tokens: RwLock::new(Arc::new(tokens)),
            uploads_path,
            uploads: Arc::new(Mutex::new(uploads)),
            results_path,
            results: Arc::new(Mutex::new(results)),
            files_dir,
        };
        keys.maintain(now)?;
        Ok(keys)
    }

    /// The tokens keyring now in force.
    pub(crate) fn tokens(&self) -> Arc<Keyring> {
        Arc::clone(
            &self
                .tokens
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// Rotates the tokens keyring: a new primary version, saved before anyone seals with it;
    /// older versions still open until re-encryption moves their rows.
    pub(crate) fn rotate_tokens(&self, now: SystemTime) -> Result<u32, rampart_envelope::Error> {
        let mut slot = self
            .tokens
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut ring = Keyring::load(&self.tokens_path, &self.master)?;
        let version = ring.rotate(&self.master, now)?;
        ring.save(&self.tokens_path)?;
        *slot = Arc::new(ring);
        Ok(version)
    }

    /// The writer's step for both retention keyrings: create the current and next bucket,
    /// destroy the expired ones, save. This process is the only writer of its keyring files.
    pub(crate) fn maintain(&self, now: SystemTime) -> Result<(), rampart_envelope::Error> {
        for (ring, path) in [
            (&self.uploads, &self.uploads_path),
            (&self.results, &self.results_path),
        ] {
            let mut ring = ring
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            ring.prepare(now, 1)?;
            ring.purge(now)?;
            ring.save(path)?;
        }
        Ok(())
    }
}

/// Every region's keys.
#[derive(Debug)]
pub(crate) struct Regions {
    eu: RegionKeys,
    us: RegionKeys,
}

impl Regions {
    pub(crate) fn open(data_dir: &Path, now: SystemTime) -> Result<Self, StartError> {
        Ok(Self {
            eu: RegionKeys::open(data_dir, Region::Eu, now)?,
            us: RegionKeys::open(data_dir, Region::Us, now)?,
        })
    }

    pub(crate) fn get(&self, region: Region) -> &RegionKeys {
        match region {
            Region::Eu => &self.eu,
            Region::Us => &self.us,
        }
    }

    /// The keys of `requested` for a tenant pinned to `home`: refused (403 `cross_region`)
    /// when they differ, before anything is read.
    pub(crate) fn pinned(&self, home: Region, requested: Region) -> Result<&RegionKeys, AppError> {
        if home != requested {
            return Err(AppError::Forbidden("cross_region"));
        }
        Ok(self.get(requested))
    }

    pub(crate) fn all(&self) -> [&RegionKeys; 2] {
        [&self.eu, &self.us]
    }
}

/// Reads the region's master key, creating it (0600, never overwritten) on first start.
/// Production would use an HSM or KMS master key (rampart-envelope `pkcs11`, `aws-kms`).
fn master_key(path: &Path) -> Result<LocalMasterKey, StartError> {
    if !path.exists() {
        let key = LocalMasterKey::generate()?;
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(StartError::Io)?;
        file.write_all(key.expose_secret_base64().as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(StartError::Io)?;
    }
    Ok(LocalMasterKey::from_file(path)?)
}

/// The region named in the path, and the user's tenant's keys there (403 across regions).
pub(crate) fn region_keys<'a>(
    state: &'a AppState,
    user: &CurrentUser,
    region: &str,
) -> Result<&'a RegionKeys, AppError> {
    let requested = Region::parse(region).ok_or(AppError::NotFound("unknown_region"))?;
    let home = state.tenant(&user.user.tenant)?.region();
    state.regions.pinned(home, requested)
}
