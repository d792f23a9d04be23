//! The role map: loaded, validated, flattened; and the check.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};

use crate::permission::{is_valid_permission, wildcard_prefix};
use crate::{Decision, DenyReason, Error, Grant, Principal, RoleMapping};

/// Longest role map accepted by [`Policy::from_toml`] and [`Policy::from_json`], in bytes.
pub const MAX_POLICY_LEN: usize = 1024 * 1024;
/// Most declared permissions.
pub const MAX_PERMISSIONS: usize = 4096;
/// Most roles.
pub const MAX_ROLES: usize = 1024;
/// Most tenants with attribute mappings.
pub const MAX_TENANTS: usize = 4096;
/// Most mapping rules per tenant.
pub const MAX_RULES: usize = 1024;
/// Most roles in one chain of inheritance (a role that inherits nothing is a chain of 1).
pub const MAX_INHERITANCE_DEPTH: usize = 32;

/// A validated role map: declared permissions, roles flattened to the set of permissions
/// each has (its own, its wildcards expanded, and everything it inherits), and per-tenant
/// attribute mappings. A check is one hash lookup for the permission's declaration, one for
/// a direct grant, and one per role the principal holds.
///
/// ```
/// use rampart_authz::{Policy, Principal};
/// let policy = Policy::from_json(r#"{
///     "permissions": ["reports:read", "reports:write"],
///     "roles": {
///         "viewer": { "permissions": ["reports:read"] },
///         "editor": { "inherits": ["viewer"], "permissions": ["reports:write"] }
///     }
/// }"#)?;
/// let ed = Principal::new("ed").with_roles(["editor"]);
/// assert!(policy.check(&ed, "reports:read").is_allowed());
/// # Ok::<(), rampart_authz::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Policy {
    permissions: HashSet<String>,
    roles: HashMap<String, HashSet<String>>,
    tenants: HashMap<String, RoleMapping>,
}

impl Policy {
    /// Loads a role map from TOML and validates it (see the crate docs for the format).
    ///
    /// # Errors
    ///
    /// [`Error::TooLarge`], [`Error::Toml`] for bad syntax, unknown keys or duplicate
    /// keys, and every validation error: [`Error::InvalidPermission`],
    /// [`Error::InvalidRoleName`], [`Error::UnknownPermission`], [`Error::EmptyWildcard`],
    /// [`Error::UnknownRole`], [`Error::Cycle`], [`Error::TooDeep`],
    /// [`Error::UnknownMappedRole`], [`Error::InvalidMappingRule`], [`Error::TooMany`].
    ///
    /// ```
    /// let err = rampart_authz::Policy::from_toml(r#"
    ///     permissions = []
    ///     [roles.a]
    ///     inherits = ["b"]
    ///     [roles.b]
    ///     inherits = ["a"]
    /// "#).unwrap_err();
    /// assert_eq!(err.to_string(), "role inheritance cycle: a -> b -> a");
    /// ```
    pub fn from_toml(text: &str) -> Result<Self, Error> {
        check_len(text.len())?;
        let raw: RawPolicy = toml::from_str(text).map_err(Error::Toml)?;
        raw.validate()
    }

    /// Loads a role map from JSON (the same shape as the TOML form) and validates it.
    ///
    /// # Errors
    ///
    /// As [`Policy::from_toml`], with [`Error::Json`] in place of [`Error::Toml`].
    ///
    /// ```
    /// let err = rampart_authz::Policy::from_json(
    ///     r#"{"permissions": ["reports:read"], "roles": {"ops": {"permissions": ["reports:write"]}}}"#,
    /// ).unwrap_err();
    /// assert_eq!(err.kind(), "unknown_permission");
    /// ```
    pub fn from_json(text: &str) -> Result<Self, Error> {
        check_len(text.len())?;
        let raw: RawPolicy = serde_json::from_str(text).map_err(Error::Json)?;
        raw.validate()
    }

