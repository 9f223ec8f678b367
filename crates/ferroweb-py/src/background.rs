//! `BackgroundSupervisor`: the core's supervisor holding Python jobs. Python starts what
//! `start_ready` hands out on its event loop and reports each end with `finished`.

use ferroweb_core::{BackgroundLimits, Supervisor};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::codes::{JobOutcome, SubmitOutcome};

#[pyclass(frozen, module = "ferroweb._ferroweb")]
pub(crate) struct BackgroundSupervisor {
    jobs: Supervisor<Py<PyAny>>,
}

#[pymethods]
impl BackgroundSupervisor {
    #[new]
    fn new(max_queue: usize, max_concurrency: usize) -> PyResult<Self> {
        if max_queue == 0 || max_concurrency == 0 {
            return Err(PyValueError::new_err(
                "BackgroundConfig.max_queue and max_concurrency must be at least 1",
            ));
        }
        Ok(Self {
            jobs: Supervisor::new(BackgroundLimits {
                max_queue,
                max_concurrency,
            }),
        })
    }

    /// Whether the job was taken (`QUEUED`), or why not.
    fn submit(&self, job: Py<PyAny>) -> SubmitOutcome {
        SubmitOutcome::from(&self.jobs.submit(job))
    }

    /// The jobs that may start now; they count as running until `finished`.
    fn start_ready(&self) -> Vec<Py<PyAny>> {
        self.jobs.start_ready()
    }

    /// A started job ended.
    fn finished(&self, outcome: JobOutcome) {
        self.jobs.finished(outcome.into());
    }

    fn stop_accepting(&self) {
        self.jobs.stop_accepting();
    }

    /// The jobs that never started; they count as dropped.
    fn take_queued(&self) -> Vec<Py<PyAny>> {
        self.jobs.take_queued()
    }

    /// `(queued, running, completed, failed, dropped)`.
    fn metrics(&self) -> (usize, usize, u64, u64, u64) {
        let m = self.jobs.metrics();
        (m.queued, m.running, m.completed, m.failed, m.dropped)
    }

    #[getter]
    fn idle(&self) -> bool {
        self.jobs.is_idle()
    }
}

pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<BackgroundSupervisor>()
}
