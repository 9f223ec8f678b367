//! Security response headers with sane defaults; a header the handler set itself is kept.

use std::fmt;

use http::{header, HeaderMap, HeaderName, HeaderValue};

/// Why a security header cannot be sent as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityHeadersError(pub String);

impl fmt::Display for SecurityHeadersError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid SecurityHeaders: {}", self.0)
    }
}

impl std::error::Error for SecurityHeadersError {}

/// The headers to add, each `None` when switched off.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecurityHeaderValues {
    /// `Strict-Transport-Security`; only sent on responses to HTTPS requests (a browser
    /// ignores it over plain HTTP, and it must not pin a host that has no TLS).
    pub hsts: Option<String>,
    pub content_type_options: bool,
    pub frame_options: Option<String>,
    pub referrer_policy: Option<String>,
    pub content_security_policy: Option<String>,
    pub permissions_policy: Option<String>,
    pub cross_origin_opener_policy: Option<String>,
}

/// The checked header values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityHeaders {
    hsts: Option<HeaderValue>,
    always: Vec<(HeaderName, HeaderValue)>,
}

impl SecurityHeaders {
    pub fn new(values: &SecurityHeaderValues) -> Result<Self, SecurityHeadersError> {
        let value = |name: &str, text: &str| {
            HeaderValue::from_str(text).map_err(|_| {
                SecurityHeadersError(format!("{name} {text:?} is not a valid header value"))
            })
        };
        let mut always = Vec::new();
        if values.content_type_options {
            always.push((
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ));
        }
        let optional = [
            (
                header::X_FRAME_OPTIONS,
                "frame_options",
                &values.frame_options,
            ),
            (
                header::REFERRER_POLICY,
                "referrer_policy",
                &values.referrer_policy,
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                "csp",
                &values.content_security_policy,
            ),
            (
                HeaderName::from_static("permissions-policy"),
                "permissions_policy",
                &values.permissions_policy,
            ),
            (
                HeaderName::from_static("cross-origin-opener-policy"),
                "cross_origin_opener_policy",
                &values.cross_origin_opener_policy,
            ),
        ];
        for (name, field, text) in optional {
            if let Some(text) = text {
                always.push((name, value(field, text)?));
            }
        }
        let hsts = values
            .hsts
            .as_deref()
            .map(|text| value("hsts", text))
            .transpose()?;
        Ok(Self { hsts, always })
    }

    /// Adds the headers the response does not set itself.
    pub(crate) fn apply(&self, https: bool, out: &mut HeaderMap) {
        // The handler's own value of a header wins; `entry` looks each name up once.
        for (name, value) in &self.always {
            out.entry(name).or_insert_with(|| value.clone());
        }
        if let (Some(hsts), true) = (&self.hsts, https) {
            out.entry(header::STRICT_TRANSPORT_SECURITY)
                .or_insert_with(|| hsts.clone());
        }
    }
}

#[cfg(test)]
mod tests;
