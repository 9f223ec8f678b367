use super::*;

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn request(origin: &str) -> Request<()> {
    Request::get("/")
        .header(header::ORIGIN, origin)
        .body(())
        .unwrap()
}

#[test]
fn any_origin_is_a_literal_star_only_without_credentials() {
    let open =
        CorsPolicy::new(&strings(&["*"]), None, &strings(&["*"]), &[], false, &[], 0).unwrap();
    let mut headers = HeaderMap::new();
    let CorsRequest::Actual(origin) = open.classify(&request("https://a.test")) else {
        panic!("not an actual request");
    };
    open.decorate(origin.as_ref(), &mut headers);
    assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    assert!(!headers.contains_key(header::VARY));

    let credentialed = CorsPolicy::new(&strings(&["*"]), None, &[], &[], true, &[], 0).unwrap();
    let mut headers = HeaderMap::new();
    credentialed.decorate(
        Some(&HeaderValue::from_static("https://a.test")),
        &mut headers,
    );
    assert_eq!(
        headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://a.test"
    );
    assert_eq!(headers[header::VARY], "Origin");
}

#[test]
fn origin_regex_matches_the_whole_origin() {
    let policy = CorsPolicy::new(
        &[],
        Some(r"https://.*\.example\.com"),
        &[],
        &[],
        false,
        &[],
        0,
    )
    .unwrap();
    assert!(policy.origin_allowed(&HeaderValue::from_static("https://a.example.com")));
    assert!(!policy.origin_allowed(&HeaderValue::from_static("https://a.example.com.evil")));
    assert!(CorsPolicy::new(&[], Some("("), &[], &[], false, &[], 0).is_err());
}

#[test]
fn safelisted_headers_are_always_allowed() {
    let policy = CorsPolicy::new(
        &strings(&["https://a.test"]),
        None,
        &strings(&["GET"]),
        &[],
        false,
        &[],
        5,
    )
    .unwrap();
    let preflight = Request::options("/")
        .header(header::ORIGIN, "https://a.test")
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
        .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "Content-Type")
        .body(())
        .unwrap();
    assert!(matches!(
        policy.classify(&preflight),
        CorsRequest::Preflight
    ));
    let response = policy.preflight(&preflight);
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        response.headers()[header::ACCESS_CONTROL_ALLOW_HEADERS],
        "accept, accept-language, content-language, content-type"
    );
}

#[test]
fn bad_settings_are_refused() {
    assert!(CorsPolicy::new(&strings(&["bad\norigin"]), None, &[], &[], false, &[], 0).is_err());
    assert!(CorsPolicy::new(&[], None, &strings(&["G ET"]), &[], false, &[], 0).is_err());
    assert!(CorsPolicy::new(&[], None, &[], &strings(&["bad header"]), false, &[], 0).is_err());
}
