//! Roles to permissions, where a permission is the same string as an API-key scope
//! (`reports:read`, `dashboards:billing`): a role map loaded from TOML or JSON, validated
//! and flattened at load, principals from API keys, your user table or SAML attributes, and
//! a check that names the role that granted a permission or the permission that is missing.
//!
//! ```
//! use rampart_authz::{Decision, DenyReason, Grant, Policy, Principal};
//!
//! let policy = Policy::from_toml(r#"
//!     permissions = ["reports:read", "reports:write", "dashboards:billing"]
//!
//!     [roles.viewer]
//!     permissions = ["reports:read"]
//!
//!     [roles.admin]
//!     inherits = ["viewer"]
//!     permissions = ["reports:write", "dashboards:billing"]
//!
//!     [tenants.acme.mappings]
//!     "groups=admins" = "admin"
//!     "groups=staff" = ["viewer"]
//! "#)?;
//!
//! // A user who signed in with SAML: roles from the IdP's attributes, per tenant.
//! let roles = policy.mapping("acme").unwrap().roles_for([("groups", ["staff"])]);
//! let ann = Principal::new("ann@acme.example").with_roles(roles);
//! assert_eq!(policy.check(&ann, "reports:read"), Decision::Allowed { by: Grant::Role("viewer") });
//! assert_eq!(
//!     policy.check(&ann, "dashboards:billing"),
//!     Decision::Denied { missing: "dashboards:billing", reason: DenyReason::NotGranted },
//! );
//!
//! // An API key: its scopes are direct grants.
//! let key = Principal::from_scopes("rk_live_abc", ["dashboards:billing"]);
//! assert!(policy.check(&key, "dashboards:billing").is_allowed());
//! // A permission the policy does not declare is never allowed.
//! assert_eq!(
//!     policy.check(&key, "dashboards:delete"),
//!     Decision::Denied { missing: "dashboards:delete", reason: DenyReason::UnknownPermission },
//! );
//! # Ok::<(), rampart_authz::Error>(())
//! ```
//!
//! # The role map
//!
//! | key | meaning |
//! |---|---|
//! | `permissions` | every permission the service checks (required); API-key scope syntax |
//! | `roles.<name>.permissions` | permissions the role has; each declared, or a wildcard |
//! | `roles.<name>.inherits` | roles whose permissions this role also has |
//! | `tenants.<id>.mappings` | `"attribute=value" = "role"` or `= ["role", ..]` |
//!
//! The JSON form has the same shape. Unknown keys and duplicate keys are errors. Loading
//! refuses, each with a typed [`Error`] naming what is wrong: a permission or role name
//! outside the scope syntax, a role granting an undeclared permission
//! ([`Error::UnknownPermission`]), inheriting an undefined role ([`Error::UnknownRole`]),
//! a cycle of inheritance ([`Error::Cycle`], with the cycle's path), a chain deeper than
//! [`MAX_INHERITANCE_DEPTH`], a mapping to an undefined role, and inputs past the limits
//! ([`MAX_POLICY_LEN`], [`MAX_PERMISSIONS`], [`MAX_ROLES`], [`MAX_TENANTS`], [`MAX_RULES`]).
//!
//! Each role is flattened at load into the set of every permission it has, inherited ones
//! included, so a check is hash lookups only: one for the permission's declaration, one for
//! a direct grant, one per role held.
//!
//! # Permissions are API-key scopes
//!
//! A permission is 1-128 bytes of `[A-Za-z0-9:._/-]`, exactly rampart-apikey's scope rule
//! ([`is_valid_permission`]). That crate keeps its validation private and no crate depends
//! on a sibling (docs/design.md, Dependency direction), so the rule is mirrored here, with
//! a test pinning the same cases.
//!
//! # Wildcards
//!
//! Only in a role's `permissions`, and only as `PREFIX:*` (PREFIX itself a valid
//! permission): it stands for every *declared* permission that starts with `PREFIX:`
//! (`reports:*` covers `reports:read` and `reports:export:csv`, not `reports` or
//! `reportsx:read`), expanded at load. A wildcard that matches nothing is an error. There is
//! no bare `*`, no `*` in the middle, and none in a check, an API-key scope or a direct
//! grant (`*` is not in the scope alphabet). Declaring a new permission under a prefix
//! extends every role that holds the prefix's wildcard when the map is next loaded.
//!
//! # Backends: the static map and Cedar
//!
//! [`Policy`] and, with feature `cedar`, `CedarPolicy` (Cedar policies validated against the
//! declared permissions: conditions on scopes, `forbid` overrides, policy ids in decisions)
//! implement one trait, [`Authorizer`], whose `check` answers the same [`Decision`]. Code
//! written against the trait swaps one for the other. A Cedar decision names the policy
//! that permitted ([`Grant::Policy`]) or says a `forbid` matched ([`DenyReason::Forbidden`]);
//! the static map never answers those. Resources (a check on *which* report) are not
//! modelled yet: a decision depends on the principal and the permission name.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod authorizer;
#[cfg(feature = "cedar")]
pub mod cedar;
mod decision;
mod error;
mod mapping;
mod permission;
mod policy;
mod principal;

pub use authorizer::Authorizer;
#[cfg(feature = "cedar")]
pub use cedar::{CedarError, CedarPolicy, MAX_CEDAR_NESTING, MAX_CEDAR_OPERATORS};
pub use decision::{Decision, DenyReason, Grant};
pub use error::Error;
pub use mapping::RoleMapping;
pub use permission::{MAX_PERMISSION_LEN, is_valid_permission};
pub use policy::{
    MAX_INHERITANCE_DEPTH, MAX_PERMISSIONS, MAX_POLICY_LEN, MAX_ROLES, MAX_RULES, MAX_TENANTS,
    Policy,
};
pub use principal::Principal;
