//! Key texts: prefix, public id, public key, secret key, and parsing with the checksum.
//!
//! Secret key layout (ASCII, `_` separates the parts):
//!
//! ```text
//! rk_live_0123456789ABCDEF_abcdefghijklmnopqrstuvwxyzABCDEF1a2B3c
//! \/ \__/ \______________/ \______________________________/\____/
//! |   |    public id (16)        random (32, >= 190 bits)   CRC32 (6)
//! |   environment (1-16, [a-z0-9])
//! service (1-16, [a-z][a-z0-9]*)
//! ```
//!
//! The public key is the first three parts (`rk_live_0123456789ABCDEF`). The checksum is the
//! CRC32 (IEEE) of everything before it, in base62, as GitHub's token format does: it
//! rejects typos and truncations without a store lookup. It is not a MAC: anyone can compute
//! it, so it proves nothing about authenticity.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroizing;

use crate::base62::{self, CHECKSUM_LEN};
use crate::error::{ConfigError, Error, MalformedKey};

/// Length of a public id in base62 characters (about 95 bits: ids are unguessable too).
pub const PUBLIC_ID_LEN: usize = 16;
/// Random base62 characters in a secret: 32 * log2(62) = 190 bits from the OS CSPRNG.
pub const SECRET_RANDOM_LEN: usize = 32;
/// Longest service or environment part.
pub const MAX_PREFIX_PART_LEN: usize = 16;
/// Longest secret key text accepted by the parser: anything longer is rejected before any
/// other work.
pub const MAX_SECRET_KEY_LEN: usize =
    2 * MAX_PREFIX_PART_LEN + PUBLIC_ID_LEN + SECRET_RANDOM_LEN + CHECKSUM_LEN + 3;

const TAIL_LEN: usize = SECRET_RANDOM_LEN + CHECKSUM_LEN;

/// The public identifier of a key: 16 base62 characters. Not secret; it names the record.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PublicId([u8; PUBLIC_ID_LEN]);

impl std::hash::Hash for PublicId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // Two words instead of a length-prefixed byte slice: half the hashing work on the
        // store lookup of every check. Consistent with `Eq` (same bytes, same words).
        let (a, b) = self.0.split_at(8);
        state.write_u64(u64::from_le_bytes(a.try_into().unwrap_or([0; 8])));
        state.write_u64(u64::from_le_bytes(b.try_into().unwrap_or([0; 8])));
    }
}

impl PublicId {
    /// Parses 16 base62 characters.
    ///
    /// # Errors
    /// [`Error::Malformed`] with [`MalformedKey::PublicId`] for anything else.
    pub fn parse(text: &str) -> Result<Self, Error> {
        Self::from_bytes(text.as_bytes()).ok_or(Error::Malformed(MalformedKey::PublicId))
    }

    fn from_bytes(b: &[u8]) -> Option<Self> {
        let arr: [u8; PUBLIC_ID_LEN] = b.try_into().ok()?;
        base62::is_base62(&arr).then_some(Self(arr))
    }

    /// The id as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Only base62 ASCII bytes are ever stored, so this cannot fail.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for PublicId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for PublicId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicId({})", self.as_str())
    }
}

impl FromStr for PublicId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::parse(s)
    }
}

impl Serialize for PublicId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for PublicId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&s)
            .map_err(|_| serde::de::Error::custom("public id is not 16 base62 characters"))
    }
}

/// The fixed start of every key of one kind: a service name and an environment, such as
/// `rk_live` (written `rk_live_` in front of keys). Secret scanners match on it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct KeyPrefix {
    text: String,
    service_len: usize,
}

impl KeyPrefix {
    /// A prefix from its service (1-16 of `[a-z0-9]`, starting with a letter) and environment
    /// (1-16 of `[a-z0-9]`), for example `KeyPrefix::new("rk", "test")`.
    ///
    /// # Errors
    /// [`Error::Config`] with [`ConfigError::Prefix`] when a part is invalid.
    pub fn new(service: &str, environment: &str) -> Result<Self, Error> {
        check_service(service.as_bytes()).map_err(ConfigError::Prefix)?;
        check_environment(environment.as_bytes()).map_err(ConfigError::Prefix)?;
        Ok(Self {
            text: format!("{service}_{environment}"),
            service_len: service.len(),
        })
    }

