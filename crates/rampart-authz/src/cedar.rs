//! The Cedar backend (feature `cedar`): policies in the Cedar language behind the same
//! [`Authorizer`] check as the static role map.
//!
//! # The request a check builds
//!
//! | Cedar | from |
//! |---|---|
//! | `principal` | `User::"<subject>"`, member of `Role::"<role>"` for each role held |
//! | `action` | `Action::"<permission>"`, one action per declared permission |
//! | `resource` | `Service::"default"`: the check has no resource; leave `resource` unconstrained |
//! | `context.scopes` | the principal's direct grants (API-key scopes), a `Set<String>` |
//! | `context.permission` | the permission asked for, a `String` |
//!
//! Role inheritance is written in the policies (`when { principal in [Role::"viewer",
//! Role::"editor"] }`; Cedar's scope takes one entity, a condition a set), since roles are
//! the principal's parents and have no parents of their own. Direct grants are one policy:
//! `permit(principal, action, resource) when { context.scopes.contains(context.permission) };`.
//!
//! # What loading checks
//!
//! The policies are validated (Cedar's strict mode) against a schema made from the declared
//! permissions, so a misspelt action (`Action::"reports:raed"`), a misspelt context field or a
//! type error is refused at load with [`CedarError::Validation`], not discovered as a silent
//! deny. Templates (`?principal`) are refused: there is no linking step. A policy's id is its
//! `@id("...")` annotation, else Cedar's `policy0`, `policy1`, ... in text order.
//!
//! # Decisions
//!
//! Cedar's rules: a matching `forbid` overrides every `permit`
//! ([`DenyReason::Forbidden`]); no matching `permit` is [`DenyReason::NotGranted`]; an
//! undeclared permission is [`DenyReason::UnknownPermission`] before Cedar runs. One
//! departure, to fail closed: where Cedar skips a policy that errors while evaluating (which
//! for a `forbid` would allow), this backend denies with [`DenyReason::EvaluationError`].

use std::collections::HashMap;

use cedar_policy as cedar;

use crate::permission::is_valid_permission;
use crate::{Authorizer, Decision, DenyReason, Grant, MAX_PERMISSIONS, MAX_POLICY_LEN, Principal};

/// Most nested brackets (`(`, `[`, `{`) in Cedar policy text.
pub const MAX_CEDAR_NESTING: usize = 32;
/// Most operator characters (`! - + * < > = & | .`, each counted, and the words `if`, `in`,
/// `has`, `like`, `is`) in one policy. Bounds the depth of an expression tree, since a chain
/// `a || b || c ..` nests as deep as it is long.
pub const MAX_CEDAR_OPERATORS: usize = 1024;

