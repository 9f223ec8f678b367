//! The three workloads' client loops: a streamed body, an event stream, a WebSocket echo.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use crate::http1::{BodyKind, Conn, Target};
use crate::run::{micros_since, Shared, WorkerReport, ERROR_BACKOFF};
use crate::sse::{Event, Parser};

// -- stream ------------------------------------------------------------------------------------

/// One connection GETting the streamed body again and again (keep-alive when the server allows).
/// Units are body bytes as they arrive; a response counts as completed only if its length is
/// exactly `expect_bytes`.
pub async fn stream_client(
    target: Arc<Target>,
    expect_bytes: u64,
    limit: Duration,
    shared: Arc<Shared>,
    report: &mut WorkerReport,
) {
    let request = target.get_request("Accept: */*\r\n");
    let mut conn: Option<Conn> = None;
    loop {
        let mut current = match conn.take() {
            Some(conn) => conn,
            None => match Conn::connect(&target, limit).await {
                Ok(conn) => conn,
                Err(err) => {
                    shared.error(err);
                    tokio::time::sleep(ERROR_BACKOFF).await;
                    continue;
                }
            },
        };
        let started = Instant::now();
        match one_response(&mut current, &request, expect_bytes, &shared, report).await {
            Ok(keep_alive) => {
                shared.add_completed();
                if shared.measuring() {
                    report.latencies_us.push(micros_since(started));
                }
                if keep_alive {
                    conn = Some(current);
                }
            }
            Err(err) => {
                shared.error(err);
                tokio::time::sleep(ERROR_BACKOFF).await;
            }
        }
    }
}

async fn one_response(
    conn: &mut Conn,
    request: &[u8],
    expect_bytes: u64,
    shared: &Shared,
    report: &mut WorkerReport,
) -> Result<bool, String> {
    conn.send(request).await?;
    let head = conn.read_head().await?;
    if head.status != 200 {
        // Read (a bounded amount of) the error body so the message can show it.
        let mut shown = Vec::new();
        let _ = conn
            .read_body(head.body, &mut |piece: &[u8]| {
                let room = 200usize.saturating_sub(shown.len());
                shown.extend_from_slice(&piece[..piece.len().min(room)]);
                Ok(())
            })
            .await;
        return Err(format!(
            "status {} (expected 200): {:?}",
            head.status,
            String::from_utf8_lossy(&shown)
        ));
    }
    if let BodyKind::Length(length) = head.body {
        if length != expect_bytes {
            return Err(format!("content-length {length}, expected {expect_bytes}"));
        }
    }
    let total = conn
        .read_body(head.body, &mut |piece: &[u8]| {
            report.add_units(shared, piece.len() as u64);
            Ok(())
        })
        .await?;
    if total != expect_bytes {
        return Err(format!("body was {total} bytes, expected {expect_bytes}"));
    }
    Ok(!head.close)
}

// -- server-sent events ------------------------------------------------------------------------

/// What an event must look like to count.
#[derive(Debug, Clone)]
pub struct SseCheck {
    /// The `event:` name every event must carry (`None`: not checked).
    pub event: Option<String>,
}

/// One client holding an event stream open; reconnects (counting an error) if it ends.
/// Units are events that parsed and passed the checks.
pub async fn sse_client(
    target: Arc<Target>,
    check: Arc<SseCheck>,
    limit: Duration,
    shared: Arc<Shared>,
    report: &mut WorkerReport,
) {
    let request = target.get_request("Accept: text/event-stream\r\nCache-Control: no-cache\r\n");
    loop {
        let err = match one_event_stream(&target, &request, &check, limit, &shared, report).await {
            Ok(()) => "the event stream ended".to_owned(),
            Err(err) => err,
        };
        shared.error(err);
        tokio::time::sleep(ERROR_BACKOFF).await;
    }
}

async fn one_event_stream(
    target: &Target,
    request: &[u8],
    check: &SseCheck,
    limit: Duration,
    shared: &Shared,
    report: &mut WorkerReport,
) -> Result<(), String> {
    let mut conn = Conn::connect(target, limit).await?;
    conn.send(request).await?;
    let head = conn.read_head().await?;
    if head.status != 200 {
        return Err(format!("status {} (expected 200)", head.status));
    }
    let content_type = head.content_type.unwrap_or_default();
    if !content_type.starts_with("text/event-stream") {
        return Err(format!(
            "content-type {content_type:?}, expected text/event-stream"
        ));
    }
    shared.add_completed();
    let mut parser = Parser::default();
    let mut last_n: Option<u64> = None;
    let mut on_event = |event: Event| {
        verify_event(&event, check, &mut last_n)?;
        report.add_units(shared, 1);
        Ok(())
    };
    conn.read_body(head.body, &mut |piece: &[u8]| {
        parser.feed(piece, &mut on_event)
    })
    .await?;
    Ok(())
}

