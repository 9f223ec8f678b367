//! Query-string splitting, done in Rust so the binding receives ready pairs.

/// Splits and percent-decodes a query string (`a=1&b=x+y`) into ordered pairs; repeated keys
/// stay repeated. Invalid UTF-8 is replaced rather than rejected, as browsers do.
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes())
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect()
}

#[cfg(test)]
mod tests;