/// Why Cedar policies were refused.
///
/// Policy text is configuration, not a secret: errors carry Cedar's own diagnostics (line,
/// column, what was expected) as typed sources.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CedarError {
    /// The policy text is longer than [`MAX_POLICY_LEN`] bytes.
    #[error("cedar policy text longer than {max} bytes")]
    TooLarge {
        /// The limit.
        max: usize,
    },
    /// A declared permission does not follow the API-key scope syntax.
    #[error("invalid permission {permission:?}: expected 1-128 of [A-Za-z0-9:._/-]")]
    InvalidPermission {
        /// The permission as given.
        permission: String,
    },
    /// More than [`MAX_PERMISSIONS`] declared permissions.
    #[error("too many permissions (at most {max})")]
    TooManyPermissions {
        /// The limit.
        max: usize,
    },
    /// A policy nests brackets deeper than [`MAX_CEDAR_NESTING`] or has more than
    /// [`MAX_CEDAR_OPERATORS`] operator characters: refused before Cedar's parser, whose
    /// recursion such text would overflow the stack with.
    #[error(
        "cedar policy too deep or too long an expression (at most {max_nesting} nested brackets, {max_operators} operator characters per policy)"
    )]
    TooComplex {
        /// [`MAX_CEDAR_NESTING`].
        max_nesting: usize,
        /// [`MAX_CEDAR_OPERATORS`].
        max_operators: usize,
    },
    /// The text is not Cedar policy syntax.
    #[error("invalid cedar policy text: {0}")]
    Parse(#[source] Box<cedar::ParseErrors>),
    /// The text holds a template (a policy with `?principal` or `?resource`).
    #[error("cedar template {id:?} is not supported: write static policies")]
    Template {
        /// The template's id.
        id: String,
    },
    /// Two policies have the same id (from `@id` annotations).
    #[error("two cedar policies have the id {id:?}")]
    DuplicateId {
        /// The repeated id.
        id: String,
        /// Cedar's error.
        #[source]
        source: Box<cedar::PolicySetError>,
    },
    /// The schema made from the declared permissions was refused by Cedar.
    #[error("cedar schema for the declared permissions: {0}")]
    Schema(#[source] Box<cedar::SchemaError>),
    /// The policies do not validate against the declared permissions (an undeclared action,
    /// an unknown context field or entity type, a type error).
    #[error("cedar policies do not validate: {0}")]
    Validation(#[source] Box<cedar::ValidationResult>),
}

impl CedarError {
    /// A stable, machine-readable name for the error; it does not change between releases.
    ///
    /// ```
    /// let err = rampart_authz::CedarPolicy::from_cedar("permit(", ["reports:read"]).unwrap_err();
    /// assert_eq!(err.kind(), "cedar_parse");
    /// ```
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "too_large",
            Self::InvalidPermission { .. } => "invalid_permission",
            Self::TooManyPermissions { .. } => "too_many",
            Self::TooComplex { .. } => "cedar_too_complex",
            Self::Parse(_) => "cedar_parse",
            Self::Template { .. } => "cedar_template",
            Self::DuplicateId { .. } => "cedar_duplicate_id",
            Self::Schema(_) => "cedar_schema",
            Self::Validation(_) => "cedar_validation",
        }
    }
}

/// Cedar policies validated against a set of declared permissions: the same check as
/// [`Policy`](crate::Policy), decided by Cedar (see the [module docs](self) for the request
/// a check builds).
///
/// ```
/// use rampart_authz::{Authorizer, CedarPolicy, Decision, DenyReason, Grant, Principal};
///
/// let policies = CedarPolicy::from_cedar(r#"
///     @id("viewers-read")
///     permit(principal, action == Action::"reports:read", resource)
///         when { principal in [Role::"viewer", Role::"admin"] };
///
///     @id("admins-write")
///     permit(principal in Role::"admin", action == Action::"reports:write", resource);
///
///     @id("api-key-scopes")
///     permit(principal, action, resource) when { context.scopes.contains(context.permission) };
///
///     @id("no-writes-by-contractors")
///     forbid(principal in Role::"contractor", action == Action::"reports:write", resource);
/// "#, ["reports:read", "reports:write"])?;
///
/// let ann = Principal::new("ann").with_roles(["viewer"]);
/// assert_eq!(policies.check(&ann, "reports:read"), Decision::Allowed { by: Grant::Policy("viewers-read") });
/// assert_eq!(
///     policies.check(&ann, "reports:write"),
///     Decision::Denied { missing: "reports:write", reason: DenyReason::NotGranted },
/// );
///
/// let eve = Principal::new("eve").with_roles(["admin", "contractor"]);
/// assert_eq!(
///     policies.check(&eve, "reports:write"),
///     Decision::Denied { missing: "reports:write", reason: DenyReason::Forbidden },
/// );
///
/// let key = Principal::from_scopes("rk_live_abc", ["reports:write"]);
/// assert_eq!(policies.check(&key, "reports:write"), Decision::Allowed { by: Grant::Policy("api-key-scopes") });
///
/// // Code written against the trait takes either backend.
/// let authz: &dyn Authorizer = &policies;
/// assert!(!authz.check(&key, "reports:delete").is_allowed());
/// # Ok::<(), rampart_authz::CedarError>(())
/// ```
#[derive(Debug)]
pub struct CedarPolicy {
    policies: cedar::PolicySet,
    // Declared permission -> its action, built once (parsing an entity type per check is
    // measurable next to a hash lookup).
    actions: HashMap<String, cedar::EntityUid>,
    user_type: cedar::EntityTypeName,
    role_type: cedar::EntityTypeName,
    resource: cedar::EntityUid,
    authorizer: cedar::Authorizer,
}

