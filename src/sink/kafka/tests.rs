//! The records a batch becomes, and the config checks.

use super::*;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

fn span(trace: u8, id: u8, pad: usize) -> Span {
    Span {
        trace_id: vec![trace; 16],
        span_id: vec![id; 8],
        name: "x".repeat(pad),
        ..Default::default()
    }
}

fn batch() -> ExportTraceServiceRequest {
    let rs = |name: &str, spans: Vec<Vec<Span>>| ResourceSpans {
        resource: Some(Resource {
            attributes: vec![KeyValue {
                key: "service.name".into(),
                value: Some(AnyValue {
                    value: Some(any_value::Value::StringValue(name.into())),
                }),
                ..Default::default()
            }],
            ..Default::default()
        }),
        scope_spans: spans
            .into_iter()
            .enumerate()
            .map(|(i, s)| ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: format!("scope{i}"),
                    ..Default::default()
                }),
                spans: s,
                schema_url: String::new(),
            })
            .collect(),
        schema_url: "u".into(),
    };
    ExportTraceServiceRequest {
        resource_spans: vec![
            rs(
                "a",
                vec![vec![span(1, 1, 0), span(2, 2, 0)], vec![span(1, 3, 0)]],
            ),
            rs("b", vec![vec![span(2, 4, 0), span(3, 5, 0)]]),
        ],
    }
}

fn decode(r: &Record) -> Vec<(String, String, u8)> {
    let req = ExportTraceServiceRequest::decode(r.value.as_slice()).unwrap();
    let mut out = Vec::new();
    for rs in req.resource_spans {
        let svc = format!("{:?}", rs.resource.map(|r| r.attributes));
        for ss in rs.scope_spans {
            for s in ss.spans {
                out.push((
                    svc.clone(),
                    ss.scope.clone().unwrap_or_default().name,
                    s.span_id[0],
                ));
            }
        }
    }
    out
}

#[test]
fn one_record_per_trace_keeps_resource_and_scope() {
    let recs = records_by_trace(&batch(), 1 << 20).unwrap();
    let keys: Vec<_> = recs.iter().map(|r| r.key.clone().unwrap()).collect();
    assert_eq!(keys, ["01".repeat(16), "02".repeat(16), "03".repeat(16)]);
    let t1 = decode(&recs[0]);
    assert_eq!(t1.len(), 2);
    assert_eq!((t1[0].1.as_str(), t1[0].2), ("scope0", 1));
    assert_eq!((t1[1].1.as_str(), t1[1].2), ("scope1", 3));
    let t2 = decode(&recs[1]);
    assert_eq!(t2.iter().map(|t| t.2).collect::<Vec<_>>(), [2, 4]);
    assert_ne!(t2[0].0, t2[1].0, "span 4 keeps resource b");
    // Every span exactly once.
    let total: usize = recs.iter().map(|r| decode(r).len()).sum();
    assert_eq!(total, 5);
}

#[test]
fn large_trace_is_split_under_the_limit_and_huge_span_refused() {
    let req = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: (0..40).map(|i| span(7, i, 1000)).collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let recs = records_by_trace(&req, 8 * 1024).unwrap();
    assert!(recs.len() >= 5, "{}", recs.len());
    assert!(recs.iter().all(|r| r.value.len() <= 8 * 1024));
    assert!(recs
        .iter()
        .all(|r| r.key.as_deref() == Some(&*"07".repeat(16))));
    let mut ids: Vec<u8> = recs.iter().flat_map(decode).map(|t| t.2).collect();
    ids.sort();
    assert_eq!(ids, (0..40).collect::<Vec<u8>>());

    let err = records_by_trace(&req, 1024).unwrap_err();
    assert!(err.size > 1000 && err.max == 1024);
}

#[test]
fn spans_without_trace_id_get_no_key() {
    let mut req = batch();
    req.resource_spans[0].scope_spans[0].spans[0]
        .trace_id
        .clear();
    let recs = records_by_trace(&req, 1 << 20).unwrap();
    assert!(recs.iter().any(|r| r.key.is_none()));
}

