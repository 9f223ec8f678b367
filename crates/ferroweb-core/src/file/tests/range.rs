//! Byte ranges and If-Range: 206, 416, and the whole file when Range does not apply.

use super::*;

#[tokio::test]
async fn single_ranges_answer_206_with_exact_bytes() {
    let contents = numbered(100);
    let file = TempFile::new("data.bin", &contents);
    let cases = [
        ("bytes=10-19", 10..20),
        ("bytes=90-", 90..100),
        ("bytes=-5", 95..100),
        ("bytes=95-200", 95..100),
        ("bytes=-500", 0..100),
        ("Bytes=0-0", 0..1),
    ];
    for (range, expected) in cases {
        let response = get(&file, &[("range", range)]).await;
        assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT, "{range}");
        let content_range = format!("bytes {}-{}/100", expected.start, expected.end - 1);
        assert_eq!(
            header(&response, "content-range"),
            Some(content_range.as_str())
        );
        let length = expected.len().to_string();
        assert_eq!(header(&response, "content-length"), Some(length.as_str()));
        assert_eq!(body(response).await, &contents[expected]);
    }
}

#[tokio::test]
async fn unsatisfiable_ranges_answer_416() {
    let file = TempFile::new("data.bin", &numbered(100));
    for range in ["bytes=100-", "bytes=150-160", "bytes=-0"] {
        let response = get(&file, &[("range", range)]).await;
        assert_eq!(
            response.status(),
            StatusCode::RANGE_NOT_SATISFIABLE,
            "{range}"
        );
        assert_eq!(header(&response, "content-range"), Some("bytes */100"));
        assert_eq!(
            header(&response, "content-type"),
            Some("application/problem+json")
        );
    }
}

#[tokio::test]
async fn malformed_and_multiple_ranges_get_the_whole_file() {
    let contents = numbered(100);
    let file = TempFile::new("data.bin", &contents);
    let ranges = [
        "bytes=abc",
        "bytes=5-3",
        "bytes=",
        "items=0-1",
        "0-1",
        "bytes=0-1,5-6",
    ];
    for range in ranges {
        let response = get(&file, &[("range", range)]).await;
        assert_eq!(response.status(), StatusCode::OK, "{range}");
        assert_eq!(header(&response, "content-range"), None);
        assert_eq!(body(response).await, contents);
    }
}

#[tokio::test]
async fn range_is_ignored_for_head_and_other_statuses() {
    let file = TempFile::new("data.bin", &numbered(100));
    let mut spec = FileSpec::new(&file.path);
    spec.conditions = conditions(Method::HEAD, &[("range", "bytes=0-9")]);
    let response = serve_file(spec).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "content-length"), Some("100"));

    let mut spec = FileSpec::new(&file.path);
    spec.status = StatusCode::NON_AUTHORITATIVE_INFORMATION;
    spec.conditions = conditions(Method::GET, &[("range", "bytes=0-9")]);
    let response = serve_file(spec).await;
    assert_eq!(response.status(), StatusCode::NON_AUTHORITATIVE_INFORMATION);
    assert_eq!(header(&response, "accept-ranges"), None);
    assert_eq!(body(response).await.len(), 100);
}

#[tokio::test]
async fn if_range_with_etag_needs_a_strong_match() {
    let file = TempFile::new("data.bin", &numbered(100));
    let etag = file.etag();
    let response = get(&file, &[("range", "bytes=0-9"), ("if-range", &etag)]).await;
    assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
    let weak = format!("W/{etag}");
    for if_range in ["\"other\"", weak.as_str()] {
        let response = get(&file, &[("range", "bytes=0-9"), ("if-range", if_range)]).await;
        assert_eq!(response.status(), StatusCode::OK, "{if_range}");
        assert_eq!(body(response).await.len(), 100);
    }
}

#[tokio::test]
async fn if_range_with_date_needs_an_exact_match() {
    let file = TempFile::new("data.bin", &numbered(100));
    let response = get(
        &file,
        &[("range", "bytes=0-9"), ("if-range", LAST_MODIFIED)],
    )
    .await;
    assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
    let later = "Wed, 15 Nov 2023 00:00:00 GMT";
    let response = get(&file, &[("range", "bytes=0-9"), ("if-range", later)]).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn empty_files_have_no_satisfiable_range() {
    let file = TempFile::new("empty.txt", b"");
    let response = get(&file, &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "content-length"), Some("0"));
    assert!(body(response).await.is_empty());
    let response = get(&file, &[("range", "bytes=0-")]).await;
    assert_eq!(response.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(header(&response, "content-range"), Some("bytes */0"));
    let response = get(&file, &[("range", "bytes=-5")]).await;
    assert_eq!(response.status(), StatusCode::OK);
}
