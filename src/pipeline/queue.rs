//! The bounded queue between the async receivers and the worker threads, bounded both in spans
//! and in bytes. Admission reserves capacity first and only then sends, so the channel never
//! blocks; the reservation takes both bounds under one short lock, so neither bound is ever
//! overshot by concurrent senders. Workers release capacity as they take batches off.
//!
//! Shutdown never strands an admitted batch: a sender registers itself before it checks
//! `closed` and leaves only once its batch is in the channel, and a worker reports
//! [`Recv::Done`] only when the queue is closed, no sender is registered, and a last look at the
//! channel finds it empty.

use super::Batch;
use crossbeam_channel::{Receiver, Sender, TryRecvError};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// No room (now, or within the allowed wait). The batch is handed back untouched.
    #[error("queue full")]
    Full(Box<Batch>),
    /// The queue is closed for shutdown.
    #[error("queue closed")]
    Closed(Box<Batch>),
}

impl std::fmt::Debug for Batch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print span contents.
        f.debug_struct("Batch")
            .field("signal", &self.signal)
            .field("spans", &self.spans)
            .field("bytes", &self.bytes)
            .finish()
    }
}

struct Shared {
    max_spans: usize,
    max_bytes: usize,
    /// Spans and bytes held, changed together under this lock (nanoseconds per request, never
    /// held across an await), so admission checks both bounds against one consistent state.
    held: Mutex<Held>,
    /// Copies of `held` for lock-free reads (gauges, the memory limiter, the summary line).
    spans: AtomicUsize,
    bytes: AtomicUsize,
    closed: AtomicBool,
    /// Senders between their `closed` check and the end of their channel send. With `closed`
    /// it decides when a worker may stop (see the module comment); both use `SeqCst`.
    sending: AtomicUsize,
    /// Wakes receivers waiting for room (`when_full: wait`).
    room: tokio::sync::Notify,
}

#[derive(Default)]
struct Held {
    spans: usize,
    bytes: usize,
}

impl Shared {
    fn held(&self) -> std::sync::MutexGuard<'_, Held> {
        // Nothing can panic while the lock is held; a poisoned lock still holds valid numbers.
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Registration of a sender that passed the `closed` check; dropping it ends the registration.
struct Sending<'a>(&'a Shared);

