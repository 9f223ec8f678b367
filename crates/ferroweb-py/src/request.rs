//! `RawRequest`: a lazy view over one routed request, and the way its response goes back.
//! Nothing is converted to Python objects until a getter asks for it.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use ferroweb_core::ContentKind as CoreContentKind;
use ferroweb_core::{
    body_channel, parse_query, ClientAddr, ExtractedParams, FileSpec, HandlerResponse, Identity,
    KeepAlive, PendingRequest, Problem, Reply, RequestConditions, RoutingError, SessionHandle,
    WebSocketChannel,
};
use http::header::HeaderValue;
use http::{HeaderMap, Method, StatusCode, Uri, Version};
use parking_lot::Mutex;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use pyo3::{intern, IntoPyObjectExt};

use crate::buffers::from_bytes_or_str;
use crate::codes::ContentKind;
use crate::errors::ResponseAlreadySent;
use crate::handoff::Handoff;
use crate::headers::extend_response_headers;
use crate::stream::ResponseStream;
use crate::websocket::WebSocketConnection;

#[pyclass(frozen, module = "ferroweb._ferroweb")]
pub(crate) struct RawRequest {
    route: u32,
    method: Method,
    uri: Uri,
    version: Version,
    headers: HeaderMap,
    path_params: Vec<String>,
    body: Bytes,
    client: Option<ClientAddr>,
    routing_error: Option<RoutingError>,
    params: Option<ExtractedParams>,
    auth: Option<Identity>,
    /// The claims a binding-side check (`APIKeyAuth(verify=...)`) settled on.
    verified_auth: OnceLock<Bytes>,
    session: Option<SessionHandle>,
    websocket: Mutex<Option<WebSocketChannel>>,
    reply: Mutex<Option<Reply>>,
    /// Where the waits of this request's stream or WebSocket are reported.
    handoff: Arc<Handoff>,
    /// `request.state`: one object per request, shared by every `Request` made from it
    /// (hooks, middleware, the handler), created on first use.
    state: OnceLock<Py<PyAny>>,
}

impl RawRequest {
    pub(crate) fn new(pending: PendingRequest, handoff: Arc<Handoff>) -> Self {
        Self {
            route: pending.route,
            method: pending.method,
            uri: pending.uri,
            version: pending.version,
            headers: pending.headers,
            path_params: pending.path_params,
            body: pending.body,
            client: pending.client,
            routing_error: pending.routing_error,
            params: pending.params,
            auth: pending.auth,
            verified_auth: OnceLock::new(),
            session: pending.session,
            websocket: Mutex::new(pending.websocket),
            reply: Mutex::new(Some(pending.reply)),
            handoff,
            state: OnceLock::new(),
        }
    }

    fn problem(
        &self,
        status: u16,
        detail: Option<String>,
        extensions: Option<&[u8]>,
    ) -> PyResult<Problem> {
        let mut problem = Problem::new(status_code(status)?).with_instance(self.uri.path());
        problem.detail = detail;
        if let Some(extensions) = extensions {
            let members: serde_json::Map<String, serde_json::Value> =
                serde_json::from_slice(extensions).map_err(|err| {
                    PyValueError::new_err(format!(
                        "problem extensions must be a JSON object: {err}"
                    ))
                })?;
            problem = problem.with_extensions(members);
        }
        Ok(problem)
    }

    fn send(&self, response: HandlerResponse) -> PyResult<bool> {
        let reply = self.reply.lock().take().ok_or_else(|| {
            ResponseAlreadySent::new_err("a response was already sent for this request")
        })?;
        Ok(reply.send(response))
    }
}

/// Header values are bytes on the wire; non-ASCII ones are read as Latin-1, as HTTP defines.
fn header_text(value: &HeaderValue) -> String {
    match value.to_str() {
        Ok(text) => text.to_owned(),
        Err(_) => value.as_bytes().iter().map(|&b| char::from(b)).collect(),
    }
}

fn status_code(status: u16) -> PyResult<StatusCode> {
    StatusCode::from_u16(status)
        .map_err(|_| PyValueError::new_err(format!("invalid HTTP status code {status}")))
}

fn body_bytes(body: &Bound<'_, PyAny>) -> PyResult<Bytes> {
    if let Some(bytes) = from_bytes_or_str(body)? {
        return Ok(bytes);
    }
    if body.is_none() {
        return Ok(Bytes::new());
    }
    Err(PyTypeError::new_err(format!(
        "response body must be bytes or str, not {}",
        body.get_type().name()?
    )))
}

#[pymethods]
impl RawRequest {
    /// Index of the matched route.
    #[getter]
    fn route(&self) -> u32 {
        self.route
    }