    /// Parses `service_environment` (for example `rk_live`; a trailing `_` is allowed).
    ///
    /// # Errors
    /// [`Error::Config`] with [`ConfigError::Prefix`] when it is not that shape.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let text = text.strip_suffix('_').unwrap_or(text);
        let (service, environment) = text
            .split_once('_')
            .ok_or(ConfigError::Prefix(MalformedKey::Shape))?;
        Self::new(service, environment)
    }

    /// The service part (`rk`).
    #[must_use]
    pub fn service(&self) -> &str {
        &self.text[..self.service_len]
    }

    /// The environment part (`live`).
    #[must_use]
    pub fn environment(&self) -> &str {
        &self.text[self.service_len + 1..]
    }

    /// `service_environment` without the trailing separator (`rk_live`).
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// A regular expression that matches exactly this prefix's secret keys, for secret
    /// scanners (GitHub secret scanning partners, gitleaks, trufflehog): for `rk_live` it is
    /// `\brk_live_[0-9A-Za-z]{16}_[0-9A-Za-z]{38}\b`. Candidates should then be confirmed
    /// with [`ParsedApiKey::parse`] (the checksum), as [`find_keys`](crate::find_keys) does.
    #[must_use]
    pub fn scanner_regex(&self) -> String {
        format!(
            r"\b{}_[0-9A-Za-z]{{{PUBLIC_ID_LEN}}}_[0-9A-Za-z]{{{TAIL_LEN}}}\b",
            self.text
        )
    }
}

impl Default for KeyPrefix {
    /// `rk_live`, Rampart's own prefix.
    fn default() -> Self {
        Self {
            text: "rk_live".to_owned(),
            service_len: 2,
        }
    }
}

impl fmt::Display for KeyPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for KeyPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyPrefix({})", self.text)
    }
}

impl FromStr for KeyPrefix {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::parse(s)
    }
}

impl Serialize for KeyPrefix {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for KeyPrefix {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&s).map_err(|_| serde::de::Error::custom("invalid key prefix"))
    }
}

fn check_service(s: &[u8]) -> Result<(), MalformedKey> {
    match s.split_first() {
        Some((first, rest))
            if first.is_ascii_lowercase()
                && s.len() <= MAX_PREFIX_PART_LEN
                && rest
                    .iter()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()) =>
        {
            Ok(())
        }
        _ => Err(MalformedKey::Service),
    }
}

fn check_environment(s: &[u8]) -> Result<(), MalformedKey> {
    if !s.is_empty()
        && s.len() <= MAX_PREFIX_PART_LEN
        && s.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    {
        Ok(())
    } else {
        Err(MalformedKey::Environment)
    }
}

/// The public half of a pair: `service_environment_publicid`. May appear in logs,
/// dashboards and URLs.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PublicKey {
    prefix: KeyPrefix,
    id: PublicId,
}

impl PublicKey {
    /// The public key for an id under a prefix.
    #[must_use]
    pub fn new(prefix: KeyPrefix, id: PublicId) -> Self {
        Self { prefix, id }
    }

    /// Parses `service_environment_publicid`.
    ///
    /// # Errors
    /// [`Error::Malformed`] naming the first part that is wrong.
    pub fn parse(text: &str) -> Result<Self, Error> {
        if text.is_empty() {
            return Err(MalformedKey::Empty.into());
        }
        if text.len() > MAX_SECRET_KEY_LEN {
            return Err(MalformedKey::TooLong {
                max: MAX_SECRET_KEY_LEN,
            }
            .into());
        }
        let mut parts = text.split('_');
        let (Some(service), Some(env), Some(id), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(MalformedKey::Shape.into());
        };
        check_service(service.as_bytes())?;
        check_environment(env.as_bytes())?;
        let id = PublicId::from_bytes(id.as_bytes()).ok_or(MalformedKey::PublicId)?;
        let prefix = KeyPrefix {
            text: format!("{service}_{env}"),
            service_len: service.len(),
        };
        Ok(Self { prefix, id })
    }

    /// The public id.
    #[must_use]
    pub fn public_id(&self) -> PublicId {
        self.id
    }

