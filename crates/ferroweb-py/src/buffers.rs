//! Turning Python `bytes`/`str` into the `Bytes` the core sends.
//!
//! Small payloads are copied: a copy of a few KiB costs less than sharing the Python object.
//! Large `bytes` are shared instead of copied: the `Bytes` keeps the (immutable) Python
//! object alive and reads its buffer directly, so a 64 KiB stream chunk or a multi-megabyte
//! body crosses into Rust without a memcpy. Releasing the object on a runtime thread
//! (which is not attached to Python) defers the decref to PyO3's pool, which the next call
//! into this module empties.

use bytes::Bytes;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{PyBytes, PyString};

/// Payloads at least this long are shared rather than copied.
const SHARE_THRESHOLD: usize = 16 * 1024;

pub(crate) fn from_py_bytes(bytes: &Bound<'_, PyBytes>) -> Bytes {
    let data = bytes.as_bytes();
    if data.len() < SHARE_THRESHOLD {
        return Bytes::copy_from_slice(data);
    }
    Bytes::from_owner(PyBackedBytes::from(bytes.clone()))
}

/// `bytes` or `str` (as UTF-8); `None` for any other type.
pub(crate) fn from_bytes_or_str(value: &Bound<'_, PyAny>) -> PyResult<Option<Bytes>> {
    if let Ok(bytes) = value.cast::<PyBytes>() {
        return Ok(Some(from_py_bytes(bytes)));
    }
    if let Ok(text) = value.cast::<PyString>() {
        return Ok(Some(Bytes::copy_from_slice(text.to_str()?.as_bytes())));
    }
    Ok(None)
}
