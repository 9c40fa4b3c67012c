//! The receivers' one pass over an encoded request: is it in the shape prost would produce
//! (see the module docs of [`super`]), does it keep the structural limits, and which attribute
//! values are over the byte limit (replaced by [`OVERSIZE_MARKER`] through an edit, so they are
//! never forwarded unscanned and never cost a scan).
//!
//! Limits, as `receivers.otlp.limits` documents them: spans per request; key-values and array
//! elements per resource, per scope and per span (its events and links included, and everything
//! nested in their values); nesting of array/kvlist values (a plain value is level 1).

use super::edit::Edits;
use super::num::*;
use super::wire::{put_len_field, Msg, Val, I32, I64, LEN, VARINT};
use super::Limits;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;

/// What an attribute value over `max_attribute_value_bytes` is replaced by; the scrubber uses
/// the same marker for strings over its own `max_value_bytes`.
pub const OVERSIZE_MARKER: &str = "[REDACTED:oversize]";

/// Why a request did not pass.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    /// Not protobuf, or not in prost's shape: decode it with prost (which either refuses it
    /// with its own message, or yields a request to encode again, see [`canonical`]).
    #[error("not in canonical form")]
    NotCanonical,
    #[error("more than {limit} spans in one request")]
    TooManySpans { limit: usize },
    #[error("more than {limit} attributes in one span, resource or scope")]
    TooManyAttributes { limit: usize },
    #[error("attribute values nested deeper than {limit} levels")]
    TooDeep { limit: usize },
    /// An id of another length than OTLP's (16 bytes for a trace id, 8 for a span id, or empty,
    /// as the OpenTelemetry Collector accepts them). Ids are not scanned, so they must not be
    /// able to carry anything else.
    #[error("{field} of {len} bytes (trace ids are 16 bytes, span ids 8, or empty)")]
    BadId { field: &'static str, len: usize },
}

/// A request that passed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checked {
    pub spans: usize,
    /// String and bytes attribute values over the byte limit, replaced by edits.
    pub oversize_values: u64,
}

/// The message types of a trace request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Request,
    ResourceSpans,
    Resource,
    EntityRef,
    ScopeSpans,
    Scope,
    Span,
    Event,
    Link,
    Status,
    KeyValue,
    AnyValue,
    ArrayValue,
    KvList,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Str,
    Bytes,
    Varint,
    Fixed64,
    Fixed32,
    Msg(Kind),
}

