//! Property tests: a principal with no roles and no scopes is denied everything, and a check
//! never allows a permission the policy does not declare.

use proptest::prelude::*;
use rampart_authz::{Decision, DenyReason, Policy, Principal};

fn policy() -> Policy {
    Policy::from_toml(
        r#"
        permissions = ["reports:read", "reports:write", "a", "b/c.d-e_f"]
        [roles.all]
        permissions = ["reports:*", "a", "b/c.d-e_f"]
        [tenants.t.mappings]
        "g=v" = "all"
        "#,
    )
    .unwrap()
}

proptest! {
    #[test]
    fn principal_with_no_roles_or_scopes_is_denied_everything(
        subject in ".*",
        permission in prop_oneof![
            Just("reports:read".to_owned()),
            Just("a".to_owned()),
            "[A-Za-z0-9:._/-]{1,128}",
            ".*",
        ],
    ) {
        let p = policy();
        let nobody = Principal::new(subject);
        let d = p.check(&nobody, &permission);
        prop_assert!(!d.is_allowed());
        let expected = if p.declares(&permission) {
            DenyReason::NotGranted
        } else {
            DenyReason::UnknownPermission
        };
        prop_assert_eq!(d, Decision::Denied { missing: permission.as_str(), reason: expected });
    }

    #[test]
    fn undeclared_permission_is_never_allowed(
        permission in ".*",
        roles in proptest::collection::vec("[a-z]{1,8}", 0..4),
    ) {
        let p = policy();
        prop_assume!(!p.declares(&permission));
        let everything = Principal::from_scopes("x", [permission.clone()])
            .with_roles(roles)
            .with_roles(["all"]);
        prop_assert_eq!(
            p.check(&everything, &permission),
            Decision::Denied { missing: permission.as_str(), reason: DenyReason::UnknownPermission }
        );
    }

    #[test]
    fn loaders_never_panic_on_arbitrary_text(text in ".{0,256}") {
        let _ = Policy::from_toml(&text);
        let _ = Policy::from_json(&text);
    }
}
