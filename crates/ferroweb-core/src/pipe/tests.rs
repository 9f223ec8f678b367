use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::*;

const LIMITS: Limits = Limits {
    items: 4,
    bytes: 100,
};

fn counter() -> (Arc<AtomicUsize>, impl Fn() -> Wakeup) {
    let count = Arc::new(AtomicUsize::new(0));
    let handle = Arc::clone(&count);
    (count, move || {
        let count = Arc::clone(&handle);
        Box::new(move || {
            count.fetch_add(1, Ordering::SeqCst);
        })
    })
}

#[test]
fn refuses_past_the_item_limit_and_hands_the_item_back() {
    let pipe = Pipe::new(LIMITS);
    for n in 0..4 {
        assert!(matches!(pipe.push(n, 1), Push::Pushed));
    }
    assert!(matches!(pipe.push(9, 1), Push::Full(9)));
}

#[test]
fn one_oversized_item_always_fits_in_an_empty_pipe() {
    let pipe = Pipe::new(LIMITS);
    assert!(matches!(pipe.push("big", 1000), Push::Pushed));
    assert!(matches!(pipe.push("next", 1), Push::Full("next")));
    assert!(matches!(pipe.pop(), Pop::Item("big")));
    assert!(matches!(pipe.push("next", 1), Push::Pushed));
}

#[test]
fn a_waiting_producer_is_woken_once_at_the_low_water_mark() {
    let pipe = Pipe::new(LIMITS);
    for n in 0..4 {
        let _ = pipe.push(n, 1);
    }
    let (woken, make) = counter();
    pipe.when_writable(make());
    assert!(matches!(pipe.pop(), Pop::Item(0)));
    assert_eq!(woken.load(Ordering::SeqCst), 0, "3 left, above half of 4");
    assert!(matches!(pipe.pop(), Pop::Item(1)));
    assert_eq!(woken.load(Ordering::SeqCst), 1);
    let _ = pipe.pop();
    assert_eq!(woken.load(Ordering::SeqCst), 1, "a callback runs once");
}

#[test]
fn readable_callback_runs_at_once_when_items_wait() {
    let pipe = Pipe::new(LIMITS);
    let (woken, make) = counter();
    pipe.when_readable(make());
    assert_eq!(woken.load(Ordering::SeqCst), 0);
    let _ = pipe.push(1, 1);
    assert_eq!(woken.load(Ordering::SeqCst), 1);
    pipe.when_readable(make());
    assert_eq!(woken.load(Ordering::SeqCst), 2);
}

#[test]
fn ending_delivers_queued_items_first() {
    let pipe = Pipe::new(LIMITS);
    let _ = pipe.push(1, 1);
    pipe.end();
    assert!(matches!(pipe.push(2, 1), Push::Closed(2)));
    assert!(matches!(pipe.pop(), Pop::Item(1)));
    assert!(matches!(pipe.pop(), Pop::Ended));
}

#[test]
fn push_last_ignores_the_limits() {
    let pipe = Pipe::new(LIMITS);
    for n in 0..4 {
        let _ = pipe.push(n, 1);
    }
    assert!(pipe.push_last(99));
    assert!(pipe.is_ended());
    for n in [0, 1, 2, 3, 99] {
        assert!(matches!(pipe.pop(), Pop::Item(m) if m == n));
    }
    assert!(matches!(pipe.pop(), Pop::Ended));
}

#[test]
fn a_gone_receiver_refuses_pushes_and_wakes_the_producer() {
    let pipe = Pipe::new(LIMITS);
    for n in 0..4 {
        let _ = pipe.push(n, 1);
    }
    let (woken, make) = counter();
    pipe.when_writable(make());
    pipe.close_receiver();
    assert_eq!(woken.load(Ordering::SeqCst), 1);
    assert!(pipe.is_receiver_gone());
    assert!(matches!(pipe.push(5, 1), Push::Closed(5)));
}

#[tokio::test]
async fn async_consumer_is_woken_by_a_push_from_another_thread() {
    let pipe = Arc::new(Pipe::new(LIMITS));
    let producer = Arc::clone(&pipe);
    let thread = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(20));
        let _ = producer.push(7, 1);
        producer.end();
    });
    let first = std::future::poll_fn(|cx| pipe.poll_pop(cx)).await;
    assert!(matches!(first, Pop::Item(7)));
    let last = std::future::poll_fn(|cx| pipe.poll_pop(cx)).await;
    assert!(matches!(last, Pop::Ended));
    assert!(thread.join().is_ok());
}
