//! The per-batch processing stages that run on worker threads, in order: fingerprint → scrub →
//! audit (sampling runs earlier, on the receiver, so sampled-out spans never take queue space).
//! Stages read the encoded request where it sits and record their changes as edits; the
//! request is written once, after all of them, and only when something changed. A span that a
//! stage fails or panics on is removed and counted (`reason="fingerprint_error"` or
//! `"scrub_error"`, by the stage): it is never forwarded half-processed.

use super::fingerprint::Fingerprinter;
use crate::audit::AuditLog;
use crate::otlp::num::*;
use crate::otlp::view;
use crate::otlp::{Edits, Msg, WireError};
use crate::scrub::span::WalkError;
use crate::scrub::{ScrubReport, Scrubber};
use crate::vocab::metrics::Metrics;
use crate::vocab::{DropReason, Signal};
use bytes::Bytes;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;
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

/// A processed batch: the request to hand to the sinks and what happened on the way.
#[derive(Debug)]
pub struct Processed {
    pub request: Bytes,
    /// Spans left in `request`.
    pub spans: usize,
    pub report: StageReport,
    /// `request` was written into the caller's buffer (see [`Scratch::recycle`]).
    written: bool,
}

/// What a worker keeps between batches: the edit list and an output buffer. A request with
/// changes is written into the buffer, which goes to the sinks as `Bytes`; once they are done
/// with it, [`Scratch::recycle`] takes the allocation back, so a worker writes its requests
/// into the same memory instead of fresh pages each time.
#[derive(Default)]
pub struct Scratch {
    pub edits: Edits,
    buf: Vec<u8>,
}

impl Scratch {
    /// Takes back the buffer of a processed request the sinks no longer hold.
    pub fn recycle(&mut self, p: Processed) {
        if !p.written {
            return;
        }
        if let Ok(b) = p.request.try_into_mut() {
            self.buf = Vec::from(b);
        }
    }
}

/// The configured stages. All `None` means pass-through.
#[derive(Default)]
pub struct Stages {
    pub fingerprint: Option<Fingerprinter>,
    pub scrub: Option<Scrubber>,
    pub audit: Option<AuditLog>,
}

/// A stage stopped on one span or resource (its walk over the encoding met what it could not
/// read). Which stage it was is known from where the walk was: see [`Failed`].
#[derive(Debug)]
struct StageFail;

impl From<WireError> for StageFail {
    fn from(_: WireError) -> Self {
        StageFail
    }
}

impl From<WalkError> for StageFail {
    fn from(_: WalkError) -> Self {
        StageFail
    }
}

/// Spans removed from a request because a stage failed or panicked on them, by stage.
#[derive(Debug, Default, Clone, Copy)]
struct Failed {
    /// The fingerprint stage failed on the span (`reason="fingerprint_error"`).
    fingerprint: usize,
    /// Scrubbing failed on the span, or on the resource or scope it sits under, or the walk
    /// could not read it (`reason="scrub_error"`).
    scrub: usize,
}

impl Failed {
    fn total(&self) -> usize {
        self.fingerprint + self.scrub
    }
}

impl Stages {
    pub fn pass_through() -> Self {
        Stages::default()
    }

    fn is_pass_through(&self) -> bool {
        self.fingerprint.is_none() && self.scrub.is_none() && self.audit.is_none()
    }

    /// Runs every stage over a decoded request (through its encoding; see
    /// [`Stages::process_encoded`]). Fails closed as [`crate::otlp::edit_decoded`] does: should
    /// the processed request not decode, none of its spans is left in `req` (they are counted
    /// as dropped, `scrub_error`), so nothing unprocessed can be forwarded from it.
    pub fn process(&self, req: &mut ExportTraceServiceRequest, m: &Metrics) -> StageReport {
        if self.is_pass_through() {
            return StageReport::default();
        }
        let bytes = Bytes::from(req.encode_to_vec());
        let spans = super::count_spans(req);
        let mut scratch = Scratch::default();
        let p = self.process_encoded(bytes, spans, m, &mut scratch);
        take_processed(req, p)
    }

    /// Runs every stage over a checked trace request holding `spans` spans.
    pub fn process_encoded(
        &self,
        request: Bytes,
        spans: usize,
        m: &Metrics,
        scratch: &mut Scratch,
    ) -> Processed {
        self.process_signal(Signal::Traces, request, spans, m, scratch)
    }

