//! What the core hands a binding: one routed, fully limited request plus its reply slot.

use std::net::SocketAddr;

use bytes::Bytes;

use crate::dispatch::Reply;
use crate::router::RouteId;

/// Path parameter values in the order they appear in the route template. The binding knows
/// the names from the template it registered, so no per-request name strings are built.
pub type PathParams = Vec<String>;

/// Who sent the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAddr {
    Socket(SocketAddr),
    /// A request made in-process by a test client: there is no socket.
    TestClient,
}

/// A request that passed routing and limits, waiting for its handler. It is plain Rust data:
/// the binding decides when and on which thread to turn it into objects of its language.
#[derive(Debug)]
pub struct PendingRequest {
    pub route: RouteId,
    pub method: http::Method,
    pub uri: http::Uri,
    pub version: http::Version,
    pub headers: http::HeaderMap,
    pub path_params: PathParams,
    pub body: Bytes,
    pub client: Option<ClientAddr>,
    /// Set when this is not a matched route but a routing miss handed to the binding's error
    /// route (see [`crate::RouteTable::with_error_route`]).
    pub routing_error: Option<RoutingError>,
    /// The route's declared parameters, converted (when the route has a
    /// [`crate::ParamPlan`]).
    pub params: Option<crate::ExtractedParams>,
    /// For a WebSocket route: the connection, usable once the handler accepts it. Until
    /// then `reply` can still refuse the handshake with an HTTP response.
    pub websocket: Option<crate::WebSocketChannel>,
    /// Who the route's authentication accepted the request as (when it has any).
    pub auth: Option<crate::Identity>,
    /// The request's session (when the route has `Sessions`).
    pub session: Option<crate::SessionHandle>,
    pub reply: Reply,
}

/// Why the router could not serve a request: what the core would have answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutingError {
    pub status: http::StatusCode,
    pub detail: String,
    /// The `Allow` header value, for a 405.
    pub allow: Option<http::HeaderValue>,
}

impl PendingRequest {
    pub fn path(&self) -> &str {
        self.uri.path()
    }

    pub fn query(&self) -> &str {
        self.uri.query().unwrap_or("")
    }
}
