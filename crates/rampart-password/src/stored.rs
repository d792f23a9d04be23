//! Parsing of stored hashes: argon2 PHC strings and the legacy formats.
//!
//! Stored hashes are untrusted input. The parser has explicit limits (length
//! [`MAX_STORED_HASH_LEN`], salts and outputs at most 64 bytes as in the PHC string format
//! specification) and returns [`MalformedHash`] for anything it does not accept; it never
//! panics and never echoes the input in an error.

use base64::Engine as _;
use password_hash::PasswordHash;
use zeroize::Zeroizing;

use crate::error::{Error, MalformedHash};
use crate::pepper::version_from_keyid;

/// Longest stored hash accepted, in bytes. The longest legitimate form (argon2 with a 64-byte
/// salt, a 64-byte output, `keyid` and `data`) is about 250 bytes.
pub const MAX_STORED_HASH_LEN: usize = 512;

/// Salts and outputs are at most 64 bytes (PHC string format specification).
const MAX_BYTES: usize = 64;

/// A hash algorithm recognised in a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// argon2id (the current algorithm).
    Argon2id,
    /// argon2i (verified, then upgraded).
    Argon2i,
    /// argon2d (verified, then upgraded).
    Argon2d,
    /// bcrypt `$2a$`, `$2b$`, `$2y$` (feature `legacy`).
    Bcrypt,
    /// scrypt PHC string `$scrypt$ln=..,r=..,p=..$salt$hash` (feature `legacy`).
    Scrypt,
    /// PBKDF2-HMAC-SHA256 PHC string `$pbkdf2-sha256$i=..[,l=..]$salt$hash` (feature `legacy`).
    Pbkdf2Sha256,
    /// PBKDF2-HMAC-SHA512 PHC string `$pbkdf2-sha512$...` (feature `legacy`).
    Pbkdf2Sha512,
    /// Django's `pbkdf2_sha256$iterations$salt$hash` (feature `legacy`).
    DjangoPbkdf2Sha256,
}

impl Algorithm {
    /// The name used in hashes and messages.
    #[must_use]
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Argon2id => "argon2id",
            Self::Argon2i => "argon2i",
            Self::Argon2d => "argon2d",
            Self::Bcrypt => "bcrypt",
            Self::Scrypt => "scrypt",
            Self::Pbkdf2Sha256 => "pbkdf2-sha256",
            Self::Pbkdf2Sha512 => "pbkdf2-sha512",
            Self::DjangoPbkdf2Sha256 => "django pbkdf2_sha256",
        }
    }

    /// Whether this is a legacy format that always needs an upgrade once verified.
    #[must_use]
    pub fn is_legacy(&self) -> bool {
        !matches!(self, Self::Argon2id)
    }
}

/// Public facts about a stored hash, read without any password.
///
/// ```
/// use rampart_password::{inspect, Algorithm};
/// let info = inspect("$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$FqGkmHNGCd0BRW2kBt6fPZ2pPmyGwwChL8FGUhTOSSI").unwrap();
/// assert_eq!(info.algorithm(), Algorithm::Argon2id);
/// assert_eq!(info.argon2_params(), Some((19456, 2, 1)));
/// assert!(inspect("not a hash").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashInfo {
    algorithm: Algorithm,
    argon2: Option<(u32, u32, u32)>,
    pepper_version: Option<u32>,
}

impl HashInfo {
    /// The algorithm.
    #[must_use]
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// `(m_kib, t, p)` for argon2 hashes.
    #[must_use]
    pub fn argon2_params(&self) -> Option<(u32, u32, u32)> {
        self.argon2
    }

    /// The pepper version from the `keyid` parameter, if any.
    #[must_use]
    pub fn pepper_version(&self) -> Option<u32> {
        self.pepper_version
    }
}

/// Parses a stored hash and reports its algorithm and public parameters.
///
/// # Errors
/// [`Error::Malformed`] for anything that is not a well-formed hash of a recognised format,
/// [`Error::UnsupportedAlgorithm`] for a well-formed PHC string of another algorithm.
pub fn inspect(stored: &str) -> crate::Result<HashInfo> {
    let parsed = Parsed::parse(stored)?;
    Ok(match &parsed {
        Parsed::Argon2(a) => HashInfo {
            algorithm: a.algorithm_public(),
            argon2: Some((a.m_kib, a.t, a.p)),
            pepper_version: a.pepper_version,
        },
        other => HashInfo {
            algorithm: other.algorithm(),
            argon2: None,
            pepper_version: None,
        },
    })
}

