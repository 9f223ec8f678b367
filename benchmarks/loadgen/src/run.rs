//! What every workload shares: counters, error samples, the warm-up/measure/stop timeline and
//! latency percentiles.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::watch;

/// How many distinct error messages are kept for the report.
const ERROR_SAMPLES: usize = 5;
/// Pause after a failed connection or request, so a refusing server does not make a hot loop.
pub const ERROR_BACKOFF: Duration = Duration::from_millis(10);

/// Counters the workers update and the driver samples.
#[derive(Debug, Default)]
pub struct Shared {
    /// Set between the end of the warm-up and the end of the measurement.
    pub measuring: AtomicBool,
    /// The workload's unit: body bytes, events or echoed messages.
    pub units: AtomicU64,
    /// Completed operations: whole responses (stream), opened streams (sse), connections (ws).
    pub completed: AtomicU64,
    errors: AtomicU64,
    samples: Mutex<Vec<String>>,
}

impl Shared {
    pub fn measuring(&self) -> bool {
        self.measuring.load(Ordering::Relaxed)
    }

    pub fn add_units(&self, count: u64) {
        self.units.fetch_add(count, Ordering::Relaxed);
    }

    pub fn add_completed(&self) {
        self.completed.fetch_add(1, Ordering::Relaxed);
    }

    pub fn error(&self, message: impl Into<String>) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let message = message.into();
        if let Ok(mut samples) = self.samples.lock() {
            if samples.len() < ERROR_SAMPLES && !samples.contains(&message) {
                samples.push(message);
            }
        }
    }

    fn snapshot(&self) -> (u64, u64) {
        (
            self.units.load(Ordering::Relaxed),
            self.completed.load(Ordering::Relaxed),
        )
    }
}

/// What one worker (connection or client) brings back.
#[derive(Debug, Default)]
pub struct WorkerReport {
    /// Latencies (µs) of operations that completed inside the measured window.
    pub latencies_us: Vec<u32>,
    /// Units this worker got inside the measured window.
    pub units: u64,
}

impl WorkerReport {
    /// Counts `count` units, in the shared total and (when measuring) in this worker's share.
    pub fn add_units(&mut self, shared: &Shared, count: u64) {
        shared.add_units(count);
        if shared.measuring() {
            self.units += count;
        }
    }
}

/// How evenly the measured units were spread over the workers.
#[derive(Debug, Serialize, PartialEq)]
pub struct Spread {
    /// Workers that got at least one unit in the window.
    pub served: usize,
    pub min: u64,
    pub median: u64,
    pub max: u64,
}

impl Spread {
    pub fn of(units: &[u64]) -> Self {
        let mut sorted = units.to_vec();
        sorted.sort_unstable();
        Self {
            served: sorted.iter().filter(|&&units| units > 0).count(),
            min: sorted.first().copied().unwrap_or(0),
            median: sorted.get(sorted.len() / 2).copied().unwrap_or(0),
            max: sorted.last().copied().unwrap_or(0),
        }
    }
}

/// The measured window.
#[derive(Debug)]
pub struct Window {
    pub seconds: f64,
    pub units: u64,
    pub completed: u64,
    /// Operations completed during the whole run (warm-up included).
    pub completed_total: u64,
    pub errors: u64,
    pub error_samples: Vec<String>,
    pub latencies_us: Vec<u32>,
    /// Each worker's units in the window.
    pub per_worker: Vec<u64>,
}

/// Tells a worker to stop.
pub type Stop = watch::Receiver<bool>;

/// Runs `workers` for `warmup + duration`, counting only the measured window.
pub async fn drive<W, F>(
    shared: &Arc<Shared>,
    count: usize,
    warmup: Duration,
    duration: Duration,
    mut worker: W,
) -> Window
where
    W: FnMut(usize, Stop) -> F,
    F: Future<Output = WorkerReport> + Send + 'static,
{
    let (stop, stopped) = watch::channel(false);
    let handles: Vec<_> = (0..count)
        .map(|index| tokio::spawn(worker(index, stopped.clone())))
        .collect();
    tokio::time::sleep(warmup).await;
    let (units_before, completed_before) = shared.snapshot();
    shared.measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(duration).await;
    let (units_after, completed_after) = shared.snapshot();
    let seconds = started.elapsed().as_secs_f64();
    shared.measuring.store(false, Ordering::Relaxed);
    stop.send_replace(true);
    let mut latencies_us = Vec::new();
    let mut per_worker = Vec::with_capacity(count);
    for handle in handles {
        match handle.await {
            Ok(report) => {
                latencies_us.extend(report.latencies_us);
                per_worker.push(report.units);
            }
            Err(err) => shared.error(format!("worker failed: {err}")),
        }
    }
    latencies_us.sort_unstable();
    Window {
        seconds,
        units: units_after - units_before,
        completed: completed_after - completed_before,
        completed_total: completed_after,
        errors: shared.errors.load(Ordering::Relaxed),
        error_samples: shared
            .samples
            .lock()
            .map(|samples| samples.clone())
            .unwrap_or_default(),
        latencies_us,
        per_worker,
    }
}

/// Runs `body` until `stop` turns true; `body` normally never returns.
pub async fn until_stopped<F: Future<Output = ()>>(mut stop: Stop, body: F) {
    tokio::select! {
        () = body => {}
        _ = stop.wait_for(|stopped| *stopped) => {}
    }
}

/// Latency percentiles in milliseconds (from sorted microseconds).
#[derive(Debug, Serialize, PartialEq)]
pub struct Latency {
    pub samples: usize,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Latency {
    pub fn from_sorted(sorted_us: &[u32]) -> Option<Self> {
        let last = *sorted_us.last()?;
        let at = |fraction: f64| {
            let rank = (fraction * sorted_us.len() as f64).ceil() as usize;
            let value = sorted_us[rank.clamp(1, sorted_us.len()) - 1];
            round3(f64::from(value) / 1000.0)
        };
        Some(Self {
            samples: sorted_us.len(),
            p50_ms: at(0.50),
            p90_ms: at(0.90),
            p99_ms: at(0.99),
            max_ms: round3(f64::from(last) / 1000.0),
        })
    }
}

/// Microseconds since `start`, saturating.
pub fn micros_since(start: Instant) -> u32 {
    u32::try_from(start.elapsed().as_micros()).unwrap_or(u32::MAX)
}

pub fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles() {
        let sorted: Vec<u32> = (1..=100).map(|ms| ms * 1000).collect();
        let latency = Latency::from_sorted(&sorted).unwrap();
        assert_eq!(latency.samples, 100);
        assert_eq!(
            (
                latency.p50_ms,
                latency.p90_ms,
                latency.p99_ms,
                latency.max_ms
            ),
            (50.0, 90.0, 99.0, 100.0)
        );
        assert_eq!(Latency::from_sorted(&[]), None);
        assert_eq!(Latency::from_sorted(&[1500]).unwrap().p99_ms, 1.5);
    }

    #[test]
    fn spread() {
        let spread = Spread::of(&[5, 0, 9, 1]);
        assert_eq!(
            spread,
            Spread {
                served: 3,
                min: 0,
                median: 5,
                max: 9
            }
        );
        assert_eq!(Spread::of(&[]).served, 0);
    }

    #[test]
    fn error_samples_are_distinct_and_bounded() {
        let shared = Shared::default();
        for index in 0..20 {
            shared.error(format!("e{}", index % 7));
        }
        assert_eq!(shared.errors.load(Ordering::Relaxed), 20);
        assert_eq!(shared.samples.lock().unwrap().len(), ERROR_SAMPLES);
    }
}
