//! The per-request pipeline shared by the network server and in-process test clients:
//! route (axum/matchit) -> limits -> hand to the binding -> wait for its answer. Everything
//! that can go wrong on the way becomes a problem-details response here.

use std::convert::Infallible;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::rejection::RawPathParamsRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{FromRequestParts, RawPathParams};
use axum::routing::{MethodFilter, MethodRouter};
use bytes::{Bytes, BytesMut};
use futures_util::future::Either;
use futures_util::FutureExt;
use http::{header, HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use tokio::sync::{oneshot, watch};
use tower::Service;

use crate::body::InProcessBody;
use crate::config::{ServerConfig, WebSocketSettings};
use crate::dispatch::{Dispatch, Reply};
use crate::fixed::FixedResponse;
use crate::middleware::{self, host_problem, CorsSource, Middleware, TimeoutPolicy};
use crate::params::ParamPlan;
use crate::problem::Problem;
use crate::request::{ClientAddr, PendingRequest, RoutingError};
use crate::response::HandlerResponse;
use crate::router::{PathEntry, RouteId, RouteTable};
use crate::websocket::{self, Accept};
use static_mount::StaticEndpoint;

mod static_mount;

/// The address reported for requests made through [`AppService::call_in_process`].
pub const TEST_CLIENT_ADDR: ClientAddr = ClientAddr::TestClient;

struct Shared {
    dispatcher: Arc<dyn Dispatch>,
    /// `ServerConfig::max_body_size`: the limit of routes without a `BodyLimit`.
    max_body_size: Option<u64>,
    websocket: WebSocketSettings,
    /// Tells open WebSocket connections that the server is shutting down.
    websocket_shutdown: watch::Receiver<bool>,
    /// Where routing misses go when the binding wants to answer them itself.
    error_route: Option<RouteId>,
    /// The route patterns, to find the other form of a missed path (`RouteTable::with_redirect_slashes`).
    slash_twins: Option<matchit::Router<()>>,
}

/// The whole application as one tower service. Cheap to clone (one `Arc` inside axum).
#[derive(Clone)]
pub struct AppService {
    router: axum::Router,
    dispatcher: Arc<dyn Dispatch>,
    websocket_shutdown: Arc<watch::Sender<bool>>,
}

impl AppService {
    pub fn new(table: &RouteTable, dispatcher: Arc<dyn Dispatch>, config: &ServerConfig) -> Self {
        let (websocket_shutdown, websocket_shutdown_signal) = watch::channel(false);
        let shared = Arc::new(Shared {
            dispatcher: Arc::clone(&dispatcher),
            max_body_size: config.max_body_size,
            websocket: config.websocket.clone(),
            websocket_shutdown: websocket_shutdown_signal,
            error_route: table.error_route,
            slash_twins: table.redirect_slashes.then(|| slash_matcher(table)),
        });
        let mut router = axum::Router::new();
        for path in &table.order {
            let Some(entry) = table.paths.get(path) else {
                continue;
            };
            router = router.route(path, method_router(entry, table, &shared));
        }
        let mut root_mount = None;
        for mount in &table.mounts {
            let endpoint = StaticEndpoint::new(mount, &shared);
            let service = match mount.middleware.as_deref() {
                Some(stack) if !stack.wraps_nothing() => {
                    let cors = stack
                        .cors
                        .clone()
                        .map_or(CorsSource::None, CorsSource::Fixed);
                    middleware::wrap(endpoint, stack, cors)
                }
                _ => tower::util::BoxCloneSyncService::new(endpoint),
            };
            let patterns = mount.patterns();
            if patterns.is_empty() {
                root_mount = Some(service);
                continue;
            }
            for pattern in patterns {
                router = router.route_service(&pattern, service.clone());
            }
        }
        if let Some(root) = root_mount {
            // The root mount answers every path no route takes, its misses included.
            return Self {
                router: router.fallback_service(root).with_state(()),
                dispatcher,
                websocket_shutdown: Arc::new(websocket_shutdown),
            };
        }
        let not_found_shared = Arc::clone(&shared);
        let not_found_service = tower::service_fn(move |request: Request<Body>| {
            let shared = Arc::clone(&not_found_shared);
            async move { Ok::<_, Infallible>(not_found(shared, request).await) }
        });
        let router = match &table.default_middleware {
            Some(defaults) if !defaults.wraps_nothing() || defaults.cors.is_some() => {
                let cors = defaults
                    .cors
                    .clone()
                    .map_or(CorsSource::None, CorsSource::Fixed);
                router.fallback_service(middleware::wrap(not_found_service, defaults, cors))
            }
            _ => router.fallback_service(not_found_service),
        }
        .with_state(());
        Self {
            router,
            dispatcher,
            websocket_shutdown: Arc::new(websocket_shutdown),
        }
    }

    /// Closes every open WebSocket connection with 1001 (going away); part of shutdown.
    pub fn close_websockets(&self) {
        self.websocket_shutdown.send_replace(true);
    }

    /// Serves one request: the `Host` checks every request gets, then the router.
    pub(crate) fn route(&self, request: Request<Body>) -> RouteFuture {
        if let Some(problem) = host_problem(&request) {
            let response = problem.with_instance(request.uri().path()).into_response();
            return Either::Left(std::future::ready(Ok(response)));
        }
        Either::Right(self.router.clone().call(request))
    }

    /// The binding's dispatcher, for runtime hooks such as [`Dispatch::runtime_idle`].
    pub fn dispatcher(&self) -> Arc<dyn Dispatch> {
        Arc::clone(&self.dispatcher)
    }

    /// Serves one request without a socket, exactly as the network server would.
    pub async fn call_in_process<B>(&self, request: Request<B>) -> Response<InProcessBody>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let mut request = request.map(Body::new);
        request.extensions_mut().insert(TEST_CLIENT_ADDR);
        match self.route(request).await {
            Ok(response) => response.map(InProcessBody::new),
            Err(never) => match never {},
        }
    }
}

