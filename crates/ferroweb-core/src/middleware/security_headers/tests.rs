use super::*;

#[test]
fn handler_headers_win_and_hsts_needs_https() {
    let headers = SecurityHeaders::new(&SecurityHeaderValues {
        hsts: Some("max-age=1".to_owned()),
        content_type_options: true,
        frame_options: Some("DENY".to_owned()),
        content_security_policy: Some("default-src 'self'".to_owned()),
        ..SecurityHeaderValues::default()
    })
    .unwrap();
    let mut out = HeaderMap::new();
    out.insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("SAMEORIGIN"),
    );
    headers.apply(false, &mut out);
    assert_eq!(out[header::X_FRAME_OPTIONS], "SAMEORIGIN");
    assert_eq!(out[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(out[header::CONTENT_SECURITY_POLICY], "default-src 'self'");
    assert!(!out.contains_key(header::STRICT_TRANSPORT_SECURITY));
    headers.apply(true, &mut out);
    assert_eq!(out[header::STRICT_TRANSPORT_SECURITY], "max-age=1");
    let bad = SecurityHeaders::new(&SecurityHeaderValues {
        content_security_policy: Some("a\nb".to_owned()),
        ..SecurityHeaderValues::default()
    });
    assert!(bad.is_err());
}
