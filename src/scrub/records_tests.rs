use super::super::RedactionConfig;
use super::*;
use crate::keys::{HmacKey, KeySource};
use opentelemetry_proto::tonic::common::v1::{
    any_value::Value, AnyValue, ArrayValue, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::metrics::v1::{
    exemplar, metric, number_data_point, summary_data_point, Exemplar, Histogram,
    HistogramDataPoint, NumberDataPoint, Sum, Summary as SummaryData, SummaryDataPoint,
};

const EMAIL: &str = "ann.lee@example.com";
const KEY: &str = "AKIAQWERTYUIOPASDFGH";

fn scrubber() -> Scrubber {
    Scrubber::new(
        &RedactionConfig::default(),
        HmacKey::from_bytes(vec![9; 32], None, KeySource::File),
    )
    .unwrap()
}

fn s(v: &str) -> Option<AnyValue> {
    Some(AnyValue {
        value: Some(Value::StringValue(v.into())),
    })
}

fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: s(v),
        ..Default::default()
    }
}

fn text(v: &Option<AnyValue>) -> &str {
    match v.as_ref().and_then(|v| v.value.as_ref()) {
        Some(Value::StringValue(t)) => t,
        _ => panic!("not a string: {v:?}"),
    }
}

fn attr<'a>(attrs: &'a [KeyValue], k: &str) -> Option<&'a KeyValue> {
    attrs.iter().find(|a| a.key == k)
}

/// A `gen_ai.client.inference.operation.details` event as the SDKs emit it: structured
/// messages in an attribute.
fn genai_event() -> LogRecord {
    let part = |content: &str| AnyValue {
        value: Some(Value::KvlistValue(KeyValueList {
            values: vec![kv("type", "text"), kv("content", content)],
        })),
    };
    let message = |role: &str, content: &str| AnyValue {
        value: Some(Value::KvlistValue(KeyValueList {
            values: vec![
                kv("role", role),
                KeyValue {
                    key: "parts".into(),
                    value: Some(AnyValue {
                        value: Some(Value::ArrayValue(ArrayValue {
                            values: vec![part(content)],
                        })),
                    }),
                    ..Default::default()
                },
            ],
        })),
    };
    LogRecord {
        event_name: "gen_ai.client.inference.operation.details".into(),
        severity_number: 9,
        attributes: vec![
            kv("gen_ai.operation.name", "chat"),
            KeyValue {
                key: "gen_ai.input.messages".into(),
                value: Some(AnyValue {
                    value: Some(Value::ArrayValue(ArrayValue {
                        values: vec![message("user", &format!("Mail me at {EMAIL} please"))],
                    })),
                }),
                ..Default::default()
            },
        ],
        body: s(&format!("deploy with {KEY} tonight")),
        trace_id: vec![7; 16],
        span_id: vec![8; 8],
        ..Default::default()
    }
}

#[test]
fn a_genai_event_is_scrubbed_in_its_body_and_nested_attributes() {
    let mut r = genai_event();
    let mut rep = ScrubReport::default();
    scrubber().scrub_log_record(&mut r, &mut rep).unwrap();
    let body = text(&r.body);
    assert!(!body.contains(KEY), "{body}");
    assert!(body.starts_with("deploy with ") && body.ends_with(" tonight"));
    let dump = format!("{:?}", r.attributes);
    assert!(!dump.contains(EMAIL), "{dump}");
    assert!(dump.contains("Mail me at "), "benign text kept: {dump}");
    assert_eq!(r.event_name, "gen_ai.client.inference.operation.details");
    assert_eq!(r.trace_id, vec![7; 16]);
    assert_eq!(rep.total(), 2);
    // The summary attributes, as on spans.
    assert!(attr(&r.attributes, "redaction.count").is_some());
    assert!(attr(&r.attributes, "redaction.types").is_some());
}

#[test]
fn benign_records_and_metrics_are_left_byte_for_byte() {
    let mut r = LogRecord {
        event_name: "gen_ai.choice".into(),
        severity_text: "INFO".into(),
        body: s("The weather in Lisbon is sunny, 24 degrees, light wind from the north."),
        attributes: vec![
            kv("code.function.name", "fetch_weather"),
            kv("city", "Lisbon"),
        ],
        ..Default::default()
    };
    let before = r.clone();
    let mut rep = ScrubReport::default();
    scrubber().scrub_log_record(&mut r, &mut rep).unwrap();
    assert_eq!(r, before);
    let mut m = histogram_metric(vec![kv("gen_ai.request.model", "gpt-4o-mini")]);
    let before = m.clone();
    scrubber().scrub_metric(&mut m, &mut rep).unwrap();
    assert_eq!(m, before);
    assert_eq!(rep.total(), 0);
}

