//! Reads the Python `ServerConfig` (declared in Python) into the core's settings.

use std::time::Duration;

use ferroweb_core::{ServerConfig, WebSocketSettings};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// Seconds as a float (or None) into a duration; negative and non-finite values are refused.
fn seconds(config: &Bound<'_, PyAny>, field: &str) -> PyResult<Option<Duration>> {
    let value: Option<f64> = config.getattr(field)?.extract()?;
    value
        .map(|secs| {
            Duration::try_from_secs_f64(secs).map_err(|_| {
                PyValueError::new_err(format!(
                    "ServerConfig.{field} must be a non-negative number of seconds, got {secs}"
                ))
            })
        })
        .transpose()
}

pub(crate) fn server_config(config: &Bound<'_, PyAny>) -> PyResult<ServerConfig> {
    let parsed = ServerConfig {
        host: config.getattr("host")?.extract()?,
        port: config.getattr("port")?.extract()?,
        runtime_threads: config.getattr("runtime_threads")?.extract()?,
        backlog: config.getattr("backlog")?.extract()?,
        keep_alive_timeout: seconds(config, "keep_alive_timeout")?,
        header_read_timeout: seconds(config, "header_read_timeout")?,
        max_header_size: config.getattr("max_header_size")?.extract()?,
        max_body_size: config.getattr("max_body_size")?.extract()?,
        shutdown_timeout: seconds(config, "shutdown_timeout")?.unwrap_or(Duration::ZERO),
        // Each of several workers binds the same port.
        reuse_port: config.getattr("workers")?.extract::<usize>()? > 1,
        websocket: WebSocketSettings {
            max_message_size: config.getattr("websocket_max_message_size")?.extract()?,
            idle_timeout: seconds(config, "websocket_idle_timeout")?,
            ping_interval: seconds(config, "websocket_ping_interval")?,
            send_queue: config.getattr("websocket_send_queue")?.extract()?,
        },
    };
    parsed
        .validate()
        .map_err(|err| PyValueError::new_err(err.to_string()))?;
    Ok(parsed)
}
