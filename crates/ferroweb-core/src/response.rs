//! What a binding answers with, and how it becomes an HTTP response.

use std::fmt;

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, StatusCode};

use crate::file::{serve_file, FileSpec};
use crate::problem::PROBLEM_JSON;
use crate::stream::StreamBody;

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

/// What a handler's response carries.
pub enum ResponseBody {
    /// The whole body, known up front.
    Full(Bytes),
    /// Chunks written by the binding as they are produced (see [`crate::body_channel`]).
    Stream(StreamBody),
    /// A file served by the core; status and headers come from the spec.
    File(Box<FileSpec>),
}

impl fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full(bytes) => f.debug_tuple("Full").field(&bytes.len()).finish(),
            Self::Stream(_) => f.write_str("Stream"),
            Self::File(spec) => f.debug_tuple("File").field(&spec.path).finish(),
        }
    }
}

/// Room made in a response's header map up front. An empty map's first insert makes room for
/// six; a route with CORS and security headers sends seven or more (with `Content-Length`),
/// and growing the map then re-allocates and re-hashes it on every response. This costs a
/// route without middleware nothing measurable: the map is allocated once either way.
const ANSWER_HEADERS: usize = 12;

/// A handler's response.
#[derive(Debug)]
pub struct HandlerResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: ResponseBody,
}

impl HandlerResponse {
    /// A response whose only header is the content type of `kind`.
    pub fn new(status: StatusCode, kind: ContentKind, body: Bytes) -> Self {
        let mut headers = HeaderMap::with_capacity(ANSWER_HEADERS);
        if let Some(value) = kind.header_value() {
            headers.insert(header::CONTENT_TYPE, value);
        }
        Self {
            status,
            headers,
            body: ResponseBody::Full(body),
        }
    }

    /// A response whose body is streamed from `body`.
    pub fn streamed(status: StatusCode, kind: ContentKind, body: StreamBody) -> Self {
        let mut response = Self::new(status, kind, Bytes::new());
        response.body = ResponseBody::Stream(body);
        response
    }

    /// A response that serves a file from disk (conditional and range requests included).
    pub fn file(spec: FileSpec) -> Self {
        Self {
            status: spec.status,
            headers: HeaderMap::with_capacity(ANSWER_HEADERS),
            body: ResponseBody::File(Box::new(spec)),
        }
    }

    /// Whether the body is a file, which [`Self::into_http_response`] must open.
    pub fn is_file(&self) -> bool {
        matches!(self.body, ResponseBody::File(_))
    }

    /// The HTTP response; a file is opened and checked here, without blocking the runtime.
    pub(crate) async fn into_http_response(self) -> http::Response<axum::body::Body> {
        match self.body {
            ResponseBody::File(spec) => serve_file(*spec).await,
            _ => self.into_http(),
        }
    }

    /// The HTTP response of a full or streamed body (a file body answers 500 here: it
    /// needs [`Self::into_http_response`]).
    pub(crate) fn into_http(self) -> http::Response<axum::body::Body> {
        let body = match self.body {
            ResponseBody::Full(bytes) => axum::body::Body::from(bytes),
            ResponseBody::Stream(stream) => axum::body::Body::new(stream),
            ResponseBody::File(_) => {
                return crate::Problem::new(StatusCode::INTERNAL_SERVER_ERROR)
                    .with_detail("a file response must be served asynchronously")
                    .into_response()
            }
        };
        let mut response = http::Response::new(body);
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers;
        response
    }
}

#[cfg(test)]
mod tests;
