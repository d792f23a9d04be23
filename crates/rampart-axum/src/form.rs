//! Strict `application/x-www-form-urlencoded` reading: bounded, and refusing rather than
//! replacing what is not UTF-8 (a replaced byte would make two different inputs equal).

use axum::body::Body;
use percent_encoding::percent_decode;
use zeroize::Zeroizing;

use crate::error::Error;

/// Most fields read from one form or query: a login form has two, a SAML POST three.
const MAX_FIELDS: usize = 16;

/// A parsed form or query string.
#[derive(Debug, Default)]
pub(crate) struct Fields(Vec<(String, String)>);

impl Fields {
    /// Parses `input` (`a=1&b=2`, `+` for space, percent-escapes); every name and value must
    /// be UTF-8 after decoding.
    pub(crate) fn parse(input: &[u8]) -> Result<Self, Error> {
        let mut out = Vec::new();
        for pair in input.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
            if out.len() == MAX_FIELDS {
                return Err(Error::BadForm("too many fields"));
            }
            let (name, value) = match pair.iter().position(|b| *b == b'=') {
                Some(at) => (&pair[..at], &pair[at + 1..]),
                None => (pair, &b""[..]),
            };
            out.push((decode(name)?, decode(value)?));
        }
        Ok(Self(out))
    }

    /// The one value of `name`: `None` when absent; an error when repeated (which of two
    /// values a component reads is a classic source of confusion bugs).
    pub(crate) fn get(&self, name: &str) -> Result<Option<&str>, Error> {
        let mut found = self.0.iter().filter(|(n, _)| n == name);
        match (found.next(), found.next()) {
            (None, _) => Ok(None),
            (Some((_, v)), None) => Ok(Some(v)),
            (Some(_), Some(_)) => Err(Error::BadForm("repeated field")),
        }
    }

    /// Like [`get`](Self::get), but required.
    pub(crate) fn require(&self, name: &str) -> Result<&str, Error> {
        self.get(name)?.ok_or(Error::BadForm("missing field"))
    }

    /// Takes the one value of `name` out (for a secret, so no copy is left behind).
    pub(crate) fn take(&mut self, name: &str) -> Result<Option<String>, Error> {
        self.get(name)?;
        Ok(self
            .0
            .iter()
            .position(|(n, _)| n == name)
            .map(|at| self.0.swap_remove(at).1))
    }
}

fn decode(raw: &[u8]) -> Result<String, Error> {
    // May be a password: the intermediate copy is wiped too.
    let plus_as_space: Zeroizing<Vec<u8>> = Zeroizing::new(
        raw.iter()
            .map(|b| if *b == b'+' { b' ' } else { *b })
            .collect(),
    );
    let bytes: Vec<u8> = percent_decode(&plus_as_space).collect();
    String::from_utf8(bytes).map_err(|e| {
        drop(Zeroizing::new(e.into_bytes()));
        Error::BadForm("not utf-8")
    })
}

/// Reads at most `limit` bytes of `body`; more is 413.
pub(crate) async fn read_body(body: Body, limit: usize) -> Result<Vec<u8>, Error> {
    use http_body_util::BodyExt;
    match http_body_util::Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes().to_vec()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(Error::PayloadTooLarge),
        Err(_) => Err(Error::BadForm("body could not be read")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_utf8_value_is_refused_not_replaced() {
        let e = Fields::parse(b"account=ann&password=%FF%FE").unwrap_err();
        assert_eq!(e.kind(), "bad_form");
    }

    #[test]
    fn plus_and_escapes_decode() {
        let f = Fields::parse(b"a=x+y%2Bz&b=").unwrap();
        assert_eq!(f.get("a").unwrap(), Some("x y+z"));
        assert_eq!(f.get("b").unwrap(), Some(""));
        assert_eq!(f.get("c").unwrap(), None);
    }

    #[test]
    fn repeated_field_is_refused() {
        let f = Fields::parse(b"a=1&a=2").unwrap();
        assert!(f.get("a").is_err());
    }

    #[test]
    fn field_count_is_bounded() {
        let many = "a=1&".repeat(MAX_FIELDS + 1);
        assert!(Fields::parse(many.as_bytes()).is_err());
    }
}
