//! The route table: validated once from what the binding registered, then compiled into an
//! axum router whose lookups are matchit radix-tree matches, with no binding code involved.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use http::Method;

/// Index of a registered route; the binding maps it back to its handler.
pub type RouteId = u32;

/// One route as the binding registered it: a path template (`/items/{id}`, `/files/{*rest}`)
/// and the methods its handler serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    pub id: RouteId,
    pub path: String,
    pub methods: Vec<Method>,
    /// A WebSocket endpoint: it is handed the GET requests that are upgrade handshakes, with
    /// a [`crate::WebSocketChannel`] ([`crate::PendingRequest::websocket`]); `methods` is
    /// ignored. It may share its path with an HTTP GET route, which keeps the plain requests.
    pub websocket: bool,
}

impl RouteSpec {
    /// An HTTP route.
    pub fn http(id: RouteId, path: impl Into<String>, methods: Vec<Method>) -> Self {
        Self {
            id,
            path: path.into(),
            methods,
            websocket: false,
        }
    }

    /// A WebSocket route.
    pub fn websocket(id: RouteId, path: impl Into<String>) -> Self {
        Self {
            id,
            path: path.into(),
            methods: vec![Method::GET],
            websocket: true,
        }
    }
}

/// Why a route table could not be built. Raised at start-up, never per request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteError {
    InvalidPath {
        path: String,
        message: String,
    },
    DuplicateRoute {
        path: String,
        method: Method,
    },
    DuplicateWebSocket {
        path: String,
    },
    UnsupportedMethod {
        path: String,
        method: Method,
    },
    NoMethods {
        path: String,
    },
    /// Two directories mounted at the same prefix.
    DuplicateMount {
        prefix: String,
    },
}

impl fmt::Display for RouteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidPath { path, message } => {
                write!(f, "invalid route path {path:?}: {message}")
            }
            Self::DuplicateRoute { path, method } => {
                write!(f, "route {method} {path:?} is registered twice")
            }
            Self::UnsupportedMethod { path, method } => {
                write!(f, "route {path:?}: method {method} is not supported")
            }
            Self::DuplicateWebSocket { path } => {
                write!(f, "WebSocket route {path:?} is registered twice")
            }
            Self::NoMethods { path } => write!(f, "route {path:?} has no methods"),
            Self::DuplicateMount { prefix } => {
                write!(f, "a directory is mounted at {prefix:?} twice")
            }
        }
    }
}

impl std::error::Error for RouteError {}

/// Methods a route can be registered for. CONNECT and TRACE are left out on purpose: they
/// have no use in an API server and TRACE reflects requests back (cross-site tracing).
pub(crate) const ROUTABLE_METHODS: [Method; 7] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
    Method::OPTIONS,
];

/// The methods served at one path, and the routes serving them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PathEntry {
    pub(crate) endpoints: Vec<(Method, RouteId)>,
    /// The WebSocket route at this path, if any (it answers GET upgrade handshakes).
    pub(crate) websocket: Option<RouteId>,
}

impl PathEntry {
    fn has_endpoint(&self, method: &Method) -> bool {
        self.endpoints.iter().any(|(m, _)| m == method)
    }

    fn serves(&self, method: &Method) -> bool {
        self.has_endpoint(method) || (*method == Method::GET && self.websocket.is_some())
    }

    /// The `Allow` header value: every served method, HEAD wherever GET is served, and
    /// OPTIONS, which the core answers itself when no handler claims it.
    pub(crate) fn allow_header(&self) -> String {
        let allowed: Vec<&str> = ROUTABLE_METHODS
            .iter()
            .filter(|m| {
                self.serves(m)
                    || (**m == Method::HEAD && self.serves(&Method::GET))
                    || **m == Method::OPTIONS
            })
            .map(Method::as_str)
            .collect();
        allowed.join(", ")
    }
}

/// A validated set of routes, grouped by path in registration order.
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    pub(crate) paths: BTreeMap<String, PathEntry>,
    pub(crate) order: Vec<String>,
    pub(crate) error_route: Option<RouteId>,
    pub(crate) param_plans: HashMap<RouteId, Arc<crate::ParamPlan>>,
    pub(crate) middleware: HashMap<RouteId, Arc<crate::Middleware>>,
    /// The app's own middleware: what requests no route matches (404, 405, OPTIONS) get.
    pub(crate) default_middleware: Option<Arc<crate::Middleware>>,
    pub(crate) mounts: Vec<StaticMount>,
    pub(crate) redirect_slashes: bool,
    /// Routes the core answers itself, from bytes fixed at start-up.
    pub(crate) fixed: HashMap<RouteId, Arc<crate::FixedResponse>>,
}

/// A directory served under a prefix (`""`: at the root, for paths no route takes).
#[derive(Debug, Clone)]
pub(crate) struct StaticMount {
    pub(crate) prefix: String,
    pub(crate) files: Arc<crate::StaticFiles>,
    pub(crate) middleware: Option<Arc<crate::Middleware>>,
}