    /// Runs every stage over a checked request of `signal` holding `spans` items (spans, log
    /// records or metric data points): fingerprints on spans and log records, scrubbing on all
    /// three, the audit on spans and GenAI events.
    pub fn process_signal(
        &self,
        signal: Signal,
        request: Bytes,
        spans: usize,
        m: &Metrics,
        scratch: &mut Scratch,
    ) -> Processed {
        let mut report = StageReport::default();
        if self.is_pass_through() {
            return Processed {
                request,
                spans,
                report,
                written: false,
            };
        }
        let edits = &mut scratch.edits;
        edits.clear();
        let mut rep = ScrubReport::default();
        // A checked request always parses; should it not, nothing of it goes on.
        let unparsable = |mut report: StageReport| {
            report.dropped.push((DropReason::ScrubError, spans));
            Processed {
                request: Bytes::new(),
                spans: 0,
                report,
                written: false,
            }
        };
        let Some(mut failed) = self.edit(signal, Msg::new(&request), edits, &mut rep) else {
            return unparsable(report);
        };
        let mut buf = std::mem::take(&mut scratch.buf);
        // Echoes across the request: a secret one string revealed (`password=…`) that is still
        // in the request elsewhere (`retrying with …`) is masked there too, by a second walk
        // that looks for the revealed values in every string. Requests that revealed nothing,
        // or whose revealed values are all gone, are walked once.
        let mut applied: Option<Result<(), crate::otlp::EditError>> = None;
        if rep.found_secrets() {
            let r = if edits.is_empty() {
                Ok(())
            } else {
                edits.apply(Msg::new(&request), &mut buf)
            };
            let written: &[u8] = if edits.is_empty() { &request } else { &buf };
            if r.is_ok() && rep.echo_remains(written) {
                let known = rep.known_from_found();
                edits.clear();
                rep = ScrubReport::default();
                rep.set_known(known);
                match self.edit(signal, Msg::new(&request), edits, &mut rep) {
                    Some(f) => failed = f,
                    None => return unparsable(report),
                }
            } else {
                applied = Some(r);
            }
        }
        for (typ, n) in &rep.matches {
            m.redactions
                .get_or_create(&crate::vocab::metrics::TypeLabel {
                    r#type: typ.to_string(),
                })
                .inc_by(*n);
        }
        m.scrub_bytes_values_skipped
            .inc_by(rep.bytes_values_skipped);
        m.scrub_dropped_attributes.inc_by(rep.dropped_attributes);
        m.scrub_scanned_bytes.inc_by(rep.bytes_scanned);
        let mut out = request;
        let mut spans = spans;
        let mut written = false;
        if failed.total() > 0 {
            tracing::error!(
                spans = failed.total(),
                fingerprint = failed.fingerprint,
                scrub = failed.scrub,
                signal = signal.as_str(),
                "a stage failed on items; they were dropped, not forwarded"
            );
            report
                .dropped
                .push((DropReason::FingerprintError, failed.fingerprint));
            report.dropped.push((DropReason::ScrubError, failed.scrub));
            spans = spans.saturating_sub(failed.total());
        }
        if !edits.is_empty() {
            let r = match applied {
                Some(r) => r,
                None => edits.apply(Msg::new(&out), &mut buf),
            };
            match r {
                Ok(()) => {
                    out = Bytes::from(buf);
                    written = true;
                }
                Err(_) => {
                    // A checked request always parses; should it not, nothing of it goes on.
                    report.dropped.push((DropReason::ScrubError, spans));
                    spans = 0;
                    out = Bytes::new();
                }
            }
        } else {
            scratch.buf = buf;
        }
        if let Some(a) = &self.audit {
            if spans > 0 {
                out = match signal {
                    Signal::Traces => audit(a, out),
                    Signal::Logs => audit_events(a, out),
                    Signal::Metrics => out,
                };
            }
        }
        report.dropped.retain(|(_, n)| *n > 0);
        Processed {
            request: out,
            spans,
            report,
            written,
        }
    }

