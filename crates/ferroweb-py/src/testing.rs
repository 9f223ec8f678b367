//! `TestTransport`: sends requests through the same core service in-process, no socket.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ferroweb_core::{AppService, Body};
use http::{HeaderName, HeaderValue, Method, Request};
use http_body_util::BodyExt;
use parking_lot::Mutex;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use pyo3::IntoPyObjectExt;
use tokio::sync::Semaphore;

use crate::queue::RequestQueue;
use crate::routes::{app_service, PyRouteSpec};

#[pyclass(frozen, weakref, module = "ferroweb._ferroweb")]
pub(crate) struct TestTransport {
    // Taken out on close. Never dropped while waiting with the GIL held: a runtime thread may
    // itself be waiting for the GIL to deliver a response.
    runtime: Mutex<Option<tokio::runtime::Runtime>>,
    service: AppService,
}

impl Drop for TestTransport {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.get_mut().take() {
            runtime.shutdown_background();
        }
    }
}

fn build_request(
    method: &str,
    url: &str,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
) -> PyResult<Request<Body>> {
    let method = Method::from_bytes(method.as_bytes())
        .map_err(|_| PyValueError::new_err(format!("invalid method {method:?}")))?;
    let mut request = Request::builder()
        .method(method)
        .uri(url)
        .body(Body::from(body))
        .map_err(|err| PyValueError::new_err(format!("invalid request: {err}")))?;
    for (name, value) in headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| PyValueError::new_err(format!("invalid header name {name:?}")))?;
        let value = HeaderValue::from_str(&value)
            .map_err(|_| PyValueError::new_err(format!("invalid header value {value:?}")))?;
        request.headers_mut().append(name, value);
    }
    Ok(request)
}

#[pymethods]
impl TestTransport {
    /// Stops the transport's runtime, waiting (without the GIL) for in-flight work.
    fn close(&self, py: Python<'_>) {
        let runtime = self.runtime.lock().take();
        if let Some(runtime) = runtime {
            py.detach(move || runtime.shutdown_timeout(Duration::from_secs(5)));
        }
    }

    #[new]
    #[pyo3(signature = (config, routes, queue, error_route=None))]
    fn new(
        config: &Bound<'_, PyAny>,
        routes: Vec<PyRouteSpec>,
        queue: &RequestQueue,
        error_route: Option<u32>,
    ) -> PyResult<Self> {
        let (_, service) = app_service(config, routes, queue, error_route)?;
        let idle = service.dispatcher();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("ferroweb-test")
            .on_thread_park(move || idle.runtime_idle())
            .enable_all()
            .build()
            .map_err(|err| PyRuntimeError::new_err(format!("cannot start runtime: {err}")))?;
        Ok(Self {
            runtime: Mutex::new(Some(runtime)),
            service,
        })
    }

    /// Starts one request; `on_done(status, headers, body)` or `on_error(message)` is
    /// called from a runtime thread when it completes (schedule back onto your loop).
    fn send(
        &self,
        method: &str,
        url: &str,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        on_done: Py<PyAny>,
        on_error: Py<PyAny>,
    ) -> PyResult<()> {
        let request = build_request(method, url, headers, body)?;
        let service = self.service.clone();
        let runtime = self.runtime.lock();
        let runtime = runtime
            .as_ref()
            .ok_or_else(|| PyRuntimeError::new_err("the test transport is closed"))?;
        runtime.spawn(async move {
            let response = service.call_in_process(request).await;
            let (parts, body) = response.into_parts();
            let collected: Result<Bytes, String> = body
                .collect()
                .await
                .map(|c| c.to_bytes())
                .map_err(|err| err.to_string());
            Python::attach(|py| {
                let outcome = match collected {
                    Ok(bytes) => {
                        let headers = headers_list(py, &parts.headers);
                        on_done.call1(
                            py,
                            (parts.status.as_u16(), headers, PyBytes::new(py, &bytes)),
                        )
                    }
                    Err(message) => on_error.call1(py, (message,)),
                };
                if let Err(err) = outcome {
                    err.print(py);
                }
            });
        });
        Ok(())
    }

