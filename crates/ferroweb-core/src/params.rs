//! Typed parameter extraction: a route's declared path/query/header/cookie parameters are looked
//! up and their scalars converted and checked here, on the runtime thread, so a binding receives
//! ready values (or precise errors) instead of strings to split and parse.
//!
//! A binding declares a [`ParamPlan`] per route once; per request [`ParamPlan::extract`] returns
//! one [`ParamValue`] per declared parameter plus every [`ParamIssue`] found. Types the core does
//! not convert ([`Scalar::Raw`]: dates, UUIDs, enums...) come back as the strings sent.

use std::fmt;
use std::str::FromStr;

use http::HeaderMap;

/// Where a parameter's value is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The n-th parameter of the route template.
    Path(usize),
    Query,
    /// Looked up case-insensitively; the key must be lower-case.
    Header,
    Cookie,
}

/// A name a binding gave for a [`Source`] or a [`Scalar`] that the core does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName {
    /// What was being named: "parameter source" or "parameter type".
    pub what: &'static str,
    pub name: String,
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown {} {:?}", self.what, self.name)
    }
}

impl std::error::Error for UnknownName {}

impl FromStr for Source {
    type Err = UnknownName;

    /// `path`, `query`, `header` or `cookie`. A path source parsed from its name stands for
    /// the template's first parameter: the position is the caller's to set
    /// ([`Source::at_path_index`]).
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Ok(match name {
            "path" => Self::Path(0),
            "query" => Self::Query,
            "header" => Self::Header,
            "cookie" => Self::Cookie,
            _ => {
                return Err(UnknownName {
                    what: "parameter source",
                    name: name.to_owned(),
                })
            }
        })
    }
}

impl Source {
    /// The same source, reading the `index`-th template parameter when it is a path source.
    pub fn at_path_index(self, index: usize) -> Self {
        match self {
            Self::Path(_) => Self::Path(index),
            other => other,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Path(_) => "path",
            Self::Query => "query",
            Self::Header => "header",
            Self::Cookie => "cookie",
        }
    }
}

/// What a value is converted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    Str,
    Int,
    Float,
    Bool,
    /// Passed on as sent, every occurrence: the binding converts it.
    Raw,
}

impl FromStr for Scalar {
    type Err = UnknownName;

    /// `str`, `int`, `float`, `bool` or `raw`.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Ok(match name {
            "str" => Self::Str,
            "int" => Self::Int,
            "float" => Self::Float,
            "bool" => Self::Bool,
            "raw" => Self::Raw,
            _ => {
                return Err(UnknownName {
                    what: "parameter type",
                    name: name.to_owned(),
                })
            }
        })
    }
}

impl Scalar {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Str => "str",
            Self::Int => "int",
            Self::Float => "float",
            Self::Bool => "bool",
            Self::Raw => "raw",
        }
    }
}

/// Constraints checked after conversion: numeric bounds for Int/Float, lengths (in characters)
/// for Str.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bounds {
    pub gt: Option<f64>,
    pub ge: Option<f64>,
    pub lt: Option<f64>,
    pub le: Option<f64>,
    pub multiple_of: Option<f64>,
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
}

/// One declared parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSpec {
    pub source: Source,
    pub key: String,
    pub scalar: Scalar,
    /// Every occurrence, as a list (`?tag=a&tag=b`); otherwise the last occurrence wins.
    pub many: bool,
    pub bounds: Bounds,
}

/// A route's declared parameters, in the binding's order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParamPlan {
    specs: Vec<ParamSpec>,
    reads_query: bool,
    reads_cookies: bool,
}

/// One parameter's value for one request.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    /// Not in the request (the binding applies the default or reports it missing); also the
    /// stand-in for a value that failed conversion (its issue says why).
    Missing,
    Str(String),
    Int(i64),
    /// An integer beyond 64 bits, as its decimal digits (the binding makes a big integer).
    BigInt(String),
    Float(f64),
    Bool(bool),
    List(Vec<ParamValue>),
}

