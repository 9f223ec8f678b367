//! Route specs as Python hands them over: `(route_id, path, [methods])`.

use ferroweb_core::{RouteSpec, RouteTable};
use http::Method;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

pub(crate) type PyRouteSpec = (u32, String, Vec<String>);

pub(crate) fn route_table(
    specs: Vec<PyRouteSpec>,
    error_route: Option<u32>,
) -> PyResult<RouteTable> {
    let specs = specs
        .into_iter()
        .map(|(id, path, methods)| {
            let methods = methods
                .iter()
                .map(|m| {
                    Method::from_bytes(m.to_ascii_uppercase().as_bytes())
                        .map_err(|_| PyValueError::new_err(format!("invalid HTTP method {m:?}")))
                })
                .collect::<PyResult<Vec<_>>>()?;
            Ok(RouteSpec { id, path, methods })
        })
        .collect::<PyResult<Vec<_>>>()?;
    let table = RouteTable::new(specs).map_err(|err| PyValueError::new_err(err.to_string()))?;
    Ok(match error_route {
        Some(route) => table.with_error_route(route),
        None => table,
    })
}
