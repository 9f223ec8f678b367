//! Header names and values handed over from Python, checked in one place: every header a
//! binding sends (responses, WebSocket acceptances, test-client requests) goes through here.

use http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use http::HeaderMap;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// One `(name, value)` pair as the wire wants it: a valid token as the name (lower-cased by
/// `http`), a value without control characters.
pub(crate) fn header_pair(name: &str, value: &str) -> PyResult<(HeaderName, HeaderValue)> {
    let header = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| PyValueError::new_err(format!("invalid header name {name:?}")))?;
    let value = HeaderValue::from_str(value).map_err(|_| {
        PyValueError::new_err(format!("invalid value for header {header}: {value:?}"))
    })?;
    Ok((header, value))
}

/// Appends `(name, value)` pairs given as the bytes a client sends (a test client's request):
/// values are not re-encoded, so what arrives is exactly what was given.
pub(crate) fn append_raw_headers(
    target: &mut HeaderMap,
    headers: Vec<(Vec<u8>, Vec<u8>)>,
) -> PyResult<()> {
    for (name, value) in headers {
        let header = HeaderName::from_bytes(&name).map_err(|_| {
            PyValueError::new_err(format!(
                "invalid header name {:?}",
                String::from_utf8_lossy(&name)
            ))
        })?;
        let value = HeaderValue::from_bytes(&value).map_err(|_| {
            PyValueError::new_err(format!(
                "invalid value for header {header}: {:?}",
                String::from_utf8_lossy(&value)
            ))
        })?;
        target.append(header, value);
    }
    Ok(())
}

/// Appends every pair; repeated names are kept (several Set-Cookie, say).
pub(crate) fn append_headers(
    target: &mut HeaderMap,
    headers: Vec<(String, String)>,
) -> PyResult<()> {
    for (name, value) in headers {
        let (name, value) = header_pair(&name, &value)?;
        target.append(name, value);
    }
    Ok(())
}

/// Like [`append_headers`], but the first Content-Type given replaces the default one the
/// response was made with.
pub(crate) fn extend_response_headers(
    target: &mut HeaderMap,
    headers: Vec<(String, String)>,
) -> PyResult<()> {
    let mut replaced_content_type = false;
    for (name, value) in headers {
        let (name, value) = header_pair(&name, &value)?;
        if name == CONTENT_TYPE && !replaced_content_type {
            target.remove(CONTENT_TYPE);
            replaced_content_type = true;
        }
        target.append(name, value);
    }
    Ok(())
}

/// A response's headers for Python: `(lower-case name, value bytes)` pairs in order.
pub(crate) fn headers_list<'py>(
    py: Python<'py>,
    headers: &http::HeaderMap,
) -> Vec<(String, Bound<'py, PyBytes>)> {
    headers
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), PyBytes::new(py, v.as_bytes())))
        .collect()
}
