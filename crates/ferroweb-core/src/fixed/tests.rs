use super::*;

fn fixed() -> FixedResponse {
    let headers = [("cache-control".to_owned(), "no-cache".to_owned())];
    FixedResponse::new(
        "application/json",
        Bytes::from_static(b"{\"a\":1}"),
        &headers,
    )
    .expect("valid response")
}

#[test]
fn answers_the_body_with_its_headers_and_etag() {
    let response = fixed().respond(&HeaderMap::new());
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers();
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
    assert!(headers[header::ETAG]
        .to_str()
        .expect("ascii")
        .starts_with('"'));
}

#[test]
fn a_matching_if_none_match_is_304() {
    let response = fixed();
    let etag = response.respond(&HeaderMap::new()).headers()[header::ETAG].clone();
    for tag in [
        etag.to_str().expect("ascii").to_owned(),
        format!("\"other\", W/{}", etag.to_str().expect("ascii")),
        "*".to_owned(),
    ] {
        let mut request = HeaderMap::new();
        request.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_str(&tag).expect("valid"),
        );
        let answer = response.respond(&request);
        assert_eq!(answer.status(), StatusCode::NOT_MODIFIED, "{tag}");
        assert_eq!(answer.headers()[header::ETAG], etag);
        assert_eq!(answer.headers()[header::CACHE_CONTROL], "no-cache");
    }
    let mut request = HeaderMap::new();
    request.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"stale\""));
    assert_eq!(response.respond(&request).status(), StatusCode::OK);
}

#[test]
fn the_etag_follows_the_content() {
    let a = FixedResponse::new("text/plain", Bytes::from_static(b"a"), &[]).expect("valid");
    let b = FixedResponse::new("text/plain", Bytes::from_static(b"b"), &[]).expect("valid");
    assert_ne!(a.etag, b.etag);
    let again = FixedResponse::new("text/plain", Bytes::from_static(b"a"), &[]).expect("valid");
    assert_eq!(a.etag, again.etag);
}

#[test]
fn bad_headers_are_refused() {
    assert!(FixedResponse::new("bad\ntype", Bytes::new(), &[]).is_err());
    let headers = [("bad name".to_owned(), "x".to_owned())];
    assert!(FixedResponse::new("text/plain", Bytes::new(), &headers).is_err());
}
