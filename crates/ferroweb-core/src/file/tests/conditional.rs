//! Preconditions: 304 and 412 answers.

use super::*;

#[tokio::test]
async fn if_none_match_answers_304_with_validators_only() {
    let file = TempFile::new("a.txt", b"abc");
    let etag = file.etag();
    let response = get(&file, &[("if-none-match", &etag)]).await;
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&response, "etag"), Some(etag.as_str()));
    assert_eq!(header(&response, "last-modified"), Some(LAST_MODIFIED));
    assert_eq!(header(&response, "content-length"), None);
    assert_eq!(header(&response, "content-type"), None);
    assert!(body(response).await.is_empty());
}

#[tokio::test]
async fn if_none_match_uses_weak_comparison_lists_and_star() {
    let file = TempFile::new("a.txt", b"abc");
    let etag = file.etag();
    let weak = format!("W/{etag}");
    let list = format!("\"x,y\", W/\"other\", {etag}");
    for value in [weak.as_str(), list.as_str(), "*"] {
        let response = get(&file, &[("if-none-match", value)]).await;
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED, "{value}");
    }
    // Several header lines form one list.
    let response = get(
        &file,
        &[("if-none-match", "\"other\""), ("if-none-match", &etag)],
    )
    .await;
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    let response = get(&file, &[("if-none-match", "\"other\"")]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body(response).await, "abc");
}

#[tokio::test]
async fn if_none_match_fails_other_methods_with_412() {
    let file = TempFile::new("a.txt", b"abc");
    let mut spec = FileSpec::new(&file.path);
    spec.conditions = conditions(Method::POST, &[("if-none-match", "*")]);
    assert_eq!(
        serve_file(spec).await.status(),
        StatusCode::PRECONDITION_FAILED
    );
}

#[tokio::test]
async fn if_modified_since_answers_304_when_not_newer() {
    let file = TempFile::new("a.txt", b"abc");
    for since in [LAST_MODIFIED, "Wed, 15 Nov 2023 00:00:00 GMT"] {
        let response = get(&file, &[("if-modified-since", since)]).await;
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED, "{since}");
    }
    for since in ["Tue, 14 Nov 2023 22:13:19 GMT", "not a date"] {
        let response = get(&file, &[("if-modified-since", since)]).await;
        assert_eq!(response.status(), StatusCode::OK, "{since}");
    }
}

#[tokio::test]
async fn if_none_match_takes_precedence_over_if_modified_since() {
    let file = TempFile::new("a.txt", b"abc");
    let response = get(
        &file,
        &[
            ("if-none-match", "\"other\""),
            ("if-modified-since", LAST_MODIFIED),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn if_match_uses_strong_comparison() {
    let file = TempFile::new("a.txt", b"abc");
    let etag = file.etag();
    for value in [etag.as_str(), "*"] {
        let response = get(&file, &[("if-match", value)]).await;
        assert_eq!(response.status(), StatusCode::OK, "{value}");
    }
    let weak = format!("W/{etag}");
    for value in ["\"other\"", weak.as_str()] {
        let response = get(&file, &[("if-match", value)]).await;
        assert_eq!(
            response.status(),
            StatusCode::PRECONDITION_FAILED,
            "{value}"
        );
        assert_eq!(
            header(&response, "content-type"),
            Some("application/problem+json")
        );
    }
}

#[tokio::test]
async fn if_match_fails_before_if_none_match_is_considered() {
    let file = TempFile::new("a.txt", b"abc");
    let response = get(&file, &[("if-match", "\"other\""), ("if-none-match", "*")]).await;
    assert_eq!(response.status(), StatusCode::PRECONDITION_FAILED);
}

#[tokio::test]
async fn if_unmodified_since_fails_when_modified_later() {
    let file = TempFile::new("a.txt", b"abc");
    let earlier = "Tue, 14 Nov 2023 22:13:19 GMT";
    let response = get(&file, &[("if-unmodified-since", earlier)]).await;
    assert_eq!(response.status(), StatusCode::PRECONDITION_FAILED);
    let response = get(&file, &[("if-unmodified-since", LAST_MODIFIED)]).await;
    assert_eq!(response.status(), StatusCode::OK);
    // A present If-Match decides alone.
    let etag = file.etag();
    let response = get(
        &file,
        &[("if-match", &etag), ("if-unmodified-since", earlier)],
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_handler_etag_is_the_one_compared() {
    let file = TempFile::new("a.txt", b"abc");
    let mut spec = FileSpec::new(&file.path);
    spec.headers
        .insert(header::ETAG, HeaderValue::from_static("\"v2\""));
    spec.headers
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    spec.conditions = conditions(Method::GET, &[("if-none-match", "\"v2\"")]);
    let response = serve_file(spec).await;
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&response, "etag"), Some("\"v2\""));
    assert_eq!(header(&response, "cache-control"), Some("no-cache"));
}
