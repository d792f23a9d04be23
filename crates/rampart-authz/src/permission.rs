//! Permission and role name syntax: the API-key scope rule.
//!
//! rampart-apikey keeps its scope validation `pub(crate)` and no crate depends on a sibling
//! (docs/design.md, Dependency direction), so the rule is mirrored here: keep
//! [`is_valid_permission`] in step with `scope_ok` in `crates/rampart-apikey/src/record.rs`.
//! The test `scope_examples_match_rampart_apikey` pins the cases its own test accepts and
//! refuses.

/// Longest permission (and role name), in bytes: rampart-apikey's `MAX_SCOPE_LEN`.
pub const MAX_PERMISSION_LEN: usize = 128;

/// True when `s` is a valid permission: the same syntax as an API-key scope, 1-128 bytes of
/// `[A-Za-z0-9:._/-]`. No wildcard is a valid permission (`*` is outside the alphabet).
///
/// ```
/// use rampart_authz::is_valid_permission;
/// assert!(is_valid_permission("reports:read"));
/// assert!(is_valid_permission("a/b.c-d_e"));
/// assert!(!is_valid_permission("reports:*"));
/// assert!(!is_valid_permission("has space"));
/// assert!(!is_valid_permission(""));
/// ```
#[must_use]
pub fn is_valid_permission(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_PERMISSION_LEN
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || b":._/-".contains(&c))
}

/// If `s` is a wildcard grant `PREFIX:*` (PREFIX a valid permission), the prefix with its
/// colon (`"reports:"`).
pub(crate) fn wildcard_prefix(s: &str) -> Option<&str> {
    let prefix = s.strip_suffix('*')?;
    let stem = prefix.strip_suffix(':')?;
    is_valid_permission(stem).then_some(prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_examples_match_rampart_apikey() {
        assert!(!is_valid_permission(""));
        assert!(!is_valid_permission("has space"));
        assert!(!is_valid_permission(&"x".repeat(129)));
        assert!(is_valid_permission(&"x".repeat(128)));
        assert!(is_valid_permission("orders:read"));
        assert!(is_valid_permission("a/b.c-d_e"));
        assert!(!is_valid_permission("ré:read"), "ascii only");
    }

    #[test]
    fn only_a_final_colon_star_is_a_wildcard() {
        assert_eq!(wildcard_prefix("reports:*"), Some("reports:"));
        assert_eq!(wildcard_prefix("a:b:*"), Some("a:b:"));
        assert_eq!(wildcard_prefix("*"), None);
        assert_eq!(wildcard_prefix(":*"), None);
        assert_eq!(wildcard_prefix("reports*"), None);
        assert_eq!(wildcard_prefix("reports:*:read"), None);
        assert_eq!(wildcard_prefix("re*:read"), None);
        assert_eq!(wildcard_prefix("reports:**"), None);
    }
}
