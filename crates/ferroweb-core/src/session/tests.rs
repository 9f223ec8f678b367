use super::*;
use crate::set_cookie::SameSite;
use http::HeaderValue;

fn attributes() -> CookieAttributes {
    CookieAttributes {
        path: "/".to_owned(),
        domain: None,
        same_site: SameSite::Lax,
        https_only: false,
        http_only: true,
    }
}

fn cookie_policy(keys: &[&str], max_age: Duration) -> SessionPolicy {
    SessionPolicy::new(
        keys.iter().map(|key| key.as_bytes().to_vec()).collect(),
        "session".to_owned(),
        max_age,
        attributes(),
        SessionStoreKind::Cookie,
    )
    .unwrap()
}

fn request_with(set_cookie: &HeaderValue) -> HeaderMap {
    let pair = set_cookie
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let mut headers = HeaderMap::new();
    headers.insert(header::COOKIE, HeaderValue::from_str(&pair).unwrap());
    headers
}

async fn saved(policy: &SessionPolicy, headers: &HeaderMap, data: &[u8]) -> HeaderValue {
    let handle = policy.load(headers, "/").await.unwrap();
    handle.replace(Bytes::copy_from_slice(data)).unwrap();
    let mut response = Response::new(Body::empty());
    policy.commit(&handle, &mut response, "/").await;
    response.headers()[header::SET_COOKIE].clone()
}

#[tokio::test]
async fn a_cookie_session_round_trips_and_unchanged_ones_set_nothing() {
    let policy = cookie_policy(&["a session key of some length"], Duration::from_secs(60));
    let fresh = policy.load(&HeaderMap::new(), "/").await.unwrap();
    assert_eq!(&fresh.data()[..], b"{}");
    let set = saved(&policy, &HeaderMap::new(), br#"{"user":"alice"}"#).await;
    assert!(set
        .to_str()
        .unwrap()
        .contains("; Max-Age=60; HttpOnly; SameSite=Lax"));
    let headers = request_with(&set);
    let loaded = policy.load(&headers, "/").await.unwrap();
    assert_eq!(&loaded.data()[..], br#"{"user":"alice"}"#);
    let mut response = Response::new(Body::empty());
    policy.commit(&loaded, &mut response, "/").await;
    assert!(response.headers().get(header::SET_COOKIE).is_none());
}

#[tokio::test]
async fn tampered_expired_and_foreign_cookies_are_empty_sessions() {
    let policy = cookie_policy(&["a session key of some length"], Duration::from_secs(60));
    let set = saved(&policy, &HeaderMap::new(), br#"{"admin":false}"#).await;
    let text = set
        .to_str()
        .unwrap()
        .replace("eyJhZG1pbiI6ZmFsc2V9", "eyJhZG1pbiI6dHJ1ZX0");
    let tampered = request_with(&HeaderValue::from_str(&text).unwrap());
    assert_eq!(
        &policy.load(&tampered, "/").await.unwrap().data()[..],
        b"{}"
    );
    let other = cookie_policy(&["another key of some length!"], Duration::from_secs(60));
    assert_eq!(
        &other.load(&request_with(&set), "/").await.unwrap().data()[..],
        b"{}"
    );
    // issued long ago: signed correctly, but past max_age
    let old = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(br#"{"a":1}"#),
        now_secs() - 120
    );
    let stale = format!("session={}", policy.signer.sign(&old));
    let mut headers = HeaderMap::new();
    headers.insert(header::COOKIE, HeaderValue::from_str(&stale).unwrap());
    assert_eq!(&policy.load(&headers, "/").await.unwrap().data()[..], b"{}");
}

#[tokio::test]
async fn older_keys_still_read_sessions_after_rotation() {
    let old = cookie_policy(&["the old session key 123"], Duration::from_secs(60));
    let set = saved(&old, &HeaderMap::new(), br#"{"n":1}"#).await;
    let rotated = cookie_policy(
        &["the new session key 123", "the old session key 123"],
        Duration::from_secs(60),
    );
    assert_eq!(
        &rotated.load(&request_with(&set), "/").await.unwrap().data()[..],
        br#"{"n":1}"#
    );
}

#[tokio::test]
async fn ending_a_session_expires_its_cookie_and_oversized_data_is_refused() {
    let policy = cookie_policy(&["a session key of some length"], Duration::from_secs(60));
    let set = saved(&policy, &HeaderMap::new(), br#"{"n":1}"#).await;
    let cleared = saved(&policy, &request_with(&set), b"{}").await;
    assert!(cleared
        .to_str()
        .unwrap()
        .starts_with("session=; Path=/; Max-Age=0"));
    let handle = policy.load(&HeaderMap::new(), "/").await.unwrap();
    let big = format!("{{\"blob\":\"{}\"}}", "x".repeat(4000));
    let err = handle.replace(Bytes::from(big)).unwrap_err();
    assert!(err.to_string().contains("Redis store"), "{err}");
}

#[test]
fn declarations_are_checked() {
    let make = |keys: Vec<Vec<u8>>, cookie: &str, max_age: u64| {
        SessionPolicy::new(
            keys,
            cookie.to_owned(),
            Duration::from_secs(max_age),
            attributes(),
            SessionStoreKind::Cookie,
        )
    };
    assert!(make(
        vec![b"a session key of some length".to_vec()],
        "session",
        60
    )
    .is_ok());
    assert!(make(vec![b"short".to_vec()], "session", 60).is_err());
    assert!(make(
        vec![b"a session key of some length".to_vec()],
        "bad name;",
        60
    )
    .is_err());
    assert!(make(vec![b"a session key of some length".to_vec()], "session", 0).is_err());
}
