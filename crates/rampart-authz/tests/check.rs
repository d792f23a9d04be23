//! Decisions: which role or direct grant allowed, which permission is missing, and that an
//! undeclared permission is never allowed.

use rampart_authz::{Decision, DenyReason, Grant, Policy, Principal, RoleMapping};

fn policy() -> Policy {
    Policy::from_toml(
        r#"
        permissions = ["reports:read", "reports:write", "dashboards:billing"]
        [roles.viewer]
        permissions = ["reports:read"]
        [roles.billing]
        permissions = ["dashboards:billing"]
        [roles.admin]
        inherits = ["viewer", "billing"]
        permissions = ["reports:write"]
        [tenants.acme.mappings]
        "groups=admins" = "admin"
        "groups=finance" = "billing"
        [tenants.globex.mappings]
        "http://schemas.xmlsoap.org/claims/Group=Finance Team" = "billing"
        "#,
    )
    .unwrap()
}

#[test]
fn allowed_decision_names_the_granting_role() {
    let p = policy();
    let ann = Principal::new("ann").with_roles(["billing"]);
    assert_eq!(
        p.check(&ann, "dashboards:billing"),
        Decision::Allowed {
            by: Grant::Role("billing")
        }
    );
}

#[test]
fn inherited_permission_is_granted_by_the_role_held_not_the_ancestor() {
    let p = policy();
    let root = Principal::new("root").with_roles(["admin"]);
    assert_eq!(
        p.check(&root, "reports:read"),
        Decision::Allowed {
            by: Grant::Role("admin")
        }
    );
}

#[test]
fn of_several_granting_roles_the_first_in_name_order_is_named() {
    let p = policy();
    let both = Principal::new("x").with_roles(["viewer", "admin"]);
    assert_eq!(
        p.check(&both, "reports:read"),
        Decision::Allowed {
            by: Grant::Role("admin")
        }
    );
}

#[test]
fn denied_decision_names_the_missing_permission() {
    let p = policy();
    let ann = Principal::new("ann").with_roles(["viewer"]);
    let d = p.check(&ann, "reports:write");
    assert_eq!(
        d,
        Decision::Denied {
            missing: "reports:write",
            reason: DenyReason::NotGranted
        }
    );
    assert!(!d.is_allowed());
}

#[test]
fn api_key_scope_is_a_direct_grant() {
    let p = policy();
    let key = Principal::from_scopes("rk_live_1", ["reports:write"]);
    assert_eq!(
        p.check(&key, "reports:write"),
        Decision::Allowed { by: Grant::Direct }
    );
    assert!(!p.check(&key, "reports:read").is_allowed());
}

#[test]
fn undeclared_permission_is_denied_even_when_held_directly() {
    let p = policy();
    let key = Principal::from_scopes("rk_live_1", ["reports:delete"]).with_roles(["admin"]);
    assert_eq!(
        p.check(&key, "reports:delete"),
        Decision::Denied {
            missing: "reports:delete",
            reason: DenyReason::UnknownPermission
        }
    );
}

#[test]
fn wildcard_text_in_a_check_is_an_unknown_permission_not_a_match() {
    let p = policy();
    let root = Principal::new("root").with_roles(["admin"]);
    assert_eq!(
        p.check(&root, "reports:*"),
        Decision::Denied {
            missing: "reports:*",
            reason: DenyReason::UnknownPermission
        }
    );
}

#[test]
fn role_the_policy_does_not_define_grants_nothing() {
    let p = policy();
    let x = Principal::new("x").with_roles(["superuser"]);
    assert!(!p.check(&x, "reports:read").is_allowed());
}

#[test]
fn saml_groups_map_to_roles_per_tenant() {
    let p = policy();
    let attributes = vec![
        ("mail".to_owned(), vec!["ann@acme.example".to_owned()]),
        (
            "groups".to_owned(),
            vec!["finance".to_owned(), "everyone".to_owned()],
        ),
    ];
    let roles = p.mapping("acme").unwrap().roles_for(attributes.clone());
    assert_eq!(
        roles.iter().map(String::as_str).collect::<Vec<_>>(),
        ["billing"]
    );
    let ann = Principal::new("ann").with_roles(roles);
    assert_eq!(
        p.check(&ann, "dashboards:billing"),
        Decision::Allowed {
            by: Grant::Role("billing")
        }
    );
    // The same groups mean nothing at another tenant.
    assert!(
        p.mapping("globex")
            .unwrap()
            .roles_for(attributes)
            .is_empty()
    );
    assert!(p.mapping("initech").is_none());
}

#[test]
fn saml_attribute_names_with_uris_and_values_with_spaces_map_exactly() {
    let p = policy();
    let globex = p.mapping("globex").unwrap();
    let name = "http://schemas.xmlsoap.org/claims/Group";
    assert!(
        globex
            .roles_for([(name, ["Finance Team"])])
            .contains("billing")
    );
    assert!(
        globex.roles_for([(name, ["finance team"])]).is_empty(),
        "no case folding"
    );
    assert!(
        globex.roles_for([(name, [" Finance Team"])]).is_empty(),
        "no trimming"
    );
}

#[test]
fn several_matching_values_add_up() {
    let p = policy();
    let roles = p
        .mapping("acme")
        .unwrap()
        .roles_for([("groups", ["admins", "finance"])]);
    assert_eq!(roles.into_iter().collect::<Vec<_>>(), ["admin", "billing"]);
}

#[test]
fn mapping_built_in_code_works_like_a_loaded_one() {
    let m = RoleMapping::new()
        .with("groups", "admins", "admin")
        .with("groups", "admins", "viewer");
    let roles = m.roles_for([("groups", ["admins"])]);
    assert_eq!(roles.into_iter().collect::<Vec<_>>(), ["admin", "viewer"]);
}