/// An event counts if its name is the expected one, its data is JSON and, when the data has an
/// integer `n`, it follows the previous event's `n` by one and matches the event's `id`.
pub fn verify_event(
    event: &Event,
    check: &SseCheck,
    last_n: &mut Option<u64>,
) -> Result<(), String> {
    if let Some(expected) = &check.event {
        if event.event.as_deref() != Some(expected.as_str()) {
            return Err(format!(
                "event name {:?}, expected {expected:?}",
                event.event
            ));
        }
    }
    let data: serde_json::Value = serde_json::from_str(&event.data)
        .map_err(|err| format!("event data is not JSON ({err}): {:?}", event.data))?;
    if let Some(n) = data.get("n").and_then(serde_json::Value::as_u64) {
        if let Some(previous) = *last_n {
            if n != previous + 1 {
                return Err(format!(
                    "event n={n} after n={previous}: events lost or reordered"
                ));
            }
        }
        *last_n = Some(n);
        if let Some(id) = &event.id {
            if *id != n.to_string() {
                return Err(format!("event id {id:?} does not match n={n}"));
            }
        }
    }
    Ok(())
}

// -- WebSocket echo ----------------------------------------------------------------------------

/// One client: send a text message, wait for its echo, repeat. Units are verified round trips.
pub async fn ws_client(
    url: Arc<String>,
    index: usize,
    message_size: usize,
    limit: Duration,
    shared: Arc<Shared>,
    report: &mut WorkerReport,
) {
    let mut sequence = 0u64;
    loop {
        let err = match ws_session(
            &url,
            index,
            message_size,
            limit,
            &shared,
            report,
            &mut sequence,
        )
        .await
        {
            Ok(()) => "the WebSocket closed".to_owned(),
            Err(err) => err,
        };
        shared.error(err);
        tokio::time::sleep(ERROR_BACKOFF).await;
    }
}

/// A text message of exactly `size` bytes that differs for every client and round trip.
pub fn ws_message(index: usize, sequence: u64, size: usize) -> String {
    let mut text = format!("{index:06}:{sequence:012}:");
    text.truncate(size);
    while text.len() < size {
        text.push('x');
    }
    text
}

/// tungstenite zeroes its whole read chunk before every read; with the 128 KiB default that
/// costs more than the rest of a 64-byte round trip and makes the load generator the
/// bottleneck. 16 KiB still takes any message in a few reads.
fn client_config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(16 * 1024)
}

async fn ws_session(
    url: &str,
    index: usize,
    message_size: usize,
    limit: Duration,
    shared: &Shared,
    report: &mut WorkerReport,
    sequence: &mut u64,
) -> Result<(), String> {
    let (mut socket, _) = timeout(
        limit,
        tokio_tungstenite::connect_async_with_config(url, Some(client_config()), true),
    )
    .await
    .map_err(|_| format!("WebSocket handshake timed out after {limit:?}"))?
    .map_err(|err| format!("WebSocket handshake: {err}"))?;
    shared.add_completed();
    loop {
        *sequence += 1;
        let text = Utf8Bytes::from(ws_message(index, *sequence, message_size));
        let started = Instant::now();
        timeout(limit, socket.send(Message::Text(text.clone())))
            .await
            .map_err(|_| format!("send timed out after {limit:?}"))?
            .map_err(|err| format!("send: {err}"))?;
        loop {
            let frame = timeout(limit, socket.next())
                .await
                .map_err(|_| format!("no echo within {limit:?}"))?;
            match frame {
                None => return Err("connection closed while waiting for an echo".to_owned()),
                Some(Err(err)) => return Err(format!("receive: {err}")),
                Some(Ok(Message::Text(echo))) => {
                    if echo != text {
                        return Err(format!(
                            "echo {:?} differs from the message sent {:?}",
                            echo.as_str(),
                            text.as_str()
                        ));
                    }
                    break;
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                Some(Ok(Message::Binary(_))) => {
                    return Err("binary message where a text echo was expected".to_owned())
                }
                Some(Ok(Message::Close(frame))) => {
                    return Err(format!("server closed the WebSocket: {frame:?}"))
                }
            }
        }
        report.add_units(shared, 1);
        if shared.measuring() {
            report.latencies_us.push(micros_since(started));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tick(n: u64, id: Option<&str>) -> Event {
        Event {
            event: Some("tick".into()),
            data: format!("{{\"n\": {n}}}"),
            id: id.map(str::to_owned),
        }
    }

    #[test]
    fn events_are_verified() {
        let check = SseCheck {
            event: Some("tick".into()),
        };
        let mut last = None;
        assert!(verify_event(&tick(1, Some("1")), &check, &mut last).is_ok());
        assert!(verify_event(&tick(2, None), &check, &mut last).is_ok());
        assert!(verify_event(&tick(4, Some("4")), &check, &mut last).is_err());
        let mut last = None;
        assert!(verify_event(&tick(7, Some("8")), &check, &mut last).is_err());
        let other = Event {
            event: Some("tock".into()),
            ..tick(1, None)
        };
        assert!(verify_event(&other, &check, &mut None).is_err());
        let not_json = Event {
            data: "n=1".into(),
            ..tick(1, None)
        };
        assert!(verify_event(&not_json, &check, &mut None).is_err());
        let unchecked = SseCheck { event: None };
        assert!(verify_event(&other, &unchecked, &mut None).is_ok());
    }

    #[test]
    fn ws_messages_have_the_asked_size() {
        assert_eq!(ws_message(3, 42, 64).len(), 64);
        assert_eq!(ws_message(3, 42, 64), ws_message(3, 42, 64));
        assert_ne!(ws_message(3, 42, 64), ws_message(3, 43, 64));
        assert_eq!(ws_message(3, 42, 4), "0000");
    }
}
