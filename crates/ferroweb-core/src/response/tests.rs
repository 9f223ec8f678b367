use super::*;

#[test]
fn kinds_map_to_content_types() {
    let response = HandlerResponse::new(StatusCode::OK, ContentKind::Text, Bytes::new());
    assert_eq!(
        response.headers[header::CONTENT_TYPE],
        "text/plain; charset=utf-8"
    );
    let response = HandlerResponse::new(StatusCode::OK, ContentKind::Unspecified, Bytes::new());
    assert!(response.headers.is_empty());
}

#[test]
fn into_http_keeps_status_headers_body() {
    let response = HandlerResponse::new(
        StatusCode::CREATED,
        ContentKind::Json,
        Bytes::from_static(b"{}"),
    )
    .into_http();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
}
