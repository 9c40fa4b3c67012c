//! Request bodies: decompression under size and ratio limits, OTLP/JSON decoding, and the check
//! of OTLP protobuf against its canonical form and the structural limits ([`admit`]). Pure
//! functions, so they are easy to fuzz.

use crate::otlp::check::{canonical_signal, check_signal};
use crate::otlp::{CheckError, Edits, Limits, Msg};
use crate::vocab::{RefuseReason, Signal};
use bytes::Bytes;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use std::io::Read;

pub use crate::otlp::check::OVERSIZE_MARKER;

/// Bodies smaller than this may inflate by any ratio: they cannot hurt.
const RATIO_FLOOR: usize = 1024 * 1024;

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum BodyError {
    #[error("request body over {limit} bytes")]
    TooLarge { limit: usize },
    #[error("compressed body inflates more than {ratio}x")]
    Bomb { ratio: u32 },
    #[error("invalid gzip data")]
    BadGzip,
    #[error("unsupported content encoding")]
    UnsupportedEncoding,
    #[error("invalid protobuf: {0}")]
    Protobuf(String),
    #[error("invalid OTLP JSON: {0}")]
    Json(String),
    /// Over a structural limit, or an id of the wrong length: the receivers' check's own error
    /// (never `NotCanonical`, which is prost's to answer).
    #[error(transparent)]
    Check(CheckError),
}

impl BodyError {
    /// How the refusal is counted and answered: oversized requests are `too_large` (HTTP 413,
    /// gRPC `RESOURCE_EXHAUSTED`), everything undecodable or too deep is `malformed` (400,
    /// `INVALID_ARGUMENT`, as the decoders themselves answer for nesting past their limits).
    pub fn reason(&self) -> RefuseReason {
        match self {
            BodyError::TooLarge { .. }
            | BodyError::Bomb { .. }
            | BodyError::Check(CheckError::TooManySpans { .. })
            | BodyError::Check(CheckError::TooManyAttributes { .. }) => RefuseReason::TooLarge,
            BodyError::BadGzip
            | BodyError::UnsupportedEncoding
            | BodyError::Protobuf(_)
            | BodyError::Json(_)
            | BodyError::Check(_) => RefuseReason::Malformed,
        }
    }
}

impl BodyError {
    fn from_check(e: CheckError) -> BodyError {
        match e {
            // prost's own encoding is always canonical; fail closed if it were not.
            CheckError::NotCanonical => BodyError::Protobuf("not in canonical form".into()),
            e => BodyError::Check(e),
        }
    }
}

/// A request the receivers admit: an OTLP protobuf `ExportTraceServiceRequest` in canonical
/// form (see [`crate::otlp`]), within the structural limits, oversized values replaced.
#[derive(Debug, Clone)]
pub struct Admitted {
    /// Which signal's export request `body` is.
    pub signal: Signal,
    pub body: Bytes,
    pub spans: usize,
    /// String and bytes attribute values over `max_attribute_value_bytes`, replaced by
    /// [`OVERSIZE_MARKER`].
    pub oversize_values: u64,
}

/// Why a body was not admitted, with the spans it held when that is known (for the refused
/// spans counter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotAdmitted {
    pub error: BodyError,
    pub spans: usize,
}

/// The receivers' whole path from a (decompressed) body to a request for the queue, in one
/// place for the receivers and the fuzz targets. Protobuf in canonical form is checked where
/// it sits and kept as it is; any other protobuf is decoded and encoded again by prost (which
/// also rejects what does not decode); OTLP/JSON is decoded and encoded as protobuf. Then the
/// limits: a whole-request violation (too many spans, too many attributes in one span, nesting
/// too deep) refuses the request; an attribute value over the byte limit is replaced by
/// [`OVERSIZE_MARKER`] and counted, so it is never forwarded unscanned (and never costs a scan).
pub fn admit(body: Bytes, json: bool, limits: &Limits) -> Result<Admitted, NotAdmitted> {
    admit_signal(Signal::Traces, body, json, limits)
}

