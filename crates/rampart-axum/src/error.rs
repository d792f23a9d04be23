//! The crate's one error type, and the one place HTTP status codes are chosen.
//!
//! Every layer, extractor and route of this crate fails with an [`Error`]; its
//! [`IntoResponse`] picks the status and a short, fixed body (the [`Error::kind`] string).
//! No body ever contains request input: not the presented key or password, not a public id,
//! not a tenant name, not a SAML message. The typed sources are for the service's logs.

use std::time::{Duration, SystemTime};

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

/// A failure of a sibling store supplied by the application (accounts, sessions, key owners).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong in this crate, each mapped to one HTTP answer.
///
/// ```
/// use axum::response::IntoResponse;
/// let response = rampart_axum::Error::MissingCredentials.into_response();
/// assert_eq!(response.status(), 401);
/// assert_eq!(rampart_axum::Error::MissingCredentials.kind(), "missing_credentials");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No credential was presented (no `Authorization: Bearer`, no configured key header).
    /// 401, not counted as a failed attempt.
    #[error("no credentials presented")]
    MissingCredentials,
    /// The credential header is not usable: not ASCII, too long, another scheme, empty.
    /// 401, counted against the client IP.
    #[error("malformed credentials header")]
    MalformedCredentials,
    /// The API key was refused (malformed, checksum, unknown, wrong secret, revoked, expired,
    /// rotated out, wrong prefix). 401 with no detail: telling why is an oracle. The source
    /// names the public id for logs.
    #[error("invalid api key")]
    InvalidApiKey(#[source] rampart_apikey::Error),
    /// The account or password was refused (unknown accounts included, after the same
    /// hashing work). 401.
    #[error("invalid account or password")]
    InvalidPassword,
    /// Too many failed attempts: try again after `retry_after`. 429 with `Retry-After`.
    #[error("too many failed attempts")]
    Throttled {
        /// How long the client must wait.
        retry_after: Duration,
    },
    /// Hard lockout (a policy with `Lockout`): `until` a time, or until unlocked. 429, with
    /// `Retry-After` for a timed lock.
    #[error("locked after too many failed attempts")]
    Locked {
        /// When a timed lock ends; `None` until the unlock token is used.
        until: Option<SystemTime>,
        /// How long until `until`, on the clock of the check that refused (the layer's
        /// `with_clock`): what `Retry-After` says.
        retry_after: Option<Duration>,
    },
    /// The API key is valid but lacks a scope the layer requires. 403, not counted.
    #[error("api key lacks a required scope")]
    MissingScope(#[source] rampart_apikey::Error),
    /// No [`Principal`](crate::Principal) on the request: a route behind `require` or an
    /// extractor of one, reached without authentication. 401.
    #[error("not authenticated")]
    Unauthenticated,
    /// The principal is authenticated but lacks `permission` (neither a role nor a scope
    /// grants it). 403.
    #[error("missing permission {permission:?}")]
    Forbidden {
        /// The permission that was required.
        permission: String,
    },
    /// No SAML tenant of that name. 404.
    #[error("unknown tenant")]
    UnknownTenant,
    /// The request body is larger than the route accepts. 413.
    #[error("request body too large")]
    PayloadTooLarge,
    /// A form or query is not usable: not UTF-8 after percent-decoding, a field missing or
    /// repeated, a value too long. 400.
    #[error("bad form: {0}")]
    BadForm(&'static str),
    /// A `RelayState` or `return_to` that is not a local path of at most 80 bytes (an open
    /// redirect otherwise). 400.
    #[error("bad relay state")]
    BadRelayState,
    /// The ACS was reached with no SAML login started in this session (a missing or expired
    /// session, another browser, or an IdP-initiated response where none is accepted). 400.
    #[error("no saml login in progress in this session")]
    NoLoginInProgress,
    /// The SAML response was refused (signature, audience, times, issuer...; see the source
    /// and its `kind()`). 401.
    #[error("saml response refused")]
    SamlResponse(#[source] rampart_saml::TenantError),
    /// The SAML assertion was already used (a replay). 401.
    #[error("saml assertion replayed")]
    SamlReplay(#[source] rampart_saml::Error),
    /// A Single Logout message was refused. 400.
    #[error("saml logout message refused")]
    SamlLogout(#[source] rampart_saml::LogoutError),
    /// The attempt store could not answer (a fail-closed store is down): deny. 503.
    #[error("attempt store unavailable")]
    AttemptStore(#[source] rampart_attempts::Error),
    /// The API key store failed (the source is rampart-apikey's `Error::Store`), or a record
    /// is hashed under a hashing key this server does not hold. 503.
    #[error("api key store unavailable")]
    KeyStore(#[source] rampart_apikey::Error),
    /// The password hasher failed or its queue is full (rampart-password's limiter). 503.
    #[error("password hashing unavailable")]
    PasswordHashing(#[source] rampart_password::Error),
    /// A SAML request-id store or replay cache failed. 503.
    #[error("saml store unavailable")]
    SamlStore(#[source] rampart_saml::Error),
    /// Building or sending a SAML message failed (no SSO URL configured, signing failed). 500.
    #[error("saml configuration")]
    SamlConfig(#[source] rampart_saml::Error),
    /// A store of the application's (accounts, key owners, sessions) failed. 503.
    #[error("application store failed")]
    Application(#[source] BoxError),
    /// The client address is unknown: the server was not started with
    /// `into_make_service_with_connect_info::<SocketAddr>()`. 500 (a deployment error).
    #[error("no client address: serve with into_make_service_with_connect_info")]
    MissingConnectInfo,
    /// A configuration value given to this crate is invalid (found at start-up, never on a
    /// request).
    #[error("invalid configuration: {0}")]
    Config(&'static str),
}

impl Error {
    /// A stable, machine-readable name for the error (for logs, metrics, and the response
    /// body); it does not change between releases.
    ///
    /// ```
    /// assert_eq!(rampart_axum::Error::UnknownTenant.kind(), "unknown_tenant");
    /// ```
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::MissingCredentials => "missing_credentials",
            Self::MalformedCredentials => "malformed_credentials",
            Self::InvalidApiKey(_) => "invalid_api_key",
            Self::InvalidPassword => "invalid_password",
            Self::Throttled { .. } => "throttled",
            Self::Locked { .. } => "locked",
            Self::MissingScope(_) => "missing_scope",
            Self::Unauthenticated => "unauthenticated",
            Self::Forbidden { .. } => "forbidden",
            Self::UnknownTenant => "unknown_tenant",
            Self::PayloadTooLarge => "payload_too_large",
            Self::BadForm(_) => "bad_form",
            Self::BadRelayState => "bad_relay_state",
            Self::NoLoginInProgress => "no_login_in_progress",
            Self::SamlResponse(_) => "saml_response_refused",
            Self::SamlReplay(_) => "saml_replay",
            Self::SamlLogout(_) => "saml_logout_refused",
            Self::AttemptStore(_) => "attempt_store_unavailable",
            Self::KeyStore(_) => "key_store_unavailable",
            Self::PasswordHashing(_) => "password_hashing_unavailable",
            Self::SamlStore(_) => "saml_store_unavailable",
            Self::SamlConfig(_) => "saml_config",
            Self::Application(_) => "application_store_failed",
            Self::MissingConnectInfo => "missing_connect_info",
            Self::Config(_) => "invalid_config",
        }
    }

    /// The HTTP status this error answers with.
    ///
    /// ```
    /// assert_eq!(rampart_axum::Error::PayloadTooLarge.status(), 413);
    /// ```
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MissingCredentials
            | Self::MalformedCredentials
            | Self::InvalidApiKey(_)
            | Self::InvalidPassword
            | Self::Unauthenticated
            | Self::SamlResponse(_)
            | Self::SamlReplay(_) => StatusCode::UNAUTHORIZED,
            Self::Throttled { .. } | Self::Locked { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::MissingScope(_) | Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::UnknownTenant => StatusCode::NOT_FOUND,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BadForm(_)
            | Self::BadRelayState
            | Self::NoLoginInProgress
            | Self::SamlLogout(_) => StatusCode::BAD_REQUEST,
            Self::AttemptStore(_)
            | Self::KeyStore(_)
            | Self::PasswordHashing(_)
            | Self::SamlStore(_)
            | Self::Application(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::SamlConfig(_) | Self::MissingConnectInfo | Self::Config(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    /// `Retry-After` in whole seconds, rounded up (at least 1), for 429 answers.
    fn retry_after_secs(&self) -> Option<u64> {
        let wait = match self {
            Self::Throttled { retry_after } => *retry_after,
            Self::Locked {
                retry_after: Some(wait),
                ..
            } => *wait,
            _ => return None,
        };
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        Some(secs.max(1))
    }
}

/// The attempt tracker's decision for a check at `now` (the caller's clock), as this crate
/// answers it: allowed, or the 429 (or the 503 of a fail-closed store) that refuses.
pub(crate) fn allowed(
    decision: Result<rampart_attempts::Decision, rampart_attempts::Error>,
    now: SystemTime,
) -> Result<(), Error> {
    use rampart_attempts::Decision;
    match decision {
        Ok(Decision::Allow) => Ok(()),
        Ok(Decision::RetryAfter(retry_after)) => Err(Error::Throttled { retry_after }),
        Ok(Decision::Locked { until }) => Err(Error::Locked {
            until,
            retry_after: until.map(|u| u.duration_since(now).unwrap_or(Duration::ZERO)),
        }),
        // A decision this crate does not know yet: refuse, as for a store failure.
        Ok(_) => Err(Error::Locked {
            until: None,
            retry_after: None,
        }),
        Err(e) => Err(Error::AttemptStore(e)),
    }
}

impl IntoResponse for Error {
    /// The only place this crate chooses a status code. The body is the [`kind`](Self::kind)
    /// and a newline, as `text/plain`: nothing from the request is echoed.
    fn into_response(self) -> Response {
        let mut response = (self.status(), format!("{}\n", self.kind())).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if self.status() == StatusCode::UNAUTHORIZED
            && matches!(
                self,
                Self::MissingCredentials | Self::MalformedCredentials | Self::InvalidApiKey(_)
            )
        {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(secs) = self.retry_after_secs() {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttled_rounds_retry_after_up_to_whole_seconds() {
        let e = Error::Throttled {
            retry_after: Duration::from_millis(1500),
        };
        let r = e.into_response();
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()[header::RETRY_AFTER], "2");
    }

    #[test]
    fn a_timed_lock_answers_retry_after_on_the_checking_clock() {
        // A clock a year ahead of the system's: the wait is measured on it, not on now().
        let now = SystemTime::now() + Duration::from_secs(365 * 86_400);
        let decision = Ok(rampart_attempts::Decision::Locked {
            until: Some(now + Duration::from_secs(90)),
        });
        let e = super::allowed(decision, now).unwrap_err();
        let r = e.into_response();
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()[header::RETRY_AFTER], "90");
    }

    #[test]
    fn lock_until_unlocked_has_no_retry_after() {
        let r = Error::Locked {
            until: None,
            retry_after: None,
        }
        .into_response();
        assert_eq!(r.status(), 429);
        assert!(r.headers().get(header::RETRY_AFTER).is_none());
    }
}