impl Drop for Sending<'_> {
    fn drop(&mut self) {
        self.0.sending.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Producer side, cloned into every receiver.
#[derive(Clone)]
pub struct QueueSender {
    tx: Sender<Batch>,
    shared: Arc<Shared>,
}

/// Consumer side, cloned into every worker.
#[derive(Clone)]
pub struct QueueReceiver {
    rx: Receiver<Batch>,
    shared: Arc<Shared>,
}

/// A queue holding at most `max_spans` spans and `max_bytes` bytes. One batch larger than
/// either bound is still admitted into an empty queue so that no valid request is refused forever.
pub fn bounded(max_spans: usize, max_bytes: usize) -> (QueueSender, QueueReceiver) {
    // Every admitted batch holds at least one span, so max_spans also bounds the batch count.
    let (tx, rx) = crossbeam_channel::bounded(max_spans.max(1));
    let shared = Arc::new(Shared {
        max_spans,
        max_bytes,
        held: Mutex::new(Held::default()),
        spans: AtomicUsize::new(0),
        bytes: AtomicUsize::new(0),
        closed: AtomicBool::new(false),
        sending: AtomicUsize::new(0),
        room: tokio::sync::Notify::new(),
    });
    (
        QueueSender {
            tx,
            shared: shared.clone(),
        },
        QueueReceiver { rx, shared },
    )
}

impl QueueSender {
    /// Takes room for a batch, or says there is none. An empty queue admits any batch.
    fn reserve(&self, spans: usize, bytes: usize) -> bool {
        let s = &self.shared;
        let mut h = s.held();
        let empty = h.spans == 0 && h.bytes == 0;
        if !empty && (h.spans + spans > s.max_spans || h.bytes + bytes > s.max_bytes) {
            return false;
        }
        h.spans += spans;
        h.bytes += bytes;
        s.spans.store(h.spans, Ordering::Release);
        s.bytes.store(h.bytes, Ordering::Release);
        true
    }

    /// Registers a sender, or `None` when the queue is closed. The registration comes first so
    /// that a worker which sees `closed` also sees this sender (both `SeqCst`).
    fn enter(&self) -> Option<Sending<'_>> {
        self.shared.sending.fetch_add(1, Ordering::SeqCst);
        let guard = Sending(&self.shared);
        if self.shared.closed.load(Ordering::SeqCst) {
            return None;
        }
        Some(guard)
    }

    /// Admits the batch if there is room now.
    pub fn try_send(&self, batch: Batch) -> Result<(), QueueError> {
        match self.enter() {
            Some(g) => self.send_entered(&g, batch),
            None => Err(QueueError::Closed(Box::new(batch))),
        }
    }

    /// The part of [`Self::try_send`] after the `closed` check; `_entered` keeps the sender
    /// registered until the batch is in the channel.
    fn send_entered(&self, _entered: &Sending<'_>, batch: Batch) -> Result<(), QueueError> {
        let (spans, bytes) = (batch.spans.max(1), batch.bytes);
        if !self.reserve(spans, bytes) {
            return Err(QueueError::Full(Box::new(batch)));
        }
        match self.tx.try_send(batch) {
            Ok(()) => Ok(()),
            Err(e) => {
                self.shared.release(spans, bytes);
                match e {
                    crossbeam_channel::TrySendError::Full(b) => Err(QueueError::Full(Box::new(b))),
                    crossbeam_channel::TrySendError::Disconnected(b) => {
                        Err(QueueError::Closed(Box::new(b)))
                    }
                }
            }
        }
    }

    /// Admits the batch, waiting up to `max_wait` for room.
    pub async fn send_wait(&self, batch: Batch, max_wait: Duration) -> Result<(), QueueError> {
        let deadline = tokio::time::Instant::now() + max_wait;
        let mut batch = batch;
        loop {
            // Register interest before trying, so a release between the try and the wait is seen.
            let notified = self.shared.room.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.try_send(batch) {
                Ok(()) => return Ok(()),
                Err(QueueError::Full(b)) => batch = *b,
                Err(e) => return Err(e),
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.try_send(batch);
            }
        }
    }

    /// Stops admission; workers drain what is queued and then see the end.
    pub fn close(&self) {
        self.shared.closed.store(true, Ordering::SeqCst);
        self.shared.room.notify_waiters();
    }

    pub fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire)
    }

    pub fn depth_spans(&self) -> usize {
        self.shared.spans.load(Ordering::Acquire)
    }

    pub fn depth_bytes(&self) -> usize {
        self.shared.bytes.load(Ordering::Acquire)
    }

    pub fn capacity_spans(&self) -> usize {
        self.shared.max_spans
    }

    pub fn capacity_bytes(&self) -> usize {
        self.shared.max_bytes
    }
}

impl Shared {
    fn release(&self, spans: usize, bytes: usize) {
        {
            let mut h = self.held();
            h.spans = h.spans.saturating_sub(spans);
            h.bytes = h.bytes.saturating_sub(bytes);
            self.spans.store(h.spans, Ordering::Release);
            self.bytes.store(h.bytes, Ordering::Release);
        }
        self.room.notify_waiters();
    }
}

/// What a worker gets from [`QueueReceiver::recv`].
pub enum Recv {
    Batch(Batch),
    /// Nothing arrived within the timeout; the queue is still open, or closed with a sender
    /// admitted before the close still handing its batch over.
    Idle,
    /// Closed and empty: the worker can exit.
    Done,
}

/// How long a worker waits for a sender that was already admitting when the queue closed.
const CLOSING_POLL: Duration = Duration::from_millis(5);

impl QueueReceiver {
    /// Takes the next batch, releasing its capacity.
    pub fn recv(&self, timeout: Duration) -> Recv {
        self.recv_observed(timeout, || {})
    }

