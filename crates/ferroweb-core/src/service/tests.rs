use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::response::{ContentKind, HandlerResponse};
use crate::router::RouteSpec;

/// Answers inline with "route=<id> params=<a,b> body=<len>", or misbehaves on demand.
#[derive(Default)]
struct Recorder {
    calls: AtomicUsize,
    mode: Mode,
}

#[derive(Default, PartialEq)]
enum Mode {
    #[default]
    Answer,
    Refuse,
    Drop,
    Panic,
}

impl Dispatch for Recorder {
    fn dispatch(&self, request: PendingRequest) -> Result<(), Box<PendingRequest>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        match self.mode {
            Mode::Refuse => return Err(Box::new(request)),
            Mode::Drop => return Ok(()),
            Mode::Panic => panic!("binding bug"),
            Mode::Answer => {}
        }
        let mut text = format!(
            "route={} params={} body={} client={:?}",
            request.route,
            request.path_params.join(","),
            request.body.len(),
            request.client
        );
        if let Some(error) = &request.routing_error {
            let allow = error.allow.as_ref().map(|v| v.to_str().unwrap_or("?"));
            text = format!(
                "route={} miss={} detail={} allow={allow:?}",
                request.route,
                error.status.as_u16(),
                error.detail
            );
        }
        request.reply.send(HandlerResponse::new(
            StatusCode::OK,
            ContentKind::Text,
            Bytes::from(text),
        ));
        Ok(())
    }
}

fn app(mode: Mode, max_body_size: Option<u64>) -> (AppService, Arc<Recorder>) {
    app_with(mode, max_body_size, None)
}

fn app_with(
    mode: Mode,
    max_body_size: Option<u64>,
    error_route: Option<RouteId>,
) -> (AppService, Arc<Recorder>) {
    let mut table = RouteTable::new([
        RouteSpec::http(0, "/items/{id}", vec![Method::GET]),
        RouteSpec::http(1, "/items/{id}", vec![Method::POST]),
        RouteSpec::http(2, "/files/{*rest}", vec![Method::GET]),
    ])
    .unwrap();
    if let Some(route) = error_route {
        table = table.with_error_route(route);
    }
    let recorder = Arc::new(Recorder {
        calls: AtomicUsize::new(0),
        mode,
    });
    let config = ServerConfig {
        max_body_size,
        ..ServerConfig::default()
    };
    let service = AppService::new(&table, recorder.clone(), &config);
    (service, recorder)
}

fn request(method: Method, uri: &str, body: Body) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header(header::HOST, "testserver")
        .body(body)
        .unwrap()
}

async fn text(response: Response<InProcessBody>) -> String {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

async fn problem(response: Response<InProcessBody>) -> serde_json::Value {
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "application/problem+json"
    );
    serde_json::from_str(&text(response).await).unwrap()
}

#[tokio::test]
async fn routes_with_decoded_params_and_client() {
    let (app, _) = app(Mode::Answer, None);
    let response = app
        .call_in_process(request(Method::GET, "/items/a%20b", Body::empty()))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        text(response).await,
        "route=0 params=a b body=0 client=Some(TestClient)"
    );
    let response = app
        .call_in_process(request(Method::GET, "/files/x/y.txt", Body::empty()))
        .await;
    assert_eq!(
        text(response).await,
        "route=2 params=x/y.txt body=0 client=Some(TestClient)"
    );
}

