//! RFC 9457 problem details: the one shape every error response of ferroweb takes.

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, StatusCode};
use serde::Serialize;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// A problem details object. `type` stays `about:blank` unless a more specific URI is given,
/// in which case `title` is the status's reason phrase, as RFC 9457 section 4.2.1 asks.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// Extension members (RFC 9457 section 3.2), e.g. `errors` for validation failures.
    /// Standard members set above win over extensions of the same name.
    #[serde(flatten)]
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

/// The status's reason phrase as RFC 9110 names it (the `http` crate still has the RFC 7231
/// names for 413 and 422, which clients of a problem+json API no longer expect).
pub fn reason_phrase(status: StatusCode) -> &'static str {
    match status.as_u16() {
        413 => "Content Too Large",
        422 => "Unprocessable Content",
        _ => status.canonical_reason().unwrap_or("Error"),
    }
}

impl Problem {
    pub fn new(status: StatusCode) -> Self {
        Self {
            kind: "about:blank".to_owned(),
            title: reason_phrase(status).to_owned(),
            status: status.as_u16(),
            detail: None,
            instance: None,
            extensions: serde_json::Map::new(),
        }
    }

    /// Adds extension members from a JSON object; the standard members keep their values.
    pub fn with_extensions(
        mut self,
        extensions: serde_json::Map<String, serde_json::Value>,
    ) -> Self {
        for (key, value) in extensions {
            let standard = match key.as_str() {
                "type" | "title" | "status" | "instance" => true,
                "detail" => self.detail.is_some(),
                _ => false,
            };
            if !standard {
                self.extensions.insert(key, value);
            }
        }
        self
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn with_instance(mut self, instance: impl Into<String>) -> Self {
        self.instance = Some(instance.into());
        self
    }

    /// The JSON body. Serialising plain strings and integers cannot fail, but a failure is
    /// still answered with a minimal valid document rather than a panic.
    pub fn to_json(&self) -> Bytes {
        match serde_json::to_vec(self) {
            Ok(body) => Bytes::from(body),
            Err(_) => Bytes::from_static(
                br#"{"type":"about:blank","title":"Internal Server Error","status":500}"#,
            ),
        }
    }

    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    pub(crate) fn into_response(self) -> http::Response<axum::body::Body> {
        self.into_response_with(HeaderMap::new())
    }

    /// The response, with extra headers (e.g. `Allow` on a 405) added after the content type.
    pub(crate) fn into_response_with(self, extra: HeaderMap) -> http::Response<axum::body::Body> {
        let status = self.status_code();
        let mut response = http::Response::new(axum::body::Body::from(self.to_json()));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        headers.extend(extra);
        response
    }
}

#[cfg(test)]
mod tests;
