//! Streamed response bodies: the binding writes chunks as its generator produces them, hyper
//! sends each as soon as it is there (chunked transfer encoding).
//!
//! The chunks go through a bounded [`Pipe`], so a slow client pushes back on the generator:
//! the binding is told "full" and waits for a wake-up instead of buffering. When the client
//! goes away hyper drops the body, which closes the pipe; the binding hears of it through
//! [`BodyWriter::when_closed`] (to cancel its generator at once) and through `Closed` on its
//! next write.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use parking_lot::Mutex;
use tokio::time::{Instant, Sleep};

use crate::pipe::{Limits, Pipe, Pop, Push, Wakeup};

/// How much a stream buffers between the binding and the socket. The producer is woken at
/// half of it, so the byte limit sets how often the binding has to be woken: 1 MiB lets a
/// generator of 64 KiB chunks run eight chunks per wake-up (measured ~20% more MB/s than
/// 256 KiB), about what hyper and the kernel buffer per connection anyway. The item limit
/// keeps a stream of small chunks (SSE events) to a few KiB per slow client.
const STREAM_LIMITS: Limits = Limits {
    items: 64,
    bytes: 1024 * 1024,
};

enum Chunk {
    Data(Bytes),
    /// The producer failed: the body ends with an error, so hyper cuts the connection and
    /// the client cannot mistake a truncated body for a complete one.
    Abort(String),
}

/// Sent when nothing else was for a while, to keep proxies and clients from timing out an
/// idle stream (an SSE comment line, for example).
#[derive(Debug, Clone)]
pub struct KeepAlive {
    pub interval: Duration,
    pub payload: Bytes,
}

/// What a write did with the chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    Written,
    /// The buffer is full: retry after [`BodyWriter::when_writable`] fires.
    Full,
    /// The client is gone (or the stream was finished): stop producing.
    Closed,
}

/// A body error: the producer aborted the stream.
#[derive(Debug)]
pub struct StreamAborted(String);

impl fmt::Display for StreamAborted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "response stream aborted: {}", self.0)
    }
}

impl std::error::Error for StreamAborted {}

struct Shared {
    pipe: Pipe<Chunk>,
    /// Runs once when the client goes away before the stream is finished.
    on_closed: Mutex<Option<Wakeup>>,
}

impl Shared {
    fn reader_gone(&self) {
        self.pipe.close_receiver();
        let callback = self.on_closed.lock().take();
        if let Some(callback) = callback {
            callback();
        }
    }
}

/// The binding's end of a streamed body. Dropping it without [`finish`](Self::finish)
/// aborts the body.
pub struct BodyWriter {
    shared: Arc<Shared>,
}

/// A streamed response body (hyper's end).
pub struct StreamBody {
    shared: Arc<Shared>,
    keep_alive: Option<KeepAlive>,
    /// Set once the body yielded to hyper before reporting an abort (see `poll_frame`).
    abort_pending: Option<String>,
    /// Created on the first idle poll: only then is the body on the runtime that owns timers.
    idle_timer: Option<Pin<Box<Sleep>>>,
}

/// A connected writer and body.
pub fn body_channel(keep_alive: Option<KeepAlive>) -> (BodyWriter, StreamBody) {
    let shared = Arc::new(Shared {
        pipe: Pipe::new(STREAM_LIMITS),
        on_closed: Mutex::new(None),
    });
    let keep_alive = keep_alive.filter(|keep_alive| !keep_alive.interval.is_zero());
    (
        BodyWriter {
            shared: Arc::clone(&shared),
        },
        StreamBody {
            shared,
            keep_alive,
            abort_pending: None,
            idle_timer: None,
        },
    )
}

impl BodyWriter {
    pub fn write(&self, chunk: Bytes) -> WriteOutcome {
        if chunk.is_empty() {
            // An empty chunk would end a chunked body early; there is nothing to send.
            return if self.is_closed() {
                WriteOutcome::Closed
            } else {
                WriteOutcome::Written
            };
        }
        let weight = chunk.len();
        match self.shared.pipe.push(Chunk::Data(chunk), weight) {
            Push::Pushed => WriteOutcome::Written,
            Push::Full(_) => WriteOutcome::Full,
            Push::Closed(_) => WriteOutcome::Closed,
        }
    }

    /// Runs `callback` once there is room again, or the client is gone.
    pub fn when_writable(&self, callback: Wakeup) {
        self.shared.pipe.when_writable(callback);
    }

    /// Runs `callback` once if the client goes away before the stream is finished (at once
    /// if it already has).
    pub fn when_closed(&self, callback: Wakeup) {
        let mut slot = self.shared.on_closed.lock();
        if self.shared.pipe.is_receiver_gone() {
            drop(slot);
            callback();
        } else {
            *slot = Some(callback);
        }
    }

    /// True when the client is gone or the stream was finished.
    pub fn is_closed(&self) -> bool {
        self.shared.pipe.is_receiver_gone() || self.shared.pipe.is_ended()
    }

    /// Ends the body normally after the chunks already written.
    pub fn finish(&self) {
        self.shared.on_closed.lock().take();
        self.shared.pipe.end();
    }

    /// Ends the body with an error: the client sees a broken transfer, not a short body.
    pub fn abort(&self, reason: impl Into<String>) {
        self.shared.on_closed.lock().take();
        self.shared.pipe.push_last(Chunk::Abort(reason.into()));
    }
}

impl Drop for BodyWriter {
    fn drop(&mut self) {
        if !self.shared.pipe.is_ended() {
            self.abort("the response stream was dropped unfinished");
        }
    }
}

impl Drop for StreamBody {
    fn drop(&mut self) {
        self.shared.reader_gone();
    }
}

impl HttpBody for StreamBody {
    type Data = Bytes;
    type Error = StreamAborted;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, StreamAborted>>> {
        let this = &mut *self;
        if let Some(reason) = this.abort_pending.take() {
            return Poll::Ready(Some(Err(StreamAborted(reason))));
        }
        match this.shared.pipe.poll_pop(cx) {
            Poll::Ready(Pop::Item(Chunk::Data(data))) => {
                if let (Some(keep_alive), Some(timer)) = (&this.keep_alive, &mut this.idle_timer) {
                    timer.as_mut().reset(Instant::now() + keep_alive.interval);
                }
                Poll::Ready(Some(Ok(Frame::data(data))))
            }
            Poll::Ready(Pop::Item(Chunk::Abort(reason))) => {
                // hyper drops its unflushed write buffer when a body fails, which would lose
                // the head and chunks already produced. Yielding once first lets it flush them
                // (it flushes whenever the body is pending); the error follows on the next poll.
                this.abort_pending = Some(reason);
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Poll::Ready(Pop::Ended | Pop::Empty) => Poll::Ready(None),
            Poll::Pending => {
                let Some(keep_alive) = &this.keep_alive else {
                    return Poll::Pending;
                };
                let timer = this
                    .idle_timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(keep_alive.interval)));
                match timer.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        timer.as_mut().reset(Instant::now() + keep_alive.interval);
                        Poll::Ready(Some(Ok(Frame::data(keep_alive.payload.clone()))))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        false
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

#[cfg(test)]
mod tests;
