//! `Server`: starts the core's network server for a route table and a request queue.

use std::sync::Arc;
use std::time::Duration;

use ferroweb_core::{Server, ServerError, ServerHandle};
use parking_lot::Mutex;
use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;

use crate::queue::RequestQueue;
use crate::routes::{app_service, PyRoutingPlan};

#[pyclass(frozen, module = "ferroweb._ferroweb", name = "Server")]
pub(crate) struct PyServer {
    handle: Mutex<Option<ServerHandle>>,
    local_addr: (String, u16),
}

fn start_error(err: ServerError) -> PyErr {
    match err {
        ServerError::Config(_) => PyValueError::new_err(err.to_string()),
        _ => PyOSError::new_err(err.to_string()),
    }
}

#[pymethods]
impl PyServer {
    /// Binds and starts serving `plan` at once; requests go to `queue`.
    #[new]
    #[pyo3(signature = (config, plan, queue))]
    fn new(
        py: Python<'_>,
        config: &Bound<'_, PyAny>,
        plan: PyRef<'_, PyRoutingPlan>,
        queue: &RequestQueue,
    ) -> PyResult<Self> {
        let (config, service) = app_service(config, &plan, queue)?;
        let notify = Arc::clone(&queue.handoff);
        let handle = py
            .detach(|| {
                Server::start(
                    &config,
                    service,
                    Box::new(move |drained| notify.mark_server_stopped(drained)),
                )
            })
            .map_err(start_error)?;
        let addr = handle.local_addr();
        Ok(Self {
            handle: Mutex::new(Some(handle)),
            local_addr: (addr.ip().to_string(), addr.port()),
        })
    }

    /// `(host, port)` actually bound (port 0 picks a free one).
    #[getter]
    fn local_addr(&self) -> (String, u16) {
        self.local_addr.clone()
    }

    /// Begins graceful shutdown; the queue's `server_stopped` turns true when done.
    fn shutdown(&self) {
        if let Some(handle) = self.handle.lock().as_ref() {
            handle.shutdown();
        }
    }

    /// Releases the server's threads, waiting at most `grace` seconds.
    #[pyo3(signature = (grace=1.0))]
    fn close(&self, py: Python<'_>, grace: f64) {
        let handle = self.handle.lock().take();
        if let Some(handle) = handle {
            let grace = Duration::try_from_secs_f64(grace).unwrap_or(Duration::ZERO);
            py.detach(move || handle.close(grace));
        }
    }
}

pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PyServer>()
}
