//! The client's IP address: the TCP peer, or with trusted proxies the first untrusted hop of
//! `X-Forwarded-For` read from the right.
//!
//! `X-Forwarded-For` is written by the client first and by each proxy after: only the
//! entries appended by proxies you run are facts, everything to their left is whatever the
//! client sent. So the header is ignored unless the TCP peer is a trusted proxy, and then
//! read from the right, skipping trusted hops; the first untrusted address is the client.
//! Failed attempts are counted per client IP: trusting the header by default would let an
//! attacker pick a fresh IP for every guess.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::{ConnectInfo, FromRequestParts};
use http::request::Parts;
use http::{HeaderMap, Request};
use ipnet::IpNet;

use crate::error::Error;

/// Most `X-Forwarded-For` entries read from the right: a chain of proxies is short, and the
/// work per request stays bounded whatever a client sends.
pub const MAX_FORWARDED_HOPS: usize = 16;

/// The header the proxies append to.
const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// The client's IP address, as the crate counts failed attempts against it.
///
/// As an extractor it is the value [`ApiKeyLayer`](crate::ApiKeyLayer) or
/// [`ClientIpLayer`] computed with their [`TrustedProxies`]; without either, the TCP peer
/// (no `X-Forwarded-For` is trusted). It needs the server started with
/// `into_make_service_with_connect_info::<SocketAddr>()`, and otherwise answers 500
/// ([`Error::MissingConnectInfo`]).
///
/// ```
/// use rampart_axum::ClientIp;
/// async fn handler(ClientIp(ip): ClientIp) -> String {
///     ip.to_string()
/// }
/// # let _ = axum::Router::<()>::new().route("/", axum::routing::get(handler));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Error> {
        if let Some(ip) = parts.extensions.get::<ClientIp>() {
            return Ok(*ip);
        }
        TrustedProxies::none().resolve(parts)
    }
}

/// The proxies whose `X-Forwarded-For` entries are believed, as CIDR ranges. The default
/// ([`TrustedProxies::none`]) trusts none: the client is the TCP peer.
///
/// ```
/// use std::net::IpAddr;
/// use http::HeaderMap;
/// use rampart_axum::TrustedProxies;
///
/// let proxies = TrustedProxies::new(["10.0.0.0/8"])?;
/// let mut headers = HeaderMap::new();
/// headers.insert("x-forwarded-for", "198.51.100.9, 203.0.113.7, 10.0.0.2".parse()?);
/// let peer: IpAddr = "10.0.0.1".parse()?;
/// // From the right: 10.0.0.2 is ours, 203.0.113.7 is the first address we did not add.
/// assert_eq!(proxies.client_ip(peer, &headers), "203.0.113.7".parse::<IpAddr>()?);
/// // Not from a trusted peer: the header is the client's own claim.
/// assert_eq!(TrustedProxies::none().client_ip(peer, &headers), peer);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    nets: Arc<[IpNet]>,
}

impl TrustedProxies {
    /// Trust no proxy: the client is the TCP peer, `X-Forwarded-For` is ignored.
    #[must_use]
    pub fn none() -> Self {
        Self::default()
    }

