//! The background-task supervisor: a bounded queue of jobs and a concurrency limit.
//!
//! The jobs themselves are the binding's (Python coroutines must run on its event loop), so
//! the supervisor owns the bookkeeping: what is queued, what may start, what is running,
//! and the counters. A full queue refuses at once instead of growing, and shutdown stops
//! admissions, lets the binding drain, then hands back whatever never started so it can be
//! reported as dropped.

use std::collections::VecDeque;

use parking_lot::Mutex;

/// Limits of one supervisor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackgroundLimits {
    /// Jobs waiting to start; more are refused.
    pub max_queue: usize,
    /// Jobs running at once.
    pub max_concurrency: usize,
}

/// Why a job was not taken (it is handed back).
#[derive(Debug, PartialEq, Eq)]
pub enum SubmitError<T> {
    QueueFull(T),
    ShuttingDown(T),
}

/// A snapshot of the counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BackgroundMetrics {
    pub queued: usize,
    pub running: usize,
    pub completed: u64,
    pub failed: u64,
    /// Jobs dropped at shutdown (never started, or cancelled after the drain timeout).
    pub dropped: u64,
}

struct State<T> {
    queue: VecDeque<T>,
    accepting: bool,
    metrics: BackgroundMetrics,
}

pub struct Supervisor<T> {
    state: Mutex<State<T>>,
    limits: BackgroundLimits,
}

impl<T> Supervisor<T> {
    pub fn new(limits: BackgroundLimits) -> Self {
        Self {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                accepting: true,
                metrics: BackgroundMetrics::default(),
            }),
            limits,
        }
    }

    pub fn limits(&self) -> BackgroundLimits {
        self.limits
    }

    pub fn submit(&self, job: T) -> Result<(), SubmitError<T>> {
        let mut state = self.state.lock();
        if !state.accepting {
            return Err(SubmitError::ShuttingDown(job));
        }
        if state.queue.len() >= self.limits.max_queue {
            return Err(SubmitError::QueueFull(job));
        }
        state.queue.push_back(job);
        state.metrics.queued = state.queue.len();
        Ok(())
    }

    /// The queued jobs that may start now (within the concurrency limit), counted as running.
    pub fn start_ready(&self) -> Vec<T> {
        let mut state = self.state.lock();
        let free = self
            .limits
            .max_concurrency
            .saturating_sub(state.metrics.running);
        let count = free.min(state.queue.len());
        let jobs: Vec<T> = state.queue.drain(..count).collect();
        state.metrics.running += jobs.len();
        state.metrics.queued = state.queue.len();
        jobs
    }

    /// A started job ended: completed, failed, or cancelled at shutdown (dropped).
    pub fn finished(&self, outcome: JobOutcome) {
        let mut state = self.state.lock();
        state.metrics.running = state.metrics.running.saturating_sub(1);
        match outcome {
            JobOutcome::Completed => state.metrics.completed += 1,
            JobOutcome::Failed => state.metrics.failed += 1,
            JobOutcome::Cancelled => state.metrics.dropped += 1,
        }
    }

    /// Refuses new jobs from now on (shutdown has begun).
    pub fn stop_accepting(&self) {
        self.state.lock().accepting = false;
    }

    /// Takes the jobs that never started (drain timeout reached); they count as dropped.
    pub fn take_queued(&self) -> Vec<T> {
        let mut state = self.state.lock();
        let jobs: Vec<T> = state.queue.drain(..).collect();
        state.metrics.dropped += jobs.len() as u64;
        state.metrics.queued = 0;
        jobs
    }

    pub fn metrics(&self) -> BackgroundMetrics {
        self.state.lock().metrics
    }

    /// Nothing queued and nothing running.
    pub fn is_idle(&self) -> bool {
        let state = self.state.lock();
        state.queue.is_empty() && state.metrics.running == 0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobOutcome {
    Completed,
    Failed,
    Cancelled,
}

#[cfg(test)]
mod tests;