    /// Starts one request whose body is delivered as it arrives: `on_head(status, headers)`,
    /// then `on_chunk(bytes)` per chunk (at most a window ahead of `consumed` calls), then
    /// `on_end(None)` or `on_end(error message)`. All are called from a runtime thread.
    #[allow(clippy::too_many_arguments)]
    fn send_streaming(
        &self,
        method: &str,
        url: &str,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        on_head: Py<PyAny>,
        on_chunk: Py<PyAny>,
        on_end: Py<PyAny>,
    ) -> PyResult<TestStream> {
        let request = build_request(method, url, headers, body)?;
        let service = self.service.clone();
        let credit = Arc::new(Semaphore::new(STREAM_WINDOW));
        let window = Arc::clone(&credit);
        let runtime = self.runtime.lock();
        let runtime = runtime
            .as_ref()
            .ok_or_else(|| PyRuntimeError::new_err("the test transport is closed"))?;
        let task = runtime.spawn(async move {
            let response = service.call_in_process(request).await;
            let (parts, mut body) = response.into_parts();
            let delivered = Python::attach(|py| {
                on_head.call1(
                    py,
                    (parts.status.as_u16(), headers_list(py, &parts.headers)),
                )
            });
            if let Err(err) = delivered {
                Python::attach(|py| err.print(py));
                return;
            }
            let end: Option<String> = loop {
                match window.acquire().await {
                    Ok(permit) => permit.forget(),
                    Err(_) => break None,
                }
                match body.frame().await {
                    None => break None,
                    Some(Err(err)) => break Some(err.to_string()),
                    Some(Ok(frame)) => {
                        let Ok(data) = frame.into_data() else {
                            window.add_permits(1);
                            continue;
                        };
                        let delivered =
                            Python::attach(|py| on_chunk.call1(py, (PyBytes::new(py, &data),)));
                        if let Err(err) = delivered {
                            Python::attach(|py| err.print(py));
                            return;
                        }
                    }
                }
            };
            Python::attach(|py| {
                if let Err(err) = on_end.call1(py, (end,)) {
                    err.print(py);
                }
            });
        });
        Ok(TestStream {
            task: task.abort_handle(),
            credit,
        })
    }

    /// Opens a WebSocket to `url` through an in-memory connection served exactly like a
    /// socket. `on_open(status, headers)` or `on_reject(status, headers, body)` reports the
    /// handshake; then `on_message(kind, payload)` (0 text, 1 bytes) and `on_close(code,
    /// reason)` once.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (url, headers, on_open, on_reject, on_message, on_close))]
    fn websocket_connect(
        &self,
        url: &str,
        headers: Vec<(String, String)>,
        on_open: Py<PyAny>,
        on_reject: Py<PyAny>,
        on_message: Py<PyAny>,
        on_close: Py<PyAny>,
    ) -> PyResult<TestWebSocket> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = format!("ws://testserver{url}")
            .into_client_request()
            .map_err(|err| {
                PyValueError::new_err(format!("invalid WebSocket URL {url:?}: {err}"))
            })?;
        for (name, value) in headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| PyValueError::new_err(format!("invalid header name {name:?}")))?;
            let value = HeaderValue::from_str(&value)
                .map_err(|_| PyValueError::new_err(format!("invalid header value {value:?}")))?;
            request.headers_mut().append(name, value);
        }
        let (commands, receiver) = tokio::sync::mpsc::unbounded_channel();
        let callbacks = WebSocketCallbacks {
            on_open,
            on_reject,
            on_message,
            on_close,
        };
        let service = self.service.clone();
        let runtime = self.runtime.lock();
        let runtime = runtime
            .as_ref()
            .ok_or_else(|| PyRuntimeError::new_err("the test transport is closed"))?;
        let task = runtime.spawn(run_test_websocket(service, request, receiver, callbacks));
        Ok(TestWebSocket {
            commands,
            task: task.abort_handle(),
        })
    }
}

/// How many chunks a streamed test response reads ahead of the Python consumer.
const STREAM_WINDOW: usize = 16;

