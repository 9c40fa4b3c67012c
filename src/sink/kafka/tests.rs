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