/// A parsed argon2 hash. Salt and output are not secret on their own but are kept out of
/// `Debug` anyway so logs of errors never carry material for offline cracking.
pub(crate) struct Argon2Hash {
    pub(crate) algorithm: argon2::Algorithm,
    pub(crate) version: argon2::Version,
    pub(crate) m_kib: u32,
    pub(crate) t: u32,
    pub(crate) p: u32,
    pub(crate) pepper_version: Option<u32>,
    pub(crate) data: Vec<u8>,
    pub(crate) salt: Vec<u8>,
    pub(crate) output: Zeroizing<Vec<u8>>,
}

impl Argon2Hash {
    fn algorithm_public(&self) -> Algorithm {
        match self.algorithm {
            argon2::Algorithm::Argon2i => Algorithm::Argon2i,
            argon2::Algorithm::Argon2d => Algorithm::Argon2d,
            argon2::Algorithm::Argon2id => Algorithm::Argon2id,
        }
    }
}

/// A parsed stored hash of any supported format.
pub(crate) enum Parsed {
    Argon2(Argon2Hash),
    /// bcrypt is verified by the `bcrypt` crate from the original text; the cost was
    /// parsed here so the cap applies first.
    #[cfg_attr(not(feature = "legacy"), allow(dead_code))]
    Bcrypt {
        cost: u32,
        text: String,
    },
    #[cfg_attr(not(feature = "legacy"), allow(dead_code))]
    Scrypt {
        log_n: u8,
        r: u32,
        p: u32,
        salt: Vec<u8>,
        output: Zeroizing<Vec<u8>>,
    },
    #[cfg_attr(not(feature = "legacy"), allow(dead_code))]
    Pbkdf2 {
        sha512: bool,
        rounds: u32,
        salt: Vec<u8>,
        output: Zeroizing<Vec<u8>>,
    },
    #[cfg_attr(not(feature = "legacy"), allow(dead_code))]
    Django {
        rounds: u32,
        salt: String,
        output: Zeroizing<Vec<u8>>,
    },
}

impl Parsed {
    pub(crate) fn algorithm(&self) -> Algorithm {
        match self {
            Self::Argon2(a) => a.algorithm_public(),
            Self::Bcrypt { .. } => Algorithm::Bcrypt,
            Self::Scrypt { .. } => Algorithm::Scrypt,
            Self::Pbkdf2 { sha512: false, .. } => Algorithm::Pbkdf2Sha256,
            Self::Pbkdf2 { sha512: true, .. } => Algorithm::Pbkdf2Sha512,
            Self::Django { .. } => Algorithm::DjangoPbkdf2Sha256,
        }
    }

    pub(crate) fn parse(stored: &str) -> Result<Self, Error> {
        if stored.is_empty() {
            return Err(MalformedHash::Empty.into());
        }
        if stored.len() > MAX_STORED_HASH_LEN {
            return Err(MalformedHash::TooLong {
                max: MAX_STORED_HASH_LEN,
            }
            .into());
        }
        if let Some(rest) = stored.strip_prefix("pbkdf2_sha256$") {
            return parse_django(rest);
        }
        if stored.starts_with("$2") {
            return parse_bcrypt(stored);
        }
        if !stored.starts_with('$') {
            return Err(MalformedHash::UnknownFormat.into());
        }
        let phc = PasswordHash::new(stored).map_err(|_| MalformedHash::Phc)?;
        match phc.algorithm.as_str() {
            "argon2id" | "argon2i" | "argon2d" => parse_argon2(&phc).map(Parsed::Argon2),
            "scrypt" => parse_scrypt(&phc),
            "pbkdf2-sha256" => parse_pbkdf2(&phc, false),
            "pbkdf2-sha512" => parse_pbkdf2(&phc, true),
            other => Err(Error::UnsupportedAlgorithm {
                algorithm: other.to_owned(),
            }),
        }
    }
}

fn salt_bytes(phc: &PasswordHash<'_>) -> Result<Vec<u8>, MalformedHash> {
    let salt = phc.salt.ok_or(MalformedHash::Salt)?;
    let mut buf = [0u8; MAX_BYTES];
    let bytes = salt.decode_b64(&mut buf).map_err(|_| MalformedHash::Salt)?;
    Ok(bytes.to_vec())
}

