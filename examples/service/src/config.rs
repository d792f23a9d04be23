//! What the service is started with: where data lives, which servers to use, the tenants.

use std::path::{Path, PathBuf};

use crate::clock::Clock;
use crate::regions::Region;

/// The shared test IdP's signing certificate (acme's IdP): public, from the repository's
/// SAML test keys. A real deployment reads each tenant's IdP metadata instead.
pub(crate) const DEMO_SHARED_IDP_CERT: &[u8] =
    include_bytes!("../../../crates/rampart-saml/tests/keys/idp.cert.pem");
/// globex's test IdP certificate (examples/fixtures/saml_sp).
pub(crate) const DEMO_GLOBEX_IDP_CERT: &[u8] =
    include_bytes!("../../fixtures/saml_sp/globex_idp.cert.pem");

/// The role map (rampart-authz TOML) the service starts with: permissions are API-key
/// scopes, roles open dashboards and API sections, SAML groups map to roles per tenant.
pub const DEFAULT_ROLE_MAP: &str = r#"
permissions = [
    "dashboard:view", "dashboard:admin", "keys:manage", "reports:read", "tokens:read",
    "tokens:write", "uploads:write", "uploads:read", "users:manage", "keyrings:manage",
]

[roles.viewer]
permissions = ["dashboard:view", "reports:read"]

[roles.member]
inherits = ["viewer"]
permissions = ["keys:manage", "tokens:*", "uploads:*"]

[roles.admin]
inherits = ["member"]
permissions = ["dashboard:admin", "users:manage", "keyrings:manage"]

[tenants.acme.mappings]
"groups=admins" = "admin"
"groups=staff" = "member"
"groups=auditors" = "viewer"

[tenants.globex.mappings]
"groups=admins" = "admin"
"groups=staff" = "member"
"#;

/// One customer: its id (in URLs), the region its data is pinned to, and its IdP for SSO.
///
/// ```
/// use rampart_service::{Region, TenantConfig};
/// let t = TenantConfig::new("acme", Region::Eu);
/// assert_eq!(t.id(), "acme");
/// assert!(t.idp().is_none());
/// ```
#[derive(Clone, Debug)]
pub struct TenantConfig {
    id: String,
    region: Region,
    idp: Option<IdpConfig>,
}

impl TenantConfig {
    /// A tenant without SSO.
    pub fn new(id: impl Into<String>, region: Region) -> Self {
        Self {
            id: id.into(),
            region,
            idp: None,
        }
    }

    /// The tenant signs in through this IdP (SAML 2.0).
    ///
    /// ```
    /// use rampart_service::{IdpConfig, Region, TenantConfig};
    /// let idp = IdpConfig::new("https://idp.example.com/acme", b"-----BEGIN CERTIFICATE-----...".to_vec(), "https://idp.example.com/acme/sso");
    /// let t = TenantConfig::new("acme", Region::Eu).with_idp(idp);
    /// assert_eq!(t.idp().map(|i| i.sso_url()), Some("https://idp.example.com/acme/sso"));
    /// ```
    #[must_use]
    pub fn with_idp(mut self, idp: IdpConfig) -> Self {
        self.idp = Some(idp);
        self
    }

    /// The tenant id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The region its data is pinned to.
    pub fn region(&self) -> Region {
        self.region
    }

    /// Its IdP, if it uses SSO.
    pub fn idp(&self) -> Option<&IdpConfig> {
        self.idp.as_ref()
    }
}

/// A tenant's SAML IdP: entity id, signing certificate (PEM), and where to send the user.
///
/// ```
/// let idp = rampart_service::IdpConfig::new("https://idp.example.com", Vec::new(), "https://idp.example.com/sso");
/// assert_eq!(idp.entity_id(), "https://idp.example.com");
/// ```
#[derive(Clone, Debug)]
pub struct IdpConfig {
    entity_id: String,
    certificate_pem: Vec<u8>,
    sso_url: String,
}

impl IdpConfig {
    /// An IdP from its metadata's values.
    pub fn new(
        entity_id: impl Into<String>,
        certificate_pem: Vec<u8>,
        sso_url: impl Into<String>,
    ) -> Self {
        Self {
            entity_id: entity_id.into(),
            certificate_pem,
            sso_url: sso_url.into(),
        }
    }

    /// The IdP's entity id (the Issuer it signs with).
    pub fn entity_id(&self) -> &str {
        &self.entity_id
    }

    /// Its signing certificate, PEM.
    pub fn certificate_pem(&self) -> &[u8] {
        &self.certificate_pem
    }

    /// Its single sign-on URL (HTTP-Redirect binding).
    pub fn sso_url(&self) -> &str {
        &self.sso_url
    }
}

/// An SMTP relay for owner notifications (no TLS: a local relay or sidecar).
///
/// ```
/// let smtp = rampart_service::SmtpConfig::parse("127.0.0.1:2525")?;
/// assert_eq!(smtp.port(), 2525);
/// # Ok::<(), rampart_service::ConfigError>(())
/// ```
#[derive(Clone, Debug)]
pub struct SmtpConfig {
    host: String,
    port: u16,
    from: String,
}

