//! What failures are counted against: subjects and their kinds.

use std::fmt::{self, Write as _};
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, Ipv6Addr};

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
}

impl Subject {
    /// A public API key id.
    pub fn api_key(public_id: impl Into<String>) -> Self {
        Subject {
            kind: SubjectKind::ApiKey,
            id: Some(public_id.into()),
            ip: None,
        }
    }

    /// An account (name, id or email: whatever the caller uses as the stable account key).
    pub fn account(account: impl Into<String>) -> Self {
        Subject {
            kind: SubjectKind::Account,
            id: Some(account.into()),
            ip: None,
        }
    }

    /// A client IP address (IPv6 grouped by /64).
    pub fn ip(ip: IpAddr) -> Self {
        Subject {
            kind: SubjectKind::Ip,
            id: None,
            ip: Some(normalize_ip(ip)),
        }
    }

    /// A public API key id used from one client IP (IPv6 grouped by /64).
    pub fn api_key_from_ip(public_id: impl Into<String>, ip: IpAddr) -> Self {
        Subject {
            kind: SubjectKind::ApiKeyIp,
            id: Some(public_id.into()),
            ip: Some(normalize_ip(ip)),
        }
    }

    /// An account used from one client IP (IPv6 grouped by /64).
    pub fn account_from_ip(account: impl Into<String>, ip: IpAddr) -> Self {
        Subject {
            kind: SubjectKind::AccountIp,
            id: Some(account.into()),
            ip: Some(normalize_ip(ip)),
        }
    }

    /// The kind, which selects the policy.
    pub fn kind(&self) -> SubjectKind {
        self.kind
    }

    /// The key id or account, if this kind has one.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The (normalized) IP address, if this kind has one.
    pub fn ip_addr(&self) -> Option<IpAddr> {
        self.ip
    }

    /// The canonical text form used as a storage key and in idempotency keys:
    /// `<tag>:<ip>|<id>` with the parts this kind has. Unambiguous: the tag fixes the parts
    /// and an IP's text never contains `|`.
    pub fn storage_key(&self) -> String {
        let mut out = String::with_capacity(8 + self.id.as_ref().map_or(0, String::len) + 40);
        self.write_storage_key(&mut out);
        out
    }

    pub(crate) fn write_storage_key(&self, out: &mut String) {
        out.push_str(self.kind.tag());
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
        buf[0] = u8::try_from(self.kind.index()).unwrap_or(u8::MAX);
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
    fn display_replaces_control_characters_in_ids() {
        let s = Subject::account("eve\r\nBcc: all@example.com");
        assert_eq!(s.to_string(), "account eve??Bcc: all@example.com");
    }
}
