//! WebSocket connections: the core owns the socket (handshake, framing, fragment reassembly,
//! ping/pong, close handshake, size limits, idle timeout); the binding only sees whole
//! messages through a [`WebSocketChannel`].
//!
//! The channel is two bounded pipes. Messages from the peer wait in the inbox; while it is
//! full the core stops reading the socket, so a slow handler pushes back on the peer through
//! TCP. Messages from the handler wait in the outbox (`send_queue` long); while it is full the
//! handler is told so and waits, instead of queueing without bound.

use std::future::poll_fn;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http::HeaderMap;
use parking_lot::Mutex;
use tokio::sync::{oneshot, watch};
use tokio::time::Instant;

use crate::config::WebSocketSettings;
use crate::pipe::{Limits, Pipe, Pop, Push, Wakeup};
use crate::stream::WriteOutcome;

/// Close codes of RFC 6455 §7.4 the core sends itself.
pub mod close_code {
    pub const NORMAL: u16 = 1000;
    pub const GOING_AWAY: u16 = 1001;
    pub const PROTOCOL_ERROR: u16 = 1002;
    pub const NO_STATUS: u16 = 1005;
    pub const ABNORMAL: u16 = 1006;
    pub const MESSAGE_TOO_BIG: u16 = 1009;
    pub const INTERNAL_ERROR: u16 = 1011;
}

/// Bytes asked of the socket per read. tungstenite zeroes the whole chunk before every read,
/// so its 128 KiB default cost more than the rest of a small message's trip (a third of the
/// runtime thread in the echo benchmark). 16 KiB keeps that negligible and still takes a
/// large message in few reads.
pub(crate) const READ_CHUNK: usize = 16 * 1024;

/// How long the core waits for the peer's answer to its close frame.
const CLOSE_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

const INBOX_LIMITS: Limits = Limits {
    items: 32,
    bytes: 4 * 1024 * 1024,
};

/// A whole message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsMessage {
    Text(String),
    Binary(Bytes),
}

impl WsMessage {
    fn len(&self) -> usize {
        match self {
            Self::Text(text) => text.len(),
            Self::Binary(bytes) => bytes.len(),
        }
    }
}

/// What the binding receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    Message(WsMessage),
    /// Nothing yet: wait with [`WebSocketChannel::when_readable`].
    Empty,
    /// The connection is closed (by the peer, a limit, a timeout or the handler).
    Closed {
        code: u16,
        reason: String,
    },
}

enum Incoming {
    Message(WsMessage),
    Closed { code: u16, reason: String },
}

enum Outgoing {
    Message(WsMessage),
    Close { code: u16, reason: String },
}

/// How the handler accepts the handshake.
#[derive(Debug, Default)]
pub struct Accept {
    /// The subprotocol chosen among those the client offered.
    pub protocol: Option<String>,
    /// Extra headers of the 101 response.
    pub headers: HeaderMap,
}

struct Shared {
    inbox: Pipe<Incoming>,
    outbox: Pipe<Outgoing>,
    /// Why the connection closed, once it has: later receives report the same.
    closed: Mutex<Option<(u16, String)>>,
}

/// The binding's end of one WebSocket connection.
pub struct WebSocketChannel {
    shared: Arc<Shared>,
    accept: Mutex<Option<oneshot::Sender<Accept>>>,
}

/// The core's end, driven by [`serve_socket`].
pub(crate) struct SocketEnd {
    shared: Arc<Shared>,
}

pub(crate) fn channel(
    settings: &WebSocketSettings,
) -> (WebSocketChannel, SocketEnd, oneshot::Receiver<Accept>) {
    let shared = Arc::new(Shared {
        inbox: Pipe::new(INBOX_LIMITS),
        outbox: Pipe::new(Limits {
            items: settings.send_queue,
            // The queue is bounded by messages; each is bounded by max_message_size.
            bytes: usize::MAX,
        }),
        closed: Mutex::new(None),
    });
    let (accept, accepted) = oneshot::channel();
    (
        WebSocketChannel {
            shared: Arc::clone(&shared),
            accept: Mutex::new(Some(accept)),
        },
        SocketEnd { shared },
        accepted,
    )
}

impl std::fmt::Debug for WebSocketChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocketChannel")
            .field("closed", &self.close_status())
            .finish_non_exhaustive()
    }
}

