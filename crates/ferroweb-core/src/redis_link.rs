//! One Redis server as the core's stores use it (rate limits, sessions): a lazily made,
//! self-reconnecting connection, calls bounded by a timeout, and a pause after a failure so
//! that an unreachable Redis costs one timeout, not one per request.
//!
//! The connection belongs to the runtime that made it: after a failure it is made again on
//! the next use (a test client's runtime may have gone meanwhile).

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// How long a failing server is left alone before it is tried again.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(1);
/// At most one log line per this interval while the server keeps failing.
const LOG_EVERY: Duration = Duration::from_secs(60);

/// The zero of the failure clock.
static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);

fn millis_since_epoch() -> u64 {
    u64::try_from(EPOCH.elapsed().as_millis()).unwrap_or(u64::MAX)
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Redis could not answer (down, unreachable, too slow, or an unexpected reply).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unavailable;

pub(crate) struct RedisLink {
    client: redis::Client,
    /// What this link serves, for log lines.
    purpose: &'static str,
    timeout: Duration,
    connection: Mutex<Option<ConnectionManager>>,
    down_until: AtomicU64,
    last_logged: AtomicU64,
}

impl RedisLink {
    /// Checks the URL; nothing is connected until the first call.
    pub(crate) fn new(url: &str, timeout: Duration, purpose: &'static str) -> Result<Self, String> {
        let client = redis::Client::open(url)
            .map_err(|err| format!("store {url:?} is not a usable redis:// URL: {err}"))?;
        if timeout.is_zero() {
            return Err("the store timeout must be positive".to_owned());
        }
        Ok(Self {
            client,
            purpose,
            timeout,
            connection: Mutex::new(None),
            down_until: AtomicU64::new(0),
            last_logged: AtomicU64::new(0),
        })
    }

    fn connection(&self) -> Result<ConnectionManager, Unavailable> {
        let mut slot = self.connection.lock();
        if let Some(connection) = slot.as_ref() {
            return Ok(connection.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(1);
        match ConnectionManager::new_lazy_with_config(self.client.clone(), config) {
            Ok(connection) => {
                *slot = Some(connection.clone());
                Ok(connection)
            }
            Err(err) => {
                drop(slot);
                Err(self.failed(&err.to_string()))
            }
        }
    }

    /// Marks the server down for a while, forgets the connection and logs (now and then).
    fn failed(&self, reason: &str) -> Unavailable {
        let now = millis_since_epoch();
        self.down_until
            .store(now + millis(RETRY_AFTER_FAILURE), Ordering::Relaxed);
        *self.connection.lock() = None;
        let last = self.last_logged.load(Ordering::Relaxed);
        let due = last == 0 || now.saturating_sub(last) >= millis(LOG_EVERY);
        if due
            && self
                .last_logged
                .compare_exchange(last, now.max(1), Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(purpose = self.purpose, %reason, "redis store unavailable");
        }
        Unavailable
    }

    /// Runs `call` on the connection within the timeout.
    pub(crate) async fn run<T, F, Fut>(&self, call: F) -> Result<T, Unavailable>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        if millis_since_epoch() < self.down_until.load(Ordering::Relaxed) {
            return Err(Unavailable);
        }
        let connection = self.connection()?;
        match tokio::time::timeout(self.timeout, call(connection)).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(err)) => Err(self.failed(&err.to_string())),
            Err(_) => Err(self.failed("timed out")),
        }
    }

    /// Reports an answer that made no sense as a failure.
    pub(crate) fn unexpected(&self, what: &str) -> Unavailable {
        self.failed(what)
    }
}
