//! A static directory as Python objects: `StaticDirectory` is checked when it is made (a
//! missing directory is a `FileNotFoundError` at declaration), `MountSpec` places one under a
//! prefix with the mount's effective middleware.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use ferroweb_core::{StaticFiles, StaticFilesError, StaticFilesOptions};
use pyo3::exceptions::{PyFileNotFoundError, PyNotADirectoryError, PyOSError, PyValueError};
use pyo3::prelude::*;

use crate::middleware::PyMiddlewareStack;

#[pyclass(frozen, module = "ferroweb._ferroweb", name = "StaticDirectory")]
pub(crate) struct PyStaticDirectory {
    pub(crate) files: Arc<StaticFiles>,
}

#[pymethods]
impl PyStaticDirectory {
    #[new]
    #[pyo3(signature = (directory, *, html, index, cache_control, precompressed, follow_symlinks, memory_cache_bytes))]
    fn new(
        directory: PathBuf,
        html: bool,
        index: String,
        cache_control: Option<String>,
        precompressed: bool,
        follow_symlinks: bool,
        memory_cache_bytes: u64,
    ) -> PyResult<Self> {
        let options = StaticFilesOptions {
            html,
            index,
            cache_control,
            precompressed,
            follow_symlinks,
            memory_cache_bytes,
        };
        let files = StaticFiles::new(&directory, options).map_err(|error| {
            let message = error.to_string();
            match error {
                StaticFilesError::Directory { error, .. }
                    if error.kind() == io::ErrorKind::NotFound =>
                {
                    PyFileNotFoundError::new_err(message)
                }
                StaticFilesError::Directory { .. } => PyOSError::new_err(message),
                StaticFilesError::NotADirectory(_) => PyNotADirectoryError::new_err(message),
                StaticFilesError::Index(_) | StaticFilesError::CacheControl(_) => {
                    PyValueError::new_err(message)
                }
            }
        })?;
        Ok(Self {
            files: Arc::new(files),
        })
    }

    /// The directory served, made absolute with its symbolic links resolved.
    #[getter]
    fn root(&self) -> PathBuf {
        self.files.root().to_owned()
    }

    fn __repr__(&self) -> String {
        format!(
            "StaticDirectory({:?})",
            self.files.root().display().to_string()
        )
    }
}

#[pyclass(frozen, module = "ferroweb._ferroweb", name = "MountSpec")]
pub(crate) struct PyMountSpec {
    pub(crate) prefix: String,
    pub(crate) directory: Py<PyStaticDirectory>,
    pub(crate) middleware: Option<Py<PyMiddlewareStack>>,
}

#[pymethods]
impl PyMountSpec {
    #[new]
    #[pyo3(signature = (prefix, directory, *, middleware=None))]
    fn new(
        prefix: String,
        directory: Py<PyStaticDirectory>,
        middleware: Option<Py<PyMiddlewareStack>>,
    ) -> Self {
        Self {
            prefix,
            directory,
            middleware,
        }
    }

    #[getter]
    fn prefix(&self) -> &str {
        &self.prefix
    }

    fn __repr__(&self) -> String {
        format!(
            "MountSpec({:?}, {})",
            self.prefix,
            self.directory.get().__repr__()
        )
    }
}

pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PyStaticDirectory>()?;
    module.add_class::<PyMountSpec>()
}
