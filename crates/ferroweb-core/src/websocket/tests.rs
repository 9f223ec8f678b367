use super::*;

fn settings(send_queue: usize) -> WebSocketSettings {
    WebSocketSettings {
        send_queue,
        ..WebSocketSettings::default()
    }
}

#[tokio::test]
async fn accept_is_delivered_once() {
    let (channel, _end, accepted) = channel(&settings(4));
    assert!(channel.accept(Accept {
        protocol: Some("v1".to_owned()),
        headers: HeaderMap::new(),
    }));
    assert!(!channel.accept(Accept::default()));
    let accept = accepted.await.ok();
    assert_eq!(accept.and_then(|a| a.protocol).as_deref(), Some("v1"));
}

#[test]
fn the_send_queue_is_bounded_and_sends_after_close_are_no_ops() {
    let (channel, _end, _accepted) = channel(&settings(2));
    let text = || WsMessage::Text("hi".to_owned());
    assert_eq!(channel.send(text()), WriteOutcome::Written);
    assert_eq!(channel.send(text()), WriteOutcome::Written);
    assert_eq!(channel.send(text()), WriteOutcome::Full);
    assert!(channel.close(close_code::NORMAL, String::new()));
    assert!(!channel.close(close_code::NORMAL, String::new()));
    assert_eq!(channel.send(text()), WriteOutcome::Closed);
}

#[test]
fn messages_then_the_close_reach_the_handler_and_the_close_repeats() {
    let (channel, end, _accepted) = channel(&settings(2));
    assert_eq!(channel.receive(), Received::Empty);
    let _ = end.shared.inbox.push(
        Incoming::Message(WsMessage::Binary(Bytes::from_static(b"\x01"))),
        1,
    );
    end.closed(4000, "done");
    assert_eq!(
        channel.receive(),
        Received::Message(WsMessage::Binary(Bytes::from_static(b"\x01")))
    );
    for _ in 0..2 {
        assert_eq!(
            channel.receive(),
            Received::Closed {
                code: 4000,
                reason: "done".to_owned()
            }
        );
    }
    assert_eq!(channel.close_status(), Some((4000, "done".to_owned())));
}

#[test]
fn a_vanished_socket_reads_as_an_abnormal_close() {
    let (channel, end, _accepted) = channel(&settings(2));
    drop(end);
    assert_eq!(
        channel.receive(),
        Received::Closed {
            code: close_code::ABNORMAL,
            reason: String::new()
        }
    );
    assert_eq!(
        channel.send(WsMessage::Text("late".to_owned())),
        WriteOutcome::Closed
    );
}

#[test]
fn close_reasons_are_cut_to_the_control_frame_limit_on_a_char_boundary() {
    let reason = "é".repeat(100);
    let Message::Close(Some(frame)) = close_frame(1000, &reason) else {
        panic!("expected a close frame");
    };
    assert!(frame.reason.len() <= 123);
    assert!(reason.starts_with(frame.reason.as_str()));
}
