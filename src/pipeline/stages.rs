//! The per-batch processing stages that run on worker threads, in order: fingerprint → scrub →
//! audit (sampling runs earlier, on the receiver, so sampled-out spans never take queue space).
//! Each stage edits the request in place. A span that a stage fails or panics on is removed and
//! counted (`reason="scrub_error"`): it is never forwarded half-processed.

use super::fingerprint::Fingerprinter;
use super::sample::service_name;
use super::DropReason;
use crate::admin::metrics::Metrics;
use crate::audit::AuditLog;
use crate::scrub::{ScrubReport, Scrubber};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Resource attribute carrying the audit file's chain head after the batch's records.
pub const AUDIT_CHAIN_HEAD: &str = "spanward.audit.chain_head";

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

/// The configured stages. All `None` means pass-through.
#[derive(Default)]
pub struct Stages {
    pub fingerprint: Option<Fingerprinter>,
    pub scrub: Option<Scrubber>,
    pub audit: Option<AuditLog>,
}

impl Stages {
    pub fn pass_through() -> Self {
        Stages::default()
    }

    fn is_pass_through(&self) -> bool {
        self.fingerprint.is_none() && self.scrub.is_none() && self.audit.is_none()
    }

    /// Runs every stage over the batch.
    pub fn process(&self, req: &mut ExportTraceServiceRequest, m: &Metrics) -> StageReport {
        let mut report = StageReport::default();
        if self.is_pass_through() {
            return report;
        }
        let mut failed = 0usize;
        let mut rep = ScrubReport::default();
        req.resource_spans.retain_mut(|rs| {
            // The service name is read before scrubbing: rules and role maps match the raw name.
            let service = service_name(rs.resource.as_ref()).to_string();
            if let Some(sc) = &self.scrub {
                let ok = catch_unwind(AssertUnwindSafe(|| {
                    if let Some(r) = rs.resource.as_mut() {
                        sc.scrub_resource(r, &mut rep);
                    }
                    for ss in &mut rs.scope_spans {
                        if let Some(scope) = ss.scope.as_mut() {
                            sc.scrub_scope(scope, &mut rep);
                        }
                    }
                }));
                if ok.is_err() {
                    // Resource or scope attributes could not be scrubbed: every span under them
                    // would carry them, so all of them go.
                    failed += rs.scope_spans.iter().map(|s| s.spans.len()).sum::<usize>();
                    return false;
                }
            }
            for ss in &mut rs.scope_spans {
                ss.spans.retain_mut(|span| {
                    let ok = catch_unwind(AssertUnwindSafe(|| {
                        #[cfg(feature = "fault-injection")]
                        fault::maybe_fail(span);
                        if let Some(f) = &self.fingerprint {
                            f.apply_span(&service, span);
                        }
                        if let Some(sc) = &self.scrub {
                            sc.scrub_span(span, &mut rep);
                        }
                    }));
                    if ok.is_err() {
                        failed += 1;
                    }
                    ok.is_ok()
                });
            }
            true
        });
        for (typ, n) in &rep.matches {
            m.redactions
                .get_or_create(&crate::admin::metrics::TypeLabel {
                    r#type: typ.to_string(),
                })
                .inc_by(*n);
        }
        m.scrub_bytes_values_skipped
            .inc_by(rep.bytes_values_skipped);
        m.scrub_dropped_attributes.inc_by(rep.dropped_attributes);
        m.scrub_scanned_bytes.inc_by(rep.bytes_scanned);
        if failed > 0 {
            tracing::error!(
                spans = failed,
                "a stage failed on spans; they were dropped, not forwarded"
            );
            report.dropped.push((DropReason::ScrubError, failed));
        }
        if let Some(a) = &self.audit {
            let head_before = a.chain_head();
            let empty = Default::default();
            for rs in &req.resource_spans {
                let resource = rs.resource.as_ref().unwrap_or(&empty);
                for span in rs.scope_spans.iter().flat_map(|s| s.spans.iter()) {
                    if let Err(e) = a.record(resource, span) {
                        tracing::warn!(error = %e, "audit record not written");
                    }
                }
            }
            if let Err(e) = a.flush() {
                tracing::warn!(error = %e, "audit file flush failed");
            }
            // Anchor the audit chain in what the sinks store: the batch carries the chain head
            // after its records, so the log's signed checkpoints commit to the audit trail.
            if let Some(head) = a.chain_head().filter(|h| Some(h) != head_before.as_ref()) {
                for rs in &mut req.resource_spans {
                    let r = rs.resource.get_or_insert_with(Default::default);
                    r.attributes.push(opentelemetry_proto::tonic::common::v1::KeyValue {
                        key: AUDIT_CHAIN_HEAD.into(),
                        value: Some(opentelemetry_proto::tonic::common::v1::AnyValue {
                            value: Some(
                                opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(
                                    head.clone(),
                                ),
                            ),
                        }),
                        ..Default::default()
                    });
                }
            }
        }
        report.dropped.retain(|(_, n)| *n > 0);
        report
    }
}

/// Test-only fault injection (cargo feature `fault-injection`): a span carrying the attribute
/// `spanward.test.fault` = `panic` makes the stage panic on it, proving the fail-closed path.
#[cfg(feature = "fault-injection")]
mod fault {
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    use opentelemetry_proto::tonic::trace::v1::Span;

    pub fn maybe_fail(span: &Span) {
        let hit = span.attributes.iter().any(|kv| {
            kv.key == "spanward.test.fault"
                && matches!(kv.value.as_ref().and_then(|v| v.value.as_ref()), Some(Value::StringValue(s)) if s == "panic")
        });
        if hit {
            panic!("injected fault");
        }
    }
}
