//! The `Host` header: checked on every request (RFC 9112 §3.2), and matched against the
//! trusted hosts of routes that declare them.

use std::fmt;

use http::{header, HeaderValue, Request, Response, StatusCode, Version};

use crate::problem::Problem;

/// Why a request's `Host` is refused, whatever the routes declare: an HTTP/1.1 request must
/// carry exactly one, and it must be a valid `host[:port]`.
pub(crate) fn host_problem<B>(request: &Request<B>) -> Option<Problem> {
    let mut hosts = request.headers().get_all(header::HOST).iter();
    let detail = match (hosts.next(), hosts.next()) {
        (None, _) if request.version() == Version::HTTP_11 => "the request has no Host header",
        (None, _) => return None,
        (Some(_), Some(_)) => "the request has more than one Host header",
        (Some(host), None) if host_of(host).is_none() => "the Host header is not a valid host",
        (Some(_), None) => return None,
    };
    Some(Problem::new(StatusCode::BAD_REQUEST).with_detail(detail))
}

/// The host name of a `Host` value (lower-cased, without the port), if it is valid.
fn parse_host(value: &HeaderValue) -> Option<String> {
    host_of(value).map(str::to_ascii_lowercase)
}

/// The host part of a valid `Host` value (`uri-host [ ":" port ]`, RFC 9110 section 7.2), as
/// written. Checked on every request, so it reads the bytes in place and allocates nothing.
fn host_of(value: &HeaderValue) -> Option<&str> {
    let text = value.to_str().ok()?;
    let (host, rest) = if text.starts_with('[') {
        let end = text.find(']')?;
        let literal = &text[1..end];
        let valid = !literal.is_empty()
            && literal.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b':' | b'.' | b'%' | b'_' | b'~' | b'-')
            });
        if !valid {
            return None;
        }
        text.split_at(end + 1)
    } else {
        let end = text.find(':').unwrap_or(text.len());
        let name = &text[..end];
        let valid = !name.is_empty() && name.bytes().all(is_reg_name_byte);
        if !valid {
            return None;
        }
        text.split_at(end)
    };
    match rest.strip_prefix(':') {
        None if rest.is_empty() => Some(host),
        None => None,
        // A port that is present must be a number that fits.
        Some(port) => {
            let numeric = !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit());
            (numeric && port.parse::<u16>().is_ok()).then_some(host)
        }
    }
}

/// `reg-name` of RFC 3986: unreserved, percent-encoded and sub-delimiter characters.
fn is_reg_name_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric()
        || matches!(
            byte,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b'%'
                | b'!'
                | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
        )
}

/// Why a trusted-hosts list cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedHostsError(pub String);

impl fmt::Display for TrustedHostsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid TrustedHosts: {}", self.0)
    }
}

impl std::error::Error for TrustedHostsError {}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Any,
    Exact(String),
    /// `*.example.com`: any subdomain (not `example.com` itself); holds `.example.com`.
    Subdomains(String),
}

/// The hosts a route answers for; others get 400 (or a redirect to `www.`, when asked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedHosts {
    patterns: Vec<HostPattern>,
    www_redirect: bool,
}

impl TrustedHosts {
    pub fn new(hosts: &[String], www_redirect: bool) -> Result<Self, TrustedHostsError> {
        if hosts.is_empty() {
            return Err(TrustedHostsError(
                "give at least one host (or \"*\")".to_owned(),
            ));
        }
        let patterns = hosts
            .iter()
            .map(|host| {
                let host = host.trim().to_ascii_lowercase();
                if host == "*" {
                    return Ok(HostPattern::Any);
                }
                let (pattern, name) = match host.strip_prefix("*.") {
                    Some(rest) => (HostPattern::Subdomains(format!(".{rest}")), rest.to_owned()),
                    None => (HostPattern::Exact(host.clone()), host.clone()),
                };
                if name.is_empty() || name.contains(['*', ':', '/', '@', ' ']) {
                    return Err(TrustedHostsError(format!(
                        "{host:?} is not a host name or a \"*.domain\" pattern"
                    )));
                }
                Ok(pattern)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            patterns,
            www_redirect,
        })
    }

    fn allows(&self, host: &str) -> bool {
        self.patterns.iter().any(|pattern| match pattern {
            HostPattern::Any => true,
            HostPattern::Exact(name) => name == host,
            HostPattern::Subdomains(suffix) => host.ends_with(suffix.as_str()),
        })
    }

    /// None when the request may go on; otherwise its answer.
    pub(crate) fn refuse<B>(&self, request: &Request<B>) -> Option<Response<axum::body::Body>> {
        let host = request
            .headers()
            .get(header::HOST)
            .and_then(parse_host)
            .or_else(|| request.uri().host().map(str::to_ascii_lowercase));
        let host = match host {
            Some(host) if self.allows(&host) => return None,
            Some(host) => host,
            None => String::new(),
        };
        let www = format!("www.{host}");
        let redirects = self.www_redirect
            && !host.is_empty()
            && self.patterns.contains(&HostPattern::Exact(www));
        if redirects {
            return Some(www_redirect(request));
        }
        Some(
            Problem::new(StatusCode::BAD_REQUEST)
                .with_detail("the Host header names a host this server does not serve")
                .with_instance(request.uri().path())
                .into_response(),
        )
    }
}

/// A 301 to the same URL on `www.` + the requested host (port kept).
fn www_redirect<B>(request: &Request<B>) -> Response<axum::body::Body> {
    let authority = request
        .headers()
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let scheme = request.uri().scheme_str().unwrap_or("http");
    let target = request
        .uri()
        .path_and_query()
        .map_or("/", |path| path.as_str());
    let location = format!("{scheme}://www.{authority}{target}");
    let mut response = Response::new(axum::body::Body::empty());
    *response.status_mut() = StatusCode::MOVED_PERMANENTLY;
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

#[cfg(test)]
mod tests;
