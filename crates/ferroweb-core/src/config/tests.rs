use super::*;

#[test]
fn defaults_are_valid_and_limited() {
    let config = ServerConfig::default();
    assert!(config.validate().is_ok());
    assert_eq!(config.max_body_size, Some(10 * 1024 * 1024));
    assert!(config.keep_alive_timeout.is_some());
    assert!(config.header_read_timeout.is_some());
}

#[test]
fn rejects_unusable_values() {
    let cases = [
        ServerConfig {
            runtime_threads: 0,
            ..ServerConfig::default()
        },
        ServerConfig {
            max_header_size: 10,
            ..ServerConfig::default()
        },
        ServerConfig {
            keep_alive_timeout: Some(Duration::ZERO),
            ..ServerConfig::default()
        },
        ServerConfig {
            host: " ".into(),
            ..ServerConfig::default()
        },
    ];
    let fields: Vec<_> = cases
        .iter()
        .map(|c| c.validate().map_err(|e| e.field))
        .collect();
    assert_eq!(
        fields,
        vec![
            Err("runtime_threads"),
            Err("max_header_size"),
            Err("keep_alive_timeout"),
            Err("host")
        ]
    );
}
