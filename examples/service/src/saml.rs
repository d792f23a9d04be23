//! SAML SSO per tenant (rampart-saml): each tenant has its own SP entity id and ACS URL
//! (`/saml/{tenant}/...`) and its pinned IdP; the request id issued at login lives in the
//! session and in the request-id store (consumed once, on any replica); the assertion id in
//! the replay cache; the IdP's group attributes map to roles through the role map.

use std::time::Duration;

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use rampart_saml::{Certificate, Expected, IdentityProvider, ServiceProvider, TenantRegistry};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use crate::accounts::start_session;
use crate::app::AppState;
use crate::config::TenantConfig;
use crate::error::{AppError, StartError, rejected};
use crate::roles::Via;

/// How long an AuthnRequest may be answered.
const REQUEST_LIFETIME: Duration = Duration::from_secs(10 * 60);
/// The session key of the login in progress.
const PENDING_KEY: &str = "saml_pending";
/// Largest ACS form accepted (the route's body limit): an IdP's signed response with many
/// attributes is a few tens of KiB; rampart-saml caps the decoded XML on its own too.
pub const MAX_ACS_BYTES: usize = 256 * 1024;

/// The request the session is waiting for an answer to.
#[derive(Debug, Serialize, Deserialize)]
struct PendingLogin {
    tenant: String,
    request_id: String,
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
        .build()?;
        registry.insert(tenant.id(), sp);
    }
    Ok(registry)
}

fn service_provider(
    state: &AppState,
    tenant: &str,
) -> Result<std::sync::Arc<ServiceProvider>, AppError> {
    state
        .saml
        .get(tenant)
        .ok_or(AppError::NotFound("unknown_tenant"))
}

/// `GET /saml/{tenant}/metadata`: our SP metadata for the tenant's IdP administrator.
pub(crate) async fn metadata(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
) -> Result<Response, AppError> {
    let sp = service_provider(&state, &tenant)?;
    Ok((
        [(header::CONTENT_TYPE, "application/samlmetadata+xml")],
        sp.metadata_xml(),
    )
        .into_response())
}

/// `GET /saml/{tenant}/login`: an AuthnRequest to the tenant's IdP (HTTP-Redirect binding);
/// its id is remembered in the session and the request-id store.
pub(crate) async fn login(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    session: Session,
) -> Result<Response, AppError> {
    let sp = service_provider(&state, &tenant)?;
    let sso = sp
        .identity_provider()
        .sso_redirect_url()
        .ok_or(AppError::NotFound("no_sso_url"))?
        .to_owned();
    let now = state.clock.now();
    let request = sp
        .authn_request(sso)
        .build(now)
        .map_err(|e| AppError::unavailable("saml", &e))?;
    let url = request
        .redirect_url(&sp, None)
        .map_err(|e| AppError::unavailable("saml", &e))?;
    state
        .saml_ids
        .remember(&tenant, request.id(), now + REQUEST_LIFETIME, now)
        .await
        .map_err(|e| AppError::unavailable("saml_store", &e))?;
    let pending = PendingLogin {
        tenant,
        request_id: request.id().to_owned(),
    };
    session
        .insert(PENDING_KEY, pending)
        .await
        .map_err(|e| AppError::unavailable("session", &e))?;
    Ok(Redirect::to(&url).into_response())
}

#[derive(Deserialize)]
pub(crate) struct AcsForm {
    #[serde(rename = "SAMLResponse")]
    saml_response: String,
}

/// `POST /saml/{tenant}/acs`: the IdP's signed response (HTTP-POST binding). Accepted only
/// as the answer to the request this session sent to this tenant's IdP, once.
pub(crate) async fn acs(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    session: Session,
    form: Result<Form<AcsForm>, FormRejection>,
) -> Result<Response, AppError> {
    service_provider(&state, &tenant)?;
    let Form(form) = form.map_err(|r| rejected(r.status(), "malformed_form"))?;
    let pending: PendingLogin = session
        .remove(PENDING_KEY)
        .await
        .ok()
        .flatten()
        .ok_or(AppError::Unauthorized("no_pending_login"))?;
    if pending.tenant != tenant {
        return Err(AppError::BadRequest("tenant_mismatch"));
    }
    let now = state.clock.now();
    let issued = state
        .saml_ids
        .consume(&tenant, &pending.request_id, now)
        .await
        .map_err(|e| AppError::unavailable("saml_store", &e))?;
    if !issued {
        return Err(AppError::BadRequest("request_not_issued"));
    }
    let refused = |kind: &'static str| {
        tracing::warn!(tenant = %tenant, kind, "SAML response refused");
        AppError::Unauthorized("saml_refused")
    };
    let validated = state
        .saml
        .validate_response(
            &tenant,
            form.saml_response.as_bytes(),
            Expected::Request(&pending.request_id),
            now,
        )
        .map_err(|e| refused(e.kind()))?;
    let login = validated
        .response
        .check_replay(&state.stores.saml)
        .await
        .map_err(|e| refused(e.kind()))?;
    let roles: Vec<String> = state
        .policy
        .mapping(&tenant)
        .map(|m| {
            m.roles_for(
                login
                    .attributes
                    .iter()
                    .map(|a| (a.name.as_str(), a.values.iter().map(String::as_str))),
            )
            .into_iter()
            .collect()
        })
        .unwrap_or_default();
    start_session(&session, login.name_id.value, tenant, Via::Saml, roles).await?;
    Ok(Redirect::to("/dashboard").into_response())
}

/// `GET /saml/{tenant}/slo`: ends the local session (SP side only; the IdP's own session is
/// the IdP's).
pub(crate) async fn slo(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    session: Session,
) -> Result<Response, AppError> {
    service_provider(&state, &tenant)?;
    session
        .flush()
        .await
        .map_err(|e| AppError::unavailable("session", &e))?;
    Ok(Redirect::to("/login").into_response())
}