#[test]
fn config_validation_names_the_problem() {
    let ok = KafkaConfig::default();
    ok.validate().unwrap();
    let mut c = ok.clone();
    c.brokers.clear();
    assert!(matches!(c.validate(), Err(KafkaConfigError::NoBrokers)));
    let mut c = ok.clone();
    c.acks = KafkaAcks::Leader;
    assert!(matches!(
        c.validate(),
        Err(KafkaConfigError::IdempotenceNeedsAll)
    ));
    c.idempotence = false;
    c.validate().unwrap();
    let mut c = ok.clone();
    c.properties.insert("acks".into(), "0".into());
    assert!(c
        .validate()
        .unwrap_err()
        .to_string()
        .contains("properties.acks"));
    let mut c = ok.clone();
    c.properties
        .insert("security.protocol".into(), "plaintext".into());
    c.validate().unwrap();
    let mut c = ok;
    c.max_message_bytes = 10;
    assert!(c.validate().is_err());
}

// ---- Logs and metrics. ----

use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    metric, Histogram, HistogramDataPoint, Metric, ResourceMetrics, ScopeMetrics,
};

fn log(trace: &[u8], id: u8, pad: usize) -> LogRecord {
    LogRecord {
        trace_id: trace.to_vec(),
        span_id: vec![id; 8],
        severity_text: "x".repeat(pad),
        ..Default::default()
    }
}

