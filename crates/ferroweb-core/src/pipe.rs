//! A bounded queue between async Rust code and a language binding.
//!
//! The binding's thread cannot await Rust futures, so each side can wait in one of two ways:
//! async Rust registers a [`Waker`], the binding registers a callback (typically one that
//! queues a token for its event loop). The queue is bounded by item count and by bytes, so a
//! slow consumer pushes back on the producer instead of growing memory; a producer that is
//! refused waits until the consumer has drained to half of a limit (low-water mark), so a
//! refill costs one wake-up per half buffer, not one per item.

use std::collections::VecDeque;
use std::task::{Context, Poll, Waker};

use parking_lot::Mutex;

/// A callback run once, on whichever thread makes the awaited condition true.
pub type Wakeup = Box<dyn FnOnce() + Send>;

enum Waiter {
    Task(Waker),
    Callback(Wakeup),
}

impl Waiter {
    fn notify(self) {
        match self {
            Self::Task(waker) => waker.wake(),
            Self::Callback(callback) => callback(),
        }
    }
}

/// How much a pipe may hold. At least one item always fits, however large.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    pub items: usize,
    pub bytes: usize,
}

struct State<T> {
    items: VecDeque<(T, usize)>,
    bytes: usize,
    /// The producer will push nothing more.
    ended: bool,
    /// The consumer is gone; pushes are refused and queued items were dropped.
    receiver_gone: bool,
    on_readable: Option<Waiter>,
    on_writable: Option<Waiter>,
}

impl<T> State<T> {
    fn has_room(&self, limits: Limits) -> bool {
        self.items.is_empty() || (self.items.len() < limits.items && self.bytes < limits.bytes)
    }

    fn below_low_water(&self, limits: Limits) -> bool {
        self.items.len() <= limits.items / 2 && self.bytes <= limits.bytes / 2
    }
}

pub(crate) enum Push<T> {
    Pushed,
    /// No room: the item is handed back; wait with `when_writable` and retry.
    Full(T),
    /// The consumer is gone or the pipe was ended: the item is handed back.
    Closed(T),
}

pub(crate) enum Pop<T> {
    Item(T),
    Empty,
    /// The producer ended the pipe and everything was consumed.
    Ended,
}

pub(crate) struct Pipe<T> {
    state: Mutex<State<T>>,
    limits: Limits,
}

impl<T> Pipe<T> {
    pub(crate) fn new(limits: Limits) -> Self {
        Self {
            state: Mutex::new(State {
                items: VecDeque::new(),
                bytes: 0,
                ended: false,
                receiver_gone: false,
                on_readable: None,
                on_writable: None,
            }),
            limits,
        }
    }

    pub(crate) fn push(&self, item: T, weight: usize) -> Push<T> {
        let waiter = {
            let mut state = self.state.lock();
            if state.receiver_gone || state.ended {
                return Push::Closed(item);
            }
            if !state.has_room(self.limits) {
                return Push::Full(item);
            }
            state.items.push_back((item, weight));
            state.bytes += weight;
            state.on_readable.take()
        };
        if let Some(waiter) = waiter {
            waiter.notify();
        }
        Push::Pushed
    }

    /// Pushes a last item whatever the limits (an end-of-stream marker), then ends the pipe.
    pub(crate) fn push_last(&self, item: T) -> bool {
        let waiter = {
            let mut state = self.state.lock();
            if state.receiver_gone || state.ended {
                return false;
            }
            state.items.push_back((item, 0));
            state.ended = true;
            state.on_readable.take()
        };
        if let Some(waiter) = waiter {
            waiter.notify();
        }
        true
    }

    pub(crate) fn pop(&self) -> Pop<T> {
        self.pop_or_register(None)
    }

    /// Pops an item, or registers the task to be woken when one arrives.
    pub(crate) fn poll_pop(&self, cx: &mut Context<'_>) -> Poll<Pop<T>> {
        match self.pop_or_register(Some(cx.waker())) {
            Pop::Empty => Poll::Pending,
            other => Poll::Ready(other),
        }
    }

    fn pop_or_register(&self, waker: Option<&Waker>) -> Pop<T> {
        let (popped, waiter) = {
            let mut state = self.state.lock();
            match state.items.pop_front() {
                Some((item, weight)) => {
                    state.bytes -= weight;
                    let waiter = if state.below_low_water(self.limits) {
                        state.on_writable.take()
                    } else {
                        None
                    };
                    (Pop::Item(item), waiter)
                }
                None if state.ended => (Pop::Ended, None),
                None => {
                    if let Some(waker) = waker {
                        state.on_readable = Some(Waiter::Task(waker.clone()));
                    }
                    (Pop::Empty, None)
                }
            }
        };
        if let Some(waiter) = waiter {
            waiter.notify();
        }
        popped
    }

    /// Ready with `true` when a push would be accepted, `false` when the consumer is gone.
    pub(crate) fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<bool> {
        let mut state = self.state.lock();
        if state.receiver_gone || state.ended {
            return Poll::Ready(false);
        }
        if state.has_room(self.limits) {
            return Poll::Ready(true);
        }
        state.on_writable = Some(Waiter::Task(cx.waker().clone()));
        Poll::Pending
    }

    /// Runs `callback` once an item or the end is there (at once if it already is).
    pub(crate) fn when_readable(&self, callback: Wakeup) {
        let mut state = self.state.lock();
        if !state.items.is_empty() || state.ended {
            drop(state);
            callback();
        } else {
            state.on_readable = Some(Waiter::Callback(callback));
        }
    }

    /// Runs `callback` once there is room or the consumer is gone (at once if so already).
    pub(crate) fn when_writable(&self, callback: Wakeup) {
        let mut state = self.state.lock();
        if state.receiver_gone || state.ended || state.below_low_water(self.limits) {
            drop(state);
            callback();
        } else {
            state.on_writable = Some(Waiter::Callback(callback));
        }
    }

    /// The producer is done; the consumer sees `Ended` after the queued items.
    pub(crate) fn end(&self) {
        let waiter = {
            let mut state = self.state.lock();
            state.ended = true;
            state.on_readable.take()
        };
        if let Some(waiter) = waiter {
            waiter.notify();
        }
    }

    /// The consumer is gone: queued items are dropped and a waiting producer is woken.
    pub(crate) fn close_receiver(&self) {
        let (waiter, dropped) = {
            let mut state = self.state.lock();
            state.receiver_gone = true;
            state.bytes = 0;
            (state.on_writable.take(), std::mem::take(&mut state.items))
        };
        // Items may own foreign objects; drop them outside the lock.
        drop(dropped);
        if let Some(waiter) = waiter {
            waiter.notify();
        }
    }

    pub(crate) fn is_receiver_gone(&self) -> bool {
        self.state.lock().receiver_gone
    }

    pub(crate) fn is_ended(&self) -> bool {
        self.state.lock().ended
    }
}

#[cfg(test)]
mod tests;
