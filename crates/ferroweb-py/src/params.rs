//! Typed parameter plans as Python declares them, and the converted values as Python objects.

use std::collections::HashMap;

use ferroweb_core::{Bounds, ExtractedParams, ParamPlan, ParamSpec, ParamValue, Scalar, Source};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};
use pyo3::IntoPyObjectExt;

/// `(source, key, path_index, scalar, many, bounds)`, as `ferroweb._params` builds it.
pub(crate) type PyParamSpec = (String, String, usize, String, bool, HashMap<String, f64>);

pub(crate) fn param_plan(specs: Vec<PyParamSpec>) -> PyResult<ParamPlan> {
    let specs = specs
        .into_iter()
        .map(|(source, key, path_index, scalar, many, bounds)| {
            let source = match source.as_str() {
                "path" => Source::Path(path_index),
                "query" => Source::Query,
                "header" => Source::Header,
                "cookie" => Source::Cookie,
                other => {
                    return Err(PyValueError::new_err(format!(
                        "unknown parameter source {other:?}"
                    )))
                }
            };
            let scalar = match scalar.as_str() {
                "str" => Scalar::Str,
                "int" => Scalar::Int,
                "float" => Scalar::Float,
                "bool" => Scalar::Bool,
                "raw" => Scalar::Raw,
                other => {
                    return Err(PyValueError::new_err(format!(
                        "unknown parameter type {other:?}"
                    )))
                }
            };
            let length = |name: &str| bounds.get(name).map(|value| value.max(0.0) as usize);
            let bounds = Bounds {
                gt: bounds.get("gt").copied(),
                ge: bounds.get("ge").copied(),
                lt: bounds.get("lt").copied(),
                le: bounds.get("le").copied(),
                multiple_of: bounds.get("multiple_of").copied(),
                min_length: length("min_length"),
                max_length: length("max_length"),
            };
            Ok(ParamSpec {
                source,
                key,
                scalar,
                many,
                bounds,
            })
        })
        .collect::<PyResult<Vec<_>>>()?;
    Ok(ParamPlan::new(specs))
}

fn value_object(py: Python<'_>, value: &ParamValue) -> PyResult<Py<PyAny>> {
    match value {
        ParamValue::Missing => Ok(py.None()),
        ParamValue::Str(text) => text.into_py_any(py),
        ParamValue::Int(number) => number.into_py_any(py),
        ParamValue::BigInt(digits) => Ok(py
            .get_type::<pyo3::types::PyInt>()
            .call1((digits.as_str(),))?
            .unbind()),
        ParamValue::Float(number) => number.into_py_any(py),
        ParamValue::Bool(flag) => flag.into_py_any(py),
        ParamValue::List(items) => {
            let objects = items
                .iter()
                .map(|item| value_object(py, item))
                .collect::<PyResult<Vec<_>>>()?;
            PyList::new(py, objects)?.into_py_any(py)
        }
    }
}

/// `(values, issues)`: one object per declared parameter (None when absent or refused), and
/// None or a list of `(param, index, type, input)` for the refused ones.
pub(crate) fn extracted_objects<'py>(
    py: Python<'py>,
    extracted: &ExtractedParams,
) -> PyResult<Bound<'py, PyTuple>> {
    let values = extracted
        .values
        .iter()
        .map(|value| value_object(py, value))
        .collect::<PyResult<Vec<_>>>()?;
    let values = PyList::new(py, values)?;
    let issues = if extracted.issues.is_empty() {
        py.None()
    } else {
        let issues = extracted
            .issues
            .iter()
            .map(|issue| {
                (
                    issue.param,
                    issue.index,
                    issue.kind.as_str(),
                    issue.input.as_str(),
                )
            })
            .collect::<Vec<_>>();
        PyList::new(py, issues)?.into_py_any(py)?
    };
    PyTuple::new(py, [values.into_any().unbind(), issues])
}