impl WebSocketChannel {
    /// Completes the handshake (101). False if it was already answered or the client left.
    pub fn accept(&self, accept: Accept) -> bool {
        match self.accept.lock().take() {
            Some(sender) => sender.send(accept).is_ok(),
            None => false,
        }
    }

    /// Queues a message. `Closed` once the connection is closed: sending then is a no-op.
    pub fn send(&self, message: WsMessage) -> WriteOutcome {
        let weight = message.len();
        match self.shared.outbox.push(Outgoing::Message(message), weight) {
            Push::Pushed => WriteOutcome::Written,
            Push::Full(_) => WriteOutcome::Full,
            Push::Closed(_) => WriteOutcome::Closed,
        }
    }

    /// Runs `callback` once the send queue has room again (or the connection closed).
    pub fn when_writable(&self, callback: Wakeup) {
        self.shared.outbox.when_writable(callback);
    }

    pub fn receive(&self) -> Received {
        match self.shared.inbox.pop() {
            Pop::Item(Incoming::Message(message)) => Received::Message(message),
            Pop::Item(Incoming::Closed { code, reason }) => Received::Closed { code, reason },
            Pop::Empty => Received::Empty,
            Pop::Ended => {
                let closed = self.shared.closed.lock().clone();
                let (code, reason) = closed.unwrap_or((close_code::ABNORMAL, String::new()));
                Received::Closed { code, reason }
            }
        }
    }

    /// Runs `callback` once a message (or the close) is there to receive.
    pub fn when_readable(&self, callback: Wakeup) {
        self.shared.inbox.when_readable(callback);
    }

    /// Starts the close handshake with `code`; later sends are no-ops. False if the
    /// connection was already closing or closed.
    pub fn close(&self, code: u16, reason: String) -> bool {
        self.shared
            .outbox
            .push_last(Outgoing::Close { code, reason })
    }

    /// Why the connection closed, once it has.
    pub fn close_status(&self) -> Option<(u16, String)> {
        self.shared.closed.lock().clone()
    }
}

impl Drop for WebSocketChannel {
    fn drop(&mut self) {
        // A handler gone without closing: the socket task closes with 1011.
        self.shared.outbox.end();
        self.shared.inbox.close_receiver();
    }
}

impl SocketEnd {
    fn closed(&self, code: u16, reason: &str) {
        let mut closed = self.shared.closed.lock();
        if closed.is_none() {
            *closed = Some((code, reason.to_owned()));
            drop(closed);
            self.shared.inbox.push_last(Incoming::Closed {
                code,
                reason: reason.to_owned(),
            });
        }
    }
}

impl Drop for SocketEnd {
    fn drop(&mut self) {
        // The socket is gone however the task ended (even by a panic): tell the handler.
        self.closed(close_code::ABNORMAL, "");
        self.shared.outbox.close_receiver();
    }
}

fn into_frame(message: WsMessage) -> Message {
    match message {
        WsMessage::Text(text) => Message::Text(text.into()),
        WsMessage::Binary(bytes) => Message::Binary(bytes),
    }
}

fn close_frame(code: u16, reason: &str) -> Message {
    // A close reason is at most 123 bytes (a control frame payload is 125, minus the code).
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    Message::Close(Some(CloseFrame {
        code,
        reason: reason[..end].into(),
    }))
}

/// Why reading failed, as the close code to report.
fn read_error_code(err: &axum::Error) -> (u16, &'static str) {
    let text = err.to_string();
    if text.contains("Space limit exceeded") || text.contains("too long") {
        (close_code::MESSAGE_TOO_BIG, "message too big")
    } else if text.contains("Connection reset") || text.contains("closed") {
        (close_code::ABNORMAL, "")
    } else {
        (close_code::PROTOCOL_ERROR, "protocol error")
    }
}

async fn shutdown_requested(shutdown: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is not Send, so it must not outlive this function.
    let _ = shutdown.wait_for(|stop| *stop).await.is_ok();
}

