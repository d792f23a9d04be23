//! SAML attributes to roles, per tenant.

use std::collections::{BTreeSet, HashMap};

/// Rules that turn identity-provider attributes into roles: "a principal whose attribute
/// `groups` has the value `admins` holds the role `admin`".
///
/// Attribute names and values are compared exactly as given (no trimming, no case folding):
/// they are what the IdP signed. A value matches a rule when it equals the rule's value;
/// several values of one attribute, and several rules, add up.
///
/// In a role map file the rules of tenant `acme` live under `[tenants.acme.mappings]`, each
/// `"attribute=value" = "role"` or `= ["role", ...]`, split at the first `=` (so values such
/// as `CN=Admins,OU=Groups` keep theirs); [`Policy::mapping`](crate::Policy::mapping) returns
/// them, checked against the map's roles.
///
/// ```
/// use rampart_authz::RoleMapping;
/// let mapping = RoleMapping::new()
///     .with("groups", "admins", "admin")
///     .with("groups", "staff", "viewer");
/// let roles = mapping.roles_for([("groups", ["staff", "admins", "other"])]);
/// assert_eq!(roles.into_iter().collect::<Vec<_>>(), ["admin", "viewer"]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleMapping {
    // attribute name -> value -> roles
    rules: HashMap<String, HashMap<String, BTreeSet<String>>>,
}

impl RoleMapping {
    /// No rules: maps every attribute to no role.
    ///
    /// ```
    /// assert!(rampart_authz::RoleMapping::new().roles_for([("groups", ["admins"])]).is_empty());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the rule `attribute=value -> role`.
    ///
    /// ```
    /// let m = rampart_authz::RoleMapping::new().with("department", "finance", "billing");
    /// assert!(m.roles_for([("department", ["finance"])]).contains("billing"));
    /// ```
    #[must_use]
    pub fn with(
        mut self,
        attribute: impl Into<String>,
        value: impl Into<String>,
        role: impl Into<String>,
    ) -> Self {
        self.insert(attribute.into(), value.into(), role.into());
        self
    }

    pub(crate) fn insert(&mut self, attribute: String, value: String, role: String) {
        self.rules
            .entry(attribute)
            .or_default()
            .entry(value)
            .or_default()
            .insert(role);
    }

    /// The roles `attributes` (pairs of attribute name and its values) map to, sorted.
    ///
    /// ```
    /// use rampart_authz::{Principal, RoleMapping};
    /// let m = RoleMapping::new().with("groups", "CN=Admins,OU=Groups", "admin");
    /// let from_idp: Vec<(String, Vec<String>)> =
    ///     vec![("groups".into(), vec!["CN=Admins,OU=Groups".into()])];
    /// let ann = Principal::new("ann").with_roles(m.roles_for(from_idp));
    /// assert_eq!(ann.roles().collect::<Vec<_>>(), ["admin"]);
    /// ```
    #[must_use]
    pub fn roles_for<I, N, V, S>(&self, attributes: I) -> BTreeSet<String>
    where
        I: IntoIterator<Item = (N, V)>,
        N: AsRef<str>,
        V: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut out = BTreeSet::new();
        for (name, values) in attributes {
            let Some(by_value) = self.rules.get(name.as_ref()) else {
                continue;
            };
            for value in values {
                if let Some(roles) = by_value.get(value.as_ref()) {
                    out.extend(roles.iter().cloned());
                }
            }
        }
        out
    }

    /// Every role some rule maps to, sorted.
    ///
    /// ```
    /// let m = rampart_authz::RoleMapping::new().with("g", "a", "admin").with("g", "b", "viewer");
    /// assert_eq!(m.roles().collect::<Vec<_>>(), ["admin", "viewer"]);
    /// ```
    pub fn roles(&self) -> impl Iterator<Item = &str> {
        let all: BTreeSet<&str> = self
            .rules
            .values()
            .flat_map(HashMap::values)
            .flatten()
            .map(String::as_str)
            .collect();
        all.into_iter()
    }
}
