//! OTLP trace requests as bytes: the receivers check an encoded `ExportTraceServiceRequest`
//! once ([`check`]), and from then on every stage reads it where it sits ([`wire::Msg`]) and
//! records what it changes ([`edit::Edits`]); the worker writes the request once, copying what
//! nothing touched. Decoding into owned structs (prost) and encoding again cost more than all
//! the stages of a pass-through together; this path does neither.
//!
//! The check admits only requests in the shape prost would produce from them: known fields with
//! their declared wire types, singular fields at most once, one `AnyValue` member, UTF-8 strings.
//! Anything else (unknown fields, repeated singular fields, merges, groups) is decoded with
//! prost and encoded again first ([`canonical`]), so stages never see, and never forward, bytes
//! that prost would have dropped or a downstream parser would read differently.

pub mod check;
pub mod edit;
mod limits;
pub mod tracestate;
pub mod view;
pub mod wire;

#[cfg(test)]
pub(crate) mod testgen;

pub use check::{canonical, check, CheckError, Checked};
pub use edit::{EditError, Edits};
pub use limits::Limits;
pub use wire::{Field, Msg, Val, WireError};

use opentelemetry_proto::tonic::common::v1::any_value;
use opentelemetry_proto::tonic::resource::v1::Resource;

/// Why a decoded message could not be changed through its encoding (see [`edit_decoded`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RewriteError {
    /// The stage's walk over the encoding stopped (its own error, as text).
    #[error("walk over the encoding stopped: {0}")]
    Walk(String),
    #[error(transparent)]
    Apply(#[from] EditError),
    #[error("the edited encoding does not decode")]
    Decode,
}

/// Runs a stage's `walk` over `msg`'s encoding and applies the edits it records to `msg`: how
/// the decoded-struct entry points of the stages (the offline `scrub`, tests, benches) share the
/// encoded implementation. On error `msg` is left as it was and must be treated as not
/// processed (for a scrub: not forwarded, not printed).
pub fn edit_decoded<M, T, E>(
    msg: &mut M,
    walk: impl FnOnce(Msg<'_>, &mut Edits) -> Result<T, E>,
) -> Result<T, RewriteError>
where
    M: prost::Message + Default,
    E: std::fmt::Display,
{
    let buf = msg.encode_to_vec();
    let root = Msg::new(&buf);
    let mut edits = Edits::new();
    let out = walk(root, &mut edits).map_err(|e| RewriteError::Walk(e.to_string()))?;
    if !edits.is_empty() {
        let mut edited = Vec::with_capacity(buf.len() + 256);
        edits.apply(root, &mut edited)?;
        *msg = M::decode(edited.as_slice()).map_err(|_| RewriteError::Decode)?;
    }
    Ok(out)
}

/// The resource's `service.name`, or `unknown_service` as the OTel SDKs default to.
pub fn service_name(resource: Option<&Resource>) -> &str {
    resource
        .and_then(|r| r.attributes.iter().find(|kv| kv.key == "service.name"))
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| match &v.value {
            Some(any_value::Value::StringValue(s)) => Some(s.as_str()),
            _ => None,
        })
        .unwrap_or("unknown_service")
}

/// Field numbers of the OTLP messages (opentelemetry-proto v1): traces, then logs and metrics.
pub mod num {
    /// `ExportTraceServiceRequest`.
    pub const REQUEST_RESOURCE_SPANS: u32 = 1;

    /// `ResourceSpans`.
    pub const RS_RESOURCE: u32 = 1;
    pub const RS_SCOPE_SPANS: u32 = 2;
    pub const RS_SCHEMA_URL: u32 = 3;

    /// `Resource`.
    pub const RESOURCE_ATTRIBUTES: u32 = 1;
    pub const RESOURCE_DROPPED: u32 = 2;
    pub const RESOURCE_ENTITY_REFS: u32 = 3;

    /// `EntityRef`.
    pub const ENTITY_SCHEMA_URL: u32 = 1;
    pub const ENTITY_TYPE: u32 = 2;
    pub const ENTITY_ID_KEYS: u32 = 3;
    pub const ENTITY_DESCRIPTION_KEYS: u32 = 4;

    /// `ScopeSpans`.
    pub const SS_SCOPE: u32 = 1;
    pub const SS_SPANS: u32 = 2;
    pub const SS_SCHEMA_URL: u32 = 3;

    /// `InstrumentationScope`.
    pub const SCOPE_NAME: u32 = 1;
    pub const SCOPE_VERSION: u32 = 2;
    pub const SCOPE_ATTRIBUTES: u32 = 3;
    pub const SCOPE_DROPPED: u32 = 4;