    /// Fingerprints and scrubs every item of `req` into `edits`; returns the items removed
    /// because a stage failed or panicked on them (or on their resource or scope), or `None`
    /// when the request itself does not parse.
    fn edit(
        &self,
        signal: Signal,
        req: Msg<'_>,
        edits: &mut Edits,
        rep: &mut ScrubReport,
    ) -> Option<Failed> {
        let mut failed = Failed::default();
        let mut removed: Vec<usize> = Vec::new();
        for rs_f in view::each(req, REQUEST_RESOURCE_SPANS) {
            let rs_f = rs_f.ok()?;
            let Some(rs) = rs_f.msg() else { continue };
            let rs_cp = edits.checkpoint();
            let resource = catch_unwind(AssertUnwindSafe(|| -> Result<String, StageFail> {
                let resource = view::last(rs, RS_RESOURCE)?.and_then(|f| f.msg());
                // Read before scrubbing: rules and role maps match the raw name.
                let service = view::service_name(resource)?.to_string();
                if let Some(sc) = &self.scrub {
                    if let Some(r) = resource {
                        sc.scrub_resource_encoded(r, edits, rep)?;
                    }
                    for f in rs.fields() {
                        let f = f?;
                        match f.num {
                            RS_SCHEMA_URL => sc.scrub_string_field(rs, &f, edits, rep)?,
                            RS_SCOPE_SPANS => {
                                let Some(ss) = f.msg() else { continue };
                                for g in ss.fields() {
                                    let g = g?;
                                    match g.num {
                                        SS_SCOPE => {
                                            if let Some(scope) = g.msg() {
                                                sc.scrub_scope_encoded(scope, edits, rep)?;
                                            }
                                        }
                                        SS_SCHEMA_URL => {
                                            sc.scrub_string_field(ss, &g, edits, rep)?
                                        }
                                        _ => {}
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                }
                Ok(service)
            }));
            let Ok(Ok(service)) = resource else {
                // Resource or scope attributes could not be scrubbed: every span under them
                // would carry them, so all of them go.
                edits.truncate(rs_cp);
                edits.delete(&req, rs_f.range());
                failed.scrub += count_in(signal, rs);
                continue;
            };
            let mut spans = |edits: &mut Edits, failed: &mut Failed| -> Result<(), WireError> {
                for ss in view::each(rs, RS_SCOPE_SPANS) {
                    let Some(ss) = ss?.msg() else { continue };
                    for it_f in view::each(ss, SS_ITEMS) {
                        let it_f = it_f?;
                        let Some(item) = it_f.msg() else { continue };
                        let cp = edits.checkpoint();
                        removed.clear();
                        // Which stage was running when the item failed (or panicked).
                        let mut in_fingerprint = true;
                        let ok = catch_unwind(AssertUnwindSafe(|| -> Result<(), StageFail> {
                            self.edit_item(signal, &service, item, edits, &mut removed, rep, || {
                                in_fingerprint = false
                            })
                        }));
                        if !matches!(ok, Ok(Ok(()))) {
                            edits.truncate(cp);
                            edits.delete(&ss, it_f.range());
                            let n = match signal {
                                Signal::Metrics => view::metric_points(item).unwrap_or(0),
                                _ => 1,
                            };
                            if in_fingerprint {
                                failed.fingerprint += n;
                            } else {
                                failed.scrub += n;
                            }
                        }
                    }
                }
                Ok(())
            };
            let mut here = Failed::default();
            if spans(edits, &mut here).is_err() {
                // Unreachable for a checked request: none of this resource's spans goes on.
                edits.truncate(rs_cp);
                edits.delete(&req, rs_f.range());
                here = Failed {
                    fingerprint: 0,
                    scrub: count_in(signal, rs),
                };
            }
            failed.fingerprint += here.fingerprint;
            failed.scrub += here.scrub;
        }
        Some(failed)
    }

    /// The stages on one item: its fingerprint (spans and log records), then its scrub;
    /// `scrubbing` is called between the two, so a failure is counted against the stage that
    /// was running.
    #[allow(clippy::too_many_arguments)]
    fn edit_item(
        &self,
        signal: Signal,
        service: &str,
        item: Msg<'_>,
        edits: &mut Edits,
        removed: &mut Vec<usize>,
        rep: &mut ScrubReport,
        scrubbing: impl FnOnce(),
    ) -> Result<(), StageFail> {
        if let Some(f) = &self.fingerprint {
            match signal {
                Signal::Traces => f.apply_encoded(service, item, edits, removed)?,
                Signal::Logs => f.apply_log_encoded(service, item, edits, removed)?,
                Signal::Metrics => {}
            }
        }
        scrubbing();
        #[cfg(feature = "fault-injection")]
        fault::maybe_fail(signal, item);
        if let Some(sc) = &self.scrub {
            match signal {
                Signal::Traces => sc.scrub_span_encoded(item, removed, edits, rep)?,
                Signal::Logs => sc.scrub_log_record_encoded(item, removed, edits, rep)?,
                Signal::Metrics => sc.scrub_metric_encoded(item, edits, rep)?,
            }
        }
        Ok(())
    }
}

/// Puts a processed request back into `req` (the decoded entry point, [`Stages::process`]).
/// A request that does not decode leaves no span in `req`: they are counted as dropped
/// (`scrub_error`) and nothing of the request goes on, unscrubbed or otherwise.
fn take_processed(req: &mut ExportTraceServiceRequest, p: Processed) -> StageReport {
    let mut report = p.report;
    match ExportTraceServiceRequest::decode(p.request) {
        Ok(r) => *req = r,
        Err(_) => {
            tracing::error!(
                spans = p.spans,
                "a processed request did not decode; its spans were dropped, not forwarded"
            );
            report.dropped.push((DropReason::ScrubError, p.spans));
            report.dropped.retain(|(_, n)| *n > 0);
            *req = ExportTraceServiceRequest::default();
        }
    }
    report
}

/// Items under one resource's entry (as far as it reads): spans, log records or data points.
fn count_in(signal: Signal, rs: Msg<'_>) -> usize {
    view::each(rs, RS_SCOPE_SPANS)
        .filter_map(|f| f.ok().and_then(|f| f.msg()))
        .flat_map(|ss| view::each(ss, SS_ITEMS))
        .filter_map(|f| f.ok().and_then(|f| f.msg()))
        .map(|item| match signal {
            Signal::Metrics => view::metric_points(item).unwrap_or(0),
            _ => 1,
        })
        .sum()
}

/// Writes the audit records of a processed request and, when the chain advanced, anchors its
/// head in every resource (so the log's signed checkpoints commit to the audit trail). Audit
/// is off by default; it works on the decoded request.
fn audit(a: &AuditLog, request: Bytes) -> Bytes {
    let Ok(mut req) = ExportTraceServiceRequest::decode(request.clone()) else {
        return request;
    };
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
    let resources = req.resource_spans.iter_mut().map(|rs| &mut rs.resource);
    match anchor(a, head_before, resources) {
        true => Bytes::from(req.encode_to_vec()),
        false => request,
    }
}

/// [`audit`] for a logs request: a record per GenAI event.
fn audit_events(a: &AuditLog, request: Bytes) -> Bytes {
    let Ok(mut req) = ExportLogsServiceRequest::decode(request.clone()) else {
        return request;
    };
    let head_before = a.chain_head();
    let empty = Default::default();
    for rl in &req.resource_logs {
        let resource = rl.resource.as_ref().unwrap_or(&empty);
        for record in rl.scope_logs.iter().flat_map(|s| s.log_records.iter()) {
            if let Err(e) = a.record_event(resource, record) {
                tracing::warn!(error = %e, "audit record not written");
            }
        }
    }
    let resources = req.resource_logs.iter_mut().map(|rl| &mut rl.resource);
    match anchor(a, head_before, resources) {
        true => Bytes::from(req.encode_to_vec()),
        false => request,
    }
}

/// Flushes the audit file and, when its chain advanced past `head_before`, adds the new head
/// to every resource; true when it did.
fn anchor<'r>(
    a: &AuditLog,
    head_before: Option<String>,
    resources: impl Iterator<Item = &'r mut Option<Resource>>,
) -> bool {
    if let Err(e) = a.flush() {
        tracing::warn!(error = %e, "audit file flush failed");
    }
    let Some(head) = a.chain_head().filter(|h| Some(h) != head_before.as_ref()) else {
        return false;
    };
    for r in resources {
        r.get_or_insert_with(Default::default).attributes.push(
            opentelemetry_proto::tonic::common::v1::KeyValue {
                key: AUDIT_CHAIN_HEAD.into(),
                value: Some(opentelemetry_proto::tonic::common::v1::AnyValue {
                    value: Some(
                        opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(
                            head.clone(),
                        ),
                    ),
                }),
                ..Default::default()
            },
        );
    }
    true
}

/// Test-only fault injection (cargo feature `fault-injection`): a span carrying the attribute
/// `spanward.test.fault` = `panic` makes the redaction stage panic on it (after its fingerprint),
/// proving the fail-closed path.
#[cfg(feature = "fault-injection")]
mod fault {
    use crate::otlp::num::{LOG_ATTRIBUTES, SPAN_ATTRIBUTES};
    use crate::otlp::view::{each, Kv};
    use crate::otlp::Msg;
    use crate::vocab::Signal;

    pub fn maybe_fail(signal: Signal, item: Msg<'_>) {
        let attrs = match signal {
            Signal::Traces => SPAN_ATTRIBUTES,
            Signal::Logs => LOG_ATTRIBUTES,
            Signal::Metrics => return,
        };
        let hit = each(item, attrs).any(|f| {
            let Some(kv) = f.ok().and_then(|f| f.msg()) else {
                return false;
            };
            let Ok(kv) = Kv::read(kv) else { return false };
            kv.key == "spanward.test.fault" && matches!(kv.string(), Ok(Some("panic")))
        });
        if hit {
            panic!("injected fault");
        }
    }
}

#[cfg(test)]
#[path = "stages_tests.rs"]
mod tests;
