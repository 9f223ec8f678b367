use super::*;

#[test]
fn renders_rfc9457_members() {
    let problem = Problem::new(StatusCode::NOT_FOUND)
        .with_detail("no route matches /nope")
        .with_instance("/nope");
    let value: serde_json::Value = serde_json::from_slice(&problem.to_json()).unwrap();
    assert_eq!(
        value,
        serde_json::json!({
            "type": "about:blank",
            "title": "Not Found",
            "status": 404,
            "detail": "no route matches /nope",
            "instance": "/nope",
        })
    );
}

#[test]
fn omits_absent_members_and_escapes_text() {
    let problem = Problem::new(StatusCode::BAD_REQUEST).with_detail("bad \"quote\"\n");
    let text = String::from_utf8(problem.to_json().to_vec()).unwrap();
    assert!(!text.contains("instance"));
    assert!(text.contains(r#"bad \"quote\"\n"#));
}

#[test]
fn response_carries_problem_content_type_and_extra_headers() {
    let mut extra = HeaderMap::new();
    extra.insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    let response = Problem::new(StatusCode::METHOD_NOT_ALLOWED).into_response_with(extra);
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
    assert_eq!(response.headers()[header::ALLOW], "GET, HEAD");
}

#[test]
fn extensions_are_flattened_but_cannot_override_standard_members() {
    let extensions = serde_json::json!({
        "errors": [{"type": "missing", "loc": ["query", "q"]}],
        "status": 200,
        "detail": {"structured": true},
    });
    let serde_json::Value::Object(extensions) = extensions else {
        unreachable!()
    };
    let problem = Problem::new(StatusCode::UNPROCESSABLE_ENTITY).with_extensions(extensions);
    let value: serde_json::Value = serde_json::from_slice(&problem.to_json()).unwrap();
    assert_eq!(value["status"], 422);
    assert_eq!(value["errors"][0]["type"], "missing");
    // with no string detail, a structured one is carried as given
    assert_eq!(value["detail"]["structured"], true);
}

#[test]
fn unknown_status_has_generic_title() {
    let problem = Problem::new(StatusCode::from_u16(599).unwrap());
    assert_eq!(problem.title, "Error");
    assert_eq!(problem.status_code().as_u16(), 599);
}
