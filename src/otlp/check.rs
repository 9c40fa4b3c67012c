//! The receivers' one pass over an encoded request: is it in the shape prost would produce
//! (see the module docs of [`super`]), does it keep the structural limits, and which attribute
//! values are over the byte limit (replaced by [`OVERSIZE_MARKER`] through an edit, so they are
//! never forwarded unscanned and never cost a scan).
//!
//! Limits, as `receivers.otlp.limits` documents them: items per request (spans, log records or
//! metric data points); key-values and array elements per resource, per scope and per item (a
//! span's events and links, a log record's body, a data point's exemplars included, and
//! everything nested in their values); nesting of array/kvlist values (a plain value is level
//! 1).
//!
//! The three signals' requests share their outer shape (request → resource → scope → items,
//! with the same field numbers); the walk differs only in the items' schema.

use super::edit::Edits;
use super::num::*;
use super::wire::{put_len_field, Msg, Val, I32, I64, LEN, VARINT};
use super::Limits;
use crate::vocab::Signal;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
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
    /// More items (spans, log records or metric data points, `what`) than the limit.
    #[error("more than {limit} {what} in one request")]
    TooManySpans { limit: usize, what: &'static str },
    #[error("more than {limit} attributes in one span, log record, data point, resource or scope")]
    TooManyAttributes { limit: usize },
    #[error("attribute values nested deeper than {limit} levels")]
    TooDeep { limit: usize },
    /// An id of another length than OTLP's (16 bytes for a trace id, 8 for a span id, or empty,
    /// as the OpenTelemetry Collector accepts them), on a span, link, log record or exemplar.
    /// Ids are not scanned, so they must not be able to carry anything else.
    #[error("{field} of {len} bytes (trace ids are 16 bytes, span ids 8, or empty)")]
    BadId { field: &'static str, len: usize },
}

/// A request that passed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checked {
    /// Items: spans, log records or metric data points.
    pub spans: usize,
    /// String and bytes attribute values over the byte limit, replaced by edits.
    pub oversize_values: u64,
}

/// The message types of the three signals' requests. `Request`, `ResourceSpans` and
/// `ScopeSpans` stand for the logs' and metrics' messages of the same place too.
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
    LogRecord,
    Metric,
    /// `Gauge` and `Summary` (data points only), `Sum`, `Histogram`, `ExponentialHistogram`.
    Gauge,
    Sum,
    Histogram,
    ExpHistogram,
    Summary,
    NumberPoint,
    HistogramPoint,
    ExpHistogramPoint,
    Buckets,
    SummaryPoint,
    Quantile,
    Exemplar,
}

impl Kind {
    /// The items of a signal's scope message.
    fn items_of(signal: Signal) -> Kind {
        match signal {
            Signal::Traces => Kind::Span,
            Signal::Logs => Kind::LogRecord,
            Signal::Metrics => Kind::Metric,
        }
    }

    /// What the item limit counts: spans, log records, metric data points.
    fn is_item(self) -> bool {
        matches!(
            self,
            Kind::Span
                | Kind::LogRecord
                | Kind::NumberPoint
                | Kind::HistogramPoint
                | Kind::ExpHistogramPoint
                | Kind::SummaryPoint
        )
    }

    /// Messages whose own attributes count against the per-item attribute limit from zero.
    fn resets_attribute_count(self) -> bool {
        self.is_item() || matches!(self, Kind::Resource | Kind::Scope | Kind::Metric)
    }

