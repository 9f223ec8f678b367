//! Authentication in the core: bearer JWTs and API keys, checked before the request reaches
//! the binding. A route's [`AuthPolicy`] is a list of schemes of which any one suffices.
//!
//! A refused request gets 401 problem+json with one `WWW-Authenticate` challenge per scheme
//! (RFC 6750 `error=` values for bearer tokens), or 403 when a valid token lacks a required
//! scope. Neither the token nor the key ever appears in a problem body or a log line.

mod api_key;
pub(crate) mod credentials;
mod jwks;
mod jwt;

use std::sync::Arc;

use axum::body::Body;
use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Response, StatusCode, Uri};

pub use api_key::{ApiKeyError, ApiKeyLocation, ApiKeyScheme};
pub use jwt::{JwtError, JwtKeys, JwtScheme, JwtSettings};

use crate::problem::Problem;

/// Who a request was authenticated as: the binding hands this to the handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Position, in the route's [`AuthPolicy`], of the scheme that accepted the request.
    pub scheme: usize,
    /// The validated claims (a JWT's payload; `{"sub": ...}` for an API key), as a JSON object.
    pub claims: Bytes,
    /// The `sub` claim, when it is a string: what `RateLimit(key="auth")` counts by.
    pub subject: Option<String>,
    /// For a scheme whose keys the binding verifies ([`ApiKeyScheme::verified_by_binding`]):
    /// the key presented, still to be checked before the handler runs.
    pub credential: Option<String>,
}

/// One way of authenticating.
#[derive(Debug, Clone)]
pub enum AuthScheme {
    Jwt(Arc<JwtScheme>),
    ApiKey(Arc<ApiKeyScheme>),
}

/// What a scheme accepted.
pub(crate) struct Accepted {
    pub(crate) claims: Bytes,
    pub(crate) subject: Option<String>,
    pub(crate) credential: Option<String>,
}

/// Why one scheme did not accept a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The request carries no credentials for this scheme.
    Missing,
    /// Credentials were sent and are not valid; the text says why, never what they were.
    Invalid(String),
    /// A valid token without these required scopes.
    InsufficientScope(Vec<String>),
}

impl AuthScheme {
    async fn authenticate(&self, headers: &HeaderMap, uri: &Uri) -> Result<Accepted, Refusal> {
        match self {
            Self::Jwt(scheme) => {
                scheme
                    .authenticate(headers)
                    .await
                    .map(|(claims, subject)| Accepted {
                        claims,
                        subject,
                        credential: None,
                    })
            }
            Self::ApiKey(scheme) => scheme.authenticate(headers, uri),
        }
    }

    fn challenge(&self, refusal: &Refusal) -> Option<HeaderValue> {
        match self {
            Self::Jwt(scheme) => scheme.challenge(refusal),
            Self::ApiKey(scheme) => scheme.challenge(),
        }
    }
}

/// The schemes of a route, any one of which suffices.
#[derive(Debug, Clone)]
pub struct AuthPolicy {
    schemes: Vec<AuthScheme>,
}

impl AuthPolicy {
    /// `None` when `schemes` is empty: a public route has no policy at all.
    pub fn any_of(schemes: Vec<AuthScheme>) -> Option<Self> {
        (!schemes.is_empty()).then_some(Self { schemes })
    }

    /// The request's identity, or the refusal to send instead of calling the handler.
    pub(crate) async fn authenticate(
        &self,
        headers: &HeaderMap,
        uri: &Uri,
    ) -> Result<Identity, Box<Response<Body>>> {
        // allocated only when a scheme refuses: an accepted request costs no allocation here
        let mut refusals = Vec::new();
        for (position, scheme) in self.schemes.iter().enumerate() {
            match scheme.authenticate(headers, uri).await {
                Ok(accepted) => {
                    return Ok(Identity {
                        scheme: position,
                        claims: accepted.claims,
                        subject: accepted.subject,
                        credential: accepted.credential,
                    })
                }
                Err(refusal) => refusals.push(refusal),
            }
        }
        Err(Box::new(self.refusal(&refusals, uri.path())))
    }

    /// 403 when a scheme accepted the credentials but not their scopes, else 401 with the
    /// most telling reason: presented credentials that failed say more than absent ones.
    fn refusal(&self, refusals: &[Refusal], path: &str) -> Response<Body> {
        let scope = refusals.iter().find_map(|refusal| match refusal {
            Refusal::InsufficientScope(missing) => Some(missing),
            _ => None,
        });
        let invalid = refusals.iter().find_map(|refusal| match refusal {
            Refusal::Invalid(reason) => Some(reason.as_str()),
            _ => None,
        });
        let (status, detail) = match (scope, invalid) {
            (Some(missing), _) => (
                StatusCode::FORBIDDEN,
                format!("the token lacks the required scope: {}", missing.join(" ")),
            ),
            (None, Some(reason)) => (StatusCode::UNAUTHORIZED, reason.to_owned()),
            (None, None) => (
                StatusCode::UNAUTHORIZED,
                "this resource needs authentication".to_owned(),
            ),
        };
        let mut response = Problem::new(status)
            .with_detail(detail)
            .with_instance(path)
            .into_response();
        let headers = response.headers_mut();
        for (scheme, refusal) in self.schemes.iter().zip(refusals) {
            if let Some(challenge) = scheme.challenge(refusal) {
                headers.append(header::WWW_AUTHENTICATE, challenge);
            }
        }
        response
    }
}

#[cfg(test)]
mod tests;
