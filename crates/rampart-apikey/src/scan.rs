//! Finding secret keys in arbitrary text (logs, commits, tickets) and redacting them.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use crate::key::{ParsedApiKey, PublicId};

/// The regular expression for secret scanners, matching a secret key of any prefix:
///
/// ```text
/// [a-z][a-z0-9]{0,15}_[a-z0-9]{1,16}_[0-9A-Za-z]{16}_[0-9A-Za-z]{38}
/// ```
///
/// Confirm each candidate with its checksum ([`ParsedApiKey::parse`]); [`find_keys`] does.
/// For one service, [`KeyPrefix::scanner_regex`](crate::KeyPrefix::scanner_regex) gives a
/// tighter expression anchored on the literal prefix.
pub const SCANNER_REGEX: &str =
    r"[a-z][a-z0-9]{0,15}_[a-z0-9]{1,16}_[0-9A-Za-z]{16}_[0-9A-Za-z]{38}";

static SCANNER: LazyLock<Regex> = LazyLock::new(|| {
    // The pattern is a constant checked by the tests; failing here is a build defect.
    Regex::new(SCANNER_REGEX).unwrap_or_else(|e| panic!("SCANNER_REGEX does not compile: {e}"))
});

/// A checksum-valid secret key found in a text. Holds where it is, not the secret itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundKey {
    /// Byte range of the key in the scanned text.
    pub range: Range<usize>,
    /// The key's public id, to find its owner and revoke it.
    pub public_id: PublicId,
    /// `service_environment` of the key.
    pub prefix: String,
}

/// Finds every checksum-valid secret key in `text`, in order, without overlaps. Strings
/// that look like keys but fail the checksum are ignored (few false positives: a random
/// string passes a CRC32 with probability 2^-32).
///
/// ```
/// # use rampart_apikey::{find_keys, ApiKeys, HashingKey, KeyOptions, KeyPrefix, Keyset};
/// # let keys = ApiKeys::new(KeyPrefix::default(), Keyset::new(1, HashingKey::generate()?));
/// # let issued = keys.issue(KeyOptions::new(), std::time::SystemTime::now())?;
/// let log = format!("GET /orders auth={} 200", issued.secret_key.expose_secret());
/// let found = find_keys(&log);
/// assert_eq!(found.len(), 1);
/// assert_eq!(found[0].public_id, issued.public_key.public_id());
/// # Ok::<(), rampart_apikey::Error>(())
/// ```
#[must_use]
pub fn find_keys(text: &str) -> Vec<FoundKey> {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(m) = SCANNER.find_at(text, pos) {
        if let Ok(parsed) = ParsedApiKey::parse(m.as_str()) {
            out.push(FoundKey {
                range: m.range(),
                public_id: parsed.public_id(),
                prefix: parsed.prefix().to_owned(),
            });
            pos = m.end();
        } else {
            // The leftmost match may have swallowed text before a real key (for example
            // `x_rk_live_...` read as service `x`): retry one character further on. The
            // match starts with an ASCII letter, so `start + 1` is a char boundary.
            pos = m.start() + 1;
        }
    }
    out
}

/// Replaces every checksum-valid secret key in `text` by its redacted form, which keeps
/// the prefix, the public id (public by design, it names the key's owner) and the last
/// four characters: `rk_live_0123456789ABCDEF_****wXyZ`. Returns the text unchanged
/// (borrowed) when it holds no key.
///
/// ```
/// # use rampart_apikey::{redact, ApiKeys, HashingKey, KeyOptions, KeyPrefix, Keyset};
/// # use std::borrow::Cow;
/// # let keys = ApiKeys::new(KeyPrefix::default(), Keyset::new(1, HashingKey::generate()?));
/// # let issued = keys.issue(KeyOptions::new(), std::time::SystemTime::now())?;
/// let secret = issued.secret_key.expose_secret();
/// let line = format!("POST /orders Authorization: Bearer {secret} -> 201");
/// let safe = redact(&line);
/// assert!(!safe.contains(secret));
/// let shown = format!("{}_****{}", issued.public_key, issued.secret_key.last_four());
/// assert_eq!(safe, format!("POST /orders Authorization: Bearer {shown} -> 201"));
/// // A look-alike that fails the checksum (one character changed) is left alone, and a
/// // text without keys is not copied.
/// let i = secret.len() - 10;
/// let other = if &secret[i..=i] == "A" { "B" } else { "A" };
/// let typo = format!("{}{other}{}", &secret[..i], &secret[i + 1..]);
/// assert_eq!(redact(&typo), typo);
/// assert!(matches!(redact("no keys here"), Cow::Borrowed(_)));
/// # Ok::<(), rampart_apikey::Error>(())
/// ```
#[must_use]
pub fn redact(text: &str) -> Cow<'_, str> {
    let mut current = Cow::Borrowed(text);
    // Keys can overlap (the last characters of one can start another, which `find_keys`
    // skips); redacting again until nothing is found covers those too. Each pass removes
    // base62 runs, so this ends, normally after one extra scan.
    loop {
        let found = find_keys(&current);
        if found.is_empty() {
            return current;
        }
        current = Cow::Owned(redact_found(&current, &found));
    }
}

fn redact_found(text: &str, found: &[FoundKey]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for f in found {
        out.push_str(&text[last..f.range.start]);
        let key = &text[f.range.clone()];
        // Up to and including the `_` after the public id; then the last four characters.
        let keep = f.prefix.len() + 1 + crate::key::PUBLIC_ID_LEN + 1;
        out.push_str(&key[..keep]);
        out.push_str("****");
        out.push_str(&key[key.len() - 4..]);
        last = f.range.end;
    }
    out.push_str(&text[last..]);
    out
}

/// The redacted form of one secret key, for display (`rk_live_0123456789ABCDEF_****wXyZ`).
#[must_use]
pub fn redact_key(key: &ParsedApiKey) -> String {
    format!(
        "{}_{}_****{}",
        key.prefix(),
        key.public_id(),
        key.last_four()
    )
}
