//! The core's middleware policies as Python objects: each is checked when it is made (a bad
//! setting is a `ValueError` at declaration, never a failure per request), and a
//! `MiddlewareStack` is a route's effective set, in the core's fixed order.

use std::sync::Arc;
use std::time::Duration;

use ferroweb_core::{
    whole_seconds, CompressionPolicy, CorsPolicy, Middleware, RateLimitKey, RateLimitPolicy,
    SecurityHeaderValues, SecurityHeaders, TimeoutPolicy, TrustedHosts, TrustedProxies,
};
use http::{HeaderName, StatusCode};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

fn invalid(err: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(err.to_string())
}

#[pyclass(frozen, module = "ferroweb._ferroweb", name = "CorsPolicy")]
pub(crate) struct PyCorsPolicy(Arc<CorsPolicy>);

#[pymethods]
impl PyCorsPolicy {
    #[new]
    #[pyo3(signature = (
        allow_origins, allow_origin_regex, allow_methods, allow_headers, allow_credentials,
        expose_headers, max_age
    ))]
    fn new(
        allow_origins: Vec<String>,
        allow_origin_regex: Option<String>,
        allow_methods: Vec<String>,
        allow_headers: Vec<String>,
        allow_credentials: bool,
        expose_headers: Vec<String>,
        max_age: u64,
    ) -> PyResult<Self> {
        CorsPolicy::new(
            &allow_origins,
            allow_origin_regex.as_deref(),
            &allow_methods,
            &allow_headers,
            allow_credentials,
            &expose_headers,
            max_age,
        )
        .map(|policy| Self(Arc::new(policy)))
        .map_err(invalid)
    }
}

#[pyclass(frozen, module = "ferroweb._ferroweb", name = "CompressionPolicy")]
pub(crate) struct PyCompressionPolicy(CompressionPolicy);

#[pymethods]
impl PyCompressionPolicy {
    #[new]
    #[pyo3(signature = (minimum_size, gzip, brotli, zstd, level))]
    fn new(
        minimum_size: u64,
        gzip: bool,
        brotli: bool,
        zstd: bool,
        level: Option<i32>,
    ) -> PyResult<Self> {
        if !(gzip || brotli || zstd) {
            return Err(invalid(
                "Compression needs at least one of gzip, brotli, zstd",
            ));
        }
        if level.is_some_and(|level| !(0..=22).contains(&level)) {
            return Err(invalid("Compression level must be between 0 and 22"));
        }
        Ok(Self(CompressionPolicy {
            minimum_size,
            gzip,
            brotli,
            zstd,
            level,
        }))
    }
}

#[pyclass(frozen, module = "ferroweb._ferroweb", name = "TrustedHostsPolicy")]
pub(crate) struct PyTrustedHostsPolicy(Arc<TrustedHosts>);

#[pymethods]
impl PyTrustedHostsPolicy {
    #[new]
    #[pyo3(signature = (hosts, www_redirect))]
    fn new(hosts: Vec<String>, www_redirect: bool) -> PyResult<Self> {
        TrustedHosts::new(&hosts, www_redirect)
            .map(|hosts| Self(Arc::new(hosts)))
            .map_err(invalid)
    }
}

#[pyclass(frozen, module = "ferroweb._ferroweb", name = "SecurityHeadersPolicy")]
pub(crate) struct PySecurityHeadersPolicy(Arc<SecurityHeaders>);

#[pymethods]
impl PySecurityHeadersPolicy {
    #[new]
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (
        hsts, content_type_options, frame_options, referrer_policy, csp, permissions_policy,
        cross_origin_opener_policy
    ))]
    fn new(
        hsts: Option<String>,
        content_type_options: bool,
        frame_options: Option<String>,
        referrer_policy: Option<String>,
        csp: Option<String>,
        permissions_policy: Option<String>,
        cross_origin_opener_policy: Option<String>,
    ) -> PyResult<Self> {
        SecurityHeaders::new(&SecurityHeaderValues {
            hsts,
            content_type_options,
            frame_options,
            referrer_policy,
            content_security_policy: csp,
            permissions_policy,
            cross_origin_opener_policy,
        })
        .map(|headers| Self(Arc::new(headers)))
        .map_err(invalid)
    }
}

#[pyclass(frozen, module = "ferroweb._ferroweb", name = "RateLimitPolicy")]
pub(crate) struct PyRateLimitPolicy(Arc<RateLimitPolicy>);

