use http::HeaderValue;

use super::*;

fn allows(
    content_type: &str,
    extra: &[(header::HeaderName, &'static str)],
    size: Option<u64>,
) -> bool {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type).unwrap(),
    );
    for (name, value) in extra {
        headers.insert(name.clone(), HeaderValue::from_static(value));
    }
    Compressible { minimum_size: 500 }.allows(StatusCode::OK, &headers, size)
}

#[test]
fn what_is_never_compressed() {
    assert!(allows("application/json", &[], Some(500)));
    assert!(
        allows("text/plain; charset=utf-8", &[], None),
        "streams of unknown size"
    );
    assert!(allows("image/svg+xml", &[], Some(1000)));
    assert!(!allows("application/json", &[], Some(499)));
    assert!(!allows("text/event-stream", &[], None));
    assert!(!allows("Text/Event-Stream; charset=utf-8", &[], None));
    for media in [
        "image/png",
        "video/mp4",
        "audio/ogg",
        "application/zip",
        "font/woff2",
    ] {
        assert!(!allows(media, &[], Some(10_000)), "{media}");
    }
    assert!(!allows(
        "application/json",
        &[(header::CACHE_CONTROL, "public, No-Transform")],
        Some(10_000)
    ));
    assert!(!allows(
        "application/json",
        &[(header::CONTENT_LENGTH, "20")],
        None
    ));
    let headers = HeaderMap::new();
    assert!(!Compressible { minimum_size: 0 }.allows(StatusCode::NO_CONTENT, &headers, None));
    assert!(!Compressible { minimum_size: 0 }.allows(StatusCode::NOT_MODIFIED, &headers, None));
}

fn tagged(etag: &str, encoding: Option<&'static str>) -> Response<()> {
    let mut response = Response::new(());
    response
        .headers_mut()
        .insert(header::ETAG, HeaderValue::from_str(etag).unwrap());
    if let Some(encoding) = encoding {
        response
            .headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    response
}

#[test]
fn only_bodies_we_compressed_get_a_weak_etag() {
    let ours = weaken_etag(tagged("\"abc\"", Some("gzip")));
    assert_eq!(ours.headers()[header::ETAG], "W/\"abc\"");
    let already_weak = weaken_etag(tagged("W/\"abc\"", Some("br")));
    assert_eq!(already_weak.headers()[header::ETAG], "W/\"abc\"");
    let uncompressed = weaken_etag(tagged("\"abc\"", None));
    assert_eq!(uncompressed.headers()[header::ETAG], "\"abc\"");
}

fn streamed(content_type: &'static str, etag: Option<&'static str>) -> Response<axum::body::Body> {
    let chunks = ["data: ", "x".repeat(2_000).leak(), "\n\n"]
        .map(|chunk| Ok::<_, std::io::Error>(bytes::Bytes::from_static(chunk.as_bytes())));
    let mut response = Response::new(axum::body::Body::from_stream(futures_util::stream::iter(
        chunks,
    )));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Some(etag) = etag {
        response
            .headers_mut()
            .insert(header::ETAG, HeaderValue::from_static(etag));
    }
    response
}

fn accepting(value: &'static str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(value));
    headers
}

async fn bytes_of(response: Response<axum::body::Body>) -> bytes::Bytes {
    use http_body_util::BodyExt;
    response.into_body().collect().await.unwrap().to_bytes()
}

#[tokio::test]
async fn streams_are_compressed_by_tower_http_with_the_negotiated_coding() {
    use std::io::Read;
    let compressor = Compressor::new(CompressionPolicy::default());
    let negotiated = compressor.negotiate(&accepting("br;q=0.5, gzip"));
    let response = compressor
        .compress(streamed("text/plain", Some("\"v1\"")), negotiated)
        .await;
    let headers = response.headers();
    assert_eq!(headers[header::CONTENT_ENCODING], "gzip");
    assert_eq!(headers[header::VARY], "accept-encoding");
    assert_eq!(headers[header::ETAG], "W/\"v1\"");
    assert!(!headers.contains_key(header::CONTENT_LENGTH));
    let mut plain = String::new();
    flate2::read::GzDecoder::new(&bytes_of(response).await[..])
        .read_to_string(&mut plain)
        .unwrap();
    assert_eq!(plain, format!("data: {}\n\n", "x".repeat(2_000)));

    // identity: the same body, and the answer still varies by Accept-Encoding
    let identity = compressor
        .compress(
            streamed("text/plain", None),
            compressor.negotiate(&HeaderMap::new()),
        )
        .await;
    assert!(!identity.headers().contains_key(header::CONTENT_ENCODING));
    assert_eq!(identity.headers()[header::VARY], "accept-encoding");
    assert_eq!(bytes_of(identity).await.len(), 2_008);

    // an event stream is never compressed
    let events = compressor
        .compress(streamed("text/event-stream", None), negotiated)
        .await;
    assert!(!events.headers().contains_key(header::CONTENT_ENCODING));
    assert!(!events.headers().contains_key(header::VARY));
}

#[tokio::test]
async fn the_handlers_own_encoding_passes_untouched() {
    let compressor = Compressor::new(CompressionPolicy::default());
    let mut encoded = streamed("text/plain", Some("\"abc\""));
    encoded
        .headers_mut()
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    let response = compressor
        .compress(encoded, compressor.negotiate(&accepting("zstd")))
        .await;
    assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");
    // a precompressed file's tag is its own
    assert_eq!(response.headers()[header::ETAG], "\"abc\"");
    assert!(!response.headers().contains_key(header::VARY));
}

#[test]
fn levels_default_for_on_the_fly_compression_and_clamp_to_each_scale() {
    assert_eq!(Coding::Gzip.level(None), 1);
    assert_eq!(Coding::Brotli.level(None), 4);
    assert_eq!(Coding::Zstd.level(None), zstd::DEFAULT_COMPRESSION_LEVEL);
    assert_eq!(Coding::Gzip.level(Some(6)), 6);
    assert_eq!(Coding::Gzip.level(Some(42)), 9);
    assert_eq!(Coding::Gzip.level(Some(-3)), 0);
    assert_eq!(Coding::Brotli.level(Some(42)), 11);
    assert_eq!(
        Coding::Zstd.level(Some(99)),
        *zstd::compression_level_range().end()
    );
}
