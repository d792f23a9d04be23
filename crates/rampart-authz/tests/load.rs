//! Loading role maps: valid maps in both formats, and every load error, each naming what
//! is wrong.

mod common;

use common::chain;
use rampart_authz::{Error, MAX_INHERITANCE_DEPTH, MAX_POLICY_LEN, MAX_ROLES, Policy, Principal};

const VALID_TOML: &str = r#"
permissions = ["reports:read", "reports:write", "reports:export:csv", "dashboards:billing"]

[roles.viewer]
permissions = ["reports:read"]

[roles.editor]
inherits = ["viewer"]
permissions = ["reports:write"]

[roles.admin]
inherits = ["editor"]
permissions = ["reports:*", "dashboards:billing"]

[tenants.acme.mappings]
"groups=admins" = "admin"
"groups=staff" = ["viewer", "editor"]
"memberOf=CN=Billing,OU=Groups" = "admin"
"#;

const VALID_JSON: &str = r#"{
  "permissions": ["reports:read", "reports:write", "reports:export:csv", "dashboards:billing"],
  "roles": {
    "viewer": { "permissions": ["reports:read"] },
    "editor": { "inherits": ["viewer"], "permissions": ["reports:write"] },
    "admin": { "inherits": ["editor"], "permissions": ["reports:*", "dashboards:billing"] }
  },
  "tenants": {
    "acme": { "mappings": {
      "groups=admins": "admin",
      "groups=staff": ["viewer", "editor"],
      "memberOf=CN=Billing,OU=Groups": "admin"
    } }
  }
}"#;

fn toml_err(text: &str) -> Error {
    Policy::from_toml(text).expect_err("must be refused")
}

#[test]
fn toml_and_json_forms_load_to_the_same_policy() {
    for policy in [
        Policy::from_toml(VALID_TOML).unwrap(),
        Policy::from_json(VALID_JSON).unwrap(),
    ] {
        assert_eq!(policy.role_permissions("viewer").unwrap(), ["reports:read"]);
        assert_eq!(
            policy.role_permissions("editor").unwrap(),
            ["reports:read", "reports:write"]
        );
        assert_eq!(
            policy.role_permissions("admin").unwrap(),
            [
                "dashboards:billing",
                "reports:export:csv",
                "reports:read",
                "reports:write"
            ]
        );
        let acme = policy.mapping("acme").unwrap();
        assert_eq!(
            acme.roles_for([("memberOf", ["CN=Billing,OU=Groups"])])
                .into_iter()
                .collect::<Vec<_>>(),
            ["admin"]
        );
        assert_eq!(
            acme.roles().collect::<Vec<_>>(),
            ["admin", "editor", "viewer"]
        );
    }
}

#[test]
fn a_map_with_only_permissions_loads_and_grants_nothing_by_role() {
    let policy = Policy::from_toml(r#"permissions = ["a:b"]"#).unwrap();
    assert!(policy.declares("a:b"));
    assert!(
        !policy
            .check(&Principal::new("x").with_roles(["admin"]), "a:b")
            .is_allowed()
    );
}

#[test]
fn missing_permissions_list_is_refused() {
    assert_eq!(
        toml_err("[roles.a]\npermissions = []").kind(),
        "invalid_toml"
    );
}

#[test]
fn invalid_toml_is_refused() {
    assert_eq!(toml_err("permissions = [").kind(), "invalid_toml");
}

#[test]
fn invalid_json_is_refused() {
    let err = Policy::from_json("{\"permissions\": [}").unwrap_err();
    assert_eq!(err.kind(), "invalid_json");
}

#[test]
fn misspelt_key_is_refused_not_ignored() {
    let err = toml_err("permissions = [\"a:b\"]\n[roles.x]\ninherit = [\"y\"]");
    assert_eq!(err.kind(), "invalid_toml");
    assert!(err.to_string().contains("inherit"), "{err}");
    let err = Policy::from_json(r#"{"permissions": [], "roles": {"x": {"permisions": []}}}"#)
        .unwrap_err();
    assert_eq!(err.kind(), "invalid_json");
}

#[test]
fn duplicate_json_role_is_refused_rather_than_last_one_wins() {
    let err = Policy::from_json(
        r#"{"permissions": ["a:b"], "roles": {"admin": {"permissions": ["a:b"]}, "admin": {}}}"#,
    )
    .unwrap_err();
    assert_eq!(err.kind(), "invalid_json");
    assert!(err.to_string().contains("duplicate key \"admin\""), "{err}");
}

#[test]
fn duplicate_json_mapping_rule_is_refused() {
    let err = Policy::from_json(
        r#"{"permissions": [], "roles": {"a": {}, "b": {}},
            "tenants": {"t": {"mappings": {"g=x": "a", "g=x": "b"}}}}"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("duplicate key \"g=x\""), "{err}");
}

