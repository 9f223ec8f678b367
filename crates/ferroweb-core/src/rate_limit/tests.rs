use super::*;
use crate::request::ClientAddr;

/// Counts `request` with the in-memory store, which answers without waiting.
fn check(policy: &RateLimitPolicy, request: &Request<()>) -> Decision {
    let key = policy.key_of(request);
    let verdict = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(policy.check(&key, "/x"));
    match verdict {
        Verdict::Counted(decision) => decision,
        Verdict::Unavailable(_) => panic!("the memory store is always available"),
    }
}

fn request_from(peer: &str) -> Request<()> {
    let mut request = Request::new(());
    request
        .extensions_mut()
        .insert(ClientAddr::Socket(peer.parse().unwrap()));
    request
}

#[test]
fn rates_are_parsed_in_every_spelling() {
    let parsed = |text| parse_rate(text).map(|(count, period)| (count.get(), period.as_secs()));
    assert_eq!(parsed("10/second"), Ok((10, 1)));
    assert_eq!(parsed("100/minute"), Ok((100, 60)));
    assert_eq!(parsed("5 / h"), Ok((5, 3600)));
    assert_eq!(parsed("1/day"), Ok((1, 86_400)));
    assert_eq!(parsed("30/5 minutes"), Ok((30, 300)));
    for bad in [
        "10",
        "0/second",
        "ten/second",
        "10/fortnight",
        "10/0 minutes",
        "",
    ] {
        assert!(parse_rate(bad).is_err(), "{bad}");
    }
}

#[test]
fn a_burst_passes_then_requests_are_refused_with_a_retry_time() {
    let policy = RateLimitPolicy::new(
        "3/minute",
        None,
        RateLimitKey::Ip,
        TrustedProxies::default(),
    )
    .unwrap();
    let request = request_from("192.0.2.1:5000");
    let remaining: Vec<u32> = (0..3)
        .map(|_| check(&policy, &request))
        .map(|d| {
            assert!(d.allowed);
            assert_eq!(d.limit, 3);
            d.remaining
        })
        .collect();
    assert_eq!(remaining, [2, 1, 0]);
    let refused = check(&policy, &request);
    assert!(!refused.allowed);
    assert!(refused.retry_after > Duration::from_secs(15));
    assert!(refused.retry_after <= Duration::from_secs(20));
    let response = refused.refusal("/x");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((16..=20).contains(&retry));
    assert_eq!(response.headers()["ratelimit-remaining"], "0");
    // another client has its own budget
    assert!(check(&policy, &request_from("192.0.2.2:5000")).allowed);
}

#[test]
fn bursts_and_keys_by_header_are_separate() {
    let policy = RateLimitPolicy::new(
        "1/hour",
        Some(2),
        RateLimitKey::Header(HeaderName::from_static("x-api-key")),
        TrustedProxies::default(),
    )
    .unwrap();
    let mut first = request_from("192.0.2.1:1");
    first
        .headers_mut()
        .insert("x-api-key", HeaderValue::from_static("one"));
    let mut second = request_from("192.0.2.1:1");
    second
        .headers_mut()
        .insert("x-api-key", HeaderValue::from_static("two"));
    assert!(check(&policy, &first).allowed);
    assert!(check(&policy, &first).allowed);
    assert!(!check(&policy, &first).allowed);
    assert!(check(&policy, &second).allowed);
    let mut headers = HeaderMap::new();
    check(&policy, &second).decorate(&mut headers);
    assert_eq!(headers["ratelimit-limit"], "2");
    assert_eq!(headers["ratelimit-remaining"], "0");
    assert_eq!(headers["ratelimit-reset"], "7200");
}

#[test]
fn a_zero_burst_is_refused() {
    assert!(RateLimitPolicy::new(
        "1/second",
        Some(0),
        RateLimitKey::Ip,
        TrustedProxies::default()
    )
    .is_err());
}
