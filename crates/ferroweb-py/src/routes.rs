//! `RouteSpec`: one route as Python declares it, checked and converted into the core's route
//! and parameter plan when it is made; and the app service built from a list of them, shared
//! by the network server and the test transport.

use std::sync::Arc;

use ferroweb_core::{
    AppService, Dispatch, FixedResponse, ParamPlan, RouteSpec, RouteTable, ServerConfig,
};
use http::Method;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::config::server_config;
use crate::middleware::PyMiddlewareStack;
use crate::params::{param_plan, PyParamSpec};
use crate::queue::RequestQueue;
use crate::static_files::PyMountSpec;

/// `(content_type, body, headers)` of a route the core answers itself.
type FixedArgument = (String, Vec<u8>, Vec<(String, String)>);

/// A route: its id (the index Python dispatches on), the router template, its methods, the
/// typed parameters the core extracts for it (None: nothing to extract), and whether it is a
/// WebSocket endpoint.
#[pyclass(frozen, module = "ferroweb._ferroweb", name = "RouteSpec")]
pub(crate) struct PyRouteSpec {
    route: RouteSpec,
    plan: Option<ParamPlan>,
    params: Option<Vec<Py<PyParamSpec>>>,
    middleware: Option<Py<PyMiddlewareStack>>,
    /// The route's whole answer, when the core gives it without Python.
    fixed: Option<FixedResponse>,
}

#[pymethods]
impl PyRouteSpec {
    /// `fixed=(content_type, body, headers)`: the core answers the route itself with these
    /// bytes (and an ETag), never dispatching its requests.
    #[new]
    #[pyo3(signature = (
        id, path, methods, params=None, *, websocket=false, middleware=None, fixed=None
    ))]
    fn new(
        id: u32,
        path: String,
        methods: Vec<String>,
        params: Option<Vec<Py<PyParamSpec>>>,
        websocket: bool,
        middleware: Option<Py<PyMiddlewareStack>>,
        fixed: Option<FixedArgument>,
    ) -> PyResult<Self> {
        let fixed = fixed
            .map(|(content_type, body, headers)| FixedResponse::new(&content_type, body, &headers))
            .transpose()
            .map_err(|err| PyValueError::new_err(format!("route {path:?}: {err}")))?;
        let methods = methods
            .iter()
            .map(|m| {
                Method::from_bytes(m.to_ascii_uppercase().as_bytes())
                    .map_err(|_| PyValueError::new_err(format!("invalid HTTP method {m:?}")))
            })
            .collect::<PyResult<Vec<_>>>()?;
        Ok(Self {
            plan: params.as_deref().map(param_plan),
            params,
            middleware,
            fixed,
            route: RouteSpec {
                id,
                path,
                methods,
                websocket,
            },
        })
    }

    #[getter]
    fn id(&self) -> u32 {
        self.route.id
    }

    #[getter]
    fn path(&self) -> &str {
        &self.route.path
    }

    #[getter]
    fn methods(&self) -> Vec<&str> {
        self.route.methods.iter().map(Method::as_str).collect()
    }

    #[getter]
    fn params(&self, py: Python<'_>) -> Option<Vec<Py<PyParamSpec>>> {
        self.params
            .as_ref()
            .map(|params| params.iter().map(|spec| spec.clone_ref(py)).collect())
    }

    #[getter]
    fn middleware(&self, py: Python<'_>) -> Option<Py<PyMiddlewareStack>> {
        self.middleware.as_ref().map(|stack| stack.clone_ref(py))
    }

    #[getter]
    fn websocket(&self) -> bool {
        self.route.websocket
    }

    /// The body the core answers the route with, if it does.
    #[getter]
    fn fixed_body<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        self.fixed
            .as_ref()
            .map(|fixed| PyBytes::new(py, fixed.body()))
    }

    fn __repr__(&self) -> String {
        format!(
            "RouteSpec({}, {:?}, {:?}{})",
            self.route.id,
            self.route.path,
            self.methods(),
            if self.route.websocket {
                ", websocket=True"
            } else {
                ""
            }
        )
    }
}

