//! The core's scalar parsing rules, for the values Python converts itself (form fields,
//! `Literal` choices): one set of rules for every parameter source. Also the JSON nesting
//! check that runs before a body is decoded.

use ferroweb_core::{json_nesting_exceeds, parse_bool, parse_float, parse_int};
use pyo3::prelude::*;
use pyo3::IntoPyObjectExt;

use crate::params::scalar_object;

/// The integer `text` spells (surrounding whitespace allowed, any size), or None.
#[pyfunction(name = "parse_int")]
fn parse_int_text(py: Python<'_>, text: &str) -> PyResult<Option<Py<PyAny>>> {
    parse_int(text)
        .map(|value| scalar_object(py, &value))
        .transpose()
}

/// A finite float, or the error type that refuses it: `"float_parsing"` when `text` is not a
/// number, `"finite_number"` for infinities and NaN.
#[pyfunction(name = "parse_float")]
fn parse_float_text(py: Python<'_>, text: &str) -> PyResult<Py<PyAny>> {
    match parse_float(text) {
        Ok(value) => scalar_object(py, &value),
        Err(kind) => kind.as_str().into_py_any(py),
    }
}

/// `True`/`False` for the spellings pydantic accepts (`1`, `on`, `yes`...), or None.
#[pyfunction(name = "parse_bool")]
fn parse_bool_text(text: &str) -> Option<bool> {
    parse_bool(text)
}

/// Whether the JSON text `data` nests arrays and objects more than `limit` levels deep
/// (brackets inside strings not counted; the text is not validated).
#[pyfunction(name = "json_nesting_exceeds")]
fn json_nesting_exceeds_text(data: &[u8], limit: usize) -> bool {
    json_nesting_exceeds(data, limit)
}

pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(json_nesting_exceeds_text, module)?)?;
    module.add_function(wrap_pyfunction!(parse_int_text, module)?)?;
    module.add_function(wrap_pyfunction!(parse_float_text, module)?)?;
    module.add_function(wrap_pyfunction!(parse_bool_text, module)?)
}
