//! Password policy after NIST SP 800-63B section 5.1.1.2 (memorized secret verifiers):
//! length in Unicode code points after NFKC normalization, at least 8 by default, a maximum of
//! at least 64, no composition rules, and a check against context words and breached passwords.

use std::io::BufRead;
use std::sync::Arc;

use ring::digest::{SHA1_FOR_LEGACY_USE_ONLY, digest};
use zeroize::Zeroizing;

use crate::error::ConfigError;
use crate::normalize::{lowercase, nfkc};
use crate::secret::Password;

/// Why the policy rejected a password. The message says why, and never contains the password
/// or its length (only the configured limits).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// Fewer code points (after NFKC normalization) than the minimum.
    #[error("password must be at least {min} characters")]
    TooShort {
        /// The minimum.
        min: usize,
    },
    /// More code points than the maximum.
    #[error("password has more than {max} characters")]
    TooLong {
        /// The maximum.
        max: usize,
    },
    /// More bytes than the hard cap (checked before normalization, against hashing DoS).
    #[error("password is longer than {max} bytes")]
    TooManyBytes {
        /// The cap in bytes.
        max: usize,
    },
    /// The password contains a word from its context.
    #[error("password contains the {kind}")]
    ContainsContextWord {
        /// Which context word.
        kind: ContextWord,
    },
    /// The password is one character repeated, or one run of consecutive characters
    /// (`aaaaaaaa`, `12345678`, `hgfedcba`): values NIST SP 800-63B section 5.1.1.2 lists as
    /// "expected" and to be refused.
    #[error("password is a repeated or sequential run of characters")]
    RepetitiveOrSequential,
    /// The password is in the breached-password list.
    #[error("password appears in a list of breached passwords")]
    Breached,
}

/// Which context word a password contained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ContextWord {
    /// The user name.
    UserName,
    /// The local part of the email address.
    Email,
    /// The service name.
    ServiceName,
    /// One of the extra words given in the context.
    Other,
}

impl std::fmt::Display for ContextWord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::UserName => "user name",
            Self::Email => "email address",
            Self::ServiceName => "service name",
            Self::Other => "a word specific to this account",
        })
    }
}

/// Who is choosing the password: words from here are rejected inside it.
///
/// ```
/// use rampart_password::PolicyContext;
/// let ctx = PolicyContext::new().with_user_name("alice").with_email("alice.smith@example.com");
/// # let _ = ctx;
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct PolicyContext<'a> {
    /// The account's user name.
    pub user_name: Option<&'a str>,
    /// The account's email address: its local part is checked whole and, split on
    /// `.` `_` `-` `+`, part by part (`alice.smith` rejects `alice2024` and `smith!!`).
    pub email: Option<&'a str>,
    /// Further words (first name, company, ...).
    pub extra: Vec<&'a str>,
}

impl<'a> PolicyContext<'a> {
    /// An empty context.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the user name.
    #[must_use]
    pub fn with_user_name(mut self, name: &'a str) -> Self {
        self.user_name = Some(name);
        self
    }

    /// Sets the email address.
    #[must_use]
    pub fn with_email(mut self, email: &'a str) -> Self {
        self.email = Some(email);
        self
    }

    /// Adds another word.
    #[must_use]
    pub fn with_word(mut self, word: &'a str) -> Self {
        self.extra.push(word);
        self
    }
}

