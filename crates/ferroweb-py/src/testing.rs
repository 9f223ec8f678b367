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
use tokio::sync::Semaphore;

use crate::queue::RequestQueue;
use crate::routes::{app_service, PyRouteSpec};
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

pub(crate) fn headers_list<'py>(
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
    module.add_class::<TestStream>()
}
