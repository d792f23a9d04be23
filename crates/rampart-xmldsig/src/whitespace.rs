//! XML's own white space, and nothing else.
//!
//! XML 1.0 (section 2.3, production `S`) names four white-space characters: space, tab, CR
//! and LF. Rust's `str::trim` strips every Unicode `White_Space` character (U+00A0 NO-BREAK
//! SPACE, U+3000 IDEOGRAPHIC SPACE, U+2028 LINE SEPARATOR, ...), none of which is white space
//! to an XML processor or to the IdP that signed the value: trimming with it turns
//! `alice\u{a0}` into `alice`, another person. Values read from signed XML go through these
//! functions, or are compared exactly.
//!
//! ```
//! use rampart_xmldsig::{collapse_white_space, trim_xml_white_space};
//!
//! assert_eq!(trim_xml_white_space("\n  https://idp.example.com/\t"), "https://idp.example.com/");
//! // U+00A0 is not XML white space: the value is kept as signed.
//! assert_eq!(trim_xml_white_space("alice\u{a0}"), "alice\u{a0}");
//! assert_eq!(collapse_white_space(" a \t\n b "), "a b");
//! ```

use std::borrow::Cow;

/// Whether `c` is XML white space (XML 1.0, section 2.3: `#x20 | #x9 | #xD | #xA`).
///
/// ```
/// assert!(rampart_xmldsig::is_xml_white_space('\t'));
/// assert!(!rampart_xmldsig::is_xml_white_space('\u{3000}'));
/// ```
#[must_use]
pub const fn is_xml_white_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// `s` without leading and trailing XML white space; every other character is kept.
///
/// ```
/// assert_eq!(rampart_xmldsig::trim_xml_white_space(" \u{3000}x "), "\u{3000}x");
/// ```
#[must_use]
pub fn trim_xml_white_space(s: &str) -> &str {
    s.trim_matches(is_xml_white_space)
}

/// The XML Schema `whiteSpace="collapse"` form of `s` (XML Schema part 2, section 4.3.6),
/// the facet of `xs:anyURI`, `xs:dateTime`, `xs:boolean`...: XML white space at either end
/// removed, every inner run of it replaced by one space. Borrowed when that changes nothing
/// inside the value (the common case: pretty-printing only adds white space at the ends).
///
/// ```
/// use std::borrow::Cow;
/// assert!(matches!(rampart_xmldsig::collapse_white_space("\n  urn:x\n"), Cow::Borrowed("urn:x")));
/// ```
#[must_use]
pub fn collapse_white_space(s: &str) -> Cow<'_, str> {
    let t = trim_xml_white_space(s);
    let needs_work = t
        .as_bytes()
        .windows(2)
        .any(|w| matches!(w, [b' ', b' ' | b'\t' | b'\r' | b'\n']))
        || t.contains(['\t', '\r', '\n']);
    if !needs_work {
        return Cow::Borrowed(t);
    }
    let mut out = String::with_capacity(t.len());
    let mut in_run = false;
    for c in t.chars() {
        if is_xml_white_space(c) {
            in_run = true;
        } else {
            if in_run {
                out.push(' ');
                in_run = false;
            }
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every Unicode `White_Space` character that is not XML white space (Unicode 15,
    /// PropList.txt), the characters `str::trim` strips and XML keeps.
    const UNICODE_ONLY: &[char] = &[
        '\u{000B}', '\u{000C}', '\u{0085}', '\u{00A0}', '\u{1680}', '\u{2000}', '\u{2001}',
        '\u{2002}', '\u{2003}', '\u{2004}', '\u{2005}', '\u{2006}', '\u{2007}', '\u{2008}',
        '\u{2009}', '\u{200A}', '\u{2028}', '\u{2029}', '\u{202F}', '\u{205F}', '\u{3000}',
    ];

    #[test]
    fn the_list_is_every_unicode_white_space_that_xml_does_not_know() {
        let all: Vec<char> = (0..=0x10FFFF_u32)
            .filter_map(char::from_u32)
            .filter(|c| c.is_whitespace() && !is_xml_white_space(*c))
            .collect();
        assert_eq!(all, UNICODE_ONLY);
    }

    #[test]
    fn unicode_white_space_is_never_trimmed_or_collapsed() {
        for &c in UNICODE_ONLY {
            for s in [format!("{c}alice"), format!("alice{c}"), format!("a{c}b")] {
                assert_eq!(trim_xml_white_space(&s), s, "{:04X}", u32::from(c));
                assert_eq!(collapse_white_space(&s), s, "{:04X}", u32::from(c));
            }
        }
    }

    #[test]
    fn xml_white_space_is_trimmed_at_both_ends_only() {
        assert_eq!(trim_xml_white_space(" \t\r\na b\n"), "a b");
        assert_eq!(trim_xml_white_space(" \t\r\n"), "");
        assert_eq!(trim_xml_white_space(""), "");
    }

    #[test]
    fn collapse_follows_the_schema_facet() {
        assert_eq!(collapse_white_space("a  b"), "a b");
        assert_eq!(collapse_white_space("a\tb"), "a b");
        assert_eq!(collapse_white_space("a \r\n\t b"), "a b");
        assert_eq!(collapse_white_space("a b"), "a b");
        assert!(matches!(
            collapse_white_space(" a b "),
            Cow::Borrowed("a b")
        ));
        assert_eq!(collapse_white_space("  "), "");
    }
}
