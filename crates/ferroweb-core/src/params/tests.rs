use http::{HeaderMap, HeaderValue};

use super::*;

fn spec(source: Source, key: &str, scalar: Scalar) -> ParamSpec {
    ParamSpec {
        source,
        key: key.to_owned(),
        scalar,
        many: false,
        bounds: Bounds::default(),
    }
}

fn kinds(extracted: &ExtractedParams) -> Vec<(usize, Option<usize>, &'static str, &str)> {
    extracted
        .issues
        .iter()
        .map(|issue| {
            (
                issue.param,
                issue.index,
                issue.kind.as_str(),
                issue.input.as_str(),
            )
        })
        .collect()
}

#[test]
fn converts_each_source() {
    let plan = ParamPlan::new(vec![
        spec(Source::Path(1), "item_id", Scalar::Int),
        spec(Source::Query, "q", Scalar::Str),
        spec(Source::Header, "x-ratio", Scalar::Float),
        spec(Source::Cookie, "debug", Scalar::Bool),
        spec(Source::Query, "absent", Scalar::Int),
    ]);
    let mut headers = HeaderMap::new();
    headers.insert("x-ratio", HeaderValue::from_static("0.5"));
    headers.insert("cookie", HeaderValue::from_static("a=1; debug=\"yes\""));
    let path = vec!["shop".to_owned(), " 42 ".to_owned()];
    let extracted = plan.extract("q=hello+world&q=last%21", &headers, &path);
    assert!(extracted.issues.is_empty(), "{:?}", extracted.issues);
    assert_eq!(
        extracted.values,
        vec![
            ParamValue::Int(42),
            ParamValue::Str("last!".to_owned()),
            ParamValue::Float(0.5),
            ParamValue::Bool(true),
            ParamValue::Missing,
        ]
    );
}

#[test]
fn integers_of_any_size_and_strict_syntax() {
    assert_eq!(parse_int("+7"), Some(ParamValue::Int(7)));
    assert_eq!(parse_int("-0"), Some(ParamValue::Int(0)));
    assert_eq!(
        parse_int("123456789012345678901234567890"),
        Some(ParamValue::BigInt(
            "123456789012345678901234567890".to_owned()
        ))
    );
    for bad in ["", "1.0", "1e3", "0x10", "1_000", "+", "١٢", " - 1"] {
        assert_eq!(parse_int(bad), None, "{bad:?}");
    }
}

#[test]
fn floats_are_finite_decimal_numbers() {
    assert_eq!(parse_float("1e3"), Ok(ParamValue::Float(1000.0)));
    assert_eq!(parse_float(".5"), Ok(ParamValue::Float(0.5)));
    assert_eq!(parse_float("-2."), Ok(ParamValue::Float(-2.0)));
    for word in ["inf", "-Infinity", "NaN", "1e400"] {
        assert_eq!(parse_float(word), Err(IssueKind::FiniteNumber), "{word:?}");
    }
    for bad in ["", ".", "e5", "1e", "1_0", "abc", "0x1p3"] {
        assert_eq!(parse_float(bad), Err(IssueKind::FloatParsing), "{bad:?}");
    }
}

#[test]
fn booleans_take_the_usual_spellings() {
    for yes in ["true", "TRUE", "1", "on", "Yes", "y", "t"] {
        assert_eq!(parse_bool(yes), Some(true), "{yes:?}");
    }
    for no in ["false", "0", "off", "NO", "n", "f"] {
        assert_eq!(parse_bool(no), Some(false), "{no:?}");
    }
    assert_eq!(parse_bool("maybe"), None);
}

#[test]
fn every_bound_violation_is_reported() {
    let mut limit = spec(Source::Query, "limit", Scalar::Int);
    limit.bounds = Bounds {
        gt: Some(10.0),
        le: Some(5.0),
        multiple_of: Some(4.0),
        ..Bounds::default()
    };
    let mut name = spec(Source::Query, "name", Scalar::Str);
    name.bounds.max_length = Some(3);
    let plan = ParamPlan::new(vec![limit, name]);
    let extracted = plan.extract("limit=7&name=%C3%A9t%C3%A9s", &HeaderMap::new(), &[]);
    assert_eq!(
        kinds(&extracted),
        vec![
            (0, None, "greater_than", "7"),
            (0, None, "less_than_equal", "7"),
            (0, None, "multiple_of", "7"),
            (1, None, "string_too_long", "étés"),
        ]
    );
    assert_eq!(
        extracted.values,
        vec![ParamValue::Missing, ParamValue::Missing]
    );
}

