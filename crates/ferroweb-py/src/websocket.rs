//! `WebSocketConnection`: the Python end of one WebSocket (see `ferroweb_core::WebSocketChannel`).
//!
//! Like `ResponseStream`, nothing here blocks: `receive` answers None when no message is
//! waiting and `send_*` answers "full" when the send queue is; Python then registers a token
//! and awaits it, and the token comes back through the request queue.

use std::sync::Arc;

use bytes::Bytes;
use ferroweb_core::{Accept, Received, WebSocketChannel, WriteOutcome, WsMessage};
use http::{HeaderMap, HeaderName, HeaderValue};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use pyo3::IntoPyObjectExt;

use crate::queue::QueueInner;

#[pyclass(frozen, module = "ferroweb._ferroweb")]
pub(crate) struct WebSocketConnection {
    channel: WebSocketChannel,
    queue: Arc<QueueInner>,
}

impl WebSocketConnection {
    pub(crate) fn new(channel: WebSocketChannel, queue: Arc<QueueInner>) -> Self {
        Self { channel, queue }
    }

    fn send(&self, message: WsMessage) -> u8 {
        match self.channel.send(message) {
            WriteOutcome::Written => 0,
            WriteOutcome::Full => 1,
            WriteOutcome::Closed => 2,
        }
    }
}

#[pymethods]
impl WebSocketConnection {
    /// Completes the handshake; False if the client already left.
    #[pyo3(signature = (subprotocol=None, headers=None))]
    fn accept(
        &self,
        subprotocol: Option<String>,
        headers: Option<Vec<(String, String)>>,
    ) -> PyResult<bool> {
        let mut extra = HeaderMap::new();
        for (name, value) in headers.unwrap_or_default() {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| PyValueError::new_err(format!("invalid header name {name:?}")))?;
            let value = HeaderValue::from_str(&value).map_err(|_| {
                PyValueError::new_err(format!("invalid value for header {name}: {value:?}"))
            })?;
            extra.append(name, value);
        }
        Ok(self.channel.accept(Accept {
            protocol: subprotocol,
            headers: extra,
        }))
    }

    /// 0: queued, 1: send queue full (retry after the writable token), 2: closed (no-op).
    fn send_text(&self, text: String) -> u8 {
        self.send(WsMessage::Text(text))
    }

    fn send_bytes(&self, data: &[u8]) -> u8 {
        self.send(WsMessage::Binary(Bytes::copy_from_slice(data)))
    }

    fn notify_when_writable(&self, token: u64) {
        let queue = Arc::clone(&self.queue);
        self.channel
            .when_writable(Box::new(move || queue.notify(token)));
    }

    /// None when nothing is waiting; else `(0, str)`, `(1, bytes)` or `(2, (code, reason))`
    /// once the connection is closed.
    fn receive<'py>(&self, py: Python<'py>) -> PyResult<Option<(u8, Bound<'py, PyAny>)>> {
        Ok(match self.channel.receive() {
            Received::Empty => None,
            Received::Message(WsMessage::Text(text)) => Some((0, text.into_bound_py_any(py)?)),
            Received::Message(WsMessage::Binary(bytes)) => {
                Some((1, PyBytes::new(py, &bytes).into_any()))
            }
            Received::Closed { code, reason } => Some((2, (code, reason).into_bound_py_any(py)?)),
        })
    }

    fn notify_when_readable(&self, token: u64) {
        let queue = Arc::clone(&self.queue);
        self.channel
            .when_readable(Box::new(move || queue.notify(token)));
    }

    /// Starts the close handshake; False when already closing or closed.
    #[pyo3(signature = (code=1000, reason=None))]
    fn close(&self, code: u16, reason: Option<String>) -> bool {
        self.channel.close(code, reason.unwrap_or_default())
    }

    /// `(code, reason)` once the connection is closed, else None.
    #[getter]
    fn close_status(&self) -> Option<(u16, String)> {
        self.channel.close_status()
    }
}

pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<WebSocketConnection>()
}