/// Drives one upgraded connection until it is closed.
pub(crate) async fn serve_socket(
    socket: WebSocket,
    end: SocketEnd,
    settings: WebSocketSettings,
    mut shutdown: watch::Receiver<bool>,
) {
    let (mut sink, mut stream) = socket.split();
    let mut last_heard = Instant::now();
    let far_future = Duration::from_secs(365 * 24 * 3600);
    let mut ping = tokio::time::interval(settings.ping_interval.unwrap_or(far_future));
    ping.reset();
    // Set when the core (or the handler) sent a close frame and waits for the answer.
    let mut closing: Option<(u16, String)> = None;
    loop {
        let idle_deadline = match (&closing, settings.idle_timeout) {
            (Some(_), _) => last_heard + CLOSE_HANDSHAKE_TIMEOUT,
            (None, Some(idle)) => last_heard + idle,
            (None, None) => Instant::now() + far_future,
        };
        let inbox = &end.shared.inbox;
        tokio::select! {
            biased;
            _ = shutdown_requested(&mut shutdown), if closing.is_none() => {
                let _ = sink.send(close_frame(close_code::GOING_AWAY, "server shutting down")).await;
                closing = Some((close_code::GOING_AWAY, "server shutting down".to_owned()));
                last_heard = Instant::now();
            }
            outgoing = poll_fn(|cx| end.shared.outbox.poll_pop(cx)), if closing.is_none() => {
                let (message, close) = match outgoing {
                    Pop::Item(Outgoing::Message(message)) => (into_frame(message), None),
                    Pop::Item(Outgoing::Close { code, reason }) => {
                        (close_frame(code, &reason), Some((code, reason)))
                    }
                    // The handler is gone without closing.
                    Pop::Ended | Pop::Empty => (
                        close_frame(close_code::INTERNAL_ERROR, ""),
                        Some((close_code::INTERNAL_ERROR, String::new())),
                    ),
                };
                if sink.send(message).await.is_err() {
                    end.closed(close_code::ABNORMAL, "");
                    return;
                }
                if let Some(close) = close {
                    closing = Some(close);
                    last_heard = Instant::now();
                }
            }
            incoming = async {
                // While the inbox is full the socket is not read: the peer is pushed back on
                // through TCP. (Once the handler is gone this returns at once: reading goes
                // on, to answer pings and see the close.)
                poll_fn(|cx| inbox.poll_writable(cx)).await;
                stream.next().await
            } => {
                last_heard = Instant::now();
                match incoming {
                    Some(Ok(Message::Text(text))) => {
                        let message = WsMessage::Text(text.as_str().to_owned());
                        let weight = message.len();
                        let _ = inbox.push(Incoming::Message(message), weight);
                    }
                    Some(Ok(Message::Binary(bytes))) => {
                        let weight = bytes.len();
                        let _ = inbox.push(Incoming::Message(WsMessage::Binary(bytes)), weight);
                    }
                    // Pongs are answered by tungstenite itself; both only count as activity.
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                    Some(Ok(Message::Close(frame))) => {
                        let (code, reason) = frame
                            .map(|frame| (frame.code, frame.reason.as_str().to_owned()))
                            .unwrap_or((close_code::NO_STATUS, String::new()));
                        // Our own close was answered, or the peer closes first: tungstenite
                        // queues the echo, flushed here.
                        let _ = sink.flush().await;
                        // When we started the close, our code is the one to report.
                        let (code, reason) = closing.unwrap_or((code, reason));
                        end.closed(code, &reason);
                        return;
                    }
                    Some(Err(err)) => {
                        let (code, reason) = read_error_code(&err);
                        if code != close_code::ABNORMAL && closing.is_none() {
                            let _ = sink.send(close_frame(code, reason)).await;
                        }
                        end.closed(code, reason);
                        return;
                    }
                    None => {
                        match closing {
                            Some((code, reason)) => end.closed(code, &reason),
                            None => end.closed(close_code::ABNORMAL, ""),
                        }
                        return;
                    }
                }
            }
            _ = tokio::time::sleep_until(idle_deadline) => {
                match closing {
                    // The peer never answered our close frame.
                    Some((code, reason)) => end.closed(code, &reason),
                    None => {
                        let _ = sink.send(close_frame(close_code::GOING_AWAY, "idle timeout")).await;
                        end.closed(close_code::GOING_AWAY, "idle timeout");
                    }
                }
                return;
            }
            _ = ping.tick(), if settings.ping_interval.is_some() && closing.is_none() => {
                if sink.send(Message::Ping(Bytes::new())).await.is_err() {
                    end.closed(close_code::ABNORMAL, "");
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
