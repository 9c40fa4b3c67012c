//! Sinks: where processed batches go. Worker threads call [`Sink::write`] for every sink of the
//! fan-out; each call blocks that worker until the sink's guarantee holds, which is how a slow
//! sink becomes back-pressure on the queue and then on the receivers.

use crate::vocab::{Signal, SinkStatus};
use bytes::Bytes;
use std::sync::Arc;

pub mod file_exporter;
#[cfg(feature = "kafka")]
pub mod kafka;
pub mod kafka_exporter;
pub mod log;
pub mod otlp;
pub mod registry;

pub use registry::{Exporter, ExportersConfig, SinkConfig, SinkContext, ValidateContext};

/// What a sink promises once `write` returned `Ok`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Handed to the next stage (OTLP downstream answered OK) or written without fsync.
    Accepted,
    /// On stable storage (fsynced) or confirmed by a replicated broker.
    Durable,
}

/// How a failed write should be treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Transient (downstream unavailable, disk full): the batch is refused or dropped as
    /// `export_failed`, and the service keeps trying later batches.
    Retryable,
    /// The sink cannot continue (fsync failed, corrupted state): it reports unready and
    /// every later write fails.
    Fatal,
    /// The data itself was rejected (downstream said INVALID_ARGUMENT): retrying is useless.
    Permanent,
}

/// A sink failure: a kind for policy plus a short message that never contains payload text.
#[derive(Debug, thiserror::Error)]
#[error("{sink}: {message}")]
pub struct SinkError {
    pub sink: &'static str,
    pub kind: FailureKind,
    pub message: String,
}

impl SinkError {
    pub fn new(sink: &'static str, kind: FailureKind, message: impl Into<String>) -> Self {
        SinkError {
            sink,
            kind,
            message: message.into(),
        }
    }
}

/// What earlier sinks of a fan-out learned about the batch, handed to later ones: the Kafka
/// sink stamps the log's sequence number and leaf hash on its records, so a consumer can prove
/// a Kafka record against the replica's tamper-evident log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Provenance {
    /// Where the local log put this batch, when the `file` exporter is on and wrote it.
    pub log: Option<LogPosition>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogPosition {
    pub seq: u64,
    pub leaf_hash: [u8; 32],
}

/// One destination of processed spans.
pub trait Sink: Send + Sync {
    /// Stable short name, used as the `exporter` metrics label.
    fn name(&self) -> &'static str;

    /// Writes one processed batch: `encoded` is `signal`'s OTLP protobuf export request
    /// (`ExportTraceServiceRequest`, `ExportLogsServiceRequest` or
    /// `ExportMetricsServiceRequest`; shared by every sink of the fan-out, and cheap to clone),
    /// `spans` its item count (spans, log records or metric data points). Blocking.
    fn write(&self, signal: Signal, encoded: &Bytes, spans: usize) -> Result<Delivery, SinkError>;

    /// `write` as part of the worker's fan-out: sinks earlier in the fan-out record what they
    /// learned in `prov`, later ones may use it. Defaults to `write`.
    fn write_in_fanout(
        &self,
        signal: Signal,
        encoded: &Bytes,
        spans: usize,
        _prov: &mut Provenance,
    ) -> Result<Delivery, SinkError> {
        self.write(signal, encoded, spans)
    }

    /// False once the sink can no longer accept data (e.g. after a fatal fsync error).
    fn ready(&self) -> bool {
        true
    }

    /// A problem the sink is riding out (its destination not answering), or `None`. Unlike
    /// [`Sink::ready`] it does not make the service unready: batches wait and are retried,
    /// and back-pressure refuses new data once the queue is full. Shown by `/readyz` and in
    /// `spanward_exporter_up`.
    fn problem(&self) -> Option<String> {
        None
    }

    /// Whether a `Retryable` failure should be retried in place by the worker (blocking it, so
    /// the queue fills and receivers refuse) rather than given up. True for local storage: a
    /// full disk must become back-pressure, never the loss of spans already acknowledged.
    fn hold_on_retryable(&self) -> bool {
        false
    }

    /// The shutdown deadline passed: stop waiting and retrying, fail what is in flight.
    fn abort(&self) {}

    /// Flushes and closes: called once at shutdown after the queue drained.
    fn shutdown(&self) -> Result<(), SinkError> {
        Ok(())
    }
}

/// A sink as [`Health`](crate::vocab::Health) sees it: the [`Sink`] methods of the same names.
struct Status(Arc<dyn Sink>);

impl SinkStatus for Status {
    fn name(&self) -> &'static str {
        self.0.name()
    }

    fn ready(&self) -> bool {
        self.0.ready()
    }

    fn problem(&self) -> Option<String> {
        self.0.problem()
    }
}

/// The sinks as [`Health`](crate::vocab::Health) sees them.
pub fn statuses(sinks: &[Arc<dyn Sink>]) -> Vec<Arc<dyn SinkStatus>> {
    sinks
        .iter()
        .map(|s| Arc::new(Status(s.clone())) as Arc<dyn SinkStatus>)
        .collect()
}
