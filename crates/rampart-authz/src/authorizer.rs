//! The check every backend answers: the seam a service (or a web layer) is generic over.

use std::rc::Rc;
use std::sync::Arc;

use crate::{Decision, Policy, Principal};

/// Anything that decides whether a principal has a permission: the static role map
/// ([`Policy`]) and, with feature `cedar`, `CedarPolicy`. Code written against this trait
/// (a `require("reports:read")` layer, a handler) swaps one backend for the other without
/// a change.
///
/// A check never fails: whatever goes wrong inside a backend is a
/// [`Decision::Denied`] (fail closed).
///
/// ```
/// use rampart_authz::{Authorizer, Policy, Principal};
///
/// // Written once, for any backend.
/// fn can_export(authz: &dyn Authorizer, who: &Principal) -> bool {
///     authz.check(who, "reports:export").is_allowed()
/// }
///
/// let policy = Policy::from_toml(r#"
///     permissions = ["reports:export"]
///     [roles.analyst]
///     permissions = ["reports:export"]
/// "#)?;
/// assert!(can_export(&policy, &Principal::new("ann").with_roles(["analyst"])));
/// assert!(!can_export(&policy, &Principal::new("bob")));
/// # Ok::<(), rampart_authz::Error>(())
/// ```
pub trait Authorizer {
    /// Whether `principal` has `permission`, and what granted it or why not. A permission
    /// the backend does not declare is [`DenyReason::UnknownPermission`](crate::DenyReason).
    ///
    /// ```
    /// use rampart_authz::{Authorizer, Policy, Principal};
    /// let policy = Policy::from_toml(r#"permissions = ["reports:read"]"#)?;
    /// let authz: &dyn Authorizer = &policy;
    /// let key = Principal::from_scopes("rk_live_abc", ["reports:read"]);
    /// assert!(authz.check(&key, "reports:read").is_allowed());
    /// # Ok::<(), rampart_authz::Error>(())
    /// ```
    fn check<'a>(&'a self, principal: &'a Principal, permission: &'a str) -> Decision<'a>;
}

impl Authorizer for Policy {
    fn check<'a>(&'a self, principal: &'a Principal, permission: &'a str) -> Decision<'a> {
        Policy::check(self, principal, permission)
    }
}

// Shared handles (a policy swapped at reload behind an `Arc`, a boxed backend chosen from
// configuration) are authorizers too.
impl<A: Authorizer + ?Sized> Authorizer for &A {
    fn check<'a>(&'a self, principal: &'a Principal, permission: &'a str) -> Decision<'a> {
        (**self).check(principal, permission)
    }
}

impl<A: Authorizer + ?Sized> Authorizer for Box<A> {
    fn check<'a>(&'a self, principal: &'a Principal, permission: &'a str) -> Decision<'a> {
        (**self).check(principal, permission)
    }
}

impl<A: Authorizer + ?Sized> Authorizer for Arc<A> {
    fn check<'a>(&'a self, principal: &'a Principal, permission: &'a str) -> Decision<'a> {
        (**self).check(principal, permission)
    }
}

impl<A: Authorizer + ?Sized> Authorizer for Rc<A> {
    fn check<'a>(&'a self, principal: &'a Principal, permission: &'a str) -> Decision<'a> {
        (**self).check(principal, permission)
    }
}
