//! API key pairs per user (issue, list, revoke) and the Bearer-key check in front of
//! `/api/v1`: rampart-apikey checks the key, rampart-attempts counts failures per public
//! key (throttling with 429 and telling the owner at the 20th), rampart-authz matches the
//! key's scopes against the route's permission (403).

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rampart_apikey::{KeyOptions, PublicId, PublicKey};
use rampart_attempts::{Decision, Subject};
use rampart_authz::Principal;
use serde::Deserialize;
use serde_json::json;

use crate::app::AppState;
use crate::clock::unix_ms;
use crate::error::{AppError, rejected};
use crate::roles::CurrentUser;

/// Longest Authorization header value looked at: `Bearer ` and the longest key rampart-apikey
/// issues fit well within it; anything longer is refused unparsed.
const MAX_AUTHORIZATION_LEN: usize = 256;

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
            KeyOptions::new().scopes(body.scopes.iter().map(String::as_str)),
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

/// The key a request under `/api/v1` presented, after every check.
#[derive(Clone, Debug)]
pub(crate) struct KeyPrincipal {
    pub(crate) public_key: String,
    pub(crate) owner: Option<String>,
    pub(crate) scopes: Vec<String>,
    pub(crate) principal: Principal,
}

/// The Bearer-key check in front of `/api/v1`: 401 for a missing, malformed, unknown,
/// wrong, expired or revoked key; 429 with `Retry-After` while the public key is throttled.
pub(crate) async fn require_key(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, AppError> {
    let secret = bearer(&request)?;
    // The checksum is checked before any store is touched: only a well-formed key names a
    // public id that failures can be counted against.
    let parsed = state
        .keys
        .parse(&secret)
        .map_err(|_| AppError::Unauthorized("malformed_key"))?;
    let subject = Subject::api_key(parsed.public_id().as_str());
    let now = state.clock.now();
    let attempts = &state.stores.attempts;
    match attempts.check(&subject, now).await {
        Ok(Decision::Allow) => {}
        Ok(Decision::RetryAfter(delay)) => return Err(AppError::TooManyAttempts(delay)),
        Ok(Decision::Locked { until }) => {
            let delay = until
                .and_then(|u| u.duration_since(now).ok())
                .unwrap_or_default();
            return Err(AppError::TooManyAttempts(delay));
        }
        Ok(_) => return Err(AppError::TooManyAttempts(std::time::Duration::ZERO)),
        Err(e) => return Err(AppError::unavailable("attempts", &e)),
    }
    let verified = match state.stores.keys.check(&state.keys, &secret, now).await {
        Ok(v) => v,
        Err(e) if e.is_credential_failure() => {
            attempts
                .record_failure(&subject, now)
                .await
                .map_err(|e| AppError::unavailable("attempts", &e))?;
            return Err(AppError::Unauthorized("invalid_key"));
        }
        Err(e) => return Err(AppError::unavailable("key_store", &e)),
    };
    attempts.record_success(&subject, now).await;
    let public_id = verified.public_id();
    let principal = Principal::from_scopes(public_id.as_str(), verified.scopes());
    request.extensions_mut().insert(KeyPrincipal {
        public_key: verified.record().public_key().to_string(),
        owner: state.owners.of(public_id.as_str()),
        scopes: verified.scopes().map(str::to_owned).collect(),
        principal,
    });
    Ok(next.run(request).await)
}

/// The secret from `Authorization: Bearer <key>`, refusing anything odd without echoing it.
fn bearer(request: &Request) -> Result<zeroize::Zeroizing<String>, AppError> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or(AppError::Unauthorized("missing_key"))?;
    if value.len() > MAX_AUTHORIZATION_LEN {
        return Err(AppError::Unauthorized("malformed_key"));
    }
    let text = value
        .to_str()
        .map_err(|_| AppError::Unauthorized("malformed_key"))?;
    let secret = text
        .strip_prefix("Bearer ")
        .ok_or(AppError::Unauthorized("malformed_key"))?;
    Ok(zeroize::Zeroizing::new(secret.to_owned()))
}

/// 403 unless the key's scopes grant `permission`.
fn require_scope(state: &AppState, key: &KeyPrincipal, permission: &str) -> Result<(), AppError> {
    if state.policy.check(&key.principal, permission).is_allowed() {
        Ok(())
    } else {
        Err(AppError::Forbidden("missing_scope"))
    }
}

/// `GET /api/v1/whoami`: any valid key.
pub(crate) async fn whoami(key: axum::Extension<KeyPrincipal>) -> Response {
    Json(json!({
        "public_key": key.public_key,
        "owner": key.owner,
        "scopes": key.scopes,
    }))
    .into_response()
}

/// `GET /api/v1/reports`: a key with the `reports:read` scope.
pub(crate) async fn reports(
    State(state): State<AppState>,
    key: axum::Extension<KeyPrincipal>,
) -> Result<Response, AppError> {
    require_scope(&state, &key, "reports:read")?;
    Ok(
        Json(json!({ "reports": [{ "id": "weekly", "title": "Weekly sign-ins" }] }))
            .into_response(),
    )
}