    /// [`Self::recv`], calling `on_empty` right after the first look found the channel empty
    /// (tests put a send and a `close` exactly there).
    fn recv_observed(&self, timeout: Duration, on_empty: impl FnOnce()) -> Recv {
        use crossbeam_channel::RecvTimeoutError;
        let got = match self.rx.try_recv() {
            Ok(b) => Some(b),
            Err(TryRecvError::Disconnected) => return Recv::Done,
            Err(TryRecvError::Empty) => {
                on_empty();
                let wait = if !self.shared.closed.load(Ordering::SeqCst) {
                    timeout
                } else if self.shared.sending.load(Ordering::SeqCst) == 0 {
                    // Closed, and every sender that got past the `closed` check has finished:
                    // what they sent is in the channel now (it may have arrived since the first
                    // look), and nothing more can come.
                    match self.rx.try_recv() {
                        Ok(b) => return self.taken(b),
                        Err(_) => return Recv::Done,
                    }
                } else {
                    // A sender admitted before the close is still sending: its batch is coming.
                    timeout.min(CLOSING_POLL)
                };
                match self.rx.recv_timeout(wait) {
                    Ok(b) => Some(b),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => return Recv::Done,
                }
            }
        };
        match got {
            Some(b) => self.taken(b),
            None => Recv::Idle,
        }
    }

