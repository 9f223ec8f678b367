//! Route specs as Python hands them over (`(route_id, path, [methods])`), and the app service
//! built from them, shared by the network server and the test transport.

use std::sync::Arc;

use ferroweb_core::{AppService, Dispatch, RouteSpec, RouteTable, ServerConfig};
use http::Method;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::config::server_config;
use crate::queue::RequestQueue;

use crate::params::{param_plan, PyParamSpec};

/// `(route_id, path, [methods], [param specs] or None, is_websocket)`.
pub(crate) type PyRouteSpec = (u32, String, Vec<String>, Option<Vec<PyParamSpec>>, bool);

fn route_table(specs: Vec<PyRouteSpec>, error_route: Option<u32>) -> PyResult<RouteTable> {
    let mut plans = Vec::new();
    let specs = specs
        .into_iter()
        .map(|(id, path, methods, params, websocket)| {
            if let Some(params) = params {
                plans.push((id, param_plan(params)?));
            }
            let methods = methods
                .iter()
                .map(|m| {
                    Method::from_bytes(m.to_ascii_uppercase().as_bytes())
                        .map_err(|_| PyValueError::new_err(format!("invalid HTTP method {m:?}")))
                })
                .collect::<PyResult<Vec<_>>>()?;
            Ok(RouteSpec {
                id,
                path,
                methods,
                websocket,
            })
        })
        .collect::<PyResult<Vec<_>>>()?;
    let mut table = RouteTable::new(specs).map_err(|err| PyValueError::new_err(err.to_string()))?;
    for (id, plan) in plans {
        table = table.with_param_plan(id, plan);
    }
    Ok(match error_route {
        Some(route) => table.with_error_route(route),
        None => table,
    })
}

/// Reads the Python config and builds the service that routes into `queue`.
pub(crate) fn app_service(
    config: &Bound<'_, PyAny>,
    routes: Vec<PyRouteSpec>,
    queue: &RequestQueue,
    error_route: Option<u32>,
) -> PyResult<(ServerConfig, AppService)> {
    let config = server_config(config)?;
    let table = route_table(routes, error_route)?;
    let dispatcher: Arc<dyn Dispatch> = queue.inner.clone();
    let service = AppService::new(&table, dispatcher, &config);
    Ok((config, service))
}