    /// The prefix.
    #[must_use]
    pub fn prefix(&self) -> &KeyPrefix {
        &self.prefix
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}_{}", self.prefix, self.id)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

impl FromStr for PublicKey {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::parse(s)
    }
}

/// A secret key as issued: shown to its owner once, never stored. Zeroized on drop,
/// `[REDACTED]` in `Debug`, no `Display`, no `Clone`; read it with
/// [`expose_secret`](Self::expose_secret).
pub struct SecretKey(Zeroizing<String>);

impl SecretKey {
    /// The key text, to hand to its owner once.
    #[must_use]
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// The key's public id (the same as in the public key).
    #[must_use]
    pub fn public_id(&self) -> PublicId {
        // Issued keys are always well formed; see `generate`.
        let body = &self.0.as_bytes()[..self.0.len() - TAIL_LEN - 1];
        PublicId::from_bytes(&body[body.len() - PUBLIC_ID_LEN..]).unwrap_or(PublicId([b'0'; 16]))
    }

    /// The last four characters, for display next to the prefix (`rk_live_...wXyZ`).
    #[must_use]
    pub fn last_four(&self) -> &str {
        &self.0[self.0.len() - 4..]
    }

    /// Parses this key (it always parses; a convenience for tests and examples).
    ///
    /// # Errors
    /// Never for keys produced by this crate.
    pub fn parse(&self) -> Result<ParsedApiKey, Error> {
        ParsedApiKey::parse(&self.0)
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey([REDACTED])")
    }
}

/// Builds a new secret key text for `prefix` and `id` with fresh randomness and its checksum.
pub(crate) fn generate(
    rng: &ring::rand::SystemRandom,
    prefix: &KeyPrefix,
    id: PublicId,
) -> Result<SecretKey, Error> {
    let len = prefix.text.len() + 1 + PUBLIC_ID_LEN + 1 + TAIL_LEN;
    // Capacity reserved up front: the string never reallocates, so no unzeroized copy of
    // the secret is left behind in freed memory.
    let mut text = Zeroizing::new(String::with_capacity(len));
    text.push_str(&prefix.text);
    text.push('_');
    text.push_str(id.as_str());
    text.push('_');
    base62::push_random(rng, &mut text, SECRET_RANDOM_LEN)?;
    let sum = base62::checksum(text.as_bytes());
    text.extend(sum.iter().copied().map(char::from));
    debug_assert_eq!(text.len(), len);
    Ok(SecretKey(text))
}

/// Draws a fresh public id from the OS CSPRNG.
pub(crate) fn generate_public_id(rng: &ring::rand::SystemRandom) -> Result<PublicId, Error> {
    let mut text = Zeroizing::new(String::with_capacity(PUBLIC_ID_LEN));
    base62::push_random(rng, &mut text, PUBLIC_ID_LEN)?;
    PublicId::from_bytes(text.as_bytes()).ok_or(Error::Random)
}

/// A checked key borrowed from the caller's text: what [`ParsedApiKey`] holds, without the
/// copy. [`ApiKeys::check`](crate::ApiKeys::check) works on this so the request path neither
/// allocates nor copies the secret (the caller owns, and wipes, its own buffer).
#[derive(Clone, Copy)]
pub(crate) struct KeyView<'a> {
    pub(crate) bytes: &'a [u8],
    service_len: usize,
    prefix_len: usize,
    pub(crate) id: PublicId,
}

