use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::Method;
use http_body_util::BodyExt;

use super::*;

mod conditional;
mod range;

/// Tue, 14 Nov 2023 22:13:20 GMT, plus some nanoseconds that only the ETag shows.
const MTIME_SECS: u64 = 1_700_000_000;
const MTIME_NANOS: u32 = 123;
const LAST_MODIFIED: &str = "Tue, 14 Nov 2023 22:13:20 GMT";

/// A file in a directory of its own, removed with it.
struct TempFile {
    dir: PathBuf,
    path: PathBuf,
}

impl TempFile {
    fn new(name: &str, contents: &[u8]) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "ferroweb-file-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, contents).unwrap();
        let mtime = UNIX_EPOCH + Duration::new(MTIME_SECS, MTIME_NANOS);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        Self { dir, path }
    }

    fn etag(&self) -> String {
        let len = std::fs::metadata(&self.path).unwrap().len();
        let nanos = u128::from(MTIME_SECS) * 1_000_000_000 + u128::from(MTIME_NANOS);
        format!("\"{nanos:x}-{len:x}\"")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn conditions(method: Method, headers: &[(&'static str, &str)]) -> RequestConditions {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.append(*name, HeaderValue::from_str(value).unwrap());
    }
    RequestConditions::from_request(&method, &map)
}

async fn get(file: &TempFile, headers: &[(&'static str, &str)]) -> Response<Body> {
    let mut spec = FileSpec::new(&file.path);
    spec.conditions = conditions(Method::GET, headers);
    serve_file(spec).await
}

async fn body(response: Response<Body>) -> Bytes {
    response.into_body().collect().await.unwrap().to_bytes()
}

fn header<'a>(response: &'a Response<Body>, name: &str) -> Option<&'a str> {
    response
        .headers()
        .get(name)
        .map(|value| value.to_str().unwrap())
}

fn numbered(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

#[tokio::test]
async fn full_answer_has_every_header() {
    let file = TempFile::new("hello.txt", b"hello world");
    let response = get(&file, &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "content-length"), Some("11"));
    assert_eq!(header(&response, "last-modified"), Some(LAST_MODIFIED));
    assert_eq!(header(&response, "etag"), Some(file.etag().as_str()));
    assert_eq!(header(&response, "accept-ranges"), Some("bytes"));
    assert_eq!(
        header(&response, "content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(header(&response, "content-disposition"), None);
    assert_eq!(body(response).await, "hello world");
}

#[tokio::test]
async fn head_has_the_headers_and_no_body() {
    let file = TempFile::new("hello.txt", b"hello world");
    let mut spec = FileSpec::new(&file.path);
    spec.conditions = conditions(Method::HEAD, &[]);
    let response = serve_file(spec).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "content-length"), Some("11"));
    assert_eq!(header(&response, "etag"), Some(file.etag().as_str()));
    assert!(body(response).await.is_empty());
}

#[tokio::test]
async fn missing_files_answer_404() {
    let file = TempFile::new("a.txt", b"abc");
    for path in [file.dir.join("missing.txt"), file.path.join("below-a-file")] {
        let response = serve_file(FileSpec::new(&path)).await;
        assert_eq!(
            response.status(),
            StatusCode::NOT_FOUND,
            "{}",
            path.display()
        );
        assert_eq!(
            header(&response, "content-type"),
            Some("application/problem+json")
        );
        let problem: serde_json::Value = serde_json::from_slice(&body(response).await).unwrap();
        assert_eq!(problem["status"], 404);
        assert!(problem["detail"].is_string());
    }
}

#[tokio::test]
async fn directories_answer_404() {
    let file = TempFile::new("a.txt", b"abc");
    let response = serve_file(FileSpec::new(&file.dir)).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn media_types_are_guessed_unless_given() {
    let cases = [
        ("data.json", "application/json"),
        ("page.html", "text/html; charset=utf-8"),
        ("blob.unknownext", "application/octet-stream"),
        ("no-extension", "application/octet-stream"),
    ];
    for (name, expected) in cases {
        let file = TempFile::new(name, b"x");
        let response = get(&file, &[]).await;
        assert_eq!(header(&response, "content-type"), Some(expected), "{name}");
    }

    let file = TempFile::new("data.json", b"x");
    let mut spec = FileSpec::new(&file.path);
    spec.media_type = Some("text/csv".to_owned());
    let response = serve_file(spec.clone()).await;
    assert_eq!(
        header(&response, "content-type"),
        Some("text/csv; charset=utf-8")
    );
    spec.media_type = Some("text/plain; charset=latin-1".to_owned());
    let response = serve_file(spec.clone()).await;
    assert_eq!(
        header(&response, "content-type"),
        Some("text/plain; charset=latin-1")
    );
}

#[tokio::test]
async fn handler_headers_win_except_framing() {
    let file = TempFile::new("data.json", b"abc");
    let mut spec = FileSpec::new(&file.path);
    spec.media_type = Some("text/csv".to_owned());
    spec.headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
    spec.headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from_static("999"));
    spec.headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=60"),
    );
    let response = serve_file(spec).await;
    assert_eq!(header(&response, "content-type"), Some("image/png"));
    assert_eq!(header(&response, "content-length"), Some("3"));
    assert_eq!(header(&response, "cache-control"), Some("max-age=60"));
}

#[tokio::test]
async fn content_disposition_names_the_attachment() {
    let file = TempFile::new("a.pdf", b"%PDF");
    let mut spec = FileSpec::new(&file.path);
    spec.filename = Some("report 2024.pdf".to_owned());
    let response = serve_file(spec.clone()).await;
    assert_eq!(
        header(&response, "content-disposition"),
        Some("attachment; filename=\"report 2024.pdf\"")
    );

    spec.filename = Some("résumé \"final\".pdf".to_owned());
    let response = serve_file(spec).await;
    assert_eq!(
        header(&response, "content-disposition"),
        Some(
            "attachment; filename=\"r_sum_ _final_.pdf\"; \
             filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.pdf"
        )
    );
}

#[tokio::test]
async fn files_larger_than_a_chunk_are_served_exactly() {
    let contents = numbered(200 * 1024);
    let file = TempFile::new("big.bin", &contents);
    let response = get(&file, &[]).await;
    assert_eq!(header(&response, "content-length"), Some("204800"));
    assert_eq!(body(response).await, contents);

    // A range across a chunk boundary, starting off the file's start.
    let response = get(&file, &[("range", "bytes=65530-131080")]).await;
    assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(body(response).await, &contents[65530..=131080]);
}

#[test]
fn times_past_year_9999_get_no_last_modified() {
    let far = SystemTime::UNIX_EPOCH + Duration::from_secs(HTTP_DATE_LIMIT + 1);
    let headers = derived_headers(&FileSpec::new("x.bin"), Some(far), 1).unwrap();
    assert!(headers.get(header::LAST_MODIFIED).is_none());
    assert!(headers.get(header::ETAG).is_some());
}