/// A field's type and whether it repeats; `None` for a field the message does not have.
fn schema(kind: Kind, num: u32) -> Option<(Ty, bool)> {
    use Kind::*;
    use Ty::*;
    let one = |t| Some((t, false));
    let many = |t| Some((t, true));
    match (kind, num) {
        (Request, REQUEST_RESOURCE_SPANS) => many(Msg(ResourceSpans)),
        (ResourceSpans, RS_RESOURCE) => one(Msg(Resource)),
        (ResourceSpans, RS_SCOPE_SPANS) => many(Msg(ScopeSpans)),
        (ResourceSpans, RS_SCHEMA_URL) => one(Str),
        (Resource, RESOURCE_ATTRIBUTES) => many(Msg(KeyValue)),
        (Resource, RESOURCE_DROPPED) => one(Varint),
        (Resource, RESOURCE_ENTITY_REFS) => many(Msg(EntityRef)),
        (EntityRef, ENTITY_SCHEMA_URL | ENTITY_TYPE) => one(Str),
        (EntityRef, ENTITY_ID_KEYS | ENTITY_DESCRIPTION_KEYS) => many(Str),
        (ScopeSpans, SS_SCOPE) => one(Msg(Scope)),
        (ScopeSpans, SS_SPANS) => many(Msg(Span)),
        (ScopeSpans, SS_SCHEMA_URL) => one(Str),
        (Scope, SCOPE_NAME | SCOPE_VERSION) => one(Str),
        (Scope, SCOPE_ATTRIBUTES) => many(Msg(KeyValue)),
        (Scope, SCOPE_DROPPED) => one(Varint),
        (Span, SPAN_TRACE_ID | SPAN_SPAN_ID | SPAN_PARENT_SPAN_ID) => one(Bytes),
        (Span, SPAN_TRACE_STATE | SPAN_NAME) => one(Str),
        (Span, SPAN_KIND | SPAN_DROPPED_ATTRIBUTES | SPAN_DROPPED_EVENTS | SPAN_DROPPED_LINKS) => {
            one(Varint)
        }
        (Span, SPAN_START | SPAN_END) => one(Fixed64),
        (Span, SPAN_ATTRIBUTES) => many(Msg(KeyValue)),
        (Span, SPAN_EVENTS) => many(Msg(Event)),
        (Span, SPAN_LINKS) => many(Msg(Link)),
        (Span, SPAN_STATUS) => one(Msg(Status)),
        (Span, SPAN_FLAGS) => one(Fixed32),
        (Event, EVENT_TIME) => one(Fixed64),
        (Event, EVENT_NAME) => one(Str),
        (Event, EVENT_ATTRIBUTES) => many(Msg(KeyValue)),
        (Event, EVENT_DROPPED) => one(Varint),
        (Link, LINK_TRACE_ID | LINK_SPAN_ID) => one(Bytes),
        (Link, LINK_TRACE_STATE) => one(Str),
        (Link, LINK_ATTRIBUTES) => many(Msg(KeyValue)),
        (Link, LINK_DROPPED) => one(Varint),
        (Link, LINK_FLAGS) => one(Fixed32),
        (Status, STATUS_MESSAGE) => one(Str),
        (Status, STATUS_CODE) => one(Varint),
        (KeyValue, KV_KEY) => one(Str),
        (KeyValue, KV_VALUE) => one(Msg(AnyValue)),
        (KeyValue, KV_KEY_STRINDEX) => one(Varint),
        (AnyValue, AV_STRING) => one(Str),
        (AnyValue, AV_BOOL | AV_INT | AV_STRINDEX) => one(Varint),
        (AnyValue, AV_DOUBLE) => one(Fixed64),
        (AnyValue, AV_ARRAY) => one(Msg(ArrayValue)),
        (AnyValue, AV_KVLIST) => one(Msg(KvList)),
        (AnyValue, AV_BYTES) => one(Bytes),
        (ArrayValue, LIST_VALUES) => many(Msg(AnyValue)),
        (KvList, LIST_VALUES) => many(Msg(KeyValue)),
        _ => None,
    }
}

fn wire_of(t: Ty) -> u8 {
    match t {
        Ty::Str | Ty::Bytes | Ty::Msg(_) => LEN,
        Ty::Varint => VARINT,
        Ty::Fixed64 => I64,
        Ty::Fixed32 => I32,
    }
}

/// prost's limit on nested messages (`RECURSION_LIMIT`): deeper requests fail to decode there,
/// so they are not canonical here (and anything downstream that decodes with prost could not
/// read them).
const MAX_NESTING: usize = 100;

struct Walker<'l> {
    limits: &'l Limits,
    spans: usize,
    oversize: u64,
    /// Key-values and array elements left in the current resource, scope or span.
    left: usize,
    /// The first id of the wrong length. Reported only once the whole request proves
    /// canonical: a repeated id field is not canonical, and prost keeps its last occurrence.
    bad_id: Option<CheckError>,
}

/// The expected length and the name of a span's or link's id field.
fn id_field(kind: Kind, num: u32) -> (usize, &'static str) {
    match (kind, num) {
        (Kind::Span, SPAN_TRACE_ID) => (16, "span trace_id"),
        (Kind::Span, SPAN_SPAN_ID) => (8, "span span_id"),
        (Kind::Span, _) => (8, "span parent_span_id"),
        (_, LINK_TRACE_ID) => (16, "link trace_id"),
        _ => (8, "link span_id"),
    }
}

/// Checks `buf` (a decompressed `ExportTraceServiceRequest`); oversized attribute values are
/// replaced through `edits` (apply them before forwarding). On `NotCanonical`, `edits` may hold
/// partial work: clear it.
pub fn check(buf: &[u8], limits: &Limits, edits: &mut Edits) -> Result<Checked, CheckError> {
    let mut w = Walker {
        limits,
        spans: 0,
        oversize: 0,
        left: limits.max_attributes_per_span,
        bad_id: None,
    };
    w.msg(Msg::new(buf), Kind::Request, 0, 0, edits)?;
    if let Some(e) = w.bad_id {
        return Err(e);
    }
    Ok(Checked {
        spans: w.spans,
        oversize_values: w.oversize,
    })
}

/// Decodes a request with prost and encodes it again: the canonical form [`check`] admits. The
/// error is prost's own message (no payload text).
pub fn canonical(buf: &[u8]) -> Result<Vec<u8>, String> {
    ExportTraceServiceRequest::decode(buf)
        .map(|r| r.encode_to_vec())
        .map_err(|e| e.to_string())
}