#[test]
fn lists_keep_every_occurrence_and_index_their_errors() {
    let mut ids = spec(Source::Query, "id", Scalar::Int);
    ids.many = true;
    let mut tags = spec(Source::Header, "x-tag", Scalar::Raw);
    tags.many = true;
    let plan = ParamPlan::new(vec![ids, tags]);
    let mut headers = HeaderMap::new();
    headers.append("x-tag", HeaderValue::from_static("a, b"));
    headers.append("x-tag", HeaderValue::from_static("c"));
    let extracted = plan.extract("id=1&id=x&id=3", &headers, &[]);
    assert_eq!(kinds(&extracted), vec![(0, Some(1), "int_parsing", "x")]);
    assert_eq!(
        extracted.values,
        vec![
            ParamValue::List(vec![
                ParamValue::Int(1),
                ParamValue::Missing,
                ParamValue::Int(3)
            ]),
            ParamValue::List(vec![
                ParamValue::Str("a, b".to_owned()),
                ParamValue::Str("c".to_owned())
            ]),
        ]
    );
}

#[test]
fn present_but_empty_values_are_converted() {
    let plan = ParamPlan::new(vec![
        spec(Source::Query, "n", Scalar::Int),
        spec(Source::Query, "s", Scalar::Str),
    ]);
    let extracted = plan.extract("n=&s", &HeaderMap::new(), &[]);
    assert_eq!(kinds(&extracted), vec![(0, None, "int_parsing", "")]);
    assert_eq!(extracted.values[1], ParamValue::Str(String::new()));
}

#[test]
fn quoted_cookies_lose_their_quotes_and_escapes() {
    assert_eq!(unquote_cookie(r#""a\"b""#), "a\"b");
    assert_eq!(unquote_cookie(r#""x\\y\073""#), "x\\y;");
    assert_eq!(unquote_cookie("plain"), "plain");
    assert_eq!(unquote_cookie("\""), "\"");
}

#[test]
fn sources_and_scalars_parse_from_their_names() {
    for name in ["path", "query", "header", "cookie"] {
        let source: Source = name.parse().expect("a known source");
        assert_eq!(source.as_str(), name);
    }
    assert_eq!(
        "path".parse::<Source>().map(|s| s.at_path_index(2)),
        Ok(Source::Path(2))
    );
    assert_eq!(Source::Query.at_path_index(2), Source::Query);
    for name in ["str", "int", "float", "bool", "raw"] {
        let scalar: Scalar = name.parse().expect("a known scalar");
        assert_eq!(scalar.as_str(), name);
    }
    let unknown = "body".parse::<Source>().expect_err("not a core source");
    assert_eq!(unknown.to_string(), "unknown parameter source \"body\"");
    let unknown = "date".parse::<Scalar>().expect_err("not a core scalar");
    assert_eq!(unknown.to_string(), "unknown parameter type \"date\"");
}

#[test]
fn multiple_of_is_exact_for_integers_past_i64() {
    // 2**80 - 1 is a multiple of 3; as an f64 it rounds to 2**80, which is not
    assert_eq!(decimal_remainder("1208925819614629174706175", 3), 0);
    assert_eq!(decimal_remainder("-1208925819614629174706176", 3), 1);
    assert_eq!(decimal_remainder("100000000000000000000007", 10), 7);
    let bounds = Bounds {
        multiple_of: Some(3.0),
        ..Bounds::default()
    };
    let big = ParamValue::BigInt("1208925819614629174706175".to_owned());
    assert!(check_bounds(&big, &bounds).is_empty());
    let off = ParamValue::BigInt("1208925819614629174706176".to_owned());
    assert_eq!(check_bounds(&off, &bounds), vec![IssueKind::MultipleOf]);
}