/// What [`AppService::route`] returns.
pub(crate) type RouteFuture = Either<
    std::future::Ready<Result<Response<Body>, Infallible>>,
    axum::routing::future::RouteFuture<Infallible>,
>;

fn method_router(entry: &PathEntry, table: &RouteTable, shared: &Arc<Shared>) -> MethodRouter {
    let target = |route: RouteId, websocket: bool| {
        let middleware = table.middleware.get(&route);
        Target {
            route,
            params: table.param_plans.get(&route).cloned(),
            websocket,
            max_body_size: middleware
                .and_then(|m| m.body_limit)
                .or(shared.max_body_size),
            // A WebSocket lives as long as its peer wants; only HTTP answers are timed.
            timeout: middleware.and_then(|m| m.timeout).filter(|_| !websocket),
            fixed: table.fixed.get(&route).cloned().filter(|_| !websocket),
        }
    };
    let upgrade = entry.websocket.map(|route| target(route, true));
    let mut methods = MethodRouter::new();
    let mut serves_get = false;
    for (method, route) in &entry.endpoints {
        // RouteTable only admits methods axum has filters for.
        let Ok(filter) = MethodFilter::try_from(method.clone()) else {
            continue;
        };
        let is_get = *method == Method::GET;
        serves_get |= is_get;
        let endpoint = Endpoint {
            target: target(*route, false),
            // An HTTP GET sharing its path with a WebSocket route hands it the handshakes.
            upgrade: if is_get { upgrade.clone() } else { None },
            shared: Arc::clone(shared),
        };
        methods = with_middleware(methods, filter, endpoint, table.middleware.get(route));
    }
    if let (Some(upgrade), false) = (upgrade, serves_get) {
        // A WebSocket route alone: plain GETs reach it too and get the handshake rejection.
        let middleware = table.middleware.get(&upgrade.route);
        let endpoint = Endpoint {
            target: upgrade,
            upgrade: None,
            shared: Arc::clone(shared),
        };
        methods = with_middleware(methods, MethodFilter::GET, endpoint, middleware);
    }
    let allow = HeaderValue::from_str(&entry.allow_header())
        .unwrap_or_else(|_| HeaderValue::from_static("OPTIONS"));
    let fallback_shared = Arc::clone(shared);
    let fallback = tower::service_fn(move |request: Request<Body>| {
        let shared = Arc::clone(&fallback_shared);
        let allow = allow.clone();
        async move { Ok::<_, Infallible>(method_fallback(shared, request, allow).await) }
    });
    // Preflights for this path are answered by the CORS policy of the route serving the
    // method they ask about (they are OPTIONS requests, which rarely have a route of their own).
    let route_cors: Vec<(Method, Arc<middleware::CorsPolicy>)> = entry
        .endpoints
        .iter()
        .filter_map(|(method, route)| {
            let cors = table.middleware.get(route)?.cors.clone()?;
            Some((method.clone(), cors))
        })
        .collect();
    let defaults = table.default_middleware.as_deref();
    let default_cors = defaults.and_then(|m| m.cors.clone());
    if route_cors.is_empty()
        && default_cors.is_none()
        && defaults.is_none_or(Middleware::wraps_nothing)
    {
        return methods.fallback_service(fallback);
    }
    let cors = CorsSource::ByRequestedMethod {
        routes: route_cors,
        fallback: default_cors,
    };
    let empty = Middleware::default();
    methods.fallback_service(middleware::wrap(fallback, defaults.unwrap_or(&empty), cors))
}

