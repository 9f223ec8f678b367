//! A mounted directory as a router endpoint: GET and HEAD are files, OPTIONS is answered
//! with what is allowed, other methods get a 405, and a path that names no file is the
//! router's 404 (so an app's handler for 404 answers it too).

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use http::{header, HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use tower::Service;

use super::{not_found, nothing_here, routing_miss, BoxResponseFuture, Shared};
use crate::request::RoutingError;
use crate::router::StaticMount;
use crate::static_files::{Answer, StaticFiles};

const ALLOW: &str = "GET, HEAD, OPTIONS";

#[derive(Clone)]
pub(super) struct StaticEndpoint {
    files: Arc<StaticFiles>,
    /// Bytes of the request path before the part looked up in the directory.
    prefix_len: usize,
    /// A root mount's misses may still be a route's other slash form; a prefixed mount's
    /// never are (see `nothing_here`).
    at_root: bool,
    shared: Arc<Shared>,
}

impl StaticEndpoint {
    pub(super) fn new(mount: &StaticMount, shared: &Arc<Shared>) -> Self {
        Self {
            files: Arc::clone(&mount.files),
            prefix_len: mount.prefix.len(),
            at_root: mount.prefix.is_empty(),
            shared: Arc::clone(shared),
        }
    }

    async fn serve(self, request: Request<Body>) -> Response<Body> {
        let method = request.method().clone();
        if method == Method::OPTIONS {
            let mut response = Response::new(Body::empty());
            *response.status_mut() = StatusCode::NO_CONTENT;
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(ALLOW));
            return response;
        }
        if method != Method::GET && method != Method::HEAD {
            let allow = HeaderValue::from_static(ALLOW);
            let mut headers = HeaderMap::new();
            headers.insert(header::ALLOW, allow.clone());
            let error = RoutingError {
                status: StatusCode::METHOD_NOT_ALLOWED,
                detail: format!("method {method} is not allowed for this resource"),
                allow: Some(allow),
            };
            return routing_miss(self.shared, request, error, headers).await;
        }
        // The router only sends paths that start with the prefix; `get` keeps a surprise
        // from panicking.
        let relative = request
            .uri()
            .path()
            .get(self.prefix_len..)
            .unwrap_or("")
            .to_owned();
        let (parts, body) = request.into_parts();
        match self.files.respond(&parts, &relative).await {
            Answer::Response(response) => response,
            Answer::NotFound if self.at_root => {
                not_found(self.shared, Request::from_parts(parts, body)).await
            }
            Answer::NotFound => nothing_here(self.shared, Request::from_parts(parts, body)).await,
        }
    }
}

impl Service<Request<Body>> for StaticEndpoint {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxResponseFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let endpoint = self.clone();
        Box::pin(async move { Ok(endpoint.serve(request).await) })
    }
}
