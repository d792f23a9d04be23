//! Caller context bound as associated data (`docs/envelope.md` §5).
//!
//! A context is a set of key/value pairs such as `tenant`, `table`, `column`. It is not stored
//! in the ciphertext: the caller supplies the same context to open. A value copied to another
//! row, tenant or column therefore fails authentication.
//!
//! Canonical encoding (the bytes fed to AES-GCM as part of the AAD):
//! `u16 count ‖ for each pair sorted by key bytes: u16 key_len ‖ key ‖ u16 value_len ‖ value`,
//! big-endian lengths, UTF-8 text. Duplicate keys and keys starting with `rampart:` are
//! refused; limits are [`MAX_PAIRS`], [`MAX_KEY_LEN`] and [`MAX_ENCODED_LEN`].

use crate::error::ContextError;

/// At most this many pairs in one context.
pub const MAX_PAIRS: usize = 64;
/// At most this many bytes in one key.
pub const MAX_KEY_LEN: usize = 255;
/// At most this many bytes in the canonical encoding of a context.
pub const MAX_ENCODED_LEN: usize = 4096;
/// Prefix of the keys the library adds itself.
pub(crate) const RESERVED_PREFIX: &str = "rampart:";

/// Ordered key/value pairs bound to a ciphertext as associated data.
///
/// Pairs are kept sorted by key, so the order of `with` calls does not matter. Building never
/// fails; the rules (no duplicates, no `rampart:` keys, limits) are checked when the context
/// is used by `seal`/`open`, which return [`crate::Error::Context`].
///
/// ```
/// use rampart_envelope::Context;
/// let a = Context::new().with("tenant", "42").with("column", "oauth_token");
/// let b = Context::new().with("column", "oauth_token").with("tenant", "42");
/// assert_eq!(a, b);
/// ```
#[derive(Clone, Default, Debug, PartialEq, Eq, Hash)]
pub struct Context {
    /// Sorted by key bytes; a stable insert keeps duplicates adjacent so encoding finds them.
    pairs: Vec<(String, String)>,
    /// Library-added pairs (`rampart:*`), kept apart so callers cannot forge them.
    reserved: Vec<(String, String)>,
}

