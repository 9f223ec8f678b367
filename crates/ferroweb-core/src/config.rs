//! Server settings with safe defaults; every limit and timeout is on unless set to `None`.

use std::fmt;
use std::time::Duration;

/// Settings of one server process. The defaults are what production wants: limits and
/// timeouts on, sized so that normal clients never hit them.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerConfig {
    pub host: String,
    pub port: u16,
    /// Tokio worker threads in this process.
    pub runtime_threads: usize,
    /// Listen backlog of the socket.
    pub backlog: u32,
    /// How long an idle keep-alive connection stays open between requests.
    pub keep_alive_timeout: Option<Duration>,
    /// How long a client may take to send a complete request head.
    pub header_read_timeout: Option<Duration>,
    /// Largest accepted request head (request line plus headers), in bytes.
    pub max_header_size: usize,
    /// Largest accepted request body, in bytes; enforced while reading.
    pub max_body_size: Option<u64>,
    /// How long in-flight requests may run after shutdown starts.
    pub shutdown_timeout: Duration,
    /// Bind with SO_REUSEPORT so several worker processes share the port. Off for a single
    /// process, so a second server on a taken port fails instead of silently sharing it.
    pub reuse_port: bool,
    pub websocket: WebSocketSettings,
}

/// Limits of WebSocket connections.
#[derive(Clone, Debug, PartialEq)]
pub struct WebSocketSettings {
    /// Largest message (after reassembling fragments), in bytes; larger ones close the
    /// connection with 1009.
    pub max_message_size: usize,
    /// A connection that receives nothing at all (not even a pong) for this long is closed
    /// with 1001.
    pub idle_timeout: Option<Duration>,
    /// How often the server pings, so live but quiet peers answer and stay open.
    pub ping_interval: Option<Duration>,
    /// Messages a handler may queue for sending before `send` waits for the socket.
    pub send_queue: usize,
}

impl Default for WebSocketSettings {
    fn default() -> Self {
        Self {
            max_message_size: 16 * 1024 * 1024,
            idle_timeout: Some(Duration::from_secs(60)),
            ping_interval: Some(Duration::from_secs(20)),
            send_queue: 64,
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".to_owned(),
            port: 8000,
            runtime_threads: 1,
            backlog: 1024,
            keep_alive_timeout: Some(Duration::from_secs(5)),
            header_read_timeout: Some(Duration::from_secs(30)),
            max_header_size: 16 * 1024,
            max_body_size: Some(10 * 1024 * 1024),
            shutdown_timeout: Duration::from_secs(30),
            reuse_port: false,
            websocket: WebSocketSettings::default(),
        }
    }
}

/// A setting that cannot work, found before anything is started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub field: &'static str,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid ServerConfig.{}: {}", self.field, self.message)
    }
}

impl std::error::Error for ConfigError {}

impl ServerConfig {
    /// Rejects settings that would make the server unusable instead of failing later.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let err = |field, message: &str| {
            Err(ConfigError {
                field,
                message: message.to_owned(),
            })
        };
        if self.host.trim().is_empty() {
            return err("host", "must not be empty");
        }
        if self.runtime_threads == 0 || self.runtime_threads > 1024 {
            return err("runtime_threads", "must be between 1 and 1024");
        }
        if self.backlog == 0 {
            return err("backlog", "must be at least 1");
        }
        // hyper needs room for at least a request line and a few headers.
        if self.max_header_size < 1024 {
            return err("max_header_size", "must be at least 1024 bytes");
        }
        if self.websocket.max_message_size == 0 {
            return err("websocket_max_message_size", "must be at least 1 byte");
        }
        if self.websocket.send_queue == 0 {
            return err("websocket_send_queue", "must be at least 1");
        }
        for (field, value) in [
            ("keep_alive_timeout", self.keep_alive_timeout),
            ("header_read_timeout", self.header_read_timeout),
            ("websocket_idle_timeout", self.websocket.idle_timeout),
            ("websocket_ping_interval", self.websocket.ping_interval),
        ] {
            if value == Some(Duration::ZERO) {
                return err(field, "must be positive (use None to disable)");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
