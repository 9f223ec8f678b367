//! Conditional requests (RFC 9110 section 13): which validators the request names, and how they
//! compare with the file's.

use std::time::{SystemTime, UNIX_EPOCH};

use http::{header, HeaderMap, HeaderName, Method};

/// The request headers that decide conditional and partial answers, copied from the request so
/// that a file can be served after the request itself is gone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestConditions {
    method: Method,
    if_match: Option<String>,
    if_none_match: Option<String>,
    if_modified_since: Option<String>,
    if_unmodified_since: Option<String>,
    if_range: Option<String>,
    range: Option<String>,
}

impl RequestConditions {
    pub fn from_request(method: &Method, headers: &HeaderMap) -> Self {
        Self {
            method: method.clone(),
            if_match: list(headers, &header::IF_MATCH),
            if_none_match: list(headers, &header::IF_NONE_MATCH),
            if_modified_since: single(headers, &header::IF_MODIFIED_SINCE),
            if_unmodified_since: single(headers, &header::IF_UNMODIFIED_SINCE),
            if_range: single(headers, &header::IF_RANGE),
            range: single(headers, &header::RANGE),
        }
    }

    pub(super) fn is_head(&self) -> bool {
        self.method == Method::HEAD
    }

    fn is_get_or_head(&self) -> bool {
        self.method == Method::GET || self.method == Method::HEAD
    }

    /// The Range header, which only a GET may use (RFC 9110 section 14.2).
    pub(super) fn range(&self) -> Option<&str> {
        if self.method == Method::GET {
            self.range.as_deref()
        } else {
            None
        }
    }

    /// The preconditions in the order of RFC 9110 section 13.2.2: the state-changing ones first,
    /// so a failed If-Match is never hidden behind a 304.
    pub(super) fn evaluate(&self, current: &Validators) -> Precondition {
        if let Some(if_match) = &self.if_match {
            if !list_matches(if_match, current.etag.as_deref(), Comparison::Strong) {
                return Precondition::Failed;
            }
        } else if let (Some(since), Some(modified)) = (
            http_date(self.if_unmodified_since.as_deref()),
            current.last_modified,
        ) {
            if modified > since {
                return Precondition::Failed;
            }
        }

        if let Some(if_none_match) = &self.if_none_match {
            if list_matches(if_none_match, current.etag.as_deref(), Comparison::Weak) {
                return if self.is_get_or_head() {
                    Precondition::NotModified
                } else {
                    Precondition::Failed
                };
            }
        } else if self.is_get_or_head() {
            if let (Some(since), Some(modified)) = (
                http_date(self.if_modified_since.as_deref()),
                current.last_modified,
            ) {
                if modified <= since {
                    return Precondition::NotModified;
                }
            }
        }
        Precondition::Proceed
    }

    /// Whether the Range header still applies (RFC 9110 section 13.1.5): an If-Range naming
    /// another version of the file asks for the whole new version instead of a piece of it.
    pub(super) fn if_range_holds(&self, current: &Validators) -> bool {
        let Some(value) = self.if_range.as_deref().map(str::trim) else {
            return true;
        };
        if value.starts_with('"') || value.starts_with("W/") {
            let mut tags = EntityTags::new(value);
            let (Some(tag), None) = (tags.next(), tags.next()) else {
                return false;
            };
            let current = current
                .etag
                .as_deref()
                .and_then(|etag| EntityTags::new(etag).next());
            current.is_some_and(|current| tag.matches(&current, Comparison::Strong))
        } else {
            // A date in If-Range must equal Last-Modified exactly; "not modified since" is not
            // enough, since an earlier date could name a different version.
            http_date(Some(value)).is_some_and(|date| current.last_modified == Some(date))
        }
    }
}

/// The file's validators as the response will carry them (a handler's own ETag or
/// Last-Modified header replaces the derived one, and then is what requests are compared with).
#[derive(Debug, Clone, Default)]
pub(super) struct Validators {
    pub etag: Option<String>,
    /// Whole seconds since the Unix epoch: HTTP dates have no finer resolution.
    pub last_modified: Option<u64>,
}

impl Validators {
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let text = |name| headers.get(name).and_then(|value| value.to_str().ok());
        Self {
            etag: text(header::ETAG).map(str::to_owned),
            last_modified: http_date(text(header::LAST_MODIFIED)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Precondition {
    Proceed,
    NotModified,
    Failed,
}

pub(super) fn unix_seconds(time: SystemTime) -> Option<u64> {
    time.duration_since(UNIX_EPOCH)
        .ok()
        .map(|elapsed| elapsed.as_secs())
}

fn http_date(value: Option<&str>) -> Option<u64> {
    httpdate::parse_http_date(value?.trim())
        .ok()
        .and_then(unix_seconds)
}

/// List headers may arrive as several lines; RFC 9110 section 5.3 makes them one list.
fn list(headers: &HeaderMap, name: &HeaderName) -> Option<String> {
    let values: Vec<&str> = headers
        .get_all(name)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .collect();
    (!values.is_empty()).then(|| values.join(", "))
}

/// Date and range headers are single values; a repeated one is malformed and so ignored.
fn single(headers: &HeaderMap, name: &HeaderName) -> Option<String> {
    let mut values = headers.get_all(name).iter();
    match (values.next(), values.next()) {
        (Some(value), None) => value.to_str().ok().map(str::to_owned),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Comparison {
    Strong,
    Weak,
}

/// `*` matches because a file being served always has a current representation.
fn list_matches(list: &str, current: Option<&str>, comparison: Comparison) -> bool {
    if list.trim() == "*" {
        return true;
    }
    let Some(current) = current.and_then(|etag| EntityTags::new(etag).next()) else {
        return false;
    };
    EntityTags::new(list).any(|tag| tag.matches(&current, comparison))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct EntityTag<'a> {
    weak: bool,
    opaque: &'a str,
}

impl EntityTag<'_> {
    fn matches(&self, other: &EntityTag<'_>, comparison: Comparison) -> bool {
        let strong_enough = comparison == Comparison::Weak || !(self.weak || other.weak);
        strong_enough && self.opaque == other.opaque
    }
}

/// The entity-tags of a list. Commas may appear inside a quoted tag, so the list is scanned
/// quote by quote rather than split; scanning stops at the first malformed member, which then
/// matches nothing.
struct EntityTags<'a> {
    rest: &'a str,
}

impl<'a> EntityTags<'a> {
    fn new(list: &'a str) -> Self {
        Self { rest: list }
    }
}

impl<'a> Iterator for EntityTags<'a> {
    type Item = EntityTag<'a>;

    fn next(&mut self) -> Option<EntityTag<'a>> {
        let rest = self.rest.trim_start_matches([',', ' ', '\t']);
        let (weak, rest) = match rest.strip_prefix("W/") {
            Some(rest) => (true, rest),
            None => (false, rest),
        };
        let (opaque, rest) = rest.strip_prefix('"')?.split_once('"')?;
        self.rest = rest;
        Some(EntityTag { weak, opaque })
    }
}