    fn taken(&self, b: Batch) -> Recv {
        self.shared.release(b.spans.max(1), b.bytes);
        Recv::Batch(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn batch(spans: usize, bytes: usize) -> Batch {
        Batch {
            signal: crate::vocab::Signal::Traces,
            request: bytes::Bytes::new(),
            spans,
            bytes,
            received: Instant::now(),
            ack: None,
        }
    }

    #[test]
    fn bounds_spans_and_bytes() {
        let (tx, rx) = bounded(10, 1000);
        tx.try_send(batch(6, 100)).unwrap();
        assert!(matches!(
            tx.try_send(batch(5, 100)),
            Err(QueueError::Full(_))
        ));
        tx.try_send(batch(4, 100)).unwrap();
        assert_eq!(tx.depth_spans(), 10);
        assert!(matches!(rx.recv(Duration::ZERO), Recv::Batch(_)));
        assert_eq!(tx.depth_spans(), 4);
        assert!(matches!(
            tx.try_send(batch(1, 950)),
            Err(QueueError::Full(_))
        ));
        tx.try_send(batch(1, 900)).unwrap();
    }

    #[test]
    fn oversized_batch_admitted_when_empty() {
        let (tx, _rx) = bounded(10, 100);
        tx.try_send(batch(50, 5000)).unwrap();
        assert!(matches!(tx.try_send(batch(1, 1)), Err(QueueError::Full(_))));
    }

    #[test]
    fn close_drains_then_done() {
        let (tx, rx) = bounded(10, 1000);
        tx.try_send(batch(1, 1)).unwrap();
        tx.close();
        assert!(matches!(
            tx.try_send(batch(1, 1)),
            Err(QueueError::Closed(_))
        ));
        assert!(matches!(rx.recv(Duration::ZERO), Recv::Batch(_)));
        assert!(matches!(rx.recv(Duration::ZERO), Recv::Done));
    }

    /// The review's interleaving: the worker's first look finds the channel empty, then a batch
    /// is admitted and the queue closed before the worker checks `closed`. The batch must still
    /// come out; `Done` only after it.
    #[test]
    fn send_and_close_after_the_empty_look_still_deliver() {
        let (tx, rx) = bounded(10, 1000);
        let r = rx.recv_observed(Duration::ZERO, || {
            tx.try_send(batch(3, 10)).unwrap();
            tx.close();
        });
        assert!(
            matches!(r, Recv::Batch(ref b) if b.spans == 3),
            "acknowledged batch lost"
        );
        assert_eq!(tx.depth_spans(), 0);
        assert!(matches!(rx.recv(Duration::ZERO), Recv::Done));
    }

    /// A sender past the `closed` check when `close` runs: the worker waits for its batch
    /// instead of reporting `Done` and leaving the batch in the channel.
    #[test]
    fn sender_admitting_during_close_is_waited_for() {
        let (tx, rx) = bounded(10, 1000);
        let entered = tx.enter().unwrap();
        tx.close();
        assert!(matches!(
            tx.try_send(batch(1, 1)),
            Err(QueueError::Closed(_))
        ));
        assert!(matches!(rx.recv(Duration::ZERO), Recv::Idle));
        tx.send_entered(&entered, batch(2, 10)).unwrap();
        drop(entered);
        assert!(matches!(rx.recv(Duration::ZERO), Recv::Batch(ref b) if b.spans == 2));
        assert!(matches!(rx.recv(Duration::ZERO), Recv::Done));
    }

    /// Senders racing `close`: every batch a sender was told is in is taken by a worker.
    #[test]
    fn no_admitted_batch_is_lost_when_close_races_senders() {
        for round in 0..200u64 {
            let (tx, rx) = bounded(100_000, 1 << 30);
            let senders: Vec<_> = (0..2)
                .map(|_| {
                    let tx = tx.clone();
                    std::thread::spawn(move || {
                        let mut ok = 0usize;
                        for _ in 0..200 {
                            if tx.try_send(batch(1, 1)).is_ok() {
                                ok += 1;
                            }
                        }
                        ok
                    })
                })
                .collect();
            let worker = std::thread::spawn(move || {
                let mut got = 0usize;
                loop {
                    match rx.recv(Duration::from_millis(1)) {
                        Recv::Batch(_) => got += 1,
                        Recv::Idle => {}
                        Recv::Done => return got,
                    }
                }
            });
            // Vary where the close lands relative to the senders.
            for _ in 0..(round % 7) * 50 {
                std::hint::spin_loop();
            }
            tx.close();
            let ok: usize = senders.into_iter().map(|t| t.join().unwrap()).sum();
            assert_eq!(worker.join().unwrap(), ok, "round {round}");
        }
    }

    /// Concurrent senders never push the queue past either bound: of four batches of 300 only
    /// three fit in 1000, however the senders interleave.
    #[test]
    fn bounds_are_exact_under_concurrent_senders() {
        for (spans, bytes) in [(1, 300), (300, 1)] {
            for _ in 0..200 {
                let (tx, _rx) = bounded(1000, 1000);
                let barrier = Arc::new(std::sync::Barrier::new(4));
                let ts: Vec<_> = (0..4)
                    .map(|_| {
                        let (tx, barrier) = (tx.clone(), barrier.clone());
                        std::thread::spawn(move || {
                            barrier.wait();
                            tx.try_send(batch(spans, bytes)).is_ok()
                        })
                    })
                    .collect();
                let admitted = ts.into_iter().map(|t| t.join().unwrap());
                assert_eq!(admitted.filter(|ok| *ok).count(), 3);
                assert!(tx.depth_bytes() <= 1000, "bytes {}", tx.depth_bytes());
                assert!(tx.depth_spans() <= 1000, "spans {}", tx.depth_spans());
            }
        }
    }

    #[tokio::test]
    async fn wait_gets_room_when_worker_takes() {
        let (tx, rx) = bounded(2, 1000);
        tx.try_send(batch(2, 1)).unwrap();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            let got = matches!(rx.recv(Duration::from_secs(1)), Recv::Batch(_));
            // Keep the consumer alive: a queue with no consumer left reports Closed.
            (got, rx)
        });
        tx.send_wait(batch(2, 1), Duration::from_secs(5))
            .await
            .unwrap();
        assert!(t.join().unwrap().0);
    }

    #[tokio::test]
    async fn wait_times_out_with_full() {
        let (tx, _rx) = bounded(2, 1000);
        tx.try_send(batch(2, 1)).unwrap();
        let r = tx.send_wait(batch(1, 1), Duration::from_millis(30)).await;
        assert!(matches!(r, Err(QueueError::Full(_))));
    }
}
