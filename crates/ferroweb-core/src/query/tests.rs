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
