//! Waking a binding's event loop from any thread, through a socket pair it can watch.
//!
//! A binding whose thread runs its own event loop (asyncio, libuv...) cannot await tokio
//! futures; it watches [`LoopWaker::fileno`] for readability instead. Producers call
//! [`LoopWaker::wake`] after queuing work; the loop calls [`LoopWaker::clear`] and then takes
//! everything queued. At most one byte is ever unread: while one is pending, a wake-up costs an
//! atomic swap instead of a syscall.

use std::io::{self, ErrorKind, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};

pub struct LoopWaker {
    writer: UnixStream,
    reader: UnixStream,
    /// A byte is in the pipe (or about to be), not yet read by the loop.
    notified: AtomicBool,
}

impl LoopWaker {
    pub fn new() -> io::Result<Self> {
        let (writer, reader) = UnixStream::pair()?;
        writer.set_nonblocking(true)?;
        reader.set_nonblocking(true)?;
        Ok(Self {
            writer,
            reader,
            notified: AtomicBool::new(false),
        })
    }

    /// The descriptor the loop watches for readability.
    pub fn fileno(&self) -> RawFd {
        self.reader.as_raw_fd()
    }

    /// Makes the descriptor readable, unless it already is. Call it after queuing the work.
    pub fn wake(&self) {
        if self.notified.swap(true, Ordering::SeqCst) {
            return;
        }
        // A full buffer already means the loop will wake, so WouldBlock is success.
        match (&self.writer).write(&[1]) {
            Ok(_) => {}
            Err(err) if err.kind() == ErrorKind::WouldBlock => {}
            Err(err) => tracing::error!(%err, "cannot wake the event loop"),
        }
    }

    /// Reads the pending wake-up; call it before taking the queued work. A producer that
    /// still saw the flag set had queued its work before the flag is cleared here, so the
    /// work taken next holds it; one that sees the flag cleared writes a new byte.
    pub fn clear(&self) {
        let mut sink = [0u8; 64];
        loop {
            match (&self.reader).read(&mut sink) {
                Ok(n) if n == sink.len() => continue,
                Err(err) if err.kind() == ErrorKind::Interrupted => continue,
                _ => break,
            }
        }
        self.notified.store(false, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;

    use parking_lot::Mutex;

    use super::*;

    fn unread_bytes(waker: &LoopWaker) -> usize {
        let mut sink = [0u8; 16];
        let mut total = 0;
        while let Ok(n) = (&waker.reader).read(&mut sink) {
            if n == 0 {
                break;
            }
            total += n;
        }
        total
    }

    #[test]
    fn wakes_while_one_is_pending_write_nothing() {
        let waker = LoopWaker::new().unwrap();
        waker.wake();
        waker.wake();
        waker.wake();
        assert_eq!(unread_bytes(&waker), 1);
    }

    #[test]
    fn a_wake_after_clear_writes_again() {
        let waker = LoopWaker::new().unwrap();
        waker.wake();
        waker.clear();
        assert_eq!(unread_bytes(&waker), 0);
        waker.wake();
        assert_eq!(unread_bytes(&waker), 1);
    }

    #[test]
    fn no_queued_work_is_left_without_a_pending_wake_up() {
        // Producers queue and wake while a consumer clears and drains concurrently. Whatever
        // the interleaving, once the producers are done, either everything was taken or a
        // wake-up is pending for what is left. Races are rare: the scenario runs many times.
        for _ in 0..40 {
            race_producers_against_the_loop();
        }
    }

    fn race_producers_against_the_loop() {
        let waker = Arc::new(LoopWaker::new().unwrap());
        let queue = Arc::new(Mutex::new(Vec::<usize>::new()));
        let taken = Arc::new(AtomicUsize::new(0));
        let producers: Vec<_> = (0..4)
            .map(|_| {
                let (waker, queue) = (Arc::clone(&waker), Arc::clone(&queue));
                std::thread::spawn(move || {
                    for item in 0..20_000 {
                        queue.lock().push(item);
                        waker.wake();
                    }
                })
            })
            .collect();
        let done = Arc::new(AtomicBool::new(false));
        let consumer = {
            let (waker, queue, taken, done) = (
                Arc::clone(&waker),
                Arc::clone(&queue),
                Arc::clone(&taken),
                Arc::clone(&done),
            );
            std::thread::spawn(move || {
                let mut probe = [0u8; 1];
                while !done.load(Ordering::SeqCst) {
                    // the loop only drains when the descriptor is readable (the byte read
                    // here stands for the readiness the event loop would see)
                    if matches!((&waker.reader).read(&mut probe), Ok(1)) {
                        waker.clear();
                        let batch = std::mem::take(&mut *queue.lock());
                        taken.fetch_add(batch.len(), Ordering::SeqCst);
                    }
                }
            })
        };
        for producer in producers {
            producer.join().unwrap();
        }
        done.store(true, Ordering::SeqCst);
        consumer.join().unwrap();
        let left = queue.lock().len();
        let pending = waker.notified.load(Ordering::SeqCst);
        assert_eq!(taken.load(Ordering::SeqCst) + left, 80_000);
        assert!(
            left == 0 || pending,
            "{left} items queued with no wake-up pending"
        );
        if pending {
            assert_eq!(unread_bytes(&waker), 1);
        }
    }
}
