//! Complete bodies compressed in one call.
//!
//! Most API responses leave the handler whole (JSON, a small file read in one step). Sending
//! them through a streaming encoder costs a fresh encoder state per response (hundreds of
//! kilobytes to allocate and clear), an async read adapter and chunked transfer coding. Here a
//! body that is already in memory and at most [`WHOLE_BODY_LIMIT`] long is compressed by one
//! call into a pooled encoder (gzip by libdeflate), and is sent with a
//! `Content-Length`. Streams, and bodies larger than the limit, still go through tower-http,
//! which compresses them chunk by chunk.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use axum::body::Body;
use bytes::Bytes;
use futures_util::StreamExt;
use http::{header, HeaderValue, Response};
use http_body::Body as _;
use http_body_util::{BodyStream, StreamBody};
use libdeflater::{CompressionLvl, Compressor};
use parking_lot::Mutex;

use super::accept::Coding;
use super::{Compressible, CompressionPolicy};
use crate::middleware::cors::vary_names;

/// The largest body compressed in one call. Compressing a megabyte at gzip's default level
/// takes a few milliseconds of a runtime thread; larger bodies are streamed so other
/// connections on that thread are served in between.
pub(crate) const WHOLE_BODY_LIMIT: u64 = 1024 * 1024;

/// What [`prepare`] found a response to be.
pub(crate) enum Prepared {
    /// Never compressed: encoded by the handler (a precompressed file, say), empty, or below
    /// `minimum_size`. Sent exactly as it left the handler.
    Untouched(Response<Body>),
    /// Complete in memory, at most [`WHOLE_BODY_LIMIT`] long: compressed by [`compress`].
    Whole(Response<Body>, Bytes),
    /// A stream, a body still being produced or one larger than the limit: compressed by
    /// tower-http, chunk by chunk.
    Stream(Response<Body>),
}

/// True for answers sent exactly as the handler made them: encoded by it (a precompressed
/// file, say), or of an exact size that is zero or below `minimum_size`.
pub(crate) fn never_compressed<B: http_body::Body>(
    response: &Response<B>,
    minimum_size: u64,
) -> bool {
    response.headers().contains_key(header::CONTENT_ENCODING)
        || response
            .body()
            .size_hint()
            .exact()
            .is_some_and(|size| size == 0 || size < minimum_size)
}

/// Sorts a response from the handler. An in-memory body yields everything on its first poll,
/// so that poll (with a no-op waker) takes it whole; a body that would wait answers Pending,
/// which consumes nothing, and stays a stream.
pub(crate) fn prepare(response: Response<Body>, minimum_size: u64) -> Prepared {
    if never_compressed(&response, minimum_size) {
        return Prepared::Untouched(response);
    }
    let Some(size) = response.body().size_hint().exact() else {
        return Prepared::Stream(response);
    };
    if size > WHOLE_BODY_LIMIT {
        return Prepared::Stream(response);
    }
    let (parts, mut body) = response.into_parts();
    let mut context = Context::from_waker(Waker::noop());
    match Pin::new(&mut body).poll_frame(&mut context) {
        Poll::Pending => Prepared::Stream(Response::from_parts(parts, body)),
        Poll::Ready(None) => Prepared::Untouched(Response::from_parts(parts, Body::empty())),
        Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
            Ok(data) if body.is_end_stream() => {
                Prepared::Whole(Response::from_parts(parts, Body::from(data.clone())), data)
            }
            Ok(data) => Prepared::Stream(Response::from_parts(
                parts,
                prepend(http_body::Frame::data(data), body),
            )),
            Err(frame) => Prepared::Stream(Response::from_parts(parts, prepend(frame, body))),
        },
        // The error reaches the connection as it would have without compression.
        Poll::Ready(Some(Err(error))) => Prepared::Untouched(Response::from_parts(
            parts,
            Body::new(StreamBody::new(futures_util::stream::iter([Err(error)]))),
        )),
    }
}

/// Puts a frame already taken from `rest` back in front of it.
fn prepend(first: http_body::Frame<Bytes>, rest: Body) -> Body {
    let head = futures_util::stream::iter([Ok::<_, axum::Error>(first)]);
    Body::new(StreamBody::new(head.chain(BodyStream::new(rest))))
}

