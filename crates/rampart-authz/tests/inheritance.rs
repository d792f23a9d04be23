//! Inheritance: depth, cycles (with their path), diamonds.

mod common;

use common::chain;
use rampart_authz::{Decision, Error, Grant, MAX_INHERITANCE_DEPTH, Policy, Principal};

/// The path of the inheritance cycle `roles` (TOML role tables) is refused for, and the
/// error's text.
fn cycle(roles: &str) -> (Vec<String>, String) {
    let err = Policy::from_toml(&format!("permissions = []\n{roles}")).unwrap_err();
    match &err {
        Error::Cycle { path } => (path.clone(), err.to_string()),
        other => panic!("not a cycle: {other}"),
    }
}

#[test]
fn chain_at_the_depth_limit_loads_and_the_top_inherits_the_bottom() {
    let policy = Policy::from_toml(&chain(MAX_INHERITANCE_DEPTH)).unwrap();
    let top = Principal::new("ann").with_roles(["r0"]);
    assert_eq!(
        policy.check(&top, "p:x"),
        Decision::Allowed {
            by: Grant::Role("r0")
        }
    );
}

#[test]
fn chain_one_past_the_depth_limit_is_refused_naming_its_top() {
    let err = Policy::from_toml(&chain(MAX_INHERITANCE_DEPTH + 1)).unwrap_err();
    assert!(
        matches!(&err, Error::TooDeep { role, max } if role == "r0" && *max == MAX_INHERITANCE_DEPTH),
        "{err}"
    );
}

#[test]
fn too_deep_chain_is_found_even_when_its_lower_half_was_flattened_first() {
    // Roles load in name order: "a0" (the top) sorts before "z*", so build a chain whose
    // lower roles sort first and are flattened (and memoised) before the top is reached.
    let n = MAX_INHERITANCE_DEPTH + 1;
    let mut text = String::from("permissions = [\"p:x\"]\n[roles.top]\ninherits = [\"a00\"]\n");
    for i in 0..n - 1 {
        text.push_str(&format!("[roles.a{i:02}]\n"));
        if i + 1 < n - 1 {
            text.push_str(&format!("inherits = [\"a{:02}\"]\n", i + 1));
        }
    }
    let err = Policy::from_toml(&text).unwrap_err();
    assert!(
        matches!(&err, Error::TooDeep { role, .. } if role == "top"),
        "{err}"
    );
}

#[test]
fn self_inheritance_is_a_cycle_of_one() {
    let err =
        Policy::from_toml("permissions = []\n[roles.admin]\ninherits = [\"admin\"]").unwrap_err();
    assert!(
        matches!(&err, Error::Cycle { path } if path == &["admin", "admin"]),
        "{err}"
    );
}

#[test]
fn three_role_cycle_is_reported_with_its_path() {
    let (path, text) = cycle(
        r#"
        [roles.a]
        inherits = ["b"]
        [roles.b]
        inherits = ["c"]
        [roles.c]
        inherits = ["a"]
        "#,
    );
    assert_eq!(path, ["a", "b", "c", "a"]);
    assert_eq!(text, "role inheritance cycle: a -> b -> c -> a");
}

#[test]
fn cycle_below_an_acyclic_entry_is_reported_without_the_entry() {
    let (path, _) = cycle(
        r#"
        [roles.a]
        inherits = ["b"]
        [roles.b]
        inherits = ["c"]
        [roles.c]
        inherits = ["b"]
        "#,
    );
    assert_eq!(path, ["b", "c", "b"]);
}

#[test]
fn diamond_inheritance_is_not_a_cycle_and_unions_both_sides() {
    let policy = Policy::from_toml(
        r#"
        permissions = ["base:read", "left:x", "right:y", "top:z"]
        [roles.base]
        permissions = ["base:read"]
        [roles.left]
        inherits = ["base"]
        permissions = ["left:x"]
        [roles.right]
        inherits = ["base"]
        permissions = ["right:y"]
        [roles.top]
        inherits = ["left", "right"]
        permissions = ["top:z"]
        "#,
    )
    .unwrap();
    assert_eq!(
        policy.role_permissions("top").unwrap(),
        ["base:read", "left:x", "right:y", "top:z"]
    );
    assert_eq!(
        policy.role_permissions("left").unwrap(),
        ["base:read", "left:x"]
    );
}

#[test]
fn inheritance_flows_down_only() {
    let policy = Policy::from_toml(
        r#"
        permissions = ["reports:read", "reports:write"]
        [roles.viewer]
        permissions = ["reports:read"]
        [roles.editor]
        inherits = ["viewer"]
        permissions = ["reports:write"]
        "#,
    )
    .unwrap();
    let viewer = Principal::new("v").with_roles(["viewer"]);
    assert!(!policy.check(&viewer, "reports:write").is_allowed());
}
