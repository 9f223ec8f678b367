//! The route table: validated once from what the binding registered, then compiled into an
//! axum router whose lookups are matchit radix-tree matches, with no binding code involved.

use std::collections::{BTreeMap, HashMap, HashSet};
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
}

/// Why a route table could not be built. Raised at start-up, never per request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteError {
    InvalidPath { path: String, message: String },
    DuplicateRoute { path: String, method: Method },
    UnsupportedMethod { path: String, method: Method },
    NoMethods { path: String },
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
            Self::NoMethods { path } => write!(f, "route {path:?} has no methods"),
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
}

impl PathEntry {
    fn serves(&self, method: &Method) -> bool {
        self.endpoints.iter().any(|(m, _)| m == method)
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
    pub(crate) websocket_routes: HashSet<RouteId>,
}

impl RouteTable {
    pub fn new(specs: impl IntoIterator<Item = RouteSpec>) -> Result<Self, RouteError> {
        let mut table = Self::default();
        // matchit is the matcher axum uses; inserting here surfaces conflicts and bad
        // templates as errors instead of axum's panics.
        let mut checker = matchit::Router::new();
        for spec in specs {
            if spec.methods.is_empty() {
                return Err(RouteError::NoMethods { path: spec.path });
            }
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
            for method in spec.methods {
                if !ROUTABLE_METHODS.contains(&method) {
                    return Err(RouteError::UnsupportedMethod {
                        path: spec.path,
                        method,
                    });
                }
                if entry.serves(&method) {
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

    /// Makes `route` a WebSocket endpoint: its requests must be upgrade handshakes and carry
    /// a [`crate::WebSocketChannel`] ([`crate::PendingRequest::websocket`]).
    pub fn with_websocket(mut self, route: RouteId) -> Self {
        self.websocket_routes.insert(route);
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