fn output_bytes(phc: &PasswordHash<'_>) -> Result<Zeroizing<Vec<u8>>, MalformedHash> {
    let out = phc.hash.ok_or(MalformedHash::Output)?;
    Ok(Zeroizing::new(out.as_bytes().to_vec()))
}

fn decimal(value: password_hash::Value<'_>, name: &'static str) -> Result<u32, MalformedHash> {
    value.decimal().map_err(|_| MalformedHash::Param(name))
}

fn b64_param(
    value: password_hash::Value<'_>,
    name: &'static str,
) -> Result<Vec<u8>, MalformedHash> {
    let mut buf = [0u8; MAX_BYTES];
    let bytes = value
        .b64_decode(&mut buf)
        .map_err(|_| MalformedHash::Param(name))?;
    Ok(bytes.to_vec())
}

/// argon2 PHC strings as written by the reference implementation and the `argon2` crate:
/// `$argon2id$v=19$m=..,t=..,p=..[,keyid=..][,data=..]$salt$hash`.
fn parse_argon2(phc: &PasswordHash<'_>) -> Result<Argon2Hash, Error> {
    let algorithm = match phc.algorithm.as_str() {
        "argon2i" => argon2::Algorithm::Argon2i,
        "argon2d" => argon2::Algorithm::Argon2d,
        _ => argon2::Algorithm::Argon2id,
    };
    // A missing `v=` means version 1.0 (0x10), as in the reference implementation's decoder.
    let version = match phc.version {
        None | Some(16) => argon2::Version::V0x10,
        Some(19) => argon2::Version::V0x13,
        Some(_) => return Err(MalformedHash::Version.into()),
    };
    let (mut m, mut t, mut p) = (None, None, None);
    let mut pepper_version = None;
    let mut data = Vec::new();
    for (name, value) in phc.params.iter() {
        match name.as_str() {
            "m" => m = Some(decimal(value, "m")?),
            "t" => t = Some(decimal(value, "t")?),
            "p" => p = Some(decimal(value, "p")?),
            "keyid" => {
                let bytes = b64_param(value, "keyid")?;
                pepper_version = Some(version_from_keyid(&bytes)?);
            }
            "data" => {
                data = b64_param(value, "data")?;
                if data.len() > argon2::Params::MAX_DATA_LEN {
                    return Err(MalformedHash::Param("data").into());
                }
            }
            _ => return Err(MalformedHash::Param("unknown").into()),
        }
    }
    let m_kib = m.ok_or(MalformedHash::Param("m"))?;
    let t = t.ok_or(MalformedHash::Param("t"))?;
    let p = p.ok_or(MalformedHash::Param("p"))?;
    // Range checks of RFC 9106 section 3.1, without allocating anything.
    if p == 0 || p > argon2::Params::MAX_P_COST {
        return Err(MalformedHash::Param("p").into());
    }
    if t == 0 {
        return Err(MalformedHash::Param("t").into());
    }
    if m_kib < 8 * p {
        return Err(MalformedHash::Param("m").into());
    }
    let salt = salt_bytes(phc)?;
    if salt.len() < argon2::MIN_SALT_LEN {
        return Err(MalformedHash::Salt.into());
    }
    let output = output_bytes(phc)?;
    Ok(Argon2Hash {
        algorithm,
        version,
        m_kib,
        t,
        p,
        pepper_version,
        data,
        salt,
        output,
    })
}

/// bcrypt: `$2b$` + two-digit cost + `$` + 22 characters of salt + 31 of hash, in bcrypt's
/// own base64 alphabet (`./A-Za-z0-9`).
fn parse_bcrypt(stored: &str) -> Result<Parsed, Error> {
    let bytes = stored.as_bytes();
    let prefix_ok = matches!(stored.get(..4), Some("$2a$" | "$2b$" | "$2y$"));
    if !prefix_ok || bytes.len() != 60 || bytes[6] != b'$' {
        return Err(MalformedHash::UnknownFormat.into());
    }
    let cost = stored
        .get(4..6)
        .filter(|c| c.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|c| c.parse::<u32>().ok())
        .ok_or(MalformedHash::Param("cost"))?;
    if !(4..=31).contains(&cost) {
        return Err(MalformedHash::Param("cost").into());
    }
    let body = &bytes[7..];
    if !body
        .iter()
        .all(|&b| b == b'.' || b == b'/' || b.is_ascii_alphanumeric())
    {
        return Err(MalformedHash::Salt.into());
    }
    Ok(Parsed::Bcrypt {
        cost,
        text: stored.to_owned(),
    })
}

