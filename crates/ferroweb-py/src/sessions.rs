//! `Sessions` and `CSRF` as the core's policies, checked when they are made.

use std::sync::Arc;
use std::time::Duration;

use ferroweb_core::{CookieAttributes, CsrfPolicy, SameSite, SessionPolicy, SessionStoreKind};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

fn invalid(err: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(err.to_string())
}

fn seconds(value: f64, what: &str) -> PyResult<Duration> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|duration| !duration.is_zero())
        .ok_or_else(|| {
            invalid(format!(
                "{what} must be a positive number of seconds, got {value}"
            ))
        })
}

fn attributes(
    same_site: &str,
    https_only: bool,
    http_only: bool,
    path: String,
    domain: Option<String>,
) -> PyResult<CookieAttributes> {
    Ok(CookieAttributes {
        path,
        domain,
        same_site: SameSite::parse(same_site).map_err(invalid)?,
        https_only,
        http_only,
    })
}

#[pyclass(frozen, module = "ferroweb._ferroweb", name = "SessionPolicy")]
pub(crate) struct PySessionPolicy(pub(crate) Arc<SessionPolicy>);

#[pymethods]
impl PySessionPolicy {
    /// `store`: None for the signed cookie itself, or a `redis://` URL.
    #[new]
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (secret_keys, *, cookie, max_age, same_site, https_only, path, domain, store, timeout))]
    fn new(
        secret_keys: Vec<Vec<u8>>,
        cookie: String,
        max_age: f64,
        same_site: &str,
        https_only: bool,
        path: String,
        domain: Option<String>,
        store: Option<String>,
        timeout: f64,
    ) -> PyResult<Self> {
        let store = match store {
            None => SessionStoreKind::Cookie,
            Some(url) => SessionStoreKind::Redis {
                url,
                timeout: seconds(timeout, "timeout")?,
            },
        };
        let attributes = attributes(same_site, https_only, true, path, domain)?;
        SessionPolicy::new(
            secret_keys,
            cookie,
            seconds(max_age, "max_age")?,
            attributes,
            store,
        )
        .map(|policy| Self(Arc::new(policy)))
        .map_err(invalid)
    }
}

#[pyclass(frozen, module = "ferroweb._ferroweb", name = "CsrfPolicy")]
pub(crate) struct PyCsrfPolicy(pub(crate) Arc<CsrfPolicy>);

#[pymethods]
impl PyCsrfPolicy {
    #[new]
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (secret, *, cookie, header, safe_methods, same_site, https_only, path, domain))]
    fn new(
        secret: Vec<u8>,
        cookie: String,
        header: &str,
        safe_methods: Vec<String>,
        same_site: &str,
        https_only: bool,
        path: String,
        domain: Option<String>,
    ) -> PyResult<Self> {
        // not HttpOnly: the page's scripts read the token to send it back in the header
        let attributes = attributes(same_site, https_only, false, path, domain)?;
        CsrfPolicy::new(secret, cookie, header, &safe_methods, attributes)
            .map(|policy| Self(Arc::new(policy)))
            .map_err(invalid)
    }
}

pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PySessionPolicy>()?;
    module.add_class::<PyCsrfPolicy>()
}
