//! The Cedar backend: the same decisions as the static map for an equivalent policy set,
//! forbid overriding, policy ids in decisions, and policy text refused with typed errors.
#![cfg(feature = "cedar")]

use std::sync::Arc;

use proptest::prelude::*;
use rampart_authz::{
    Authorizer, CedarPolicy, Decision, DenyReason, Grant, MAX_CEDAR_NESTING, MAX_CEDAR_OPERATORS,
    MAX_POLICY_LEN, Policy, Principal,
};

const PERMISSIONS: [&str; 4] = [
    "reports:read",
    "reports:write",
    "reports:export:csv",
    "dashboards:billing",
];

fn static_map() -> Policy {
    Policy::from_toml(
        r#"
        permissions = ["reports:read", "reports:write", "reports:export:csv", "dashboards:billing"]
        [roles.viewer]
        permissions = ["reports:read"]
        [roles.billing]
        permissions = ["dashboards:billing"]
        [roles.editor]
        inherits = ["viewer"]
        permissions = ["reports:write"]
        [roles.admin]
        inherits = ["editor", "billing"]
        permissions = ["reports:*"]
        "#,
    )
    .unwrap()
}

/// The static map written in Cedar: inheritance spelled out as the roles that hold each
/// permission, direct grants as the one scopes policy.
const EQUIVALENT: &str = r#"
    @id("read")
    permit(principal, action == Action::"reports:read", resource)
        when { principal in [Role::"viewer", Role::"editor", Role::"admin"] };
    @id("write")
    permit(principal, action == Action::"reports:write", resource)
        when { principal in [Role::"editor", Role::"admin"] };
    @id("export")
    permit(principal in Role::"admin", action == Action::"reports:export:csv", resource);
    @id("billing")
    permit(principal, action == Action::"dashboards:billing", resource)
        when { principal in [Role::"billing", Role::"admin"] };
    @id("scopes")
    permit(principal, action, resource) when { context.scopes.contains(context.permission) };
"#;

fn cedar(text: &str) -> CedarPolicy {
    CedarPolicy::from_cedar(text, PERMISSIONS).unwrap()
}

/// Allowed or the deny reason: what both backends must agree on (the granting role or
/// policy id differ by design).
fn outcome(d: Decision<'_>) -> Result<(), DenyReason> {
    match d {
        Decision::Allowed { .. } => Ok(()),
        Decision::Denied { reason, .. } => Err(reason),
    }
}

fn scenarios() -> Vec<Principal> {
    vec![
        Principal::new("nobody"),
        Principal::new("vera").with_roles(["viewer"]),
        Principal::new("ed").with_roles(["editor"]),
        Principal::new("bill").with_roles(["billing"]),
        Principal::new("root").with_roles(["admin"]),
        Principal::new("mix").with_roles(["viewer", "billing"]),
        Principal::new("ghost").with_roles(["no-such-role"]),
        Principal::from_scopes("rk_live_1", ["reports:export:csv"]),
        Principal::from_scopes("rk_live_2", ["reports:read", "reports:delete"]),
        Principal::new("both")
            .with_roles(["viewer"])
            .with_scopes(["dashboards:billing"]),
    ]
}

#[test]
fn same_scenarios_are_decided_equally_by_the_static_map_and_the_equivalent_cedar_policies() {
    let backends: [Box<dyn Authorizer>; 2] = [Box::new(static_map()), Box::new(cedar(EQUIVALENT))];
    let mut asked = PERMISSIONS.to_vec();
    asked.extend(["reports:delete", "reports:*", ""]);
    let mut allowed = 0;
    for who in scenarios() {
        for permission in &asked {
            let [a, b] = &backends;
            let (s, c) = (a.check(&who, permission), b.check(&who, permission));
            assert_eq!(outcome(s), outcome(c), "{who:?} asking {permission:?}");
            allowed += usize::from(s.is_allowed());
        }
    }
    // The grid exercises both answers, not only denials.
    assert!(allowed >= 12, "only {allowed} allowed");
}

