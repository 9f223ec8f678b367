//! `ParamSpec`: one typed parameter as Python declares it, checked and converted into the
//! core's [`ferroweb_core::ParamSpec`] when it is made; and the values the core extracted,
//! as Python objects.

use ferroweb_core::{Bounds, ExtractedParams, ParamPlan, ParamValue, Scalar, Source};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};
use pyo3::IntoPyObjectExt;

/// One parameter of a route's plan: where it is read from (`source`, `key`; `path_index` for a
/// path parameter), what it is converted to (`scalar`), every occurrence or the last (`many`),
/// and the bounds checked after conversion.
#[pyclass(frozen, module = "ferroweb._ferroweb", name = "ParamSpec")]
pub(crate) struct PyParamSpec {
    pub(crate) spec: ferroweb_core::ParamSpec,
}

fn length(value: Option<i64>, name: &str) -> PyResult<Option<usize>> {
    value
        .map(|value| {
            usize::try_from(value)
                .map_err(|_| PyValueError::new_err(format!("{name} must be >= 0, got {value}")))
        })
        .transpose()
}

#[pymethods]
impl PyParamSpec {
    #[new]
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (
        source, key, scalar, *, many=false, path_index=0, gt=None, ge=None, lt=None, le=None,
        multiple_of=None, min_length=None, max_length=None
    ))]
    fn new(
        source: &str,
        key: String,
        scalar: &str,
        many: bool,
        path_index: usize,
        gt: Option<f64>,
        ge: Option<f64>,
        lt: Option<f64>,
        le: Option<f64>,
        multiple_of: Option<f64>,
        min_length: Option<i64>,
        max_length: Option<i64>,
    ) -> PyResult<Self> {
        let invalid = |err: ferroweb_core::UnknownName| PyValueError::new_err(err.to_string());
        let source = source
            .parse::<Source>()
            .map_err(invalid)?
            .at_path_index(path_index);
        let scalar = scalar.parse::<Scalar>().map_err(invalid)?;
        let bounds = Bounds {
            gt,
            ge,
            lt,
            le,
            multiple_of,
            min_length: length(min_length, "min_length")?,
            max_length: length(max_length, "max_length")?,
        };
        Ok(Self {
            spec: ferroweb_core::ParamSpec {
                source,
                key,
                scalar,
                many,
                bounds,
            },
        })
    }

    #[getter]
    fn source(&self) -> &'static str {
        self.spec.source.as_str()
    }

    #[getter]
    fn key(&self) -> &str {
        &self.spec.key
    }

    #[getter]
    fn scalar(&self) -> &'static str {
        self.spec.scalar.as_str()
    }

    #[getter]
    fn many(&self) -> bool {
        self.spec.many
    }

    #[getter]
    fn path_index(&self) -> usize {
        match self.spec.source {
            Source::Path(index) => index,
            _ => 0,
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "ParamSpec({:?}, {:?}, {:?}, many={}, bounds={:?})",
            self.spec.source.as_str(),
            self.spec.key,
            self.spec.scalar.as_str(),
            if self.spec.many { "True" } else { "False" },
            self.spec.bounds
        )
    }
}

pub(crate) fn param_plan(specs: &[Py<PyParamSpec>]) -> ParamPlan {
    ParamPlan::new(specs.iter().map(|spec| spec.get().spec.clone()).collect())
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

/// A scalar the core parsed, as Python reads it: int (any size), float or bool.
pub(crate) fn scalar_object(py: Python<'_>, value: &ParamValue) -> PyResult<Py<PyAny>> {
    value_object(py, value)
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

pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PyParamSpec>()
}
