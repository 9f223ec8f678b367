//! The test client's WebSocket: a real client handshake and socket over an in-memory
//! connection that the app serves exactly like a TCP one.
//!
//! The handshake is sent with hyper and checked here rather than by tungstenite's client,
//! which refuses a server that accepts without choosing one of the offered subprotocols;
//! RFC 6455 allows that (browsers and the `websockets` library accept it), so the test
//! client must too.

use bytes::Bytes;
use ferroweb_core::AppService;
use http::header::{
    CONNECTION, HOST, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_PROTOCOL,
    SEC_WEBSOCKET_VERSION, UPGRADE,
};
use http::{HeaderMap, HeaderValue, Request, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use pyo3::IntoPyObjectExt;
use tokio_tungstenite::tungstenite::handshake::client::generate_key;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::WebSocketStream;

use crate::codes::MessageKind;
use crate::headers::{append_raw_headers, headers_list};

/// The handshake request for `url` (a path with its query), with the caller's headers
/// (subprotocols among them) after the ones the handshake needs.
pub(crate) fn handshake_request(
    url: &str,
    headers: Vec<(Vec<u8>, Vec<u8>)>,
) -> PyResult<Request<Empty<Bytes>>> {
    let mut request = Request::get(url)
        .header(HOST, "testserver")
        .header(CONNECTION, "Upgrade")
        .header(UPGRADE, "websocket")
        .header(SEC_WEBSOCKET_VERSION, "13")
        .header(SEC_WEBSOCKET_KEY, generate_key())
        .body(Empty::new())
        .map_err(|err| PyValueError::new_err(format!("invalid WebSocket URL {url:?}: {err}")))?;
    append_raw_headers(request.headers_mut(), headers)?;
    Ok(request)
}

/// Starts the client on `runtime`; the callbacks report what happens.
pub(crate) fn connect(
    runtime: &tokio::runtime::Runtime,
    service: AppService,
    request: Request<Empty<Bytes>>,
    callbacks: WebSocketCallbacks,
) -> TestWebSocket {
    let (commands, receiver) = tokio::sync::mpsc::unbounded_channel();
    let task = runtime.spawn(run_test_websocket(service, request, receiver, callbacks));
    TestWebSocket {
        commands,
        task: task.abort_handle(),
    }
}

enum ClientCommand {
    Text(String),
    Binary(Vec<u8>),
    Close(u16, String),
}

/// The client end of an in-process WebSocket (see `TestTransport.websocket_connect`).
#[pyclass(frozen, module = "ferroweb._ferroweb")]
pub(crate) struct TestWebSocket {
    commands: tokio::sync::mpsc::UnboundedSender<ClientCommand>,
    task: tokio::task::AbortHandle,
}

#[pymethods]
impl TestWebSocket {
    fn send_text(&self, text: String) -> bool {
        self.commands.send(ClientCommand::Text(text)).is_ok()
    }

    fn send_bytes(&self, data: Vec<u8>) -> bool {
        self.commands.send(ClientCommand::Binary(data)).is_ok()
    }

    /// Starts the close handshake from the client side.
    #[pyo3(signature = (code=1000, reason=None))]
    fn close(&self, code: u16, reason: Option<String>) -> bool {
        self.commands
            .send(ClientCommand::Close(code, reason.unwrap_or_default()))
            .is_ok()
    }

    /// Drops the connection without a close frame (an abnormal disconnect).
    fn abort(&self) {
        self.task.abort();
    }
}

/// The callbacks of one test WebSocket, all called from a runtime thread.
pub(crate) struct WebSocketCallbacks {
    pub(crate) on_open: Py<PyAny>,
    pub(crate) on_reject: Py<PyAny>,
    pub(crate) on_message: Py<PyAny>,
    pub(crate) on_close: Py<PyAny>,
}

impl WebSocketCallbacks {
    /// Reports the end of the connection (1006 when it failed without a close frame).
    fn closed(&self, code: u16, reason: String) {
        call(&self.on_close, |py| {
            pyo3::types::PyTuple::new(
                py,
                [code.into_bound_py_any(py)?, reason.into_bound_py_any(py)?],
            )
        });
    }
}

fn call(
    callback: &Py<PyAny>,
    args: impl for<'py> FnOnce(Python<'py>) -> PyResult<Bound<'py, pyo3::types::PyTuple>>,
) {
    Python::attach(|py| {
        let result = args(py).and_then(|args| callback.call1(py, args));
        if let Err(err) = result {
            err.print(py);
        }
    });
}