const USER: &str = "User";
const ROLE: &str = "Role";
const SERVICE: &str = "Service";
const ACTION: &str = "Action";
const RESOURCE_ID: &str = "default";

impl CedarPolicy {
    /// Parses Cedar policy text and validates it against the schema of `permissions` (each
    /// an API-key scope, each becoming an action).
    ///
    /// # Errors
    ///
    /// [`CedarError::TooLarge`], [`CedarError::InvalidPermission`],
    /// [`CedarError::TooManyPermissions`], [`CedarError::Parse`], [`CedarError::Template`],
    /// [`CedarError::DuplicateId`], [`CedarError::Validation`] (and
    /// [`CedarError::Schema`], which valid permissions do not cause).
    ///
    /// ```
    /// use rampart_authz::CedarPolicy;
    /// // A typo in an action is refused at load, not a silent deny at run time.
    /// let err = CedarPolicy::from_cedar(
    ///     r#"permit(principal, action == Action::"reports:raed", resource);"#,
    ///     ["reports:read"],
    /// ).unwrap_err();
    /// assert_eq!(err.kind(), "cedar_validation");
    /// ```
    pub fn from_cedar<I, S>(text: &str, permissions: I) -> Result<Self, CedarError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        if text.len() > MAX_POLICY_LEN {
            return Err(CedarError::TooLarge {
                max: MAX_POLICY_LEN,
            });
        }
        check_complexity(text)?;
        let names = |s: &str| {
            s.parse::<cedar::EntityTypeName>()
                .map_err(|e| CedarError::Parse(Box::new(e)))
        };
        let (user_type, role_type, action_type) = (names(USER)?, names(ROLE)?, names(ACTION)?);
        let mut actions = HashMap::new();
        for permission in permissions {
            let permission = permission.into();
            if !is_valid_permission(&permission) {
                return Err(CedarError::InvalidPermission { permission });
            }
            let uid = cedar::EntityUid::from_type_name_and_id(
                action_type.clone(),
                cedar::EntityId::new(&permission),
            );
            actions.insert(permission, uid);
            if actions.len() > MAX_PERMISSIONS {
                return Err(CedarError::TooManyPermissions {
                    max: MAX_PERMISSIONS,
                });
            }
        }

        let parsed: cedar::PolicySet = text.parse().map_err(|e| CedarError::Parse(Box::new(e)))?;
        if let Some(t) = parsed.templates().next() {
            return Err(CedarError::Template {
                id: t.id().to_string(),
            });
        }
        let mut policies = cedar::PolicySet::new();
        for policy in parsed.policies() {
            let policy = match policy.annotation("id") {
                Some(id) => policy.new_id(cedar::PolicyId::new(id)),
                None => policy.clone(),
            };
            let id = policy.id().to_string();
            policies
                .add(policy)
                .map_err(|source| CedarError::DuplicateId {
                    id,
                    source: Box::new(source),
                })?;
        }

        let schema = cedar::Schema::from_json_value(schema_json(actions.keys()))
            .map_err(|e| CedarError::Schema(Box::new(e)))?;
        let result =
            cedar::Validator::new(schema).validate(&policies, cedar::ValidationMode::Strict);
        if !result.validation_passed() {
            return Err(CedarError::Validation(Box::new(result)));
        }

