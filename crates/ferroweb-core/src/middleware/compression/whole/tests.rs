use std::collections::VecDeque;
use std::io::Read;

use http::StatusCode;
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt;

use super::*;

fn json(size: usize) -> Bytes {
    let item = br#"{"id":12345,"name":"ferroweb","tags":["a","b"]},"#;
    let mut body = b"[".to_vec();
    while body.len() + item.len() < size {
        body.extend_from_slice(item);
    }
    body.push(b']');
    Bytes::from(body)
}

fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(data)
        .read_to_end(&mut plain)
        .unwrap();
    plain
}

#[test]
fn every_coding_round_trips_at_default_and_clamped_levels() {
    let data = json(10_000);
    for level in [None, Some(1), Some(-5), Some(99)] {
        let gzipped = encode(Coding::Gzip, level, &data).unwrap();
        assert_eq!(gunzip(&gzipped), data, "gzip {level:?}");
        // level 0 (where -5 clamps to) stores without compressing
        if level != Some(-5) {
            assert!(gzipped.len() < data.len() / 4, "gzip {level:?}");
        }

        let brotli = encode(Coding::Brotli, level, &data).unwrap();
        let mut plain = Vec::new();
        brotli::Decompressor::new(&brotli[..], 4096)
            .read_to_end(&mut plain)
            .unwrap();
        assert_eq!(plain, data, "brotli {level:?}");

        let zstd = encode(Coding::Zstd, level, &data).unwrap();
        assert_eq!(
            zstd::bulk::decompress(&zstd, data.len()).unwrap(),
            data,
            "zstd {level:?}"
        );
    }
}

#[test]
fn a_reused_encoder_starts_each_body_afresh() {
    let first = encode(Coding::Gzip, None, &json(5_000)).unwrap();
    let other = encode(Coding::Gzip, None, b"something else entirely").unwrap();
    let again = encode(Coding::Gzip, None, &json(5_000)).unwrap();
    assert_eq!(first, again);
    assert_eq!(gunzip(&other), b"something else entirely");
    // incompressible input larger than the first guess at the output size
    let noise: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    assert_eq!(
        gunzip(&encode(Coding::Gzip, Some(9), &noise).unwrap()),
        noise
    );
    let zstd_noise = encode(Coding::Zstd, Some(19), &noise).unwrap();
    assert_eq!(
        zstd::bulk::decompress(&zstd_noise, noise.len()).unwrap(),
        noise
    );
}

/// A body of several frames that knows its exact size, like a file read in chunks.
struct Frames(VecDeque<Bytes>);

impl http_body::Body for Frames {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Poll::Ready(self.0.pop_front().map(|data| Ok(Frame::data(data))))
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.0.iter().map(|data| data.len() as u64).sum())
    }
}

fn response(body: Body) -> Response<Body> {
    let mut response = Response::new(body);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

async fn body_of(response: Response<Body>) -> Bytes {
    response.into_body().collect().await.unwrap().to_bytes()
}

#[tokio::test]
async fn responses_are_sorted_and_nothing_is_lost() {
    match prepare(response(Body::from(json(2_000))), 500) {
        Prepared::Whole(response, data) => {
            assert_eq!(data, json(2_000));
            assert_eq!(body_of(response).await, json(2_000));
        }
        _ => panic!("a complete body is whole"),
    }

    // exact size, several frames: the first frame is put back in front of the rest
    let chunks = Frames(VecDeque::from([Bytes::from("ab"), Bytes::from("cd")]));
    match prepare(response(Body::new(chunks)), 0) {
        Prepared::Stream(response) => assert_eq!(body_of(response).await, "abcd"),
        _ => panic!("a body of several frames is a stream"),
    }

    let stream = Body::from_stream(futures_util::stream::iter([Ok::<_, io::Error>("x")]));
    assert!(matches!(prepare(response(stream), 0), Prepared::Stream(_)));

    // below the minimum size, or empty: never compressed, so left alone
    assert!(matches!(
        prepare(response(Body::from(json(2_000))), 5_000),
        Prepared::Untouched(_)
    ));
    assert!(matches!(
        prepare(response(Body::empty()), 0),
        Prepared::Untouched(_)
    ));

    let mut encoded = response(Body::from(json(2_000)));
    encoded
        .headers_mut()
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    assert!(matches!(prepare(encoded, 0), Prepared::Untouched(_)));

    let large = json(usize::try_from(WHOLE_BODY_LIMIT).unwrap() + 100);
    match prepare(response(Body::from(large.clone())), 500) {
        Prepared::Stream(response) => assert_eq!(body_of(response).await, large),
        _ => panic!("a body over the limit is a stream"),
    }
}

async fn compressed(
    body: Bytes,
    coding: Coding,
    extra: Option<(header::HeaderName, &'static str)>,
) -> Response<Body> {
    let mut prepared = response(Body::from(body));
    if let Some((name, value)) = extra {
        prepared
            .headers_mut()
            .insert(name, HeaderValue::from_static(value));
    }
    match prepare(prepared, 0) {
        Prepared::Whole(response, data) => {
            compress(response, data, coding, &CompressionPolicy::default())
        }
        _ => panic!("a complete body is whole"),
    }
}

#[tokio::test]
async fn a_complete_body_is_sent_compressed_with_its_length() {
    let data = json(10_000);
    let mut response = compressed(data.clone(), Coding::Gzip, Some((header::ETAG, "\"v1\""))).await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers_mut();
    assert_eq!(headers[header::CONTENT_ENCODING], "gzip");
    assert_eq!(headers[header::VARY], "accept-encoding");
    assert_eq!(headers[header::ETAG], "W/\"v1\"");
    let length: usize = headers[header::CONTENT_LENGTH]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body.len(), length);
    assert_eq!(gunzip(&body), data);
}

#[tokio::test]
async fn identity_small_and_excluded_bodies_are_left_alone() {
    let identity = compressed(json(10_000), Coding::Identity, None).await;
    assert!(!identity.headers().contains_key(header::CONTENT_ENCODING));
    assert_eq!(identity.headers()[header::VARY], "accept-encoding");

    let small = compressed(json(100), Coding::Gzip, None).await;
    assert!(!small.headers().contains_key(header::CONTENT_ENCODING));
    assert!(!small.headers().contains_key(header::VARY));

    let ranged = compressed(
        json(10_000),
        Coding::Gzip,
        Some((header::CONTENT_RANGE, "bytes 0-9999/20000")),
    )
    .await;
    assert!(!ranged.headers().contains_key(header::CONTENT_ENCODING));

    let no_transform = compressed(
        json(10_000),
        Coding::Zstd,
        Some((header::CACHE_CONTROL, "no-transform")),
    )
    .await;
    assert!(!no_transform
        .headers()
        .contains_key(header::CONTENT_ENCODING));

    let varied = compressed(
        json(10_000),
        Coding::Brotli,
        Some((header::VARY, "Origin, Accept-Encoding")),
    )
    .await;
    assert_eq!(varied.headers().get_all(header::VARY).iter().count(), 1);
    assert_eq!(varied.headers()[header::CONTENT_ENCODING], "br");
}
