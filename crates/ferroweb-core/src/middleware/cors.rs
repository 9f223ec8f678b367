//! CORS (the Fetch standard's CORS protocol) with Starlette's meaning of each setting.
//!
//! Preflights are answered here without calling the handler; other requests from an allowed
//! origin have the allow / expose / credentials headers added to whatever the handler (or an
//! error path) answered, so browsers can read error bodies too.

use std::borrow::Cow;
use std::fmt;

use http::{header, HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use regex::Regex;

use crate::problem::Problem;

/// Request headers a browser may send without the server listing them (Fetch's CORS-safelisted
/// request headers); always allowed, as Starlette does.
const SAFELISTED_HEADERS: [&str; 4] = [
    "accept",
    "accept-language",
    "content-language",
    "content-type",
];

/// Every method a preflight may ask for when `allow_methods` is `*`.
const ALL_METHODS: &str = "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT";

/// Why a CORS configuration cannot be used; found when the app is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorsError(pub String);

impl fmt::Display for CorsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid CORS configuration: {}", self.0)
    }
}

impl std::error::Error for CorsError {}

/// The CORS settings of a route, checked once.
#[derive(Debug, Clone)]
pub struct CorsPolicy {
    any_origin: bool,
    origins: Vec<HeaderValue>,
    origin_regex: Option<Regex>,
    any_method: bool,
    methods: Vec<Method>,
    any_header: bool,
    /// Lower-case, safelisted headers included.
    headers: Vec<String>,
    credentials: bool,
    allow_methods_value: HeaderValue,
    allow_headers_value: Option<HeaderValue>,
    expose_value: Option<HeaderValue>,
    max_age_value: HeaderValue,
}

/// What a request is, as far as CORS is concerned.
pub(crate) enum CorsRequest {
    /// No `Origin`: not a cross-origin request.
    None,
    /// A preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`).
    Preflight,
    /// A simple or actual request from this origin, allowed or not.
    Actual(Option<HeaderValue>),
}

