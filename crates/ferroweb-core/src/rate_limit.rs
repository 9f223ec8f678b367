//! Rate limiting: GCRA (the generic cell rate algorithm) per client key, in memory with the
//! governor crate, or in Redis for a limit shared by every worker and machine.
//!
//! A limit of `N/period` lets a request through every `period / N` on average, with bursts
//! of up to `burst` (default `N`) at once. Every response of a limited route says where the
//! client stands: `RateLimit-Limit` (the burst), `RateLimit-Remaining` (requests that would
//! pass right now) and `RateLimit-Reset` (seconds until the full burst is available again);
//! a refusal is 429 problem+json with `Retry-After`.

mod client_key;
mod redis_store;

use std::fmt;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::body::Body;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use http::{HeaderMap, HeaderName, HeaderValue, Request, Response, StatusCode};

pub use client_key::{RateLimitKey, TrustedProxies};

use crate::problem::Problem;
use redis_store::RedisStore;

/// How often (in checks) keys whose state is back to "full burst" are forgotten: the memory
/// held is bounded by the clients active within one burst's replenish time.
const FORGET_EVERY: u64 = 4096;

const LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
const REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
const RESET: HeaderName = HeaderName::from_static("ratelimit-reset");

/// A rate-limit declaration that cannot work; raised at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitError(pub(crate) String);

impl fmt::Display for RateLimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RateLimitError {}

/// `"10/second"`, `"100/minute"`, `"5000/hour"`, `"1/day"` (also `s`, `m`, `h`, `d`, plurals,
/// and a count of units: `"30/5 minutes"`) as a request count and a period.
pub fn parse_rate(text: &str) -> Result<(NonZeroU32, Duration), RateLimitError> {
    let invalid = || {
        RateLimitError(format!(
            "invalid rate {text:?}; write it as \"<count>/<unit>\", e.g. \"10/second\" or \"100/minute\""
        ))
    };
    let (count, period) = text.split_once('/').ok_or_else(invalid)?;
    let count: NonZeroU32 = count.trim().parse().map_err(|_| invalid())?;
    let period = period.trim();
    let (units, unit) = match period.split_once(char::is_whitespace) {
        Some((units, unit)) => (units.parse::<u64>().map_err(|_| invalid())?, unit.trim()),
        None => (1, period),
    };
    let seconds = match unit.to_ascii_lowercase().as_str() {
        "s" | "sec" | "second" | "seconds" => 1,
        "m" | "min" | "minute" | "minutes" => 60,
        "h" | "hour" | "hours" => 3600,
        "d" | "day" | "days" => 86_400,
        _ => return Err(invalid()),
    };
    if units == 0 {
        return Err(invalid());
    }
    Ok((count, Duration::from_secs(seconds * units)))
}

/// Where a request stands against its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Until the full burst is available again.
    pub reset: Duration,
    /// Until the next request would pass (refusals only).
    pub retry_after: Duration,
}

/// A duration as the whole seconds the rate-limit headers carry (rounded up).
pub fn whole_seconds(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

impl Decision {
    pub(crate) fn decorate(&self, headers: &mut HeaderMap) {
        headers.insert(LIMIT, HeaderValue::from(self.limit));
        headers.insert(REMAINING, HeaderValue::from(self.remaining));
        headers.insert(RESET, HeaderValue::from(whole_seconds(self.reset)));
    }

    pub(crate) fn refusal(&self, path: &str) -> Response<Body> {
        let retry = whole_seconds(self.retry_after).max(1);
        let mut response = Problem::new(StatusCode::TOO_MANY_REQUESTS)
            .with_detail(format!("rate limit exceeded; retry in {retry} s"))
            .with_instance(path)
            .into_response();
        let headers = response.headers_mut();
        headers.insert(http::header::RETRY_AFTER, HeaderValue::from(retry));
        self.decorate(headers);
        response
    }
}

type KeyedLimiter =
    RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

/// The in-memory store: one GCRA state per key.
struct MemoryStore {
    limiter: KeyedLimiter,
    checks: AtomicU64,
}

impl MemoryStore {
    fn check(&self, key: &String, limit: u32, interval: Duration) -> Decision {
        if self.checks.fetch_add(1, Ordering::Relaxed) % FORGET_EVERY == FORGET_EVERY - 1 {
            self.limiter.retain_recent();
        }
        match self.limiter.check_key(key) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                Decision {
                    allowed: true,
                    limit,
                    remaining,
                    reset: interval * (limit - remaining.min(limit)),
                    retry_after: Duration::ZERO,
                }
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.limiter.clock().now());
                Decision {
                    allowed: false,
                    limit,
                    remaining: 0,
                    reset: wait + interval * (limit - 1),
                    retry_after: wait,
                }
            }
        }
    }
}

