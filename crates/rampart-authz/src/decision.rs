//! The answer of a check.

/// What granted an allowed permission. `#[non_exhaustive]`: a backend may grant in a way
/// the static map cannot (a Cedar policy), so match with a `_` arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Grant<'a> {
    /// The principal holds this role, which has the permission (itself or by inheritance).
    Role(&'a str),
    /// The principal holds the permission directly (an API key's scope).
    Direct,
    /// A Cedar policy with this id permitted it (`CedarPolicy`, feature `cedar`; the
    /// smallest id when several did). [`Policy`](crate::Policy) never answers this.
    Policy(&'a str),
}

/// Why a permission was denied. `#[non_exhaustive]`, as [`Grant`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DenyReason {
    /// The permission is declared, and neither a role nor a direct grant of the principal
    /// has it.
    NotGranted,
    /// The policy does not declare the permission: a typo in the caller or a policy that
    /// lags the code. Never allowed, whatever the principal holds.
    UnknownPermission,
    /// A Cedar `forbid` policy matched: it overrides every `permit` (feature `cedar`).
    Forbidden,
    /// A Cedar policy failed to evaluate (an overflow, say). Cedar would skip that policy,
    /// which for a `forbid` means allowing; this crate denies instead (feature `cedar`).
    EvaluationError,
}

/// The answer of [`Policy::check`](crate::Policy::check) and of every
/// [`Authorizer`](crate::Authorizer). Not `#[non_exhaustive]`: callers match it exhaustively.
///
/// ```
/// use rampart_authz::{Decision, DenyReason, Grant, Policy, Principal};
/// let policy = Policy::from_toml(r#"
///     permissions = ["reports:read"]
///     [roles.viewer]
///     permissions = ["reports:read"]
/// "#)?;
/// let ann = Principal::new("ann").with_roles(["viewer"]);
/// assert_eq!(policy.check(&ann, "reports:read"), Decision::Allowed { by: Grant::Role("viewer") });
/// let bob = Principal::new("bob");
/// assert_eq!(
///     policy.check(&bob, "reports:read"),
///     Decision::Denied { missing: "reports:read", reason: DenyReason::NotGranted },
/// );
/// # Ok::<(), rampart_authz::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Decision<'a> {
    /// The principal has the permission.
    Allowed {
        /// The role (the first in sorted order) or direct grant that has it.
        by: Grant<'a>,
    },
    /// The principal does not have the permission.
    Denied {
        /// The permission that was asked for.
        missing: &'a str,
        /// Not granted, or not declared by the policy at all.
        reason: DenyReason,
    },
}

impl Decision<'_> {
    /// True for [`Decision::Allowed`].
    ///
    /// ```
    /// use rampart_authz::{Decision, Grant};
    /// assert!(Decision::Allowed { by: Grant::Direct }.is_allowed());
    /// ```
    #[must_use]
    pub fn is_allowed(&self) -> bool {
        matches!(self, Self::Allowed { .. })
    }
}
