//! `RouteSpec`: one route as Python declares it, checked and converted into the core's route
//! and parameter plan when it is made; and the app service built from a list of them, shared
//! by the network server and the test transport.

use std::sync::Arc;

use ferroweb_core::{AppService, Dispatch, ParamPlan, RouteSpec, RouteTable, ServerConfig};
use http::Method;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::config::server_config;
use crate::middleware::PyMiddlewareStack;
use crate::params::{param_plan, PyParamSpec};
use crate::queue::RequestQueue;
use crate::static_files::PyMountSpec;

/// A route: its id (the index Python dispatches on), the router template, its methods, the
/// typed parameters the core extracts for it (None: nothing to extract), and whether it is a
/// WebSocket endpoint.
#[pyclass(frozen, module = "ferroweb._ferroweb", name = "RouteSpec")]
pub(crate) struct PyRouteSpec {
    route: RouteSpec,
    plan: Option<ParamPlan>,
    params: Option<Vec<Py<PyParamSpec>>>,
    middleware: Option<Py<PyMiddlewareStack>>,
}

#[pymethods]
impl PyRouteSpec {
    #[new]
    #[pyo3(signature = (id, path, methods, params=None, *, websocket=false, middleware=None))]
    fn new(
        id: u32,
        path: String,
        methods: Vec<String>,
        params: Option<Vec<Py<PyParamSpec>>>,
        websocket: bool,
        middleware: Option<Py<PyMiddlewareStack>>,
    ) -> PyResult<Self> {
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

fn route_table(
    routes: &[Py<PyRouteSpec>],
    error_route: Option<u32>,
    default_middleware: Option<&Py<PyMiddlewareStack>>,
    mounts: &[Py<PyMountSpec>],
) -> PyResult<RouteTable> {
    let specs: Vec<RouteSpec> = routes
        .iter()
        .map(|route| route.get().route.clone())
        .collect();
    let mut table = RouteTable::new(specs).map_err(|err| PyValueError::new_err(err.to_string()))?;
    for route in routes {
        let route = route.get();
        if let Some(plan) = &route.plan {
            table = table.with_param_plan(route.route.id, plan.clone());
        }
        if let Some(stack) = &route.middleware {
            table = table.with_middleware(route.route.id, stack.get().middleware.clone());
        }
    }
    if let Some(stack) = default_middleware {
        table = table.with_default_middleware(stack.get().middleware.clone());
    }
    for mount in mounts {
        let mount = mount.get();
        let middleware = mount
            .middleware
            .as_ref()
            .map(|m| m.get().middleware.clone());
        table = table
            .with_static_files(
                &mount.prefix,
                Arc::clone(&mount.directory.get().files),
                middleware,
            )
            .map_err(|err| PyValueError::new_err(err.to_string()))?;
    }
    Ok(match error_route {
        Some(route) => table.with_error_route(route),
        None => table,
    })
}

/// Reads the Python config and builds the service that routes into `queue`.
pub(crate) fn app_service(
    config: &Bound<'_, PyAny>,
    routes: &[Py<PyRouteSpec>],
    queue: &RequestQueue,
    error_route: Option<u32>,
    default_middleware: Option<&Py<PyMiddlewareStack>>,
    mounts: &[Py<PyMountSpec>],
) -> PyResult<(ServerConfig, AppService)> {
    let config = server_config(config)?;
    let table = route_table(routes, error_route, default_middleware, mounts)?;
    let dispatcher: Arc<dyn Dispatch> = queue.handoff.clone();
    let service = AppService::new(&table, dispatcher, &config);
    Ok((config, service))
}

pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PyRouteSpec>()
}