#[tokio::test]
async fn unknown_path_is_404_problem() {
    let (app, recorder) = app(Mode::Answer, None);
    let response = app
        .call_in_process(request(Method::GET, "/nope", Body::empty()))
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body = problem(response).await;
    assert_eq!(body["status"], 404);
    assert_eq!(body["instance"], "/nope");
    assert_eq!(recorder.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn wrong_method_is_405_with_allow() {
    let (app, _) = app(Mode::Answer, None);
    let response = app
        .call_in_process(request(Method::DELETE, "/items/1", Body::empty()))
        .await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        response.headers()[header::ALLOW],
        "GET, HEAD, POST, OPTIONS"
    );
    assert_eq!(problem(response).await["title"], "Method Not Allowed");
}

#[tokio::test]
async fn options_is_answered_with_allow() {
    let (app, recorder) = app(Mode::Answer, None);
    let response = app
        .call_in_process(request(Method::OPTIONS, "/files/a", Body::empty()))
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(response.headers()[header::ALLOW], "GET, HEAD, OPTIONS");
    assert_eq!(recorder.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn head_uses_get_handler_without_body() {
    let (app, recorder) = app(Mode::Answer, None);
    let response = app
        .call_in_process(request(Method::HEAD, "/items/7", Body::empty()))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().contains_key(header::CONTENT_LENGTH));
    assert_eq!(text(response).await, "");
    assert_eq!(recorder.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn declared_oversized_body_is_413_without_dispatch() {
    let (app, recorder) = app(Mode::Answer, Some(8));
    let mut req = request(Method::POST, "/items/1", Body::from("0123456789"));
    req.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from_static("10"));
    let response = app.call_in_process(req).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(problem(response).await["status"], 413);
    assert_eq!(recorder.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn streamed_oversized_body_is_413_while_reading() {
    let (app, recorder) = app(Mode::Answer, Some(8));
    let chunks = futures_util::stream::iter(
        ["0123", "4567", "89"].map(|c| Ok::<_, Infallible>(Bytes::from(c))),
    );
    let response = app
        .call_in_process(request(Method::POST, "/items/1", Body::from_stream(chunks)))
        .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(recorder.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn body_within_limit_is_delivered() {
    let (app, _) = app(Mode::Answer, Some(8));
    let response = app
        .call_in_process(request(Method::POST, "/items/1", Body::from("01234567")))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(text(response).await.contains("body=8"));
}

#[tokio::test]
async fn refused_dropped_and_panicking_dispatch_become_problems() {
    for (mode, status) in [
        (Mode::Refuse, StatusCode::SERVICE_UNAVAILABLE),
        (Mode::Drop, StatusCode::INTERNAL_SERVER_ERROR),
        (Mode::Panic, StatusCode::INTERNAL_SERVER_ERROR),
    ] {
        let (app, _) = app(mode, None);
        let response = app
            .call_in_process(request(Method::GET, "/items/1", Body::empty()))
            .await;
        assert_eq!(response.status(), status);
        assert_eq!(problem(response).await["instance"], "/items/1");
    }
}

#[tokio::test]
async fn routing_misses_go_to_the_error_route_when_set() {
    let (app, recorder) = app_with(Mode::Answer, None, Some(9));
    let missing = app
        .call_in_process(request(Method::GET, "/nope", Body::empty()))
        .await;
    assert_eq!(
        text(missing).await,
        "route=9 miss=404 detail=no route matches /nope allow=None"
    );
    let wrong_method = app
        .call_in_process(request(Method::DELETE, "/items/1", Body::empty()))
        .await;
    assert_eq!(
        text(wrong_method).await,
        "route=9 miss=405 detail=method DELETE is not allowed for this resource \
         allow=Some(\"GET, HEAD, POST, OPTIONS\")"
    );
    // OPTIONS is not an error: still answered by the core.
    let options = app
        .call_in_process(request(Method::OPTIONS, "/items/1", Body::empty()))
        .await;
    assert_eq!(options.status(), StatusCode::NO_CONTENT);
    assert_eq!(recorder.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn handshakes_go_to_the_websocket_route_sharing_a_get_path() {
    let table = RouteTable::new([
        RouteSpec::http(0, "/chat", vec![Method::GET]),
        RouteSpec::websocket(1, "/chat"),
    ])
    .unwrap();
    let recorder = Arc::new(Recorder::default());
    let service = AppService::new(&table, recorder.clone(), &ServerConfig::default());

    let plain = service
        .call_in_process(request(Method::GET, "/chat", Body::empty()))
        .await;
    assert!(text(plain).await.starts_with("route=0 "));

    // In process there is no connection to upgrade: the WebSocket route answers with the
    // handshake rejection itself, which shows the request went there and not to route 0.
    let handshake = Request::builder()
        .uri("/chat")
        .header(header::HOST, "testserver")
        .header(header::CONNECTION, "upgrade")
        .header(header::UPGRADE, "WebSocket")
        .header(header::SEC_WEBSOCKET_VERSION, "13")
        .header(header::SEC_WEBSOCKET_KEY, "dGhlIHNhbXBsZSBub25jZQ==")
        .body(Body::empty())
        .unwrap();
    let response = service.call_in_process(handshake).await;
    assert_eq!(response.status(), StatusCode::UPGRADE_REQUIRED);
    assert_eq!(recorder.calls.load(Ordering::SeqCst), 1);
}

/// Every request's future is moved into a box (and memcpy'd) once per request, so rare
/// paths (file opening, WebSocket handshakes) are boxed separately; this keeps them so.
#[test]
fn request_future_stays_small() {
    let (service, _) = app(Mode::Answer, None);
    let shared = Arc::new(Shared {
        dispatcher: service.dispatcher(),
        max_body_size: None,
        websocket: WebSocketSettings::default(),
        websocket_shutdown: watch::channel(false).1,
        error_route: None,
        slash_twins: None,
    });
    let target = Target {
        route: 0,
        params: None,
        websocket: false,
        max_body_size: None,
        timeout: None,
        fixed: None,
    };
    let request = request(Method::GET, "/items/1", Body::empty());
    let future = handle(shared, target, request, None);
    let size = std::mem::size_of_val(&future);
    // 4280 bytes before the rare paths were boxed; 1600 after (rustc 1.95, debug).
    assert!(size <= 2560, "the request future grew to {size} bytes");
}

#[tokio::test]
async fn misses_redirect_to_the_other_slash_form_when_enabled() {
    let table = || {
        RouteTable::new([
            RouteSpec::http(0, "/items", vec![Method::GET]),
            RouteSpec::http(1, "/users/", vec![Method::POST]),
            RouteSpec::http(2, "/files/{*rest}", vec![Method::GET]),
        ])
        .unwrap()
    };
    let recorder = Arc::new(Recorder::default());
    let on = AppService::new(
        &table().with_redirect_slashes(true),
        recorder.clone(),
        &ServerConfig::default(),
    );
    let off = AppService::new(&table(), recorder.clone(), &ServerConfig::default());
    for (method, uri, location) in [
        (Method::GET, "/items/?a=1", "/items?a=1"),
        (Method::POST, "/users", "/users/"),
        (Method::DELETE, "/items/", "/items"),
    ] {
        let response = on
            .call_in_process(request(method, uri, Body::empty()))
            .await;
        assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT, "{uri}");
        assert_eq!(response.headers()[header::LOCATION], location);
    }
    for uri in ["/nothing/", "/", "//items/"] {
        let response = on
            .call_in_process(request(Method::GET, uri, Body::empty()))
            .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{uri}");
    }
    let response = off
        .call_in_process(request(Method::GET, "/items/", Body::empty()))
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(recorder.calls.load(Ordering::SeqCst), 0);
}

#[test]
fn a_body_must_have_the_length_it_declares() {
    let with = |pairs: &[(&'static str, &'static str)]| {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, http::HeaderValue::from_static(value));
        }
        headers
    };
    assert!(length_mismatch(&with(&[]), 5).is_none());
    assert!(length_mismatch(&with(&[("content-length", "5")]), 5).is_none());
    let short = length_mismatch(&with(&[("content-length", "100")]), 5).unwrap();
    assert_eq!(short.status_code(), StatusCode::BAD_REQUEST);
    assert!(short
        .detail
        .as_deref()
        .unwrap()
        .contains("shorter than its Content-Length (5 of 100 bytes)"));
    let long = length_mismatch(&with(&[("content-length", "1")]), 5).unwrap();
    assert!(long.detail.as_deref().unwrap().contains("longer"));
    assert!(length_mismatch(&with(&[("content-length", "ten")]), 10).is_some());
    // chunked framing decides the length, whatever a Content-Length says
    let chunked = with(&[("content-length", "100"), ("transfer-encoding", "chunked")]);
    assert!(length_mismatch(&chunked, 5).is_none());
}