/// scrypt PHC string. Missing parameters take the `scrypt` crate's defaults (ln=17, r=8, p=1),
/// which is how that crate reads them, so caps apply to what would really run.
fn parse_scrypt(phc: &PasswordHash<'_>) -> Result<Parsed, Error> {
    if phc.version.is_some() {
        return Err(MalformedHash::Version.into());
    }
    let (mut log_n, mut r, mut p) = (17u8, 8u32, 1u32);
    for (name, value) in phc.params.iter() {
        match name.as_str() {
            "ln" => {
                log_n =
                    u8::try_from(decimal(value, "ln")?).map_err(|_| MalformedHash::Param("ln"))?;
            }
            "r" => r = decimal(value, "r")?,
            "p" => p = decimal(value, "p")?,
            _ => return Err(MalformedHash::Param("unknown").into()),
        }
    }
    if log_n == 0 || log_n >= 64 {
        return Err(MalformedHash::Param("ln").into());
    }
    if r == 0 {
        return Err(MalformedHash::Param("r").into());
    }
    if p == 0 {
        return Err(MalformedHash::Param("p").into());
    }
    Ok(Parsed::Scrypt {
        log_n,
        r,
        p,
        salt: salt_bytes(phc)?,
        output: output_bytes(phc)?,
    })
}

/// PBKDF2 PHC string: `$pbkdf2-sha256$i=..[,l=..]$salt$hash`.
fn parse_pbkdf2(phc: &PasswordHash<'_>, sha512: bool) -> Result<Parsed, Error> {
    if phc.version.is_some() {
        return Err(MalformedHash::Version.into());
    }
    let mut rounds = None;
    let mut len = None;
    for (name, value) in phc.params.iter() {
        match name.as_str() {
            "i" => rounds = Some(decimal(value, "i")?),
            "l" => len = Some(decimal(value, "l")?),
            _ => return Err(MalformedHash::Param("unknown").into()),
        }
    }
    let rounds = rounds.ok_or(MalformedHash::Param("i"))?;
    if rounds == 0 {
        return Err(MalformedHash::Param("i").into());
    }
    let output = output_bytes(phc)?;
    if len.is_some_and(|l| l as usize != output.len()) {
        return Err(MalformedHash::Param("l").into());
    }
    Ok(Parsed::Pbkdf2 {
        sha512,
        rounds,
        salt: salt_bytes(phc)?,
        output,
    })
}