/// A breached-password check. Implement it to query your own service (a k-anonymity API, a
/// database); [`BreachedSet`] is the bundled in-memory implementation.
///
/// The policy calls it last, with the NFKC-normalized password. An implementation that
/// cannot reach its service must choose (and document) whether it fails open or closed.
///
/// ```
/// use rampart_password::{BreachedCheck, Password, Policy, PolicyContext, Rejection};
///
/// /// Passwords from the service's own incident, kept as SHA-256 digests.
/// struct OwnIncident(Vec<[u8; 32]>);
///
/// impl BreachedCheck for OwnIncident {
///     fn is_breached(&self, password: &str) -> bool {
///         let d = ring::digest::digest(&ring::digest::SHA256, password.as_bytes());
///         self.0.iter().any(|h| h[..] == *d.as_ref())
///     }
/// }
///
/// let leaked = ring::digest::digest(&ring::digest::SHA256, b"tr0ub4dor&3-leaked");
/// let check = OwnIncident(vec![leaked.as_ref().try_into().unwrap()]);
/// let policy = Policy::builder().with_breached(check).build()?;
/// let ctx = PolicyContext::new();
/// assert_eq!(
///     policy.check(&Password::new("tr0ub4dor&3-leaked"), &ctx),
///     Err(Rejection::Breached)
/// );
/// assert!(policy.check(&Password::new("correct horse battery staple"), &ctx).is_ok());
/// # Ok::<(), rampart_password::ConfigError>(())
/// ```
pub trait BreachedCheck: Send + Sync {
    /// Whether the (NFKC-normalized) password is known to be breached.
    fn is_breached(&self, password: &str) -> bool;
}

/// A compact in-memory set of breached passwords: the first 8 bytes of each SHA-1, sorted
/// (8 bytes per entry; a false positive needs a 64-bit collision, about n / 2^64).
///
/// Loads lists of plain passwords, one per line, or SHA-1 hex lines as in the public breach
/// corpus downloads (`HEX` or `HEX:count`, any case); the two may be mixed.
///
/// ```
/// use rampart_password::{BreachedCheck, BreachedSet};
/// let list = "password1\n5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8:3861493\n";
/// let set = BreachedSet::from_reader(list.as_bytes())?;
/// assert!(set.is_breached("password1"));
/// assert!(set.is_breached("password")); // by its SHA-1
/// assert!(!set.is_breached("correct horse battery staple"));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct BreachedSet {
    prefixes: Vec<u64>,
}

impl BreachedSet {
    /// Reads a list, one entry per line (see the type's docs). Empty lines are skipped.
    ///
    /// # Errors
    /// The reader's I/O errors, and [`std::io::ErrorKind::InvalidData`] for non-UTF-8 lines.
    pub fn from_reader(reader: impl BufRead) -> std::io::Result<Self> {
        let mut prefixes = Vec::new();
        for line in reader.lines() {
            let line = Zeroizing::new(line?);
            let entry = line.trim_end_matches(['\r', '\n']);
            if entry.is_empty() {
                continue;
            }
            prefixes.push(match sha1_hex_prefix(entry) {
                Some(prefix) => prefix,
                None => sha1_prefix(&nfkc(entry)),
            });
        }
        Ok(Self::from_prefixes(prefixes))
    }

    /// A set from plain passwords.
    pub fn from_passwords<'a>(passwords: impl IntoIterator<Item = &'a str>) -> Self {
        Self::from_prefixes(
            passwords
                .into_iter()
                .map(|p| sha1_prefix(&nfkc(p)))
                .collect(),
        )
    }

    fn from_prefixes(mut prefixes: Vec<u64>) -> Self {
        prefixes.sort_unstable();
        prefixes.dedup();
        prefixes.shrink_to_fit();
        Self { prefixes }
    }

    /// Number of distinct entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.prefixes.len()
    }

    /// Whether the set is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.prefixes.is_empty()
    }
}

impl BreachedCheck for BreachedSet {
    fn is_breached(&self, password: &str) -> bool {
        self.prefixes.binary_search(&sha1_prefix(password)).is_ok()
    }
}

/// One code point repeated, or every step +1 (or every step -1) between code points.
/// Walks the code points in place: collecting them would be one more plaintext copy.
fn is_run(password: &str) -> bool {
    let points = password.chars().map(|c| i64::from(u32::from(c)));
    let mut steps = points.clone().zip(points.skip(1)).map(|(a, b)| b - a);
    let Some(first) = steps.next() else {
        return false;
    };
    matches!(first, -1..=1) && steps.all(|s| s == first)
}

/// First 8 bytes of SHA-1, the hash the public breach corpora are published under.
fn sha1_prefix(password: &str) -> u64 {
    let d = digest(&SHA1_FOR_LEGACY_USE_ONLY, password.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&d.as_ref()[..8]);
    u64::from_be_bytes(first)
}

