//! The crate's one error type.
//!
//! Every error comes from loading a role map: a check never fails, it answers with a
//! [`Decision`](crate::Decision). A role map is configuration, not a secret, so errors name
//! the role, permission, tenant or cycle they are about: an operator must be able to fix the
//! file from the message alone.

/// Why a role map was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input is longer than [`MAX_POLICY_LEN`](crate::MAX_POLICY_LEN) bytes.
    #[error("role map longer than {max} bytes")]
    TooLarge {
        /// The limit.
        max: usize,
    },
    /// The input is not valid TOML, or does not have the role map's shape (unknown or
    /// duplicate keys included).
    #[error("invalid toml role map: {0}")]
    Toml(#[source] toml::de::Error),
    /// The input is not valid JSON, or does not have the role map's shape (unknown or
    /// duplicate keys included).
    #[error("invalid json role map: {0}")]
    Json(#[source] serde_json::Error),
    /// A declared permission (or one a role lists) does not follow the API-key scope
    /// syntax: 1-128 bytes of `[A-Za-z0-9:._/-]`.
    #[error("invalid permission {permission:?}: expected 1-128 of [A-Za-z0-9:._/-]")]
    InvalidPermission {
        /// The permission as written.
        permission: String,
    },
    /// A role name is empty, longer than 128 bytes or has characters outside
    /// `[A-Za-z0-9:._/-]`.
    #[error("invalid role name {role:?}: expected 1-128 of [A-Za-z0-9:._/-]")]
    InvalidRoleName {
        /// The name as written.
        role: String,
    },
    /// A role grants a permission missing from the top-level `permissions` list.
    #[error("role {role:?} grants {permission:?}, which is not in the permissions list")]
    UnknownPermission {
        /// The role that lists it.
        role: String,
        /// The undeclared permission.
        permission: String,
    },
    /// A role grants a wildcard (`reports:*`) that matches no declared permission.
    #[error("role {role:?} grants {pattern:?}, which matches no declared permission")]
    EmptyWildcard {
        /// The role that lists it.
        role: String,
        /// The wildcard as written.
        pattern: String,
    },
    /// A role inherits from a role the map does not define.
    #[error("role {inherited_by:?} inherits from {role:?}, which is not defined")]
    UnknownRole {
        /// The undefined role.
        role: String,
        /// The role whose `inherits` names it.
        inherited_by: String,
    },
    /// Role inheritance loops. `path` starts and ends with the same role
    /// (`["a", "b", "a"]` for a role `a` that inherits `b`, which inherits `a`).
    #[error("role inheritance cycle: {}", path.join(" -> "))]
    Cycle {
        /// The roles of the loop, in inheritance order, the first repeated at the end.
        path: Vec<String>,
    },
    /// A chain of inheritance is longer than
    /// [`MAX_INHERITANCE_DEPTH`](crate::MAX_INHERITANCE_DEPTH) roles.
    #[error("role {role:?} has an inheritance chain deeper than {max}")]
    TooDeep {
        /// The role at the top of the chain.
        role: String,
        /// The limit.
        max: usize,
    },
    /// A tenant's attribute mapping names a role the map does not define.
    #[error("tenant {tenant:?} maps {rule:?} to {role:?}, which is not defined")]
    UnknownMappedRole {
        /// The tenant.
        tenant: String,
        /// The rule, `attribute=value`.
        rule: String,
        /// The undefined role.
        role: String,
    },
    /// A tenant's mapping rule is not `attribute=value` with a non-empty attribute name.
    #[error("tenant {tenant:?} has an invalid mapping rule {rule:?}: expected attribute=value")]
    InvalidMappingRule {
        /// The tenant.
        tenant: String,
        /// The rule as written.
        rule: String,
    },
    /// More permissions, roles, tenants or rules than this crate accepts
    /// ([`MAX_PERMISSIONS`](crate::MAX_PERMISSIONS), [`MAX_ROLES`](crate::MAX_ROLES),
    /// [`MAX_TENANTS`](crate::MAX_TENANTS), [`MAX_RULES`](crate::MAX_RULES)).
    #[error("too many {what} (at most {max})")]
    TooMany {
        /// `"permissions"`, `"roles"`, `"tenants"` or `"mapping rules"`.
        what: &'static str,
        /// The limit.
        max: usize,
    },
}

impl Error {
    /// A stable, machine-readable name for the error (logs, metrics, a CLI's `"error"`
    /// field); it does not change between releases.
    ///
    /// ```
    /// let err = rampart_authz::Policy::from_toml("permissions = [\"bad scope\"]").unwrap_err();
    /// assert_eq!(err.kind(), "invalid_permission");
    /// ```
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "too_large",
            Self::Toml(_) => "invalid_toml",
            Self::Json(_) => "invalid_json",
            Self::InvalidPermission { .. } => "invalid_permission",
            Self::InvalidRoleName { .. } => "invalid_role_name",
            Self::UnknownPermission { .. } => "unknown_permission",
            Self::EmptyWildcard { .. } => "empty_wildcard",
            Self::UnknownRole { .. } => "unknown_role",
            Self::Cycle { .. } => "role_cycle",
            Self::TooDeep { .. } => "inheritance_too_deep",
            Self::UnknownMappedRole { .. } => "unknown_mapped_role",
            Self::InvalidMappingRule { .. } => "invalid_mapping_rule",
            Self::TooMany { .. } => "too_many",
        }
    }
}