    /// Messages whose attributes are level-1 values.
    fn has_attributes(self) -> bool {
        matches!(
            self,
            Kind::Resource
                | Kind::Scope
                | Kind::Span
                | Kind::Event
                | Kind::Link
                | Kind::LogRecord
                | Kind::Metric
                | Kind::NumberPoint
                | Kind::HistogramPoint
                | Kind::ExpHistogramPoint
                | Kind::SummaryPoint
                | Kind::Exemplar
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Str,
    Bytes,
    Varint,
    Fixed64,
    Fixed32,
    /// A packed `repeated fixed64`/`double`: one non-empty length-delimited field of 8-byte
    /// elements, as prost writes it.
    Packed64,
    /// A packed `repeated uint64`: one non-empty length-delimited field of varints.
    PackedVarint,
    Msg(Kind),
}

/// The oneof group a field belongs to, if any: a message may carry one member of each group
/// (prost keeps the last of several, so more than one is not canonical).
fn oneof_group(kind: Kind, num: u32) -> Option<u32> {
    match (kind, num) {
        (Kind::AnyValue, _) => Some(0),
        (Kind::Metric, METRIC_GAUGE | METRIC_SUM | METRIC_HISTOGRAM)
        | (Kind::Metric, METRIC_EXP_HISTOGRAM | METRIC_SUMMARY) => Some(1),
        (Kind::NumberPoint, NDP_AS_DOUBLE | NDP_AS_INT) => Some(2),
        (Kind::Exemplar, EX_AS_DOUBLE | EX_AS_INT) => Some(3),
        _ => None,
    }
}

/// A field's type and whether it repeats; `None` for a field the message does not have.
/// `items`: the kind of the scope message's items (spans, log records or metrics).
fn schema(kind: Kind, num: u32, items: Kind) -> Option<(Ty, bool)> {
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
        (ScopeSpans, SS_SPANS) => many(Msg(items)),
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
        // Logs.
        (LogRecord, LOG_TIME | LOG_OBSERVED_TIME) => one(Fixed64),
        (LogRecord, LOG_SEVERITY_NUMBER | LOG_DROPPED_ATTRIBUTES) => one(Varint),
        (LogRecord, LOG_SEVERITY_TEXT | LOG_EVENT_NAME) => one(Str),
        (LogRecord, LOG_BODY) => one(Msg(AnyValue)),
        (LogRecord, LOG_ATTRIBUTES) => many(Msg(KeyValue)),
        (LogRecord, LOG_FLAGS) => one(Fixed32),
        (LogRecord, LOG_TRACE_ID | LOG_SPAN_ID) => one(Bytes),
        // Metrics.
        (Metric, METRIC_NAME | METRIC_DESCRIPTION | METRIC_UNIT) => one(Str),
        (Metric, METRIC_GAUGE) => one(Msg(Gauge)),
        (Metric, METRIC_SUM) => one(Msg(Sum)),
        (Metric, METRIC_HISTOGRAM) => one(Msg(Histogram)),
        (Metric, METRIC_EXP_HISTOGRAM) => one(Msg(ExpHistogram)),
        (Metric, METRIC_SUMMARY) => one(Msg(Summary)),
        (Metric, METRIC_METADATA) => many(Msg(KeyValue)),
        (Gauge | Sum, DATA_POINTS) => many(Msg(NumberPoint)),
        (Histogram, DATA_POINTS) => many(Msg(HistogramPoint)),
        (ExpHistogram, DATA_POINTS) => many(Msg(ExpHistogramPoint)),
        (Summary, DATA_POINTS) => many(Msg(SummaryPoint)),
        (Sum | Histogram | ExpHistogram, DATA_TEMPORALITY) => one(Varint),
        (Sum, SUM_IS_MONOTONIC) => one(Varint),
        (
            NumberPoint | HistogramPoint | ExpHistogramPoint | SummaryPoint,
            DP_START_TIME | DP_TIME,
        ) => one(Fixed64),
        (NumberPoint, NDP_AS_DOUBLE | NDP_AS_INT) => one(Fixed64),
        (NumberPoint, NDP_EXEMPLARS) => many(Msg(Exemplar)),
        (NumberPoint, NDP_ATTRIBUTES) => many(Msg(KeyValue)),
        (NumberPoint, NDP_FLAGS) => one(Varint),
        (HistogramPoint, HDP_COUNT | HDP_SUM | HDP_MIN | HDP_MAX) => one(Fixed64),
        (HistogramPoint, HDP_BUCKET_COUNTS | HDP_EXPLICIT_BOUNDS) => one(Packed64),
        (HistogramPoint, HDP_EXEMPLARS) => many(Msg(Exemplar)),
        (HistogramPoint, HDP_ATTRIBUTES) => many(Msg(KeyValue)),
        (HistogramPoint, HDP_FLAGS) => one(Varint),
        (ExpHistogramPoint, EDP_ATTRIBUTES) => many(Msg(KeyValue)),
        (ExpHistogramPoint, EDP_COUNT | EDP_SUM | EDP_ZERO_COUNT) => one(Fixed64),
        (ExpHistogramPoint, EDP_MIN | EDP_MAX | EDP_ZERO_THRESHOLD) => one(Fixed64),
        (ExpHistogramPoint, EDP_SCALE | EDP_FLAGS) => one(Varint),
        (ExpHistogramPoint, EDP_POSITIVE | EDP_NEGATIVE) => one(Msg(Buckets)),
        (ExpHistogramPoint, EDP_EXEMPLARS) => many(Msg(Exemplar)),
        (Buckets, BUCKETS_OFFSET) => one(Varint),
        (Buckets, BUCKETS_COUNTS) => one(PackedVarint),
        (SummaryPoint, SDP_COUNT | SDP_SUM) => one(Fixed64),
        (SummaryPoint, SDP_QUANTILES) => many(Msg(Quantile)),
        (SummaryPoint, SDP_ATTRIBUTES) => many(Msg(KeyValue)),
        (SummaryPoint, SDP_FLAGS) => one(Varint),
        (Quantile, VAQ_QUANTILE | VAQ_VALUE) => one(Fixed64),
        (Exemplar, EX_TIME | EX_AS_DOUBLE | EX_AS_INT) => one(Fixed64),
        (Exemplar, EX_SPAN_ID | EX_TRACE_ID) => one(Bytes),
        (Exemplar, EX_ATTRIBUTES) => many(Msg(KeyValue)),
        _ => None,
    }
}

/// Whether `b` is a valid packed field of `ty`'s elements.
fn packed_ok(ty: Ty, b: &[u8]) -> bool {
    match ty {
        Ty::Packed64 => !b.is_empty() && b.len().is_multiple_of(8),
        Ty::PackedVarint => {
            let mut pos = 0;
            while pos < b.len() {
                if super::wire::read_varint(b, &mut pos).is_err() {
                    return false;
                }
            }
            !b.is_empty()
        }
        _ => true,
    }
}

fn wire_of(t: Ty) -> u8 {
    match t {
        Ty::Str | Ty::Bytes | Ty::Msg(_) | Ty::Packed64 | Ty::PackedVarint => LEN,
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
    /// The kind of the scope message's items.
    items: Kind,
    /// What the item limit's error calls them.
    what: &'static str,
    spans: usize,
    oversize: u64,
    /// Key-values and array elements left in the current resource, scope or span.
    left: usize,
    /// The first id of the wrong length. Reported only once the whole request proves
    /// canonical: a repeated id field is not canonical, and prost keeps its last occurrence.
    bad_id: Option<CheckError>,
}

/// The expected length and the name of an id field (of a span, link, log record or exemplar);
/// `None` for a bytes field that is not an id.
fn id_field(kind: Kind, num: u32) -> Option<(usize, &'static str)> {
    Some(match (kind, num) {
        (Kind::Span, SPAN_TRACE_ID) => (16, "span trace_id"),
        (Kind::Span, SPAN_SPAN_ID) => (8, "span span_id"),
        (Kind::Span, _) => (8, "span parent_span_id"),
        (Kind::Link, LINK_TRACE_ID) => (16, "link trace_id"),
        (Kind::Link, _) => (8, "link span_id"),
        (Kind::LogRecord, LOG_TRACE_ID) => (16, "log record trace_id"),
        (Kind::LogRecord, _) => (8, "log record span_id"),
        (Kind::Exemplar, EX_TRACE_ID) => (16, "exemplar trace_id"),
        (Kind::Exemplar, _) => (8, "exemplar span_id"),
        _ => return None,
    })
}

/// Checks `buf` (a decompressed `ExportTraceServiceRequest`); oversized attribute values are
/// replaced through `edits` (apply them before forwarding). On `NotCanonical`, `edits` may hold
/// partial work: clear it.
pub fn check(buf: &[u8], limits: &Limits, edits: &mut Edits) -> Result<Checked, CheckError> {
    check_signal(Signal::Traces, buf, limits, edits)
}

/// [`check`] for any signal's export request.
pub fn check_signal(
    signal: Signal,
    buf: &[u8],
    limits: &Limits,
    edits: &mut Edits,
) -> Result<Checked, CheckError> {
    let mut w = Walker {
        limits,
        items: Kind::items_of(signal),
        what: signal.items(),
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
    canonical_signal(Signal::Traces, buf)
}

/// [`canonical`] for any signal's export request.
pub fn canonical_signal(signal: Signal, buf: &[u8]) -> Result<Vec<u8>, String> {
    fn again<M: Message + Default>(buf: &[u8]) -> Result<Vec<u8>, String> {
        M::decode(buf)
            .map(|r| r.encode_to_vec())
            .map_err(|e| e.to_string())
    }
    match signal {
        Signal::Traces => again::<ExportTraceServiceRequest>(buf),
        Signal::Logs => again::<ExportLogsServiceRequest>(buf),
        Signal::Metrics => again::<ExportMetricsServiceRequest>(buf),
    }
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
        if kind.resets_attribute_count() {
            self.left = self.limits.max_attributes_per_span;
        }
        if kind.is_item() {
            self.spans += 1;
            if self.spans > self.limits.max_spans_per_request {
                return Err(CheckError::TooManySpans {
                    limit: self.limits.max_spans_per_request,
                    what: self.what,
                });
            }
        }
        if kind == Kind::AnyValue && depth > self.limits.max_attribute_depth {
            return Err(CheckError::TooDeep {
                limit: self.limits.max_attribute_depth,
            });
        }
        let mut seen: u32 = 0;
        let mut oneofs: u32 = 0;
        for f in m.fields() {
            let f = f.map_err(|_| CheckError::NotCanonical)?;
            let (ty, repeated) = schema(kind, f.num, self.items).ok_or(CheckError::NotCanonical)?;
            if f.wire_type() != wire_of(ty) {
                return Err(CheckError::NotCanonical);
            }
            if !repeated {
                // Field numbers of every schema are under 32.
                let bit = 1u32 << f.num;
                if seen & bit != 0 {
                    return Err(CheckError::NotCanonical);
                }
                seen |= bit;
            }
            if let Some(g) = oneof_group(kind, f.num) {
                if oneofs & (1 << g) != 0 {
                    return Err(CheckError::NotCanonical);
                }
                oneofs |= 1 << g;
            }
            match (ty, f.val) {
                (Ty::Packed64 | Ty::PackedVarint, Val::Len(b)) if !packed_ok(ty, b.bytes()) => {
                    return Err(CheckError::NotCanonical);
                }
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
                (Ty::Bytes, Val::Len(b)) => {
                    if let Some((want, field)) = id_field(kind, f.num) {
                        let len = b.bytes().len();
                        if len != 0 && len != want && self.bad_id.is_none() {
                            self.bad_id = Some(CheckError::BadId { field, len });
                        }
                    }
                }
                (Ty::Msg(child), Val::Len(c)) => {
                    let d = match (kind, child) {
                        // An item's, event's, link's, exemplar's, metric's, resource's or
                        // scope's attributes; a log record's body.
                        (k, Kind::KeyValue | Kind::AnyValue) if k.has_attributes() => {
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
#[path = "check_tests.rs"]
mod tests;
