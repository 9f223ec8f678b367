//! Where credentials travel: the `Authorization` header, a cookie, a header of the scheme's
//! choosing or a query parameter.

use std::borrow::Cow;

use http::{header, HeaderMap, HeaderName, Uri};

/// The token of `Authorization: Bearer <token>` (the scheme name is case-insensitive, RFC
/// 9110 section 11.1). Another scheme (`Basic ...`) is not a bearer token: `None`.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}

/// A cookie's value, from every `Cookie` header the request carries.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"'))
        .filter(|value| !value.is_empty())
}

/// A header's value, when it is present and not empty.
pub(crate) fn header_value<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a [u8]> {
    headers
        .get(name)
        .map(http::HeaderValue::as_bytes)
        .filter(|value| !value.is_empty())
}

/// A query parameter's (first) value, percent-decoded.
pub(crate) fn query_param<'a>(uri: &'a Uri, name: &str) -> Option<Cow<'a, str>> {
    form_urlencoded::parse(uri.query()?.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn bearer_scheme_is_case_insensitive_and_other_schemes_are_not_tokens() {
        let map = headers(&[(header::AUTHORIZATION, "bEaReR abc.def.ghi")]);
        assert_eq!(bearer_token(&map), Some("abc.def.ghi"));
        let basic = headers(&[(header::AUTHORIZATION, "Basic dXNlcjpwYXNz")]);
        assert_eq!(bearer_token(&basic), None);
        let empty = headers(&[(header::AUTHORIZATION, "Bearer ")]);
        assert_eq!(bearer_token(&empty), None);
    }

    #[test]
    fn cookies_are_found_in_any_cookie_header() {
        let map = headers(&[
            (header::COOKIE, "a=1; theme=dark"),
            (header::COOKIE, "token=\"xyz\""),
        ]);
        assert_eq!(cookie(&map, "theme"), Some("dark"));
        assert_eq!(cookie(&map, "token"), Some("xyz"));
        assert_eq!(cookie(&map, "missing"), None);
    }

    #[test]
    fn query_parameters_are_decoded() {
        let uri: Uri = "/x?api_key=a%2Bb&other=1".parse().unwrap();
        assert_eq!(query_param(&uri, "api_key").as_deref(), Some("a+b"));
        assert_eq!(query_param(&uri, "nope"), None);
    }
}