/// Why a value was refused, named as in the pydantic error vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueKind {
    IntParsing,
    FloatParsing,
    FiniteNumber,
    BoolParsing,
    GreaterThan,
    GreaterThanEqual,
    LessThan,
    LessThanEqual,
    MultipleOf,
    StringTooShort,
    StringTooLong,
}

impl IssueKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::IntParsing => "int_parsing",
            Self::FloatParsing => "float_parsing",
            Self::FiniteNumber => "finite_number",
            Self::BoolParsing => "bool_parsing",
            Self::GreaterThan => "greater_than",
            Self::GreaterThanEqual => "greater_than_equal",
            Self::LessThan => "less_than",
            Self::LessThanEqual => "less_than_equal",
            Self::MultipleOf => "multiple_of",
            Self::StringTooShort => "string_too_short",
            Self::StringTooLong => "string_too_long",
        }
    }
}

/// A refused value: which parameter, which occurrence (for `many`), why, and what was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamIssue {
    pub param: usize,
    pub index: Option<usize>,
    pub kind: IssueKind,
    pub input: String,
}

/// The extraction result for one request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExtractedParams {
    pub values: Vec<ParamValue>,
    pub issues: Vec<ParamIssue>,
}

const WHITESPACE: &[char] = &[' ', '\t', '\n', '\r', '\u{b}', '\u{c}'];

impl ParamPlan {
    pub fn new(specs: Vec<ParamSpec>) -> Self {
        let reads_query = specs.iter().any(|spec| spec.source == Source::Query);
        let reads_cookies = specs.iter().any(|spec| spec.source == Source::Cookie);
        Self {
            specs,
            reads_query,
            reads_cookies,
        }
    }

    pub fn specs(&self) -> &[ParamSpec] {
        &self.specs
    }

    /// Looks up and converts every declared parameter of one request.
    pub fn extract(&self, query: &str, headers: &HeaderMap, path: &[String]) -> ExtractedParams {
        let pairs = if self.reads_query {
            crate::parse_query(query)
        } else {
            Vec::new()
        };
        let cookies = if self.reads_cookies {
            parse_cookies(headers)
        } else {
            Vec::new()
        };
        let mut extracted = ExtractedParams {
            values: Vec::with_capacity(self.specs.len()),
            issues: Vec::new(),
        };
        for (index, spec) in self.specs.iter().enumerate() {
            let found: Vec<String> = match &spec.source {
                Source::Path(position) => path.get(*position).cloned().into_iter().collect(),
                Source::Query => pairs
                    .iter()
                    .filter(|(key, _)| *key == spec.key)
                    .map(|(_, value)| value.clone())
                    .collect(),
                Source::Header => headers
                    .get_all(spec.key.as_str())
                    .iter()
                    .map(|value| header_text(value.as_bytes()))
                    .collect(),
                Source::Cookie => cookies
                    .iter()
                    .rev()
                    .find(|(key, _)| *key == spec.key)
                    .map(|(_, value)| value.clone())
                    .into_iter()
                    .collect(),
            };
            let first_wins = spec.source == Source::Header;
            let value = convert_found(index, spec, found, first_wins, &mut extracted.issues);
            extracted.values.push(value);
        }
        extracted
    }
}

fn convert_found(
    index: usize,
    spec: &ParamSpec,
    mut found: Vec<String>,
    first_wins: bool,
    issues: &mut Vec<ParamIssue>,
) -> ParamValue {
    if found.is_empty() {
        return ParamValue::Missing;
    }
    if spec.scalar == Scalar::Raw {
        return ParamValue::List(found.into_iter().map(ParamValue::Str).collect());
    }
    if spec.many {
        let items = found
            .into_iter()
            .enumerate()
            .map(|(position, text)| {
                convert_one(spec, text, |kind, input| {
                    issues.push(ParamIssue {
                        param: index,
                        index: Some(position),
                        kind,
                        input,
                    });
                })
            })
            .collect();
        return ParamValue::List(items);
    }
    // A repeated scalar: the last query key wins (Starlette's QueryParams), the first header
    // (Starlette's Headers).
    let chosen = if first_wins {
        found.into_iter().next()
    } else {
        found.pop()
    }
    .unwrap_or_default();
    convert_one(spec, chosen, |kind, input| {
        issues.push(ParamIssue {
            param: index,
            index: None,
            kind,
            input,
        });
    })
}

