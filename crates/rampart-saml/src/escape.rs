//! Escaping for the XML and HTML this crate writes. One home for it: every value that goes
//! into an attribute or text goes through here.

/// Escapes text for an XML/HTML attribute value in double quotes. Tab, newline and carriage
/// return become character references so attribute-value normalisation keeps them (XML 1.0,
/// 3.3.3).
pub(crate) fn attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes character data.
pub(crate) fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            super::attr("a\"b<c>&'\n"),
            "a&quot;b&lt;c&gt;&amp;&#39;&#10;"
        );
        assert_eq!(super::text("<script>&"), "&lt;script&gt;&amp;");
    }
}
