//! CSRF protection by signed double submit: the core sets a signed random token in a cookie
//! that page scripts can read; an unsafe request (POST, PUT, ...) must send the same token
//! back in a header. A cross-site page can make the browser send the cookie, but cannot read
//! it to fill in the header; the signature stops a token planted by a sibling subdomain.

use axum::body::Body;
use http::{header, HeaderMap, HeaderName, Method, Response, StatusCode};
use subtle::ConstantTimeEq;

use crate::auth::credentials::cookie;
use crate::problem::Problem;
use crate::set_cookie::CookieAttributes;
use crate::signing::{random_token, Signer};

/// How long a token cookie is kept.
const TOKEN_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(365 * 86_400);

/// A CSRF configuration that cannot work; raised at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsrfError(pub String);

impl std::fmt::Display for CsrfError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CsrfError {}

/// The `CSRF` of a route.
pub struct CsrfPolicy {
    signer: Signer,
    cookie: String,
    header: HeaderName,
    safe_methods: Vec<Method>,
    attributes: CookieAttributes,
}

impl std::fmt::Debug for CsrfPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsrfPolicy")
            .field("cookie", &self.cookie)
            .field("header", &self.header)
            .finish_non_exhaustive()
    }
}

/// What a request needs from the CSRF check.
pub(crate) enum CsrfOutcome {
    /// It passes; `Some` is a new token cookie to set on the response.
    Pass(Option<http::HeaderValue>),
    Refuse(Response<Body>),
}

impl CsrfPolicy {
    pub fn new(
        secret: Vec<u8>,
        cookie: String,
        header: &str,
        safe_methods: &[String],
        attributes: CookieAttributes,
    ) -> Result<Self, CsrfError> {
        let signer = Signer::new(vec![secret], "CSRF").map_err(CsrfError)?;
        let header = HeaderName::try_from(header)
            .map_err(|_| CsrfError(format!("{header:?} is not a valid header name")))?;
        let safe_methods = safe_methods
            .iter()
            .map(|method| {
                Method::from_bytes(method.to_ascii_uppercase().as_bytes())
                    .map_err(|_| CsrfError(format!("{method:?} is not an HTTP method")))
            })
            .collect::<Result<_, _>>()?;
        if cookie.is_empty() {
            return Err(CsrfError("the CSRF cookie needs a name".to_owned()));
        }
        Ok(Self {
            signer,
            cookie,
            header,
            safe_methods,
            attributes,
        })
    }

    fn valid_token<'a>(&self, headers: &'a HeaderMap) -> Option<&'a str> {
        cookie(headers, &self.cookie).filter(|token| self.signer.unsign(token).is_some())
    }

    pub(crate) fn check(&self, method: &Method, headers: &HeaderMap, path: &str) -> CsrfOutcome {
        let token = self.valid_token(headers);
        if self.safe_methods.contains(method) {
            if token.is_some() {
                return CsrfOutcome::Pass(None);
            }
            let fresh = random_token(16).map(|random| self.signer.sign(&random));
            let set = fresh.and_then(|fresh| {
                self.attributes
                    .header(&self.cookie, &fresh, Some(TOKEN_MAX_AGE))
            });
            return CsrfOutcome::Pass(set);
        }
        let sent = headers.get(&self.header).map(http::HeaderValue::as_bytes);
        let matches = match (token, sent) {
            (Some(token), Some(sent)) => bool::from(token.as_bytes().ct_eq(sent)),
            _ => false,
        };
        if matches {
            return CsrfOutcome::Pass(None);
        }
        let detail = if token.is_none() {
            "CSRF cookie missing or not valid"
        } else {
            "CSRF token missing or incorrect"
        };
        CsrfOutcome::Refuse(
            Problem::new(StatusCode::FORBIDDEN)
                .with_detail(detail)
                .with_instance(path)
                .into_response(),
        )
    }
}

/// Sets a token cookie decided by [`CsrfPolicy::check`].
pub(crate) fn set_token(response: &mut Response<Body>, cookie: http::HeaderValue) {
    response.headers_mut().append(header::SET_COOKIE, cookie);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::set_cookie::SameSite;
    use http::HeaderValue;

    fn policy() -> CsrfPolicy {
        CsrfPolicy::new(
            b"a csrf secret of enough length".to_vec(),
            "csrftoken".to_owned(),
            "x-csrftoken",
            &["GET".to_owned(), "HEAD".to_owned(), "OPTIONS".to_owned()],
            CookieAttributes {
                path: "/".to_owned(),
                domain: None,
                same_site: SameSite::Lax,
                https_only: false,
                http_only: false,
            },
        )
        .unwrap()
    }

    fn token_of(set_cookie: &HeaderValue) -> String {
        let text = set_cookie.to_str().unwrap();
        text.split(';')
            .next()
            .unwrap()
            .split_once('=')
            .unwrap()
            .1
            .to_owned()
    }

    #[test]
    fn a_safe_request_gets_a_token_that_an_unsafe_one_must_echo() {
        let policy = policy();
        let CsrfOutcome::Pass(Some(set)) = policy.check(&Method::GET, &HeaderMap::new(), "/")
        else {
            panic!("a first GET gets a token")
        };
        let token = token_of(&set);
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("csrftoken={token}")).unwrap(),
        );
        assert!(matches!(
            policy.check(&Method::GET, &headers, "/"),
            CsrfOutcome::Pass(None)
        ));
        assert!(matches!(
            policy.check(&Method::POST, &headers, "/"),
            CsrfOutcome::Refuse(_)
        ));
        headers.insert("x-csrftoken", HeaderValue::from_str(&token).unwrap());
        assert!(matches!(
            policy.check(&Method::POST, &headers, "/"),
            CsrfOutcome::Pass(None)
        ));
    }

    #[test]
    fn an_unsigned_token_is_refused_even_when_echoed() {
        let policy = policy();
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("csrftoken=planted.value"),
        );
        headers.insert("x-csrftoken", HeaderValue::from_static("planted.value"));
        let CsrfOutcome::Refuse(response) = policy.check(&Method::DELETE, &headers, "/") else {
            panic!("a planted token must not pass")
        };
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
}