impl Walker<'_> {
    fn take(&mut self) -> Result<(), CheckError> {
        self.left = self
            .left
            .checked_sub(1)
            .ok_or(CheckError::TooManyAttributes {
                limit: self.limits.max_attributes_per_span,
            })?;
        Ok(())
    }

    /// `depth`: the nesting level of the values in this message, for key-values and any-values
    /// (1 for a span's own attributes; 0 elsewhere). `level`: messages above this one.
    fn msg(
        &mut self,
        m: Msg<'_>,
        kind: Kind,
        depth: usize,
        level: usize,
        edits: &mut Edits,
    ) -> Result<(), CheckError> {
        if level > MAX_NESTING {
            return Err(CheckError::NotCanonical);
        }
        if matches!(kind, Kind::Resource | Kind::Scope | Kind::Span) {
            self.left = self.limits.max_attributes_per_span;
        }
        if kind == Kind::Span {
            self.spans += 1;
            if self.spans > self.limits.max_spans_per_request {
                return Err(CheckError::TooManySpans {
                    limit: self.limits.max_spans_per_request,
                });
            }
        }
        if kind == Kind::AnyValue && depth > self.limits.max_attribute_depth {
            return Err(CheckError::TooDeep {
                limit: self.limits.max_attribute_depth,
            });
        }
        let mut seen: u32 = 0;
        let mut oneof = false;
        for f in m.fields() {
            let f = f.map_err(|_| CheckError::NotCanonical)?;
            let (ty, repeated) = schema(kind, f.num).ok_or(CheckError::NotCanonical)?;
            if f.wire_type() != wire_of(ty) {
                return Err(CheckError::NotCanonical);
            }
            if !repeated {
                let bit = 1u32 << f.num;
                if seen & bit != 0 {
                    return Err(CheckError::NotCanonical);
                }
                seen |= bit;
            }
            if kind == Kind::AnyValue {
                if oneof {
                    return Err(CheckError::NotCanonical);
                }
                oneof = true;
            }
            match (ty, f.val) {
                (Ty::Str, Val::Len(s)) => {
                    if simdutf8::basic::from_utf8(s.bytes()).is_err() {
                        return Err(CheckError::NotCanonical);
                    }
                    if kind == Kind::AnyValue
                        && s.bytes().len() > self.limits.max_attribute_value_bytes
                    {
                        self.oversize += 1;
                        edits.replace(&m, f.range(), |out| {
                            put_len_field(out, AV_STRING, OVERSIZE_MARKER.as_bytes())
                        });
                    }
                }
                // Bytes may be kept unscanned (`redaction.bytes: keep`); oversized ones never:
                // they become the marker string.
                (Ty::Bytes, Val::Len(b))
                    if kind == Kind::AnyValue
                        && b.bytes().len() > self.limits.max_attribute_value_bytes =>
                {
                    self.oversize += 1;
                    edits.replace(&m, f.range(), |out| {
                        put_len_field(out, AV_STRING, OVERSIZE_MARKER.as_bytes())
                    });
                }
                (Ty::Bytes, Val::Len(b)) if matches!(kind, Kind::Span | Kind::Link) => {
                    let (want, field) = id_field(kind, f.num);
                    let len = b.bytes().len();
                    if len != 0 && len != want && self.bad_id.is_none() {
                        self.bad_id = Some(CheckError::BadId { field, len });
                    }
                }
                (Ty::Msg(child), Val::Len(c)) => {
                    let d = match (kind, child) {
                        // A span's, event's, link's, resource's or scope's attributes.
                        (
                            Kind::Resource | Kind::Scope | Kind::Span | Kind::Event | Kind::Link,
                            Kind::KeyValue,
                        ) => {
                            self.take()?;
                            1
                        }
                        (Kind::KvList, Kind::KeyValue) => {
                            self.take()?;
                            depth + 1
                        }
                        (Kind::ArrayValue, Kind::AnyValue) => {
                            self.take()?;
                            depth + 1
                        }
                        (Kind::KeyValue | Kind::AnyValue, _) => depth,
                        _ => 0,
                    };
                    self.msg(c, child, d, level + 1, edits)?;
                }
                _ => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
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
            Some(CheckError::TooManySpans { limit: 2 })
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
}