        let resource = cedar::EntityUid::from_type_name_and_id(
            names(SERVICE)?,
            cedar::EntityId::new(RESOURCE_ID),
        );
        Ok(Self {
            policies,
            actions,
            user_type,
            role_type,
            resource,
            authorizer: cedar::Authorizer::new(),
        })
    }

    /// Whether `principal` has `permission` under these policies: the permission declared,
    /// some `permit` matching, no `forbid` matching, no policy failing to evaluate.
    ///
    /// ```
    /// use rampart_authz::{CedarPolicy, Decision, DenyReason, Principal};
    /// let policies = CedarPolicy::from_cedar(
    ///     r#"permit(principal in Role::"ops", action, resource);"#,
    ///     ["deploys:run"],
    /// )?;
    /// let ops = Principal::new("olga").with_roles(["ops"]);
    /// assert!(policies.check(&ops, "deploys:run").is_allowed());
    /// assert_eq!(
    ///     policies.check(&ops, "deploys:delete"),
    ///     Decision::Denied { missing: "deploys:delete", reason: DenyReason::UnknownPermission },
    /// );
    /// # Ok::<(), rampart_authz::CedarError>(())
    /// ```
    pub fn check<'a>(&'a self, principal: &'a Principal, permission: &'a str) -> Decision<'a> {
        let Some(action) = self.actions.get(permission) else {
            return denied(permission, DenyReason::UnknownPermission);
        };
        let Some(response) = self.evaluate(principal, permission, action) else {
            return denied(permission, DenyReason::EvaluationError);
        };
        let diagnostics = response.diagnostics();
        // The smallest id, so the answer is the same on every run (the reasons are a set).
        let deciding = diagnostics
            .reason()
            .filter_map(|id| self.policies.policy(id))
            .map(policy_id)
            .min();
        match (response.decision(), deciding) {
            // A Deny with reasons: the forbid policies that matched.
            (cedar::Decision::Deny, Some(_)) => denied(permission, DenyReason::Forbidden),
            _ if diagnostics.errors().next().is_some() => {
                denied(permission, DenyReason::EvaluationError)
            }
            (cedar::Decision::Allow, Some(id)) => Decision::Allowed {
                by: Grant::Policy(id),
            },
            // An Allow always has a reason; without one, deny rather than trust it.
            _ => denied(permission, DenyReason::NotGranted),
        }
    }

    /// True when `permission` is one of the declared permissions.
    ///
    /// ```
    /// let p = rampart_authz::CedarPolicy::from_cedar("", ["reports:read"])?;
    /// assert!(p.declares("reports:read"));
    /// assert!(!p.declares("reports:write"));
    /// # Ok::<(), rampart_authz::CedarError>(())
    /// ```
    #[must_use]
    pub fn declares(&self, permission: &str) -> bool {
        self.actions.contains_key(permission)
    }

    /// The policies' ids (from `@id`, else `policy0`, `policy1`, ...), sorted.
    ///
    /// ```
    /// let p = rampart_authz::CedarPolicy::from_cedar(
    ///     r#"@id("ops") permit(principal in Role::"ops", action, resource);
    ///        permit(principal in Role::"root", action, resource);"#,
    ///     ["deploys:run"],
    /// )?;
    /// assert_eq!(p.policy_ids(), ["ops", "policy1"]);
    /// # Ok::<(), rampart_authz::CedarError>(())
    /// ```
    #[must_use]
    pub fn policy_ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self.policies.policies().map(policy_id).collect();
        ids.sort_unstable();
        ids
    }

    /// Builds the request and runs Cedar; `None` when the request cannot be built (it can
    /// only fail on input this type never makes, such as duplicate context keys).
    fn evaluate(
        &self,
        principal: &Principal,
        permission: &str,
        action: &cedar::EntityUid,
    ) -> Option<cedar::Response> {
        let user = cedar::EntityUid::from_type_name_and_id(
            self.user_type.clone(),
            cedar::EntityId::new(principal.subject()),
        );
        let roles = principal
            .roles()
            .map(|r| {
                cedar::EntityUid::from_type_name_and_id(
                    self.role_type.clone(),
                    cedar::EntityId::new(r),
                )
            })
            .collect();
        let entities = cedar::Entities::from_entities(
            [cedar::Entity::new_no_attrs(user.clone(), roles)],
            None,
        )
        .ok()?;
        let scopes = principal
            .scopes()
            .map(|s| cedar::RestrictedExpression::new_string(s.to_owned()));
        let context = cedar::Context::from_pairs([
            (
                "scopes".to_owned(),
                cedar::RestrictedExpression::new_set(scopes),
            ),
            (
                "permission".to_owned(),
                cedar::RestrictedExpression::new_string(permission.to_owned()),
            ),
        ])
        .ok()?;
        // No schema here: the action was looked up among the declared ones and the context
        // has the schema's shape by construction; validating again per check costs time.
        let request =
            cedar::Request::new(user, action.clone(), self.resource.clone(), context, None).ok()?;
        Some(
            self.authorizer
                .is_authorized(&request, &self.policies, &entities),
        )
    }
}

