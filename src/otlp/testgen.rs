//! Random OTLP trace, logs and metrics requests for the property tests.

use super::wire::put_len_field;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    any_value::Value, AnyValue, ArrayValue, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    exemplar, exponential_histogram_data_point, metric, number_data_point, summary_data_point,
    Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram,
    HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary,
    SummaryDataPoint,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use proptest::prelude::*;
use prost::Message;

pub fn kv(k: &str, v: Value) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue { value: Some(v) }),
        ..Default::default()
    }
}

pub fn encode_kv(out: &mut Vec<u8>, num: u32, k: &KeyValue) {
    put_len_field(out, num, &k.encode_to_vec());
}

pub fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        "[a-z ]{0,200}".prop_map(Value::StringValue),
        any::<i64>().prop_map(Value::IntValue),
        any::<bool>().prop_map(Value::BoolValue),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(Value::BytesValue),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(|v| Value::ArrayValue(
                ArrayValue {
                    values: v.into_iter().map(|x| AnyValue { value: Some(x) }).collect()
                }
            )),
            proptest::collection::vec(("[a-z]{1,6}", inner), 0..4).prop_map(|v| {
                Value::KvlistValue(KeyValueList {
                    values: v.into_iter().map(|(k, x)| kv(&k, x)).collect(),
                })
            }),
        ]
    })
}

pub fn span() -> impl Strategy<Value = Span> {
    (
        "[a-z]{0,12}",
        proptest::collection::vec(("[a-z.]{1,10}", value()), 0..5),
        0u8..6,
    )
        .prop_map(|(name, attrs, kind)| Span {
            name,
            kind: i32::from(kind),
            trace_id: vec![kind; 16],
            attributes: attrs.into_iter().map(|(k, v)| kv(&k, v)).collect(),
            ..Default::default()
        })
}

