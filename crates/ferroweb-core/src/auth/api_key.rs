//! API keys from a header, a query parameter or a cookie, compared in constant time.
//!
//! Keys are kept as SHA-256 digests, and a presented key's digest is compared with every
//! stored one without stopping at the first match: neither the time taken nor an early exit
//! tells an attacker how much of a guess was right, or how long the keys are.

use std::fmt;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Uri};
use sha2::{Digest, Sha256};
use subtle::{ConditionallySelectable, ConstantTimeEq};

use super::credentials::{cookie, header_value, query_param};
use super::{Accepted, Refusal};

/// Where a key may be sent; the first location that has one is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiKeyLocation {
    Header(HeaderName),
    Query(String),
    Cookie(String),
}

impl fmt::Display for ApiKeyLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Header(name) => write!(f, "header=\"{name}\""),
            Self::Query(name) => write!(f, "query=\"{name}\""),
            Self::Cookie(name) => write!(f, "cookie=\"{name}\""),
        }
    }
}

/// An API-key configuration that cannot work; raised at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyError(String);

impl fmt::Display for ApiKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ApiKeyError {}

/// An API-key scheme: the accepted keys, each with the subject it authenticates, or none
/// when the binding verifies the keys itself (they are kept elsewhere).
pub struct ApiKeyScheme {
    digests: Vec<[u8; 32]>,
    /// The claims handed to the handler for each key: `{"sub": subject}`.
    claims: Vec<(Bytes, String)>,
    locations: Vec<ApiKeyLocation>,
}

impl fmt::Debug for ApiKeyScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The keys stay out of debug output (and so out of logs).
        f.debug_struct("ApiKeyScheme")
            .field("keys", &self.digests.len())
            .field("locations", &self.locations)
            .finish()
    }
}

fn digest(key: &[u8]) -> [u8; 32] {
    Sha256::digest(key).into()
}

impl ApiKeyScheme {
    /// `keys`: each accepted key with its subject (what `request.auth["sub"]` says).
    pub fn new(
        keys: Vec<(String, String)>,
        locations: Vec<ApiKeyLocation>,
    ) -> Result<Self, ApiKeyError> {
        if keys.is_empty() {
            return Err(ApiKeyError("APIKeyAuth needs at least one key".to_owned()));
        }
        if locations.is_empty() {
            return Err(ApiKeyError(
                "APIKeyAuth needs a header, query or cookie to read the key from".to_owned(),
            ));
        }
        if keys.iter().any(|(key, _)| key.is_empty()) {
            return Err(ApiKeyError("an API key must not be empty".to_owned()));
        }
        Ok(Self::with_keys(keys, locations))
    }

    /// A scheme that reads the key from `locations` and leaves checking it to the binding:
    /// any key present is accepted here, as [`super::Identity::credential`].
    pub fn verified_by_binding(locations: Vec<ApiKeyLocation>) -> Result<Self, ApiKeyError> {
        if locations.is_empty() {
            return Err(ApiKeyError(
                "APIKeyAuth needs a header, query or cookie to read the key from".to_owned(),
            ));
        }
        Ok(Self::with_keys(Vec::new(), locations))
    }

    fn with_keys(keys: Vec<(String, String)>, locations: Vec<ApiKeyLocation>) -> Self {
        let digests = keys.iter().map(|(key, _)| digest(key.as_bytes())).collect();
        let claims = keys
            .into_iter()
            .map(|(_, subject)| {
                let body = serde_json::to_vec(&serde_json::json!({ "sub": subject }))
                    .unwrap_or_else(|_| b"{}".to_vec());
                (Bytes::from(body), subject)
            })
            .collect();
        Self {
            digests,
            claims,
            locations,
        }
    }

    fn presented<'a>(&self, headers: &'a HeaderMap, uri: &'a Uri) -> Option<Vec<u8>> {
        self.locations.iter().find_map(|location| match location {
            ApiKeyLocation::Header(name) => header_value(headers, name).map(<[u8]>::to_vec),
            ApiKeyLocation::Query(name) => {
                query_param(uri, name).map(|value| value.as_bytes().to_vec())
            }
            ApiKeyLocation::Cookie(name) => {
                cookie(headers, name).map(|value| value.as_bytes().to_vec())
            }
        })
    }

    pub(crate) fn authenticate(&self, headers: &HeaderMap, uri: &Uri) -> Result<Accepted, Refusal> {
        let key = self.presented(headers, uri).ok_or(Refusal::Missing)?;
        if self.digests.is_empty() {
            return Ok(Accepted {
                claims: Bytes::from_static(b"{}"),
                subject: None,
                credential: Some(String::from_utf8_lossy(&key).into_owned()),
            });
        }
        let presented = digest(&key);
        let mut found = subtle::Choice::from(0);
        let mut index = 0u64;
        for (position, stored) in self.digests.iter().enumerate() {
            let equal = presented.ct_eq(stored);
            index = u64::conditional_select(&index, &(position as u64), equal);
            found |= equal;
        }
        if !bool::from(found) {
            return Err(Refusal::Invalid("the API key is not valid".to_owned()));
        }
        let (claims, subject) = usize::try_from(index)
            .ok()
            .and_then(|index| self.claims.get(index))
            .ok_or_else(|| Refusal::Invalid("the API key is not valid".to_owned()))?;
        Ok(Accepted {
            claims: claims.clone(),
            subject: Some(subject.clone()),
            credential: None,
        })
    }

    /// The `WWW-Authenticate` challenge: where the key goes (a 401 must carry one).
    pub(crate) fn challenge(&self) -> Option<HeaderValue> {
        let places: Vec<String> = self.locations.iter().map(ToString::to_string).collect();
        HeaderValue::from_str(&format!("ApiKey {}", places.join(", "))).ok()
    }
}
