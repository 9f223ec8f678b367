//! The hand-over from tokio to the Python event loop.
//!
//! Tokio threads push requests into a mutex-guarded batch; when a runtime thread runs out of
//! work (or the batch grows large) the event loop is woken through a socket pair
//! ([`LoopWaker`]: at most one unread byte). The event loop watches the other end
//! (`loop.add_reader`) and takes the whole batch in one call. No tokio
//! thread ever takes the GIL, and the loop is woken once per batch, not once per request:
//! waking it per request would make the two threads preempt each other for every request.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use ferroweb_core::{Dispatch, LoopWaker, PendingRequest};
use parking_lot::Mutex;
use pyo3::prelude::*;

use crate::request::RawRequest;

pub(crate) struct QueueInner {
    batch: Mutex<Vec<PendingRequest>>,
    /// Tokens of waits that completed (a stream has room, a WebSocket message arrived...),
    /// handed to the event loop with the next batch.
    events: Mutex<Vec<u64>>,
    accepting: AtomicBool,
    wake_pending: AtomicBool,
    server_stopped: AtomicBool,
    server_drained: AtomicBool,
    waker: LoopWaker,
}

impl QueueInner {
    /// Reports that the wait registered under `token` is over. Callable from any thread,
    /// without the GIL; the wake-up is batched like requests are.
    pub(crate) fn notify(&self, token: u64) {
        self.events.lock().push(token);
        self.wake_pending.store(true, Ordering::Release);
        // A runtime thread wakes the loop when it idles; other threads (the binding's own)
        // must not rely on that.
        if tokio::runtime::Handle::try_current().is_err() {
            self.runtime_idle();
        }
    }

    pub(crate) fn mark_server_stopped(&self, drained: bool) {
        self.server_drained.store(drained, Ordering::SeqCst);
        self.server_stopped.store(true, Ordering::SeqCst);
        self.waker.wake();
    }
}

/// A batch this large wakes the event loop at once instead of waiting for the runtime to idle,
/// so a runtime that never runs out of work cannot starve the handlers.
const IMMEDIATE_WAKE_BATCH: usize = 64;

impl Dispatch for QueueInner {
    fn dispatch(&self, request: PendingRequest) -> Result<(), Box<PendingRequest>> {
        if !self.accepting.load(Ordering::Acquire) {
            return Err(Box::new(request));
        }
        let queued = {
            let mut batch = self.batch.lock();
            batch.push(request);
            batch.len()
        };
        if queued >= IMMEDIATE_WAKE_BATCH {
            self.wake_pending.store(false, Ordering::Release);
            self.waker.wake();
        } else {
            // Woken in `runtime_idle`, once this runtime tick has queued all it will.
            self.wake_pending.store(true, Ordering::Release);
        }
        Ok(())
    }

    fn runtime_idle(&self) {
        if self.wake_pending.swap(false, Ordering::AcqRel) {
            self.waker.wake();
        }
    }
}

/// Requests waiting for the Python event loop.
#[pyclass(frozen, module = "ferroweb._ferroweb")]
pub(crate) struct RequestQueue {
    pub(crate) inner: Arc<QueueInner>,
}

#[pymethods]
impl RequestQueue {
    #[new]
    fn new() -> PyResult<Self> {
        Ok(Self {
            inner: Arc::new(QueueInner {
                batch: Mutex::new(Vec::new()),
                events: Mutex::new(Vec::new()),
                accepting: AtomicBool::new(true),
                wake_pending: AtomicBool::new(false),
                server_stopped: AtomicBool::new(false),
                server_drained: AtomicBool::new(false),
                waker: LoopWaker::new()?,
            }),
        })
    }

    /// The file descriptor the event loop watches for readability.
    fn fileno(&self) -> i32 {
        self.inner.waker.fileno()
    }

    /// Takes the tokens of completed waits (see `notify`) and every queued request. Clears
    /// the wake-up first, so anything queued while draining triggers another wake-up instead
    /// of being missed.
    #[allow(clippy::type_complexity)]
    fn drain(&self, py: Python<'_>) -> PyResult<(Vec<u64>, Vec<Py<RawRequest>>)> {
        self.inner.waker.clear();
        let events = std::mem::take(&mut *self.inner.events.lock());
        let batch = std::mem::take(&mut *self.inner.batch.lock());
        let requests = batch
            .into_iter()
            .map(|pending| Py::new(py, RawRequest::new(pending)))
            .collect::<PyResult<Vec<_>>>()?;
        Ok((events, requests))
    }

    /// Stops taking requests; later ones are answered 503 by the core.
    fn close(&self) {
        self.inner.accepting.store(false, Ordering::Release);
    }

    /// True once the server attached to this queue has fully stopped.
    #[getter]
    fn server_stopped(&self) -> bool {
        self.inner.server_stopped.load(Ordering::SeqCst)
    }

    /// True when the stopped server's connections all finished within the shutdown timeout.
    #[getter]
    fn server_drained(&self) -> bool {
        self.inner.server_drained.load(Ordering::SeqCst)
    }
}

pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<RequestQueue>()
}