/// Where the counters live.
enum Store {
    Memory(MemoryStore),
    Redis {
        store: RedisStore,
        /// An unreachable store lets requests through (true) or answers 503 (false).
        fail_open: bool,
    },
}

/// The outcome of counting one request.
pub(crate) enum Verdict {
    Counted(Decision),
    /// The store could not answer: the request passes, uncounted (fail open), or is refused
    /// with this response.
    Unavailable(Option<Response<Body>>),
}

fn store_unavailable(path: &str) -> Response<Body> {
    let mut response = Problem::new(StatusCode::SERVICE_UNAVAILABLE)
        .with_detail("the rate limit store is unavailable")
        .with_instance(path)
        .into_response();
    response
        .headers_mut()
        .insert(http::header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

/// A route's rate limit.
pub struct RateLimitPolicy {
    /// The burst: how many requests may pass at once from a full state.
    limit: u32,
    /// One request's worth of replenishment.
    interval: Duration,
    key: RateLimitKey,
    proxies: TrustedProxies,
    store: Store,
}

impl fmt::Debug for RateLimitPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimitPolicy")
            .field("limit", &self.limit)
            .field("interval", &self.interval)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl RateLimitPolicy {
    /// `rate` as [`parse_rate`] reads it; `burst` defaults to the rate's count.
    pub fn new(
        rate: &str,
        burst: Option<u32>,
        key: RateLimitKey,
        proxies: TrustedProxies,
    ) -> Result<Self, RateLimitError> {
        let (count, period) = parse_rate(rate)?;
        let burst = match burst {
            Some(burst) => NonZeroU32::new(burst)
                .ok_or_else(|| RateLimitError("burst must be at least 1".to_owned()))?,
            None => count,
        };
        let interval = period / count.get();
        let quota = Quota::with_period(interval)
            .ok_or_else(|| RateLimitError(format!("rate {rate:?} is too fast to measure")))?
            .allow_burst(burst);
        Ok(Self {
            limit: burst.get(),
            interval,
            key,
            proxies,
            store: Store::Memory(MemoryStore {
                limiter: RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>(),
                checks: AtomicU64::new(0),
            }),
        })
    }

    /// Keeps the counters in Redis at `url` instead, under keys starting with `namespace`;
    /// each call to Redis is bounded by `timeout`.
    pub fn with_redis_store(
        mut self,
        url: &str,
        namespace: &str,
        timeout: Duration,
        fail_open: bool,
    ) -> Result<Self, RateLimitError> {
        self.store = Store::Redis {
            store: RedisStore::new(url, namespace, timeout)?,
            fail_open,
        };
        Ok(self)
    }

    /// Whether the key is the authenticated subject, so authentication must run first.
    pub(crate) fn keys_by_subject(&self) -> bool {
        matches!(self.key, RateLimitKey::Subject)
    }

    /// Counts one request of a key the binding worked out itself (a key function), with the
    /// in-memory store; None for a Redis store, which cannot answer without waiting.
    pub fn count_now(&self, key: &str) -> Option<Decision> {
        match &self.store {
            Store::Memory(store) => Some(store.check(&key.to_owned(), self.limit, self.interval)),
            Store::Redis { .. } => None,
        }
    }

    /// The client `request` counts against.
    pub(crate) fn key_of<B>(&self, request: &Request<B>) -> String {
        self.key.of(request, &self.proxies)
    }

    /// Counts one request of `key` (a request for `path`) against its limit.
    pub(crate) async fn check(&self, key: &String, path: &str) -> Verdict {
        match &self.store {
            Store::Memory(store) => Verdict::Counted(store.check(key, self.limit, self.interval)),
            Store::Redis { store, fail_open } => {
                match store.check(key, self.limit, self.interval).await {
                    Ok(decision) => Verdict::Counted(decision),
                    Err(_) if *fail_open => Verdict::Unavailable(None),
                    Err(_) => Verdict::Unavailable(Some(store_unavailable(path))),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