    /// `Span`.
    pub const SPAN_TRACE_ID: u32 = 1;
    pub const SPAN_SPAN_ID: u32 = 2;
    pub const SPAN_TRACE_STATE: u32 = 3;
    pub const SPAN_PARENT_SPAN_ID: u32 = 4;
    pub const SPAN_NAME: u32 = 5;
    pub const SPAN_KIND: u32 = 6;
    pub const SPAN_START: u32 = 7;
    pub const SPAN_END: u32 = 8;
    pub const SPAN_ATTRIBUTES: u32 = 9;
    pub const SPAN_DROPPED_ATTRIBUTES: u32 = 10;
    pub const SPAN_EVENTS: u32 = 11;
    pub const SPAN_DROPPED_EVENTS: u32 = 12;
    pub const SPAN_LINKS: u32 = 13;
    pub const SPAN_DROPPED_LINKS: u32 = 14;
    pub const SPAN_STATUS: u32 = 15;
    pub const SPAN_FLAGS: u32 = 16;

    /// `Span.Event`.
    pub const EVENT_TIME: u32 = 1;
    pub const EVENT_NAME: u32 = 2;
    pub const EVENT_ATTRIBUTES: u32 = 3;
    pub const EVENT_DROPPED: u32 = 4;

    /// `Span.Link`.
    pub const LINK_TRACE_ID: u32 = 1;
    pub const LINK_SPAN_ID: u32 = 2;
    pub const LINK_TRACE_STATE: u32 = 3;
    pub const LINK_ATTRIBUTES: u32 = 4;
    pub const LINK_DROPPED: u32 = 5;
    pub const LINK_FLAGS: u32 = 6;

    /// `Status`.
    pub const STATUS_MESSAGE: u32 = 2;
    pub const STATUS_CODE: u32 = 3;

    /// `KeyValue`.
    pub const KV_KEY: u32 = 1;
    pub const KV_VALUE: u32 = 2;
    pub const KV_KEY_STRINDEX: u32 = 3;

    /// `AnyValue` (a oneof).
    pub const AV_STRING: u32 = 1;
    pub const AV_BOOL: u32 = 2;
    pub const AV_INT: u32 = 3;
    pub const AV_DOUBLE: u32 = 4;
    pub const AV_ARRAY: u32 = 5;
    pub const AV_KVLIST: u32 = 6;
    pub const AV_BYTES: u32 = 7;
    pub const AV_STRINDEX: u32 = 8;

    /// `ArrayValue` and `KeyValueList`.
    pub const LIST_VALUES: u32 = 1;

    /// `Status.StatusCode.STATUS_CODE_ERROR`.
    pub const STATUS_CODE_ERROR: u64 = 2;

    /// `ExportLogsServiceRequest` and `ExportMetricsServiceRequest`: the same outer shape as
    /// traces (request → resource → scope → items, with the same field numbers), so
    /// `REQUEST_RESOURCE_SPANS`, `RS_*` and `SS_*` read all three; only the items differ.
    pub const SS_ITEMS: u32 = 2;

    /// `LogRecord`.
    pub const LOG_TIME: u32 = 1;
    pub const LOG_SEVERITY_NUMBER: u32 = 2;
    pub const LOG_SEVERITY_TEXT: u32 = 3;
    pub const LOG_BODY: u32 = 5;
    pub const LOG_ATTRIBUTES: u32 = 6;
    pub const LOG_DROPPED_ATTRIBUTES: u32 = 7;
    pub const LOG_FLAGS: u32 = 8;
    pub const LOG_TRACE_ID: u32 = 9;
    pub const LOG_SPAN_ID: u32 = 10;
    pub const LOG_OBSERVED_TIME: u32 = 11;
    pub const LOG_EVENT_NAME: u32 = 12;

    /// `Metric`.
    pub const METRIC_NAME: u32 = 1;
    pub const METRIC_DESCRIPTION: u32 = 2;
    pub const METRIC_UNIT: u32 = 3;
    pub const METRIC_GAUGE: u32 = 5;
    pub const METRIC_SUM: u32 = 7;
    pub const METRIC_HISTOGRAM: u32 = 9;
    pub const METRIC_EXP_HISTOGRAM: u32 = 10;
    pub const METRIC_SUMMARY: u32 = 11;
    pub const METRIC_METADATA: u32 = 12;

    /// `Gauge`, `Sum`, `Histogram`, `ExponentialHistogram`, `Summary`.
    pub const DATA_POINTS: u32 = 1;
    pub const DATA_TEMPORALITY: u32 = 2;
    pub const SUM_IS_MONOTONIC: u32 = 3;

    /// Fields every data point kind has at the same number.
    pub const DP_START_TIME: u32 = 2;
    pub const DP_TIME: u32 = 3;