/// [`admit`] for any signal's export request.
pub fn admit_signal(
    signal: Signal,
    body: Bytes,
    json: bool,
    limits: &Limits,
) -> Result<Admitted, NotAdmitted> {
    let refuse = |error: BodyError| NotAdmitted { error, spans: 0 };
    let body = if json {
        Bytes::from(json_to_protobuf(signal, &body).map_err(refuse)?)
    } else {
        body
    };
    let mut edits = Edits::new();
    let (body, checked) = match check_signal(signal, &body, limits, &mut edits) {
        Err(CheckError::NotCanonical) => {
            let canon = canonical_signal(signal, &body)
                .map_err(|e| refuse(BodyError::Protobuf(short(&e))))?;
            edits.clear();
            let canon = Bytes::from(canon);
            match check_signal(signal, &canon, limits, &mut edits) {
                Ok(c) => (canon, c),
                Err(e) => return Err(over_limit(signal, &canon, e)),
            }
        }
        Err(e) => return Err(over_limit(signal, &body, e)),
        Ok(c) => (body, c),
    };
    let body = if edits.is_empty() {
        body
    } else {
        let mut out = Vec::new();
        edits
            .apply(Msg::new(&body), &mut out)
            .map_err(|e| refuse(BodyError::Protobuf(e.to_string())))?;
        Bytes::from(out)
    };
    Ok(Admitted {
        signal,
        body,
        spans: checked.spans,
        oversize_values: checked.oversize_values,
    })
}

fn over_limit(signal: Signal, body: &[u8], e: CheckError) -> NotAdmitted {
    NotAdmitted {
        error: BodyError::from_check(e),
        spans: crate::otlp::view::count_items(signal, Msg::new(body)).unwrap_or(0),
    }
}

/// Inflates a gzip body, stopping as soon as it passes the size or ratio limit, so a bomb costs
/// at most `max_body_bytes` of memory.
pub fn gunzip(compressed: &[u8], limits: &Limits) -> Result<Vec<u8>, BodyError> {
    let by_ratio = compressed
        .len()
        .saturating_mul(limits.max_decompression_ratio as usize)
        .max(RATIO_FLOOR);
    let cap = limits.max_body_bytes.min(by_ratio);
    let mut out = Vec::with_capacity((compressed.len() * 4).min(cap));
    let mut dec = flate2::read::MultiGzDecoder::new(compressed).take(cap as u64 + 1);
    dec.read_to_end(&mut out).map_err(|_| BodyError::BadGzip)?;
    if out.len() > cap {
        return Err(if cap == limits.max_body_bytes {
            BodyError::TooLarge {
                limit: limits.max_body_bytes,
            }
        } else {
            BodyError::Bomb {
                ratio: limits.max_decompression_ratio,
            }
        });
    }
    Ok(out)
}

/// Decodes an OTLP protobuf request (prost: the tools and tests that want the decoded form).
pub fn decode_protobuf(body: &[u8]) -> Result<ExportTraceServiceRequest, BodyError> {
    ExportTraceServiceRequest::decode(body).map_err(|e| BodyError::Protobuf(short(&e.to_string())))
}

/// Decodes an OTLP/JSON request (hex ids, lowerCamelCase names, enums as integers, unknown
/// fields ignored), the mapping of the OTLP specification.
pub fn decode_json(body: &[u8]) -> Result<ExportTraceServiceRequest, BodyError> {
    decode_json_as(body)
}

/// An OTLP/JSON request of `signal`, encoded as protobuf.
pub fn json_to_protobuf(signal: Signal, body: &[u8]) -> Result<Vec<u8>, BodyError> {
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
    Ok(match signal {
        Signal::Traces => decode_json_as::<ExportTraceServiceRequest>(body)?.encode_to_vec(),
        Signal::Logs => decode_json_as::<ExportLogsServiceRequest>(body)?.encode_to_vec(),
        Signal::Metrics => decode_json_as::<ExportMetricsServiceRequest>(body)?.encode_to_vec(),
    })
}