impl<'a> KeyView<'a> {
    /// Checks shape and checksum (see [`ParsedApiKey::parse`] for the errors).
    pub(crate) fn split(text: &'a str) -> Result<Self, Error> {
        let b = text.as_bytes();
        if b.is_empty() {
            return Err(MalformedKey::Empty.into());
        }
        if b.len() > MAX_SECRET_KEY_LEN {
            return Err(MalformedKey::TooLong {
                max: MAX_SECRET_KEY_LEN,
            }
            .into());
        }
        // Split from the right: the last three parts have fixed lengths.
        let Some(sep3) = b.len().checked_sub(TAIL_LEN + 1) else {
            return Err(MalformedKey::Shape.into());
        };
        let Some(sep2) = sep3.checked_sub(PUBLIC_ID_LEN + 1) else {
            return Err(MalformedKey::Shape.into());
        };
        if b[sep3] != b'_' || b[sep2] != b'_' {
            return Err(MalformedKey::Shape.into());
        }
        let prefix = &b[..sep2];
        let Some(service_len) = prefix.iter().position(|&c| c == b'_') else {
            return Err(MalformedKey::Shape.into());
        };
        check_service(&prefix[..service_len])?;
        check_environment(&prefix[service_len + 1..])?;
        let id = PublicId::from_bytes(&b[sep2 + 1..sep3]).ok_or(MalformedKey::PublicId)?;
        let tail = &b[sep3 + 1..];
        // The secret part: checked without data-dependent branches (see `base62::digit_ct`).
        // The last six characters are validated by `decode_checksum` below, also branch-free.
        let random: &[u8; SECRET_RANDOM_LEN] = tail[..SECRET_RANDOM_LEN]
            .try_into()
            .map_err(|_| MalformedKey::Secret)?;
        if !base62::all_base62_ct(random) {
            return Err(MalformedKey::Secret.into());
        }
        let (body, sum) = b.split_at(b.len() - CHECKSUM_LEN);
        let expected = crc32fast::hash(body);
        let Some(written) = base62::decode_checksum(sum) else {
            return Err(MalformedKey::Secret.into());
        };
        if written != u64::from(expected) {
            return Err(Error::BadChecksum { public_id: id });
        }
        Ok(Self {
            bytes: b,
            service_len,
            prefix_len: sep2,
            id,
        })
    }

    /// `service_environment` as bytes.
    pub(crate) fn prefix_bytes(&self) -> &'a [u8] {
        &self.bytes[..self.prefix_len]
    }
}

/// A secret key whose shape and checksum have been checked. The only way to get one is
/// [`ParsedApiKey::parse`] (or [`parse_pair`](Self::parse_pair)), so holding one proves the
/// checksum passed; it proves nothing about authenticity until checked against a record.
///
/// It holds the secret text: zeroized on drop, `[REDACTED]` in `Debug`.
pub struct ParsedApiKey {
    // Inline rather than a `String`: no allocation on the hot path of every request.
    buf: Zeroizing<[u8; MAX_SECRET_KEY_LEN]>,
    len: usize,
    service_len: usize,
    prefix_len: usize,
    id: PublicId,
}

impl ParsedApiKey {
    /// Parses a secret key and checks its checksum. The text must be exactly a key: no
    /// surrounding whitespace, no `Bearer ` (strip those first).
    ///
    /// # Errors
    /// [`Error::Malformed`] (empty, longer than [`MAX_SECRET_KEY_LEN`], bad shape or part),
    /// [`Error::BadChecksum`] (carrying the public id written in the text).
    ///
    /// ```
    /// # use rampart_apikey::{ParsedApiKey, Error};
    /// let err = ParsedApiKey::parse("rk_live_nope").unwrap_err();
    /// assert!(matches!(err, Error::Malformed(_)));
    /// ```
    pub fn parse(text: &str) -> Result<Self, Error> {
        let view = KeyView::split(text)?;
        let mut buf = Zeroizing::new([0u8; MAX_SECRET_KEY_LEN]);
        buf[..view.bytes.len()].copy_from_slice(view.bytes);
        Ok(Self {
            buf,
            len: view.bytes.len(),
            service_len: view.service_len,
            prefix_len: view.prefix_len,
            id: view.id,
        })
    }

