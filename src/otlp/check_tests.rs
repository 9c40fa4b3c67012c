//! Tests of the check, traces first, then logs and metrics.

use super::*;
use crate::otlp::testgen::{kv, request};
use crate::otlp::wire::{put_tag, put_varint_field};
use opentelemetry_proto::tonic::common::v1::{
    any_value::Value, AnyValue, ArrayValue, KeyValueList,
};
use opentelemetry_proto::tonic::trace::v1::span::Event;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use proptest::prelude::*;

fn limits() -> Limits {
    Limits::default()
}

fn one_span(span: Span) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![span],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// A request with one span whose encoding is `span_bytes`.
fn raw_span(span_bytes: &[u8]) -> Vec<u8> {
    let mut ss = Vec::new();
    put_len_field(&mut ss, SS_SPANS, span_bytes);
    let mut rs = Vec::new();
    put_len_field(&mut rs, RS_SCOPE_SPANS, &ss);
    let mut req = Vec::new();
    put_len_field(&mut req, REQUEST_RESOURCE_SPANS, &rs);
    req
}

fn checked(buf: &[u8], l: &Limits) -> Result<(Checked, Vec<u8>), CheckError> {
    let mut e = Edits::new();
    let c = check(buf, l, &mut e)?;
    let mut out = Vec::new();
    e.apply(Msg::new(buf), &mut out).unwrap();
    Ok((c, out))
}

