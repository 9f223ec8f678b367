//! Exceptions of the binding that Python code catches by type.

use pyo3::create_exception;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

create_exception!(
    ferroweb._ferroweb,
    ResponseAlreadySent,
    PyRuntimeError,
    "The request was already answered: a second response cannot be sent."
);

pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add(
        "ResponseAlreadySent",
        module.py().get_type::<ResponseAlreadySent>(),
    )
}
