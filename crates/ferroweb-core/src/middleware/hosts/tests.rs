use super::*;

#[test]
fn host_values() {
    for valid in [
        "example.com",
        "example.com:8080",
        "[::1]:80",
        "127.0.0.1",
        "A.Example",
        "[2001:db8::1]",
        "[fe80::1%25eth0]:443",
        "my_host.local:65535",
    ] {
        assert!(
            parse_host(&HeaderValue::from_static(valid)).is_some(),
            "{valid}"
        );
    }
    for invalid in [
        "",
        "a b",
        "user@host",
        "host:",
        "host:99999",
        "a/b",
        "host:port",
        "host:-1",
        "host:1:2",
        "[::1",
        "[]",
        "[::1]x",
        "exa\"mple.com",
        "host:65536",
    ] {
        assert!(
            parse_host(&HeaderValue::from_static(invalid)).is_none(),
            "{invalid}"
        );
    }
    assert_eq!(
        parse_host(&HeaderValue::from_static("A.Example:1")).as_deref(),
        Some("a.example")
    );
}

#[test]
fn patterns() {
    let hosts = TrustedHosts::new(
        &["Example.com".to_owned(), "*.example.org".to_owned()],
        false,
    )
    .unwrap();
    assert!(hosts.allows("example.com"));
    assert!(hosts.allows("a.b.example.org"));
    assert!(!hosts.allows("example.org"));
    assert!(!hosts.allows("evilexample.com"));
    assert!(TrustedHosts::new(&[], false).is_err());
    assert!(TrustedHosts::new(&["a.*.com".to_owned()], false).is_err());
    assert!(TrustedHosts::new(&["*".to_owned()], false)
        .unwrap()
        .allows("x"));
}
