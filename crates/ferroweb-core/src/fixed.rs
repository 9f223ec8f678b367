//! Responses fixed at start-up (an OpenAPI document, a docs page and its assets): answered by
//! the core from bytes held in memory, without calling the binding, with a strong `ETag` so
//! a client that has them already gets a 304.

use std::hash::{Hash, Hasher};

use axum::body::Body;
use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Response, StatusCode};

/// Why a fixed response could not be made. Raised at start-up, never per request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixedResponseError(pub String);

impl std::fmt::Display for FixedResponseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FixedResponseError {}

/// One route's whole answer, known before the server starts.
#[derive(Debug, Clone)]
pub struct FixedResponse {
    body: Bytes,
    headers: HeaderMap,
    etag: HeaderValue,
}

impl FixedResponse {
    /// `content_type` and `headers` are checked here; `headers` may repeat a name.
    pub fn new(
        content_type: &str,
        body: impl Into<Bytes>,
        headers: &[(String, String)],
    ) -> Result<Self, FixedResponseError> {
        let body = body.into();
        let mut map = HeaderMap::new();
        let content_type = HeaderValue::from_str(content_type)
            .map_err(|_| FixedResponseError(format!("invalid content type {content_type:?}")))?;
        map.insert(header::CONTENT_TYPE, content_type);
        for (name, value) in headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| FixedResponseError(format!("invalid header name {name:?}")))?;
            let value = HeaderValue::from_str(value)
                .map_err(|_| FixedResponseError(format!("invalid value for header {name}")))?;
            map.append(name, value);
        }
        let etag = HeaderValue::from_str(&format!("\"{:016x}-{:x}\"", digest(&body), body.len()))
            .map_err(|_| FixedResponseError("unrepresentable ETag".to_owned()))?;
        map.insert(header::ETAG, etag.clone());
        Ok(Self {
            body,
            headers: map,
            etag,
        })
    }

    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The answer to a request carrying `request_headers`: 304 when its `If-None-Match`
    /// names this body, the whole body otherwise (hyper leaves it out for HEAD).
    pub(crate) fn respond(&self, request_headers: &HeaderMap) -> Response<Body> {
        let etag = self.etag.as_bytes();
        let not_modified = request_headers
            .get_all(header::IF_NONE_MATCH)
            .iter()
            .flat_map(|value| value.as_bytes().split(|byte| *byte == b','))
            .map(<[u8]>::trim_ascii)
            .any(|tag| tag == b"*" || tag.strip_prefix(b"W/").unwrap_or(tag) == etag);
        if not_modified {
            let mut response = Response::new(Body::empty());
            *response.status_mut() = StatusCode::NOT_MODIFIED;
            let headers = response.headers_mut();
            headers.insert(header::ETAG, self.etag.clone());
            for name in [header::CACHE_CONTROL, header::VARY] {
                for value in self.headers.get_all(&name) {
                    headers.append(name.clone(), value.clone());
                }
            }
            return response;
        }
        let mut response = Response::new(Body::from(self.body.clone()));
        *response.headers_mut() = self.headers.clone();
        response
    }
}

/// A content digest for the ETag: deterministic (SipHash with fixed keys), not secret.
fn digest(body: &[u8]) -> u64 {
    #[allow(deprecated)] // SipHasher's fixed keys are the point: the tag must not vary per run
    let mut hasher = std::hash::SipHasher::new();
    body.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests;