/// Registers `endpoint` for `filter`, wrapped in its route's middleware when it has any.
fn with_middleware(
    methods: MethodRouter,
    filter: MethodFilter,
    endpoint: Endpoint,
    middleware: Option<&Arc<Middleware>>,
) -> MethodRouter {
    match middleware {
        Some(middleware) if !middleware.wraps_nothing() => {
            let cors = middleware
                .cors
                .clone()
                .map_or(CorsSource::None, CorsSource::Fixed);
            methods.on_service(filter, middleware::wrap(endpoint, middleware, cors))
        }
        _ => methods.on_service(filter, endpoint),
    }
}

/// Unserved methods: OPTIONS is answered with the allowed methods, the rest get a 405.
async fn method_fallback(
    shared: Arc<Shared>,
    request: Request<Body>,
    allow: HeaderValue,
) -> Response<Body> {
    let mut headers = HeaderMap::new();
    headers.insert(header::ALLOW, allow.clone());
    if request.method() == Method::OPTIONS {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::NO_CONTENT;
        *response.headers_mut() = headers;
        return response;
    }
    let error = RoutingError {
        status: StatusCode::METHOD_NOT_ALLOWED,
        detail: format!(
            "method {} is not allowed for this resource",
            request.method()
        ),
        allow: Some(allow),
    };
    routing_miss(shared, request, error, headers).await
}

async fn not_found(shared: Arc<Shared>, request: Request<Body>) -> Response<Body> {
    if let Some(location) = shared
        .slash_twins
        .as_ref()
        .and_then(|twins| slash_twin(twins, request.uri()))
    {
        return redirect(StatusCode::TEMPORARY_REDIRECT, &location);
    }
    nothing_here(shared, request).await
}

/// The 404 itself (also for a path below a static mount that names no file: mounts take
/// every path below their prefix, so a slash redirect there could only loop).
async fn nothing_here(shared: Arc<Shared>, request: Request<Body>) -> Response<Body> {
    let error = RoutingError {
        status: StatusCode::NOT_FOUND,
        detail: format!("no route matches {}", request.uri().path()),
        allow: None,
    };
    routing_miss(shared, request, error, HeaderMap::new()).await
}

/// Every route pattern, in a matcher of its own: only misses consult it. Mounts are left out:
/// they match every path below their prefix, whatever its slash.
fn slash_matcher(table: &RouteTable) -> matchit::Router<()> {
    let mut matcher = matchit::Router::new();
    let mounts = table
        .mounts
        .iter()
        .flat_map(crate::router::StaticMount::patterns);
    for pattern in table.order.iter().cloned().chain(mounts) {
        // The table already inserted these without error; a failure here only means one
        // pattern is not considered for a redirect.
        let _ = matcher.insert(pattern.as_str(), ());
    }
    matcher
}