    /// `NumberDataPoint`.
    pub const NDP_AS_DOUBLE: u32 = 4;
    pub const NDP_EXEMPLARS: u32 = 5;
    pub const NDP_AS_INT: u32 = 6;
    pub const NDP_ATTRIBUTES: u32 = 7;
    pub const NDP_FLAGS: u32 = 8;

    /// `HistogramDataPoint`.
    pub const HDP_COUNT: u32 = 4;
    pub const HDP_SUM: u32 = 5;
    pub const HDP_BUCKET_COUNTS: u32 = 6;
    pub const HDP_EXPLICIT_BOUNDS: u32 = 7;
    pub const HDP_EXEMPLARS: u32 = 8;
    pub const HDP_ATTRIBUTES: u32 = 9;
    pub const HDP_FLAGS: u32 = 10;
    pub const HDP_MIN: u32 = 11;
    pub const HDP_MAX: u32 = 12;

    /// `ExponentialHistogramDataPoint`.
    pub const EDP_ATTRIBUTES: u32 = 1;
    pub const EDP_COUNT: u32 = 4;
    pub const EDP_SUM: u32 = 5;
    pub const EDP_SCALE: u32 = 6;
    pub const EDP_ZERO_COUNT: u32 = 7;
    pub const EDP_POSITIVE: u32 = 8;
    pub const EDP_NEGATIVE: u32 = 9;
    pub const EDP_FLAGS: u32 = 10;
    pub const EDP_EXEMPLARS: u32 = 11;
    pub const EDP_MIN: u32 = 12;
    pub const EDP_MAX: u32 = 13;
    pub const EDP_ZERO_THRESHOLD: u32 = 14;

    /// `ExponentialHistogramDataPoint.Buckets`.
    pub const BUCKETS_OFFSET: u32 = 1;
    pub const BUCKETS_COUNTS: u32 = 2;

    /// `SummaryDataPoint`.
    pub const SDP_COUNT: u32 = 4;
    pub const SDP_SUM: u32 = 5;
    pub const SDP_QUANTILES: u32 = 6;
    pub const SDP_ATTRIBUTES: u32 = 7;
    pub const SDP_FLAGS: u32 = 8;

    /// `SummaryDataPoint.ValueAtQuantile`.
    pub const VAQ_QUANTILE: u32 = 1;
    pub const VAQ_VALUE: u32 = 2;

    /// `Exemplar`.
    pub const EX_TIME: u32 = 2;
    pub const EX_AS_DOUBLE: u32 = 3;
    pub const EX_SPAN_ID: u32 = 4;
    pub const EX_TRACE_ID: u32 = 5;
    pub const EX_AS_INT: u32 = 6;
    pub const EX_ATTRIBUTES: u32 = 7;
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::trace::v1::Span;

    fn span() -> Span {
        Span {
            name: "mail ann@example.com".into(),
            trace_id: vec![1; 16],
            ..Default::default()
        }
    }

    fn name_field(m: Msg<'_>) -> Field<'_> {
        m.fields()
            .map(|f| f.unwrap())
            .find(|f| f.num == num::SPAN_NAME)
            .unwrap()
    }

    #[test]
    fn edit_decoded_applies_what_the_walk_records() {
        let mut s = span();
        let n = edit_decoded(&mut s, |m, e| {
            e.replace(&m, name_field(m).range(), |out| {
                wire::put_len_field(out, num::SPAN_NAME, b"mail <email>")
            });
            Ok::<_, WireError>(7)
        });
        assert_eq!(n, Ok(7));
        assert_eq!(s.name, "mail <email>");
        assert_eq!(s.trace_id, vec![1; 16]);
    }

    /// A failed walk, or edits that cannot all be placed, leave the message as it was and say
    /// so: the caller must not use it as processed (fail closed).
    #[test]
    fn edit_decoded_fails_closed() {
        let mut s = span();
        let r = edit_decoded(&mut s, |m, e| {
            e.delete(&m, name_field(m).range());
            Err::<(), _>("stopped")
        });
        assert_eq!(r, Err(RewriteError::Walk("stopped".into())));
        assert_eq!(s, span());
        // Two edits of the same field overlap: apply refuses them.
        let r = edit_decoded(&mut s, |m, e| {
            e.delete(&m, name_field(m).range());
            e.replace(&m, name_field(m).range(), |out| {
                wire::put_len_field(out, num::SPAN_NAME, b"x")
            });
            Ok::<_, WireError>(())
        });
        assert!(
            matches!(r, Err(RewriteError::Apply(EditError::Unplaced(_)))),
            "{r:?}"
        );
        assert_eq!(s, span());
    }
}