    /// A borrowed view of this key, for the checking code.
    pub(crate) fn view(&self) -> KeyView<'_> {
        KeyView {
            bytes: &self.buf[..self.len],
            service_len: self.service_len,
            prefix_len: self.prefix_len,
            id: self.id,
        }
    }

    /// The pair form: a public key and its secret key, sent together (for example as HTTP
    /// Basic credentials). Both must parse and name the same public id.
    ///
    /// # Errors
    /// As [`parse`](Self::parse) for either text; [`Error::PairMismatch`] (with the public
    /// key's id) when they name different ids or prefixes.
    pub fn parse_pair(public_key: &str, secret_key: &str) -> Result<Self, Error> {
        let public = PublicKey::parse(public_key)?;
        let parsed = Self::parse(secret_key)?;
        if public.id != parsed.id || public.prefix.text != parsed.prefix() {
            return Err(Error::PairMismatch {
                public_id: public.id,
            });
        }
        Ok(parsed)
    }

    /// The public id inside the key: look the record up by this.
    #[must_use]
    pub fn public_id(&self) -> PublicId {
        self.id
    }

    /// `service_environment` (`rk_live`).
    #[must_use]
    pub fn prefix(&self) -> &str {
        &self.text()[..self.prefix_len]
    }

    /// The service part (`rk`).
    #[must_use]
    pub fn service(&self) -> &str {
        &self.text()[..self.service_len]
    }

    /// The environment part (`live`).
    #[must_use]
    pub fn environment(&self) -> &str {
        &self.text()[self.service_len + 1..self.prefix_len]
    }

    /// The public key of this secret key.
    #[must_use]
    pub fn public_key(&self) -> PublicKey {
        PublicKey {
            prefix: KeyPrefix {
                text: self.prefix().to_owned(),
                service_len: self.service_len,
            },
            id: self.id,
        }
    }

    /// The last four characters (part of the checksum), for display.
    #[must_use]
    pub fn last_four(&self) -> &str {
        &self.text()[self.len - 4..]
    }

    /// The full secret key text.
    #[must_use]
    pub fn expose_secret(&self) -> &str {
        self.text()
    }

    fn text(&self) -> &str {
        // Only validated ASCII is ever stored (see `parse`), so this cannot fail.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

impl fmt::Debug for ParsedApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParsedApiKey")
            .field("prefix", &self.prefix())
            .field("public_id", &self.id)
            .field("secret", &"[REDACTED]")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SecretKey {
        let rng = ring::rand::SystemRandom::new();
        let id = generate_public_id(&rng).unwrap();
        generate(&rng, &KeyPrefix::new("rk", "test").unwrap(), id).unwrap()
    }

    #[test]
    fn generated_key_has_documented_layout() {
        let k = key();
        let t = k.expose_secret();
        assert_eq!(t.len(), 3 + 5 + 17 + 38);
        assert!(t.starts_with("rk_test_"));
        let p = ParsedApiKey::parse(t).unwrap();
        assert_eq!(p.prefix(), "rk_test");
        assert_eq!(p.service(), "rk");
        assert_eq!(p.environment(), "test");
        assert_eq!(p.public_id(), k.public_id());
        assert_eq!(p.last_four(), k.last_four());
        assert_eq!(
            p.public_key().to_string(),
            format!("rk_test_{}", k.public_id())
        );
    }

    #[test]
    fn debug_output_never_contains_the_secret() {
        let k = key();
        let p = k.parse().unwrap();
        let random = &k.expose_secret()[25..57];
        for dbg in [format!("{k:?}"), format!("{p:?}")] {
            assert!(dbg.contains("[REDACTED]"), "{dbg}");
            assert!(!dbg.contains(random), "{dbg}");
        }
    }

    #[test]
    fn prefix_rules() {
        assert!(KeyPrefix::new("rk", "live").is_ok());
        assert!(KeyPrefix::new("a1", "2").is_ok());
        for (s, e) in [
            ("", "live"),
            ("1rk", "live"),
            ("Rk", "live"),
            ("r_k", "live"),
            ("rk", ""),
            ("rk", "Live"),
            ("rk", "a_b"),
            ("abcdefghijklmnopq", "x"),
        ] {
            assert!(KeyPrefix::new(s, e).is_err(), "{s}_{e}");
        }
        assert_eq!(KeyPrefix::parse("rk_live_").unwrap(), KeyPrefix::default());
        assert!(KeyPrefix::parse("rklive").is_err());
    }

    #[test]
    fn public_key_parses_and_rejects() {
        let k = key();
        let pk = format!("rk_test_{}", k.public_id());
        assert_eq!(PublicKey::parse(&pk).unwrap().public_id(), k.public_id());
        assert!(PublicKey::parse(k.expose_secret()).is_err());
        assert!(PublicKey::parse("rk_test_short").is_err());
    }
}
