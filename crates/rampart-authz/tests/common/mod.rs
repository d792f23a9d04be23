//! Role maps the test files share.

/// A map whose role r0 inherits r1 ... r{n-1}: a chain of `n` roles, r{n-1} holding `p:x`.
pub(crate) fn chain(n: usize) -> String {
    let mut text = String::from("permissions = [\"p:x\"]\n");
    for i in 0..n {
        text.push_str(&format!("[roles.r{i}]\n"));
        if i + 1 < n {
            text.push_str(&format!("inherits = [\"r{}\"]\n", i + 1));
        } else {
            text.push_str("permissions = [\"p:x\"]\n");
        }
    }
    text
}
