//! Shared by the logs and metrics targets: the receivers' check and the worker's stages on one
//! request body of a signal, with the invariants every accepted request must keep. No network,
//! no sinks. A body that starts with `{` is OTLP/JSON, any other protobuf (a protobuf request
//! cannot start with `{`: field 15 as a group start is not OTLP).

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use prost::Message;
use spanward::keys::{HmacKey, KeySource};
use spanward::otlp::{view, Edits, Limits, Msg};
use spanward::pipeline::fingerprint::{FingerprintConfig, Fingerprinter};
use spanward::pipeline::sample::{Sampler, SamplingConfig};
use spanward::pipeline::stages::{Scratch, Stages};
use spanward::receiver::body;
use spanward::scrub::{RedactionConfig, Scrubber};
use spanward::vocab::metrics::Metrics;
use spanward::vocab::{DropReason, Signal};
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
        // Half the traces and half the untraced records kept, so every branch of the log
        // sampler runs (severity, trace id, untraced draw).
        let mut sampling = SamplingConfig {
            ratio: 0.5,
            ..SamplingConfig::default()
        };
        sampling.logs.untraced_ratio = 0.5;
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

/// Items of a decoded request as spanward counts them: log records, or metric data points.
fn count(signal: Signal, body: &[u8]) -> usize {
    match signal {
        Signal::Logs => ExportLogsServiceRequest::decode(body)
            .expect("decodes")
            .resource_logs
            .iter()
            .flat_map(|r| r.scope_logs.iter())
            .map(|s| s.log_records.len())
            .sum(),
        Signal::Metrics => ExportMetricsServiceRequest::decode(body)
            .expect("decodes")
            .resource_metrics
            .iter()
            .flat_map(|r| r.scope_metrics.iter())
            .flat_map(|s| s.metrics.iter())
            .map(|m| match &m.data {
                Some(Data::Gauge(g)) => g.data_points.len(),
                Some(Data::Sum(s)) => s.data_points.len(),
                Some(Data::Histogram(h)) => h.data_points.len(),
                Some(Data::ExponentialHistogram(h)) => h.data_points.len(),
                Some(Data::Summary(s)) => s.data_points.len(),
                None => 0,
            })
            .sum(),
        Signal::Traces => unreachable!("the trace targets are otlp_proto and otlp_json"),
    }
}

/// Whether two encodings decode to the same request of `signal` (compared re-encoded, so a
/// NaN value equals itself).
fn same(signal: Signal, a: &[u8], b: &[u8]) -> bool {
    fn canon<M: Message + Default>(b: &[u8]) -> Option<Vec<u8>> {
        M::decode(b).ok().map(|m| m.encode_to_vec())
    }
    match signal {
        Signal::Logs => {
            canon::<ExportLogsServiceRequest>(a) == canon::<ExportLogsServiceRequest>(b)
        }
        _ => canon::<ExportMetricsServiceRequest>(a) == canon::<ExportMetricsServiceRequest>(b),
    }
}

/// Admit with limits → (logs) sample → fingerprint → scrub, as receiver and worker do.
pub fn run(signal: Signal, data: &[u8]) {
    let p = pipeline();
    let json = data.first() == Some(&b'{');
    let input = prost::bytes::Bytes::copy_from_slice(data);
    let Ok(admitted) = body::admit_signal(signal, input, json, &p.limits) else {
        return;
    };
    assert_eq!(admitted.signal, signal);
    // What is admitted is what prost reads, and holds the items the check counted.
    let items = count(signal, &admitted.body);
    assert_eq!(admitted.spans, items, "admitted item count");
    assert_eq!(
        view::count_items(signal, Msg::new(&admitted.body)).expect("admitted parses"),
        items
    );
    assert!(items <= p.limits.max_spans_per_request);
    // Protobuf with nothing over the value limit is admitted as prost reads it: the check
    // (and any canonical re-encoding) changes no field.
    if !json && admitted.oversize_values == 0 {
        assert!(
            same(signal, data, &admitted.body),
            "admitted differs from input"
        );
    }
    // Sampling, logs only (metrics are never sampled).
    let (sampled, kept) = if signal == Signal::Logs {
        let mut edits = Edits::new();
        let st = p
            .sampler
            .apply_logs_encoded(Msg::new(&admitted.body), &mut edits)
            .expect("an admitted request samples");
        assert_eq!(
            st.kept + st.sampled_out,
            items as u64,
            "sampling lost records"
        );
        let mut out = Vec::new();
        edits
            .apply(Msg::new(&admitted.body), &mut out)
            .expect("sampling edits apply");
        let out = prost::bytes::Bytes::from(out);
        assert_eq!(
            count(signal, &out) as u64,
            st.kept,
            "records after sampling"
        );
        (out, st.kept as usize)
    } else {
        (admitted.body.clone(), items)
    };
    let mut scratch = Scratch::default();
    let out = p
        .stages
        .process_signal(signal, sampled, kept, &p.metrics, &mut scratch);
    // A stage failing on an admitted request means a panic caught inside the stages: a bug.
    let failed: usize = out
        .report
        .dropped
        .iter()
        .filter(|(r, _)| matches!(r, DropReason::ScrubError | DropReason::FingerprintError))
        .map(|(_, n)| n)
        .sum();
    assert_eq!(failed, 0, "a stage failed on an admitted request");
    assert_eq!(out.spans, kept, "items after the stages");
    // What the worker hands to the sinks decodes and holds every item.
    assert_eq!(count(signal, &out.request), kept, "items in the output");
    assert_eq!(
        view::count_items(signal, Msg::new(&out.request)).expect("output parses"),
        kept
    );
}
