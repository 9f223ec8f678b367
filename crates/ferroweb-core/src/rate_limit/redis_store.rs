//! A rate limit shared by every process (and machine) that points at the same Redis: the
//! same GCRA as the in-memory store, as one atomic Lua script per check.
//!
//! The script reads Redis's own clock (`TIME`), so machines whose clocks disagree still share
//! one consistent limit.

use std::sync::LazyLock;
use std::time::Duration;

use super::{Decision, RateLimitError};
use crate::redis_link::{RedisLink, Unavailable};

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

pub(crate) struct RedisStore {
    link: RedisLink,
    /// Every key of this limit starts with it, so limits never share counters by accident.
    namespace: String,
}

impl RedisStore {
    pub(crate) fn new(
        url: &str,
        namespace: &str,
        timeout: Duration,
    ) -> Result<Self, RateLimitError> {
        Ok(Self {
            link: RedisLink::new(url, timeout, "rate limit").map_err(RateLimitError)?,
            namespace: namespace.to_owned(),
        })
    }

    pub(crate) async fn check(
        &self,
        key: &str,
        limit: u32,
        interval: Duration,
    ) -> Result<Decision, Unavailable> {
        let emission = u64::try_from(interval.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        let key = format!("{}:{key}", self.namespace);
        let answer: Vec<i64> = self
            .link
            .run(|mut connection| async move {
                let mut call = SCRIPT.prepare_invoke();
                call.key(key).arg(emission).arg(limit);
                call.invoke_async(&mut connection).await
            })
            .await?;
        let [allowed, remaining, until_full, until_next] = answer[..] else {
            return Err(self
                .link
                .unexpected("unexpected answer from the GCRA script"));
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
