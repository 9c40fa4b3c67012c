//! The data path between receivers and sinks: the [`Batch`] that crosses it, the bounded
//! [`queue`], the [`worker`] pool that runs the stages, and the acknowledgement handle.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use std::time::Instant;

pub mod component;
pub mod fingerprint;
pub mod glob;
pub mod queue;
pub mod sample;
pub mod stages;
pub mod worker;

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
    /// Which signal's export request `request` is.
    pub signal: crate::vocab::Signal,
    /// The request, encoded: an OTLP `Export{Trace,Logs,Metrics}ServiceRequest` the receivers
    /// checked (see [`crate::otlp`]); stages read it in place.
    pub request: bytes::Bytes,
    /// Items in `request` (after early sampling): spans, log records or metric data points.
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
