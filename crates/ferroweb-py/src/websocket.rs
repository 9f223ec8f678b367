//! `WebSocketConnection`: the Python end of one WebSocket (see `ferroweb_core::WebSocketChannel`).
//!
//! Like `ResponseStream`, nothing here blocks: `receive` answers None when no message is
//! waiting and `send_*` answers "full" when the send queue is; Python then registers a token
//! and awaits it, and the token comes back through the request queue.

use std::sync::Arc;

use bytes::Bytes;
use ferroweb_core::{Accept, Received, WebSocketChannel, WsMessage};
use http::HeaderMap;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use pyo3::IntoPyObjectExt;

use crate::codes::{MessageKind, WriteOutcome};
use crate::handoff::Handoff;
use crate::headers::append_headers;

#[pyclass(frozen, module = "ferroweb._ferroweb")]
pub(crate) struct WebSocketConnection {
    channel: WebSocketChannel,
    handoff: Arc<Handoff>,
}

impl WebSocketConnection {
    pub(crate) fn new(channel: WebSocketChannel, handoff: Arc<Handoff>) -> Self {
        Self { channel, handoff }
    }

    fn send(&self, message: WsMessage) -> WriteOutcome {
        self.channel.send(message).into()
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
        append_headers(&mut extra, headers.unwrap_or_default())?;
        Ok(self.channel.accept(Accept {
            protocol: subprotocol,
            headers: extra,
        }))
    }

    /// `FULL`: the send queue is full, retry after the writable token; `CLOSED`: a no-op.
    fn send_text(&self, text: String) -> WriteOutcome {
        self.send(WsMessage::Text(text))
    }

    fn send_bytes(&self, data: &[u8]) -> WriteOutcome {
        self.send(WsMessage::Binary(Bytes::copy_from_slice(data)))
    }

    fn notify_when_writable(&self, token: u64) {
        let handoff = Arc::clone(&self.handoff);
        self.channel
            .when_writable(Box::new(move || handoff.notify(token)));
    }

    /// None when nothing is waiting; else `(TEXT, str)`, `(BINARY, bytes)` or
    /// `(CLOSED, (code, reason))` once the connection is closed.
    fn receive<'py>(&self, py: Python<'py>) -> PyResult<Option<(MessageKind, Bound<'py, PyAny>)>> {
        Ok(match self.channel.receive() {
            Received::Empty => None,
            Received::Message(WsMessage::Text(text)) => {
                Some((MessageKind::Text, text.into_bound_py_any(py)?))
            }
            Received::Message(WsMessage::Binary(bytes)) => {
                Some((MessageKind::Binary, PyBytes::new(py, &bytes).into_any()))
            }
            Received::Closed { code, reason } => {
                Some((MessageKind::Closed, (code, reason).into_bound_py_any(py)?))
            }
        })
    }

    fn notify_when_readable(&self, token: u64) {
        let handoff = Arc::clone(&self.handoff);
        self.channel
            .when_readable(Box::new(move || handoff.notify(token)));
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
