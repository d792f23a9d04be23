//! Who is asking: a subject with roles and directly granted permissions.

use std::collections::{BTreeSet, HashSet};

/// A subject (user, API key, service) with the roles and direct permissions it holds, from
/// any source: API-key scopes ([`Principal::from_scopes`]), roles from your user table or
/// from SAML attributes through a [`RoleMapping`](crate::RoleMapping)
/// ([`Principal::with_roles`]).
///
/// A principal is not validated against a policy: a role the policy does not define grants
/// nothing, and a direct permission counts only if the policy declares it.
///
/// ```
/// use rampart_authz::Principal;
/// let key = Principal::from_scopes("rk_live_abc", ["reports:read"]);
/// assert!(key.has_direct("reports:read"));
/// let ann = Principal::new("ann@example.com").with_roles(["admin", "viewer"]);
/// assert_eq!(ann.roles().collect::<Vec<_>>(), ["admin", "viewer"]);
/// assert_eq!(ann.subject(), "ann@example.com");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    subject: String,
    // Sorted, so the role a decision names is the same on every run.
    roles: BTreeSet<String>,
    direct: HashSet<String>,
}

impl Principal {
    /// A principal with no roles and no permissions: denied everything.
    ///
    /// ```
    /// let p = rampart_authz::Principal::new("svc-backup");
    /// assert_eq!(p.roles().count(), 0);
    /// ```
    #[must_use]
    pub fn new(subject: impl Into<String>) -> Self {
        Self {
            subject: subject.into(),
            roles: BTreeSet::new(),
            direct: HashSet::new(),
        }
    }

    /// A principal holding `scopes` as direct permissions (an API key's scopes, already
    /// validated by rampart-apikey), with no roles.
    ///
    /// ```
    /// let p = rampart_authz::Principal::from_scopes("rk_live_abc", ["reports:read", "dashboards:billing"]);
    /// assert!(p.has_direct("dashboards:billing"));
    /// ```
    #[must_use]
    pub fn from_scopes<I, S>(subject: impl Into<String>, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::new(subject).with_scopes(scopes)
    }

    /// Adds roles (kept with those already held).
    ///
    /// ```
    /// let p = rampart_authz::Principal::new("ann").with_roles(["viewer"]).with_roles(["admin"]);
    /// assert_eq!(p.roles().collect::<Vec<_>>(), ["admin", "viewer"]);
    /// ```
    #[must_use]
    pub fn with_roles<I, S>(mut self, roles: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.roles.extend(roles.into_iter().map(Into::into));
        self
    }

    /// Adds directly granted permissions (kept with those already held).
    ///
    /// ```
    /// let p = rampart_authz::Principal::new("ann").with_scopes(["reports:read"]);
    /// assert!(p.has_direct("reports:read"));
    /// ```
    #[must_use]
    pub fn with_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.direct.extend(scopes.into_iter().map(Into::into));
        self
    }

    /// The subject id given at construction.
    ///
    /// ```
    /// assert_eq!(rampart_authz::Principal::new("ann").subject(), "ann");
    /// ```
    #[must_use]
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The roles held, sorted.
    ///
    /// ```
    /// let p = rampart_authz::Principal::new("ann").with_roles(["b", "a"]);
    /// assert_eq!(p.roles().collect::<Vec<_>>(), ["a", "b"]);
    /// ```
    pub fn roles(&self) -> impl ExactSizeIterator<Item = &str> {
        self.roles.iter().map(String::as_str)
    }

    /// The directly granted permissions (API-key scopes), in no particular order.
    ///
    /// ```
    /// let p = rampart_authz::Principal::from_scopes("k", ["reports:read"]);
    /// assert_eq!(p.scopes().collect::<Vec<_>>(), ["reports:read"]);
    /// ```
    pub fn scopes(&self) -> impl ExactSizeIterator<Item = &str> {
        self.direct.iter().map(String::as_str)
    }

    /// True when `permission` was granted directly (not through a role).
    ///
    /// ```
    /// let p = rampart_authz::Principal::from_scopes("k", ["reports:read"]);
    /// assert!(!p.has_direct("reports:write"));
    /// ```
    #[must_use]
    pub fn has_direct(&self, permission: &str) -> bool {
        self.direct.contains(permission)
    }
}
