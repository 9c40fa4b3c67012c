//! Shared by the OTLP targets: the worker's in-process path over one request body, with the
//! invariants every accepted request must keep. No network, no sinks.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use spanward::keys::{HmacKey, KeySource};
use spanward::otlp::{Edits, Limits, Msg};
use spanward::pipeline::count_spans;
use spanward::pipeline::fingerprint::{FingerprintConfig, Fingerprinter};
use spanward::pipeline::sample::{Sampler, SamplingConfig};
use spanward::pipeline::stages::{Scratch, Stages};
use spanward::receiver::body;
use spanward::scrub::{RedactionConfig, Scrubber};
use spanward::vocab::metrics::Metrics;
use spanward::vocab::DropReason;
use std::sync::OnceLock;

struct Pipeline {
    limits: Limits,
    sampler: Sampler,
    stages: Stages,
    metrics: Metrics,
}

fn pipeline() -> &'static Pipeline {
    static P: OnceLock<Pipeline> = OnceLock::new();
    P.get_or_init(|| {
        let key = || HmacKey::from_bytes(vec![7; 32], None, KeySource::File);
        // Half the traces kept, so both sampling branches and tracestate rewriting run.
        let sampling = SamplingConfig {
            ratio: 0.5,
            ..SamplingConfig::default()
        };
        Pipeline {
            // Small enough that libFuzzer's inputs reach every limit.
            limits: Limits {
                max_spans_per_request: 64,
                max_attributes_per_span: 256,
                max_attribute_depth: 16,
                max_attribute_value_bytes: 512,
                ..Limits::default()
            },
            sampler: Sampler::new(&sampling).expect("sampler"),
            stages: Stages {
                fingerprint: Some(
                    Fingerprinter::new(&FingerprintConfig::default(), key()).expect("fingerprint"),
                ),
                scrub: Some(Scrubber::new(&RedactionConfig::default(), key()).expect("scrubber")),
                audit: None,
            },
            metrics: Metrics::new().0,
        }
    })
}

/// Admit with limits → sample → fingerprint → scrub → write, as receiver and worker do, on the
/// encoded request.
pub fn run(data: &[u8], json: bool) {
    let p = pipeline();
    let Ok(admitted) = body::admit(prost::bytes::Bytes::copy_from_slice(data), json, &p.limits)
    else {
        return;
    };
    // What is admitted is what prost reads, within the limits.
    let req = ExportTraceServiceRequest::decode(admitted.body.clone()).expect("admitted decodes");
    check_limits(&req, &p.limits);
    let before = count_spans(&req);
    assert_eq!(admitted.spans, before, "admitted span count");
    let mut edits = Edits::new();
    let st = p
        .sampler
        .apply_encoded(Msg::new(&admitted.body), &mut edits)
        .expect("an admitted request parses");
    assert_eq!(
        st.kept + st.sampled_out,
        before as u64,
        "sampling lost spans"
    );
    let mut sampled = Vec::new();
    edits
        .apply(Msg::new(&admitted.body), &mut sampled)
        .expect("sampling edits apply");
    let sampled = prost::bytes::Bytes::from(sampled);
    let req = ExportTraceServiceRequest::decode(sampled.clone()).expect("sampled decodes");
    assert_eq!(count_spans(&req) as u64, st.kept);
    let kept = count_spans(&req);
    let mut scratch = Scratch::default();
    let out = p
        .stages
        .process_encoded(sampled, kept, &p.metrics, &mut scratch);
    // No stage may fail on an admitted request: a failure drops spans (fail closed), but here
    // it would mean a panic caught inside the stages, i.e. a bug.
    let failed: usize = out
        .report
        .dropped
        .iter()
        .filter(|(r, _)| *r == DropReason::ScrubError)
        .map(|(_, n)| n)
        .sum();
    assert_eq!(failed, 0, "a stage failed on an admitted request");
    assert_eq!(out.spans, kept);
    // What the worker hands to the sinks decodes, and holds every span.
    let back = ExportTraceServiceRequest::decode(out.request.clone()).expect("re-decode");
    assert_eq!(count_spans(&back), kept);
    assert_eq!(
        spanward::sink::log::verify::count_spans(&out.request),
        Some(kept as u64)
    );
}

/// Nothing the limits refuse or replace survives decoding, and ids have OTLP's lengths.
fn check_limits(req: &ExportTraceServiceRequest, l: &Limits) {
    use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue};
    fn walk(v: &AnyValue, depth: usize, l: &Limits) {
        assert!(depth <= l.max_attribute_depth);
        match v.value.as_ref() {
            Some(Value::StringValue(s)) => assert!(s.len() <= l.max_attribute_value_bytes),
            Some(Value::BytesValue(b)) => assert!(b.len() <= l.max_attribute_value_bytes),
            Some(Value::ArrayValue(a)) => a.values.iter().for_each(|x| walk(x, depth + 1, l)),
            Some(Value::KvlistValue(kv)) => kv
                .values
                .iter()
                .filter_map(|kv| kv.value.as_ref())
                .for_each(|x| walk(x, depth + 1, l)),
            _ => {}
        }
    }
    assert!(count_spans(req) <= l.max_spans_per_request);
    for span in req
        .resource_spans
        .iter()
        .flat_map(|r| r.scope_spans.iter())
        .flat_map(|s| s.spans.iter())
    {
        // Ids are not scanned: only OTLP's lengths pass.
        let id =
            |b: &[u8], n: usize| assert!(b.is_empty() || b.len() == n, "id of {} bytes", b.len());
        id(&span.trace_id, 16);
        id(&span.span_id, 8);
        id(&span.parent_span_id, 8);
        for link in &span.links {
            id(&link.trace_id, 16);
            id(&link.span_id, 8);
        }
        let all = span
            .attributes
            .iter()
            .chain(span.events.iter().flat_map(|e| e.attributes.iter()))
            .chain(span.links.iter().flat_map(|e| e.attributes.iter()));
        for kv in all {
            if let Some(v) = kv.value.as_ref() {
                walk(v, 1, l);
            }
        }
    }
}
