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
    // the handler's own encoding (a precompressed file): its tag is its own
    let handlers = weaken_etag(prepare(
        tagged("\"abc\"", Some("gzip")).map(|()| axum::body::Body::empty()),
        0,
    ));
    assert_eq!(handlers.headers()[header::ETAG], "\"abc\"");
}
