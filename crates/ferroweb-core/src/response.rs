//! What a binding answers with, and how it becomes an HTTP response.

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, StatusCode};

use crate::problem::PROBLEM_JSON;

/// The common content types, so a binding can name one without building a header value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentKind {
    Json,
    Text,
    Html,
    OctetStream,
    ProblemJson,
    /// No content type is added; the binding's headers decide.
    Unspecified,
}

impl ContentKind {
    pub fn header_value(self) -> Option<HeaderValue> {
        let value = match self {
            Self::Json => "application/json",
            Self::Text => "text/plain; charset=utf-8",
            Self::Html => "text/html; charset=utf-8",
            Self::OctetStream => "application/octet-stream",
            Self::ProblemJson => PROBLEM_JSON,
            Self::Unspecified => return None,
        };
        Some(HeaderValue::from_static(value))
    }
}

/// A complete response from a handler.
#[derive(Debug, Clone, PartialEq)]
pub struct HandlerResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl HandlerResponse {
    /// A response whose only header is the content type of `kind`.
    pub fn new(status: StatusCode, kind: ContentKind, body: Bytes) -> Self {
        let mut headers = HeaderMap::new();
        if let Some(value) = kind.header_value() {
            headers.insert(header::CONTENT_TYPE, value);
        }
        Self {
            status,
            headers,
            body,
        }
    }

    pub fn into_http(self) -> http::Response<axum::body::Body> {
        let mut response = http::Response::new(axum::body::Body::from(self.body));
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers;
        response
    }
}

#[cfg(test)]
mod tests;