fn arb_principal() -> impl Strategy<Value = Principal> {
    let roles =
        prop::sample::subsequence(vec!["viewer", "editor", "billing", "admin", "other"], 0..=3);
    let scopes = prop::sample::subsequence(
        vec![
            "reports:read",
            "reports:write",
            "reports:export:csv",
            "dashboards:billing",
            "x:y",
        ],
        0..=2,
    );
    (roles, scopes).prop_map(|(r, s)| Principal::new("p").with_roles(r).with_scopes(s))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_principal_is_decided_equally_by_both_backends(who in arb_principal()) {
        let (s, c) = (static_map(), cedar(EQUIVALENT));
        for permission in PERMISSIONS.iter().chain(&["reports:delete"]) {
            prop_assert_eq!(outcome(s.check(&who, permission)), outcome(c.check(&who, permission)));
        }
    }

    #[test]
    fn arbitrary_policy_text_is_an_error_or_a_policy_never_a_panic(text in ".{0,200}") {
        let _ = CedarPolicy::from_cedar(&text, PERMISSIONS);
    }

    #[test]
    fn policy_like_text_is_an_error_or_a_policy_never_a_panic(
        text in r#"(@id\("[a-z]{0,3}"\) )?(permit|forbid)\((principal|principal in Role::"[a-z]{0,3}"|\?principal), ?(action|action == Action::"[a-z:]{0,14}"), ?resource\)( when \{ [a-z.()"! =&|]{0,30} \})?;?"#
    ) {
        let _ = CedarPolicy::from_cedar(&text, PERMISSIONS);
    }
}

#[test]
fn allowed_decision_names_the_permitting_policy() {
    let c = cedar(EQUIVALENT);
    let ed = Principal::new("ed").with_roles(["editor"]);
    assert_eq!(
        c.check(&ed, "reports:write"),
        Decision::Allowed {
            by: Grant::Policy("write")
        }
    );
    let key = Principal::from_scopes("rk_live_1", ["reports:export:csv"]);
    assert_eq!(
        c.check(&key, "reports:export:csv"),
        Decision::Allowed {
            by: Grant::Policy("scopes")
        }
    );
}

#[test]
fn of_several_permitting_policies_the_smallest_id_is_named() {
    let c = cedar(EQUIVALENT);
    // "read" (the role) and "scopes" (the direct grant) both permit.
    let both = Principal::new("x")
        .with_roles(["viewer"])
        .with_scopes(["reports:read"]);
    for _ in 0..20 {
        assert_eq!(
            c.check(&both, "reports:read"),
            Decision::Allowed {
                by: Grant::Policy("read")
            }
        );
    }
}

#[test]
fn policies_without_an_id_annotation_are_named_in_text_order() {
    let c = cedar(
        r#"permit(principal in Role::"a", action, resource);
           permit(principal in Role::"b", action, resource);"#,
    );
    let b = Principal::new("b").with_roles(["b"]);
    assert_eq!(
        c.check(&b, "reports:read"),
        Decision::Allowed {
            by: Grant::Policy("policy1")
        }
    );
    assert_eq!(c.policy_ids(), ["policy0", "policy1"]);
}

#[test]
fn no_matching_permit_is_not_granted() {
    let c = cedar(EQUIVALENT);
    let vera = Principal::new("vera").with_roles(["viewer"]);
    assert_eq!(
        c.check(&vera, "reports:write"),
        Decision::Denied {
            missing: "reports:write",
            reason: DenyReason::NotGranted
        }
    );
}

#[test]
fn forbid_overrides_a_permit_from_a_role() {
    let text = format!(
        r#"{EQUIVALENT}
        @id("contractors-never-export")
        forbid(principal in Role::"contractor", action == Action::"reports:export:csv", resource);"#
    );
    let c = cedar(&text);
    let admin = Principal::new("root").with_roles(["admin"]);
    assert!(c.check(&admin, "reports:export:csv").is_allowed());
    let contractor_admin = Principal::new("cora").with_roles(["admin", "contractor"]);
    assert_eq!(
        c.check(&contractor_admin, "reports:export:csv"),
        Decision::Denied {
            missing: "reports:export:csv",
            reason: DenyReason::Forbidden
        }
    );
    // Only the forbidden action: the same principal still reads.
    assert!(c.check(&contractor_admin, "reports:read").is_allowed());
}

#[test]
fn forbid_overrides_an_api_key_scope() {
    let text = format!(
        r#"{EQUIVALENT}
        forbid(principal, action == Action::"dashboards:billing", resource)
            unless {{ principal in Role::"billing" }};"#
    );
    let c = cedar(&text);
    let key = Principal::from_scopes("rk_live_1", ["dashboards:billing"]);
    assert_eq!(
        c.check(&key, "dashboards:billing"),
        Decision::Denied {
            missing: "dashboards:billing",
            reason: DenyReason::Forbidden
        }
    );
    let bill = Principal::new("bill").with_roles(["billing"]);
    assert!(c.check(&bill, "dashboards:billing").is_allowed());
}