impl Context {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a pair and returns the context (builder style).
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        insert_sorted(&mut self.pairs, key.into(), value.into());
        self
    }

    /// Adds a pair in place.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) {
        insert_sorted(&mut self.pairs, key.into(), value.into());
    }

    /// Adds a library-reserved pair (`rampart:` + `name`); for files, retention and the like.
    pub(crate) fn with_reserved(mut self, name: &str, value: impl Into<String>) -> Self {
        let key = format!("{RESERVED_PREFIX}{name}");
        insert_sorted(&mut self.reserved, key, value.into());
        self
    }

    /// The caller's pairs, sorted by key.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Number of caller pairs.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// True when the caller gave no pairs.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Appends the canonical encoding to `out`, checking every rule.
    pub(crate) fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), ContextError> {
        let total = self.pairs.len() + self.reserved.len();
        if total > MAX_PAIRS {
            return Err(ContextError::TooManyPairs { max: MAX_PAIRS });
        }
        for (k, _) in &self.pairs {
            if k.starts_with(RESERVED_PREFIX) {
                return Err(ContextError::ReservedKey { key: k.clone() });
            }
        }
        let start = out.len();
        // total <= 64, fits in u16.
        out.extend_from_slice(&crate::primitives::be16(total));
        // Merge the two sorted lists so the encoding is sorted over all pairs.
        let (mut i, mut j) = (0, 0);
        let mut prev: Option<&str> = None;
        while i < self.pairs.len() || j < self.reserved.len() {
            let take_caller = match (self.pairs.get(i), self.reserved.get(j)) {
                (Some(a), Some(b)) => a.0.as_bytes() <= b.0.as_bytes(),
                (Some(_), None) => true,
                _ => false,
            };
            let (k, v) = if take_caller {
                i += 1;
                &self.pairs[i - 1]
            } else {
                j += 1;
                &self.reserved[j - 1]
            };
            if k.is_empty() || k.len() > MAX_KEY_LEN {
                return Err(ContextError::BadKeyLength { max: MAX_KEY_LEN });
            }
            if prev == Some(k.as_str()) {
                return Err(ContextError::DuplicateKey { key: k.clone() });
            }
            prev = Some(k.as_str());
            if v.len() > MAX_ENCODED_LEN
                || out.len() - start + 4 + k.len() + v.len() > MAX_ENCODED_LEN
            {
                return Err(ContextError::TooLarge {
                    max: MAX_ENCODED_LEN,
                });
            }
            // Lengths are bounded by MAX_ENCODED_LEN (4096) just above.
            out.extend_from_slice(&crate::primitives::be16(k.len()));
            out.extend_from_slice(k.as_bytes());
            out.extend_from_slice(&crate::primitives::be16(v.len()));
            out.extend_from_slice(v.as_bytes());
        }
        Ok(())
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Context {
    fn from_iter<T: IntoIterator<Item = (K, V)>>(iter: T) -> Self {
        let mut ctx = Context::new();
        for (k, v) in iter {
            ctx.insert(k, v);
        }
        ctx
    }
}

fn insert_sorted(list: &mut Vec<(String, String)>, key: String, value: String) {
    // Insert after any equal keys (stable), so a duplicate is adjacent and detected on use.
    let at = list.partition_point(|(k, _)| k.as_bytes() <= key.as_bytes());
    list.insert(at, (key, value));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(c: &Context) -> Result<Vec<u8>, ContextError> {
        let mut v = Vec::new();
        c.encode_into(&mut v).map(|()| v)
    }

    #[test]
    fn encoding_is_documented_layout() {
        let c = Context::new().with("b", "2").with("a", "xy");
        assert_eq!(
            enc(&c).unwrap(),
            vec![0, 2, 0, 1, b'a', 0, 2, b'x', b'y', 0, 1, b'b', 0, 1, b'2']
        );
    }

    #[test]
    fn order_of_with_calls_does_not_matter() {
        let a = Context::new().with("tenant", "1").with("column", "c");
        let b = Context::new().with("column", "c").with("tenant", "1");
        assert_eq!(enc(&a).unwrap(), enc(&b).unwrap());
    }

    #[test]
    fn duplicate_key_is_refused() {
        let c = Context::new().with("a", "1").with("a", "2");
        assert!(matches!(enc(&c), Err(ContextError::DuplicateKey { .. })));
    }

    #[test]
    fn reserved_prefix_is_refused_from_callers() {
        let c = Context::new().with("rampart:region", "x");
        assert!(matches!(enc(&c), Err(ContextError::ReservedKey { .. })));
    }

    #[test]
    fn reserved_pairs_merge_sorted() {
        let c = Context::new()
            .with("z", "1")
            .with("a", "2")
            .with_reserved("purpose", "file");
        let e = enc(&c).unwrap();
        assert_eq!(&e[..2], &[0, 3]);
        // "a" < "rampart:purpose" < "z"
        assert_eq!(&e[2..5], &[0, 1, b'a']);
        assert_eq!(&e[8..10], &[0, 15]);
    }

    #[test]
    fn limits_are_enforced() {
        let c: Context = (0..65).map(|i| (format!("k{i}"), "v")).collect();
        assert!(matches!(enc(&c), Err(ContextError::TooManyPairs { .. })));
        let c = Context::new().with("k".repeat(256), "v");
        assert!(matches!(enc(&c), Err(ContextError::BadKeyLength { .. })));
        let c = Context::new().with("", "v");
        assert!(matches!(enc(&c), Err(ContextError::BadKeyLength { .. })));
        let c = Context::new().with("k", "v".repeat(5000));
        assert!(matches!(enc(&c), Err(ContextError::TooLarge { .. })));
    }
}