/// `Some(prefix)` when the line is 40 hex digits, optionally followed by `:count`.
fn sha1_hex_prefix(line: &str) -> Option<u64> {
    let (hex, rest) = (line.get(..40)?, line.get(40..)?);
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    if !(rest.is_empty()
        || rest
            .strip_prefix(':')
            .is_some_and(|c| c.bytes().all(|b| b.is_ascii_digit())))
    {
        return None;
    }
    u64::from_str_radix(&hex[..16], 16).ok()
}

/// A password policy. Build with [`Policy::builder`]; [`Policy::default`] is NIST's minimum:
/// at least 8 and at most 128 code points, at most 1024 bytes, context words of 3 or more
/// code points rejected, no breached list.
///
/// ```
/// use rampart_password::{Password, Policy, PolicyContext, Rejection};
/// let policy = Policy::builder().with_service_name("rampart").build()?;
/// let ctx = PolicyContext::new().with_user_name("alice");
/// assert!(policy.check(&Password::new("correct horse battery staple"), &ctx).is_ok());
/// assert!(matches!(policy.check(&Password::new("short"), &ctx), Err(Rejection::TooShort { .. })));
/// assert!(matches!(policy.check(&Password::new("alice-is-great"), &ctx),
///     Err(Rejection::ContainsContextWord { .. })));
/// # Ok::<(), rampart_password::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct Policy {
    min_chars: usize,
    max_chars: usize,
    max_bytes: usize,
    min_context_word_chars: usize,
    service_names: Vec<String>,
    breached: Option<Arc<dyn BreachedCheck>>,
    reject_runs: bool,
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policy")
            .field("min_chars", &self.min_chars)
            .field("max_chars", &self.max_chars)
            .field("max_bytes", &self.max_bytes)
            .field("service_names", &self.service_names)
            .field("breached_check", &self.breached.is_some())
            .field("reject_runs", &self.reject_runs)
            .finish_non_exhaustive()
    }
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            min_chars: 8,
            max_chars: 128,
            max_bytes: 1024,
            min_context_word_chars: 3,
            service_names: Vec::new(),
            breached: None,
            reject_runs: true,
        }
    }
}

/// Builds a [`Policy`].
#[derive(Debug, Clone, Default)]
pub struct PolicyBuilder {
    policy: Policy,
}

impl PolicyBuilder {
    /// Minimum length in code points (default 8; NIST requires at least 8).
    #[must_use]
    pub fn with_min_chars(mut self, n: usize) -> Self {
        self.policy.min_chars = n;
        self
    }

    /// Maximum length in code points (default 128; must be at least 64).
    #[must_use]
    pub fn with_max_chars(mut self, n: usize) -> Self {
        self.policy.max_chars = n;
        self
    }

    /// Hard cap in bytes, checked before normalization (default 1024; must be at least
    /// `max_chars`, since ASCII is one byte per character).
    #[must_use]
    pub fn with_max_bytes(mut self, n: usize) -> Self {
        self.policy.max_bytes = n;
        self
    }

    /// Context words (and parts of the email's local part) shorter than this many code points
    /// are ignored (default 3), so a user named "Al" can still use "always". Must be at
    /// least 1: an empty word is contained in every password.
    #[must_use]
    pub fn with_min_context_word_chars(mut self, n: usize) -> Self {
        self.policy.min_context_word_chars = n;
        self
    }

    /// The service's name, rejected inside passwords (may be called several times).
    #[must_use]
    pub fn with_service_name(mut self, name: impl Into<String>) -> Self {
        self.policy.service_names.push(name.into());
        self
    }

    /// Stops rejecting repeated and sequential runs (`aaaaaaaa`, `12345678`). They are on by
    /// default because NIST lists them among the values a verifier must refuse.
    #[must_use]
    pub fn allow_repetitive_and_sequential(mut self) -> Self {
        self.policy.reject_runs = false;
        self
    }

