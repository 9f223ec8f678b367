//! `Set-Cookie` values for the cookies the core sets itself (sessions, CSRF tokens).

use std::time::Duration;

use http::HeaderValue;

/// The `SameSite` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    Lax,
    Strict,
    None,
}

impl SameSite {
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.to_ascii_lowercase().as_str() {
            "lax" => Ok(Self::Lax),
            "strict" => Ok(Self::Strict),
            "none" => Ok(Self::None),
            _ => Err(format!(
                "same_site must be \"lax\", \"strict\" or \"none\", got {text:?}"
            )),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Lax => "Lax",
            Self::Strict => "Strict",
            Self::None => "None",
        }
    }
}

/// How a cookie is set: everything but its name and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieAttributes {
    pub path: String,
    pub domain: Option<String>,
    pub same_site: SameSite,
    /// `Secure`: sent over HTTPS only. Always set with `SameSite=None`, which browsers refuse
    /// otherwise.
    pub https_only: bool,
    /// `HttpOnly`: out of reach of page scripts.
    pub http_only: bool,
}

impl CookieAttributes {
    /// `name=value` with these attributes, kept for `max_age`, or expired at once (`None`).
    pub(crate) fn header(
        &self,
        name: &str,
        value: &str,
        max_age: Option<Duration>,
    ) -> Option<HeaderValue> {
        let mut text = format!("{name}={value}; Path={}", self.path);
        if let Some(domain) = &self.domain {
            text.push_str(&format!("; Domain={domain}"));
        }
        match max_age {
            Some(age) => text.push_str(&format!("; Max-Age={}", age.as_secs())),
            None => text.push_str("; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT"),
        }
        if self.http_only {
            text.push_str("; HttpOnly");
        }
        text.push_str(&format!("; SameSite={}", self.same_site.as_str()));
        if self.https_only || self.same_site == SameSite::None {
            text.push_str("; Secure");
        }
        HeaderValue::from_str(&text).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_written_in_order() {
        let attributes = CookieAttributes {
            path: "/".to_owned(),
            domain: Some("example.com".to_owned()),
            same_site: SameSite::Lax,
            https_only: false,
            http_only: true,
        };
        let set = attributes.header("session", "abc", Some(Duration::from_secs(60)));
        assert_eq!(
            set.unwrap(),
            "session=abc; Path=/; Domain=example.com; Max-Age=60; HttpOnly; SameSite=Lax"
        );
        let none = CookieAttributes {
            same_site: SameSite::None,
            http_only: false,
            domain: None,
            ..attributes
        };
        assert_eq!(
            none.header("t", "", None).unwrap(),
            "t=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; SameSite=None; Secure"
        );
        assert!(SameSite::parse("sideways").is_err());
    }
}
