//! Who is signed in (the session) and what they may open (rampart-authz's role map).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use rampart_authz::Principal;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use crate::app::AppState;
use crate::error::AppError;

/// The session key of the signed-in user.
pub(crate) const USER_KEY: &str = "user";

/// How the user signed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Via {
    Password,
    Saml,
}

/// What the session holds about the user. Roles of password users are re-read on each
/// request (a grant or removal applies at once); SAML users keep those their IdP's
/// attributes mapped to at sign-in.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct SessionUser {
    pub(crate) email: String,
    pub(crate) tenant: String,
    pub(crate) via: Via,
    pub(crate) roles: Vec<String>,
}

/// The signed-in user; extracting it answers 401 `no_session` without one.
#[derive(Debug)]
pub(crate) struct CurrentUser {
    pub(crate) user: SessionUser,
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::Unauthorized("no_session"))?;
        let mut user: SessionUser = session
            .get(USER_KEY)
            .await
            .ok()
            .flatten()
            .ok_or(AppError::Unauthorized("no_session"))?;
        if user.via == Via::Password {
            let row = state
                .stores
                .db
                .user(&user.email)
                .await
                .map_err(|e| AppError::unavailable("database", &e))?
                .ok_or(AppError::Unauthorized("no_session"))?;
            user.roles = row.roles;
        }
        Ok(Self { user })
    }
}

impl CurrentUser {
    /// The user as rampart-authz sees them.
    pub(crate) fn principal(&self) -> Principal {
        Principal::new(self.user.email.clone()).with_roles(self.user.roles.iter().cloned())
    }

    /// 403 `forbidden` unless one of the user's roles grants `permission`.
    pub(crate) fn require(&self, state: &AppState, permission: &str) -> Result<(), AppError> {
        if state
            .policy
            .check(&self.principal(), permission)
            .is_allowed()
        {
            Ok(())
        } else {
            Err(AppError::Forbidden("forbidden"))
        }
    }

    /// Whether the user holds `permission` (for pages that show or hide a section).
    pub(crate) fn may(&self, state: &AppState, permission: &str) -> bool {
        state
            .policy
            .check(&self.principal(), permission)
            .is_allowed()
    }
}