#[pymethods]
impl PyRateLimitPolicy {
    /// `key`: `"ip"`, `"auth"` or `"header:<name>"`; `store`: a `redis://` URL (counters
    /// shared under `namespace`), or None for this process's memory.
    #[new]
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (rate, burst, key, trusted_proxies, *, store=None, namespace="", timeout=0.25, fail_open=true))]
    fn new(
        rate: &str,
        burst: Option<u32>,
        key: &str,
        trusted_proxies: Vec<String>,
        store: Option<String>,
        namespace: &str,
        timeout: f64,
        fail_open: bool,
    ) -> PyResult<Self> {
        let key = match key {
            "ip" => RateLimitKey::Ip,
            "auth" => RateLimitKey::Subject,
            other => match other.strip_prefix("header:") {
                Some(name) => RateLimitKey::Header(
                    HeaderName::try_from(name.trim())
                        .map_err(|_| invalid(format!("{name:?} is not a valid header name")))?,
                ),
                None => {
                    return Err(invalid(format!(
                        "RateLimit key must be \"ip\", \"auth\", \"header:<name>\" or a callable, got {other:?}"
                    )))
                }
            },
        };
        let proxies = TrustedProxies::new(&trusted_proxies).map_err(invalid)?;
        let mut policy = RateLimitPolicy::new(rate, burst, key, proxies).map_err(invalid)?;
        if let Some(url) = store {
            let timeout = Duration::try_from_secs_f64(timeout)
                .ok()
                .filter(|timeout| !timeout.is_zero())
                .ok_or_else(|| {
                    invalid(format!(
                        "timeout must be a positive number of seconds, got {timeout}"
                    ))
                })?;
            policy = policy
                .with_redis_store(&url, namespace, timeout, fail_open)
                .map_err(invalid)?;
        }
        Ok(Self(Arc::new(policy)))
    }

    /// Counts one request of `key` (a key function's answer): `(allowed, limit, remaining,
    /// reset seconds, retry-after seconds)`. Memory store only (None for Redis).
    fn count(&self, key: &str) -> Option<(bool, u32, u32, u64, u64)> {
        self.0.count_now(key).map(|decision| {
            (
                decision.allowed,
                decision.limit,
                decision.remaining,
                whole_seconds(decision.reset),
                whole_seconds(decision.retry_after).max(1),
            )
        })
    }
}

/// The effective middleware of one route (or of the app, for requests no route serves).
#[pyclass(frozen, module = "ferroweb._ferroweb", name = "MiddlewareStack")]
pub(crate) struct PyMiddlewareStack {
    pub(crate) middleware: Middleware,
}

#[pymethods]
impl PyMiddlewareStack {
    #[new]
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (
        *, trusted_hosts=None, cors=None, security_headers=None, compression=None,
        body_limit=None, timeout=None, timeout_status=408, auth=None, rate_limit=None, csrf=None,
        sessions=None
    ))]
    fn new(
        trusted_hosts: Option<PyRef<'_, PyTrustedHostsPolicy>>,
        cors: Option<PyRef<'_, PyCorsPolicy>>,
        security_headers: Option<PyRef<'_, PySecurityHeadersPolicy>>,
        compression: Option<PyRef<'_, PyCompressionPolicy>>,
        body_limit: Option<u64>,
        timeout: Option<f64>,
        timeout_status: u16,
        auth: Option<Vec<Bound<'_, PyAny>>>,
        rate_limit: Option<PyRef<'_, PyRateLimitPolicy>>,
        csrf: Option<PyRef<'_, crate::sessions::PyCsrfPolicy>>,
        sessions: Option<PyRef<'_, crate::sessions::PySessionPolicy>>,
    ) -> PyResult<Self> {
        let auth = match auth {
            Some(schemes) => crate::auth::policy(&schemes)?.map(Arc::new),
            None => None,
        };
        let timeout = timeout
            .map(|seconds| {
                let duration = Duration::try_from_secs_f64(seconds)
                    .ok()
                    .filter(|duration| !duration.is_zero())
                    .ok_or_else(|| {
                        invalid(format!(
                            "Timeout must be a positive number of seconds, got {seconds}"
                        ))
                    })?;
                let status = StatusCode::from_u16(timeout_status)
                    .ok()
                    .filter(|status| status.is_client_error() || status.is_server_error())
                    .ok_or_else(|| {
                        invalid(format!(
                            "Timeout status_code must be a 4xx or 5xx status, got {timeout_status}"
                        ))
                    })?;
                Ok::<_, PyErr>(TimeoutPolicy { duration, status })
            })
            .transpose()?;
        Ok(Self {
            middleware: Middleware {
                trusted_hosts: trusted_hosts.map(|policy| Arc::clone(&policy.0)),
                cors: cors.map(|policy| Arc::clone(&policy.0)),
                security_headers: security_headers.map(|policy| Arc::clone(&policy.0)),
                compression: compression.map(|policy| policy.0),
                auth,
                rate_limit: rate_limit.map(|policy| Arc::clone(&policy.0)),
                csrf: csrf.map(|policy| Arc::clone(&policy.0)),
                sessions: sessions.map(|policy| Arc::clone(&policy.0)),
                body_limit,
                timeout,
            },
        })
    }
}

pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PyCorsPolicy>()?;
    module.add_class::<PyCompressionPolicy>()?;
    module.add_class::<PyTrustedHostsPolicy>()?;
    module.add_class::<PySecurityHeadersPolicy>()?;
    module.add_class::<PyRateLimitPolicy>()?;
    module.add_class::<PyMiddlewareStack>()
}
