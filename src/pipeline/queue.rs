//! The bounded queue between the async receivers and the worker threads, bounded both in spans
//! and in bytes. Admission reserves capacity first and only then sends, so the channel never
//! blocks and the bound is exact; workers release capacity as they take batches off.

use super::Batch;
use crossbeam_channel::{Receiver, Sender, TryRecvError};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
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
            .field("spans", &self.spans)
            .field("bytes", &self.bytes)
            .finish()
    }
}

struct Shared {
    max_spans: usize,
    max_bytes: usize,
    spans: AtomicUsize,
    bytes: AtomicUsize,
    closed: AtomicBool,
    /// Wakes receivers waiting for room (`when_full: wait`).
    room: tokio::sync::Notify,
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
        spans: AtomicUsize::new(0),
        bytes: AtomicUsize::new(0),
        closed: AtomicBool::new(false),
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
    fn reserve(&self, spans: usize, bytes: usize) -> bool {
        let s = &self.shared;
        let mut cur = s.spans.load(Ordering::Acquire);
        loop {
            let empty = cur == 0;
            if !empty && cur + spans > s.max_spans {
                return false;
            }
            if !empty && s.bytes.load(Ordering::Acquire) + bytes > s.max_bytes {
                return false;
            }
            match s.spans.compare_exchange_weak(
                cur,
                cur + spans,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    s.bytes.fetch_add(bytes, Ordering::AcqRel);
                    return true;
                }
                Err(now) => cur = now,
            }
        }
    }

    /// Admits the batch if there is room now.
    pub fn try_send(&self, batch: Batch) -> Result<(), QueueError> {
        if self.shared.closed.load(Ordering::Acquire) {
            return Err(QueueError::Closed(Box::new(batch)));
        }
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
        self.shared.closed.store(true, Ordering::Release);
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
        self.spans.fetch_sub(spans, Ordering::AcqRel);
        self.bytes.fetch_sub(bytes, Ordering::AcqRel);
        self.room.notify_waiters();
    }
}

/// What a worker gets from [`QueueReceiver::recv`].
pub enum Recv {
    Batch(Batch),
    /// Nothing arrived within the timeout; the queue is still open.
    Idle,
    /// Closed and empty: the worker can exit.
    Done,
}

impl QueueReceiver {
    /// Takes the next batch, releasing its capacity.
    pub fn recv(&self, timeout: Duration) -> Recv {
        let got = match self.rx.try_recv() {
            Ok(b) => Some(b),
            Err(TryRecvError::Disconnected) => return Recv::Done,
            Err(TryRecvError::Empty) => {
                if self.shared.closed.load(Ordering::Acquire) {
                    return Recv::Done;
                }
                match self.rx.recv_timeout(timeout) {
                    Ok(b) => Some(b),
                    Err(crossbeam_channel::RecvTimeoutError::Timeout) => None,
                    Err(crossbeam_channel::RecvTimeoutError::Disconnected) => return Recv::Done,
                }
            }
        };
        match got {
            Some(b) => {
                self.shared.release(b.spans.max(1), b.bytes);
                Recv::Batch(b)
            }
            None => Recv::Idle,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use std::time::Instant;

    fn batch(spans: usize, bytes: usize) -> Batch {
        Batch {
            request: ExportTraceServiceRequest::default(),
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