    /// Whether `principal` has `permission`: directly (if the policy declares it) or
    /// through one of its roles. A permission the policy does not declare is denied with
    /// [`DenyReason::UnknownPermission`], whatever the principal holds.
    ///
    /// ```
    /// use rampart_authz::{Decision, DenyReason, Grant, Policy, Principal};
    /// let policy = Policy::from_toml(r#"permissions = ["reports:read"]"#)?;
    /// let key = Principal::from_scopes("rk_live_abc", ["reports:read", "reports:delete"]);
    /// assert_eq!(policy.check(&key, "reports:read"), Decision::Allowed { by: Grant::Direct });
    /// assert_eq!(
    ///     policy.check(&key, "reports:delete"),
    ///     Decision::Denied { missing: "reports:delete", reason: DenyReason::UnknownPermission },
    /// );
    /// # Ok::<(), rampart_authz::Error>(())
    /// ```
    pub fn check<'a>(&'a self, principal: &'a Principal, permission: &'a str) -> Decision<'a> {
        if !self.permissions.contains(permission) {
            return Decision::Denied {
                missing: permission,
                reason: DenyReason::UnknownPermission,
            };
        }
        if principal.has_direct(permission) {
            return Decision::Allowed { by: Grant::Direct };
        }
        for role in principal.roles() {
            if self
                .roles
                .get(role)
                .is_some_and(|granted| granted.contains(permission))
            {
                return Decision::Allowed {
                    by: Grant::Role(role),
                };
            }
        }
        Decision::Denied {
            missing: permission,
            reason: DenyReason::NotGranted,
        }
    }

    /// True when the policy declares `permission`.
    ///
    /// ```
    /// let policy = rampart_authz::Policy::from_toml(r#"permissions = ["reports:read"]"#)?;
    /// assert!(policy.declares("reports:read"));
    /// assert!(!policy.declares("reports:write"));
    /// # Ok::<(), rampart_authz::Error>(())
    /// ```
    #[must_use]
    pub fn declares(&self, permission: &str) -> bool {
        self.permissions.contains(permission)
    }

    /// The flattened permissions of `role` (its own and inherited, wildcards expanded),
    /// sorted; `None` when the policy does not define the role.
    ///
    /// ```
    /// let policy = rampart_authz::Policy::from_toml(r#"
    ///     permissions = ["reports:read", "reports:write"]
    ///     [roles.editor]
    ///     permissions = ["reports:*"]
    /// "#)?;
    /// assert_eq!(policy.role_permissions("editor").unwrap(), ["reports:read", "reports:write"]);
    /// assert!(policy.role_permissions("nobody").is_none());
    /// # Ok::<(), rampart_authz::Error>(())
    /// ```
    #[must_use]
    pub fn role_permissions(&self, role: &str) -> Option<Vec<&str>> {
        let set = self.roles.get(role)?;
        let mut out: Vec<&str> = set.iter().map(String::as_str).collect();
        out.sort_unstable();
        Some(out)
    }

    /// The attribute mapping of `tenant` (from `[tenants.<id>.mappings]`), every role it
    /// names defined by this policy; `None` when the map has none for the tenant.
    ///
    /// ```
    /// use rampart_authz::{Policy, Principal};
    /// let policy = Policy::from_toml(r#"
    ///     permissions = ["reports:read"]
    ///     [roles.viewer]
    ///     permissions = ["reports:read"]
    ///     [tenants.acme.mappings]
    ///     "groups=staff" = "viewer"
    /// "#)?;
    /// let roles = policy.mapping("acme").unwrap().roles_for([("groups", ["staff"])]);
    /// let ann = Principal::new("ann").with_roles(roles);
    /// assert!(policy.check(&ann, "reports:read").is_allowed());
    /// assert!(policy.mapping("globex").is_none());
    /// # Ok::<(), rampart_authz::Error>(())
    /// ```
    #[must_use]
    pub fn mapping(&self, tenant: &str) -> Option<&RoleMapping> {
        self.tenants.get(tenant)
    }
}

