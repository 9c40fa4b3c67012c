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
use crate::vocab::DropReason;
use bytes::Bytes;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
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

    /// Runs every stage over a checked request holding `spans` spans.
    pub fn process_encoded(
        &self,
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
        let Some(mut failed) = self.edit(Msg::new(&request), edits, &mut rep) else {
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
                match self.edit(Msg::new(&request), edits, &mut rep) {
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
                "a stage failed on spans; they were dropped, not forwarded"
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
                out = audit(a, out);
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

    /// Fingerprints and scrubs every span of `req` into `edits`; returns the spans removed
    /// because a stage failed or panicked on them (or on their resource or scope), or `None`
    /// when the request itself does not parse.
    fn edit(&self, req: Msg<'_>, edits: &mut Edits, rep: &mut ScrubReport) -> Option<Failed> {
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
                failed.scrub += count_in(rs);
                continue;
            };
            let mut spans = |edits: &mut Edits, failed: &mut Failed| -> Result<(), WireError> {
                for ss in view::each(rs, RS_SCOPE_SPANS) {
                    let Some(ss) = ss?.msg() else { continue };
                    for sp_f in view::each(ss, SS_SPANS) {
                        let sp_f = sp_f?;
                        let Some(span) = sp_f.msg() else { continue };
                        let cp = edits.checkpoint();
                        removed.clear();
                        // Which stage was running when the span failed (or panicked).
                        let mut in_fingerprint = true;
                        let ok = catch_unwind(AssertUnwindSafe(|| -> Result<(), StageFail> {
                            if let Some(f) = &self.fingerprint {
                                f.apply_encoded(&service, span, edits, &mut removed)?;
                            }
                            in_fingerprint = false;
                            #[cfg(feature = "fault-injection")]
                            fault::maybe_fail(span);
                            if let Some(sc) = &self.scrub {
                                sc.scrub_span_encoded(span, &removed, edits, rep)?;
                            }
                            Ok(())
                        }));
                        if !matches!(ok, Ok(Ok(()))) {
                            edits.truncate(cp);
                            edits.delete(&ss, sp_f.range());
                            if in_fingerprint {
                                failed.fingerprint += 1;
                            } else {
                                failed.scrub += 1;
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
                    scrub: count_in(rs),
                };
            }
            failed.fingerprint += here.fingerprint;
            failed.scrub += here.scrub;
        }
        Some(failed)
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

/// Spans under one `ResourceSpans` (as far as it reads).
fn count_in(rs: Msg<'_>) -> usize {
    view::each(rs, RS_SCOPE_SPANS)
        .filter_map(|f| f.ok().and_then(|f| f.msg()))
        .map(|ss| view::each(ss, SS_SPANS).count())
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
    if let Err(e) = a.flush() {
        tracing::warn!(error = %e, "audit file flush failed");
    }
    let Some(head) = a.chain_head().filter(|h| Some(h) != head_before.as_ref()) else {
        return request;
    };
    for rs in &mut req.resource_spans {
        let r = rs.resource.get_or_insert_with(Default::default);
        r.attributes
            .push(opentelemetry_proto::tonic::common::v1::KeyValue {
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
    Bytes::from(req.encode_to_vec())
}

/// Test-only fault injection (cargo feature `fault-injection`): a span carrying the attribute
/// `spanward.test.fault` = `panic` makes the redaction stage panic on it (after its fingerprint),
/// proving the fail-closed path.
#[cfg(feature = "fault-injection")]
mod fault {
    use crate::otlp::num::SPAN_ATTRIBUTES;
    use crate::otlp::view::{each, Kv};
    use crate::otlp::Msg;

    pub fn maybe_fail(span: Msg<'_>) {
        let hit = each(span, SPAN_ATTRIBUTES).any(|f| {
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
mod tests {
    use super::*;
    use crate::keys::{HmacKey, KeySource};
    use crate::otlp::testgen::kv;
    use crate::pipeline::fingerprint::FingerprintConfig;
    use crate::scrub::RedactionConfig;
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    use opentelemetry_proto::tonic::common::v1::{AnyValue, ArrayValue, InstrumentationScope};
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::span::Event;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
    use proptest::prelude::*;

    fn stages() -> &'static Stages {
        static S: std::sync::OnceLock<Stages> = std::sync::OnceLock::new();
        S.get_or_init(|| {
            let key = || HmacKey::from_bytes(vec![5; 32], None, KeySource::File);
            Stages {
                fingerprint: Some(
                    Fingerprinter::new(&FingerprintConfig::default(), key()).unwrap(),
                ),
                scrub: Some(Scrubber::new(&RedactionConfig::default(), key()).unwrap()),
                audit: None,
            }
        })
    }

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z ]{0,40}",
            Just("mail ann.lee@example.com now".to_string()),
            Just("card 4111 1111 1111 1111".to_string()),
            Just("ghp_16C7e42F292c6912E7710c838347Ae178B4a".to_string()),
            Just("password=hunter2hunter2".to_string()),
            Just("{\"content\":\"call +44 20 7946 0958\"}".to_string()),
        ]
    }

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z.]{1,12}",
            Just("gen_ai.input.messages".to_string()),
            Just("gen_ai.tool.call.result".to_string()),
            Just("db.password".to_string()),
            Just("authorization".to_string()),
            Just("redaction.count".to_string()),
            Just("spanward.input_hash".to_string()),
        ]
    }

    fn attrs() -> impl Strategy<Value = Vec<opentelemetry_proto::tonic::common::v1::KeyValue>> {
        proptest::collection::vec(
            (key(), text(), any::<bool>()).prop_map(|(k, t, arr)| {
                let v = Value::StringValue(t);
                if arr {
                    kv(
                        &k,
                        Value::ArrayValue(ArrayValue {
                            values: vec![AnyValue { value: Some(v) }],
                        }),
                    )
                } else {
                    kv(&k, v)
                }
            }),
            0..5,
        )
    }

    fn span() -> impl Strategy<Value = Span> {
        (text(), attrs(), attrs()).prop_map(|(name, attributes, ev)| Span {
            name,
            trace_id: vec![3; 16],
            attributes,
            events: vec![Event {
                name: "e".into(),
                attributes: ev,
                ..Default::default()
            }],
            ..Default::default()
        })
    }

    fn request() -> impl Strategy<Value = ExportTraceServiceRequest> {
        proptest::collection::vec(
            (
                attrs(),
                text(),
                proptest::collection::vec(proptest::collection::vec(span(), 0..4), 1..3),
            ),
            1..3,
        )
        .prop_map(|rss| ExportTraceServiceRequest {
            resource_spans: rss
                .into_iter()
                .map(|(rattrs, scope_name, scopes)| ResourceSpans {
                    resource: Some(Resource {
                        attributes: rattrs,
                        ..Default::default()
                    }),
                    scope_spans: scopes
                        .into_iter()
                        .map(|spans| ScopeSpans {
                            scope: Some(InstrumentationScope {
                                name: scope_name.clone(),
                                ..Default::default()
                            }),
                            spans,
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                })
                .collect(),
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        /// The request-level walk edits every resource, scope and span exactly as the same
        /// stages applied to each of them alone: offsets and owners are right wherever a span
        /// sits in the request.
        #[test]
        fn a_request_comes_out_as_its_parts_processed_one_by_one(req in request()) {
            let st = stages();
            let m = crate::vocab::metrics::Metrics::new().0;
            let spans = crate::pipeline::count_spans(&req);
            let mut scratch = Scratch::default();
            let p = st.process_encoded(Bytes::from(req.encode_to_vec()), spans, &m, &mut scratch);
            prop_assert_eq!(p.spans, spans);
            prop_assert!(p.report.dropped.is_empty());
            let got = ExportTraceServiceRequest::decode(p.request).unwrap();
            let mut want = req.clone();
            let (fp, sc) = (st.fingerprint.as_ref().unwrap(), st.scrub.as_ref().unwrap());
            let mut rep = ScrubReport::default();
            for rs in &mut want.resource_spans {
                let service = crate::otlp::service_name(rs.resource.as_ref()).to_string();
                if let Some(r) = rs.resource.as_mut() {
                    sc.scrub_resource(r, &mut rep).unwrap();
                }
                for ss in &mut rs.scope_spans {
                    if let Some(s) = ss.scope.as_mut() {
                        sc.scrub_scope(s, &mut rep).unwrap();
                    }
                    for sp in &mut ss.spans {
                        fp.apply_span(&service, sp).unwrap();
                        sc.scrub_span(sp, &mut rep).unwrap();
                    }
                }
            }
            prop_assert_eq!(got, want);
        }
    }

    /// A value one span revealed by its context is masked in every other span of the request,
    /// before or after it, whichever rule revealed it (an assignment, a keyword nearby); a
    /// vendor token is found by its own shape anyway.
    #[test]
    fn revealed_values_are_masked_across_the_request() {
        let cases = [
            (
                "export API_SECRET=Pw3QYWj9INW5QxPNIzXMJuXtsPJLELYa\n",
                "Pw3QYWj9INW5QxPNIzXMJuXtsPJLELYa",
            ),
            (
                "my password is kestrel-lantern-iris-438, please log in",
                "kestrel-lantern-iris-438",
            ),
            ("DB_PASSWORD=Zq8vR2kLm0xQ7 ./migrate", "Zq8vR2kLm0xQ7"),
        ];
        for (reveal, secret) in cases {
            let span = |name: &str, text: String| Span {
                name: name.into(),
                attributes: vec![kv("gen_ai.tool.call.result", Value::StringValue(text))],
                ..Default::default()
            };
            let req = ExportTraceServiceRequest {
                resource_spans: vec![ResourceSpans {
                    scope_spans: vec![ScopeSpans {
                        spans: vec![
                            span("before", format!("Logging in with `{secret}` now.")),
                            span("reveal", reveal.to_string()),
                            span("after", secret.to_string()),
                        ],
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
            };
            let m = crate::vocab::metrics::Metrics::new().0;
            let mut scratch = Scratch::default();
            let p = stages().process_encoded(Bytes::from(req.encode_to_vec()), 3, &m, &mut scratch);
            let out = ExportTraceServiceRequest::decode(p.request).unwrap();
            let text = format!("{out:?}");
            assert!(!text.contains(secret), "{secret} survives: {text}");
            assert_eq!(out.resource_spans[0].scope_spans[0].spans.len(), 3);
        }
    }

    /// `Stages::process` fails closed, as `edit_decoded` does: a processed request that does
    /// not decode leaves no span behind in the caller's request (which would otherwise go on
    /// unscrubbed), and its spans are counted as dropped.
    #[test]
    fn a_processed_request_that_does_not_decode_leaves_nothing_behind() {
        let mut req = req_with_email();
        // What the stages hand back, but not a request: a field tag with no end.
        let undecodable = Processed {
            request: Bytes::from_static(&[0x0a, 0xff, 0xff, 0xff]),
            spans: 1,
            report: StageReport::default(),
            written: false,
        };
        let report = take_processed(&mut req, undecodable);
        assert!(req.resource_spans.is_empty(), "{req:?}");
        assert_eq!(report.dropped, [(DropReason::ScrubError, 1)]);

        // A request that does decode comes back processed, through `process` itself.
        let m = crate::vocab::metrics::Metrics::new().0;
        let mut req = req_with_email();
        let report = stages().process(&mut req, &m);
        assert_eq!(report.dropped_total(), 0);
        assert_eq!(crate::pipeline::count_spans(&req), 1);
        assert!(
            !format!("{req:?}").contains("ann.lee@example.com"),
            "{req:?}"
        );
    }

    fn req_with_email() -> ExportTraceServiceRequest {
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![Span {
                        name: "raw".into(),
                        attributes: vec![kv(
                            "gen_ai.tool.call.result",
                            Value::StringValue("mail ann.lee@example.com now".into()),
                        )],
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    /// A field of `tag` (wire type LEN) holding `body` (under 128 bytes).
    fn len_field(tag: u32, body: &[u8]) -> Vec<u8> {
        assert!(body.len() < 128);
        let mut out = vec![((tag << 3) | 2) as u8, body.len() as u8];
        out.extend_from_slice(body);
        out
    }

    /// A request of two spans, the second with an attribute that cannot be read (a field tag
    /// with no end): unreachable past the receivers' check, so built here by hand.
    fn request_with_an_unreadable_span() -> Bytes {
        let good = Span {
            name: "good".into(),
            trace_id: vec![3; 16],
            ..Default::default()
        }
        .encode_to_vec();
        let mut bad = len_field(SPAN_NAME, b"bad");
        bad.extend(len_field(SPAN_ATTRIBUTES, &[0xff, 0xff]));
        let mut scope = len_field(SS_SPANS, &good);
        scope.extend(len_field(SS_SPANS, &bad));
        let rs = len_field(RS_SCOPE_SPANS, &scope);
        Bytes::from(len_field(REQUEST_RESOURCE_SPANS, &rs))
    }

    /// A span the fingerprint stage fails on is dropped as `fingerprint_error`; with the
    /// fingerprint stage off, the scrubber fails on it and it is dropped as `scrub_error`. The
    /// other span goes on either way.
    #[test]
    fn failures_are_counted_by_the_stage_that_failed() {
        let m = crate::vocab::metrics::Metrics::new().0;
        let p = stages().process_encoded(
            request_with_an_unreadable_span(),
            2,
            &m,
            &mut Scratch::default(),
        );
        assert_eq!(p.report.dropped, [(DropReason::FingerprintError, 1)]);
        assert_eq!(p.spans, 1);
        let out = ExportTraceServiceRequest::decode(p.request).unwrap();
        assert_eq!(crate::pipeline::count_spans(&out), 1);
        assert_eq!(out.resource_spans[0].scope_spans[0].spans[0].name, "good");

        let key = HmacKey::from_bytes(vec![5; 32], None, KeySource::File);
        let scrub_only = Stages {
            fingerprint: None,
            scrub: Some(Scrubber::new(&RedactionConfig::default(), key).unwrap()),
            audit: None,
        };
        let p = scrub_only.process_encoded(
            request_with_an_unreadable_span(),
            2,
            &m,
            &mut Scratch::default(),
        );
        assert_eq!(p.report.dropped, [(DropReason::ScrubError, 1)]);
        assert_eq!(p.spans, 1);
    }

    /// A request no stage changes is forwarded as the very bytes that arrived.
    #[test]
    fn unchanged_requests_are_forwarded_as_they_arrived() {
        let req = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![Span {
                        name: "plain".into(),
                        attributes: vec![kv("note", Value::StringValue("nothing here".into()))],
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let bytes = Bytes::from(req.encode_to_vec());
        let m = crate::vocab::metrics::Metrics::new().0;
        let mut scratch = Scratch::default();
        let p = stages().process_encoded(bytes.clone(), 1, &m, &mut scratch);
        assert_eq!(p.request, bytes);
        // The same allocation, not a copy.
        assert_eq!(p.request.as_ptr(), bytes.as_ptr());
        assert!(!p.written);
    }
}
