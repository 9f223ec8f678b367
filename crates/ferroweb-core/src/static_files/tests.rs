use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http::Request;
use http_body_util::BodyExt;

use std::time::Duration;

use super::*;
use crate::dispatch::Dispatch;
use crate::request::PendingRequest;
use crate::{AppService, RouteSpec, RouteTable, ServerConfig};
use cache::REVALIDATE_AFTER;

/// A scratch tree: `public/` (what is served) beside `secret.txt` (what must never be).
struct Tree {
    base: PathBuf,
}

impl Tree {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let base = std::env::temp_dir().join(format!(
            "ferroweb-static-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let tree = Self { base };
        tree.write("secret.txt", "outside");
        tree.write("public/hello.txt", "hello");
        tree.write("public/app.css", "body { color: red }");
        tree.write("public/app.css.br", "BROTLI-BYTES");
        tree.write("public/app.css.gz", "GZIP-BYTES");
        tree.write("public/docs/index.html", "<h1>docs</h1>");
        tree.write("public/empty/keep.txt", "");
        tree
    }

    fn write(&self, relative: &str, contents: &str) {
        let path = self.base.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }

    fn public(&self) -> PathBuf {
        self.base.join("public")
    }

    fn files(&self, options: StaticFilesOptions) -> StaticFiles {
        StaticFiles::new(self.public(), options).unwrap()
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

fn html() -> StaticFilesOptions {
    StaticFilesOptions {
        html: true,
        ..StaticFilesOptions::default()
    }
}

fn found_name(found: &Found) -> Option<String> {
    match found {
        Found::File { path, .. } | Found::NotFoundPage(path) => {
            Some(path.file_name()?.to_string_lossy().into_owned())
        }
        _ => None,
    }
}

#[test]
fn files_are_found_and_directories_need_html_mode() {
    let tree = Tree::new();
    let plain = tree.files(StaticFilesOptions::default());
    assert_eq!(
        found_name(&plain.lookup("/hello.txt", &[])).as_deref(),
        Some("hello.txt")
    );
    assert_eq!(plain.lookup("/docs/", &[]), Found::Nothing);
    assert_eq!(plain.lookup("/hello.txt/", &[]), Found::Nothing);
    assert_eq!(plain.lookup("/missing", &[]), Found::Nothing);

    let html = tree.files(html());
    assert_eq!(html.lookup("/docs", &[]), Found::AddSlash);
    assert_eq!(
        found_name(&html.lookup("/docs/", &[])).as_deref(),
        Some("index.html")
    );
    // no index and no 404 page: nothing, never a listing
    assert_eq!(html.lookup("/empty/", &[]), Found::Nothing);
    tree.write("public/404.html", "<h1>gone</h1>");
    assert!(matches!(
        html.lookup("/missing", &[]),
        Found::NotFoundPage(_)
    ));
    assert!(matches!(
        html.lookup("/empty/", &[]),
        Found::NotFoundPage(_)
    ));
}

#[test]
fn precompressed_siblings_follow_the_client_preference() {
    let tree = Tree::new();
    let files = tree.files(StaticFilesOptions::default());
    let br = Variant {
        encoding: "br",
        suffix: "br",
    };
    let zstd = Variant {
        encoding: "zstd",
        suffix: "zst",
    };
    let gzip = Variant {
        encoding: "gzip",
        suffix: "gz",
    };
    let Found::File {
        path,
        variant,
        type_from,
    } = files.lookup("/app.css", &[zstd, gzip, br])
    else {
        panic!("app.css must be found");
    };
    assert_eq!(variant, Some(gzip));
    assert!(path.ends_with("app.css.gz"));
    assert!(type_from.ends_with("app.css"));
    let Found::File { variant, .. } = files.lookup("/hello.txt", &[br, gzip]) else {
        panic!("hello.txt must be found");
    };
    assert_eq!(variant, None);
}

/// What the issue asks to refuse, and more; every one must come back as "nothing".
const TRAVERSALS: [&str; 34] = [
    "/../secret.txt",
    "/..%2fsecret.txt",
    "/..%2Fsecret.txt",
    "/%2e%2e/secret.txt",
    "/%2e%2e%2fsecret.txt",
    "/%2E%2E%2Fsecret.txt",
    "/.%2e/secret.txt",
    "/%2e./secret.txt",
    "/docs/../../secret.txt",
    "/docs/%2e%2e/%2e%2e/secret.txt",
    "/./../secret.txt",
    "//../secret.txt",
    "/..\\secret.txt",
    "/..%5csecret.txt",
    "/..%5Csecret.txt",
    "/%252e%252e/secret.txt",
    "/%c0%ae%c0%ae/secret.txt",
    "/%c0%af../secret.txt",
    "/%e0%80%ae%e0%80%ae/secret.txt",
    "/..%00/secret.txt",
    "/hello.txt%00.png",
    "/%00",
    "/%2fetc%2fpasswd",
    "/%2Fsecret.txt",
    "//etc/passwd",
    "/etc/passwd",
    "/C:/Windows/win.ini",
    "/C%3A%5CWindows%5Cwin.ini",
    "/hello.txt::$DATA",
    "/...",
    "/..;/secret.txt",
    "/link-out",
    "/link-out/secret.txt",
    "/dir-link-out/secret.txt",
];

#[cfg(unix)]
#[test]
fn nothing_outside_the_directory_is_ever_found() {
    let tree = Tree::new();
    std::os::unix::fs::symlink(tree.base.join("secret.txt"), tree.public().join("link-out"))
        .unwrap();
    std::os::unix::fs::symlink(&tree.base, tree.public().join("dir-link-out")).unwrap();
    std::os::unix::fs::symlink(
        tree.public().join("hello.txt"),
        tree.public().join("link-in"),
    )
    .unwrap();
    let files = tree.files(StaticFilesOptions::default());
    for raw in TRAVERSALS {
        assert_eq!(
            files.lookup(raw, &[]),
            Found::Nothing,
            "{raw} must find nothing"
        );
    }
    // a link that stays inside is fine
    assert!(matches!(files.lookup("/link-in", &[]), Found::File { .. }));
    // a precompressed sibling that links out is skipped
    std::os::unix::fs::symlink(
        tree.base.join("secret.txt"),
        tree.public().join("hello.txt.gz"),
    )
    .unwrap();
    let gzip = Variant {
        encoding: "gzip",
        suffix: "gz",
    };
    let Found::File { variant, .. } = files.lookup("/hello.txt", &[gzip]) else {
        panic!("hello.txt must be found");
    };
    assert_eq!(variant, None);

    let following = tree.files(StaticFilesOptions {
        follow_symlinks: true,
        ..StaticFilesOptions::default()
    });
    assert!(matches!(
        following.lookup("/link-out", &[]),
        Found::File { .. }
    ));
    // following links never makes `..` work
    assert_eq!(following.lookup("/../secret.txt", &[]), Found::Nothing);
}

#[test]
fn bad_directories_and_options_are_refused_at_start_up() {
    let tree = Tree::new();
    let missing = StaticFiles::new(tree.base.join("nope"), StaticFilesOptions::default());
    assert!(matches!(missing, Err(StaticFilesError::Directory { .. })));
    let file = StaticFiles::new(tree.base.join("secret.txt"), StaticFilesOptions::default());
    assert!(matches!(file, Err(StaticFilesError::NotADirectory(_))));
    for index in ["", "..", "a/b", "a\\b"] {
        let options = StaticFilesOptions {
            index: index.to_owned(),
            ..StaticFilesOptions::default()
        };
        assert!(matches!(
            StaticFiles::new(tree.public(), options),
            Err(StaticFilesError::Index(_))
        ));
    }
    let options = StaticFilesOptions {
        cache_control: Some("a\nb".to_owned()),
        ..StaticFilesOptions::default()
    };
    let error = StaticFiles::new(tree.public(), options).unwrap_err();
    assert!(error.to_string().contains("cache_control"));
}

/// Answers every dispatched request "handler" (only route 0 exists).
struct Handler;

impl Dispatch for Handler {
    fn dispatch(&self, request: PendingRequest) -> Result<(), Box<PendingRequest>> {
        request.reply.send(crate::HandlerResponse::new(
            StatusCode::OK,
            crate::ContentKind::Text,
            Bytes::from_static(b"handler"),
        ));
        Ok(())
    }
}

fn mounted(tree: &Tree, prefix: &str, options: StaticFilesOptions) -> AppService {
    mount(prefix, Arc::new(tree.files(options)))
}

fn mount(prefix: &str, files: Arc<StaticFiles>) -> AppService {
    let table = RouteTable::new([RouteSpec::http(0, "/api", vec![Method::GET])])
        .unwrap()
        .with_static_files(prefix, files, None)
        .unwrap();
    AppService::new(&table, Arc::new(Handler), &ServerConfig::default())
}

async fn call(
    service: &AppService,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, HeaderMap, Bytes) {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::HOST, "testserver");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = service
        .call_in_process(request.body(Body::empty()).unwrap())
        .await;
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    (parts.status, parts.headers, bytes)
}

#[tokio::test]
async fn a_mount_serves_files_with_validators_ranges_and_methods() {
    // from memory (the default) and from disk: the same answers
    serves_files_with_validators_ranges_and_methods(DEFAULT_MEMORY_CACHE_BYTES).await;
    serves_files_with_validators_ranges_and_methods(0).await;
}

async fn serves_files_with_validators_ranges_and_methods(memory_cache_bytes: u64) {
    let tree = Tree::new();
    let options = StaticFilesOptions {
        cache_control: Some("public, max-age=3600".to_owned()),
        memory_cache_bytes,
        ..html()
    };
    let service = mounted(&tree, "/static", options);

    let (status, headers, body) = call(&service, Method::GET, "/static/hello.txt", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "hello");
    assert_eq!(headers[header::CONTENT_TYPE], "text/plain; charset=utf-8");
    assert_eq!(headers[header::CACHE_CONTROL], "public, max-age=3600");
    assert_eq!(headers[header::VARY], "accept-encoding");
    let etag = headers[header::ETAG].to_str().unwrap().to_owned();

    let (status, headers, body) = call(
        &service,
        Method::GET,
        "/static/hello.txt",
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!((status, body.len()), (StatusCode::NOT_MODIFIED, 0));
    assert_eq!(headers[header::CACHE_CONTROL], "public, max-age=3600");

    let (status, headers, body) = call(
        &service,
        Method::GET,
        "/static/hello.txt",
        &[("range", "bytes=1-3")],
    )
    .await;
    assert_eq!(
        (status, &body[..]),
        (StatusCode::PARTIAL_CONTENT, &b"ell"[..])
    );
    assert_eq!(headers[header::CONTENT_RANGE], "bytes 1-3/5");

    let (status, headers, body) = call(&service, Method::HEAD, "/static/hello.txt", &[]).await;
    assert_eq!((status, body.len()), (StatusCode::OK, 0));
    assert_eq!(headers[header::CONTENT_LENGTH], "5");

    let (status, headers, _) = call(&service, Method::POST, "/static/hello.txt", &[]).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(headers[header::ALLOW], "GET, HEAD, OPTIONS");
    let (status, headers, _) = call(&service, Method::OPTIONS, "/static/hello.txt", &[]).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(headers[header::ALLOW], "GET, HEAD, OPTIONS");

    let (status, headers, body) = call(
        &service,
        Method::GET,
        "/static/app.css",
        &[("accept-encoding", "gzip, br")],
    )
    .await;
    assert_eq!((status, &body[..]), (StatusCode::OK, &b"BROTLI-BYTES"[..]));
    assert_eq!(headers[header::CONTENT_ENCODING], "br");
    assert_eq!(headers[header::CONTENT_TYPE], "text/css; charset=utf-8");

    let (status, headers, _) = call(&service, Method::GET, "/static/docs?x=1", &[]).await;
    assert_eq!(status, StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(headers[header::LOCATION], "/static/docs/?x=1");
    let (status, headers, _) = call(&service, Method::GET, "/static", &[]).await;
    assert_eq!(status, StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(headers[header::LOCATION], "/static/");
    let (_, _, body) = call(&service, Method::GET, "/static/docs/", &[]).await;
    assert_eq!(body, "<h1>docs</h1>");

    let (status, headers, _) = call(&service, Method::GET, "/static/../secret.txt", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
    tree.write("public/404.html", "<h1>gone</h1>");
    let (status, headers, body) = call(&service, Method::GET, "/static/nope", &[]).await;
    assert_eq!(
        (status, &body[..]),
        (StatusCode::NOT_FOUND, &b"<h1>gone</h1>"[..])
    );
    assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    assert!(headers.get(header::CACHE_CONTROL).is_none());

    // routes keep their paths
    let (_, _, body) = call(&service, Method::GET, "/api", &[]).await;
    assert_eq!(body, "handler");
}

#[tokio::test]
async fn cached_files_are_checked_against_the_disk_after_a_second() {
    let tree = Tree::new();
    let service = mounted(&tree, "/static", StaticFilesOptions::default());
    let get = |uri| call(&service, Method::GET, uri, &[]);
    assert_eq!(get("/static/hello.txt").await.2, "hello");
    tree.write("public/hello.txt", "hello again");
    // within the second, the bytes held are served (no file system call at all)
    let (_, headers, body) = get("/static/hello.txt").await;
    assert_eq!(body, "hello");
    assert_eq!(headers[header::CONTENT_LENGTH], "5");
    tokio::time::sleep(REVALIDATE_AFTER + Duration::from_millis(100)).await;
    let (_, headers, body) = get("/static/hello.txt").await;
    assert_eq!(body, "hello again");
    assert_eq!(headers[header::CONTENT_LENGTH], "11");
    std::fs::remove_file(tree.public().join("hello.txt")).unwrap();
    tokio::time::sleep(REVALIDATE_AFTER + Duration::from_millis(100)).await;
    assert_eq!(get("/static/hello.txt").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_memory_cache_keeps_to_its_budget() {
    let tree = Tree::new();
    // 16 KiB in all, so nothing over 1 KiB is held
    let options = StaticFilesOptions {
        memory_cache_bytes: 16 * 1024,
        ..StaticFilesOptions::default()
    };
    let files = Arc::new(tree.files(options));
    let cache = files.cache.as_ref().unwrap();
    tree.write("public/big.bin", &"x".repeat(1025));
    for index in 0..100 {
        tree.write(&format!("public/f{index}.txt"), &"y".repeat(900));
    }
    let service = mount("/", Arc::clone(&files));
    let (status, _, body) = call(&service, Method::GET, "/big.bin", &[]).await;
    assert_eq!((status, body.len()), (StatusCode::OK, 1025));
    assert!(cache.previous(&MemoryCache::key("/big.bin", &[])).is_none());
    for index in 0..100 {
        let (status, _, body) = call(&service, Method::GET, &format!("/f{index}.txt"), &[]).await;
        assert_eq!((status, body.len()), (StatusCode::OK, 900));
        assert!(cache.held_bytes() <= 16 * 1024, "{}", cache.held_bytes());
    }
    assert!(cache.held_bytes() > 0);
    // the ones pushed out are read again, not lost
    let (status, _, body) = call(&service, Method::GET, "/f0.txt", &[]).await;
    assert_eq!((status, body.len()), (StatusCode::OK, 900));
}

#[tokio::test]
async fn a_root_mount_takes_what_no_route_does() {
    let tree = Tree::new();
    let service = mounted(&tree, "/", html());
    assert_eq!(call(&service, Method::GET, "/api", &[]).await.2, "handler");
    assert_eq!(
        call(&service, Method::GET, "/hello.txt", &[]).await.2,
        "hello"
    );
    assert_eq!(
        call(&service, Method::GET, "/docs/", &[]).await.2,
        "<h1>docs</h1>"
    );
    let (status, ..) = call(&service, Method::GET, "/nothing", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[test]
fn mounts_that_clash_are_refused() {
    let tree = Tree::new();
    let files = Arc::new(tree.files(StaticFilesOptions::default()));
    let table = || RouteTable::new([RouteSpec::http(0, "/static/{name}", vec![Method::GET])]);
    let error = table()
        .unwrap()
        .with_static_files("/static", Arc::clone(&files), None)
        .unwrap_err();
    assert!(error.to_string().contains("static"), "{error}");
    let twice = table()
        .unwrap()
        .with_static_files("/assets", Arc::clone(&files), None)
        .unwrap()
        .with_static_files("/assets/", Arc::clone(&files), None)
        .unwrap_err();
    assert_eq!(
        twice,
        crate::RouteError::DuplicateMount {
            prefix: "/assets".to_owned()
        }
    );
    for prefix in ["static", "/{x}"] {
        assert!(table()
            .unwrap()
            .with_static_files(prefix, Arc::clone(&files), None)
            .is_err());
    }
}
