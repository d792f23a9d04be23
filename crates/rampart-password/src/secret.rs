//! The password as a secret type.

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

/// A password: zeroized on drop, `[REDACTED]` in `Debug`, no `Display`, no `Clone`.
///
/// Read it only through [`Password::expose_secret`], so every place that touches the
/// plaintext is easy to find in review.
///
/// ```
/// use rampart_password::Password;
/// let pw = Password::new("correct horse battery staple");
/// assert_eq!(format!("{pw:?}"), "Password([REDACTED])");
/// assert_eq!(pw.expose_secret().len(), 28);
/// ```
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct Password(String);

impl Password {
    /// Wraps a password. The `String`'s buffer is wiped when the `Password` drops.
    pub fn new(password: impl Into<String>) -> Self {
        Self(password.into())
    }

    /// The plaintext. Named loudly on purpose: do not log or store what it returns.
    #[must_use]
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// Length in bytes (UTF-8), which is not secret enough to hide from limits.
    #[must_use]
    pub fn len_bytes(&self) -> usize {
        self.0.len()
    }
}

impl From<String> for Password {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Password {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_the_password() {
        let pw = Password::new("hunter2-secret");
        let shown = format!("{pw:?} {pw:#?}");
        assert!(!shown.contains("hunter2"));
        assert!(shown.contains("[REDACTED]"));
    }

    #[test]
    fn zeroize_clears_the_buffer() {
        let mut pw = Password::new("hunter2-secret");
        pw.zeroize();
        assert!(pw.expose_secret().is_empty());
    }
}