    /// A breached-password check (for example a [`BreachedSet`]).
    #[must_use]
    pub fn with_breached(mut self, check: impl BreachedCheck + 'static) -> Self {
        self.policy.breached = Some(Arc::new(check));
        self
    }

    /// Builds the policy.
    ///
    /// # Errors
    /// [`ConfigError::Policy`] when the minimum is below 8 or above the maximum, the maximum is
    /// below 64 (NIST SP 800-63B section 5.1.1.2), the byte cap is below the maximum, or the
    /// context word minimum is 0.
    pub fn build(self) -> Result<Policy, ConfigError> {
        let p = &self.policy;
        if p.min_chars < 8 {
            return Err(ConfigError::Policy("minimum below 8 characters"));
        }
        if p.max_chars < 64 {
            return Err(ConfigError::Policy("maximum below 64 characters"));
        }
        if p.min_chars > p.max_chars {
            return Err(ConfigError::Policy("minimum above maximum"));
        }
        if p.max_bytes < p.max_chars {
            return Err(ConfigError::Policy("byte cap below the character maximum"));
        }
        if p.min_context_word_chars == 0 {
            return Err(ConfigError::Policy(
                "context word minimum below 1 character",
            ));
        }
        Ok(self.policy)
    }
}

impl Policy {
    /// A builder starting from the defaults.
    #[must_use]
    pub fn builder() -> PolicyBuilder {
        PolicyBuilder::default()
    }