fn decode_json_as<M: serde::de::DeserializeOwned>(body: &[u8]) -> Result<M, BodyError> {
    // JSON text is UTF-8; serde_json does not check bytes inside values it skips.
    let text = std::str::from_utf8(body)
        .map_err(|e| BodyError::Json(format!("invalid UTF-8 at byte {}", e.valid_up_to())))?;
    serde_json::from_str(text).map_err(|e| BodyError::Json(json_error_message(&e)))
}

/// The client-facing text of a JSON decode error: its class and position only. serde's own
/// messages can quote the offending value (`invalid type: string "…", expected i32`), and that
/// value may be a secret; answers and logs never echo payload content.
fn json_error_message(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Syntax => "syntax error",
        Category::Eof => "unexpected end of input",
        Category::Data => "value does not match the OTLP schema",
        Category::Io => "read error",
    };
    format!("{what} at line {} column {}", e.line(), e.column())
}

/// Keeps error messages short; they are sent back to clients and logged.
fn short(s: &str) -> String {
    s.chars().take(160).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn gunzip_roundtrip() {
        let l = Limits::default();
        assert_eq!(gunzip(&gz(b"hello"), &l).unwrap(), b"hello");
    }

    #[test]
    fn gzip_bomb_stops_at_ratio() {
        let l = Limits::default();
        let bomb = gz(&vec![0u8; 50 * 1024 * 1024]);
        assert!(bomb.len() < 100 * 1024);
        assert_eq!(
            gunzip(&bomb, &l),
            Err(BodyError::Bomb {
                ratio: l.max_decompression_ratio
            })
        );
    }

    #[test]
    fn over_size_limit() {
        let l = Limits {
            max_body_bytes: 2 * 1024 * 1024,
            max_decompression_ratio: 100_000,
            ..Limits::default()
        };
        let big = gz(&vec![1u8; 3 * 1024 * 1024]);
        assert_eq!(
            gunzip(&big, &l),
            Err(BodyError::TooLarge {
                limit: 2 * 1024 * 1024
            })
        );
    }

    #[test]
    fn bad_gzip() {
        assert_eq!(
            gunzip(b"not gzip at all", &Limits::default()),
            Err(BodyError::BadGzip)
        );
    }

    #[test]
    fn json_errors_never_quote_the_payload() {
        let secret = "sk-proj-NEVERECHOED0123456789abcdefABCDEF";
        let bodies = [
            // A string where an enum integer belongs: serde would quote the string.
            format!(
                r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{"kind":"{secret}"}}]}}]}}]}}"#
            ),
            // A string where a double belongs (opentelemetry-proto's own message quotes it).
            format!(
                r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{"attributes":[{{"key":"k","value":{{"doubleValue":"{secret}"}}}}]}}]}}]}}]}}"#
            ),
            format!(
                r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{"traceId":"{secret}"}}]}}]}}]}}"#
            ),
            format!(r#"{{"resourceSpans":"{secret}"}}"#),
            format!(r#"{{"{secret}": [1, 2"#),
            format!(r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{"name":"{secret}"#),
        ];
        for b in &bodies {
            let e = decode_json(b.as_bytes()).expect_err(b);
            let msg = e.to_string();
            assert!(!msg.contains("NEVERECHOED"), "{msg}");
            assert!(msg.contains("line 1 column"), "{msg}");
        }
    }

    #[test]
    fn otlp_json_mapping() {
        let json = br#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"agent"}}]},
          "scopeSpans":[{"scope":{"name":"s"},"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
          "parentSpanId":"","name":"chat","kind":3,"startTimeUnixNano":"1544712660000000000","endTimeUnixNano":1544712661000000000,
          "attributes":[{"key":"n","value":{"intValue":"42"}},{"key":"f","value":{"doubleValue":1.5}},
          {"key":"b","value":{"boolValue":true}},{"key":"arr","value":{"arrayValue":{"values":[{"stringValue":"x"}]}}},
          {"key":"kv","value":{"kvlistValue":{"values":[{"key":"k","value":{"stringValue":"v"}}]}}}],
          "status":{"code":2,"message":"boom"},"someFutureField":{"x":1}}]}]}]}"#;
        let req = decode_json(json).unwrap();
        let span = &req.resource_spans[0].scope_spans[0].spans[0];
        assert_eq!(
            hex::encode(&span.trace_id),
            "5b8efff798038103d269b633813fc60c"
        );
        assert_eq!(hex::encode(&span.span_id), "eee19b7ec3c1b174");
        assert_eq!(span.kind, 3);
        assert_eq!(span.start_time_unix_nano, 1544712660000000000);
        assert_eq!(span.end_time_unix_nano, 1544712661000000000);
        assert_eq!(span.attributes.len(), 5);
        assert_eq!(span.status.as_ref().unwrap().code, 2);
    }

    use opentelemetry_proto::tonic::common::v1::{
        any_value::Value, AnyValue, ArrayValue, KeyValue, KeyValueList,
    };
    use opentelemetry_proto::tonic::resource::v1::Resource;

    #[derive(Debug)]
    struct Limited {
        req: ExportTraceServiceRequest,
        oversize_values: u64,
    }

    /// [`admit`], decoded again for the assertions.
    fn decode_limited(body: &[u8], json: bool, l: &Limits) -> Result<Limited, BodyError> {
        admit(Bytes::copy_from_slice(body), json, l)
            .map(|a| Limited {
                req: decode_protobuf(&a.body).unwrap(),
                oversize_values: a.oversize_values,
            })
            .map_err(|e| e.error)
    }

    fn enforce(req: &mut ExportTraceServiceRequest, l: &Limits) -> Result<(), BodyError> {
        decode_limited(&req.encode_to_vec(), false, l).map(|d| *req = d.req)
    }
    use opentelemetry_proto::tonic::trace::v1::{span::Event, ResourceSpans, ScopeSpans, Span};

    /// A value nested `depth` levels deep (1 = a plain string), alternating arrays and kvlists.
    fn nested(depth: usize) -> AnyValue {
        let mut v = AnyValue {
            value: Some(Value::StringValue("leaf".into())),
        };
        for i in 1..depth {
            v = AnyValue {
                value: Some(if i % 2 == 0 {
                    Value::ArrayValue(ArrayValue { values: vec![v] })
                } else {
                    Value::KvlistValue(KeyValueList {
                        values: vec![kv("k", v)],
                    })
                }),
            };
        }
        v
    }

    /// Only arrays: the deepest nesting protobuf can carry within prost's recursion limit.
    fn nested_arrays(depth: usize) -> AnyValue {
        let mut v = AnyValue {
            value: Some(Value::BoolValue(true)),
        };
        for _ in 1..depth {
            v = AnyValue {
                value: Some(Value::ArrayValue(ArrayValue { values: vec![v] })),
            };
        }
        v
    }

    fn kv(key: &str, v: AnyValue) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(v),
            ..Default::default()
        }
    }

    fn req_with(spans: Vec<Span>, resource_attrs: Vec<KeyValue>) -> ExportTraceServiceRequest {
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(Resource {
                    attributes: resource_attrs,
                    ..Default::default()
                }),
                scope_spans: vec![ScopeSpans {
                    spans,
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    fn span_with(attrs: Vec<KeyValue>) -> Span {
        Span {
            trace_id: vec![1; 16],
            span_id: vec![2; 8],
            name: "s".into(),
            attributes: attrs,
            ..Default::default()
        }
    }

    fn json_of(req: &ExportTraceServiceRequest) -> Vec<u8> {
        serde_json::to_vec(req).unwrap()
    }

    #[test]
    fn depth_limit_applies_to_protobuf_and_json() {
        let l = Limits::default();
        for (depth, ok) in [(32, true), (33, false)] {
            let req = req_with(vec![span_with(vec![kv("deep", nested(depth))])], vec![]);
            for json in [false, true] {
                let body = if json {
                    json_of(&req)
                } else {
                    req.encode_to_vec()
                };
                let got = decode_limited(&body, json, &l);
                if ok {
                    assert_eq!(got.unwrap().req, req, "depth {depth} json={json}");
                } else {
                    let e = got.unwrap_err();
                    assert_eq!(
                        e,
                        BodyError::Check(CheckError::TooDeep { limit: 32 }),
                        "json={json}"
                    );
                    assert_eq!(e.reason(), RefuseReason::Malformed);
                }
            }
        }
        // Nested in an event's attributes, and in resource attributes, too.
        let mut sp = span_with(vec![]);
        sp.events.push(Event {
            attributes: vec![kv("deep", nested(33))],
            ..Default::default()
        });
        let mut req = req_with(vec![sp], vec![]);
        assert!(matches!(
            enforce(&mut req, &l),
            Err(BodyError::Check(CheckError::TooDeep { .. }))
        ));
        let mut req = req_with(vec![span_with(vec![])], vec![kv("deep", nested(33))]);
        assert!(matches!(
            enforce(&mut req, &l),
            Err(BodyError::Check(CheckError::TooDeep { .. }))
        ));
    }

    #[test]
    fn decoders_bound_nesting_without_overflowing_the_stack() {
        // Far past both decoders' own recursion limits (prost 100 messages, serde_json 128):
        // they return errors, and nothing recurses unboundedly (the protobuf check stops where
        // prost stops and leaves the error to prost).
        let l = Limits {
            max_attribute_depth: 100,
            ..Limits::default()
        };
        let req = req_with(
            vec![span_with(vec![kv("deep", nested_arrays(500))])],
            vec![],
        );
        let pb = req.encode_to_vec();
        assert!(matches!(
            decode_limited(&pb, false, &l),
            Err(BodyError::Protobuf(_))
        ));
        // Hand-built JSON: serializing the value above would itself recurse 500 levels.
        let mut json = String::from(
            r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"d","value":"#,
        );
        for _ in 0..5000 {
            json.push_str(r#"{"arrayValue":{"values":["#);
        }
        assert!(matches!(
            decode_limited(json.as_bytes(), true, &l),
            Err(BodyError::Json(_))
        ));
        // Where prost stops for protobuf: an array-only nesting of 47 levels still decodes, so
        // the configurable limit (at most 100) is what binds below that.
        let req = req_with(vec![span_with(vec![kv("deep", nested_arrays(47))])], vec![]);
        assert!(decode_protobuf(&req.encode_to_vec()).is_ok());
        assert_eq!(
            decode_limited(&req.encode_to_vec(), false, &Limits::default()).err(),
            Some(BodyError::Check(CheckError::TooDeep { limit: 32 }))
        );
    }

    #[test]
    fn too_many_spans_is_refused_whole() {
        let l = Limits {
            max_spans_per_request: 3,
            ..Limits::default()
        };
        let mut ok = req_with((0..3).map(|_| span_with(vec![])).collect(), vec![]);
        assert!(enforce(&mut ok, &l).is_ok());
        let mut over = req_with((0..4).map(|_| span_with(vec![])).collect(), vec![]);
        let e = enforce(&mut over, &l).unwrap_err();
        assert_eq!(
            e,
            BodyError::Check(CheckError::TooManySpans {
                limit: 3,
                what: "spans"
            })
        );
        assert_eq!(e.reason(), RefuseReason::TooLarge);
        assert_eq!(e.to_string(), "more than 3 spans in one request");
    }

    #[test]
    fn attribute_budget_counts_events_links_and_nested_values() {
        let l = Limits {
            max_attributes_per_span: 5,
            ..Limits::default()
        };
        let s = |n: usize| -> Vec<KeyValue> {
            (0..n)
                .map(|i| kv(&format!("k{i}"), AnyValue::default()))
                .collect()
        };
        // 3 own + 2 on an event = 5: at the limit.
        let mut sp = span_with(s(3));
        sp.events.push(Event {
            attributes: s(2),
            ..Default::default()
        });
        let mut req = req_with(vec![sp.clone()], s(5));
        assert!(enforce(&mut req, &l).is_ok());
        // One more on the event: over.
        sp.events[0].attributes.push(kv("x", AnyValue::default()));
        let mut req = req_with(vec![sp], vec![]);
        assert_eq!(
            enforce(&mut req, &l),
            Err(BodyError::Check(CheckError::TooManyAttributes { limit: 5 }))
        );
        // One attribute holding an array of 5: 6 in all.
        let arr = AnyValue {
            value: Some(Value::ArrayValue(ArrayValue {
                values: vec![AnyValue::default(); 5],
            })),
        };
        let mut req = req_with(vec![span_with(vec![kv("a", arr)])], vec![]);
        assert!(matches!(
            enforce(&mut req, &l),
            Err(BodyError::Check(CheckError::TooManyAttributes { .. }))
        ));
        // The budget is per span: two spans with 5 each pass.
        let mut req = req_with(vec![span_with(s(5)), span_with(s(5))], vec![]);
        assert!(enforce(&mut req, &l).is_ok());
        // Resource attributes have their own budget.
        let mut req = req_with(vec![span_with(vec![])], s(6));
        assert!(enforce(&mut req, &l).is_err());
    }

    #[test]
    fn oversize_values_are_replaced_and_counted() {
        let l = Limits {
            max_attribute_value_bytes: 8,
            ..Limits::default()
        };
        let str_v = |s: &str| AnyValue {
            value: Some(Value::StringValue(s.into())),
        };
        let inner = AnyValue {
            value: Some(Value::KvlistValue(KeyValueList {
                values: vec![kv("in", str_v("secret-too-long"))],
            })),
        };
        let attrs = vec![
            kv("at_limit", str_v("12345678")),
            kv("over", str_v("123456789")),
            kv(
                "bytes",
                AnyValue {
                    value: Some(Value::BytesValue(vec![7; 9])),
                },
            ),
            kv("nested", inner),
        ];
        for json in [false, true] {
            let req = req_with(vec![span_with(attrs.clone())], vec![]);
            let body = if json {
                json_of(&req)
            } else {
                req.encode_to_vec()
            };
            let d = decode_limited(&body, json, &l).unwrap();
            let (got, e) = (d.req, d.oversize_values);
            assert_eq!(e, 3);
            let a = &got.resource_spans[0].scope_spans[0].spans[0].attributes;
            let s = |i: usize| match a[i].value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(Value::StringValue(s)) => s.clone(),
                Some(Value::KvlistValue(kv)) => {
                    match kv.values[0].value.as_ref().unwrap().value.as_ref() {
                        Some(Value::StringValue(s)) => s.clone(),
                        other => panic!("{other:?}"),
                    }
                }
                other => panic!("{other:?}"),
            };
            assert_eq!(s(0), "12345678");
            assert_eq!(s(1), OVERSIZE_MARKER);
            assert_eq!(s(2), OVERSIZE_MARKER);
            assert_eq!(s(3), OVERSIZE_MARKER);
            assert!(!format!("{got:?}").contains("secret-too-long"));
        }
    }

    #[test]
    fn malformed_inputs_are_errors() {
        assert!(decode_json(b"{not json").is_err());
        assert!(decode_json(b"\xff\xfe").is_err());
        assert!(decode_protobuf(&[0x0a, 0xff, 0xff, 0xff]).is_err());
    }

    /// An id of the wrong length refuses the request as malformed (400, INVALID_ARGUMENT),
    /// from protobuf and from JSON alike, and the message names the field, not its bytes.
    #[test]
    fn ids_of_the_wrong_length_are_malformed() {
        let mut span = span_with(vec![]);
        span.trace_id = b"sk_live_0123456789abcdefgh".to_vec();
        let req = req_with(vec![span], vec![]);
        let l = Limits::default();
        let e = admit(Bytes::from(req.encode_to_vec()), false, &l).unwrap_err();
        assert_eq!(e.spans, 1);
        assert_eq!(e.error.reason(), RefuseReason::Malformed);
        let msg = e.error.to_string();
        assert_eq!(
            msg,
            "span trace_id of 26 bytes (trace ids are 16 bytes, span ids 8, or empty)"
        );
        let json = br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b1","name":"x"}]}]}]}"#;
        let e = admit(Bytes::from_static(json), true, &l).unwrap_err();
        assert_eq!(
            e.error,
            BodyError::Check(CheckError::BadId {
                field: "span span_id",
                len: 7
            })
        );
    }
}