#[test]
fn secrets_in_event_names_and_severity_text_are_scrubbed() {
    let mut r = LogRecord {
        event_name: format!("user {EMAIL} signed in"),
        severity_text: format!("INFO {KEY}"),
        ..Default::default()
    };
    let mut rep = ScrubReport::default();
    scrubber().scrub_log_record(&mut r, &mut rep).unwrap();
    assert!(!r.event_name.contains(EMAIL));
    assert!(!r.severity_text.contains(KEY));
}

#[test]
fn a_blocked_key_masks_its_value_in_a_record_and_a_data_point() {
    let mut r = LogRecord {
        attributes: vec![kv("api_key", "hunter2hunter2")],
        ..Default::default()
    };
    let mut rep = ScrubReport::default();
    scrubber().scrub_log_record(&mut r, &mut rep).unwrap();
    assert_eq!(
        text(&attr(&r.attributes, "api_key").unwrap().value),
        "[REDACTED:blocked_key]"
    );
    let mut m = histogram_metric(vec![kv("password", "hunter2hunter2")]);
    scrubber().scrub_metric(&mut m, &mut rep).unwrap();
    let Some(metric::Data::Histogram(h)) = &m.data else {
        unreachable!()
    };
    assert_eq!(
        text(&h.data_points[0].attributes[0].value),
        "[REDACTED:blocked_key]"
    );
}

fn histogram_metric(attributes: Vec<KeyValue>) -> Metric {
    Metric {
        name: "gen_ai.client.token.usage".into(),
        unit: "{token}".into(),
        description: "Measures number of input and output tokens used".into(),
        data: Some(metric::Data::Histogram(Histogram {
            data_points: vec![HistogramDataPoint {
                attributes,
                count: 2,
                bucket_counts: vec![1, 1],
                explicit_bounds: vec![100.0],
                ..Default::default()
            }],
            aggregation_temporality: 2,
        })),
        ..Default::default()
    }
}

#[test]
fn data_point_and_exemplar_attributes_are_scrubbed_names_and_units_kept() {
    let point = NumberDataPoint {
        attributes: vec![kv("user.email", EMAIL), kv("tool", "search")],
        exemplars: vec![Exemplar {
            filtered_attributes: vec![kv("prompt", &format!("key {KEY}"))],
            trace_id: vec![1; 16],
            span_id: vec![2; 8],
            value: Some(exemplar::Value::AsInt(3)),
            ..Default::default()
        }],
        value: Some(number_data_point::Value::AsInt(4111111111111111)),
        ..Default::default()
    };
    let mut m = Metric {
        // A name and unit that a rule would match are still left alone.
        name: format!("calls.{EMAIL}"),
        unit: KEY.into(),
        description: format!("calls by {EMAIL}"),
        metadata: vec![kv("owner", EMAIL)],
        data: Some(metric::Data::Sum(Sum {
            data_points: vec![point],
            aggregation_temporality: 2,
            is_monotonic: true,
        })),
    };
    let mut rep = ScrubReport::default();
    scrubber().scrub_metric(&mut m, &mut rep).unwrap();
    assert_eq!(m.name, format!("calls.{EMAIL}"));
    assert_eq!(m.unit, KEY);
    assert!(!m.description.contains(EMAIL));
    assert!(!text(&m.metadata[0].value).contains(EMAIL));
    let Some(metric::Data::Sum(sum)) = &m.data else {
        unreachable!()
    };
    let p = &sum.data_points[0];
    assert!(!text(&p.attributes[0].value).contains(EMAIL));
    assert_eq!(text(&p.attributes[1].value), "search");
    assert!(!text(&p.exemplars[0].filtered_attributes[0].value).contains(KEY));
    // Values are measurements, never scanned; no summary attributes on a data point.
    assert_eq!(
        p.value,
        Some(number_data_point::Value::AsInt(4111111111111111))
    );
    assert_eq!(p.attributes.len(), 2);
}

#[test]
fn summary_points_are_scrubbed_too() {
    let mut m = Metric {
        name: "latency".into(),
        data: Some(metric::Data::Summary(SummaryData {
            data_points: vec![SummaryDataPoint {
                attributes: vec![kv("q", &format!("who is {EMAIL}"))],
                quantile_values: vec![summary_data_point::ValueAtQuantile {
                    quantile: 0.5,
                    value: 1.0,
                }],
                ..Default::default()
            }],
        })),
        ..Default::default()
    };
    let mut rep = ScrubReport::default();
    scrubber().scrub_metric(&mut m, &mut rep).unwrap();
    assert!(!format!("{m:?}").contains(EMAIL));
}