/// Django: `pbkdf2_sha256$<iterations>$<salt>$<base64 of the 32-byte key>`; the salt is used
/// as its UTF-8 bytes (django/contrib/auth/hashers.py, `PBKDF2PasswordHasher`).
fn parse_django(rest: &str) -> Result<Parsed, Error> {
    let mut parts = rest.split('$');
    let (Some(iter), Some(salt), Some(hash), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(MalformedHash::UnknownFormat.into());
    };
    if iter.is_empty() || iter.len() > 10 || !iter.bytes().all(|b| b.is_ascii_digit()) {
        return Err(MalformedHash::Param("iterations").into());
    }
    let rounds: u32 = iter
        .parse()
        .map_err(|_| MalformedHash::Param("iterations"))?;
    if rounds == 0 {
        return Err(MalformedHash::Param("iterations").into());
    }
    if salt.is_empty() || salt.len() > MAX_BYTES {
        return Err(MalformedHash::Salt.into());
    }
    let output = base64::engine::general_purpose::STANDARD
        .decode(hash)
        .map_err(|_| MalformedHash::Output)?;
    if output.len() != 32 {
        return Err(MalformedHash::Output.into());
    }
    Ok(Parsed::Django {
        rounds,
        salt: salt.to_owned(),
        output: Zeroizing::new(output),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(s: &str) -> Error {
        match Parsed::parse(s) {
            Ok(_) => panic!("expected an error"),
            Err(e) => e,
        }
    }

    #[test]
    fn argon2_reference_string_parses() {
        let info = inspect(
            "$argon2id$v=19$m=64,t=2,p=1$c29tZXNhbHQ$FqGkmHNGCd0BRW2kBt6fPZ2pPmyGwwChL8FGUhTOSSI",
        )
        .unwrap();
        assert_eq!(info.algorithm(), Algorithm::Argon2id);
        assert_eq!(info.argon2_params(), Some((64, 2, 1)));
        assert_eq!(info.pepper_version(), None);
    }

    #[test]
    fn keyid_is_read_as_pepper_version() {
        let info = inspect(
            "$argon2id$v=19$m=64,t=2,p=1,keyid=AAAAAg$c29tZXNhbHQ$FqGkmHNGCd0BRW2kBt6fPZ2pPmyGwwChL8FGUhTOSSI",
        )
        .unwrap();
        assert_eq!(info.pepper_version(), Some(2));
    }

    #[test]
    fn empty_and_oversized_are_rejected() {
        assert!(matches!(err(""), Error::Malformed(MalformedHash::Empty)));
        let long = format!("$argon2id${}", "a".repeat(MAX_STORED_HASH_LEN));
        assert!(matches!(
            err(&long),
            Error::Malformed(MalformedHash::TooLong { .. })
        ));
    }

    #[test]
    fn unknown_phc_algorithm_is_unsupported() {
        assert!(matches!(
            err("$md5$c29tZXNhbHQ$FqGkmHNGCd0BRW2kBt6fPZ2pPmyGwwChL8FGUhTOSSI"),
            Error::UnsupportedAlgorithm { .. }
        ));
    }

    #[test]
    fn argon2_missing_params_are_rejected() {
        let e =
            err("$argon2id$v=19$m=64,t=2$c29tZXNhbHQ$FqGkmHNGCd0BRW2kBt6fPZ2pPmyGwwChL8FGUhTOSSI");
        assert!(matches!(e, Error::Malformed(MalformedHash::Param("p"))));
    }

    #[test]
    fn argon2_zero_lanes_is_rejected() {
        let e = err(
            "$argon2id$v=19$m=64,t=2,p=0$c29tZXNhbHQ$FqGkmHNGCd0BRW2kBt6fPZ2pPmyGwwChL8FGUhTOSSI",
        );
        assert!(matches!(e, Error::Malformed(MalformedHash::Param("p"))));
    }

    #[test]
    fn argon2_unknown_version_is_rejected() {
        let e = err(
            "$argon2id$v=20$m=64,t=2,p=1$c29tZXNhbHQ$FqGkmHNGCd0BRW2kBt6fPZ2pPmyGwwChL8FGUhTOSSI",
        );
        assert!(matches!(e, Error::Malformed(MalformedHash::Version)));
    }

    #[test]
    fn argon2_short_salt_is_rejected() {
        let e =
            err("$argon2id$v=19$m=64,t=2,p=1$c2FsdA$FqGkmHNGCd0BRW2kBt6fPZ2pPmyGwwChL8FGUhTOSSI");
        assert!(matches!(e, Error::Malformed(MalformedHash::Salt)));
    }

    #[test]
    fn argon2_without_output_is_rejected() {
        let e = err("$argon2id$v=19$m=64,t=2,p=1$c29tZXNhbHQ");
        assert!(matches!(e, Error::Malformed(MalformedHash::Output)));
    }

    #[test]
    fn bcrypt_shapes() {
        let ok = "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy";
        assert_eq!(inspect(ok).unwrap().algorithm(), Algorithm::Bcrypt);
        assert!(inspect("$2b$10$N9qo8uLOickgx2ZMRZoMye").is_err());
        assert!(inspect("$2x$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy").is_err());
        assert!(inspect("$2b$99$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy").is_err());
        assert!(inspect("$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lh!y").is_err());
    }

    #[test]
    fn django_shapes() {
        let ok = "pbkdf2_sha256$600000$saltsalt$fSG3d7B+Ye6KTEpMtIxyoa3x/J8XvGuKyw4d2oWw3eA=";
        assert_eq!(
            inspect(ok).unwrap().algorithm(),
            Algorithm::DjangoPbkdf2Sha256
        );
        assert!(inspect("pbkdf2_sha256$600000$saltsalt").is_err());
        assert!(
            inspect("pbkdf2_sha256$-1$saltsalt$fSG3d7B+Ye6KTEpMtIxyoa3x/J8XvGuKyw4d2oWw3eA=")
                .is_err()
        );
        assert!(inspect("pbkdf2_sha256$600000$saltsalt$AAAA").is_err());
        assert!(
            inspect("pbkdf2_sha256$600000$$fSG3d7B+Ye6KTEpMtIxyoa3x/J8XvGuKyw4d2oWw3eA=").is_err()
        );
    }
}
