//! Every refusal and failure as one type with a status code and a short, fixed body.
//!
//! Bodies are `{"error": kind}` with a stable kind and never echo what the client sent: a
//! malformed Authorization header may be somebody's pasted secret, a SAMLResponse may carry
//! personal data.

use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Why a request was refused or failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// 400: the request is malformed (form, JSON, path, SAMLResponse); the kind says which.
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// 401: no or wrong credentials; the kind says which without saying which part was wrong.
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    /// 403: authenticated but not allowed; the kind names the missing permission's family.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// 404: no such resource (or tenant).
    #[error("not found: {0}")]
    NotFound(&'static str),
    /// 409: the resource exists.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// 410: the data existed and is now destroyed (retention).
    #[error("gone: {0}")]
    Gone(&'static str),
    /// 413: the body is larger than the route accepts.
    #[error("payload too large")]
    TooLarge,
    /// 429: throttled; try again after the delay (sent as `Retry-After`, in whole seconds).
    #[error("too many attempts")]
    TooManyAttempts(Duration),
    /// 503: a store or another dependency failed; logged with its cause, never shown.
    #[error("unavailable: {0}")]
    Unavailable(&'static str),
}

impl AppError {
    /// The stable kind sent in the body and written to logs.
    ///
    /// ```
    /// use rampart_service::AppError;
    /// assert_eq!(AppError::BadRequest("malformed_form").kind(), "malformed_form");
    /// assert_eq!(AppError::TooLarge.kind(), "too_large");
    /// ```
    pub fn kind(&self) -> &'static str {
        match self {
            Self::BadRequest(k)
            | Self::Unauthorized(k)
            | Self::Forbidden(k)
            | Self::NotFound(k)
            | Self::Conflict(k)
            | Self::Gone(k)
            | Self::Unavailable(k) => k,
            Self::TooLarge => "too_large",
            Self::TooManyAttempts(_) => "too_many_attempts",
        }
    }

    /// The HTTP status.
    ///
    /// ```
    /// use rampart_service::AppError;
    /// assert_eq!(AppError::Gone("expired").status().as_u16(), 410);
    /// ```
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Gone(_) => StatusCode::GONE,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::TooManyAttempts(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// A store or dependency error: logged here with its cause, answered as 503 `kind`.
    pub(crate) fn unavailable(kind: &'static str, cause: &dyn std::error::Error) -> Self {
        tracing::error!(kind, error = %cause, "dependency failed");
        eprintln!("rampart-service: {kind}: {cause}");
        Self::Unavailable(kind)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status(),
            Json(serde_json::json!({ "error": self.kind() })),
        )
            .into_response();
        if let Self::TooManyAttempts(delay) = self {
            // Whole seconds, rounded up: a client retrying at the advertised time is allowed.
            let secs = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
            if let Ok(value) = HeaderValue::from_str(&secs.max(1).to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}

/// Maps axum's extractor rejections to short 4xx bodies: their own messages can quote the
/// input (a serde error names the offending value).
pub(crate) fn rejected(status: StatusCode, kind: &'static str) -> AppError {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => AppError::TooLarge,
        _ => AppError::BadRequest(kind),
    }
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The data directory or the listener failed.
    #[error("i/o")]
    Io(#[source] std::io::Error),
    /// A master key or keyring could not be created or loaded.
    #[error("keyring")]
    Keyring(#[from] rampart_envelope::Error),
    /// The service's own tables could not be opened.
    #[error("database")]
    Database(#[from] sqlx::Error),
    /// The API-key store could not be opened.
    #[error("api key store")]
    KeyStore(#[from] rampart_apikey::StoreError),
    /// The API-key settings were refused.
    #[error("api keys")]
    ApiKeys(#[from] rampart_apikey::Error),
    /// The attempt store or policies could not be set up.
    #[error("attempts")]
    Attempts(#[from] rampart_attempts::Error),
    /// The SMTP notifier could not be built.
    #[error("smtp notifier")]
    Notifier(#[from] rampart_attempts::NotifyError),
    /// A tenant's SAML configuration, or the Redis SAML stores, were refused.
    #[error("saml")]
    Saml(#[from] rampart_saml::Error),
    /// A tenant's IdP certificate could not be read.
    #[error("idp certificate")]
    Certificate(#[from] rampart_xmldsig::Error),
    /// The SQL SAML stores could not be opened.
    #[error("saml store")]
    SamlStore(#[from] rampart_saml::SqlStoreError),
    /// The role map was refused.
    #[error("role map")]
    RoleMap(#[from] rampart_authz::Error),
    /// The password hasher could not be built.
    #[error("password hasher")]
    Password(#[from] rampart_password::Error),
    /// The configuration was refused (a tenant id outside `[a-z0-9-]`, say).
    #[error("configuration")]
    Config(#[from] crate::config::ConfigError),
}

impl StartError {
    /// A stable kind for logs and the exit message.
    ///
    /// ```
    /// let e = rampart_service::StartError::Io(std::io::Error::other("x"));
    /// assert_eq!(e.kind(), "io");
    /// ```
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Io(_) => "io",
            Self::Keyring(_) => "keyring",
            Self::Database(_) => "database",
            Self::KeyStore(_) => "key_store",
            Self::ApiKeys(_) => "api_keys",
            Self::Attempts(_) => "attempts",
            Self::Notifier(_) => "notifier",
            Self::Saml(_) => "saml",
            Self::Certificate(_) => "certificate",
            Self::SamlStore(_) => "saml_store",
            Self::RoleMap(_) => "role_map",
            Self::Password(_) => "password",
            Self::Config(_) => "config",
        }
    }
}
