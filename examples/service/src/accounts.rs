//! Sign-up and password login: argon2id hashes (rampart-password), failures counted per
//! account and client IP (rampart-attempts), a fresh session id at sign-in.

use std::net::SocketAddr;

use axum::Form;
use axum::Json;
use axum::extract::rejection::{FormRejection, JsonRejection};
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use rampart_attempts::{Decision, Subject};
use rampart_password::{Password, PolicyContext, Verdict};
use serde::Deserialize;
use tower_sessions::Session;

use crate::app::AppState;
use crate::error::{AppError, rejected};
use crate::roles::{CurrentUser, SessionUser, USER_KEY, Via};

/// Longest e-mail address accepted (RFC 5321's path limit).
const MAX_EMAIL_LEN: usize = 254;

#[derive(Deserialize)]
pub(crate) struct SignUpForm {
    email: String,
    password: String,
    tenant: String,
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    email: String,
    password: String,
}

/// An e-mail address as stored: ASCII-lowercased, one `@`, no spaces or controls.
pub(crate) fn normalize_email(text: &str) -> Result<String, AppError> {
    let ok = !text.is_empty()
        && text.len() <= MAX_EMAIL_LEN
        && text.matches('@').count() == 1
        && !text.starts_with('@')
        && !text.ends_with('@')
        && !text.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(text.to_ascii_lowercase())
    } else {
        Err(AppError::BadRequest("invalid_email"))
    }
}

/// `POST /signup`: the first user of a tenant becomes its admin (somebody must grant roles);
/// everyone after starts with no role until an admin grants one.
pub(crate) async fn sign_up(
    State(state): State<AppState>,
    session: Session,
    form: Result<Form<SignUpForm>, FormRejection>,
) -> Result<Response, AppError> {
    let Form(form) = form.map_err(|r| rejected(r.status(), "malformed_form"))?;
    let email = normalize_email(&form.email)?;
    state.tenant(&form.tenant)?;
    let password = Password::new(form.password);
    state
        .password_policy
        .check(&password, &PolicyContext::new().with_email(&email))
        .map_err(|_| AppError::BadRequest("weak_password"))?;
    let hash = state
        .hasher
        .hash_async(password)
        .await
        .map_err(|e| AppError::unavailable("password_hasher", &e))?;
    let db = &state.stores.db;
    let first = db
        .count_users(&form.tenant)
        .await
        .map_err(|e| AppError::unavailable("database", &e))?
        == 0;
    let roles = if first {
        vec!["admin".to_owned()]
    } else {
        Vec::new()
    };
    let inserted = db
        .insert_user(&email, &form.tenant, &hash, &roles, state.clock.unix_ms())
        .await
        .map_err(|e| AppError::unavailable("database", &e))?;
    if !inserted {
        return Err(AppError::Conflict("email_taken"));
    }
    start_session(&session, email, form.tenant, Via::Password, roles).await?;
    Ok(Redirect::to("/dashboard").into_response())
}

/// `POST /login`: 429 with `Retry-After` while the account is throttled from this address,
/// 401 for a wrong e-mail or password (the same answer and the same argon2 work for both).
pub(crate) async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    session: Session,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Result<Response, AppError> {
    let Form(form) = form.map_err(|r| rejected(r.status(), "malformed_form"))?;
    let email = normalize_email(&form.email)?;
    let now = state.clock.now();
    let subject = Subject::account_from_ip(email.clone(), peer.ip());
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
    let row = state
        .stores
        .db
        .user(&email)
        .await
        .map_err(|e| AppError::unavailable("database", &e))?;
    let verdict = state
        .hasher
        .verify_or_dummy_async(
            Password::new(form.password),
            row.as_ref().map(|r| r.password_hash.clone()),
        )
        .await;
    let verdict = match verdict {
        // A password past the length cap is a wrong password, not a server fault.
        Err(rampart_password::Error::PasswordTooLong { .. }) => Verdict::Invalid,
        other => other.map_err(|e| AppError::unavailable("password_hasher", &e))?,
    };
    let row = match (verdict, row) {
        (Verdict::Valid, Some(row)) => row,
        (Verdict::ValidNeedsUpgrade { new_hash, .. }, Some(row)) => {
            // Parameters or pepper aged: store the hash made from this very password.
            state
                .stores
                .db
                .set_password_hash(&email, &new_hash)
                .await
                .map_err(|e| AppError::unavailable("database", &e))?;
            row
        }
        _ => {
            attempts
                .record_failure(&subject, now)
                .await
                .map_err(|e| AppError::unavailable("attempts", &e))?;
            return Err(AppError::Unauthorized("invalid_credentials"));
        }
    };
    attempts.record_success(&subject, now).await;
    start_session(&session, email, row.tenant, Via::Password, row.roles).await?;
    Ok(Redirect::to("/dashboard").into_response())
}

/// A new session id for the signed-in user (no fixation of an id set before sign-in).
pub(crate) async fn start_session(
    session: &Session,
    email: String,
    tenant: String,
    via: Via,
    roles: Vec<String>,
) -> Result<(), AppError> {
    let user = SessionUser {
        email,
        tenant,
        via,
        roles,
    };
    session
        .cycle_id()
        .await
        .map_err(|e| AppError::unavailable("session", &e))?;
    session
        .insert(USER_KEY, user)
        .await
        .map_err(|e| AppError::unavailable("session", &e))
}

/// `POST /logout`.
pub(crate) async fn logout(session: Session) -> Result<Response, AppError> {
    session
        .flush()
        .await
        .map_err(|e| AppError::unavailable("session", &e))?;
    Ok(Redirect::to("/login").into_response())
}

#[derive(Deserialize)]
pub(crate) struct RolesBody {
    roles: Vec<String>,
}

/// `PUT /api/users/{email}/roles` (`users:manage`): sets a user's roles in the admin's own
/// tenant; every role must exist in the role map.
pub(crate) async fn set_roles(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(email): Path<String>,
    body: Result<Json<RolesBody>, JsonRejection>,
) -> Result<Response, AppError> {
    user.require(&state, "users:manage")?;
    let Json(body) = body.map_err(|r| rejected(r.status(), "malformed_json"))?;
    let email = normalize_email(&email)?;
    if body
        .roles
        .iter()
        .any(|r| state.policy.role_permissions(r).is_none())
    {
        return Err(AppError::BadRequest("unknown_role"));
    }
    let updated = state
        .stores
        .db
        .set_roles(&user.user.tenant, &email, &body.roles)
        .await
        .map_err(|e| AppError::unavailable("database", &e))?;
    if !updated {
        return Err(AppError::NotFound("unknown_user"));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
