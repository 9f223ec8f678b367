//! The middleware stack around real endpoints: what is answered without the binding, what
//! is added to its answers, and that routes without middleware are untouched.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{header, Method, Request, StatusCode};
use http_body_util::BodyExt;

use super::*;
use crate::config::ServerConfig;
use crate::dispatch::Dispatch;
use crate::request::PendingRequest;
use crate::response::{ContentKind, HandlerResponse};
use crate::router::{RouteSpec, RouteTable};
use crate::service::AppService;

/// Answers `size` bytes of JSON (route 0 and 1), or never answers (route 2, so timeouts fire).
#[derive(Default)]
struct Handler {
    calls: AtomicUsize,
}

impl Dispatch for Handler {
    fn dispatch(&self, request: PendingRequest) -> Result<(), Box<PendingRequest>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if request.route == 2 {
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(60)).await;
                drop(request);
            });
            return Ok(());
        }
        let body = format!("[{}]", "1,".repeat(1000) + "1");
        let body = if request.uri.query() == Some("small") {
            "{}".to_owned()
        } else {
            body
        };
        request.reply.send(HandlerResponse::new(
            StatusCode::OK,
            ContentKind::Json,
            Bytes::from(body),
        ));
        Ok(())
    }
}

fn cors() -> Arc<CorsPolicy> {
    let strings = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    Arc::new(
        CorsPolicy::new(
            &strings(&["https://app.example"]),
            None,
            &strings(&["GET", "POST"]),
            &strings(&["x-token"]),
            true,
            &strings(&["x-total"]),
            600,
        )
        .unwrap(),
    )
}

fn service(
    route_middleware: Middleware,
    defaults: Option<Middleware>,
) -> (AppService, Arc<Handler>) {
    let mut table = RouteTable::new([
        RouteSpec::http(0, "/mw", vec![Method::GET, Method::POST]),
        RouteSpec::http(1, "/plain", vec![Method::GET]),
        RouteSpec::http(2, "/slow", vec![Method::GET]),
    ])
    .unwrap()
    .with_middleware(0, route_middleware.clone())
    .with_middleware(2, route_middleware);
    if let Some(defaults) = defaults {
        table = table.with_default_middleware(defaults);
    }
    let handler = Arc::new(Handler::default());
    let config = ServerConfig {
        max_body_size: Some(1000),
        ..ServerConfig::default()
    };
    (AppService::new(&table, handler.clone(), &config), handler)
}

fn get(uri: &str) -> http::request::Builder {
    Request::get(uri).header(header::HOST, "testserver")
}

async fn body_of(response: http::Response<crate::body::InProcessBody>) -> Bytes {
    response.into_body().collect().await.unwrap().to_bytes()
}

#[tokio::test]
async fn preflights_are_answered_without_the_handler() {
    let (app, handler) = service(
        Middleware {
            cors: Some(cors()),
            ..Middleware::default()
        },
        None,
    );
    let preflight = |method: &str, headers: &str| {
        Request::options("/mw")
            .header(header::HOST, "testserver")
            .header(header::ORIGIN, "https://app.example")
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, method)
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, headers)
            .body(Body::empty())
            .unwrap()
    };
    let allowed = app
        .call_in_process(preflight("POST", "X-Token, content-type"))
        .await;
    assert_eq!(allowed.status(), StatusCode::NO_CONTENT);
    let headers = allowed.headers();
    assert_eq!(
        headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://app.example"
    );
    assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_CREDENTIALS], "true");
    assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_METHODS], "GET, POST");
    assert_eq!(headers[header::ACCESS_CONTROL_MAX_AGE], "600");
    assert_eq!(headers[header::VARY], "Origin");
    for refused in [preflight("DELETE", ""), preflight("GET", "x-other")] {
        let response = app.call_in_process(refused).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(!response
            .headers()
            .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));
    }
    assert_eq!(handler.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn actual_requests_and_errors_carry_the_cors_headers() {
    let (app, _) = service(
        Middleware {
            cors: Some(cors()),
            ..Middleware::default()
        },
        Some(Middleware {
            cors: Some(cors()),
            ..Middleware::default()
        }),
    );
    for (uri, method, status) in [
        ("/mw", Method::GET, StatusCode::OK),
        ("/nope", Method::GET, StatusCode::NOT_FOUND),
        ("/mw", Method::PUT, StatusCode::METHOD_NOT_ALLOWED),
    ] {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::HOST, "testserver")
            .header(header::ORIGIN, "https://app.example")
            .body(Body::empty())
            .unwrap();
        let response = app.call_in_process(request).await;
        assert_eq!(response.status(), status);
        let headers = response.headers();
        assert_eq!(
            headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
            "https://app.example"
        );
        assert_eq!(headers[header::ACCESS_CONTROL_EXPOSE_HEADERS], "x-total");
        assert_eq!(headers[header::VARY], "Origin");
    }
    let stranger = get("/mw")
        .header(header::ORIGIN, "https://evil.example")
        .body(Body::empty())
        .unwrap();
    let response = app.call_in_process(stranger).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(!response
        .headers()
        .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));
    // a route without the policy is not decorated
    let plain = get("/plain")
        .header(header::ORIGIN, "https://app.example")
        .body(Body::empty())
        .unwrap();
    let response = app.call_in_process(plain).await;
    assert!(!response
        .headers()
        .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));
}

