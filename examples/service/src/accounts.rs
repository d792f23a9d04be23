//! Sign-up and password login: argon2id hashes (rampart-password), the login itself through
//! rampart-axum's `PasswordLogin` (failures counted per account, client IP and pair by
//! rampart-attempts), a fresh session id at sign-in.

use std::sync::{Arc, Mutex};

use axum::Form;
use axum::Json;
use axum::extract::rejection::{FormRejection, JsonRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use rampart_attempts::{PostgresStore, RedisStore, SqliteStore, Tracker};
use rampart_axum::{ClientIp, PasswordLogin, StoredAccount};
use rampart_password::{Hasher, Password, PolicyContext};
use serde::Deserialize;
use tower_sessions::Session;

use crate::app::AppState;
use crate::clock::Clock;
use crate::db::{Db, UserRow};
use crate::error::{AppError, rejected};
use crate::notify::OwnerNotifier;
use crate::roles::{CurrentUser, SessionUser, USER_KEY, Via};
use crate::stores::Attempts;

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
        .logins
        .hasher()
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

/// The attempt counter's back ends behind rampart-axum's `PasswordLogin` (one instance per
/// store type: it is generic over it), built once with the service's hasher and clock.
pub(crate) enum PasswordLogins {
    Sqlite(PasswordLogin<SqliteStore, OwnerNotifier>),
    Postgres(PasswordLogin<PostgresStore, OwnerNotifier>),
    Redis(PasswordLogin<RedisStore, OwnerNotifier>),
}

impl PasswordLogins {
    pub(crate) fn new(attempts: &Attempts, hasher: &Hasher, clock: &Clock) -> Self {
        fn login<T: rampart_attempts::Store + 'static>(
            tracker: &Arc<Tracker<T, OwnerNotifier>>,
            hasher: &Hasher,
            clock: &Clock,
        ) -> PasswordLogin<T, OwnerNotifier> {
            let clock = clock.clone();
            PasswordLogin::new(hasher.clone(), tracker.clone()).with_clock(move || clock.now())
        }
        match attempts {
            Attempts::Sqlite(t) => Self::Sqlite(login(t, hasher, clock)),
            Attempts::Postgres(t) => Self::Postgres(login(t, hasher, clock)),
            Attempts::Redis(t) => Self::Redis(login(t, hasher, clock)),
        }
    }

    /// The hasher logins verify with (sign-up hashes with it too: same parameters).
    pub(crate) fn hasher(&self) -> &Hasher {
        each!(self, Self::{Sqlite, Postgres, Redis}, |l| l.hasher())
    }

    async fn log_in(
        &self,
        accounts: &UserAccounts<'_>,
        email: &str,
        password: Password,
        ip: ClientIp,
    ) -> Result<rampart_axum::Principal, rampart_axum::Error> {
        each!(self, Self::{Sqlite, Postgres, Redis}, |l| l
            .log_in(accounts, email, password, ip)
            .await)
    }
}

/// The users table as `PasswordLogin` reads it, for one login: it keeps the row it found,
/// whose tenant the session needs.
struct UserAccounts<'a> {
    db: &'a Db,
    found: Mutex<Option<UserRow>>,
}

impl rampart_axum::Accounts for UserAccounts<'_> {
    type Error = sqlx::Error;

    async fn find(&self, account: &str) -> Result<Option<StoredAccount>, sqlx::Error> {
        let row = self.db.user(account).await?;
        let stored = row
            .as_ref()
            .map(|r| StoredAccount::new(r.password_hash.clone()).with_roles(r.roles.clone()));
        *self
            .found
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = row;
        Ok(stored)
    }

    async fn store_upgraded_hash(&self, account: &str, new_hash: &str) -> Result<(), sqlx::Error> {
        // Parameters or pepper aged: the hash made from this very password.
        self.db.set_password_hash(account, new_hash).await
    }
}

/// rampart-axum's refusal of a login as the service answers it.
fn login_refused(e: rampart_axum::Error) -> AppError {
    use rampart_axum::Error as E;
    match e {
        E::InvalidPassword => AppError::Unauthorized("invalid_credentials"),
        E::Throttled { retry_after } => AppError::TooManyAttempts(retry_after),
        E::Locked { retry_after, .. } => AppError::TooManyAttempts(retry_after.unwrap_or_default()),
        E::AttemptStore(cause) => AppError::unavailable("attempts", &cause),
        E::PasswordHashing(cause) => AppError::unavailable("password_hasher", &cause),
        E::Application(cause) => AppError::unavailable("database", cause.as_ref()),
        other => AppError::unavailable("login", &other),
    }
}

/// `POST /login`: rampart-axum's `PasswordLogin` (the account, the client address and the
/// pair throttled: 429 with `Retry-After` before any hashing; 401 for a wrong e-mail or
/// password, with the same argon2 work for both), then a fresh session.
pub(crate) async fn login(
    State(state): State<AppState>,
    ip: ClientIp,
    session: Session,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Result<Response, AppError> {
    let Form(form) = form.map_err(|r| rejected(r.status(), "malformed_form"))?;
    let email = normalize_email(&form.email)?;
    let accounts = UserAccounts {
        db: &state.stores.db,
        found: Mutex::new(None),
    };
    let who = state
        .logins
        .log_in(&accounts, &email, Password::new(form.password), ip)
        .await
        .map_err(login_refused)?;
    let row = accounts
        .found
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .ok_or(AppError::Unauthorized("invalid_credentials"))?;
    let roles = who.roles().map(str::to_owned).collect();
    start_session(&session, email, row.tenant, Via::Password, roles).await?;
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