/// Compresses a complete body (`data`, the bytes of `response`'s body) with `coding`, under
/// the same rules tower-http applies to streams.
pub(crate) fn compress(
    response: Response<Body>,
    data: Bytes,
    coding: Coding,
    policy: &CompressionPolicy,
) -> Response<Body> {
    let mut response = response;
    let headers = response.headers();
    let compressible = !headers.contains_key(header::CONTENT_RANGE)
        && Compressible {
            minimum_size: policy.minimum_size,
        }
        .allows(response.status(), headers, Some(data.len() as u64));
    if !compressible {
        return response;
    }
    if !vary_names(response.headers(), "accept-encoding") {
        response
            .headers_mut()
            .append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    if coding == Coding::Identity {
        return response;
    }
    let encoded = match encode(coding, policy.level, &data) {
        Ok(encoded) => encoded,
        Err(error) => {
            // The uncompressed body is still a correct answer.
            tracing::warn!(%error, ?coding, "compression failed; sending the body as it is");
            return response;
        }
    };
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::ACCEPT_RANGES);
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(encoded.len()));
    parts
        .headers
        .insert(header::CONTENT_ENCODING, coding.header_value());
    super::weaken_etag(Response::from_parts(parts, Body::from(encoded)))
}

fn encode(coding: Coding, level: Option<i32>, data: &[u8]) -> io::Result<Vec<u8>> {
    let level = coding.level(level);
    match coding {
        Coding::Identity => Ok(data.to_vec()),
        Coding::Gzip => gzip(level, data),
        Coding::Brotli => brotli(level, data),
        Coding::Zstd => zstd(level, data),
    }
}

/// Encoders kept between bodies (gzip per level, zstd). A shared pool rather than
/// thread-locals: a Python extension module has little static TLS to spare, and loading one
/// with large thread-local state fails ("cannot allocate memory in static TLS block").
static GZIP: Mutex<Vec<(i32, Compressor)>> = Mutex::new(Vec::new());
static ZSTD: Mutex<Vec<zstd::bulk::Compressor<'static>>> = Mutex::new(Vec::new());

/// At most this many idle encoders of each kind are kept (one per runtime thread is enough).
const POOL_SIZE: usize = 16;

/// gzip by libdeflate, which compresses a buffer held whole in one pass: at the same level it
/// is several times faster than zlib's streaming deflate (no window to slide, no state to
/// clear between bodies) and its output is as small or smaller.
fn gzip(level: i32, data: &[u8]) -> io::Result<Vec<u8>> {
    // `level` is within 0..=9 (`Coding::level`), a valid libdeflate level.
    let pooled = {
        let mut pool = GZIP.lock();
        let found = pool.iter().position(|(pooled, _)| *pooled == level);
        found.map(|index| pool.swap_remove(index).1)
    };
    let mut encoder = match pooled {
        Some(encoder) => encoder,
        None => {
            let chosen = CompressionLvl::new(level)
                .map_err(|error| io::Error::other(format!("gzip level {level}: {error:?}")))?;
            Compressor::new(chosen)
        }
    };
    let mut output = vec![0; encoder.gzip_compress_bound(data.len())];
    let result = encoder
        .gzip_compress(data, &mut output)
        .map(|written| {
            output.truncate(written);
            output
        })
        .map_err(|error| io::Error::other(format!("gzip: {error:?}")));
    let mut pool = GZIP.lock();
    if pool.len() < POOL_SIZE {
        pool.push((level, encoder));
    }
    result
}

fn brotli(quality: i32, data: &[u8]) -> io::Result<Vec<u8>> {
    let params = brotli::enc::BrotliEncoderParams {
        quality,
        size_hint: data.len(),
        ..Default::default()
    };
    let mut output = Vec::with_capacity(data.len() / 2 + 64);
    brotli::BrotliCompress(&mut &data[..], &mut output, &params)?;
    Ok(output)
}

fn zstd(level: i32, data: &[u8]) -> io::Result<Vec<u8>> {
    let pooled = ZSTD.lock().pop();
    let mut compressor = match pooled {
        Some(mut compressor) => {
            compressor.set_compression_level(level)?;
            compressor
        }
        None => zstd::bulk::Compressor::new(level)?,
    };
    let result = compressor.compress(data);
    let mut pool = ZSTD.lock();
    if pool.len() < POOL_SIZE {
        pool.push(compressor);
    }
    result
}

#[cfg(test)]
mod tests;