pub fn request() -> impl Strategy<Value = ExportTraceServiceRequest> {
    proptest::collection::vec(
        (
            proptest::collection::vec(("[a-z]{1,6}", value()), 0..3),
            proptest::collection::vec(proptest::collection::vec(span(), 0..5), 1..3),
        ),
        0..3,
    )
    .prop_map(|rss| ExportTraceServiceRequest {
        resource_spans: rss
            .into_iter()
            .map(|(rattrs, scopes)| ResourceSpans {
                resource: Some(Resource {
                    attributes: rattrs.into_iter().map(|(k, v)| kv(&k, v)).collect(),
                    ..Default::default()
                }),
                scope_spans: scopes
                    .into_iter()
                    .map(|spans| ScopeSpans {
                        spans,
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            })
            .collect(),
    })
}

/// A log record as SDKs write them: a body of any shape, attributes, ids, an event name.
pub fn log_record() -> impl Strategy<Value = LogRecord> {
    (
        proptest::option::of(value()),
        proptest::collection::vec(("[a-z.]{1,10}", value()), 0..5),
        0u8..25,
        "[a-z.]{0,12}",
        any::<bool>(),
    )
        .prop_map(|(body, attrs, sev, event_name, ids)| LogRecord {
            time_unix_nano: 1_700_000_000_000_000_000 + u64::from(sev),
            severity_number: i32::from(sev),
            severity_text: if sev > 12 {
                "WARN".into()
            } else {
                String::new()
            },
            body: body.map(|v| AnyValue { value: Some(v) }),
            attributes: attrs.into_iter().map(|(k, v)| kv(&k, v)).collect(),
            trace_id: if ids { vec![sev; 16] } else { Vec::new() },
            span_id: if ids { vec![sev; 8] } else { Vec::new() },
            event_name,
            ..Default::default()
        })
}

pub fn log_request() -> impl Strategy<Value = ExportLogsServiceRequest> {
    proptest::collection::vec(
        (
            proptest::collection::vec(("[a-z]{1,6}", value()), 0..3),
            proptest::collection::vec(proptest::collection::vec(log_record(), 0..5), 1..3),
        ),
        0..3,
    )
    .prop_map(|rls| ExportLogsServiceRequest {
        resource_logs: rls
            .into_iter()
            .map(|(rattrs, scopes)| ResourceLogs {
                resource: Some(Resource {
                    attributes: rattrs.into_iter().map(|(k, v)| kv(&k, v)).collect(),
                    ..Default::default()
                }),
                scope_logs: scopes
                    .into_iter()
                    .map(|log_records| ScopeLogs {
                        log_records,
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            })
            .collect(),
    })
}

fn attrs() -> impl Strategy<Value = Vec<KeyValue>> {
    proptest::collection::vec(("[a-z.]{1,10}", value()), 0..4)
        .prop_map(|v| v.into_iter().map(|(k, x)| kv(&k, x)).collect())
}

fn exemplars() -> impl Strategy<Value = Vec<Exemplar>> {
    proptest::collection::vec((attrs(), any::<bool>(), any::<i64>()), 0..2).prop_map(|v| {
        v.into_iter()
            .map(|(filtered_attributes, ids, x)| Exemplar {
                filtered_attributes,
                time_unix_nano: 5,
                span_id: if ids { vec![2; 8] } else { Vec::new() },
                trace_id: if ids { vec![3; 16] } else { Vec::new() },
                value: Some(exemplar::Value::AsInt(x)),
            })
            .collect()
    })
}

/// A metric of any of the five data kinds, with data points carrying attributes and exemplars.
pub fn metric() -> impl Strategy<Value = Metric> {
    let number = || {
        (attrs(), exemplars(), any::<f64>()).prop_map(|(attributes, exemplars, x)| {
            NumberDataPoint {
                attributes,
                exemplars,
                time_unix_nano: 9,
                value: Some(number_data_point::Value::AsDouble(x)),
                ..Default::default()
            }
        })
    };
    let hist = (
        attrs(),
        exemplars(),
        proptest::collection::vec(0u64..9, 0..4),
    )
        .prop_map(|(attributes, exemplars, counts)| HistogramDataPoint {
            attributes,
            exemplars,
            count: counts.iter().sum(),
            sum: Some(1.5),
            explicit_bounds: (1..counts.len()).map(|b| b as f64).collect(),
            bucket_counts: counts,
            min: Some(0.5),
            ..Default::default()
        });
    let exp = (
        attrs(),
        exemplars(),
        proptest::collection::vec(0u64..300, 0..4),
    )
        .prop_map(
            |(attributes, exemplars, counts)| ExponentialHistogramDataPoint {
                attributes,
                exemplars,
                scale: -2,
                positive: Some(exponential_histogram_data_point::Buckets {
                    offset: -3,
                    bucket_counts: counts,
                }),
                ..Default::default()
            },
        );
    let summary = attrs().prop_map(|attributes| SummaryDataPoint {
        attributes,
        count: 3,
        sum: 4.0,
        quantile_values: vec![summary_data_point::ValueAtQuantile {
            quantile: 0.5,
            value: 1.0,
        }],
        ..Default::default()
    });
    let data = prop_oneof![
        proptest::collection::vec(number(), 0..3)
            .prop_map(|data_points| metric::Data::Gauge(Gauge { data_points })),
        proptest::collection::vec(number(), 0..3).prop_map(|data_points| metric::Data::Sum(Sum {
            data_points,
            aggregation_temporality: 2,
            is_monotonic: true
        })),
        proptest::collection::vec(hist, 0..3).prop_map(|data_points| metric::Data::Histogram(
            Histogram {
                data_points,
                aggregation_temporality: 1
            }
        )),
        proptest::collection::vec(exp, 0..3).prop_map(|data_points| {
            metric::Data::ExponentialHistogram(ExponentialHistogram {
                data_points,
                aggregation_temporality: 1,
            })
        }),
        proptest::collection::vec(summary, 0..3)
            .prop_map(|data_points| metric::Data::Summary(Summary { data_points })),
    ];
    ("[a-z.]{1,20}", "[a-z ]{0,20}", attrs(), data).prop_map(|(name, description, metadata, d)| {
        Metric {
            name,
            description,
            unit: "s".into(),
            metadata,
            data: Some(d),
        }
    })
}

pub fn metrics_request() -> impl Strategy<Value = ExportMetricsServiceRequest> {
    proptest::collection::vec(
        (
            proptest::collection::vec(("[a-z]{1,6}", value()), 0..3),
            proptest::collection::vec(proptest::collection::vec(metric(), 0..4), 1..3),
        ),
        0..3,
    )
    .prop_map(|rms| ExportMetricsServiceRequest {
        resource_metrics: rms
            .into_iter()
            .map(|(rattrs, scopes)| ResourceMetrics {
                resource: Some(Resource {
                    attributes: rattrs.into_iter().map(|(k, v)| kv(&k, v)).collect(),
                    ..Default::default()
                }),
                scope_metrics: scopes
                    .into_iter()
                    .map(|metrics| ScopeMetrics {
                        metrics,
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            })
            .collect(),
    })
}

/// Data points in a decoded metrics request.
pub fn count_points(req: &ExportMetricsServiceRequest) -> usize {
    req.resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .map(|m| match &m.data {
            Some(metric::Data::Gauge(g)) => g.data_points.len(),
            Some(metric::Data::Sum(g)) => g.data_points.len(),
            Some(metric::Data::Histogram(g)) => g.data_points.len(),
            Some(metric::Data::ExponentialHistogram(g)) => g.data_points.len(),
            Some(metric::Data::Summary(g)) => g.data_points.len(),
            None => 0,
        })
        .sum()
}

/// Log records in a decoded logs request.
pub fn count_records(req: &ExportLogsServiceRequest) -> usize {
    req.resource_logs
        .iter()
        .flat_map(|r| &r.scope_logs)
        .map(|s| s.log_records.len())
        .sum()
}
