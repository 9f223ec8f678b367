//! `RequestQueue`: the event loop's end of the [`Handoff`]. The loop watches `fileno()` and
//! takes each batch with `drain()`.

use std::sync::Arc;

use pyo3::prelude::*;

use crate::handoff::Handoff;
use crate::request::RawRequest;

/// Requests waiting for the Python event loop.
#[pyclass(frozen, module = "ferroweb._ferroweb")]
pub(crate) struct RequestQueue {
    pub(crate) handoff: Arc<Handoff>,
}

#[pymethods]
impl RequestQueue {
    #[new]
    fn new() -> PyResult<Self> {
        Ok(Self {
            handoff: Arc::new(Handoff::new()?),
        })
    }

    /// The file descriptor the event loop watches for readability.
    fn fileno(&self) -> i32 {
        self.handoff.fileno()
    }

    /// Takes the tokens of completed waits (see `notify_when_*`) and every queued request.
    #[allow(clippy::type_complexity)]
    fn drain(&self, py: Python<'_>) -> PyResult<(Vec<u64>, Vec<Py<RawRequest>>)> {
        let (events, batch) = self.handoff.take();
        let requests = batch
            .into_iter()
            .map(|pending| Py::new(py, RawRequest::new(pending, Arc::clone(&self.handoff))))
            .collect::<PyResult<Vec<_>>>()?;
        Ok((events, requests))
    }

    /// Stops taking requests; later ones are answered 503 by the core.
    fn close(&self) {
        self.handoff.stop_accepting();
    }

    /// True once the server attached to this queue has fully stopped.
    #[getter]
    fn server_stopped(&self) -> bool {
        self.handoff.server_stopped()
    }

    /// True when the stopped server's connections all finished within the shutdown timeout.
    #[getter]
    fn server_drained(&self) -> bool {
        self.handoff.server_drained()
    }
}

pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<RequestQueue>()
}
