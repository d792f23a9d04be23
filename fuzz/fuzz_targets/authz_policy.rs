#![no_main]
//! Role map loading (TOML and JSON) on arbitrary bytes: never panics, never overflows the
//! stack, and whatever loads keeps the load-time promises: every role's flattened
//! permissions are declared, and a principal with no roles and no scopes is denied
//! everything.
use libfuzzer_sys::fuzz_target;
use rampart_authz::{Policy, Principal};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for policy in [Policy::from_toml(text), Policy::from_json(text)]
        .into_iter()
        .flatten()
    {
        let nobody = Principal::new("nobody");
        for role in ["a", "admin", "viewer", "r0"] {
            if let Some(perms) = policy.role_permissions(role) {
                let holder = Principal::new("x").with_roles([role]);
                for p in perms {
                    assert!(policy.declares(p), "flattened permission is declared");
                    assert!(policy.check(&holder, p).is_allowed());
                    assert!(!policy.check(&nobody, p).is_allowed());
                }
            }
        }
    }
});
