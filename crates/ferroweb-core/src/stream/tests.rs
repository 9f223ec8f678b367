use std::sync::atomic::{AtomicBool, Ordering};

use http_body_util::BodyExt;

use super::*;

#[tokio::test]
async fn chunks_arrive_in_order_and_the_body_ends_on_finish() {
    let (writer, body) = body_channel(None);
    assert_eq!(
        writer.write(Bytes::from_static(b"ab")),
        WriteOutcome::Written
    );
    assert_eq!(writer.write(Bytes::new()), WriteOutcome::Written);
    assert_eq!(
        writer.write(Bytes::from_static(b"cd")),
        WriteOutcome::Written
    );
    writer.finish();
    let collected = body.collect().await.map(|c| c.to_bytes());
    assert_eq!(collected.ok(), Some(Bytes::from_static(b"abcd")));
}

#[tokio::test]
async fn abort_ends_the_body_with_an_error() {
    let (writer, body) = body_channel(None);
    let _ = writer.write(Bytes::from_static(b"partial"));
    writer.abort("generator failed");
    assert!(body.collect().await.is_err());
}

#[tokio::test]
async fn dropping_the_writer_unfinished_aborts() {
    let (writer, body) = body_channel(None);
    drop(writer);
    assert!(body.collect().await.is_err());
}

#[test]
fn a_full_buffer_refuses_until_drained() {
    let (writer, _body) = body_channel(None);
    let chunk = Bytes::from(vec![0u8; 64 * 1024]);
    let mut written = 0;
    while writer.write(chunk.clone()) == WriteOutcome::Written {
        written += 1;
        assert!(written < 100, "the buffer must be bounded");
    }
    assert_eq!(written, 16, "1 MiB of 64 KiB chunks");
}

#[test]
fn dropping_the_body_closes_the_writer_and_runs_when_closed() {
    let (writer, body) = body_channel(None);
    let closed = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&closed);
    writer.when_closed(Box::new(move || flag.store(true, Ordering::SeqCst)));
    drop(body);
    assert!(closed.load(Ordering::SeqCst));
    assert!(writer.is_closed());
    assert_eq!(
        writer.write(Bytes::from_static(b"late")),
        WriteOutcome::Closed
    );
}

#[tokio::test(start_paused = true)]
async fn keep_alive_is_sent_when_the_stream_is_idle() {
    let (writer, mut body) = body_channel(Some(KeepAlive {
        interval: Duration::from_secs(15),
        payload: Bytes::from_static(b": ping\n\n"),
    }));
    let frame = body.frame().await;
    let data = frame.and_then(|f| f.ok()).and_then(|f| f.into_data().ok());
    assert_eq!(data, Some(Bytes::from_static(b": ping\n\n")));
    let _ = writer.write(Bytes::from_static(b"data: 1\n\n"));
    writer.finish();
    let rest = body.collect().await.map(|c| c.to_bytes());
    assert_eq!(rest.ok(), Some(Bytes::from_static(b"data: 1\n\n")));
}