fn convert_one(
    spec: &ParamSpec,
    text: String,
    mut refuse: impl FnMut(IssueKind, String),
) -> ParamValue {
    let converted = match spec.scalar {
        Scalar::Str | Scalar::Raw => Ok(ParamValue::Str(text.clone())),
        Scalar::Int => parse_int(&text).ok_or(IssueKind::IntParsing),
        Scalar::Float => parse_float(&text),
        Scalar::Bool => parse_bool(&text)
            .map(ParamValue::Bool)
            .ok_or(IssueKind::BoolParsing),
    };
    let value = match converted {
        Ok(value) => value,
        Err(kind) => {
            refuse(kind, text);
            return ParamValue::Missing;
        }
    };
    let violations = check_bounds(&value, &spec.bounds);
    if violations.is_empty() {
        return value;
    }
    for kind in violations {
        refuse(kind, text.clone());
    }
    ParamValue::Missing
}

/// Optional sign and ASCII digits, surrounding whitespace allowed; any size.
pub fn parse_int(text: &str) -> Option<ParamValue> {
    let trimmed = text.trim_matches(WHITESPACE);
    let digits = trimmed.strip_prefix(['+', '-']).unwrap_or(trimmed);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(match trimmed.parse::<i64>() {
        Ok(value) => ParamValue::Int(value),
        Err(_) => ParamValue::BigInt(trimmed.trim_start_matches('+').to_owned()),
    })
}

/// Decimal or scientific notation, finite; `inf`/`nan` spellings are `finite_number`.
pub fn parse_float(text: &str) -> Result<ParamValue, IssueKind> {
    let trimmed = text.trim_matches(WHITESPACE);
    if !is_decimal_number(trimmed) {
        let word = trimmed.strip_prefix(['+', '-']).unwrap_or(trimmed);
        let non_finite = ["inf", "infinity", "nan"]
            .iter()
            .any(|spelling| word.eq_ignore_ascii_case(spelling));
        return Err(if non_finite {
            IssueKind::FiniteNumber
        } else {
            IssueKind::FloatParsing
        });
    }
    match trimmed.parse::<f64>() {
        Ok(value) if value.is_finite() => Ok(ParamValue::Float(value)),
        Ok(_) => Err(IssueKind::FiniteNumber),
        Err(_) => Err(IssueKind::FloatParsing),
    }
}

/// `[+-]` then `digits[.digits]` or `.digits`, then an optional `e[+-]digits`.
fn is_decimal_number(text: &str) -> bool {
    let body = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(at) => (&body[..at], Some(&body[at + 1..])),
        None => (body, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (mantissa, None),
    };
    let all_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = all_digits(whole)
        && fraction.is_none_or(all_digits)
        && (!whole.is_empty() || fraction.is_some_and(|f| !f.is_empty()));
    let exponent_ok = exponent.is_none_or(|exp| {
        let digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
        !digits.is_empty() && all_digits(digits)
    });
    mantissa_ok && exponent_ok
}

pub fn parse_bool(text: &str) -> Option<bool> {
    let lowered = text.trim_matches(WHITESPACE).to_ascii_lowercase();
    match lowered.as_str() {
        "1" | "on" | "t" | "true" | "y" | "yes" => Some(true),
        "0" | "off" | "f" | "false" | "n" | "no" => Some(false),
        _ => None,
    }
}

/// Whether a value passes against one bound.
type Comparison = fn(f64, f64) -> bool;

/// The remainder of the integer written in `digits` (sign and other non-digits skipped)
/// divided by `modulus`, which is at least 1.
fn decimal_remainder(digits: &str, modulus: u64) -> u64 {
    let modulus = u128::from(modulus.max(1));
    let remainder = digits
        .bytes()
        .filter(u8::is_ascii_digit)
        .fold(0u128, |remainder, digit| {
            (remainder * 10 + u128::from(digit - b'0')) % modulus
        });
    u64::try_from(remainder).unwrap_or(u64::MAX)
}