proptest! {
    /// prost's own encodings pass unchanged, spans counted.
    #[test]
    fn prost_encodings_pass(req in request()) {
        let buf = req.encode_to_vec();
        let (c, out) = checked(&buf, &limits()).unwrap();
        prop_assert_eq!(out, buf);
        prop_assert_eq!(c.spans, crate::pipeline::count_spans(&req));
        prop_assert_eq!(c.oversize_values, 0);
    }

    /// Valid encodings with bytes changed: whatever still passes is exactly what prost
    /// reads from it, and nothing panics.
    #[test]
    fn whatever_passes_reads_as_prost_reads_it(
        req in request(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let mut bytes = req.encode_to_vec();
        if bytes.is_empty() {
            return Ok(());
        }
        for (at, b) in flips {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        if let Ok((_, out)) = checked(&bytes, &limits()) {
            let decoded = ExportTraceServiceRequest::decode(bytes.as_slice());
            prop_assert!(decoded.is_ok());
            let decoded = decoded.unwrap();
            prop_assert_eq!(ExportTraceServiceRequest::decode(out.as_slice()).unwrap(), decoded);
        }
    }
}

#[test]
fn ids_of_other_lengths_are_refused_empty_and_otlp_lengths_pass() {
    let span_with = |num: u32, id: &[u8]| {
        let mut sp = Vec::new();
        put_len_field(&mut sp, num, id);
        raw_span(&sp)
    };
    let link_with = |num: u32, id: &[u8]| {
        let mut link = Vec::new();
        put_len_field(&mut link, num, id);
        let mut sp = Vec::new();
        put_len_field(&mut sp, SPAN_LINKS, &link);
        raw_span(&sp)
    };
    let cases = [
        (span_with(SPAN_TRACE_ID, &[1; 5]), "span trace_id", 5),
        (span_with(SPAN_TRACE_ID, &[1; 17]), "span trace_id", 17),
        (span_with(SPAN_SPAN_ID, &[1; 16]), "span span_id", 16),
        (
            span_with(SPAN_PARENT_SPAN_ID, &[1; 3]),
            "span parent_span_id",
            3,
        ),
        (link_with(LINK_TRACE_ID, &[1; 8]), "link trace_id", 8),
        (
            link_with(LINK_SPAN_ID, b"sk_live_hidden"),
            "link span_id",
            14,
        ),
    ];
    for (buf, field, len) in cases {
        assert_eq!(
            checked(&buf, &limits()).err(),
            Some(CheckError::BadId { field, len }),
            "{field}"
        );
    }
    let passing = [
        span_with(SPAN_TRACE_ID, &[9; 16]),
        span_with(SPAN_SPAN_ID, &[9; 8]),
        span_with(SPAN_PARENT_SPAN_ID, &[9; 8]),
        link_with(LINK_TRACE_ID, &[9; 16]),
        link_with(LINK_SPAN_ID, &[9; 8]),
        span_with(SPAN_TRACE_ID, &[]),
        span_with(SPAN_PARENT_SPAN_ID, &[]),
        link_with(LINK_SPAN_ID, &[]),
    ];
    for buf in passing {
        let (c, out) = checked(&buf, &limits()).unwrap();
        assert_eq!((c.spans, out), (1, buf));
    }
}

#[test]
fn a_repeated_id_is_judged_by_the_occurrence_prost_keeps() {
    // Wrong, then right: not canonical; prost keeps the 16 bytes, which pass.
    let mut sp = Vec::new();
    put_len_field(&mut sp, SPAN_TRACE_ID, b"sk_live_hidden");
    put_len_field(&mut sp, SPAN_TRACE_ID, &[2; 16]);
    let buf = raw_span(&sp);
    assert_eq!(
        checked(&buf, &limits()).err(),
        Some(CheckError::NotCanonical)
    );
    let c = canonical(&buf).unwrap();
    assert!(checked(&c, &limits()).is_ok());
    assert!(!c.windows(6).any(|w| w == b"hidden"));
    // Right, then wrong: prost keeps the wrong one, refused once canonical.
    let mut sp = Vec::new();
    put_len_field(&mut sp, SPAN_TRACE_ID, &[2; 16]);
    put_len_field(&mut sp, SPAN_TRACE_ID, &[2; 4]);
    let c = canonical(&raw_span(&sp)).unwrap();
    assert_eq!(
        checked(&c, &limits()).err(),
        Some(CheckError::BadId {
            field: "span trace_id",
            len: 4
        })
    );
}

#[test]
fn shapes_prost_would_change_are_not_canonical_and_canonical_fixes_them() {
    let name = |out: &mut Vec<u8>, n: &str| put_len_field(out, SPAN_NAME, n.as_bytes());
    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
    // An unknown field (number 99) in a span: prost drops it, so must we.
    let mut sp = Vec::new();
    name(&mut sp, "a");
    put_len_field(&mut sp, 99, b"sk_live_hidden");
    cases.push(("unknown field", sp));
    // The name twice: prost keeps the last; the first must not travel on unscanned.
    let mut sp = Vec::new();
    name(&mut sp, "first");
    name(&mut sp, "second");
    cases.push(("singular field twice", sp));
    // An AnyValue with two members.
    let mut av = Vec::new();
    put_len_field(&mut av, AV_STRING, b"hidden");
    put_varint_field(&mut av, AV_INT, 5);
    let mut kvb = Vec::new();
    put_len_field(&mut kvb, KV_KEY, b"k");
    put_len_field(&mut kvb, KV_VALUE, &av);
    let mut sp = Vec::new();
    put_len_field(&mut sp, SPAN_ATTRIBUTES, &kvb);
    cases.push(("two oneof members", sp));
    // The span name as a varint.
    let mut sp = Vec::new();
    put_varint_field(&mut sp, SPAN_NAME, 7);
    cases.push(("wrong wire type", sp));
    // Invalid UTF-8 in a string.
    let mut sp = Vec::new();
    put_len_field(&mut sp, SPAN_NAME, &[0xff, 0xfe]);
    cases.push(("invalid utf-8", sp));
    // A group.
    let mut sp = Vec::new();
    put_tag(&mut sp, 20, 3);
    put_tag(&mut sp, 20, 4);
    cases.push(("group", sp));
    // Status twice (prost merges the two messages).
    let mut st = Vec::new();
    put_len_field(&mut st, STATUS_MESSAGE, b"m");
    let mut sp = Vec::new();
    put_len_field(&mut sp, SPAN_STATUS, &st);
    put_len_field(&mut sp, SPAN_STATUS, &st);
    cases.push(("message field twice", sp));
    for (what, sp) in cases {
        let buf = raw_span(&sp);
        assert_eq!(
            checked(&buf, &limits()).err(),
            Some(CheckError::NotCanonical),
            "{what}"
        );
        match canonical(&buf) {
            Ok(c) => {
                let (_, out) = checked(&c, &limits()).expect(what);
                assert_eq!(out, c, "{what}");
                assert_eq!(
                    ExportTraceServiceRequest::decode(c.as_slice()).unwrap(),
                    ExportTraceServiceRequest::decode(buf.as_slice()).unwrap(),
                    "{what}"
                );
                assert!(!c.windows(6).any(|w| w == b"hidden"), "{what}");
            }
            Err(e) => assert!(
                ExportTraceServiceRequest::decode(buf.as_slice()).is_err(),
                "{what}: {e}"
            ),
        }
    }
    // A length running past the end, and a varint that never ends.
    for bad in [vec![0x0a, 0x10, 0x00], vec![0x0a, 0x80]] {
        assert_eq!(
            checked(&bad, &limits()).err(),
            Some(CheckError::NotCanonical)
        );
        assert!(canonical(&bad).is_err());
    }
}

/// Nesting prost cannot decode is not admitted either: the boundary is prost's.
#[test]
fn nesting_stops_where_prost_stops() {
    let l = Limits {
        max_attribute_depth: 100,
        ..Limits::default()
    };
    let mut agreed = 0;
    for n in 30..70 {
        let mut v = AnyValue {
            value: Some(Value::BoolValue(true)),
        };
        for _ in 1..n {
            v = AnyValue {
                value: Some(Value::ArrayValue(ArrayValue { values: vec![v] })),
            };
        }
        let req = one_span(Span {
            attributes: vec![opentelemetry_proto::tonic::common::v1::KeyValue {
                key: "d".into(),
                value: Some(v),
                ..Default::default()
            }],
            ..Default::default()
        });
        let buf = req.encode_to_vec();
        let prost_ok = ExportTraceServiceRequest::decode(buf.as_slice()).is_ok();
        let ours = checked(&buf, &l);
        assert_eq!(ours.is_ok(), prost_ok, "depth {n}: {:?}", ours.err());
        if !prost_ok {
            assert_eq!(ours.err(), Some(CheckError::NotCanonical));
            assert!(canonical(&buf).is_err());
        }
        agreed += usize::from(prost_ok);
    }
    // Both outcomes were seen.
    assert!(agreed > 0 && agreed < 40, "{agreed}");
}

#[test]
fn limits_are_those_of_the_receivers() {
    let l = Limits {
        max_spans_per_request: 2,
        max_attributes_per_span: 4,
        max_attribute_depth: 2,
        max_attribute_value_bytes: 8,
        ..Limits::default()
    };
    let three = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![Span::default(), Span::default(), Span::default()],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    assert_eq!(
        checked(&three.encode_to_vec(), &l).err(),
        Some(CheckError::TooManySpans {
            limit: 2,
            what: "spans"
        })
    );
    // Span attributes, event attributes and array elements share the span's budget.
    let v = |s: &str| Value::StringValue(s.into());
    let mut sp = Span {
        attributes: vec![kv("a", v("1")), kv("b", v("2"))],
        events: vec![Event {
            attributes: vec![kv("c", v("3"))],
            ..Default::default()
        }],
        ..Default::default()
    };
    assert!(checked(&one_span(sp.clone()).encode_to_vec(), &l).is_ok());
    sp.attributes.push(kv(
        "arr",
        Value::ArrayValue(ArrayValue {
            values: vec![AnyValue {
                value: Some(v("x")),
            }],
        }),
    ));
    assert_eq!(
        checked(&one_span(sp).encode_to_vec(), &l).err(),
        Some(CheckError::TooManyAttributes { limit: 4 })
    );
    // Depth: a plain value is level 1, a kvlist's values level 2, one more is too deep.
    let inner = Value::KvlistValue(KeyValueList {
        values: vec![kv("x", v("1"))],
    });
    let ok = Span {
        attributes: vec![kv("k", inner.clone())],
        ..Default::default()
    };
    assert!(checked(&one_span(ok).encode_to_vec(), &l).is_ok());
    let deep = Span {
        attributes: vec![kv(
            "k",
            Value::KvlistValue(KeyValueList {
                values: vec![kv("y", inner)],
            }),
        )],
        ..Default::default()
    };
    assert_eq!(
        checked(&one_span(deep).encode_to_vec(), &l).err(),
        Some(CheckError::TooDeep { limit: 2 })
    );
    // Oversized string and bytes values, also inside arrays, become the marker string.
    let big = Span {
        name: "a name longer than eight bytes is not an attribute".into(),
        attributes: vec![
            kv("s", v("123456789")),
            kv("b", Value::BytesValue(vec![1; 9])),
            kv(
                "arr",
                Value::ArrayValue(ArrayValue {
                    values: vec![AnyValue {
                        value: Some(v("fits")),
                    }],
                }),
            ),
        ],
        ..Default::default()
    };
    let (c, out) = checked(&one_span(big.clone()).encode_to_vec(), &l).unwrap();
    assert_eq!(c.oversize_values, 2);
    let got = ExportTraceServiceRequest::decode(out.as_slice()).unwrap();
    let mut want = big;
    want.attributes[0] = kv("s", v(OVERSIZE_MARKER));
    want.attributes[1] = kv("b", v(OVERSIZE_MARKER));
    assert_eq!(got, one_span(want));
}

mod logs_and_metrics {
    use super::*;
    use crate::otlp::testgen::{count_points, count_records, log_request, metrics_request};
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
    use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    use opentelemetry_proto::tonic::metrics::v1::{
        metric, number_data_point, Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics,
    };

    fn checked_as(
        signal: Signal,
        buf: &[u8],
        l: &Limits,
    ) -> Result<(Checked, Vec<u8>), CheckError> {
        let mut e = Edits::new();
        let c = check_signal(signal, buf, l, &mut e)?;
        let mut out = Vec::new();
        e.apply(Msg::new(buf), &mut out).unwrap();
        Ok((c, out))
    }

    fn one_record(r: LogRecord) -> ExportLogsServiceRequest {
        ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                scope_logs: vec![ScopeLogs {
                    log_records: vec![r],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    fn one_gauge(points: Vec<NumberDataPoint>) -> ExportMetricsServiceRequest {
        ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                scope_metrics: vec![ScopeMetrics {
                    metrics: vec![Metric {
                        name: "queue.depth".into(),
                        data: Some(metric::Data::Gauge(Gauge {
                            data_points: points,
                        })),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    proptest! {
        #[test]
        fn prost_log_encodings_pass(req in log_request()) {
            let buf = req.encode_to_vec();
            let (c, out) = checked_as(Signal::Logs, &buf, &limits()).unwrap();
            prop_assert_eq!(out, buf);
            prop_assert_eq!(c.spans, count_records(&req));
        }

        #[test]
        fn prost_metric_encodings_pass_counting_data_points(req in metrics_request()) {
            let buf = req.encode_to_vec();
            let (c, out) = checked_as(Signal::Metrics, &buf, &limits()).unwrap();
            prop_assert_eq!(&out, &buf);
            prop_assert_eq!(c.spans, count_points(&req));
            prop_assert_eq!(
                crate::otlp::view::count_items(Signal::Metrics, Msg::new(&buf)).unwrap(),
                count_points(&req)
            );
        }

        /// Whatever passes after random byte changes is what prost reads, for both signals.
        #[test]
        fn whatever_passes_reads_as_prost_reads_it_logs_and_metrics(
            logs in log_request(),
            metrics in metrics_request(),
            flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        ) {
            for (signal, mut bytes) in [
                (Signal::Logs, logs.encode_to_vec()),
                (Signal::Metrics, metrics.encode_to_vec()),
            ] {
                if bytes.is_empty() {
                    continue;
                }
                for (at, b) in &flips {
                    let i = at.index(bytes.len());
                    bytes[i] = *b;
                }
                if let Ok((_, out)) = checked_as(signal, &bytes, &limits()) {
                    let again = canonical_signal(signal, &bytes);
                    prop_assert!(again.is_ok());
                    prop_assert_eq!(canonical_signal(signal, &out).unwrap(), again.unwrap());
                }
            }
        }
    }

    #[test]
    fn a_trace_request_is_not_a_logs_request_past_its_outer_shape() {
        let span = Span {
            name: "x".into(),
            kind: 2,
            ..Default::default()
        };
        let buf = one_span(span).encode_to_vec();
        // Span field 6 (kind, a varint) is a log record's attributes (a message): not canonical.
        assert_eq!(
            check_signal(Signal::Logs, &buf, &limits(), &mut Edits::new()),
            Err(CheckError::NotCanonical)
        );
    }

    #[test]
    fn log_record_ids_of_other_lengths_are_refused() {
        let r = LogRecord {
            trace_id: vec![1; 15],
            ..Default::default()
        };
        let buf = one_record(r).encode_to_vec();
        assert_eq!(
            checked_as(Signal::Logs, &buf, &limits()).unwrap_err(),
            CheckError::BadId {
                field: "log record trace_id",
                len: 15
            }
        );
    }

    #[test]
    fn an_oversized_log_body_becomes_the_marker() {
        let l = Limits {
            max_attribute_value_bytes: 8,
            ..Limits::default()
        };
        let r = LogRecord {
            body: Some(AnyValue {
                value: Some(Value::StringValue("a".repeat(9))),
            }),
            ..Default::default()
        };
        let (c, out) = checked_as(Signal::Logs, &one_record(r).encode_to_vec(), &l).unwrap();
        assert_eq!(c.oversize_values, 1);
        let got = ExportLogsServiceRequest::decode(out.as_slice()).unwrap();
        let body = got.resource_logs[0].scope_logs[0].log_records[0]
            .body
            .clone();
        assert_eq!(
            body.unwrap().value,
            Some(Value::StringValue(OVERSIZE_MARKER.into()))
        );
    }

    #[test]
    fn item_and_attribute_limits_count_log_records_and_data_points() {
        let l = Limits {
            max_spans_per_request: 2,
            max_attributes_per_span: 2,
            ..Limits::default()
        };
        let point = |n: usize| NumberDataPoint {
            attributes: (0..n)
                .map(|i| kv(&format!("k{i}"), Value::IntValue(1)))
                .collect(),
            value: Some(number_data_point::Value::AsInt(1)),
            ..Default::default()
        };
        let ok = one_gauge(vec![point(2), point(2)]).encode_to_vec();
        assert_eq!(checked_as(Signal::Metrics, &ok, &l).unwrap().0.spans, 2);
        let many = one_gauge(vec![point(0), point(0), point(0)]).encode_to_vec();
        assert_eq!(
            checked_as(Signal::Metrics, &many, &l).unwrap_err(),
            CheckError::TooManySpans {
                limit: 2,
                what: "metric_points"
            }
        );
        let wide = one_gauge(vec![point(3)]).encode_to_vec();
        assert_eq!(
            checked_as(Signal::Metrics, &wide, &l).unwrap_err(),
            CheckError::TooManyAttributes { limit: 2 }
        );
        let mut req = one_record(LogRecord::default());
        let records = &mut req.resource_logs[0].scope_logs[0].log_records;
        records.push(LogRecord::default());
        records.push(LogRecord::default());
        assert_eq!(
            checked_as(Signal::Logs, &req.encode_to_vec(), &l).unwrap_err(),
            CheckError::TooManySpans {
                limit: 2,
                what: "log_records"
            }
        );
    }

    /// Two members of a oneof, a torn packed field: prost reads them (keeping the last member;
    /// or refusing), so they are not canonical and go through prost first.
    #[test]
    fn oneofs_with_two_members_and_torn_packed_fields_are_not_canonical() {
        let mut point = Vec::new();
        put_tag(&mut point, NDP_AS_DOUBLE, I64);
        point.extend_from_slice(&1.0f64.to_le_bytes());
        put_tag(&mut point, NDP_AS_INT, I64);
        point.extend_from_slice(&2i64.to_le_bytes());
        let mut gauge = Vec::new();
        put_len_field(&mut gauge, DATA_POINTS, &point);
        let mut metric = Vec::new();
        put_len_field(&mut metric, METRIC_GAUGE, &gauge);
        let wrap = |metric: &[u8]| {
            let mut sm = Vec::new();
            put_len_field(&mut sm, SS_ITEMS, metric);
            let mut rm = Vec::new();
            put_len_field(&mut rm, RS_SCOPE_SPANS, &sm);
            let mut req = Vec::new();
            put_len_field(&mut req, REQUEST_RESOURCE_SPANS, &rm);
            req
        };
        let req = wrap(&metric);
        assert_eq!(
            check_signal(Signal::Metrics, &req, &limits(), &mut Edits::new()),
            Err(CheckError::NotCanonical)
        );
        let canon = canonical_signal(Signal::Metrics, &req).unwrap();
        let (c, _) = checked_as(Signal::Metrics, &canon, &limits()).unwrap();
        assert_eq!(c.spans, 1);

        // A histogram point whose bucket_counts is 7 bytes: prost refuses it.
        let mut hp = Vec::new();
        put_len_field(&mut hp, HDP_BUCKET_COUNTS, &[0u8; 7]);
        let mut hist = Vec::new();
        put_len_field(&mut hist, DATA_POINTS, &hp);
        let mut metric = Vec::new();
        put_len_field(&mut metric, METRIC_HISTOGRAM, &hist);
        let req = wrap(&metric);
        assert_eq!(
            check_signal(Signal::Metrics, &req, &limits(), &mut Edits::new()),
            Err(CheckError::NotCanonical)
        );
        assert!(canonical_signal(Signal::Metrics, &req).is_err());
    }
}