impl StaticMount {
    /// The router patterns that reach the mount: the prefix itself, the prefix with a slash,
    /// and everything below it. A root mount has none: it is the router's fallback.
    pub(crate) fn patterns(&self) -> Vec<String> {
        if self.prefix.is_empty() {
            return Vec::new();
        }
        let prefix = &self.prefix;
        vec![
            prefix.clone(),
            format!("{prefix}/"),
            format!("{prefix}/{{*path}}"),
        ]
    }
}

impl RouteTable {
    pub fn new(specs: impl IntoIterator<Item = RouteSpec>) -> Result<Self, RouteError> {
        let mut table = Self::default();
        // matchit is the matcher axum uses; inserting here surfaces conflicts and bad
        // templates as errors instead of axum's panics.
        let mut checker = matchit::Router::new();
        for spec in specs {
            if !spec.path.starts_with('/') {
                return Err(RouteError::InvalidPath {
                    path: spec.path,
                    message: "must start with '/'".to_owned(),
                });
            }
            if !table.paths.contains_key(&spec.path) {
                checker
                    .insert(spec.path.as_str(), ())
                    .map_err(|err| RouteError::InvalidPath {
                        path: spec.path.clone(),
                        message: err.to_string(),
                    })?;
                table.order.push(spec.path.clone());
            }
            let entry = table.paths.entry(spec.path.clone()).or_default();
            if spec.websocket {
                if entry.websocket.is_some() {
                    return Err(RouteError::DuplicateWebSocket { path: spec.path });
                }
                entry.websocket = Some(spec.id);
                continue;
            }
            if spec.methods.is_empty() {
                return Err(RouteError::NoMethods { path: spec.path });
            }
            for method in spec.methods {
                if !ROUTABLE_METHODS.contains(&method) {
                    return Err(RouteError::UnsupportedMethod {
                        path: spec.path,
                        method,
                    });
                }
                if entry.has_endpoint(&method) {
                    return Err(RouteError::DuplicateRoute {
                        path: spec.path,
                        method,
                    });
                }
                entry.endpoints.push((method, spec.id));
            }
        }
        Ok(table)
    }

    /// Routing misses (404, 405) go to this route instead of being answered by the core, with
    /// [`crate::PendingRequest::routing_error`] saying what the core would have answered.
    pub fn with_error_route(mut self, route: RouteId) -> Self {
        self.error_route = Some(route);
        self
    }

    /// Declares the typed parameters of `route`: they are extracted and converted before the
    /// request is dispatched ([`crate::PendingRequest::params`]).
    pub fn with_param_plan(mut self, route: RouteId, plan: crate::ParamPlan) -> Self {
        self.param_plans.insert(route, Arc::new(plan));
        self
    }

    /// Declares the effective middleware of `route` (see [`crate::Middleware`]).
    pub fn with_middleware(mut self, route: RouteId, middleware: crate::Middleware) -> Self {
        self.middleware.insert(route, Arc::new(middleware));
        self
    }

    /// Answers `route` with `response` in the core: its requests never reach the binding
    /// (the route's middleware still applies).
    pub fn with_fixed_response(mut self, route: RouteId, response: crate::FixedResponse) -> Self {
        self.fixed.insert(route, Arc::new(response));
        self
    }

    /// Declares the app's middleware, applied to requests that no route serves.
    pub fn with_default_middleware(mut self, middleware: crate::Middleware) -> Self {
        self.default_middleware = Some(Arc::new(middleware));
        self
    }

    /// Serves `files` under `prefix` (`"/static"`; `"/"` or `""` for the root, which then
    /// answers the paths no route takes), with the mount's effective `middleware`.
    pub fn with_static_files(
        mut self,
        prefix: &str,
        files: Arc<crate::StaticFiles>,
        middleware: Option<crate::Middleware>,
    ) -> Result<Self, RouteError> {
        let prefix = prefix.trim_end_matches('/').to_owned();
        let invalid = |message: &str| RouteError::InvalidPath {
            path: prefix.clone(),
            message: message.to_owned(),
        };
        if !prefix.is_empty() && !prefix.starts_with('/') {
            return Err(invalid("must start with '/'"));
        }
        if prefix.contains(['{', '}']) {
            return Err(invalid("a mount prefix takes no parameters"));
        }
        if self.mounts.iter().any(|mount| mount.prefix == prefix) {
            return Err(RouteError::DuplicateMount { prefix });
        }
        let mount = StaticMount {
            prefix,
            files,
            middleware: middleware.map(Arc::new),
        };
        // Conflicts with routes and other mounts surface here, as they do for routes.
        let mut checker = matchit::Router::new();
        let existing = self.order.iter().cloned();
        let mounted = self.mounts.iter().flat_map(StaticMount::patterns);
        for pattern in existing.chain(mounted).chain(mount.patterns()) {
            checker
                .insert(pattern.as_str(), ())
                .map_err(|err| RouteError::InvalidPath {
                    path: pattern.clone(),
                    message: err.to_string(),
                })?;
        }
        self.mounts.push(mount);
        Ok(self)
    }

    /// A request that matches no route, when the same path with (or without) a trailing
    /// slash does, is redirected there with 307 (as Starlette does) instead of a 404.
    pub fn with_redirect_slashes(mut self, enabled: bool) -> Self {
        self.redirect_slashes = enabled;
        self
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

#[cfg(test)]
mod tests;