    /// Checks a new password. Rules run in this order and the first failure is returned:
    /// byte cap, minimum length, maximum length, repeated or sequential run, context words,
    /// breached list.
    ///
    /// # Errors
    /// The [`Rejection`] saying why.
    pub fn check(&self, password: &Password, context: &PolicyContext<'_>) -> Result<(), Rejection> {
        let raw = password.expose_secret();
        // The byte cap comes first: NFKC can expand text up to 18 times (UAX #15 section 9).
        if raw.len() > self.max_bytes {
            return Err(Rejection::TooManyBytes {
                max: self.max_bytes,
            });
        }
        let normalized = nfkc(raw);
        let chars = normalized.chars().count();
        if chars < self.min_chars {
            return Err(Rejection::TooShort {
                min: self.min_chars,
            });
        }
        if chars > self.max_chars {
            return Err(Rejection::TooLong {
                max: self.max_chars,
            });
        }
        if self.reject_runs && is_run(&normalized) {
            return Err(Rejection::RepetitiveOrSequential);
        }
        let lowered = lowercase(&normalized);
        let email_local = context
            .email
            .map(|e| e.rsplit_once('@').map_or(e, |(local, _)| local));
        // The whole local part, then its parts: people reuse their first or last name.
        let email_words = email_local
            .into_iter()
            .flat_map(|local| std::iter::once(local).chain(local.split(['.', '_', '-', '+'])));
        let words = context
            .user_name
            .map(|w| (w, ContextWord::UserName))
            .into_iter()
            .chain(email_words.map(|w| (w, ContextWord::Email)))
            .chain(
                self.service_names
                    .iter()
                    .map(|w| (w.as_str(), ContextWord::ServiceName)),
            )
            .chain(context.extra.iter().map(|w| (*w, ContextWord::Other)));
        for (word, kind) in words {
            let word = lowercase(&nfkc(word));
            if word.chars().count() >= self.min_context_word_chars && lowered.contains(&*word) {
                return Err(Rejection::ContainsContextWord { kind });
            }
        }
        if let Some(check) = &self.breached
            && check.is_breached(&normalized)
        {
            return Err(Rejection::Breached);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(p: &Policy, pw: &str) -> Result<(), Rejection> {
        p.check(&Password::new(pw), &PolicyContext::new())
    }

    #[test]
    fn length_is_counted_in_code_points_after_nfkc() {
        let p = Policy::default();
        // 8 code points, 16 bytes: accepted.
        assert!(check(&p, "ééééáááá").is_ok());
        // 7 code points rejected even though it is 14 bytes.
        assert_eq!(check(&p, "ééééááá"), Err(Rejection::TooShort { min: 8 }));
        // "ﬁ" (U+FB01) expands to "fi" under NFKC: 4 ligatures are 8 code points.
        assert!(check(&p, "ﬁﬁﬁﬁ").is_ok());
    }

    #[test]
    fn repeated_and_sequential_runs_are_rejected() {
        let p = Policy::default();
        for run in ["aaaaaaaa", "12345678", "abcdefghij", "98765432", "zyxwvuts"] {
            assert_eq!(
                check(&p, run),
                Err(Rejection::RepetitiveOrSequential),
                "{run}"
            );
        }
        for ok in ["aaaaaaab", "12345679", "abcdefgg", "13579135"] {
            assert!(check(&p, ok).is_ok(), "{ok}");
        }
        let lax = Policy::builder()
            .allow_repetitive_and_sequential()
            .build()
            .unwrap();
        assert!(check(&lax, "12345678").is_ok());
    }

    #[test]
    fn no_composition_rules() {
        assert!(check(&Policy::default(), "alllowercaseletters").is_ok());
    }

    #[test]
    fn maximum_and_byte_cap() {
        let p = Policy::default();
        assert!(check(&p, &"ab".repeat(64)).is_ok());
        assert_eq!(
            check(&p, &"a".repeat(129)),
            Err(Rejection::TooLong { max: 128 })
        );
        assert_eq!(
            check(&p, &"a".repeat(1025)),
            Err(Rejection::TooManyBytes { max: 1024 })
        );
    }

    #[test]
    fn builder_enforces_nist_bounds() {
        assert!(Policy::builder().with_max_chars(63).build().is_err());
        assert!(Policy::builder().with_min_chars(7).build().is_err());
        assert!(Policy::builder().with_min_chars(200).build().is_err());
        assert!(Policy::builder().with_max_chars(64).build().is_ok());
        assert!(
            Policy::builder()
                .with_min_chars(12)
                .with_max_chars(256)
                .with_max_bytes(2048)
                .build()
                .is_ok()
        );
    }

    #[test]
    fn context_words_are_rejected_case_insensitively() {
        let p = Policy::builder()
            .with_service_name("Rampart")
            .build()
            .unwrap();
        let ctx = PolicyContext::new()
            .with_user_name("Alice")
            .with_email("bob.jones@example.com")
            .with_word("acme");
        let r = |pw: &str| p.check(&Password::new(pw), &ctx);
        assert_eq!(
            r("xxALICExxyy"),
            Err(Rejection::ContainsContextWord {
                kind: ContextWord::UserName
            })
        );
        assert_eq!(
            r("bob.jones-2024"),
            Err(Rejection::ContainsContextWord {
                kind: ContextWord::Email
            })
        );
        assert_eq!(
            r("my rampart pw"),
            Err(Rejection::ContainsContextWord {
                kind: ContextWord::ServiceName
            })
        );
        assert_eq!(
            r("i work at acme"),
            Err(Rejection::ContainsContextWord {
                kind: ContextWord::Other
            })
        );
        assert!(r("correct horse battery").is_ok());
    }

    #[test]
    fn short_context_words_are_ignored() {
        let p = Policy::default();
        let ctx = PolicyContext::new().with_user_name("al");
        assert!(p.check(&Password::new("always-be-closing"), &ctx).is_ok());
    }

    #[test]
    fn breached_plain_and_sha1_lines() {
        // SHA-1("password") and SHA-1("123456"), upper and lower case, with and without counts.
        let list = "hunter2hunter2\n\n5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8:3861493\n7c4a8d09ca3762af61e59520943dc26494f8941b\n";
        let set = BreachedSet::from_reader(list.as_bytes()).unwrap();
        assert_eq!(set.len(), 3);
        assert!(set.is_breached("hunter2hunter2"));
        assert!(set.is_breached("password"));
        assert!(set.is_breached("123456"));
        assert!(!set.is_breached("password!"));
        let p = Policy::builder().with_breached(set).build().unwrap();
        assert_eq!(check(&p, "hunter2hunter2"), Err(Rejection::Breached));
        assert!(check(&p, "hunter3hunter3").is_ok());
    }

    #[test]
    fn malformed_hex_lines_are_plain_passwords() {
        assert_eq!(
            sha1_hex_prefix("5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8:x"),
            None
        );
        assert_eq!(
            sha1_hex_prefix("5BAA61E4C9B93F3F0682250B6CF8331B7EE68FDZ"),
            None
        );
        assert_eq!(sha1_hex_prefix("short"), None);
    }

    #[test]
    fn rejection_messages_do_not_contain_the_password() {
        let p = Policy::builder()
            .with_breached(BreachedSet::from_passwords(["s3cr3t-pass"]))
            .build()
            .unwrap();
        let e = check(&p, "s3cr3t-pass").unwrap_err();
        assert!(!e.to_string().contains("s3cr3t"));
    }

    #[test]
    fn email_local_part_is_checked_part_by_part() {
        let p = Policy::default();
        let email = PolicyContext::new().with_email("alice.smith+news@example.com");
        let r = |pw: &str| p.check(&Password::new(pw), &email);
        let email_word = Err(Rejection::ContainsContextWord {
            kind: ContextWord::Email,
        });
        for pw in [
            "alice2024",
            "SMITH-family",
            "my-newsletter",
            "alice.smith+news",
        ] {
            assert_eq!(r(pw), email_word, "{pw}");
        }
        assert!(r("correct horse battery").is_ok());
        for local in ["j_doe-ann@example.com", "j.doe@example.com"] {
            let ctx = PolicyContext::new().with_email(local);
            // "doe" (3 code points) counts; "j" is shorter than the minimum and is ignored.
            assert_eq!(p.check(&Password::new("doe-a-deer"), &ctx), email_word);
            assert!(p.check(&Password::new("jumping jacks"), &ctx).is_ok());
        }
        let long_parts = Policy::builder()
            .with_min_context_word_chars(6)
            .build()
            .unwrap();
        assert!(
            long_parts
                .check(&Password::new("alice2024"), &email)
                .is_ok()
        );
        assert_eq!(
            long_parts.check(&Password::new("xxalice.smith+newsxx"), &email),
            email_word
        );
    }

    #[test]
    fn context_word_minimum_of_zero_is_refused() {
        assert_eq!(
            Policy::builder()
                .with_min_context_word_chars(0)
                .build()
                .unwrap_err(),
            ConfigError::Policy("context word minimum below 1 character")
        );
        let one = Policy::builder()
            .with_min_context_word_chars(1)
            .build()
            .unwrap();
        // An empty part (from "a..b") never matches: it is shorter than 1.
        let ctx = PolicyContext::new().with_email("x..y@example.com");
        assert!(one.check(&Password::new("correct horse"), &ctx).is_ok());
        assert!(one.check(&Password::new("correct horsey"), &ctx).is_err());
    }

    #[test]
    fn rejection_messages_do_not_reveal_the_password_or_its_length() {
        let p = Policy::builder()
            .with_service_name("rampart")
            .with_breached(BreachedSet::from_passwords(["s3cr3t-pass"]))
            .build()
            .unwrap();
        let ctx = PolicyContext::new()
            .with_user_name("mallory")
            .with_email("alice.smith@example.com");
        let cases = [
            "Zq!xYw",
            "\u{e9}\u{e9}\u{e9}",
            "s3cr3t-pass",
            "alice2024",
            "mallory-rules",
            "rampart-pw",
            "12345678",
            &"x".repeat(129),
            &"y".repeat(1025),
        ];
        for pw in cases {
            let e = p.check(&Password::new(pw), &ctx).unwrap_err();
            let chars = nfkc(pw).chars().count().to_string();
            for shown in [e.to_string(), format!("{e:?}")] {
                assert!(!shown.contains(pw), "{shown}");
                assert!(!shown.contains(&chars), "length {chars} in {shown}");
            }
        }
        assert_eq!(
            check(&Policy::default(), "Zq!xYw").unwrap_err().to_string(),
            "password must be at least 8 characters"
        );
    }
}