    #[getter]
    fn method<'py>(&self, py: Python<'py>) -> Bound<'py, PyString> {
        let interned = match self.method {
            Method::GET => intern!(py, "GET"),
            Method::POST => intern!(py, "POST"),
            Method::PUT => intern!(py, "PUT"),
            Method::PATCH => intern!(py, "PATCH"),
            Method::DELETE => intern!(py, "DELETE"),
            Method::HEAD => intern!(py, "HEAD"),
            Method::OPTIONS => intern!(py, "OPTIONS"),
            _ => return PyString::new(py, self.method.as_str()),
        };
        interned.clone()
    }

    #[getter]
    fn path(&self) -> &str {
        self.uri.path()
    }

    /// `https` when the request came over TLS (or, in process, for an `https` URL).
    #[getter]
    fn scheme(&self) -> &str {
        self.uri.scheme_str().unwrap_or("http")
    }

    #[getter]
    fn query_string(&self) -> &str {
        self.uri.query().unwrap_or("")
    }

    #[getter]
    fn http_version(&self) -> &'static str {
        match self.version {
            Version::HTTP_09 => "0.9",
            Version::HTTP_10 => "1.0",
            Version::HTTP_2 => "2",
            Version::HTTP_3 => "3",
            _ => "1.1",
        }
    }

    /// Decoded query pairs in order, repeated keys kept.
    fn query_params(&self) -> Vec<(String, String)> {
        parse_query(self.uri.query().unwrap_or(""))
    }

    /// The route's typed parameters as converted by the core: `(values, issues)`, see
    /// `params::extracted_objects`. `([], None)` for a route without a parameter plan.
    fn param_values<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, pyo3::types::PyTuple>> {
        match &self.params {
            Some(extracted) => crate::params::extracted_objects(py, extracted),
            None => crate::params::extracted_objects(py, &ExtractedParams::default()),
        }
    }

    /// The WebSocket of a WebSocket route (once; None afterwards or for HTTP routes).
    fn take_websocket(&self) -> Option<WebSocketConnection> {
        self.websocket
            .lock()
            .take()
            .map(|channel| WebSocketConnection::new(channel, Arc::clone(&self.handoff)))
    }

    /// Path parameter values in template order.
    fn path_params(&self) -> Vec<String> {
        self.path_params.clone()
    }

    /// All headers as (lower-case name, value) pairs in arrival order.
    fn headers(&self) -> Vec<(&str, String)> {
        self.headers
            .iter()
            .map(|(name, value)| (name.as_str(), header_text(value)))
            .collect()
    }

    /// The first value of one header, without building the whole list.
    fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).map(header_text)
    }

    fn body<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.body)
    }

    /// `(host, port)` of the peer, `("testclient", 50000)` in-process, or None.
    fn client<'py>(&self, py: Python<'py>) -> PyResult<Py<PyAny>> {
        match self.client {
            Some(ClientAddr::Socket(addr)) => (addr.ip().to_string(), addr.port()).into_py_any(py),
            Some(ClientAddr::TestClient) => ("testclient", 50000u16).into_py_any(py),
            None => Ok(py.None()),
        }
    }

    /// The validated claims (JSON) of an authenticated request, and the position of the
    /// scheme that accepted it in the route's `auth=` list; None on a public route.
    fn auth<'py>(&self, py: Python<'py>) -> Option<(Bound<'py, PyBytes>, usize)> {
        self.auth.as_ref().map(|identity| {
            let claims = self.verified_auth.get().unwrap_or(&identity.claims);
            (PyBytes::new(py, claims), identity.scheme)
        })
    }

    /// The key a scheme left to Python to verify, with that scheme's position.
    fn auth_credential(&self) -> Option<(String, usize)> {
        let identity = self.auth.as_ref()?;
        identity
            .credential
            .clone()
            .map(|credential| (credential, identity.scheme))
    }

    /// The claims Python's verification settled on (once).
    fn set_verified_auth(&self, claims: &[u8]) -> bool {
        self.verified_auth
            .set(Bytes::copy_from_slice(claims))
            .is_ok()
    }

    /// The session's data as JSON (`{}` when empty); None when the route has no `Sessions`.
    fn session_data<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        self.session
            .as_ref()
            .map(|session| PyBytes::new(py, &session.data()))
    }

    /// Replaces the session's data (a JSON object), written back with the response.
    fn set_session_data(&self, data: &[u8]) -> PyResult<()> {
        let session = self
            .session
            .as_ref()
            .ok_or_else(|| PyValueError::new_err("this route has no Sessions middleware"))?;
        session
            .replace(Bytes::copy_from_slice(data))
            .map_err(|err| PyValueError::new_err(err.to_string()))
    }

    /// For a routing miss sent to the error route: `(status, detail, allow)`.
    fn routing_error(&self) -> Option<(u16, String, Option<String>)> {
        self.routing_error.as_ref().map(|error| {
            (
                error.status.as_u16(),
                error.detail.clone(),
                error.allow.as_ref().map(header_text),
            )
        })
    }

    /// The request's state object: `make()`'s result, made on the first call and returned
    /// by every later one.
    fn state(&self, py: Python<'_>, make: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        if let Some(state) = self.state.get() {
            return Ok(state.clone_ref(py));
        }
        let made = make.call0()?.unbind();
        // another thread (a blocking handler) may have won the race: its object is kept
        Ok(self.state.get_or_init(|| made).clone_ref(py))
    }

    /// The body `respond_problem` would send: problem+json for this request's path.
    #[pyo3(signature = (status, detail=None, extensions=None))]
    fn render_problem<'py>(
        &self,
        py: Python<'py>,
        status: u16,
        detail: Option<String>,
        extensions: Option<&[u8]>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let problem = self.problem(status, detail, extensions)?;
        Ok(PyBytes::new(py, &problem.to_json()))
    }

    /// True when the client no longer waits for the answer.
    fn is_disconnected(&self) -> bool {
        self.reply.lock().as_ref().is_none_or(Reply::is_closed)
    }

    /// Sends the response. `kind` picks the content type; returns False when the client is
    /// already gone.
    #[pyo3(signature = (status, body, kind, headers=None))]
    fn respond(
        &self,
        status: u16,
        body: &Bound<'_, PyAny>,
        kind: ContentKind,
        headers: Option<Vec<(String, String)>>,
    ) -> PyResult<bool> {
        let mut response =
            HandlerResponse::new(status_code(status)?, kind.into(), body_bytes(body)?);
        if let Some(headers) = headers {
            extend_response_headers(&mut response.headers, headers)?;
        }
        self.send(response)
    }

    /// Starts a streamed response (its content type from `headers`) and returns its writer.
    /// `keep_alive` is `(seconds, payload)`: the payload is sent whenever the stream was idle
    /// that long (SSE pings).
    #[pyo3(signature = (status, headers=None, keep_alive=None))]
    fn respond_stream(
        &self,
        status: u16,
        headers: Option<Vec<(String, String)>>,
        keep_alive: Option<(f64, Vec<u8>)>,
    ) -> PyResult<ResponseStream> {
        let keep_alive = keep_alive
            .map(|(seconds, payload)| {
                Duration::try_from_secs_f64(seconds)
                    .map(|interval| KeepAlive {
                        interval,
                        payload: Bytes::from(payload),
                    })
                    .map_err(|_| {
                        PyValueError::new_err(format!("invalid keep-alive interval {seconds}"))
                    })
            })
            .transpose()?;
        let (writer, body) = body_channel(keep_alive);
        let mut response =
            HandlerResponse::streamed(status_code(status)?, CoreContentKind::Unspecified, body);
        if let Some(headers) = headers {
            extend_response_headers(&mut response.headers, headers)?;
        }
        // When the client already left, the refused response drops the body, so the writer
        // reports itself closed on first use.
        self.send(response)?;
        Ok(ResponseStream::new(writer, Arc::clone(&self.handoff)))
    }

    /// Answers with a file served by the core: the bytes never pass through Python, and
    /// conditional (304/412) and range (206/416) requests are answered from this request's
    /// headers. `media_type` None guesses from the extension; `filename` makes it a download.
    #[pyo3(signature = (status, path, headers=None, media_type=None, filename=None))]
    fn respond_file(
        &self,
        status: u16,
        path: std::path::PathBuf,
        headers: Option<Vec<(String, String)>>,
        media_type: Option<String>,
        filename: Option<String>,
    ) -> PyResult<bool> {
        let mut spec = FileSpec::new(path);
        spec.status = status_code(status)?;
        spec.media_type = media_type;
        spec.filename = filename;
        spec.conditions = RequestConditions::from_request(&self.method, &self.headers);
        if let Some(headers) = headers {
            extend_response_headers(&mut spec.headers, headers)?;
        }
        self.send(HandlerResponse::file(spec))
    }

    /// Sends an RFC 9457 problem response rendered by the core.
    /// `extensions` is a JSON object (bytes) of extra members, such as validation `errors`.
    #[pyo3(signature = (status, detail=None, headers=None, extensions=None))]
    fn respond_problem(
        &self,
        status: u16,
        detail: Option<String>,
        headers: Option<Vec<(String, String)>>,
        extensions: Option<&[u8]>,
    ) -> PyResult<bool> {
        let problem = self.problem(status, detail, extensions)?;
        let mut response = HandlerResponse::new(
            problem.status_code(),
            CoreContentKind::ProblemJson,
            problem.to_json(),
        );
        if let Some(headers) = headers {
            extend_response_headers(&mut response.headers, headers)?;
        }
        self.send(response)
    }

    fn __repr__(&self) -> String {
        format!("<RawRequest {} {}>", self.method, self.uri)
    }
}

pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<RawRequest>()
}