/// Why a 101 answer is not a WebSocket this client asked for, if it is not.
fn invalid_acceptance(offered: &HeaderMap, answer: &HeaderMap) -> Option<String> {
    let key = offered.get(SEC_WEBSOCKET_KEY)?;
    let expected = derive_accept_key(key.as_bytes());
    if answer.get(SEC_WEBSOCKET_ACCEPT).map(HeaderValue::as_bytes) != Some(expected.as_bytes()) {
        return Some("the server's Sec-WebSocket-Accept does not match the key".to_owned());
    }
    if let Some(chosen) = answer.get(SEC_WEBSOCKET_PROTOCOL) {
        let was_offered = offered
            .get_all(SEC_WEBSOCKET_PROTOCOL)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .any(|protocol| protocol.trim().as_bytes() == chosen.as_bytes());
        if !was_offered {
            return Some(format!(
                "the server chose subprotocol {chosen:?}, which was not offered"
            ));
        }
    }
    None
}

/// The handshake: the upgraded socket, or `None` once a callback reported why not.
async fn open(
    service: AppService,
    request: Request<Empty<Bytes>>,
    callbacks: &WebSocketCallbacks,
) -> Option<WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>> {
    use pyo3::types::PyTuple;

    let failed = |message: String| callbacks.closed(1006, message);
    let (client_io, server_io) = tokio::io::duplex(1 << 20);
    tokio::spawn(ferroweb_core::serve_in_process(service, server_io));
    let (mut sender, connection) =
        match hyper::client::conn::http1::handshake(TokioIo::new(client_io)).await {
            Ok(pair) => pair,
            Err(err) => {
                failed(err.to_string());
                return None;
            }
        };
    tokio::spawn(connection.with_upgrades());
    let offered = request.headers().clone();
    let mut response = match sender.send_request(request).await {
        Ok(response) => response,
        Err(err) => {
            failed(err.to_string());
            return None;
        }
    };
    if response.status() != StatusCode::SWITCHING_PROTOCOLS {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = match response.into_body().collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(err) => {
                failed(err.to_string());
                return None;
            }
        };
        call(&callbacks.on_reject, |py| {
            PyTuple::new(
                py,
                [
                    status.into_bound_py_any(py)?,
                    headers_list(py, &headers).into_bound_py_any(py)?,
                    PyBytes::new(py, &body).into_any(),
                ],
            )
        });
        return None;
    }
    if let Some(problem) = invalid_acceptance(&offered, response.headers()) {
        failed(problem);
        return None;
    }
    let headers = response.headers().clone();
    let upgraded = match hyper::upgrade::on(&mut response).await {
        Ok(upgraded) => upgraded,
        Err(err) => {
            failed(err.to_string());
            return None;
        }
    };
    call(&callbacks.on_open, |py| {
        PyTuple::new(
            py,
            [
                101u16.into_bound_py_any(py)?,
                headers_list(py, &headers).into_bound_py_any(py)?,
            ],
        )
    });
    Some(WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Client, None).await)
}

async fn run_test_websocket(
    service: AppService,
    request: Request<Empty<Bytes>>,
    mut commands: tokio::sync::mpsc::UnboundedReceiver<ClientCommand>,
    callbacks: WebSocketCallbacks,
) {
    use futures_util::{SinkExt, StreamExt};
    use pyo3::types::PyTuple;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
    use tokio_tungstenite::tungstenite::protocol::CloseFrame;
    use tokio_tungstenite::tungstenite::Message;

    let Some(mut socket) = open(service, request, &callbacks).await else {
        return;
    };
    let mut commands_open = true;
    loop {
        tokio::select! {
            command = commands.recv(), if commands_open => {
                let message = match command {
                    Some(ClientCommand::Text(text)) => Message::text(text),
                    Some(ClientCommand::Binary(data)) => Message::binary(data),
                    Some(ClientCommand::Close(code, reason)) => Message::Close(Some(CloseFrame {
                        code: CloseCode::from(code),
                        reason: reason.into(),
                    })),
                    None => {
                        commands_open = false;
                        Message::Close(None)
                    }
                };
                if let Err(err) = socket.send(message).await {
                    callbacks.closed(1006, err.to_string());
                    return;
                }
            }
            incoming = socket.next() => match incoming {
                Some(Ok(Message::Text(text))) => call(&callbacks.on_message, |py| {
                    PyTuple::new(py, [MessageKind::Text.into_bound_py_any(py)?, text.as_str().into_bound_py_any(py)?])
                }),
                Some(Ok(Message::Binary(data))) => call(&callbacks.on_message, |py| {
                    PyTuple::new(py, [MessageKind::Binary.into_bound_py_any(py)?, PyBytes::new(py, &data).into_any()])
                }),
                Some(Ok(Message::Close(frame))) => {
                    let _ = socket.flush().await;
                    let (code, reason) = frame
                        .map(|f| (u16::from(f.code), f.reason.as_str().to_owned()))
                        .unwrap_or((1005, String::new()));
                    callbacks.closed(code, reason);
                    return;
                }
                Some(Ok(_)) => {}
                Some(Err(err)) => {
                    callbacks.closed(1006, err.to_string());
                    return;
                }
                None => {
                    callbacks.closed(1006, String::new());
                    return;
                }
            }
        }
    }
}

pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<TestWebSocket>()
}
