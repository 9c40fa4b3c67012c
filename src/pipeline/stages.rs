//! The per-batch processing stages that run on worker threads, in order: fingerprint → scrub
//! (sampling runs earlier, on the receiver, so sampled-out spans never take queue space).
//! Each stage edits the request in place; a span a stage cannot process is removed and counted.

use super::DropReason;
use crate::admin::metrics::Metrics;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

/// What the stages did to one batch.
#[derive(Debug, Default)]
pub struct StageReport {
    /// Spans removed by a stage, by reason.
    pub dropped: Vec<(DropReason, usize)>,
}

impl StageReport {
    pub fn dropped_total(&self) -> usize {
        self.dropped.iter().map(|(_, n)| n).sum()
    }
}

/// The configured stages. Empty means pass-through.
#[derive(Default)]
pub struct Stages {}

impl Stages {
    pub fn pass_through() -> Self {
        Stages {}
    }

    /// Runs every stage over the batch.
    pub fn process(&self, _req: &mut ExportTraceServiceRequest, _m: &Metrics) -> StageReport {
        StageReport::default()
    }
}
