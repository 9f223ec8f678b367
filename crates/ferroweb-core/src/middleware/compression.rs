//! Response compression (gzip, brotli, zstd) by tower-http, negotiated by `Accept-Encoding`
//! q-values, with our own rules for what is never compressed.
//!
//! [`Compressor`] sorts each response once: complete in-memory bodies are compressed in one
//! call by [`whole`]; tower-http compresses streams and bodies larger than
//! [`whole::WHOLE_BODY_LIMIT`]; bodies below `minimum_size` pass untouched, through no layer.
//!
//! tower-http's `compress_when` replaces its default predicate (the one that skips SSE), so
//! [`Compressible`] repeats every exclusion we need: event streams, media and archives,
//! `Cache-Control: no-transform`, small bodies. tower-http itself skips responses that already
//! have a `Content-Encoding` and ranges (`Content-Range`).

use std::convert::Infallible;
use std::future::{ready, Ready};
use std::task::{Context, Poll};

use http::{header, HeaderMap, HeaderValue, Request, Response, StatusCode};
use http_body::Body;
use tower::{Layer, Service, ServiceExt};
use tower_http::compression::predicate::Predicate;
use tower_http::compression::{CompressionLayer, CompressionLevel};

mod accept;
mod whole;

use accept::Coding;
use whole::Prepared;

/// The compression settings of a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompressionPolicy {
    /// Bodies smaller than this (by `Content-Length` or an exact size) are sent as they are;
    /// streams, whose size is unknown, are compressed chunk by chunk.
    pub minimum_size: u64,
    pub gzip: bool,
    pub brotli: bool,
    pub zstd: bool,
    /// Each algorithm's own scale (gzip 0-9, brotli 0-11, zstd 1-22), clamped to it; `None`
    /// is each one's default.
    pub level: Option<i32>,
}

impl Default for CompressionPolicy {
    fn default() -> Self {
        Self {
            minimum_size: 500,
            gzip: true,
            brotli: true,
            zstd: true,
            level: None,
        }
    }
}

/// tower-http's layer for streams answered with `coding`: that coding alone, at the level
/// [`Coding::level`] gives it, so streams and complete bodies are compressed alike.
fn stream_layer(policy: &CompressionPolicy, coding: Coding) -> CompressionLayer<Compressible> {
    CompressionLayer::new()
        .gzip(coding == Coding::Gzip)
        .br(coding == Coding::Brotli)
        .zstd(coding == Coding::Zstd)
        .no_deflate()
        .quality(CompressionLevel::Precise(coding.level(policy.level)))
        .compress_when(Compressible {
            minimum_size: policy.minimum_size,
        })
}

/// A route's compression: negotiates before the handler runs, compresses its answer after.
#[derive(Clone)]
pub(crate) struct Compressor {
    policy: CompressionPolicy,
    /// tower-http's layer for each coding, in `Coding` order (identity too: it adds `Vary`).
    streams: [CompressionLayer<Compressible>; 4],
}

/// What a request accepts, taken before the request moves on to the handler.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Negotiated(Coding);

impl Compressor {
    pub(crate) fn new(policy: CompressionPolicy) -> Self {
        Self {
            streams: [Coding::Identity, Coding::Gzip, Coding::Brotli, Coding::Zstd]
                .map(|coding| stream_layer(&policy, coding)),
            policy,
        }
    }

    pub(crate) fn negotiate(&self, headers: &HeaderMap) -> Negotiated {
        Negotiated(accept::preferred(headers, &self.policy))
    }

    /// False for the answers [`Self::compress`] would send exactly as they are: encoded by
    /// the handler, or with an exact size below `minimum_size` (most small JSON answers).
    pub(crate) fn may_compress<B: Body>(&self, response: &Response<B>) -> bool {
        !whole::never_compressed(response, self.policy.minimum_size)
    }