#[test]
fn undeclared_permission_is_unknown_even_under_a_permit_all_policy() {
    let c = cedar("permit(principal, action, resource);");
    let anyone = Principal::new("anyone").with_scopes(["reports:delete"]);
    assert!(c.check(&anyone, "reports:read").is_allowed());
    assert_eq!(
        c.check(&anyone, "reports:delete"),
        Decision::Denied {
            missing: "reports:delete",
            reason: DenyReason::UnknownPermission
        }
    );
}

#[test]
fn role_and_subject_names_are_data_not_policy_text() {
    let c = cedar(EQUIVALENT);
    // A role name that would be an injection if it were pasted into policy text.
    let sly = Principal::new(r#"x" || true || ""#).with_roles([
        r#"admin"] || principal in [Role::"viewer"#,
        "Admin",
        "admin ",
    ]);
    for permission in PERMISSIONS {
        assert_eq!(
            outcome(c.check(&sly, permission)),
            Err(DenyReason::NotGranted),
            "{permission}"
        );
    }
}

#[test]
fn a_policy_that_fails_to_evaluate_denies_even_where_cedar_would_skip_it() {
    // 2^62 + 2^62 overflows: Cedar skips the erroring forbid, which alone would allow.
    let c = cedar(
        r#"@id("all") permit(principal, action, resource);
           @id("overflow") forbid(principal, action, resource) when { 4611686018427387904 + 4611686018427387904 > 0 };"#,
    );
    assert_eq!(
        c.check(&Principal::new("ann"), "reports:read"),
        Decision::Denied {
            missing: "reports:read",
            reason: DenyReason::EvaluationError
        }
    );
}

#[test]
fn both_backends_are_shareable_trait_objects() {
    let backends: Vec<Arc<dyn Authorizer + Send + Sync>> =
        vec![Arc::new(static_map()), Arc::new(cedar(EQUIVALENT))];
    let vera = Principal::new("vera").with_roles(["viewer"]);
    for b in backends {
        let b2 = Arc::clone(&b);
        let handle = std::thread::spawn(move || {
            b2.check(&Principal::new("t").with_roles(["viewer"]), "reports:read")
                .is_allowed()
        });
        assert!(handle.join().unwrap());
        assert!(b.check(&vera, "reports:read").is_allowed());
    }
}

fn err_kind(text: &str) -> &'static str {
    CedarPolicy::from_cedar(text, PERMISSIONS)
        .unwrap_err()
        .kind()
}

#[test]
fn malformed_policy_text_is_a_typed_parse_error() {
    for text in [
        "permit(",
        "permit(principal, action, resource)", // no semicolon
        "allow(principal, action, resource);",
        r#"permit(principal, action, resource) when { context.scopes.contains( };"#,
        "\u{0}\u{ffff}",
        "@id(\"x\"",
    ] {
        assert_eq!(err_kind(text), "cedar_parse", "{text:?}");
    }
    let err = CedarPolicy::from_cedar("permit(", PERMISSIONS).unwrap_err();
    assert!(std::error::Error::source(&err).is_some());
}