/// A streamed response in progress; `cancel` drops it, as a disconnecting client would.
#[pyclass(frozen, module = "ferroweb._ferroweb")]
pub(crate) struct TestStream {
    task: tokio::task::AbortHandle,
    credit: Arc<Semaphore>,
}

#[pymethods]
impl TestStream {
    /// The consumer took one chunk: one more may be read.
    fn consumed(&self) {
        self.credit.add_permits(1);
    }

    /// Stops reading and drops the response body (the server sees a disconnect).
    fn cancel(&self) {
        self.task.abort();
    }
}

fn headers_list<'py>(
    py: Python<'py>,
    headers: &http::HeaderMap,
) -> Vec<(String, Bound<'py, PyBytes>)> {
    headers
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), PyBytes::new(py, v.as_bytes())))
        .collect()
}

pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<TestTransport>()?;
    module.add_class::<TestStream>()?;
    module.add_class::<TestWebSocket>()
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
struct WebSocketCallbacks {
    on_open: Py<PyAny>,
    on_reject: Py<PyAny>,
    on_message: Py<PyAny>,
    on_close: Py<PyAny>,
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

async fn run_test_websocket(
    service: AppService,
    request: tokio_tungstenite::tungstenite::handshake::client::Request,
    mut commands: tokio::sync::mpsc::UnboundedReceiver<ClientCommand>,
    callbacks: WebSocketCallbacks,
) {
    use futures_util::{SinkExt, StreamExt};
    use pyo3::types::PyTuple;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
    use tokio_tungstenite::tungstenite::protocol::CloseFrame;
    use tokio_tungstenite::tungstenite::{Error as WsError, Message};

    let (client_io, server_io) = tokio::io::duplex(1 << 20);
    tokio::spawn(ferroweb_core::serve_in_process(service, server_io));
    let mut socket = match tokio_tungstenite::client_async(request, client_io).await {
        Ok((socket, response)) => {
            call(&callbacks.on_open, |py| {
                PyTuple::new(
                    py,
                    [
                        response.status().as_u16().into_bound_py_any(py)?,
                        headers_list(py, response.headers()).into_bound_py_any(py)?,
                    ],
                )
            });
            socket
        }
        Err(WsError::Http(response)) => {
            let body = response.body().clone().unwrap_or_default();
            call(&callbacks.on_reject, |py| {
                PyTuple::new(
                    py,
                    [
                        response.status().as_u16().into_bound_py_any(py)?,
                        headers_list(py, response.headers()).into_bound_py_any(py)?,
                        PyBytes::new(py, &body).into_any(),
                    ],
                )
            });
            return;
        }
        Err(err) => {
            let message = err.to_string();
            call(&callbacks.on_close, |py| {
                PyTuple::new(
                    py,
                    [
                        1006u16.into_bound_py_any(py)?,
                        message.into_bound_py_any(py)?,
                    ],
                )
            });
            return;
        }
    };
    let closed = |code: u16, reason: String| {
        call(&callbacks.on_close, |py| {
            PyTuple::new(
                py,
                [code.into_bound_py_any(py)?, reason.into_bound_py_any(py)?],
            )
        });
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
                    closed(1006, err.to_string());
                    return;
                }
            }
            incoming = socket.next() => match incoming {
                Some(Ok(Message::Text(text))) => call(&callbacks.on_message, |py| {
                    PyTuple::new(py, [0u8.into_bound_py_any(py)?, text.as_str().into_bound_py_any(py)?])
                }),
                Some(Ok(Message::Binary(data))) => call(&callbacks.on_message, |py| {
                    PyTuple::new(py, [1u8.into_bound_py_any(py)?, PyBytes::new(py, &data).into_any()])
                }),
                Some(Ok(Message::Close(frame))) => {
                    let _ = socket.flush().await;
                    let (code, reason) = frame
                        .map(|f| (u16::from(f.code), f.reason.as_str().to_owned()))
                        .unwrap_or((1005, String::new()));
                    closed(code, reason);
                    return;
                }
                Some(Ok(_)) => {}
                Some(Err(err)) => {
                    closed(1006, err.to_string());
                    return;
                }
                None => {
                    closed(1006, String::new());
                    return;
                }
            }
        }
    }
}
