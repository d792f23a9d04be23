//! Who is calling: the value a handler receives only from a checked credential.

use axum::extract::FromRequestParts;
use http::request::Parts;

use crate::error::Error;

/// How a [`Principal`] was authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthMethod {
    /// An API key, checked by [`ApiKeyLayer`](crate::ApiKeyLayer).
    ApiKey,
    /// A password, checked by [`PasswordLogin`](crate::PasswordLogin).
    Password,
    /// A SAML assertion of `tenant`'s IdP, checked by [`SamlRoutes`](crate::SamlRoutes).
    Saml {
        /// The tenant whose IdP signed the assertion.
        tenant: String,
    },
    /// Restored from the application's session by
    /// [`Principal::restore_from_session`].
    Session,
}

/// An authenticated caller: its owner (the account the credential belongs to), the API key's
/// public id when a key was used, its scopes and roles.
///
/// Only this crate's checks build one ([`ApiKeyLayer`](crate::ApiKeyLayer),
/// [`PasswordLogin`](crate::PasswordLogin), [`SamlRoutes`](crate::SamlRoutes)); a session
/// layer that stored one after such a check brings it back with the loudly named
/// [`restore_from_session`](Self::restore_from_session). As an extractor it answers 401
/// ([`Error::Unauthenticated`]) when no layer put one on the request.
///
/// ```
/// use rampart_axum::{AuthMethod, Principal};
/// // In a handler: `async fn me(who: Principal) -> String { who.owner().to_owned() }`.
/// let who = Principal::restore_from_session("ann", ["viewer"]);
/// assert_eq!(who.owner(), "ann");
/// assert_eq!(who.method(), &AuthMethod::Session);
/// assert_eq!(who.roles().collect::<Vec<_>>(), ["viewer"]);
/// assert_eq!(who.public_id(), None);
/// ```
#[derive(Debug, Clone)]
pub struct Principal {
    method: AuthMethod,
    public_id: Option<String>,
    // Owner, roles and scopes as rampart-authz checks them, built once per request.
    authz: rampart_authz::Principal,
}

impl Principal {
    pub(crate) fn build<R, S>(
        method: AuthMethod,
        owner: String,
        public_id: Option<String>,
        roles: R,
        scopes: S,
    ) -> Self
    where
        R: IntoIterator<Item = String>,
        S: IntoIterator<Item = String>,
    {
        let authz = rampart_authz::Principal::new(owner)
            .with_roles(roles)
            .with_scopes(scopes);
        Self {
            method,
            public_id,
            authz,
        }
    }

    /// A principal the application's session layer stored after one of this crate's checks
    /// (a password or SAML login), brought back on a later request with its owner and roles.
    /// The caller vouches that the session was written after a successful login: that is
    /// what the name says out loud. Its method is [`AuthMethod::Session`].
    ///
    /// ```
    /// let who = rampart_axum::Principal::restore_from_session("ann@acme.example", ["admin"]);
    /// assert!(who.roles().any(|r| r == "admin"));
    /// ```
    #[must_use]
    pub fn restore_from_session<I, S>(owner: impl Into<String>, roles: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::build(
            AuthMethod::Session,
            owner.into(),
            None,
            roles.into_iter().map(Into::into),
            std::iter::empty(),
        )
    }

    /// The owner: the account behind an API key (from the layer's
    /// [`KeyOwners`](crate::KeyOwners); the public id by default), the account of a
    /// password login, or the NameID of a SAML login.
    #[must_use]
    pub fn owner(&self) -> &str {
        self.authz.subject()
    }

    /// How the principal was authenticated.
    #[must_use]
    pub fn method(&self) -> &AuthMethod {
        &self.method
    }

    /// The public id of the API key used, if one was.
    #[must_use]
    pub fn public_id(&self) -> Option<&str> {
        self.public_id.as_deref()
    }

    /// The API key's scopes (direct grants of those permissions), sorted.
    pub fn scopes(&self) -> impl ExactSizeIterator<Item = &str> {
        let mut sorted: Vec<&str> = self.authz.scopes().collect();
        sorted.sort_unstable();
        sorted.into_iter()
    }

    /// Whether the API key has `scope`.
    #[must_use]
    pub fn has_scope(&self, scope: &str) -> bool {
        self.authz.has_direct(scope)
    }

    /// The roles (from the key's owner, the account, or the SAML mapping), sorted.
    pub fn roles(&self) -> impl ExactSizeIterator<Item = &str> {
        self.authz.roles()
    }

    /// The principal as rampart-authz checks it (subject = owner, roles, scopes as direct
    /// grants).
    #[must_use]
    pub fn as_authz(&self) -> &rampart_authz::Principal {
        &self.authz
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Error> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or(Error::Unauthenticated)
    }
}

impl<S: Send + Sync> axum::extract::OptionalFromRequestParts<S> for Principal {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Error> {
        Ok(parts.extensions.get::<Principal>().cloned())
    }
}
