//! `TestTransport`: sends requests through the same core service in-process, no socket.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ferroweb_core::AppService;
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use parking_lot::Mutex;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use tokio::sync::Semaphore;

use crate::headers::{append_raw_headers, headers_list};
use crate::queue::RequestQueue;
use crate::routes::{app_service, PyRoutingPlan};
use crate::test_websocket::{self, TestWebSocket, WebSocketCallbacks};

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
    headers: Vec<(Vec<u8>, Vec<u8>)>,
    body: Vec<u8>,
) -> PyResult<Request<Full<Bytes>>> {
    let method = Method::from_bytes(method.as_bytes())
        .map_err(|_| PyValueError::new_err(format!("invalid method {method:?}")))?;
    let mut request = Request::builder()
        .method(method)
        .uri(url)
        .body(Full::new(Bytes::from(body)))
        .map_err(|err| PyValueError::new_err(format!("invalid request: {err}")))?;
    append_raw_headers(request.headers_mut(), headers)?;
    Ok(request)
}

#[pymethods]
impl TestTransport {
    /// Begins shutdown as a server would: open WebSockets are closed with 1001.
    fn shutdown(&self) {
        self.service.close_websockets();
    }

    /// Stops the transport's runtime, waiting (without the GIL) at most `grace` seconds for
    /// in-flight work.
    #[pyo3(signature = (grace=5.0))]
    fn close(&self, py: Python<'_>, grace: f64) {
        let runtime = self.runtime.lock().take();
        if let Some(runtime) = runtime {
            let grace = Duration::try_from_secs_f64(grace).unwrap_or(Duration::ZERO);
            py.detach(move || runtime.shutdown_timeout(grace));
        }
    }

    #[new]
    #[pyo3(signature = (config, plan, queue))]
    fn new(
        config: &Bound<'_, PyAny>,
        plan: PyRef<'_, PyRoutingPlan>,
        queue: &RequestQueue,
    ) -> PyResult<Self> {
        let (_, service) = app_service(config, &plan, queue)?;
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

    /// Starts one request whose body is delivered as it arrives: `on_head(status, headers)`,
    /// then `on_chunk(bytes)` per chunk (at most a window ahead of `consumed` calls), then
    /// `on_end(None)` or `on_end(error message)`. All are called from a runtime thread.
    #[allow(clippy::too_many_arguments)]
    fn send_streaming(
        &self,
        method: &str,
        url: &str,
        headers: Vec<(Vec<u8>, Vec<u8>)>,
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
    /// handshake; then `on_message(kind, payload)` (`MessageKind.TEXT` with a str,
    /// `MessageKind.BINARY` with bytes) and `on_close(code, reason)` once.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (url, headers, on_open, on_reject, on_message, on_close))]
    fn websocket_connect(
        &self,
        url: &str,
        headers: Vec<(Vec<u8>, Vec<u8>)>,
        on_open: Py<PyAny>,
        on_reject: Py<PyAny>,
        on_message: Py<PyAny>,
        on_close: Py<PyAny>,
    ) -> PyResult<TestWebSocket> {
        let request = test_websocket::handshake_request(url, headers)?;
        let callbacks = WebSocketCallbacks {
            on_open,
            on_reject,
            on_message,
            on_close,
        };
        let runtime = self.runtime.lock();
        let runtime = runtime
            .as_ref()
            .ok_or_else(|| PyRuntimeError::new_err("the test transport is closed"))?;
        Ok(test_websocket::connect(
            runtime,
            self.service.clone(),
            request,
            callbacks,
        ))
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

pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<TestTransport>()?;
    module.add_class::<TestStream>()
}
