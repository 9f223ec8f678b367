//! The core's authentication schemes as Python objects: each is checked when it is made, so a
//! bad key or setting is a `ValueError` at declaration, never a failure per request.

use std::sync::Arc;

use ferroweb_core::{
    ApiKeyLocation, ApiKeyScheme, AuthPolicy, AuthScheme, JwtKeys, JwtScheme, JwtSettings,
};
use http::HeaderName;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

fn invalid(err: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(err.to_string())
}

#[pyclass(frozen, module = "ferroweb._ferroweb", name = "JwtScheme")]
pub(crate) struct PyJwtScheme(Arc<JwtScheme>);

#[pymethods]
impl PyJwtScheme {
    #[new]
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (
        *, secret=None, public_key=None, jwks=None, jwks_url=None, jwks_timeout=5.0, jwks_min_refresh=60.0,
        algorithms,
        audience, issuer, leeway, required_claims, scopes, cookie, max_token_bytes
    ))]
    fn new(
        secret: Option<Vec<u8>>,
        public_key: Option<Vec<u8>>,
        jwks: Option<String>,
        jwks_url: Option<String>,
        jwks_timeout: f64,
        jwks_min_refresh: f64,
        algorithms: Vec<String>,
        audience: Vec<String>,
        issuer: Vec<String>,
        leeway: u64,
        required_claims: Vec<String>,
        scopes: Vec<String>,
        cookie: Option<String>,
        max_token_bytes: usize,
    ) -> PyResult<Self> {
        let keys = match (secret, public_key, jwks, jwks_url) {
            (Some(secret), None, None, None) => JwtKeys::Secret(secret),
            (None, Some(pem), None, None) => JwtKeys::PublicKeyPem(pem),
            (None, None, Some(document), None) => JwtKeys::Jwks(document),
            (None, None, None, Some(url)) => JwtKeys::JwksUrl {
                url,
                timeout: std::time::Duration::try_from_secs_f64(jwks_timeout)
                    .ok()
                    .filter(|timeout| !timeout.is_zero())
                    .ok_or_else(|| invalid("jwks_timeout must be a positive number of seconds"))?,
                min_refresh: std::time::Duration::try_from_secs_f64(jwks_min_refresh)
                    .map_err(|_| invalid("jwks_min_refresh must be a number of seconds >= 0"))?,
            },
            _ => {
                return Err(invalid(
                    "JWTAuth needs exactly one of secret=, public_key=, jwks_file=, jwks_url=",
                ))
            }
        };
        let settings = JwtSettings {
            algorithms,
            audience,
            issuer,
            leeway,
            required_claims,
            scopes,
            cookie,
            max_token_bytes,
        };
        JwtScheme::new(keys, settings)
            .map(|scheme| Self(Arc::new(scheme)))
            .map_err(invalid)
    }
}

#[pyclass(frozen, module = "ferroweb._ferroweb", name = "ApiKeyScheme")]
pub(crate) struct PyApiKeyScheme(Arc<ApiKeyScheme>);

#[pymethods]
impl PyApiKeyScheme {
    /// `keys`: `(key, subject)` pairs, or None when Python verifies the keys (`verify=`).
    #[new]
    #[pyo3(signature = (keys, *, header=None, query=None, cookie=None))]
    fn new(
        keys: Option<Vec<(String, String)>>,
        header: Option<String>,
        query: Option<String>,
        cookie: Option<String>,
    ) -> PyResult<Self> {
        let mut locations = Vec::new();
        if let Some(name) = header {
            let name = HeaderName::try_from(name.as_str())
                .map_err(|_| invalid(format!("{name:?} is not a valid header name")))?;
            locations.push(ApiKeyLocation::Header(name));
        }
        locations.extend(query.map(ApiKeyLocation::Query));
        locations.extend(cookie.map(ApiKeyLocation::Cookie));
        match keys {
            Some(keys) => ApiKeyScheme::new(keys, locations),
            None => ApiKeyScheme::verified_by_binding(locations),
        }
        .map(|scheme| Self(Arc::new(scheme)))
        .map_err(invalid)
    }
}

/// A route's `auth=` schemes as the core's policy (`None` for an empty list: public).
pub(crate) fn policy(schemes: &[Bound<'_, PyAny>]) -> PyResult<Option<AuthPolicy>> {
    let schemes = schemes
        .iter()
        .map(|scheme| {
            if let Ok(jwt) = scheme.cast::<PyJwtScheme>() {
                Ok(AuthScheme::Jwt(Arc::clone(&jwt.get().0)))
            } else if let Ok(key) = scheme.cast::<PyApiKeyScheme>() {
                Ok(AuthScheme::ApiKey(Arc::clone(&key.get().0)))
            } else {
                Err(PyTypeError::new_err(
                    "auth schemes must be JwtScheme or ApiKeyScheme objects",
                ))
            }
        })
        .collect::<PyResult<Vec<_>>>()?;
    Ok(AuthPolicy::any_of(schemes))
}

pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PyJwtScheme>()?;
    module.add_class::<PyApiKeyScheme>()
}
