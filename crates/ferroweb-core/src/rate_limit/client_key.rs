//! Which client a request counts against: its address (through trusted proxies only), a
//! header's value, or the authenticated subject.

use std::net::IpAddr;

use http::{HeaderMap, HeaderName, Request};
use ipnet::IpNet;

use super::RateLimitError;
use crate::auth::Identity;
use crate::request::ClientAddr;

/// What a rate limit counts by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RateLimitKey {
    /// The client's address.
    Ip,
    /// A header's value (requests without it count by address).
    Header(HeaderName),
    /// The authenticated subject (`sub`); unauthenticated requests count by address.
    Subject,
}

/// The proxies whose `X-Forwarded-For` / `Forwarded` headers are believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// CIDRs (`"10.0.0.0/8"`) or single addresses (`"127.0.0.1"`).
    pub fn new(entries: &[String]) -> Result<Self, RateLimitError> {
        entries
            .iter()
            .map(|entry| {
                let entry = entry.trim();
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        RateLimitError(format!(
                            "trusted_proxies entry {entry:?} is not an IP address or CIDR"
                        ))
                    })
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    fn trusts(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        self.0.iter().any(|net| net.contains(&address))
    }

    /// The client behind the proxies: the right-most address of the forwarding chain that is
    /// not a trusted proxy (addresses left of it could have been written by the client).
    fn client_behind(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let mut client = peer;
        for hop in forwarded_chain(headers).into_iter().rev() {
            // A hop that is not an address hides what is left of it: stop at the last
            // trusted proxy rather than believe anything written further left.
            let Some(hop) = hop else { break };
            client = hop;
            if !self.trusts(hop) {
                break;
            }
        }
        client
    }
}

/// An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) is the IPv4 address it maps.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        IpAddr::V4(_) => address,
    }
}

/// The hops of `X-Forwarded-For` (else of `Forwarded: for=`), first hop first; `None` for
/// an entry that is not an address (`unknown`, an obfuscated name).
fn forwarded_chain(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(|entry| entry.trim().to_owned())
            .collect()
    };
    let forwarded_for = values("x-forwarded-for");
    let entries: Vec<String> = if forwarded_for.is_empty() {
        values("forwarded")
            .into_iter()
            .filter_map(|element| {
                element.split(';').find_map(|pair| {
                    let (name, value) = pair.trim().split_once('=')?;
                    name.eq_ignore_ascii_case("for")
                        .then(|| value.trim_matches('"').to_owned())
                })
            })
            .collect()
    } else {
        forwarded_for
    };
    entries.iter().map(|entry| parse_hop(entry)).collect()
}

/// `192.0.2.1`, `192.0.2.1:8080`, `2001:db8::1`, `[2001:db8::1]:4711`.
fn parse_hop(entry: &str) -> Option<IpAddr> {
    if let Ok(address) = entry.parse::<IpAddr>() {
        return Some(canonical(address));
    }
    if let Some(rest) = entry.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok().map(canonical);
    }
    let (host, _port) = entry.rsplit_once(':')?;
    host.parse().ok().map(canonical)
}

impl RateLimitKey {
    pub(crate) fn of<B>(&self, request: &Request<B>, proxies: &TrustedProxies) -> String {
        match self {
            Self::Ip => address_key(request, proxies),
            Self::Header(name) => match request.headers().get(name) {
                Some(value) => format!("h:{}", String::from_utf8_lossy(value.as_bytes())),
                None => address_key(request, proxies),
            },
            Self::Subject => match request
                .extensions()
                .get::<Identity>()
                .and_then(|identity| identity.subject.as_deref())
            {
                Some(subject) => format!("s:{subject}"),
                None => address_key(request, proxies),
            },
        }
    }
}

fn address_key<B>(request: &Request<B>, proxies: &TrustedProxies) -> String {
    match request.extensions().get::<ClientAddr>() {
        Some(ClientAddr::Socket(addr)) => {
            let client = proxies.client_behind(canonical(addr.ip()), request.headers());
            format!("ip:{client}")
        }
        Some(ClientAddr::TestClient) => "ip:testclient".to_owned(),
        None => "ip:unknown".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn headers(name: &'static str, value: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(name, HeaderValue::from_str(value).unwrap());
        map
    }

    #[test]
    fn forwarded_headers_count_only_behind_trusted_proxies() {
        let proxies = TrustedProxies::new(&["10.0.0.0/8".to_owned()]).unwrap();
        let spoofed = headers("x-forwarded-for", "1.1.1.1, 203.0.113.7, 10.0.0.2");
        // the right-most untrusted hop, not the client-written left-most one
        assert_eq!(
            proxies.client_behind(ip("10.0.0.1"), &spoofed),
            ip("203.0.113.7")
        );
        // a peer that is not a trusted proxy is the client, whatever it claims
        assert_eq!(
            proxies.client_behind(ip("198.51.100.9"), &spoofed),
            ip("198.51.100.9")
        );
        let forwarded = headers(
            "forwarded",
            "for=192.0.2.60;proto=http, for=\"[2001:db8::1]:4711\"",
        );
        assert_eq!(
            proxies.client_behind(ip("10.1.1.1"), &forwarded),
            ip("2001:db8::1")
        );
        assert_eq!(
            proxies.client_behind(ip("::ffff:10.0.0.3"), &spoofed),
            ip("203.0.113.7")
        );
        let hidden = headers("x-forwarded-for", "1.1.1.1, unknown, 10.0.0.2");
        assert_eq!(
            proxies.client_behind(ip("10.0.0.1"), &hidden),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn trusted_proxies_refuse_what_is_not_an_address() {
        assert!(TrustedProxies::new(&["127.0.0.1".to_owned(), "::1/128".to_owned()]).is_ok());
        assert!(TrustedProxies::new(&["proxy.internal".to_owned()]).is_err());
    }

    #[test]
    fn hops_with_ports_are_understood() {
        assert_eq!(parse_hop("192.0.2.1:8080"), Some(ip("192.0.2.1")));
        assert_eq!(parse_hop("[2001:db8::2]:1"), Some(ip("2001:db8::2")));
        assert_eq!(parse_hop("unknown"), None);
    }
}