    /// The response as sent to a client that accepts `negotiated`.
    pub(crate) async fn compress(
        &self,
        response: Response<axum::body::Body>,
        negotiated: Negotiated,
    ) -> Response<axum::body::Body> {
        let Negotiated(coding) = negotiated;
        match whole::prepare(response, self.policy.minimum_size) {
            Prepared::Untouched(response) => response,
            Prepared::Whole(response, data) => {
                whole::compress(response, data, coding, &self.policy)
            }
            Prepared::Stream(response) => {
                // tower-http negotiates from the request: hand it the coding chosen above,
                // so both paths always agree.
                let mut request = Request::new(());
                if coding != Coding::Identity {
                    request
                        .headers_mut()
                        .insert(header::ACCEPT_ENCODING, coding.header_value());
                }
                let Ok(compressed) = self.streams[coding as usize]
                    .layer(Answered(Some(response)))
                    .oneshot(request)
                    .await;
                weaken_etag(compressed.map(axum::body::Body::new))
            }
        }
    }
}

/// A service that gives back a response already made, so that tower-http's compression can
/// be applied to it after the handler has answered.
struct Answered(Option<Response<axum::body::Body>>);

impl Service<Request<()>> for Answered {
    type Response = Response<axum::body::Body>;
    type Error = Infallible;
    type Future = Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Request<()>) -> Self::Future {
        // `oneshot` calls once; a second call would find the response taken.
        ready(Ok(self.0.take().unwrap_or_else(|| {
            let mut missing = Response::new(axum::body::Body::empty());
            *missing.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            missing
        })))
    }
}

/// A body we compressed is another representation of the resource, so its strong `ETag`
/// (which promises byte-identical bodies, RFC 9110 section 8.8.3) becomes weak, as nginx does
/// when it gzips; conditional requests with either form still match by weak comparison.
/// Only responses that reach compression without a `Content-Encoding` of their own are
/// passed here.
pub(crate) fn weaken_etag<B>(mut response: Response<B>) -> Response<B> {
    if !response.headers().contains_key(header::CONTENT_ENCODING) {
        return response;
    }
    let strong = response
        .headers()
        .get(header::ETAG)
        .filter(|tag| tag.as_bytes().first() == Some(&b'"'))
        .map(|tag| [b"W/", tag.as_bytes()].concat());
    if let Some(weak) = strong.and_then(|tag| HeaderValue::from_bytes(&tag).ok()) {
        response.headers_mut().insert(header::ETAG, weak);
    }
    response
}

/// Media types whose bodies are already compressed (or gain nothing): never re-compressed.
const INCOMPRESSIBLE_PREFIXES: [&str; 4] = ["image/", "audio/", "video/", "font/woff"];
const INCOMPRESSIBLE_TYPES: [&str; 13] = [
    "text/event-stream",
    "application/grpc",
    "application/zip",
    "application/gzip",
    "application/x-gzip",
    "application/zstd",
    "application/x-bzip2",
    "application/x-xz",
    "application/x-7z-compressed",
    "application/x-rar-compressed",
    "application/vnd.rar",
    "application/x-tar",
    "application/octet-stream",
];

/// Whether a response may be compressed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Compressible {
    pub(crate) minimum_size: u64,
}

impl Compressible {
    pub(crate) fn allows(
        &self,
        status: StatusCode,
        headers: &HeaderMap,
        exact_size: Option<u64>,
    ) -> bool {
        if status.is_informational()
            || status == StatusCode::NO_CONTENT
            || status == StatusCode::NOT_MODIFIED
        {
            return false;
        }
        if let Some(content_type) = headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
        {
            let essence = content_type
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            // SVG is text, whatever its top-level type says.
            let svg = essence == "image/svg+xml";
            if !svg
                && (INCOMPRESSIBLE_PREFIXES
                    .iter()
                    .any(|prefix| essence.starts_with(prefix))
                    || INCOMPRESSIBLE_TYPES.contains(&essence.as_str()))
            {
                return false;
            }
        }
        let no_transform = headers
            .get_all(header::CACHE_CONTROL)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .any(|directive| directive.trim().eq_ignore_ascii_case("no-transform"));
        if no_transform {
            return false;
        }
        let declared = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok());
        match declared.or(exact_size) {
            Some(size) => size >= self.minimum_size,
            None => true,
        }
    }
}

impl Predicate for Compressible {
    fn should_compress<B>(&self, response: &http::Response<B>) -> bool
    where
        B: Body,
    {
        self.allows(
            response.status(),
            response.headers(),
            response.body().size_hint().exact(),
        )
    }
}

#[cfg(test)]
mod tests;