/// `/items/` for `/items` and the reverse, when that form is routed: the target a 307 sends
/// the client to, query kept. The root never loses its slash.
fn slash_twin(matcher: &matchit::Router<()>, uri: &http::Uri) -> Option<String> {
    let path = uri.path();
    let twin = match path.strip_suffix('/') {
        Some("") => return None,
        Some(stripped) => stripped.to_owned(),
        None => format!("{path}/"),
    };
    // `//evil.example` would be read as another host by the client.
    if twin.starts_with("//") || matcher.at(&twin).is_err() {
        return None;
    }
    Some(match uri.query() {
        Some(query) => format!("{twin}?{query}"),
        None => twin,
    })
}

fn redirect(status: StatusCode, location: &str) -> Response<Body> {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// Answers a routing miss here, or hands it to the binding's error route when it has one
/// (so its exception handlers can answer 404/405 too).
async fn routing_miss(
    shared: Arc<Shared>,
    request: Request<Body>,
    error: RoutingError,
    headers: HeaderMap,
) -> Response<Body> {
    match shared.error_route {
        Some(route) => {
            let target = Target {
                route,
                params: None,
                websocket: false,
                max_body_size: shared.max_body_size,
                timeout: None,
                fixed: None,
            };
            handle(Arc::clone(&shared), target, request, Some(error)).await
        }
        None => Problem::new(error.status)
            .with_detail(error.detail)
            .with_instance(request.uri().path())
            .into_response_with(headers),
    }
}

/// One route's handler as a tower service.
#[derive(Clone)]
struct Endpoint {
    target: Target,
    /// Where WebSocket handshakes go instead, when a WebSocket route shares the path.
    upgrade: Option<Target>,
    shared: Arc<Shared>,
}

/// Which route a request goes to, and what the core prepares for it.
#[derive(Clone)]
struct Target {
    route: RouteId,
    params: Option<Arc<ParamPlan>>,
    websocket: bool,
    /// The route's `BodyLimit`, else `ServerConfig::max_body_size`.
    max_body_size: Option<u64>,
    timeout: Option<TimeoutPolicy>,
    /// The answer, when the core gives it without the binding.
    fixed: Option<Arc<FixedResponse>>,
}

type BoxResponseFuture = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

impl Service<Request<Body>> for Endpoint {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxResponseFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let shared = Arc::clone(&self.shared);
        let target = match &self.upgrade {
            Some(upgrade) if is_websocket_handshake(&request) => upgrade.clone(),
            _ => self.target.clone(),
        };
        if let Some(fixed) = &target.fixed {
            let response = fixed.respond(request.headers());
            return Box::pin(std::future::ready(Ok(response)));
        }
        let route = target.route;
        // A Uri clone is a reference-count increment; the path is only rendered on a panic.
        let uri = request.uri().clone();
        Box::pin(async move {
            // A panic anywhere in this request's handling answers 500 and leaves the
            // connection and the server serving.
            let handled = AssertUnwindSafe(handle(shared, target, request, None))
                .catch_unwind()
                .await;
            Ok(handled.unwrap_or_else(|panic| {
                let message = panic_message(&panic);
                tracing::error!(route, %message, "request handling panicked");
                Problem::new(StatusCode::INTERNAL_SERVER_ERROR)
                    .with_instance(uri.path())
                    .into_response()
            }))
        })
    }
}

/// A request asking to switch to the WebSocket protocol (`Upgrade: websocket`); whether the
/// rest of the handshake is valid is the WebSocket route's business.
fn is_websocket_handshake(request: &Request<Body>) -> bool {
    request
        .headers()
        .get_all(header::UPGRADE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|protocol| protocol.trim().eq_ignore_ascii_case("websocket"))
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}

async fn handle(
    shared: Arc<Shared>,
    target: Target,
    request: Request<Body>,
    routing_error: Option<RoutingError>,
) -> Response<Body> {
    let Some(timeout) = target.timeout else {
        return handle_untimed(shared, target, request, routing_error).await;
    };
    // The deadline covers reading the body and the handler's start of its answer. When it
    // passes, the handler's reply slot is dropped: the binding sees the request as gone.
    let path = request.uri().path().to_owned();
    let handled = Box::pin(handle_untimed(shared, target, request, routing_error));
    match tokio::time::timeout(timeout.duration, handled).await {
        Ok(response) => response,
        Err(_) => timeout.expired(&path),
    }
}