#[test]
fn declared_permission_outside_scope_syntax_is_refused() {
    let err = toml_err(r#"permissions = ["reports read"]"#);
    assert!(
        matches!(&err, Error::InvalidPermission { permission } if permission == "reports read")
    );
    assert!(matches!(
        toml_err(r#"permissions = ["reports:*"]"#),
        Error::InvalidPermission { .. }
    ));
    assert!(matches!(
        toml_err(r#"permissions = [""]"#),
        Error::InvalidPermission { .. }
    ));
}

#[test]
fn role_permission_outside_scope_syntax_is_refused() {
    let err = toml_err("permissions = []\n[roles.a]\npermissions = [\"*\"]");
    assert!(
        matches!(&err, Error::InvalidPermission { permission } if permission == "*"),
        "{err}"
    );
}

#[test]
fn invalid_role_name_is_refused() {
    let err = toml_err("permissions = []\n[roles.\"bad role\"]");
    assert!(
        matches!(&err, Error::InvalidRoleName { role } if role == "bad role"),
        "{err}"
    );
    assert_eq!(err.kind(), "invalid_role_name");
}

#[test]
fn role_granting_an_undeclared_permission_is_refused_naming_both() {
    let err = toml_err(
        "permissions = [\"reports:read\"]\n[roles.auditor]\npermissions = [\"reports:raed\"]",
    );
    assert!(
        matches!(&err, Error::UnknownPermission { role, permission }
            if role == "auditor" && permission == "reports:raed"),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "role \"auditor\" grants \"reports:raed\", which is not in the permissions list"
    );
}

#[test]
fn wildcard_matching_nothing_is_refused() {
    let err = toml_err("permissions = [\"reports:read\"]\n[roles.a]\npermissions = [\"report:*\"]");
    assert!(
        matches!(&err, Error::EmptyWildcard { role, pattern } if role == "a" && pattern == "report:*"),
        "{err}"
    );
}

#[test]
fn wildcard_covers_only_its_prefix_with_the_colon() {
    let policy = Policy::from_toml(
        r#"
        permissions = ["reports", "reports:read", "reports:x:y", "reportsx:read", "reporta:b"]
        [roles.a]
        permissions = ["reports:*"]
        "#,
    )
    .unwrap();
    assert_eq!(
        policy.role_permissions("a").unwrap(),
        ["reports:read", "reports:x:y"]
    );
}

#[test]
fn wildcard_whose_matches_are_also_listed_is_accepted() {
    let policy =
        Policy::from_toml("permissions = [\"r:a\"]\n[roles.a]\npermissions = [\"r:a\", \"r:*\"]")
            .unwrap();
    assert_eq!(policy.role_permissions("a").unwrap(), ["r:a"]);
}

#[test]
fn inheriting_an_undefined_role_is_refused_naming_both() {
    let err = toml_err("permissions = []\n[roles.editor]\ninherits = [\"veiwer\"]");
    assert!(
        matches!(&err, Error::UnknownRole { role, inherited_by }
            if role == "veiwer" && inherited_by == "editor"),
        "{err}"
    );
    assert_eq!(err.kind(), "unknown_role");
}

#[test]
fn mapping_to_an_undefined_role_is_refused_naming_tenant_rule_and_role() {
    let err = toml_err(
        "permissions = []\n[roles.admin]\n[tenants.acme.mappings]\n\"groups=admins\" = \"admn\"",
    );
    assert!(
        matches!(&err, Error::UnknownMappedRole { tenant, rule, role }
            if tenant == "acme" && rule == "groups=admins" && role == "admn"),
        "{err}"
    );
}

#[test]
fn mapping_rule_without_an_attribute_is_refused() {
    for rule in ["groups", "=admins"] {
        let err = toml_err(&format!(
            "permissions = []\n[roles.a]\n[tenants.t.mappings]\n\"{rule}\" = \"a\""
        ));
        assert!(
            matches!(&err, Error::InvalidMappingRule { tenant, rule: r } if tenant == "t" && r == rule),
            "{err}"
        );
    }
}

#[test]
fn oversized_input_is_refused_before_parsing() {
    let big = " ".repeat(MAX_POLICY_LEN + 1);
    assert!(matches!(
        Policy::from_toml(&big),
        Err(Error::TooLarge { .. })
    ));
    assert!(matches!(
        Policy::from_json(&big),
        Err(Error::TooLarge { .. })
    ));
}

#[test]
fn too_many_roles_is_refused() {
    let mut text = String::from("permissions = []\n");
    for i in 0..=MAX_ROLES {
        text.push_str(&format!("[roles.r{i}]\n"));
    }
    let err = toml_err(&text);
    assert!(matches!(err, Error::TooMany { what: "roles", .. }), "{err}");
}

#[test]
fn every_error_has_a_distinct_stable_kind() {
    let errors = [
        Policy::from_toml(&" ".repeat(MAX_POLICY_LEN + 1)).unwrap_err(),
        toml_err("x"),
        Policy::from_json("x").unwrap_err(),
        toml_err(r#"permissions = ["a b"]"#),
        toml_err("permissions = []\n[roles.\"a b\"]"),
        toml_err("permissions = []\n[roles.a]\npermissions = [\"x:y\"]"),
        toml_err("permissions = []\n[roles.a]\npermissions = [\"x:*\"]"),
        toml_err("permissions = []\n[roles.a]\ninherits = [\"b\"]"),
        toml_err("permissions = []\n[roles.a]\ninherits = [\"a\"]"),
        toml_err(&chain(MAX_INHERITANCE_DEPTH + 1)),
        toml_err("permissions = []\n[roles.a]\n[tenants.t.mappings]\n\"g=v\" = \"b\""),
        toml_err("permissions = []\n[roles.a]\n[tenants.t.mappings]\n\"g\" = \"a\""),
        toml_err(&format!(
            "permissions = []\n{}",
            (0..=MAX_ROLES)
                .map(|i| format!("[roles.r{i}]\n"))
                .collect::<String>()
        )),
    ];
    let kinds: Vec<&str> = errors.iter().map(Error::kind).collect();
    assert_eq!(
        kinds,
        [
            "too_large",
            "invalid_toml",
            "invalid_json",
            "invalid_permission",
            "invalid_role_name",
            "unknown_permission",
            "empty_wildcard",
            "unknown_role",
            "role_cycle",
            "inheritance_too_deep",
            "unknown_mapped_role",
            "invalid_mapping_rule",
            "too_many",
        ]
    );
}