fn check_bounds(value: &ParamValue, bounds: &Bounds) -> Vec<IssueKind> {
    let mut violations = Vec::new();
    let number = match value {
        ParamValue::Int(value) => Some(*value as f64),
        ParamValue::BigInt(digits) => digits.parse::<f64>().ok(),
        ParamValue::Float(value) => Some(*value),
        _ => None,
    };
    if let Some(number) = number {
        let checks: [(Option<f64>, IssueKind, Comparison); 4] = [
            (bounds.gt, IssueKind::GreaterThan, |n, b| n > b),
            (bounds.ge, IssueKind::GreaterThanEqual, |n, b| n >= b),
            (bounds.lt, IssueKind::LessThan, |n, b| n < b),
            (bounds.le, IssueKind::LessThanEqual, |n, b| n <= b),
        ];
        for (bound, kind, passes) in checks {
            if bound.is_some_and(|bound| !passes(number, bound)) {
                violations.push(kind);
            }
        }
        if let Some(step) = bounds.multiple_of {
            let remainder = match value {
                ParamValue::Int(value) if step.fract() == 0.0 && step.abs() < 9.0e15 => {
                    (*value % (step as i64).max(1)) as f64
                }
                // Past i64, f64 has lost the low digits: the remainder is taken digit by
                // digit instead, exactly, as Python's int arithmetic does.
                ParamValue::BigInt(digits)
                    if step.fract() == 0.0 && step.abs() >= 1.0 && step.abs() < 9.0e15 =>
                {
                    decimal_remainder(digits, step.abs() as u64) as f64
                }
                _ => number % step,
            };
            if remainder != 0.0 {
                violations.push(IssueKind::MultipleOf);
            }
        }
    }
    if let ParamValue::Str(text) = value {
        if bounds.min_length.is_some() || bounds.max_length.is_some() {
            let length = text.chars().count();
            if bounds.min_length.is_some_and(|min| length < min) {
                violations.push(IssueKind::StringTooShort);
            }
            if bounds.max_length.is_some_and(|max| length > max) {
                violations.push(IssueKind::StringTooLong);
            }
        }
    }
    violations
}

/// Header bytes as text: UTF-8 when valid, else one character per byte (Latin-1).
fn header_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// Every `name=value` of every Cookie header, in order; quoted values unquoted.
fn parse_cookies(headers: &HeaderMap) -> Vec<(String, String)> {
    let mut cookies = Vec::new();
    for header in headers.get_all(http::header::COOKIE) {
        let text = header_text(header.as_bytes());
        for chunk in text.split(';') {
            let (name, value) = match chunk.split_once('=') {
                Some((name, value)) => (name.trim(), value.trim()),
                None if chunk.trim().is_empty() => continue,
                None => ("", chunk.trim()),
            };
            cookies.push((name.to_owned(), unquote_cookie(value)));
        }
    }
    cookies
}

/// A quoted cookie value (`"a\"b"`) without its quotes and escapes (`\"`, `\\`, octal
/// `\042`), as Python's http.cookies reads it; unquoted values are kept as sent.
fn unquote_cookie(value: &str) -> String {
    let Some(inner) = value
        .strip_prefix('"')
        .and_then(|inner| inner.strip_suffix('"'))
    else {
        return value.to_owned();
    };
    let mut unquoted = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            unquoted.push(c);
            continue;
        }
        let octal: String = chars.clone().take(3).collect();
        if octal.len() == 3 && octal.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
            if let Some(decoded) = u32::from_str_radix(&octal, 8).ok().and_then(char::from_u32) {
                unquoted.push(decoded);
                chars.nth(2);
                continue;
            }
        }
        if let Some(escaped) = chars.next() {
            unquoted.push(escaped);
        }
    }
    unquoted
}

#[cfg(test)]
mod tests;