/// What the core routes for an app: its routes, where misses go, the app's own middleware,
/// the static mounts and the trailing-slash rule. Checked into a route table when an engine
/// is built from it.
#[pyclass(frozen, module = "ferroweb._ferroweb", name = "RoutingPlan")]
pub(crate) struct PyRoutingPlan {
    routes: Vec<Py<PyRouteSpec>>,
    error_route: Option<u32>,
    middleware: Option<Py<PyMiddlewareStack>>,
    mounts: Vec<Py<PyMountSpec>>,
    redirect_slashes: bool,
}

#[pymethods]
impl PyRoutingPlan {
    /// With `error_route`, routing misses (404/405) are dispatched to that route instead of
    /// answered by the core; `middleware` is the app's own, for requests no route serves;
    /// `mounts` are the static directories served under their prefixes.
    #[new]
    #[pyo3(signature = (
        routes, *, error_route=None, middleware=None, mounts=Vec::new(), redirect_slashes=false
    ))]
    fn new(
        routes: Vec<Py<PyRouteSpec>>,
        error_route: Option<u32>,
        middleware: Option<Py<PyMiddlewareStack>>,
        mounts: Vec<Py<PyMountSpec>>,
        redirect_slashes: bool,
    ) -> Self {
        Self {
            routes,
            error_route,
            middleware,
            mounts,
            redirect_slashes,
        }
    }

    #[getter]
    fn routes(&self, py: Python<'_>) -> Vec<Py<PyRouteSpec>> {
        self.routes
            .iter()
            .map(|route| route.clone_ref(py))
            .collect()
    }

    #[getter]
    fn redirect_slashes(&self) -> bool {
        self.redirect_slashes
    }
}

impl PyRoutingPlan {
    fn route_table(&self) -> PyResult<RouteTable> {
        let invalid = |err: ferroweb_core::RouteError| PyValueError::new_err(err.to_string());
        let specs: Vec<RouteSpec> = self
            .routes
            .iter()
            .map(|route| route.get().route.clone())
            .collect();
        let mut table = RouteTable::new(specs)
            .map_err(invalid)?
            .with_redirect_slashes(self.redirect_slashes);
        for route in &self.routes {
            let route = route.get();
            if let Some(plan) = &route.plan {
                table = table.with_param_plan(route.route.id, plan.clone());
            }
            if let Some(stack) = &route.middleware {
                table = table.with_middleware(route.route.id, stack.get().middleware.clone());
            }
            if let Some(fixed) = &route.fixed {
                table = table.with_fixed_response(route.route.id, fixed.clone());
            }
        }
        if let Some(stack) = &self.middleware {
            table = table.with_default_middleware(stack.get().middleware.clone());
        }
        for mount in &self.mounts {
            let mount = mount.get();
            let middleware = mount
                .middleware
                .as_ref()
                .map(|m| m.get().middleware.clone());
            let files = Arc::clone(&mount.directory.get().files);
            table = table
                .with_static_files(&mount.prefix, files, middleware)
                .map_err(invalid)?;
        }
        Ok(match self.error_route {
            Some(route) => table.with_error_route(route),
            None => table,
        })
    }
}

/// Reads the Python config and builds the service that routes `plan` into `queue`.
pub(crate) fn app_service(
    config: &Bound<'_, PyAny>,
    plan: &PyRoutingPlan,
    queue: &RequestQueue,
) -> PyResult<(ServerConfig, AppService)> {
    let config = server_config(config)?;
    let table = plan.route_table()?;
    let dispatcher: Arc<dyn Dispatch> = queue.handoff.clone();
    let service = AppService::new(&table, dispatcher, &config);
    Ok((config, service))
}

pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PyRouteSpec>()?;
    module.add_class::<PyRoutingPlan>()
}