async fn handle_untimed(
    shared: Arc<Shared>,
    target: Target,
    request: Request<Body>,
    routing_error: Option<RoutingError>,
) -> Response<Body> {
    let Target {
        route,
        params,
        websocket,
        max_body_size,
        timeout: _,
        fixed: _,
    } = target;
    let (mut parts, body) = request.into_parts();
    let path_params = match RawPathParams::from_request_parts(&mut parts, &()).await {
        Ok(params) => params.iter().map(|(_, value)| value.to_owned()).collect(),
        Err(RawPathParamsRejection::MissingPathParams(_)) => Vec::new(),
        Err(rejection) => {
            return Problem::new(StatusCode::BAD_REQUEST)
                .with_detail(rejection.body_text())
                .with_instance(parts.uri.path())
                .into_response()
        }
    };
    let upgrade = if websocket {
        match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
            Ok(upgrade) => Some(upgrade),
            Err(rejection) => {
                return Problem::new(rejection.status())
                    .with_detail(rejection.body_text())
                    .with_instance(parts.uri.path())
                    .into_response()
            }
        }
    } else {
        None
    };
    let body = match read_body(body, &parts.headers, max_body_size).await {
        Ok(body) => body,
        Err(problem) => return problem.with_instance(parts.uri.path()).into_response(),
    };
    // Typed parameters are converted here, on the runtime thread, before the binding sees them.
    let params = params.map(|plan| {
        plan.extract(
            parts.uri.query().unwrap_or(""),
            &parts.headers,
            &path_params,
        )
    });
    let uri = parts.uri.clone();
    let (reply, answer) = Reply::channel();
    let (channel, socket) = match upgrade {
        Some(upgrade) => {
            let (channel, end, accepted) = websocket::channel(&shared.websocket);
            (Some(channel), Some((upgrade, end, accepted)))
        }
        None => (None, None),
    };
    let pending = PendingRequest {
        route,
        method: parts.method,
        uri: parts.uri,
        version: parts.version,
        headers: parts.headers,
        path_params,
        body,
        client: parts.extensions.remove::<ClientAddr>(),
        auth: parts.extensions.remove::<crate::Identity>(),
        session: parts.extensions.remove::<crate::SessionHandle>(),
        routing_error,
        params,
        websocket: channel,
        reply,
    };
    if shared.dispatcher.dispatch(pending).is_err() {
        return Problem::new(StatusCode::SERVICE_UNAVAILABLE)
            .with_detail("the server is shutting down")
            .with_instance(uri.path())
            .into_response();
    }
    if let Some((upgrade, end, accepted)) = socket {
        // Boxed so that the rare handshake's state does not enlarge every request's future.
        return Box::pin(handshake(
            &shared,
            upgrade,
            end,
            accepted,
            answer,
            uri.path(),
        ))
        .await;
    }
    answered(answer.await, uri.path()).await
}

async fn answered(
    answer: Result<HandlerResponse, oneshot::error::RecvError>,
    path: &str,
) -> Response<Body> {
    match answer {
        // Only a file needs awaiting; boxing it keeps every other request's future small.
        Ok(response) if response.is_file() => Box::pin(response.into_http_response()).await,
        Ok(response) => response.into_http(),
        Err(_) => Problem::new(StatusCode::INTERNAL_SERVER_ERROR)
            .with_instance(path)
            .into_response(),
    }
}

/// Waits for the handler to accept the WebSocket (101, then the core serves the socket) or
/// to refuse it with an HTTP response.
async fn handshake(
    shared: &Shared,
    upgrade: WebSocketUpgrade,
    end: websocket::SocketEnd,
    mut accepted: oneshot::Receiver<Accept>,
    mut answer: oneshot::Receiver<HandlerResponse>,
    path: &str,
) -> Response<Body> {
    let accept = tokio::select! {
        // A handler that accepts and returns at once has both ready: the accept must win,
        // or the client would get the handler's end-of-session reply instead of its socket.
        biased;
        accept = &mut accepted => accept.ok(),
        response = &mut answer => return answered(response, path).await,
    };
    let Some(accept) = accept else {
        // The handler finished without accepting: its reply says how it refused.
        return answered(answer.await, path).await;
    };
    let settings = shared.websocket.clone();
    let shutdown = shared.websocket_shutdown.clone();
    let mut upgrade = upgrade
        .max_message_size(settings.max_message_size)
        .max_frame_size(settings.max_message_size)
        .read_buffer_size(websocket::READ_CHUNK);
    if let Some(protocol) = accept.protocol {
        upgrade = upgrade.protocols([protocol]);
    }
    let mut response = upgrade
        .on_failed_upgrade(|err| tracing::debug!(%err, "websocket upgrade failed"))
        .on_upgrade(move |socket| websocket::serve_socket(socket, end, settings, shutdown));
    response.headers_mut().extend(accept.headers);
    response
}