impl SmtpConfig {
    /// `HOST:PORT`; mail is sent from `security@localhost`.
    ///
    /// # Errors
    /// [`ConfigError::Smtp`] when the text is not `HOST:PORT`.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let (host, port) = text.rsplit_once(':').ok_or(ConfigError::Smtp)?;
        let port = port.parse().map_err(|_| ConfigError::Smtp)?;
        if host.is_empty() {
            return Err(ConfigError::Smtp);
        }
        Ok(Self {
            host: host.to_owned(),
            port,
            from: "security@localhost".to_owned(),
        })
    }

    /// The relay's host.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The relay's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The sender address.
    pub fn from(&self) -> &str {
        &self.from
    }
}

/// A configuration value that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `--smtp` is not `HOST:PORT`.
    #[error("--smtp wants HOST:PORT")]
    Smtp,
    /// A flag the service does not know, or one missing its value.
    #[error("usage: {0}")]
    Usage(String),
}

impl ConfigError {
    /// A stable kind for logs.
    ///
    /// ```
    /// assert_eq!(rampart_service::ConfigError::Smtp.kind(), "smtp");
    /// ```
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Smtp => "smtp",
            Self::Usage(_) => "usage",
        }
    }
}

/// Everything [`serve`](crate::serve) needs. The defaults run the whole service on one
/// machine with no server: SQLite files, keyrings and uploads under `data_dir`, owner
/// notifications appended to `data_dir/notifications.log`.
///
/// ```
/// use rampart_service::Config;
/// let config = Config::new("/tmp/rampart-service")
///     .with_postgres("postgres://app@db/app")
///     .with_redis("redis://cache:6379");
/// assert_eq!(config.data_dir().to_str(), Some("/tmp/rampart-service"));
/// assert_eq!(config.tenants().len(), 3);
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) data_dir: PathBuf,
    pub(crate) postgres: Option<String>,
    pub(crate) redis: Option<String>,
    pub(crate) smtp: Option<SmtpConfig>,
    pub(crate) public_url: Option<String>,
    pub(crate) clock: Clock,
    pub(crate) tenants: Vec<TenantConfig>,
    pub(crate) role_map: String,
    pub(crate) secure_cookies: bool,
}

impl Config {
    /// The embedded defaults with data under `data_dir` (created if missing), and three demo
    /// tenants: `acme` (EU) and `globex` (US) sign in through the repository's test IdPs,
    /// `initech` (EU) by password only. Replace them with [`Config::with_tenants`].
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        let acme_idp = "https://idp.example.com/acme";
        let globex_idp = "https://sso.globex.example/idp";
        Self {
            data_dir: data_dir.into(),
            postgres: None,
            redis: None,
            smtp: None,
            public_url: None,
            clock: Clock::system(),
            tenants: vec![
                TenantConfig::new("acme", Region::Eu).with_idp(IdpConfig::new(
                    acme_idp,
                    DEMO_SHARED_IDP_CERT.to_vec(),
                    format!("{acme_idp}/sso"),
                )),
                TenantConfig::new("globex", Region::Us).with_idp(IdpConfig::new(
                    globex_idp,
                    DEMO_GLOBEX_IDP_CERT.to_vec(),
                    format!("{globex_idp}/sso"),
                )),
                TenantConfig::new("initech", Region::Eu),
            ],
            role_map: DEFAULT_ROLE_MAP.to_owned(),
            secure_cookies: false,
        }
    }

    /// Keep API keys, attempt streaks, SAML ids and the service's tables in PostgreSQL.
    #[must_use]
    pub fn with_postgres(mut self, url: impl Into<String>) -> Self {
        self.postgres = Some(url.into());
        self
    }

    /// Count attempts and keep SAML replay and request ids in Redis (shared by replicas).
    #[must_use]
    pub fn with_redis(mut self, url: impl Into<String>) -> Self {
        self.redis = Some(url.into());
        self
    }

    /// Send owner notifications through this SMTP relay instead of the log file.
    #[must_use]
    pub fn with_smtp(mut self, smtp: SmtpConfig) -> Self {
        self.smtp = Some(smtp);
        self
    }

    /// The URL users reach the service at (SAML entity ids and ACS URLs are built from it);
    /// default `http://` + the listener's address. An `https://` URL also marks the session
    /// cookie `Secure`.
    #[must_use]
    pub fn with_public_url(mut self, url: impl Into<String>) -> Self {
        let url: String = url.into();
        self.secure_cookies = url.starts_with("https://");
        self.public_url = Some(url.trim_end_matches('/').to_owned());
        self
    }

    /// Take time from `clock` (tests move it by hand).
    #[must_use]
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Replace the tenants.
    #[must_use]
    pub fn with_tenants(mut self, tenants: Vec<TenantConfig>) -> Self {
        self.tenants = tenants;
        self
    }

    /// Replace the role map (rampart-authz TOML; see [`DEFAULT_ROLE_MAP`]).
    #[must_use]
    pub fn with_role_map(mut self, toml: impl Into<String>) -> Self {
        self.role_map = toml.into();
        self
    }

    /// Where the data lives.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The tenants.
    pub fn tenants(&self) -> &[TenantConfig] {
        &self.tenants
    }

    /// The clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }
}
