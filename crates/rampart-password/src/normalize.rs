//! Unicode normalization and case folding of passwords without stray plaintext copies.
//!
//! A `String` that grows by pushing reallocates, and every reallocation leaves the old buffer,
//! holding the plaintext so far, in freed memory. So each normalized or lowercased copy is
//! sized exactly by a first counting pass, filled without reallocating, and zeroized on drop.
//! (The `unicode-normalization` iterators buffer a few characters internally; for ordinary
//! input that buffer is inline, on the stack.)

use unicode_normalization::{IsNormalized, UnicodeNormalization as _, is_nfkc_quick};
use zeroize::Zeroizing;

/// NFKC form of `s` (NIST SP 800-63B section 5.1.1.2), in a buffer of exactly its length.
pub(crate) fn nfkc(s: &str) -> Zeroizing<String> {
    if is_nfkc_quick(s.chars()) == IsNormalized::Yes {
        // The common (ASCII) case: one exact copy, no normalization pass.
        return Zeroizing::new(s.to_owned());
    }
    // NFKC can expand text up to 18 times (UAX #15 section 9), so no fixed reservation is
    // safe: count first.
    exact(s.nfkc().map(char::len_utf8).sum(), s.nfkc())
}

/// Lowercase form of `s`, code point by code point (the same mapping for passwords and the
/// words looked for in them), in a buffer of exactly its length.
pub(crate) fn lowercase(s: &str) -> Zeroizing<String> {
    let lower = || s.chars().flat_map(char::to_lowercase);
    exact(lower().map(char::len_utf8).sum(), lower())
}

fn exact(len: usize, chars: impl Iterator<Item = char>) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(len));
    let capacity = out.capacity();
    out.extend(chars);
    debug_assert_eq!(out.capacity(), capacity, "the buffer reallocated");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nfkc_normalizes() {
        assert_eq!(nfkc("plain").as_str(), "plain");
        assert_eq!(nfkc("\u{FB01}").as_str(), "fi");
        assert_eq!(nfkc("e\u{301}").as_str(), "\u{e9}");
    }

    /// U+FDFA expands to 18 code points (33 bytes) from 3 bytes: far beyond any fixed
    /// reservation such as 3x. The buffer must be sized exactly, never grown.
    #[test]
    fn nfkc_of_expanding_text_is_sized_exactly() {
        let input = "\u{FDFA}".repeat(10) + "e\u{301}";
        let out = nfkc(&input);
        assert_eq!(out.chars().count(), 18 * 10 + 1);
        assert_eq!(out.capacity(), out.len());
        let plain = nfkc("already normal");
        assert_eq!(plain.capacity(), plain.len());
    }

    #[test]
    fn lowercase_is_sized_exactly_even_when_it_expands() {
        // U+0130 (2 bytes) lowercases to "i\u{307}" (3 bytes).
        let out = lowercase("\u{130}STANBUL");
        assert_eq!(out.as_str(), "i\u{307}stanbul");
        assert_eq!(out.capacity(), out.len());
    }
}