/// How much of an oversized body is read and discarded before answering 413. Dropping the
/// unread rest makes hyper close the connection without writing the answer; draining a
/// bounded amount lets the client see the 413 (as nginx's lingering close does).
const OVERSIZE_DRAIN_BYTES: usize = 1024 * 1024;
const OVERSIZE_DRAIN_TIME: std::time::Duration = std::time::Duration::from_millis(200);

/// Reads the whole body, refusing more than `limit` bytes: a declared Content-Length over the
/// limit is refused before reading anything, and a chunked body as soon as it passes it.
async fn read_body(body: Body, headers: &HeaderMap, limit: Option<u64>) -> Result<Bytes, Problem> {
    let bytes = read_within(body, headers, limit).await?;
    match length_mismatch(headers, bytes.len()) {
        Some(problem) => Err(problem),
        None => Ok(bytes),
    }
}

/// A body that does not have the length its `Content-Length` declares is refused whole (RFC
/// 9112 section 6.3: the message is incomplete, or its framing is wrong) rather than handed
/// to the handler cut short. Over a connection hyper already frames bodies by that header
/// (a body that ends early is a read error there); in-process requests are checked here.
fn length_mismatch(headers: &HeaderMap, received: usize) -> Option<Problem> {
    if headers.contains_key(header::TRANSFER_ENCODING) {
        return None;
    }
    let value = headers.get(header::CONTENT_LENGTH)?;
    let Some(declared) = value
        .to_str()
        .ok()
        .and_then(|text| text.trim().parse::<u64>().ok())
    else {
        return Some(
            Problem::new(StatusCode::BAD_REQUEST)
                .with_detail("the Content-Length header is not a number"),
        );
    };
    if declared == received as u64 {
        return None;
    }
    let how = if (received as u64) < declared {
        "shorter"
    } else {
        "longer"
    };
    Some(Problem::new(StatusCode::BAD_REQUEST).with_detail(format!(
        "the request body is {how} than its Content-Length ({received} of {declared} bytes)"
    )))
}

async fn read_within(
    body: Body,
    headers: &HeaderMap,
    limit: Option<u64>,
) -> Result<Bytes, Problem> {
    let Some(limit) = limit else {
        return collect(body).await;
    };
    let too_large = || {
        Problem::new(StatusCode::PAYLOAD_TOO_LARGE)
            .with_detail(format!("request body exceeds the limit of {limit} bytes"))
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(too_large());
    }
    let mut body = body;
    let mut collected = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|err| unreadable_body(&err))?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers carry no body bytes
        };
        if (collected.len() + data.len()) as u64 > limit {
            drain(body).await;
            return Err(too_large());
        }
        collected.extend_from_slice(&data);
    }
    Ok(collected.freeze())
}

/// Reads and discards up to a bounded amount of what is left of a refused body.
async fn drain(mut body: Body) {
    let discard = async {
        let mut discarded = 0usize;
        while discarded < OVERSIZE_DRAIN_BYTES {
            match body.frame().await {
                Some(Ok(frame)) => discarded += frame.data_ref().map_or(0, Bytes::len),
                _ => break,
            }
        }
    };
    let _ = tokio::time::timeout(OVERSIZE_DRAIN_TIME, discard)
        .await
        .is_ok();
}

async fn collect(body: Body) -> Result<Bytes, Problem> {
    match body.collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) => Err(unreadable_body(&err)),
    }
}

fn unreadable_body(err: &dyn std::error::Error) -> Problem {
    Problem::new(StatusCode::BAD_REQUEST).with_detail(format!("could not read request body: {err}"))
}

#[cfg(test)]
mod tests;