#[tokio::test]
async fn compression_negotiates_and_respects_the_minimum_size() {
    let (app, _) = service(
        Middleware {
            compression: Some(CompressionPolicy::default()),
            security_headers: Some(Arc::new(
                SecurityHeaders::new(&SecurityHeaderValues {
                    content_type_options: true,
                    frame_options: Some("DENY".to_owned()),
                    hsts: Some("max-age=60".to_owned()),
                    ..SecurityHeaderValues::default()
                })
                .unwrap(),
            )),
            ..Middleware::default()
        },
        None,
    );
    let request = |uri: &str, accept: &str| {
        get(uri)
            .header(header::ACCEPT_ENCODING, accept)
            .body(Body::empty())
            .unwrap()
    };
    let gzip = app.call_in_process(request("/mw", "br;q=0.5, gzip")).await;
    assert_eq!(gzip.headers()[header::CONTENT_ENCODING], "gzip");
    assert_eq!(gzip.headers()[header::VARY], "accept-encoding");
    assert_eq!(gzip.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(gzip.headers()[header::X_FRAME_OPTIONS], "DENY");
    // HSTS only over HTTPS
    assert!(!gzip
        .headers()
        .contains_key(header::STRICT_TRANSPORT_SECURITY));
    let compressed = body_of(gzip).await;
    assert!(compressed.len() < 200, "{} bytes", compressed.len());
    let zstd = app
        .call_in_process(request("/mw", "zstd, gzip;q=0.1"))
        .await;
    assert_eq!(zstd.headers()[header::CONTENT_ENCODING], "zstd");
    let small = app.call_in_process(request("/mw?small", "gzip")).await;
    assert!(!small.headers().contains_key(header::CONTENT_ENCODING));
    assert_eq!(body_of(small).await, "{}");
    let refused = app
        .call_in_process(request("/mw", "gzip;q=0, identity"))
        .await;
    assert!(!refused.headers().contains_key(header::CONTENT_ENCODING));
    let untouched = app.call_in_process(request("/plain", "gzip")).await;
    assert!(!untouched.headers().contains_key(header::CONTENT_ENCODING));
    assert!(!untouched
        .headers()
        .contains_key(header::X_CONTENT_TYPE_OPTIONS));
}

#[tokio::test]
async fn timeouts_answer_with_a_problem_and_body_limits_per_route() {
    let (app, _) = service(
        Middleware {
            timeout: Some(TimeoutPolicy {
                duration: Duration::from_millis(50),
                status: StatusCode::SERVICE_UNAVAILABLE,
            }),
            body_limit: Some(10),
            ..Middleware::default()
        },
        None,
    );
    let slow = app
        .call_in_process(get("/slow").body(Body::empty()).unwrap())
        .await;
    assert_eq!(slow.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = serde_json::from_slice(&body_of(slow).await).unwrap();
    assert_eq!(body["detail"], "the handler did not answer within 0.05 s");
    let post = |uri: &str, size: usize| {
        Request::post(uri)
            .header(header::HOST, "testserver")
            .body(Body::from(vec![b'x'; size]))
            .unwrap()
    };
    assert_eq!(
        app.call_in_process(post("/mw", 11)).await.status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert_eq!(
        app.call_in_process(post("/mw", 10)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn trusted_hosts_and_the_host_header_rules() {
    let (app, handler) = service(
        Middleware {
            trusted_hosts: Some(Arc::new(
                TrustedHosts::new(
                    &["www.example.com".to_owned(), "*.api.example".to_owned()],
                    true,
                )
                .unwrap(),
            )),
            ..Middleware::default()
        },
        None,
    );
    let with_host = |uri: &str, host: &str| {
        Request::get(uri)
            .header(header::HOST, host)
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(
        app.call_in_process(with_host("/mw", "v1.api.example:8000"))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        app.call_in_process(with_host("/mw", "api.example"))
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    let redirect = app
        .call_in_process(with_host("/mw?a=1", "example.com"))
        .await;
    assert_eq!(redirect.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(
        redirect.headers()[header::LOCATION],
        "http://www.example.com/mw?a=1"
    );
    // the plain route has no trusted hosts, but every request needs one valid Host
    assert_eq!(
        app.call_in_process(with_host("/plain", "anything.test"))
            .await
            .status(),
        StatusCode::OK
    );
    let calls = handler.calls.load(Ordering::SeqCst);
    let missing = Request::get("/plain").body(Body::empty()).unwrap();
    let two = Request::get("/plain")
        .header(header::HOST, "a.test")
        .header(header::HOST, "b.test")
        .body(Body::empty())
        .unwrap();
    for request in [
        missing,
        two,
        with_host("/plain", "a b"),
        with_host("/plain", "x:99999"),
    ] {
        assert_eq!(
            app.call_in_process(request).await.status(),
            StatusCode::BAD_REQUEST
        );
    }
    let old = Request::get("/plain")
        .version(http::Version::HTTP_10)
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.call_in_process(old).await.status(), StatusCode::OK);
    assert_eq!(handler.calls.load(Ordering::SeqCst), calls + 1);
}
