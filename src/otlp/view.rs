//! Reading the parts of a checked request that stages decide on: the resource's service name,
//! a key-value's key and value, a span's identifying fields.

use super::num::*;
use super::wire::{Field, Msg, WireError};

/// The fields of `m` with number `num`, in order.
pub fn each<'a>(m: Msg<'a>, num: u32) -> impl Iterator<Item = Result<Field<'a>, WireError>> + 'a {
    m.fields()
        .filter(move |f| !matches!(f, Ok(f) if f.num != num))
}

/// The last field `num` of `m` (prost's reading of a singular field).
pub fn last<'a>(m: Msg<'a>, num: u32) -> Result<Option<Field<'a>>, WireError> {
    let mut found = None;
    for f in m.fields() {
        let f = f?;
        if f.num == num {
            found = Some(f);
        }
    }
    Ok(found)
}

/// A string field's text ("" when absent).
pub fn str_of<'a>(m: Msg<'a>, num: u32) -> Result<&'a str, WireError> {
    Ok(last(m, num)?.and_then(|f| f.str()).unwrap_or(""))
}

/// The one member of an `AnyValue` (`None` for an empty value).
pub fn any_member<'a>(av: Msg<'a>) -> Result<Option<Field<'a>>, WireError> {
    let mut found = None;
    for f in av.fields() {
        found = Some(f?);
    }
    Ok(found)
}

/// A key-value's key field and value message.
pub struct Kv<'a> {
    pub key: &'a str,
    pub key_field: Option<Field<'a>>,
    pub value_field: Option<Field<'a>>,
}

impl<'a> Kv<'a> {
    pub fn read(kv: Msg<'a>) -> Result<Kv<'a>, WireError> {
        let mut out = Kv {
            key: "",
            key_field: None,
            value_field: None,
        };
        for f in kv.fields() {
            let f = f?;
            match f.num {
                KV_KEY => {
                    out.key = f.str().unwrap_or("");
                    out.key_field = Some(f);
                }
                KV_VALUE => out.value_field = Some(f),
                _ => {}
            }
        }
        Ok(out)
    }

    /// The value's member, when the value is present and not empty.
    pub fn member(&self) -> Result<Option<Field<'a>>, WireError> {
        match self.value_field.and_then(|f| f.msg()) {
            Some(av) => any_member(av),
            None => Ok(None),
        }
    }

    /// The value as a string, when it is one.
    pub fn string(&self) -> Result<Option<&'a str>, WireError> {
        Ok(self
            .member()?
            .filter(|f| f.num == AV_STRING)
            .and_then(|f| f.str()))
    }
}

/// The resource's `service.name` as the sampler and fingerprint stage read it: the first
/// attribute with that key, if its value is a string, else `unknown_service`.
pub fn service_name<'a>(resource: Option<Msg<'a>>) -> Result<&'a str, WireError> {
    const UNKNOWN: &str = "unknown_service";
    let Some(r) = resource else {
        return Ok(UNKNOWN);
    };
    for f in each(r, RESOURCE_ATTRIBUTES) {
        let Some(kv) = f?.msg() else { continue };
        let kv = Kv::read(kv)?;
        if kv.key == "service.name" {
            return Ok(kv.string()?.unwrap_or(UNKNOWN));
        }
    }
    Ok(UNKNOWN)
}

/// The first resource's `service.name`, or "" (the rate limiter's client name when there is
/// no token name).
pub fn first_service_name(req: Msg<'_>) -> Result<&str, WireError> {
    let Some(rs) = each(req, REQUEST_RESOURCE_SPANS).next().transpose()? else {
        return Ok("");
    };
    let Some(rs) = rs.msg() else { return Ok("") };
    let Some(r) = last(rs, RS_RESOURCE)?.and_then(|f| f.msg()) else {
        return Ok("");
    };
    for f in each(r, RESOURCE_ATTRIBUTES) {
        let Some(kv) = f?.msg() else { continue };
        let kv = Kv::read(kv)?;
        if kv.key == "service.name" {
            return Ok(kv.string()?.unwrap_or(""));
        }
    }
    Ok("")
}

/// Spans in a checked request.
pub fn count_spans(req: Msg<'_>) -> Result<usize, WireError> {
    let mut n = 0;
    for rs in each(req, REQUEST_RESOURCE_SPANS) {
        let Some(rs) = rs?.msg() else { continue };
        for ss in each(rs, RS_SCOPE_SPANS) {
            let Some(ss) = ss?.msg() else { continue };
            for sp in each(ss, SS_SPANS) {
                sp?;
                n += 1;
            }
        }
    }
    Ok(n)
}

