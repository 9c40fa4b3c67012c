//! Random OTLP trace requests for the property tests of this module.

use super::wire::put_len_field;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    any_value::Value, AnyValue, ArrayValue, KeyValue, KeyValueList,
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
