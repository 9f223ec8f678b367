//! Reads the Python `ServerConfig` (declared in Python) into the core's settings. The rules
//! live in the core ([`ServerConfig::validate`]); Python calls `check_server_config` when a
//! config is made, so a bad value fails there, with the core's message.

use std::time::Duration;

use ferroweb_core::{ServerConfig, WebSocketSettings};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// One field, or a ValueError naming it and what it must be.
fn field<'py, T>(config: &Bound<'py, PyAny>, name: &str, expected: &str) -> PyResult<T>
where
    T: for<'a> FromPyObject<'a, 'py>,
{
    let value = config.getattr(name)?;
    value.extract::<T>().map_err(|_| {
        let shown = value
            .repr()
            .map(|repr| repr.to_string())
            .unwrap_or_else(|_| "?".to_owned());
        PyValueError::new_err(format!(
            "ServerConfig.{name} must be {expected}, got {shown}"
        ))
    })
}

/// Seconds as a float (or None) into a duration; negative and non-finite values are refused.
fn seconds(config: &Bound<'_, PyAny>, name: &str) -> PyResult<Option<Duration>> {
    const EXPECTED: &str = "a non-negative number of seconds";
    let value: Option<f64> = field(config, name, EXPECTED)?;
    value
        .map(|secs| {
            Duration::try_from_secs_f64(secs).map_err(|_| {
                PyValueError::new_err(format!(
                    "ServerConfig.{name} must be {EXPECTED}, got {secs}"
                ))
            })
        })
        .transpose()
}

pub(crate) fn server_config(config: &Bound<'_, PyAny>) -> PyResult<ServerConfig> {
    const COUNT: &str = "a positive integer";
    let parsed = ServerConfig {
        host: field(config, "host", "a host name or address (str)")?,
        port: field(config, "port", "an integer in 0..65535")?,
        runtime_threads: field(config, "runtime_threads", COUNT)?,
        backlog: field(config, "backlog", COUNT)?,
        keep_alive_timeout: seconds(config, "keep_alive_timeout")?,
        header_read_timeout: seconds(config, "header_read_timeout")?,
        max_header_size: field(config, "max_header_size", COUNT)?,
        max_body_size: field(config, "max_body_size", "a size in bytes >= 0, or None")?,
        shutdown_timeout: seconds(config, "shutdown_timeout")?.unwrap_or(Duration::ZERO),
        // Each of several workers binds the same port.
        reuse_port: field::<usize>(config, "workers", COUNT)? > 1,
        websocket: WebSocketSettings {
            max_message_size: field(config, "websocket_max_message_size", COUNT)?,
            idle_timeout: seconds(config, "websocket_idle_timeout")?,
            ping_interval: seconds(config, "websocket_ping_interval")?,
            send_queue: field(config, "websocket_send_queue", COUNT)?,
        },
    };
    parsed
        .validate()
        .map_err(|err| PyValueError::new_err(err.to_string()))?;
    Ok(parsed)
}

/// Checks the settings the core enforces; raises ValueError naming the first bad field.
#[pyfunction]
fn check_server_config(config: &Bound<'_, PyAny>) -> PyResult<()> {
    server_config(config).map(drop)
}

pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(check_server_config, module)?)
}
