//! Response compression (gzip, brotli, zstd) by tower-http, negotiated by `Accept-Encoding`
//! q-values, with our own rules for what is never compressed.
//!
//! Complete in-memory bodies are compressed in one call by [`whole`]; tower-http compresses
//! streams and bodies larger than [`whole::WHOLE_BODY_LIMIT`].
//!
//! tower-http's `compress_when` replaces its default predicate (the one that skips SSE), so
//! [`Compressible`] repeats every exclusion we need: event streams, media and archives,
//! `Cache-Control: no-transform`, small bodies. tower-http itself skips responses that already
//! have a `Content-Encoding` and ranges (`Content-Range`).

use http::{header, HeaderMap, HeaderValue, Response, StatusCode};
use http_body::Body;
use tower_http::compression::predicate::Predicate;
use tower_http::compression::{CompressionLayer, CompressionLevel};

mod accept;
mod whole;

pub(crate) use whole::{prepare, WholeBodyCompression};

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

impl CompressionPolicy {
    pub(crate) fn layer(&self) -> CompressionLayer<Compressible> {
        let quality = match self.level {
            Some(level) => CompressionLevel::Precise(level),
            None => CompressionLevel::Default,
        };
        CompressionLayer::new()
            .gzip(self.gzip)
            .br(self.brotli)
            .zstd(self.zstd)
            .no_deflate()
            .quality(quality)
            .compress_when(Compressible {
                minimum_size: self.minimum_size,
            })
    }
}

/// Marks a response that left the handler with a `Content-Encoding` of its own (a
/// precompressed file, say), which compression passes through untouched.
#[derive(Debug, Clone, Copy)]
struct EncodedByHandler;

/// A body we compressed is another representation of the resource, so its strong `ETag`
/// (which promises byte-identical bodies, RFC 9110 section 8.8.3) becomes weak, as nginx does
/// when it gzips; conditional requests with either form still match by weak comparison.
pub(crate) fn weaken_etag<B>(mut response: Response<B>) -> Response<B> {
    if response.extensions().get::<EncodedByHandler>().is_some()
        || !response.headers().contains_key(header::CONTENT_ENCODING)
    {
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
        // Complete bodies are compressed by `WholeBodyCompression`, outside tower-http.
        if response.extensions().get::<whole::WholeBody>().is_some() {
            return false;
        }
        self.allows(
            response.status(),
            response.headers(),
            response.body().size_hint().exact(),
        )
    }
}

#[cfg(test)]
mod tests;