/// Items in a checked request of `signal`: spans, log records or metric data points (what the
/// receivers count and the queue bounds).
pub fn count_items(signal: crate::vocab::Signal, req: Msg<'_>) -> Result<usize, WireError> {
    use crate::vocab::Signal;
    if signal != Signal::Metrics {
        return count_spans(req);
    }
    let mut n = 0;
    for rs in each(req, REQUEST_RESOURCE_SPANS) {
        let Some(rs) = rs?.msg() else { continue };
        for ss in each(rs, RS_SCOPE_SPANS) {
            let Some(ss) = ss?.msg() else { continue };
            for metric in each(ss, SS_ITEMS) {
                let Some(metric) = metric?.msg() else {
                    continue;
                };
                n += metric_points(metric)?;
            }
        }
    }
    Ok(n)
}

/// Data points of one `Metric`.
pub fn metric_points(metric: Msg<'_>) -> Result<usize, WireError> {
    let mut n = 0;
    for f in metric.fields() {
        let f = f?;
        if matches!(
            f.num,
            METRIC_GAUGE | METRIC_SUM | METRIC_HISTOGRAM | METRIC_EXP_HISTOGRAM | METRIC_SUMMARY
        ) {
            if let Some(data) = f.msg() {
                for p in each(data, DATA_POINTS) {
                    p?;
                    n += 1;
                }
            }
        }
    }
    Ok(n)
}

/// What the sampler and the audit need of a span.
#[derive(Debug, Clone, Copy, Default)]
pub struct SpanFacts<'a> {
    pub name: &'a str,
    pub trace_id: &'a [u8],
    pub trace_state: &'a str,
    /// The `trace_state` field, when present.
    pub trace_state_field: Option<Field<'a>>,
    /// As prost reads an enum: the varint's low 32 bits.
    pub status_code: i32,
}

impl<'a> SpanFacts<'a> {
    pub fn read(span: Msg<'a>) -> Result<SpanFacts<'a>, WireError> {
        let mut s = SpanFacts::default();
        for f in span.fields() {
            let f = f?;
            match f.num {
                SPAN_NAME => s.name = f.str().unwrap_or(""),
                SPAN_TRACE_ID => s.trace_id = f.bytes(),
                SPAN_TRACE_STATE => {
                    s.trace_state = f.str().unwrap_or("");
                    s.trace_state_field = Some(f);
                }
                SPAN_STATUS => {
                    if let Some(st) = f.msg() {
                        s.status_code = last(st, STATUS_CODE)?
                            .and_then(|c| c.varint())
                            .map_or(0, |v| v as i32);
                    }
                }
                _ => {}
            }
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue, KeyValue};
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
    use prost::Message;

    fn kv(k: &str, v: Value) -> KeyValue {
        KeyValue {
            key: k.into(),
            value: Some(AnyValue { value: Some(v) }),
            ..Default::default()
        }
    }

    #[test]
    fn service_names_and_span_counts() {
        let req = ExportTraceServiceRequest {
            resource_spans: vec![
                ResourceSpans {
                    resource: Some(Resource {
                        attributes: vec![
                            kv("a", Value::IntValue(1)),
                            kv("service.name", Value::StringValue("checkout".into())),
                            kv("service.name", Value::StringValue("second".into())),
                        ],
                        ..Default::default()
                    }),
                    scope_spans: vec![ScopeSpans {
                        spans: vec![Span::default(), Span::default()],
                        ..Default::default()
                    }],
                    ..Default::default()
                },
                ResourceSpans {
                    resource: Some(Resource {
                        attributes: vec![kv("service.name", Value::IntValue(3))],
                        ..Default::default()
                    }),
                    scope_spans: vec![ScopeSpans {
                        spans: vec![Span::default()],
                        ..Default::default()
                    }],
                    ..Default::default()
                },
            ],
        };
        let buf = req.encode_to_vec();
        let m = Msg::new(&buf);
        assert_eq!(count_spans(m).unwrap(), 3);
        assert_eq!(first_service_name(m).unwrap(), "checkout");
        let names: Vec<&str> = each(m, REQUEST_RESOURCE_SPANS)
            .map(|rs| {
                let rs = rs.unwrap().msg().unwrap();
                service_name(last(rs, RS_RESOURCE).unwrap().and_then(|f| f.msg())).unwrap()
            })
            .collect();
        assert_eq!(names, ["checkout", "unknown_service"]);
        assert_eq!(service_name(None).unwrap(), "unknown_service");
        assert_eq!(first_service_name(Msg::new(&[])).unwrap(), "");
    }
}
