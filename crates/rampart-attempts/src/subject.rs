//! What failures are counted against: subjects and their kinds.

use std::fmt::{self, Write as _};
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, Ipv6Addr};

use ring::digest;

/// Longest key id or account kept verbatim in a [`Subject`], in bytes (an email address is
/// at most 254). A longer id, which no real key or account has but anyone can send, is
/// replaced at construction by `sha256:` and the 64 hex digits of its SHA-256
/// ([`Subject::id_is_digest`]): the same long id always gives the same subject, and what a
/// subject costs in memory, Redis keys, idempotency keys and emails stays bounded.
pub const MAX_SUBJECT_ID_LEN: usize = 256;

/// The kind of a [`Subject`]; each kind has its own [`Policy`](crate::Policy).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SubjectKind {
    /// A public API key id (anyone who has seen it can fail against it).
    ApiKey,
    /// An account (user name, user id, email).
    Account,
    /// A client IP address (IPv6 grouped by /64).
    Ip,
    /// A public API key id seen from one client IP.
    ApiKeyIp,
    /// An account seen from one client IP.
    AccountIp,
}

impl SubjectKind {
    /// Every kind, in a fixed order.
    pub const ALL: [SubjectKind; 5] = [
        SubjectKind::ApiKey,
        SubjectKind::Account,
        SubjectKind::Ip,
        SubjectKind::ApiKeyIp,
        SubjectKind::AccountIp,
    ];

    pub(crate) fn index(self) -> usize {
        match self {
            SubjectKind::ApiKey => 0,
            SubjectKind::Account => 1,
            SubjectKind::Ip => 2,
            SubjectKind::ApiKeyIp => 3,
            SubjectKind::AccountIp => 4,
        }
    }

    fn tag(self) -> &'static str {
        match self {
            SubjectKind::ApiKey => "k",
            SubjectKind::Account => "a",
            SubjectKind::Ip => "i",
            SubjectKind::ApiKeyIp => "ki",
            SubjectKind::AccountIp => "ai",
        }
    }
}

/// Something failed attempts are counted against.
///
/// Build one with the constructors ([`Subject::api_key`], [`Subject::ip`], ...): they group
/// IPv6 addresses by their /64 prefix (one customer usually holds a whole /64, so counting
/// single IPv6 addresses would give an attacker 2^64 fresh counters) and map IPv4-mapped IPv6
/// addresses to IPv4.
///
/// ```
/// use rampart_attempts::{Subject, SubjectKind};
/// let ip: std::net::IpAddr = "2001:db8::1".parse().unwrap();
/// let s = Subject::api_key_from_ip("pk_live_123", ip);
/// assert_eq!(s.kind(), SubjectKind::ApiKeyIp);
/// assert_eq!(s, Subject::api_key_from_ip("pk_live_123", "2001:db8::ffff".parse().unwrap()));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subject {
    kind: SubjectKind,
    id: Option<String>,
    ip: Option<IpAddr>,
    /// `id` is the digest of an id longer than [`MAX_SUBJECT_ID_LEN`]; kept apart so a
    /// short id spelled like a digest is a different subject.
    digested: bool,
}

impl Subject {
    fn with_id(kind: SubjectKind, id: String, ip: Option<IpAddr>) -> Self {
        let (id, digested) = bound_id(id);
        Subject {
            kind,
            id: Some(id),
            ip: ip.map(normalize_ip),
            digested,
        }
    }

    /// A public API key id (longer than [`MAX_SUBJECT_ID_LEN`]: replaced by its digest).
    pub fn api_key(public_id: impl Into<String>) -> Self {
        Self::with_id(SubjectKind::ApiKey, public_id.into(), None)
    }

    /// An account (name, id or email: whatever the caller uses as the stable account key;
    /// longer than [`MAX_SUBJECT_ID_LEN`]: replaced by its digest).
    pub fn account(account: impl Into<String>) -> Self {
        Self::with_id(SubjectKind::Account, account.into(), None)
    }

    /// A client IP address (IPv6 grouped by /64).
    pub fn ip(ip: IpAddr) -> Self {
        Subject {
            kind: SubjectKind::Ip,
            id: None,
            ip: Some(normalize_ip(ip)),
            digested: false,
        }
    }

    /// A public API key id used from one client IP (IPv6 grouped by /64).
    pub fn api_key_from_ip(public_id: impl Into<String>, ip: IpAddr) -> Self {
        Self::with_id(SubjectKind::ApiKeyIp, public_id.into(), Some(ip))
    }

    /// An account used from one client IP (IPv6 grouped by /64).
    pub fn account_from_ip(account: impl Into<String>, ip: IpAddr) -> Self {
        Self::with_id(SubjectKind::AccountIp, account.into(), Some(ip))
    }

    /// True when the id given was longer than [`MAX_SUBJECT_ID_LEN`] and [`id`](Self::id)
    /// is its digest (`sha256:<64 hex digits>`), not the id itself.
    pub fn id_is_digest(&self) -> bool {
        self.digested
    }

    /// The kind, which selects the policy.
    pub fn kind(&self) -> SubjectKind {
        self.kind
    }

    /// The key id or account, if this kind has one (at most [`MAX_SUBJECT_ID_LEN`] bytes:
    /// see [`id_is_digest`](Self::id_is_digest)).
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The (normalized) IP address, if this kind has one.
    pub fn ip_addr(&self) -> Option<IpAddr> {
        self.ip
    }

    /// The canonical text form used as a storage key and in idempotency keys:
    /// `<tag>:<ip>|<id>` with the parts this kind has (`<tag>#:` when the id is a digest).
    /// Unambiguous: the tag fixes the parts and an IP's text never contains `|`.
    pub fn storage_key(&self) -> String {
        let mut out = String::with_capacity(8 + self.id.as_ref().map_or(0, String::len) + 40);
        self.write_storage_key(&mut out);
        out
    }

