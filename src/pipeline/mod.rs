//! The data path between receivers and sinks: the [`Batch`] that crosses it, the bounded
//! [`queue`], the [`worker`] pool that runs the stages, and the acknowledgement handle.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use std::time::Instant;

pub mod fingerprint;
pub mod glob;
pub mod queue;
pub mod sample;
pub mod stages;
pub mod worker;

/// Why spans did not reach every sink. One enum for metrics labels and log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// Intentional: consistent probability sampling decided against the trace.
    Sampled,
    /// A stage failed or panicked on the span; it was dropped rather than forwarded raw.
    ScrubError,
    /// A sink gave up on the batch (retries exhausted, permanent rejection, disk error).
    ExportFailed,
    /// Still queued when `shutdown_timeout` ran out.
    Shutdown,
}

impl DropReason {
    pub const ALL: [DropReason; 4] = [
        DropReason::Sampled,
        DropReason::ScrubError,
        DropReason::ExportFailed,
        DropReason::Shutdown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::Sampled => "sampled",
            DropReason::ScrubError => "scrub_error",
            DropReason::ExportFailed => "export_failed",
            DropReason::Shutdown => "shutdown",
        }
    }
}

/// Why a request was refused before its spans were accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefuseReason {
    /// The queue had no room within `max_wait` (or at once with `when_full: refuse`). Retryable.
    QueueFull,
    /// The service is shutting down. Retryable (another replica, or this one after restart).
    ShuttingDown,
    /// A sink reported a fatal error and the service is unready. Retryable.
    Unready,
    /// With `ack: durable`, a sink could not confirm the batch. Retryable.
    NotDurable,
    /// Body over the size limit, or a compression bomb. Not retryable.
    TooLarge,
    /// Undecodable protobuf/JSON, bad gzip, wrong content type. Not retryable.
    Malformed,
    /// The client is over its `receivers.otlp.rate_limit`. Retryable after the bucket refills.
    RateLimited,
    /// Memory is over the `pipeline.memory_limiter` limits. Retryable.
    MemoryLimited,
    /// Missing or unknown bearer token. Not retryable (the same token would fail again).
    Unauthenticated,
}

impl RefuseReason {
    pub const ALL: [RefuseReason; 9] = [
        RefuseReason::QueueFull,
        RefuseReason::ShuttingDown,
        RefuseReason::Unready,
        RefuseReason::NotDurable,
        RefuseReason::TooLarge,
        RefuseReason::Malformed,
        RefuseReason::RateLimited,
        RefuseReason::MemoryLimited,
        RefuseReason::Unauthenticated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RefuseReason::QueueFull => "queue_full",
            RefuseReason::ShuttingDown => "shutting_down",
            RefuseReason::Unready => "unready",
            RefuseReason::NotDurable => "not_durable",
            RefuseReason::TooLarge => "too_large",
            RefuseReason::Malformed => "malformed",
            RefuseReason::RateLimited => "rate_limited",
            RefuseReason::MemoryLimited => "memory_limited",
            RefuseReason::Unauthenticated => "unauthenticated",
        }
    }

    /// Whether the client should retry (and is told when, with `RetryInfo` / `Retry-After`).
    pub fn retryable(self) -> bool {
        !matches!(
            self,
            RefuseReason::TooLarge | RefuseReason::Malformed | RefuseReason::Unauthenticated
        )
    }
}

/// The outcome reported back to a receiver waiting on a batch (`ack: durable`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckResult {
    /// Every sink confirmed the batch.
    Delivered,
    /// The batch was not confirmed; the client gets a retryable refusal.
    Failed,
}

/// Resolved exactly once by the worker that processed the batch. Dropping an unresolved `Ack`
/// (a worker died, shutdown discarded the batch) reports `Failed`: never silent success.
pub struct Ack {
    tx: Option<tokio::sync::oneshot::Sender<AckResult>>,
}

impl Ack {
    pub fn new() -> (Ack, tokio::sync::oneshot::Receiver<AckResult>) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        (Ack { tx: Some(tx) }, rx)
    }

    pub fn resolve(mut self, r: AckResult) {
        if let Some(tx) = self.tx.take() {
            // The receiver may have given up (client went away); nothing to do then.
            let _ = tx.send(r);
        }
    }
}

impl Drop for Ack {
    fn drop(&mut self) {
        if let Some(tx) = self.tx.take() {
            let _ = tx.send(AckResult::Failed);
        }
    }
}

/// The spans of one export request on their way through the pipeline.
pub struct Batch {
    /// The request, encoded: an OTLP `ExportTraceServiceRequest` the receivers checked (see
    /// [`crate::otlp`]); stages read it in place.
    pub request: bytes::Bytes,
    /// Spans in `request` (after early sampling).
    pub spans: usize,
    /// Encoded size of the request as received (after decompression); what the queue's byte
    /// bound counts.
    pub bytes: usize,
    pub received: Instant,
    /// Present with `ack: durable`: the receiver awaits it before answering.
    pub ack: Option<Ack>,
}

/// Number of spans in a request.
pub fn count_spans(req: &ExportTraceServiceRequest) -> usize {
    req.resource_spans
        .iter()
        .flat_map(|r| r.scope_spans.iter())
        .map(|s| s.spans.len())
        .sum()
}

/// Number of spans in several requests.
pub fn count_spans_all(reqs: &[ExportTraceServiceRequest]) -> usize {
    reqs.iter().map(count_spans).sum()
}