impl Authorizer for CedarPolicy {
    fn check<'a>(&'a self, principal: &'a Principal, permission: &'a str) -> Decision<'a> {
        CedarPolicy::check(self, principal, permission)
    }
}

/// Refuses text whose nesting or expression size could overflow the stack in Cedar's
/// recursive parser, validator or evaluator (measured: 500 000 nested parentheses, within
/// [`MAX_POLICY_LEN`], overflow a test thread's 2 MiB stack). A lexer of Cedar's string
/// literals and `//` comments only; everything else is counted conservatively.
fn check_complexity(text: &str) -> Result<(), CedarError> {
    let too_complex = || CedarError::TooComplex {
        max_nesting: MAX_CEDAR_NESTING,
        max_operators: MAX_CEDAR_OPERATORS,
    };
    let bytes = text.as_bytes();
    let (mut depth, mut operators, mut i) = (0usize, 0usize, 0usize);
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => {
                // A string literal: skip to its closing quote, stepping over escapes.
                i += 1;
                while let Some(&c) = bytes.get(i) {
                    match c {
                        b'\\' => i += 2,
                        b'"' => break,
                        _ => i += 1,
                    }
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while bytes.get(i).is_some_and(|&c| c != b'\n') {
                    i += 1;
                }
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_CEDAR_NESTING {
                    return Err(too_complex());
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b';' => operators = 0,
            b'!' | b'-' | b'+' | b'*' | b'<' | b'>' | b'=' | b'&' | b'|' | b'.' => operators += 1,
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while bytes
                    .get(i + 1)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
                {
                    i += 1;
                }
                if matches!(
                    bytes.get(start..=i),
                    Some(b"if" | b"in" | b"has" | b"like" | b"is")
                ) {
                    operators += 1;
                }
            }
            _ => {}
        }
        if operators > MAX_CEDAR_OPERATORS {
            return Err(too_complex());
        }
        i += 1;
    }
    Ok(())
}

fn policy_id(policy: &cedar::Policy) -> &str {
    AsRef::<str>::as_ref(policy.id())
}

fn denied(permission: &str, reason: DenyReason) -> Decision<'_> {
    Decision::Denied {
        missing: permission,
        reason,
    }
}

/// The schema (Cedar's JSON schema format) of the request a check builds: one action per
/// permission, each applying to `User` principals and the `Service` resource with the
/// `{ scopes, permission }` context.
fn schema_json<'a>(permissions: impl Iterator<Item = &'a String>) -> serde_json::Value {
    let context = serde_json::json!({
        "type": "Record",
        "attributes": {
            "scopes": { "type": "Set", "element": { "type": "String" } },
            "permission": { "type": "String" },
        },
    });
    let actions: serde_json::Map<String, serde_json::Value> = permissions
        .map(|p| {
            (
                p.clone(),
                serde_json::json!({
                    "appliesTo": {
                        "principalTypes": [USER],
                        "resourceTypes": [SERVICE],
                        "context": context,
                    },
                }),
            )
        })
        .collect();
    serde_json::json!({
        "": {
            "entityTypes": {
                ROLE: {},
                USER: { "memberOfTypes": [ROLE] },
                SERVICE: {},
            },
            "actions": actions,
        }
    })
}