    pub(crate) fn write_storage_key(&self, out: &mut String) {
        out.push_str(self.kind.tag());
        if self.digested {
            out.push('#');
        }
        out.push(':');
        if let Some(ip) = self.ip {
            // Writing to a String cannot fail.
            let _ = write!(out, "{ip}");
            if self.id.is_some() {
                out.push('|');
            }
        }
        if let Some(id) = &self.id {
            out.push_str(id);
        }
    }
}

/// Hashes as one contiguous write when the id is short (the memory store's hot path: each
/// SipHash `write` call has a fixed cost): a header of kind and address family, the address
/// octets, the id bytes. Unambiguous: the header fixes which parts follow and the family
/// fixes the address length; consistent with `Eq`, which compares the same parts.
impl Hash for Subject {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let mut buf = [0u8; 64];
        buf[0] = u8::try_from(self.kind.index()).unwrap_or(0x7f) | (u8::from(self.digested) << 7);
        let mut len = 2;
        match self.ip {
            None => {}
            Some(IpAddr::V4(v4)) => {
                buf[1] = 4;
                buf[2..6].copy_from_slice(&v4.octets());
                len = 6;
            }
            Some(IpAddr::V6(v6)) => {
                buf[1] = 6;
                buf[2..18].copy_from_slice(&v6.octets());
                len = 18;
            }
        }
        let id = self.id.as_deref().unwrap_or("").as_bytes();
        if let Some(room) = buf.get_mut(len..len + id.len()) {
            room.copy_from_slice(id);
            state.write(&buf[..len + id.len()]);
        } else {
            state.write(&buf[..len]);
            state.write(id);
        }
    }
}

/// Human-readable, for notifications and logs: control characters in ids are replaced so a
/// crafted id cannot forge lines in an email or a log.
impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = self.id.as_deref().map(printable);
        match (self.kind, id, self.ip) {
            (SubjectKind::ApiKey, Some(id), _) => write!(f, "API key {id}"),
            (SubjectKind::Account, Some(id), _) => write!(f, "account {id}"),
            (SubjectKind::ApiKeyIp, Some(id), Some(ip)) => write!(f, "API key {id} from {ip}"),
            (SubjectKind::AccountIp, Some(id), Some(ip)) => write!(f, "account {id} from {ip}"),
            (_, _, Some(ip)) => write!(f, "IP {ip}"),
            _ => f.write_str("unknown subject"),
        }
    }
}

/// The id itself, or the digest of one longer than [`MAX_SUBJECT_ID_LEN`].
fn bound_id(id: String) -> (String, bool) {
    if id.len() <= MAX_SUBJECT_ID_LEN {
        return (id, false);
    }
    let d = digest::digest(&digest::SHA256, id.as_bytes());
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for b in d.as_ref() {
        // Writing to a String cannot fail.
        let _ = write!(out, "{b:02x}");
    }
    (out, true)
}

fn printable(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

fn normalize_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return IpAddr::V4(v4);
            }
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_keys_are_distinct_per_kind() {
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let keys = [
            Subject::api_key("x").storage_key(),
            Subject::account("x").storage_key(),
            Subject::ip(ip).storage_key(),
            Subject::api_key_from_ip("x", ip).storage_key(),
            Subject::account_from_ip("x", ip).storage_key(),
        ];
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(keys[4], "ai:192.0.2.7|x");
    }

    #[test]
    fn ipv6_is_grouped_by_64_and_mapped_v4_is_v4() {
        let a = Subject::ip("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = Subject::ip("2001:db8:1:2:bbbb::9".parse().unwrap());
        let c = Subject::ip("2001:db8:1:3::1".parse().unwrap());
        assert_eq!(a, b);
        assert_ne!(a, c);
        let mapped = Subject::ip("::ffff:192.0.2.1".parse().unwrap());
        assert_eq!(mapped, Subject::ip("192.0.2.1".parse().unwrap()));
    }

    #[test]
    fn ids_longer_than_the_limit_are_replaced_by_their_digest() {
        let at_limit = "a".repeat(MAX_SUBJECT_ID_LEN);
        let s = Subject::account(at_limit.as_str());
        assert_eq!((s.id(), s.id_is_digest()), (Some(at_limit.as_str()), false));

        let long = "a".repeat(MAX_SUBJECT_ID_LEN + 1);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let s = Subject::account_from_ip(long.as_str(), ip);
        let id = s.id().unwrap();
        assert!(s.id_is_digest());
        assert!(id.starts_with("sha256:") && id.len() == 71, "{id}");
        assert_eq!(
            s,
            Subject::account_from_ip(long.clone(), ip),
            "deterministic"
        );
        assert_ne!(s, Subject::account_from_ip(format!("{long}b"), ip));
        assert!(s.storage_key().starts_with("ai#:192.0.2.1|sha256:"));
        // A short id spelled like the digest is another subject, also in the stores.
        let spoof = Subject::account_from_ip(id, ip);
        assert!(!spoof.id_is_digest());
        assert_ne!(spoof, s);
        assert_ne!(spoof.storage_key(), s.storage_key());
        let h = std::collections::hash_map::RandomState::new();
        use std::hash::BuildHasher;
        assert_ne!(h.hash_one(&spoof), h.hash_one(&s));
        let huge = Subject::api_key("k".repeat(1 << 20));
        assert!(huge.storage_key().len() < 80 && huge.to_string().len() < 90);
    }

    #[test]
    fn display_replaces_control_characters_in_ids() {
        let s = Subject::account("eve\r\nBcc: all@example.com");
        assert_eq!(s.to_string(), "account eve??Bcc: all@example.com");
    }
}