fn check_len(len: usize) -> Result<(), Error> {
    if len > MAX_POLICY_LEN {
        return Err(Error::TooLarge {
            max: MAX_POLICY_LEN,
        });
    }
    Ok(())
}

// The wire form. Unknown keys are refused (a misspelt `inherit` must not silently grant
// less, or a misspelt `permisions` silently nothing), and so are duplicate keys: serde's
// maps keep the last of two JSON keys, which would let a second `"admin"` entry replace the
// first unnoticed.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    permissions: Vec<String>,
    #[serde(default)]
    roles: UniqueMap<RawRole>,
    #[serde(default)]
    tenants: UniqueMap<RawTenant>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRole {
    #[serde(default)]
    permissions: Vec<String>,
    #[serde(default)]
    inherits: Vec<String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTenant {
    #[serde(default)]
    mappings: UniqueMap<OneOrMany>,
}

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            Self::One(s) => vec![s],
            Self::Many(v) => v,
        }
    }
}

struct UniqueMap<V>(BTreeMap<String, V>);

impl<V> Default for UniqueMap<V> {
    fn default() -> Self {
        Self(BTreeMap::new())
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for UniqueMap<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V_<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for V_<V> {
            type Value = UniqueMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map with unique keys")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = BTreeMap::new();
                while let Some((k, v)) = map.next_entry::<String, V>()? {
                    if out.contains_key(&k) {
                        return Err(serde::de::Error::custom(format_args!(
                            "duplicate key {k:?}"
                        )));
                    }
                    out.insert(k, v);
                }
                Ok(UniqueMap(out))
            }
        }
        deserializer.deserialize_map(V_(PhantomData))
    }
}

impl RawPolicy {
    fn validate(self) -> Result<Policy, Error> {
        if self.permissions.len() > MAX_PERMISSIONS {
            return Err(too_many("permissions", MAX_PERMISSIONS));
        }
        if self.roles.0.len() > MAX_ROLES {
            return Err(too_many("roles", MAX_ROLES));
        }
        if self.tenants.0.len() > MAX_TENANTS {
            return Err(too_many("tenants", MAX_TENANTS));
        }
        let mut permissions = HashSet::with_capacity(self.permissions.len());
        for p in self.permissions {
            if !is_valid_permission(&p) {
                return Err(Error::InvalidPermission { permission: p });
            }
            permissions.insert(p);
        }
        // Sorted, so wildcard expansion and error order are the same on every run.
        let mut sorted: Vec<&str> = permissions.iter().map(String::as_str).collect();
        sorted.sort_unstable();

        // Each role's own permissions, wildcards expanded against the declared list.
        let mut own: BTreeMap<&str, HashSet<String>> = BTreeMap::new();
        for (name, role) in &self.roles.0 {
            if !is_valid_permission(name) {
                return Err(Error::InvalidRoleName { role: name.clone() });
            }
            if role.permissions.len() > MAX_PERMISSIONS {
                return Err(too_many("permissions", MAX_PERMISSIONS));
            }
            let mut set = HashSet::new();
            for p in &role.permissions {
                if let Some(prefix) = wildcard_prefix(p) {
                    let start = sorted.partition_point(|d| *d < prefix);
                    let matched = sorted[start..].iter().take_while(|d| d.starts_with(prefix));
                    let before = set.len();
                    set.extend(matched.map(|d| (*d).to_owned()));
                    // Nothing new can also mean "all already listed": ask the list itself.
                    if set.len() == before
                        && !sorted.get(start).is_some_and(|d| d.starts_with(prefix))
                    {
                        return Err(Error::EmptyWildcard {
                            role: name.clone(),
                            pattern: p.clone(),
                        });
                    }
                } else if !is_valid_permission(p) {
                    return Err(Error::InvalidPermission {
                        permission: p.clone(),
                    });
                } else if permissions.contains(p) {
                    set.insert(p.clone());
                } else {
                    return Err(Error::UnknownPermission {
                        role: name.clone(),
                        permission: p.clone(),
                    });
                }
            }
            for parent in &role.inherits {
                if !self.roles.0.contains_key(parent) {
                    return Err(Error::UnknownRole {
                        role: parent.clone(),
                        inherited_by: name.clone(),
                    });
                }
            }
            own.insert(name, set);
        }

        let mut flat = Flat {
            sets: HashMap::with_capacity(own.len()),
            depth: HashMap::with_capacity(own.len()),
        };
        for name in self.roles.0.keys() {
            let mut stack = Vec::new();
            flatten(name, &self.roles.0, &own, &mut flat, &mut stack)?;
        }
        let flat = flat.sets;

        let mut tenants = HashMap::with_capacity(self.tenants.0.len());
        for (tenant, raw) in self.tenants.0 {
            if raw.mappings.0.len() > MAX_RULES {
                return Err(too_many("mapping rules", MAX_RULES));
            }
            let mut mapping = RoleMapping::new();
            for (rule, roles) in raw.mappings.0 {
                let Some((attribute, value)) = rule.split_once('=') else {
                    return Err(Error::InvalidMappingRule { tenant, rule });
                };
                if attribute.is_empty() {
                    return Err(Error::InvalidMappingRule { tenant, rule });
                }
                let roles = roles.into_vec();
                if roles.len() > MAX_ROLES {
                    return Err(too_many("roles", MAX_ROLES));
                }
                for role in roles {
                    if !flat.contains_key(&role) {
                        return Err(Error::UnknownMappedRole { tenant, rule, role });
                    }
                    mapping.insert(attribute.to_owned(), value.to_owned(), role);
                }
            }
            tenants.insert(tenant, mapping);
        }

        Ok(Policy {
            permissions,
            roles: flat,
            tenants,
        })
    }
}

