//! API key pairs per user (issue, list, revoke), and the handlers behind `/api/v1`, where
//! rampart-axum's `ApiKeyLayer` checks the Bearer key (rampart-apikey), counts failures per
//! key, key and address, and address (rampart-attempts: 429 with `Retry-After`, the owner
//! told at the 20th consecutive failure) and hands over a `Principal`; rampart-authz matches
//! the key's scopes against the route's permission (403).

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rampart_apikey::{KeyOptions, PublicId, PublicKey};
use rampart_axum::Principal;
use serde::Deserialize;
use serde_json::json;

use crate::app::AppState;
use crate::clock::unix_ms;
use crate::error::{AppError, rejected};
use crate::roles::CurrentUser;

#[derive(Deserialize)]
pub(crate) struct IssueBody {
    #[serde(default)]
    scopes: Vec<String>,
}

/// `POST /api/keys` (`keys:manage`): a key pair whose scopes the user holds; the secret is
/// in this response only.
pub(crate) async fn issue(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Result<Json<IssueBody>, JsonRejection>,
) -> Result<Response, AppError> {
    user.require(&state, "keys:manage")?;
    let Json(body) = body.map_err(|r| rejected(r.status(), "malformed_json"))?;
    // A key never carries more than its owner may do.
    if body.scopes.iter().any(|s| !user.may(&state, s)) {
        return Err(AppError::Forbidden("scope_not_held"));
    }
    let now = state.clock.now();
    let issued = state
        .keys
        .issue(
            KeyOptions::new().with_scopes(body.scopes.iter().map(String::as_str)),
            now,
        )
        .map_err(|e| match e.is_credential_failure() {
            true => AppError::BadRequest("invalid_scope"),
            false => AppError::unavailable("api_keys", &e),
        })?;
    let public_id = issued.public_key.public_id().as_str().to_owned();
    state
        .stores
        .db
        .insert_key_owner(
            &public_id,
            &user.user.email,
            &user.user.tenant,
            unix_ms(now),
        )
        .await
        .map_err(|e| AppError::unavailable("database", &e))?;
    state.owners.insert(public_id, user.user.email.clone());
    state
        .stores
        .keys
        .insert(&issued.record)
        .await
        .map_err(|e| AppError::unavailable("key_store", &e))?;
    let body = json!({
        "public_key": issued.public_key.to_string(),
        "secret_key": issued.secret_key.expose_secret(),
        "scopes": body.scopes,
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `GET /api/keys`: the user's keys, without secrets.
pub(crate) async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, AppError> {
    user.require(&state, "keys:manage")?;
    let ids = state
        .stores
        .db
        .keys_of(&user.user.email)
        .await
        .map_err(|e| AppError::unavailable("database", &e))?;
    let mut keys = Vec::with_capacity(ids.len());
    for id in ids {
        let Ok(public_id) = PublicId::parse(&id) else {
            continue;
        };
        let record = state
            .stores
            .keys
            .get(&public_id)
            .await
            .map_err(|e| AppError::unavailable("key_store", &e))?;
        if let Some(record) = record {
            keys.push(json!({
                "public_key": record.public_key().to_string(),
                "last_four": record.last_four(),
                "scopes": record.scopes().collect::<Vec<_>>(),
                "created_ms": unix_ms(record.created_at()),
                "revoked": record.revoked_at().is_some(),
            }));
        }
    }
    Ok(Json(json!({ "keys": keys })).into_response())
}

/// `DELETE /api/keys/{public_key}`: revokes one of the user's keys; the next request with it
/// is refused.
pub(crate) async fn revoke(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(public_key): Path<String>,
) -> Result<Response, AppError> {
    user.require(&state, "keys:manage")?;
    let public_id = PublicKey::parse(&public_key)
        .map(|k| k.public_id())
        .or_else(|_| PublicId::parse(&public_key))
        .map_err(|_| AppError::BadRequest("malformed_key"))?;
    let owner = state
        .stores
        .db
        .key_owner(public_id.as_str())
        .await
        .map_err(|e| AppError::unavailable("database", &e))?;
    // Somebody else's key reads as no key at all.
    if owner.as_deref() != Some(user.user.email.as_str()) {
        return Err(AppError::NotFound("unknown_key"));
    }
    state
        .stores
        .keys
        .revoke(&public_id, state.clock.now())
        .await
        .map_err(|e| AppError::unavailable("key_store", &e))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /api/v1/whoami`: any valid key (rampart-axum's `ApiKeyLayer` checked it).
pub(crate) async fn whoami(key: Principal) -> Response {
    Json(json!({
        "public_key": key.public_id(),
        "owner": key.owner(),
        "scopes": key.scopes().collect::<Vec<_>>(),
    }))
    .into_response()
}

/// `GET /api/v1/reports`: a key with the `reports:read` scope (403 `missing_scope` without).
pub(crate) async fn reports(
    State(state): State<AppState>,
    key: Principal,
) -> Result<Response, AppError> {
    if !state
        .policy
        .check(key.as_authz(), "reports:read")
        .is_allowed()
    {
        return Err(AppError::Forbidden("missing_scope"));
    }
    Ok(
        Json(json!({ "reports": [{ "id": "weekly", "title": "Weekly sign-ins" }] }))
            .into_response(),
    )
}