fn logs_batch(records: Vec<LogRecord>) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                dropped_attributes_count: 7,
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs {
                scope: Some(InstrumentationScope {
                    name: "agent.logging".into(),
                    ..Default::default()
                }),
                log_records: records,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn decode_logs(r: &Record) -> Vec<LogRecord> {
    let req = ExportLogsServiceRequest::decode(r.value.as_slice()).unwrap();
    for rl in &req.resource_logs {
        assert_eq!(rl.resource.as_ref().unwrap().dropped_attributes_count, 7);
        for sl in &rl.scope_logs {
            assert_eq!(sl.scope.as_ref().unwrap().name, "agent.logging");
        }
    }
    req.resource_logs
        .into_iter()
        .flat_map(|r| r.scope_logs)
        .flat_map(|s| s.log_records)
        .collect()
}

#[test]
fn log_records_are_keyed_by_trace_and_those_without_one_go_unkeyed() {
    let batch = logs_batch(vec![
        log(&[1; 16], 1, 0),
        log(&[], 2, 0),
        log(&[2; 16], 3, 0),
        log(&[0; 16], 4, 0),
        log(&[1; 16], 5, 0),
    ]);
    let recs = records_by_log_trace(&batch, 1 << 20).unwrap();
    let got: Vec<(Option<String>, Vec<u8>)> = recs
        .iter()
        .map(|r| {
            let ids = decode_logs(r).iter().map(|l| l.span_id[0]).collect();
            (r.key.clone(), ids)
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (Some("01".repeat(16)), vec![1, 5]),
            (None, vec![2, 4]),
            (Some("02".repeat(16)), vec![3]),
        ]
    );
}

#[test]
fn large_log_groups_are_split_under_the_limit_and_a_huge_record_refused() {
    let batch = logs_batch((0..40).map(|i| log(&[9; 16], i, 1000)).collect());
    let recs = records_by_log_trace(&batch, 8 * 1024).unwrap();
    assert!(recs.len() >= 5, "{}", recs.len());
    assert!(recs.iter().all(|r| r.value.len() <= 8 * 1024));
    assert!(recs.iter().all(|r| r.key == Some("09".repeat(16))));
    let ids: Vec<u8> = recs
        .iter()
        .flat_map(decode_logs)
        .map(|l| l.span_id[0])
        .collect();
    assert_eq!(ids, (0..40).collect::<Vec<u8>>(), "all records, in order");
    let err = records_by_log_trace(&batch, 1024).unwrap_err();
    assert_eq!(err.item, "log record");
    assert!(err.to_string().starts_with("a log record of"), "{err}");
}

fn histogram(name: &str, points: usize, pad: usize) -> Metric {
    Metric {
        name: name.into(),
        unit: "s".into(),
        description: "d".repeat(pad),
        data: Some(metric::Data::Histogram(Histogram {
            data_points: (0..points)
                .map(|i| HistogramDataPoint {
                    time_unix_nano: i as u64,
                    bucket_counts: vec![1; 600],
                    ..Default::default()
                })
                .collect(),
            aggregation_temporality: 1,
        })),
        ..Default::default()
    }
}

fn metrics_batch(metrics: Vec<Metric>) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics {
                metrics,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// (metric name, temporality, point times) of every metric in the records, in order.
fn decode_metrics(recs: &[Record]) -> Vec<(String, i32, Vec<u64>)> {
    recs.iter()
        .flat_map(|r| {
            ExportMetricsServiceRequest::decode(r.value.as_slice())
                .unwrap()
                .resource_metrics
        })
        .flat_map(|r| r.scope_metrics)
        .flat_map(|s| s.metrics)
        .map(|m| match m.data {
            Some(metric::Data::Histogram(h)) => (
                m.name,
                h.aggregation_temporality,
                h.data_points.iter().map(|p| p.time_unix_nano).collect(),
            ),
            other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn a_metrics_batch_is_one_unkeyed_record_when_it_fits() {
    let batch = metrics_batch(vec![histogram("a", 2, 0), histogram("b", 3, 0)]);
    let recs = metric_records(&batch, 1 << 20).unwrap();
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].key, None);
    assert_eq!(recs[0].value, batch.encode_to_vec());
}

#[test]
fn a_large_metric_is_cut_by_its_data_points_and_a_huge_point_refused() {
    // One metric of 100 points of ~600 bytes each: about 60 KB alone.
    let batch = metrics_batch(vec![histogram("big", 100, 0), histogram("small", 1, 0)]);
    let recs = metric_records(&batch, 8 * 1024).unwrap();
    assert!(recs.len() >= 8, "{}", recs.len());
    assert!(recs
        .iter()
        .all(|r| r.value.len() <= 8 * 1024 && r.key.is_none()));
    let got = decode_metrics(&recs);
    assert!(got.iter().all(|(_, t, _)| *t == 1), "temporality kept");
    let big: Vec<u64> = got
        .iter()
        .filter(|m| m.0 == "big")
        .flat_map(|m| m.2.clone())
        .collect();
    assert_eq!(big, (0..100).collect::<Vec<u64>>(), "every point, in order");
    assert_eq!(got.last().map(|m| m.0.as_str()), Some("small"));

    let err = metric_records(&metrics_batch(vec![histogram("one", 1, 2000)]), 1024).unwrap_err();
    assert_eq!(err.item, "metric data point");
}

#[test]
fn signal_topics_default_to_the_collectors_and_must_differ() {
    let c = KafkaConfig::default();
    assert_eq!(c.topic_of(Signal::Traces), "otlp_spans");
    assert_eq!(c.topic_of(Signal::Logs), "otlp_logs");
    assert_eq!(c.topic_of(Signal::Metrics), "otlp_metrics");
    let mut bad = c.clone();
    bad.logs_topic = " ".into();
    assert!(matches!(
        bad.validate(),
        Err(KafkaConfigError::NoSignalTopic("logs_topic"))
    ));
    let mut bad = c.clone();
    bad.metrics_topic = "otlp_spans".into();
    let e = bad.validate().unwrap_err().to_string();
    assert!(
        e.contains("topic and metrics_topic") && e.contains("otlp_spans"),
        "{e}"
    );
    // The existing keys alone still parse, to the new defaults for the new ones.
    let c: KafkaConfig = serde_norway::from_str("brokers: [\"b:9092\"]\ntopic: spans\n").unwrap();
    assert_eq!(
        (c.topic.as_str(), c.logs_topic.as_str()),
        ("spans", "otlp_logs")
    );
    c.validate().unwrap();
}

#[test]
fn an_undecodable_batch_fails_permanently_per_signal() {
    for s in Signal::ALL {
        let e = split(s, &Bytes::from_static(&[0xff]), 1 << 20).unwrap_err();
        assert_eq!(e.kind, FailureKind::Permanent);
        assert!(e.message.contains(&format!("undecodable {s} batch")), "{e}");
    }
}
