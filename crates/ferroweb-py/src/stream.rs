//! `ResponseStream`: the Python end of a streamed response body.
//!
//! Python writes chunks as its generator yields them. A write never blocks: when the buffer
//! is full it answers so, and the caller registers a token with `notify_when_writable`; the
//! token comes back through the request queue's `drain` once there is room (or the client is
//! gone), and Python resumes its generator.

use std::sync::Arc;

use bytes::Bytes;
use ferroweb_core::BodyWriter;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

use crate::buffers::from_bytes_or_str;
use crate::codes::WriteOutcome;
use crate::handoff::Handoff;

#[pyclass(frozen, module = "ferroweb._ferroweb")]
pub(crate) struct ResponseStream {
    writer: BodyWriter,
    handoff: Arc<Handoff>,
}

impl ResponseStream {
    pub(crate) fn new(writer: BodyWriter, handoff: Arc<Handoff>) -> Self {
        Self { writer, handoff }
    }
}

pub(crate) fn chunk_bytes(chunk: &Bound<'_, PyAny>) -> PyResult<Bytes> {
    if let Some(bytes) = from_bytes_or_str(chunk)? {
        return Ok(bytes);
    }
    if let Ok(bytes) = chunk.extract::<Vec<u8>>() {
        // bytearray, memoryview
        return Ok(Bytes::from(bytes));
    }
    Err(PyTypeError::new_err(format!(
        "stream chunks must be bytes or str, not {}",
        chunk.get_type().name()?
    )))
}

#[pymethods]
impl ResponseStream {
    /// `FULL`: nothing was taken, retry after the writable token; `CLOSED`: the client is gone.
    fn write(&self, chunk: &Bound<'_, PyAny>) -> PyResult<WriteOutcome> {
        Ok(self.writer.write(chunk_bytes(chunk)?).into())
    }

    /// `token` is delivered by the queue once a write can succeed or the client is gone.
    fn notify_when_writable(&self, token: u64) {
        let handoff = Arc::clone(&self.handoff);
        self.writer
            .when_writable(Box::new(move || handoff.notify(token)));
    }

    /// `token` is delivered by the queue if the client goes away before `finish`.
    fn notify_when_closed(&self, token: u64) {
        let handoff = Arc::clone(&self.handoff);
        self.writer
            .when_closed(Box::new(move || handoff.notify(token)));
    }

    /// True when the client is gone or the stream was finished.
    #[getter]
    fn closed(&self) -> bool {
        self.writer.is_closed()
    }

    /// Ends the body after what was written.
    fn finish(&self) {
        self.writer.finish();
    }

    /// Ends the body with an error: the client sees a broken transfer, never a short body
    /// that looks complete.
    fn abort(&self, reason: String) {
        self.writer.abort(reason);
    }
}

pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<ResponseStream>()
}
