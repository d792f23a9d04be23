//! rampart-authz benchmarks (BENCHMARKS.md, "rampart-authz").
//!
//! `authz_check`: `Policy::check` against the floor it is built on, one
//! `HashSet<String>::contains` of the same permission (std's SipHash, as the policy uses),
//! in one group and one run. A realistic map: 200 declared permissions, 20 roles in a
//! three-level hierarchy, a principal holding 3 roles.
//!
//! - `hashset_contains`: the baseline, the permission in a set of the role's 200
//!   flattened permissions.
//! - `check_role_grant`: allowed by the last of the principal's 3 roles (declaration lookup,
//!   direct-grant lookup, 3 role lookups and set probes).
//! - `check_direct_grant`: allowed by an API-key scope (2 lookups).
//! - `check_denied`: declared, held by none of the 3 roles (the worst case).
//! - `check_unknown`: undeclared (1 lookup).
//!
//! `cargo bench -p rampart --no-default-features --features authz --bench authz -- --warm-up-time 1 --measurement-time 3`
//!
//! `authz_cedar` (facade feature `authz-cedar`): the same three decisions by `CedarPolicy`
//! with the equivalent Cedar policies (one permit per area naming every role that holds it,
//! one for API-key scopes), next to `Policy::check` in the same group, so the ratio of the
//! Cedar backend to the static map comes from one run.
//!
//! `cargo bench -p rampart --no-default-features --features authz-cedar --bench authz -- --warm-up-time 1 --measurement-time 3`

// criterion_group! generates an undocumented `pub fn benches`.
#![allow(missing_docs)]

use std::collections::HashSet;
use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use rampart_authz::{Decision, Grant, Policy, Principal};

fn role_map() -> String {
    let mut text = String::from("permissions = [");
    for area in 0..20 {
        for action in 0..10 {
            write!(text, "\"area{area}:action{action}\",").unwrap();
        }
    }
    text.push_str("]\n");
    // area roles a0..a15 hold one area each; team roles t0..t3 inherit four area roles
    // each; "root" inherits every team and holds areas 16..19 by wildcard.
    for area in 0..16 {
        writeln!(text, "[roles.a{area}]\npermissions = [\"area{area}:*\"]").unwrap();
    }
    for team in 0..4 {
        let parents: Vec<String> = (0..4).map(|i| format!("\"a{}\"", team * 4 + i)).collect();
        writeln!(text, "[roles.t{team}]\ninherits = [{}]", parents.join(",")).unwrap();
    }
    let teams: Vec<String> = (0..4).map(|t| format!("\"t{t}\"")).collect();
    writeln!(
        text,
        "[roles.root]\ninherits = [{}]\npermissions = [\"area16:*\", \"area17:*\", \"area18:*\", \"area19:*\"]",
        teams.join(",")
    )
    .unwrap();
    text
}

fn check(c: &mut Criterion) {
    let policy = Policy::from_toml(&role_map()).expect("bench map loads");
    // Roles iterate in name order: "a0", "t0", then "t3", which grants area12..15.
    let user = Principal::new("ann").with_roles(["t3", "a0", "t0"]);
    let key = Principal::from_scopes("rk_live_1", ["area5:action5"]);
    let granted = "area13:action7";
    assert_eq!(
        policy.check(&user, granted),
        Decision::Allowed {
            by: Grant::Role("t3")
        }
    );
    assert!(policy.check(&key, "area5:action5").is_allowed());
    assert!(!policy.check(&user, "area18:action1").is_allowed());

    let baseline: HashSet<String> = policy
        .role_permissions("root")
        .expect("root")
        .into_iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(baseline.len(), 200);

    let mut g = c.benchmark_group("authz_check");
    g.bench_function("hashset_contains", |b| {
        b.iter(|| black_box(&baseline).contains(black_box(granted)));
    });
    g.bench_function("check_role_grant", |b| {
        b.iter(|| {
            policy
                .check(black_box(&user), black_box(granted))
                .is_allowed()
        });
    });
    g.bench_function("check_direct_grant", |b| {
        b.iter(|| {
            policy
                .check(black_box(&key), black_box("area5:action5"))
                .is_allowed()
        });
    });
    g.bench_function("check_denied", |b| {
        b.iter(|| {
            policy
                .check(black_box(&user), black_box("area18:action1"))
                .is_allowed()
        });
    });
    g.bench_function("check_unknown", |b| {
        b.iter(|| {
            policy
                .check(black_box(&user), black_box("area99:action1"))
                .is_allowed()
        });
    });
    g.finish();
}

/// The bench map in Cedar: area `i` is held by `a{i}`, its team `t{i/4}` and `root` for
/// i < 16, by `root` alone for 16..19.
#[cfg(feature = "authz-cedar")]
fn cedar_policies() -> (String, Vec<String>) {
    let mut permissions = Vec::new();
    let mut text = String::new();
    for area in 0..20 {
        let actions: Vec<String> = (0..10)
            .map(|action| format!("Action::\"area{area}:action{action}\""))
            .collect();
        permissions.extend((0..10).map(|action| format!("area{area}:action{action}")));
        let holders = if area < 16 {
            format!("Role::\"a{area}\", Role::\"t{}\", Role::\"root\"", area / 4)
        } else {
            "Role::\"root\"".to_owned()
        };
        writeln!(
            text,
            "@id(\"area{area}\") permit(principal, action in [{}], resource) when {{ principal in [{holders}] }};",
            actions.join(",")
        )
        .unwrap();
    }
    text.push_str(
        "@id(\"scopes\") permit(principal, action, resource) when { context.scopes.contains(context.permission) };\n",
    );
    (text, permissions)
}

#[cfg(feature = "authz-cedar")]
fn cedar(c: &mut Criterion) {
    use rampart_authz::CedarPolicy;

    let policy = Policy::from_toml(&role_map()).expect("bench map loads");
    let (text, permissions) = cedar_policies();
    let cedar = CedarPolicy::from_cedar(&text, permissions).expect("bench policies load");
    let user = Principal::new("ann").with_roles(["t3", "a0", "t0"]);
    let key = Principal::from_scopes("rk_live_1", ["area5:action5"]);
    let cases = [
        ("role_grant", &user, "area13:action7"),
        ("direct_grant", &key, "area5:action5"),
        ("denied", &user, "area18:action1"),
    ];
    for (_, who, permission) in cases {
        assert_eq!(
            policy.check(who, permission).is_allowed(),
            cedar.check(who, permission).is_allowed(),
            "{permission}"
        );
    }
    assert_eq!(
        cedar.check(&user, "area13:action7"),
        Decision::Allowed {
            by: Grant::Policy("area13")
        }
    );

    let mut g = c.benchmark_group("authz_cedar");
    for (name, who, permission) in cases {
        g.bench_function(format!("static_{name}"), |b| {
            b.iter(|| {
                policy
                    .check(black_box(who), black_box(permission))
                    .is_allowed()
            });
        });
        g.bench_function(format!("cedar_{name}"), |b| {
            b.iter(|| {
                cedar
                    .check(black_box(who), black_box(permission))
                    .is_allowed()
            });
        });
    }
    g.finish();
}

#[cfg(not(feature = "authz-cedar"))]
criterion_group!(benches, check);
#[cfg(feature = "authz-cedar")]
criterion_group!(benches, check, cedar);
criterion_main!(benches);
