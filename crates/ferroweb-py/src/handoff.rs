//! The state shared by tokio threads and the Python event loop: the batch of requests waiting
//! for Python, the tokens of completed waits, and the wake-up of the loop.
//!
//! Tokio threads push requests into a mutex-guarded batch; when a runtime thread runs out of
//! work (or the batch grows large) the event loop is woken through a socket pair
//! ([`LoopWaker`]: at most one unread byte). The event loop watches the other end
//! (`loop.add_reader`) and takes the whole batch in one call (`RequestQueue.drain`). No tokio
//! thread ever takes the GIL, and the loop is woken once per batch, not once per request:
//! waking it per request would make the two threads preempt each other for every request.

use std::sync::atomic::{AtomicBool, Ordering};

use ferroweb_core::{Dispatch, LoopWaker, PendingRequest};
use parking_lot::Mutex;

pub(crate) struct Handoff {
    batch: Mutex<Vec<PendingRequest>>,
    /// Tokens of waits that completed (a stream has room, a WebSocket message arrived...),
    /// handed to the event loop with the next batch.
    events: Mutex<Vec<u64>>,
    accepting: AtomicBool,
    wake_pending: AtomicBool,
    server_stopped: AtomicBool,
    server_drained: AtomicBool,
    waker: LoopWaker,
}

/// A batch this large wakes the event loop at once instead of waiting for the runtime to idle,
/// so a runtime that never runs out of work cannot starve the handlers.
const IMMEDIATE_WAKE_BATCH: usize = 64;

impl Handoff {
    pub(crate) fn new() -> std::io::Result<Self> {
        Ok(Self {
            batch: Mutex::new(Vec::new()),
            events: Mutex::new(Vec::new()),
            accepting: AtomicBool::new(true),
            wake_pending: AtomicBool::new(false),
            server_stopped: AtomicBool::new(false),
            server_drained: AtomicBool::new(false),
            waker: LoopWaker::new()?,
        })
    }

    /// Reports that the wait registered under `token` is over. Callable from any thread,
    /// without the GIL; the wake-up is batched like requests are.
    pub(crate) fn notify(&self, token: u64) {
        self.events.lock().push(token);
        self.wake_pending.store(true, Ordering::Release);
        // A runtime thread wakes the loop when it idles; other threads (the binding's own)
        // must not rely on that.
        if tokio::runtime::Handle::try_current().is_err() {
            self.runtime_idle();
        }
    }

    pub(crate) fn mark_server_stopped(&self, drained: bool) {
        self.server_drained.store(drained, Ordering::SeqCst);
        self.server_stopped.store(true, Ordering::SeqCst);
        self.waker.wake();
    }

    pub(crate) fn fileno(&self) -> i32 {
        self.waker.fileno()
    }

    /// The tokens of completed waits and every queued request. Clears the wake-up first, so
    /// anything queued while draining triggers another wake-up instead of being missed.
    pub(crate) fn take(&self) -> (Vec<u64>, Vec<PendingRequest>) {
        self.waker.clear();
        let events = std::mem::take(&mut *self.events.lock());
        let batch = std::mem::take(&mut *self.batch.lock());
        (events, batch)
    }

    pub(crate) fn stop_accepting(&self) {
        self.accepting.store(false, Ordering::Release);
    }

    pub(crate) fn server_stopped(&self) -> bool {
        self.server_stopped.load(Ordering::SeqCst)
    }

    pub(crate) fn server_drained(&self) -> bool {
        self.server_drained.load(Ordering::SeqCst)
    }
}

impl Dispatch for Handoff {
    fn dispatch(&self, request: PendingRequest) -> Result<(), Box<PendingRequest>> {
        if !self.accepting.load(Ordering::Acquire) {
            return Err(Box::new(request));
        }
        let queued = {
            let mut batch = self.batch.lock();
            batch.push(request);
            batch.len()
        };
        if queued >= IMMEDIATE_WAKE_BATCH {
            self.wake_pending.store(false, Ordering::Release);
            self.waker.wake();
        } else {
            // Woken in `runtime_idle`, once this runtime tick has queued all it will.
            self.wake_pending.store(true, Ordering::Release);
        }
        Ok(())
    }

    fn runtime_idle(&self) {
        if self.wake_pending.swap(false, Ordering::AcqRel) {
            self.waker.wake();
        }
    }
}