    /// Trust the proxies in `ranges` (CIDR, `10.0.0.0/8`, or a single address).
    ///
    /// # Errors
    /// [`Error::Config`] for a range that does not parse.
    pub fn new<I, S>(ranges: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let nets = ranges
            .into_iter()
            .map(|r| {
                let r = r.as_ref();
                r.parse::<IpNet>()
                    .or_else(|_| r.parse::<IpAddr>().map(IpNet::from))
                    .map(|n| n.trunc())
                    .map_err(|_| Error::Config("a trusted proxy range does not parse"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { nets: nets.into() })
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.nets.iter().any(|n| n.contains(&ip))
    }

    /// The client of a request from `peer` with `headers`: `peer` itself unless it is a
    /// trusted proxy; then `X-Forwarded-For` (every such header, in order) from the right,
    /// skipping trusted hops, at most [`MAX_FORWARDED_HOPS`]. An entry that is not an
    /// address (or a walk that runs out) stops at the last trusted hop: the attacker gets no
    /// address of their choosing.
    #[must_use]
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if self.nets.is_empty() || !self.trusts(peer) {
            return peer;
        }
        let mut hop = peer;
        let values: Vec<&[u8]> = headers
            .get_all(X_FORWARDED_FOR)
            .iter()
            .map(http::HeaderValue::as_bytes)
            .collect();
        let entries = values
            .iter()
            .rev()
            .flat_map(|v| v.rsplit(|b| *b == b','))
            .take(MAX_FORWARDED_HOPS);
        for entry in entries {
            let Some(ip) = parse_hop(entry) else {
                return hop;
            };
            if !self.trusts(ip) {
                return ip;
            }
            hop = ip;
        }
        hop
    }

    pub(crate) fn resolve(&self, parts: &Parts) -> Result<ClientIp, Error> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .ok_or(Error::MissingConnectInfo)?
            .0
            .ip();
        Ok(ClientIp(self.client_ip(peer, &parts.headers)))
    }
}

/// One `X-Forwarded-For` entry: `addr`, `addr:port` or `[v6]:port`, spaces around.
fn parse_hop(entry: &[u8]) -> Option<IpAddr> {
    let text = std::str::from_utf8(entry).ok()?.trim_matches([' ', '\t']);
    text.parse::<IpAddr>()
        .or_else(|_| text.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

/// A layer that puts the [`ClientIp`] on every request, computed with its
/// [`TrustedProxies`], for routes without [`ApiKeyLayer`](crate::ApiKeyLayer) (a login form,
/// the SAML routes) whose handlers extract it.
///
/// ```
/// use axum::{Router, routing::get};
/// use rampart_axum::{ClientIp, ClientIpLayer, TrustedProxies};
/// let app: Router = Router::new()
///     .route("/ip", get(|ClientIp(ip): ClientIp| async move { ip.to_string() }))
///     .layer(ClientIpLayer::new(TrustedProxies::new(["10.0.0.0/8"])?));
/// # Ok::<(), rampart_axum::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct ClientIpLayer {
    proxies: TrustedProxies,
}

impl ClientIpLayer {
    /// A layer that trusts `proxies`.
    #[must_use]
    pub fn new(proxies: TrustedProxies) -> Self {
        Self { proxies }
    }
}

impl<S> tower_layer::Layer<S> for ClientIpLayer {
    type Service = ClientIpService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ClientIpService {
            inner,
            proxies: self.proxies.clone(),
        }
    }
}

/// The service of [`ClientIpLayer`].
#[derive(Debug, Clone)]
pub struct ClientIpService<S> {
    inner: S,
    proxies: TrustedProxies,
}

impl<S, B> tower_service::Service<Request<B>> for ClientIpService<S>
where
    S: tower_service::Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let (mut parts, body) = req.into_parts();
        // Without ConnectInfo nothing is inserted; the extractor then reports the deployment
        // error itself.
        if let Ok(ip) = self.proxies.resolve(&parts) {
            parts.extensions.insert(ip);
        }
        self.inner.call(Request::from_parts(parts, body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(X_FORWARDED_FOR, v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forged_leftmost_entries_are_ignored() {
        let p = TrustedProxies::new(["10.0.0.0/8"]).unwrap();
        let h = xff(&["1.1.1.1", "203.0.113.7"]);
        assert_eq!(p.client_ip(ip("10.1.2.3"), &h), ip("203.0.113.7"));
    }

    #[test]
    fn garbage_entry_stops_at_the_last_trusted_hop() {
        let p = TrustedProxies::new(["10.0.0.0/8"]).unwrap();
        let h = xff(&["203.0.113.7, nonsense, 10.0.0.9"]);
        assert_eq!(p.client_ip(ip("10.1.2.3"), &h), ip("10.0.0.9"));
    }

    #[test]
    fn ports_and_brackets_and_mapped_addresses_are_understood() {
        let p = TrustedProxies::new(["10.0.0.1", "::1"]).unwrap();
        let h = xff(&["[2001:db8::1]:443"]);
        assert_eq!(p.client_ip(ip("::ffff:10.0.0.1"), &h), ip("2001:db8::1"));
        let h = xff(&["198.51.100.1:5000"]);
        assert_eq!(p.client_ip(ip("::1"), &h), ip("198.51.100.1"));
    }

    #[test]
    fn a_chain_of_only_trusted_hops_ends_at_the_leftmost() {
        let p = TrustedProxies::new(["10.0.0.0/8"]).unwrap();
        let h = xff(&["10.0.0.3, 10.0.0.2"]);
        assert_eq!(p.client_ip(ip("10.0.0.1"), &h), ip("10.0.0.3"));
    }

    #[test]
    fn bad_range_is_a_config_error() {
        assert_eq!(
            TrustedProxies::new(["10.0.0.0/99"]).unwrap_err().kind(),
            "invalid_config"
        );
    }
}