impl CorsPolicy {
    /// `"*"` in `origins`, `methods` or `headers` allows any; `origin_regex` must match the
    /// whole origin.
    pub fn new(
        origins: &[String],
        origin_regex: Option<&str>,
        methods: &[String],
        headers: &[String],
        credentials: bool,
        expose_headers: &[String],
        max_age: u64,
    ) -> Result<Self, CorsError> {
        let any_origin = origins.iter().any(|origin| origin == "*");
        let origins = origins
            .iter()
            .filter(|origin| *origin != "*")
            .map(|origin| {
                HeaderValue::from_str(origin.trim_end_matches('/')).map_err(|_| {
                    CorsError(format!("origin {origin:?} is not a valid header value"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let origin_regex = origin_regex
            .map(|pattern| {
                Regex::new(&format!("^(?:{pattern})$"))
                    .map_err(|err| CorsError(format!("allow_origin_regex: {err}")))
            })
            .transpose()?;
        let any_method = methods.iter().any(|method| method == "*");
        let methods = methods
            .iter()
            .filter(|method| *method != "*")
            .map(|method| {
                Method::from_bytes(method.to_ascii_uppercase().as_bytes())
                    .map_err(|_| CorsError(format!("method {method:?} is not a valid method")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let any_header = headers.iter().any(|name| name == "*");
        let mut allowed: Vec<String> = SAFELISTED_HEADERS.iter().map(|h| (*h).to_owned()).collect();
        for name in headers.iter().filter(|name| *name != "*") {
            HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| CorsError(format!("header {name:?} is not a valid header name")))?;
            let lower = name.to_ascii_lowercase();
            if !allowed.contains(&lower) {
                allowed.push(lower);
            }
        }
        allowed.sort();
        for name in expose_headers {
            HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                CorsError(format!("expose header {name:?} is not a valid header name"))
            })?;
        }
        let list = |items: Vec<&str>| HeaderValue::from_str(&items.join(", ")).ok();
        let allow_methods_value = if any_method {
            HeaderValue::from_static(ALL_METHODS)
        } else {
            list(methods.iter().map(Method::as_str).collect())
                .unwrap_or_else(|| HeaderValue::from_static(""))
        };
        Ok(Self {
            any_origin,
            origins,
            origin_regex,
            any_method,
            methods,
            any_header,
            allow_headers_value: if any_header {
                None
            } else {
                list(allowed.iter().map(String::as_str).collect())
            },
            headers: allowed,
            credentials,
            allow_methods_value,
            expose_value: if expose_headers.is_empty() {
                None
            } else {
                list(expose_headers.iter().map(String::as_str).collect())
            },
            max_age_value: HeaderValue::from(max_age),
        })
    }

    fn origin_allowed(&self, origin: &HeaderValue) -> bool {
        if self.any_origin || self.origins.iter().any(|allowed| allowed == origin) {
            return true;
        }
        match (&self.origin_regex, origin.to_str()) {
            (Some(regex), Ok(origin)) => regex.is_match(origin),
            _ => false,
        }
    }

    /// `*` only where it is the same answer for every origin: never with credentials.
    fn varies_by_origin(&self) -> bool {
        !self.any_origin || self.credentials
    }

    pub(crate) fn classify<B>(&self, request: &Request<B>) -> CorsRequest {
        let headers = request.headers();
        let Some(origin) = headers.get(header::ORIGIN) else {
            return CorsRequest::None;
        };
        if request.method() == Method::OPTIONS
            && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
        {
            return CorsRequest::Preflight;
        }
        CorsRequest::Actual(self.origin_allowed(origin).then(|| origin.clone()))
    }

    /// The answer to a preflight: 204 with the allow headers, or 400 naming what was refused
    /// (and no `Access-Control-Allow-*` header, so the browser blocks the actual request).
    pub(crate) fn preflight<B>(&self, request: &Request<B>) -> Response<axum::body::Body> {
        let headers = request.headers();
        let mut refused = Vec::new();
        let origin = headers.get(header::ORIGIN).cloned();
        let origin_ok = origin
            .as_ref()
            .is_some_and(|origin| self.origin_allowed(origin));
        if !origin_ok {
            refused.push("origin");
        }
        let method_ok = headers
            .get(header::ACCESS_CONTROL_REQUEST_METHOD)
            .and_then(|value| Method::from_bytes(value.as_bytes()).ok())
            .is_some_and(|method| self.any_method || self.methods.contains(&method));
        if !method_ok {
            refused.push("method");
        }
        let headers_ok = self.any_header || self.allows_requested_headers(headers);
        if !headers_ok {
            refused.push("headers");
        }
        // Room for every header of the answer (axum adds `Allow` and `Content-Length`), so
        // the map is allocated once and never grows.
        let mut out = HeaderMap::with_capacity(8);
        if self.varies_by_origin() {
            out.insert(header::VARY, HeaderValue::from_static("Origin"));
        }
        let (Some(origin), true) = (origin, refused.is_empty()) else {
            return Problem::new(StatusCode::BAD_REQUEST)
                .with_detail(format!(
                    "CORS preflight refused: {} not allowed",
                    refused.join(", ")
                ))
                .with_instance(request.uri().path())
                .into_response_with(out);
        };
        self.allow_origin(&origin, &mut out);
        out.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            self.allow_methods_value.clone(),
        );
        let allow_headers = match &self.allow_headers_value {
            Some(value) => Some(value.clone()),
            // `*`: whatever was asked for (a literal `*` is not honoured with credentials)
            None => headers.get(header::ACCESS_CONTROL_REQUEST_HEADERS).cloned(),
        };
        if let Some(value) = allow_headers {
            out.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, value);
        }
        out.insert(header::ACCESS_CONTROL_MAX_AGE, self.max_age_value.clone());
        let mut response = Response::new(axum::body::Body::empty());
        *response.status_mut() = StatusCode::NO_CONTENT;
        *response.headers_mut() = out;
        response
    }

    /// Whether every name in `Access-Control-Request-Headers` is allowed. Browsers send the
    /// names lower-cased, which are looked up in place; others are lower-cased first.
    fn allows_requested_headers(&self, headers: &HeaderMap) -> bool {
        headers
            .get_all(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .iter()
            .all(|value| {
                let Ok(value) = value.to_str() else {
                    return false;
                };
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|name| !name.is_empty())
                    .all(|name| {
                        let name = if name.bytes().any(|b| b.is_ascii_uppercase()) {
                            Cow::Owned(name.to_ascii_lowercase())
                        } else {
                            Cow::Borrowed(name)
                        };
                        self.headers
                            .binary_search_by(|allowed| allowed.as_str().cmp(name.as_ref()))
                            .is_ok()
                    })
            })
    }

    fn allow_origin(&self, origin: &HeaderValue, out: &mut HeaderMap) {
        let value = if self.varies_by_origin() {
            origin.clone()
        } else {
            HeaderValue::from_static("*")
        };
        out.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        if self.credentials {
            out.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
    }

    /// Adds the CORS headers to the response of an actual request (`origin`: the request's
    /// origin when it is allowed).
    pub(crate) fn decorate(&self, origin: Option<&HeaderValue>, out: &mut HeaderMap) {
        if self.varies_by_origin() && !vary_names(out, "origin") {
            out.append(header::VARY, HeaderValue::from_static("Origin"));
        }
        let Some(origin) = origin else {
            return;
        };
        self.allow_origin(origin, out);
        if let Some(expose) = &self.expose_value {
            out.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, expose.clone());
        }
    }
}

/// True when a `Vary` header already names `name` (or is `*`).
pub(crate) fn vary_names(headers: &HeaderMap, name: &str) -> bool {
    headers
        .get_all(header::VARY)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|item| {
            let item = item.trim();
            item == "*" || item.eq_ignore_ascii_case(name)
        })
}

#[cfg(test)]
mod tests;
