//! SAML SSO per tenant: rampart-axum's `SamlRoutes` serves metadata, login, ACS and Single
//! Logout for every tenant of rampart-saml's registry (each tenant with its own SP entity id
//! and ACS URL, `/saml/{tenant}/...`, and its pinned IdP). This module gives it the service's
//! pieces: the tower-sessions session (the login in progress, then the signed-in user and
//! the SAML session an IdP's LogoutRequest must name), the request-id store and replay cache
//! (consumed once, on any replica), the role map (IdP groups to roles) and the clock.

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use rampart_axum::{Authorizer, SamlLogin, SamlRoutes, SamlSessions};
use rampart_saml::{
    Certificate, IdentityProvider, LogoutSession, NameId, ServiceProvider, TenantRegistry,
};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use crate::accounts::start_session;
use crate::app::AppState;
use crate::config::TenantConfig;
use crate::error::{AppError, StartError};
use crate::roles::Via;

/// The session key of the login in progress.
const PENDING_KEY: &str = "saml_pending";
/// The session key of the SAML session (NameID, SessionIndex) of a signed-in SSO user.
const SAML_SESSION_KEY: &str = "saml_session";
/// Largest ACS or SLO form accepted: an IdP's signed response with many attributes is a few
/// tens of KiB; rampart-saml caps the decoded XML on its own too.
pub const MAX_ACS_BYTES: usize = 256 * 1024;

/// The request the session is waiting for an answer to.
#[derive(Debug, Serialize, Deserialize)]
struct PendingLogin {
    tenant: String,
    request_id: String,
}

/// What an IdP's LogoutRequest must name to end this session (rampart-saml's
/// `LogoutSession`, as the session store keeps it).
#[derive(Debug, Serialize, Deserialize)]
struct StoredSamlSession {
    tenant: String,
    name_id: String,
    format: Option<String>,
    name_qualifier: Option<String>,
    sp_name_qualifier: Option<String>,
    sp_provided_id: Option<String>,
    session_index: Option<String>,
}

impl StoredSamlSession {
    fn of(tenant: &str, login: &rampart_saml::Login) -> Self {
        let id = &login.name_id;
        Self {
            tenant: tenant.to_owned(),
            name_id: id.value.clone(),
            format: id.format.clone(),
            name_qualifier: id.name_qualifier.clone(),
            sp_name_qualifier: id.sp_name_qualifier.clone(),
            sp_provided_id: id.sp_provided_id.clone(),
            session_index: login.session_index.clone(),
        }
    }

    fn logout_session(self) -> LogoutSession {
        let mut name_id = NameId::new(self.name_id);
        name_id.format = self.format;
        name_id.name_qualifier = self.name_qualifier;
        name_id.sp_name_qualifier = self.sp_name_qualifier;
        name_id.sp_provided_id = self.sp_provided_id;
        let session = LogoutSession::new(name_id);
        match self.session_index {
            Some(index) => session.with_session_index(index),
            None => session,
        }
    }
}

/// The SP entity id of `tenant`.
pub fn entity_id(base_url: &str, tenant: &str) -> String {
    format!("{base_url}/saml/{tenant}/metadata")
}

/// The ACS URL of `tenant`.
pub fn acs_url(base_url: &str, tenant: &str) -> String {
    format!("{base_url}/saml/{tenant}/acs")
}

/// One ServiceProvider per tenant that has an IdP.
pub(crate) fn registry(
    base_url: &str,
    tenants: &[TenantConfig],
) -> Result<TenantRegistry, StartError> {
    let registry = TenantRegistry::new();
    for tenant in tenants {
        let Some(idp) = tenant.idp() else { continue };
        let cert = Certificate::from_pem(idp.certificate_pem())?;
        let idp =
            IdentityProvider::new(idp.entity_id(), [cert])?.with_sso_redirect_url(idp.sso_url());
        let sp = ServiceProvider::builder(
            entity_id(base_url, tenant.id()),
            acs_url(base_url, tenant.id()),
        )
        .identity_provider(idp)
        .with_single_logout_url(format!("{base_url}/saml/{}/slo", tenant.id()))
        .build()?;
        registry.insert(tenant.id(), sp);
    }
    Ok(registry)
}

/// `/saml/{tenant}/...`: rampart-axum's routes over the service's session, stores, role map
/// and clock.
pub(crate) fn routes(state: &AppState) -> Router<AppState> {
    let clock = state.clock.clone();
    SamlRoutes::new(state.saml.clone(), TowerSessions)
        .with_request_ids(state.stores.saml.clone())
        .with_replay_cache(state.stores.saml.clone())
        .with_authorizer(Authorizer::from_shared(state.policy.clone()))
        .with_max_form_bytes(MAX_ACS_BYTES)
        .with_clock(move || clock.now())
        .into_router()
}

/// The tower-sessions session, as `SamlRoutes` keeps its state in it.
struct TowerSessions;

async fn session(parts: &mut Parts) -> Result<Session, AppError> {
    Session::from_request_parts(parts, &())
        .await
        .map_err(|_| AppError::Unavailable("session"))
}

fn session_failed(e: &tower_sessions::session::Error) -> AppError {
    AppError::unavailable("session", e)
}

impl SamlSessions for TowerSessions {
    type Error = AppError;

    async fn remember_request(
        &self,
        parts: &mut Parts,
        tenant: &str,
        request_id: &str,
    ) -> Result<(), AppError> {
        let pending = PendingLogin {
            tenant: tenant.to_owned(),
            request_id: request_id.to_owned(),
        };
        session(parts)
            .await?
            .insert(PENDING_KEY, pending)
            .await
            .map_err(|e| session_failed(&e))
    }

    async fn take_request(
        &self,
        parts: &mut Parts,
        tenant: &str,
    ) -> Result<Option<String>, AppError> {
        // Taken whatever its tenant: one answer per login started, never a second try.
        let pending: Option<PendingLogin> = session(parts)
            .await?
            .remove(PENDING_KEY)
            .await
            .map_err(|e| session_failed(&e))?;
        Ok(pending.filter(|p| p.tenant == tenant).map(|p| p.request_id))
    }

    async fn logged_in(&self, parts: &mut Parts, done: SamlLogin) -> Result<Response, AppError> {
        let session = session(parts).await?;
        let roles = done.principal.roles().map(str::to_owned).collect();
        let saml_session = StoredSamlSession::of(&done.tenant, &done.login);
        start_session(
            &session,
            done.login.name_id.value,
            done.tenant,
            Via::Saml,
            roles,
        )
        .await?;
        session
            .insert(SAML_SESSION_KEY, saml_session)
            .await
            .map_err(|e| session_failed(&e))?;
        let to = done.return_to.as_deref().unwrap_or("/dashboard");
        Ok(Redirect::to(to).into_response())
    }

    async fn logout_session(
        &self,
        parts: &mut Parts,
        tenant: &str,
    ) -> Result<Option<LogoutSession>, AppError> {
        let stored: Option<StoredSamlSession> = session(parts)
            .await?
            .get(SAML_SESSION_KEY)
            .await
            .map_err(|e| session_failed(&e))?;
        Ok(stored
            .filter(|s| s.tenant == tenant)
            .map(StoredSamlSession::logout_session))
    }

    async fn logged_out(&self, parts: &mut Parts, _tenant: &str) -> Result<(), AppError> {
        session(parts)
            .await?
            .flush()
            .await
            .map_err(|e| session_failed(&e))
    }
}