fn too_many(what: &'static str, max: usize) -> Error {
    Error::TooMany { what, max }
}

/// Flattened roles so far, and the length of each one's longest inheritance chain.
struct Flat {
    sets: HashMap<String, HashSet<String>>,
    depth: HashMap<String, usize>,
}

/// Depth-first flattening with the current chain on `stack`: a role met again on the stack
/// is a cycle (reported from its first appearance). A role already flattened is not walked
/// again, but its chain length still counts toward the depth limit of every chain above it;
/// the limit also bounds this function's recursion.
fn flatten<'a>(
    name: &'a str,
    roles: &'a BTreeMap<String, RawRole>,
    own: &BTreeMap<&str, HashSet<String>>,
    flat: &mut Flat,
    stack: &mut Vec<&'a str>,
) -> Result<usize, Error> {
    if let Some(at) = stack.iter().position(|r| *r == name) {
        let mut path: Vec<String> = stack[at..].iter().map(|r| (*r).to_owned()).collect();
        path.push(name.to_owned());
        return Err(Error::Cycle { path });
    }
    let depth = match flat.depth.get(name) {
        Some(&d) => d,
        None => {
            if stack.len() >= MAX_INHERITANCE_DEPTH {
                return Err(too_deep(stack));
            }
            stack.push(name);
            let mut set = own[name].clone();
            let mut below = 0;
            for parent in &roles[name].inherits {
                below = below.max(flatten(parent, roles, own, flat, stack)?);
                set.extend(flat.sets[parent.as_str()].iter().cloned());
            }
            stack.pop();
            flat.sets.insert(name.to_owned(), set);
            flat.depth.insert(name.to_owned(), below + 1);
            below + 1
        }
    };
    if stack.len() + depth > MAX_INHERITANCE_DEPTH {
        stack.push(name);
        return Err(too_deep(stack));
    }
    Ok(depth)
}

fn too_deep(stack: &[&str]) -> Error {
    Error::TooDeep {
        role: stack.first().copied().unwrap_or_default().to_owned(),
        max: MAX_INHERITANCE_DEPTH,
    }
}
