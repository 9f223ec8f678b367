//! ferroweb's HTTP engine.
//!
//! This crate owns sockets, HTTP parsing, routing, limits and shutdown. It knows nothing of
//! Python: a language binding implements [`Dispatch`] to run handlers and answers each
//! [`PendingRequest`] through its [`Reply`]. Everything else — 404/405, body limits, problem
//! details, panics — is decided here, without calling into the binding.

mod auth;
mod background;
mod body;
mod config;
mod csrf;
mod dispatch;
mod file;
mod fixed;
mod json_depth;
mod middleware;
mod params;
mod pipe;
mod problem;
mod query;
mod rate_limit;
mod redis_link;
mod request;
mod response;
mod router;
mod server;
mod service;
mod session;
mod set_cookie;
mod signing;
mod static_files;
mod stream;
mod wake;
mod websocket;

pub use auth::{
    ApiKeyError, ApiKeyLocation, ApiKeyScheme, AuthPolicy, AuthScheme, Identity, JwtError, JwtKeys,
    JwtScheme, JwtSettings,
};
pub use background::{BackgroundLimits, BackgroundMetrics, JobOutcome, SubmitError, Supervisor};
pub use body::{BodyError, InProcessBody};
pub use config::{ConfigError, ServerConfig, WebSocketSettings};
pub use csrf::{CsrfError, CsrfPolicy};
pub use dispatch::{Dispatch, Reply};
pub use file::{FileSpec, RequestConditions};
pub use fixed::{FixedResponse, FixedResponseError};
pub use json_depth::json_nesting_exceeds;
pub use middleware::{
    CompressionPolicy, CorsError, CorsPolicy, Middleware, SecurityHeaderValues, SecurityHeaders,
    SecurityHeadersError, TimeoutPolicy, TrustedHosts, TrustedHostsError,
};
pub use params::{
    parse_bool, parse_float, parse_int, Bounds, ExtractedParams, IssueKind, ParamIssue, ParamPlan,
    ParamSpec, ParamValue, Scalar, Source, UnknownName,
};
pub use pipe::Wakeup;
pub use problem::{reason_phrase, Problem};
pub use query::parse_query;
pub use rate_limit::{
    parse_rate, whole_seconds, Decision, RateLimitError, RateLimitKey, RateLimitPolicy,
    TrustedProxies,
};
pub use request::{ClientAddr, PathParams, PendingRequest, RoutingError};
pub use response::{ContentKind, HandlerResponse, ResponseBody};
pub use router::{RouteError, RouteId, RouteSpec, RouteTable};
pub use server::{serve_in_process, Server, ServerError, ServerHandle};
pub use service::{AppService, TEST_CLIENT_ADDR};
pub use session::{SessionError, SessionHandle, SessionPolicy, SessionStoreKind, MAX_COOKIE_BYTES};
pub use set_cookie::{CookieAttributes, SameSite};
pub use static_files::{
    StaticFiles, StaticFilesError, StaticFilesOptions, DEFAULT_MEMORY_CACHE_BYTES,
};
pub use stream::{body_channel, BodyWriter, KeepAlive, StreamAborted, StreamBody, WriteOutcome};
pub use wake::LoopWaker;
pub use websocket::{close_code, Accept, Received, WebSocketChannel, WsMessage};
