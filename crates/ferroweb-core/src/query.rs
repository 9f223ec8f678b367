//! Query-string splitting, done in Rust so the binding receives ready pairs.

/// Splits and percent-decodes a query string (`a=1&b=x+y`) into ordered pairs; repeated keys
/// stay repeated. Invalid UTF-8 is replaced rather than rejected, as browsers do.
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes())
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_repeats() {
        assert_eq!(
            parse_query("a=1&b=x+y&a=%C3%A9&empty=&flag"),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "x y".into()),
                ("a".into(), "é".into()),
                ("empty".into(), "".into()),
                ("flag".into(), "".into()),
            ]
        );
    }

    #[test]
    fn empty_and_malformed() {
        assert!(parse_query("").is_empty());
        assert_eq!(parse_query("%ff=1"), vec![("\u{fffd}".into(), "1".into())]);
    }
}
