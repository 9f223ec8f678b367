//! A rate limit shared by every process (and machine) that points at the same Redis: the
//! same GCRA as the in-memory store, as one atomic Lua script per check.
//!
//! The script reads Redis's own clock (`TIME`), so machines whose clocks disagree still share
//! one consistent limit. Each call is bounded by a timeout; after a failure the store is not
//! asked again for [`RETRY_AFTER_FAILURE`], so an unreachable Redis costs one timeout, not
//! one per request. The connection belongs to the runtime that made it: after a failure it
//! is made again on the next use (a test client's runtime may have gone meanwhile).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::{Decision, RateLimitError};

/// How long a failing store is left alone before it is tried again.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(1);
/// At most one log line per this interval while the store keeps failing.
const LOG_EVERY: Duration = Duration::from_secs(60);

/// GCRA over a theoretical arrival time (TAT) kept per key, in microseconds of Redis's clock.
/// ARGV: the emission interval T (µs per request) and the burst. Returns
/// `{allowed, remaining, microseconds until full, microseconds until the next pass}`.
const GCRA: &str = r"
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tolerance = interval * (burst - 1)
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local allow_at = tat - tolerance
if now < allow_at then
  return {0, 0, tat - now, allow_at - now}
end
local new_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
return {1, math.floor((now + tolerance - tat) / interval), new_tat - now, 0}
";

static SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(GCRA));
/// The zero of the store's failure clock.
static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);

fn millis_since_epoch() -> u64 {
    u64::try_from(EPOCH.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Why a check could not be answered by the store.
#[derive(Debug)]
pub(crate) struct StoreUnavailable;

pub(crate) struct RedisStore {
    client: redis::Client,
    /// Every key of this limit starts with it, so limits never share counters by accident.
    namespace: String,
    timeout: Duration,
    connection: Mutex<Option<ConnectionManager>>,
    /// Until when (ms on the failure clock) the store is not asked.
    down_until: AtomicU64,
    last_logged: AtomicU64,
}

impl RedisStore {
    pub(crate) fn new(
        url: &str,
        namespace: &str,
        timeout: Duration,
    ) -> Result<Self, RateLimitError> {
        let client = redis::Client::open(url).map_err(|err| {
            RateLimitError(format!("store {url:?} is not a usable redis:// URL: {err}"))
        })?;
        if timeout.is_zero() {
            return Err(RateLimitError(
                "the store timeout must be positive".to_owned(),
            ));
        }
        Ok(Self {
            client,
            namespace: namespace.to_owned(),
            timeout,
            connection: Mutex::new(None),
            down_until: AtomicU64::new(0),
            last_logged: AtomicU64::new(0),
        })
    }

    fn connection(&self) -> Result<ConnectionManager, StoreUnavailable> {
        let mut slot = self.connection.lock();
        if let Some(connection) = slot.as_ref() {
            return Ok(connection.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(1);
        let connection = ConnectionManager::new_lazy_with_config(self.client.clone(), config)
            .map_err(|err| self.failed(&err.to_string()))?;
        *slot = Some(connection.clone());
        Ok(connection)
    }

    /// Marks the store down for a while, forgets the connection and logs (now and then).
    fn failed(&self, reason: &str) -> StoreUnavailable {
        let now = millis_since_epoch();
        self.down_until.store(
            now + u64::try_from(RETRY_AFTER_FAILURE.as_millis()).unwrap_or(1000),
            Ordering::Relaxed,
        );
        *self.connection.lock() = None;
        let last = self.last_logged.load(Ordering::Relaxed);
        let due = last == 0
            || now.saturating_sub(last) >= u64::try_from(LOG_EVERY.as_millis()).unwrap_or(60_000);
        if due
            && self
                .last_logged
                .compare_exchange(last, now.max(1), Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(namespace = %self.namespace, %reason, "rate limit store unavailable");
        }
        StoreUnavailable
    }

    pub(crate) async fn check(
        &self,
        key: &str,
        limit: u32,
        interval: Duration,
    ) -> Result<Decision, StoreUnavailable> {
        if millis_since_epoch() < self.down_until.load(Ordering::Relaxed) {
            return Err(StoreUnavailable);
        }
        let mut connection = self.connection()?;
        let emission = u64::try_from(interval.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        let mut call = SCRIPT.prepare_invoke();
        call.key(format!("{}:{key}", self.namespace))
            .arg(emission)
            .arg(limit);
        let invocation = call.invoke_async::<Vec<i64>>(&mut connection);
        let answer = match tokio::time::timeout(self.timeout, invocation).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(err)) => return Err(self.failed(&err.to_string())),
            Err(_) => return Err(self.failed("timed out")),
        };
        let [allowed, remaining, until_full, until_next] = answer[..] else {
            return Err(self.failed("unexpected answer from the GCRA script"));
        };
        let micros = |value: i64| Duration::from_micros(u64::try_from(value).unwrap_or(0));
        Ok(Decision {
            allowed: allowed == 1,
            limit,
            remaining: u32::try_from(remaining).unwrap_or(0).min(limit),
            reset: micros(until_full),
            retry_after: micros(until_next),
        })
    }
}