#[test]
fn misspelt_action_is_refused_at_load_by_validation() {
    assert_eq!(
        err_kind(r#"permit(principal, action == Action::"reports:raed", resource);"#),
        "cedar_validation"
    );
}

#[test]
fn unknown_context_field_and_entity_type_are_refused_by_validation() {
    assert_eq!(
        err_kind(r#"permit(principal, action, resource) when { context.scops.contains("a") };"#),
        "cedar_validation"
    );
    assert_eq!(
        err_kind(r#"permit(principal in Group::"ops", action, resource);"#),
        "cedar_validation"
    );
    // A type error: a set compared with a string.
    assert_eq!(
        err_kind(
            r#"permit(principal, action, resource) when { context.scopes == "reports:read" };"#
        ),
        "cedar_validation"
    );
}

#[test]
fn templates_are_refused() {
    assert_eq!(
        err_kind("permit(principal == ?principal, action, resource);"),
        "cedar_template"
    );
}

#[test]
fn duplicate_policy_ids_are_refused() {
    assert_eq!(
        err_kind(
            r#"@id("a") permit(principal in Role::"x", action, resource);
               @id("a") permit(principal in Role::"y", action, resource);"#
        ),
        "cedar_duplicate_id"
    );
}

#[test]
fn invalid_and_too_many_permissions_are_refused() {
    let err = CedarPolicy::from_cedar("", ["reports read"]).unwrap_err();
    assert_eq!(err.kind(), "invalid_permission");
    let many: Vec<String> = (0..=rampart_authz::MAX_PERMISSIONS)
        .map(|i| format!("p:{i}"))
        .collect();
    assert_eq!(
        CedarPolicy::from_cedar("", many).unwrap_err().kind(),
        "too_many"
    );
}

#[test]
fn oversized_policy_text_is_refused_before_parsing() {
    let text = " ".repeat(MAX_POLICY_LEN + 1);
    assert_eq!(err_kind(&text), "too_large");
}

#[test]
fn deeply_nested_policy_text_is_refused_before_it_can_overflow_the_stack() {
    let nested = |depth: usize| {
        format!(
            "permit(principal, action, resource) when {{ {}true{} }};",
            "(".repeat(depth),
            ")".repeat(depth)
        )
    };
    // `permit(..)` is closed by then: `{` is the one level around the parentheses.
    assert!(CedarPolicy::from_cedar(&nested(MAX_CEDAR_NESTING - 1), PERMISSIONS).is_ok());
    assert_eq!(err_kind(&nested(MAX_CEDAR_NESTING)), "cedar_too_complex");
    // The worst that fits the size limit: 500 000 levels overflowed the stack before the check.
    assert_eq!(
        err_kind(&nested((MAX_POLICY_LEN - 64) / 2)),
        "cedar_too_complex"
    );
    // Brackets inside strings and comments are text, not nesting.
    let quoted = format!(
        "permit(principal, action, resource) when {{ context.permission != \"{}\" }}; // {}\n",
        "(".repeat(100),
        "[".repeat(100)
    );
    assert!(CedarPolicy::from_cedar(&quoted, PERMISSIONS).is_ok());
}

/// The longest expressions the limits let through load and evaluate on a 2 MiB test thread.
#[test]
fn the_longest_expressions_allowed_load_and_evaluate_without_overflow() {
    let ann = Principal::new("ann").with_roles(["viewer"]);
    // n alternatives `context.permission == "p"` joined by `||`: 3n + 2(n - 1) operator
    // characters, the last alternative the one that matches.
    let chain = |n: usize| {
        let mut alternatives: Vec<String> = (1..n)
            .map(|i| format!("context.permission == \"p{i}\""))
            .collect();
        alternatives.push("context.permission == \"reports:read\"".to_owned());
        format!(
            "permit(principal, action, resource) when {{ {} }};",
            alternatives.join(" || ")
        )
    };
    let longest = (MAX_CEDAR_OPERATORS + 2) / 5;
    let c = cedar(&chain(longest));
    assert!(c.check(&ann, "reports:read").is_allowed());
    assert!(!c.check(&ann, "reports:write").is_allowed());
    assert_eq!(err_kind(&chain(longest + 1)), "cedar_too_complex");

    let unary = |n: usize| {
        format!(
            "permit(principal, action, resource) when {{ {}true }};",
            "!".repeat(n)
        )
    };
    // Cedar caps chains of unary operators itself.
    assert_eq!(err_kind(&unary(MAX_CEDAR_OPERATORS - 8)), "cedar_parse");
    assert_eq!(
        err_kind(&unary(MAX_CEDAR_OPERATORS + 1)),
        "cedar_too_complex"
    );

    let ifs = MAX_CEDAR_OPERATORS / 2;
    let nested_if = format!(
        "permit(principal, action, resource) when {{ {}true{} }};",
        "if true then ".repeat(ifs),
        " else false".repeat(ifs)
    );
    let c = cedar(&nested_if);
    // Too deep for Cedar's evaluator, which stops with an error rather than overflow: denied.
    assert_eq!(
        c.check(&ann, "reports:read"),
        Decision::Denied {
            missing: "reports:read",
            reason: DenyReason::EvaluationError
        }
    );
}

#[test]
fn empty_policy_text_denies_everything() {
    let c = cedar("");
    let root = Principal::new("root")
        .with_roles(["admin"])
        .with_scopes(PERMISSIONS);
    for permission in PERMISSIONS {
        assert_eq!(
            outcome(c.check(&root, permission)),
            Err(DenyReason::NotGranted)
        );
    }
}
