//! Record kinds: which OTLP signal a record's payload holds.
//!
//! The log was traces-only, and its records on disk are a bare encoded
//! `ExportTraceServiceRequest`. Those stay as they are, and so do new trace records, so old logs
//! read, verify and prove unchanged and a trace record is byte-for-byte what it always was:
//!
//! ```text
//! trace payload:          <ExportTraceServiceRequest>           (empty, or first byte != 0x00)
//! log or metric payload:  0x00 | kind u8 | <Export{Logs,Metrics}ServiceRequest>
//! ```
//!
//! A protobuf message never starts with byte 0x00 (it would be the tag of field number 0, which
//! is invalid), so a kind header cannot be mistaken for a trace request, nor the other way round.
//! Kinds: 1 traces (only written for a trace payload that itself starts with 0x00, which a
//! checked request never does), 2 logs, 3 metrics. A reader meeting another kind (written by a
//! later version) reports it as a payload it cannot decode, which is not an integrity problem:
//! the Merkle leaf covers the whole record, header included, whatever its kind.

use crate::vocab::Signal;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::{metric, Metric};
use prost::Message;

/// First byte of a payload that carries a kind header.
pub const KIND_MARK: u8 = 0x00;
/// Bytes of the kind header.
pub const HEADER_LEN: usize = 2;

/// The kind byte of `signal`.
pub fn kind_code(signal: Signal) -> u8 {
    match signal {
        Signal::Traces => 1,
        Signal::Logs => 2,
        Signal::Metrics => 3,
    }
}

fn signal_of_code(code: u8) -> Option<Signal> {
    Signal::ALL.into_iter().find(|s| kind_code(*s) == code)
}

/// The header to store before `encoded` (a `signal` export request): none for a trace request,
/// which is stored bare as it always was, unless it starts with [`KIND_MARK`] itself.
pub fn header(signal: Signal, encoded: &[u8]) -> Option<[u8; HEADER_LEN]> {
    match signal {
        Signal::Traces if encoded.first() != Some(&KIND_MARK) => None,
        s => Some([KIND_MARK, kind_code(s)]),
    }
}

/// Why a payload could not be read as an export request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("record kind header is cut short")]
    Truncated,
    #[error("unknown record kind {0} (written by a later spanward?)")]
    UnknownKind(u8),
    #[error("{signal} record does not decode: {why}")]
    Decode { signal: Signal, why: String },
}

/// The signal of a stored payload and the encoded request after its header.
pub fn split(payload: &[u8]) -> Result<(Signal, &[u8]), PayloadError> {
    match payload {
        [KIND_MARK, code, rest @ ..] => signal_of_code(*code)
            .map(|s| (s, rest))
            .ok_or(PayloadError::UnknownKind(*code)),
        [KIND_MARK] => Err(PayloadError::Truncated),
        _ => Ok((Signal::Traces, payload)),
    }
}

/// A stored payload, decoded.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    Traces(ExportTraceServiceRequest),
    Logs(ExportLogsServiceRequest),
    Metrics(ExportMetricsServiceRequest),
}

impl Request {
    /// Decodes a stored payload (header and request).
    pub fn decode(payload: &[u8]) -> Result<Request, PayloadError> {
        let (signal, body) = split(payload)?;
        let why = |e: prost::DecodeError| PayloadError::Decode {
            signal,
            why: e.to_string(),
        };
        Ok(match signal {
            Signal::Traces => {
                Request::Traces(ExportTraceServiceRequest::decode(body).map_err(why)?)
            }
            Signal::Logs => Request::Logs(ExportLogsServiceRequest::decode(body).map_err(why)?),
            Signal::Metrics => {
                Request::Metrics(ExportMetricsServiceRequest::decode(body).map_err(why)?)
            }
        })
    }

    pub fn signal(&self) -> Signal {
        match self {
            Request::Traces(_) => Signal::Traces,
            Request::Logs(_) => Signal::Logs,
            Request::Metrics(_) => Signal::Metrics,
        }
    }

    /// Items of the request, as [`Signal::items`] names them: spans, log records or metric
    /// data points.
    pub fn items(&self) -> u64 {
        match self {
            Request::Traces(r) => r
                .resource_spans
                .iter()
                .flat_map(|r| &r.scope_spans)
                .map(|s| s.spans.len() as u64)
                .sum(),
            Request::Logs(r) => r
                .resource_logs
                .iter()
                .flat_map(|r| &r.scope_logs)
                .map(|s| s.log_records.len() as u64)
                .sum(),
            Request::Metrics(r) => r
                .resource_metrics
                .iter()
                .flat_map(|r| &r.scope_metrics)
                .flat_map(|s| &s.metrics)
                .map(|m| data_points(m) as u64)
                .sum(),
        }
    }

    /// The request as OTLP/JSON (the body an OTLP/HTTP JSON client would POST to
    /// [`Signal::http_path`]), on one line.
    pub fn write_json(&self, out: &mut dyn std::io::Write) -> serde_json::Result<()> {
        match self {
            Request::Traces(r) => serde_json::to_writer(out, r),
            Request::Logs(r) => serde_json::to_writer(out, r),
            Request::Metrics(r) => serde_json::to_writer(out, r),
        }
    }
}

/// Data points of one metric, whatever its type.
pub fn data_points(m: &Metric) -> usize {
    match &m.data {
        None => 0,
        Some(metric::Data::Gauge(g)) => g.data_points.len(),
        Some(metric::Data::Sum(s)) => s.data_points.len(),
        Some(metric::Data::Histogram(h)) => h.data_points.len(),
        Some(metric::Data::ExponentialHistogram(h)) => h.data_points.len(),
        Some(metric::Data::Summary(s)) => s.data_points.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    use opentelemetry_proto::tonic::metrics::v1::{
        Gauge, NumberDataPoint, ResourceMetrics, ScopeMetrics,
    };
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

    fn stored(signal: Signal, body: &[u8]) -> Vec<u8> {
        let mut v = header(signal, body).map(|h| h.to_vec()).unwrap_or_default();
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn trace_payloads_are_stored_bare_and_read_back_as_traces() {
        let req = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![Span::default(), Span::default()],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let body = req.encode_to_vec();
        assert_eq!(body[0], 0x0A);
        assert_eq!(header(Signal::Traces, &body), None);
        assert_eq!(stored(Signal::Traces, &body), body);
        let back = Request::decode(&body).unwrap();
        assert_eq!(back, Request::Traces(req));
        assert_eq!(back.items(), 2);
        // The empty request too (zero bytes).
        assert_eq!(split(&[]).unwrap(), (Signal::Traces, &[][..]));
    }

    #[test]
    fn logs_and_metrics_carry_a_header_and_round_trip() {
        let logs = ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                scope_logs: vec![ScopeLogs {
                    log_records: vec![LogRecord::default(); 3],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let metrics = ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                scope_metrics: vec![ScopeMetrics {
                    metrics: vec![Metric {
                        name: "m".into(),
                        data: Some(metric::Data::Gauge(Gauge {
                            data_points: vec![NumberDataPoint::default(); 4],
                        })),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let l = stored(Signal::Logs, &logs.encode_to_vec());
        let m = stored(Signal::Metrics, &metrics.encode_to_vec());
        assert_eq!(&l[..2], &[0, 2]);
        assert_eq!(&m[..2], &[0, 3]);
        // A logs request has the same outer wire shape as a trace request: without the header
        // it would decode as traces, which is why the header is there.
        assert!(ExportTraceServiceRequest::decode(&l[2..]).is_ok());
        let (lr, mr) = (Request::decode(&l).unwrap(), Request::decode(&m).unwrap());
        assert_eq!((lr.signal(), lr.items()), (Signal::Logs, 3));
        assert_eq!((mr.signal(), mr.items()), (Signal::Metrics, 4));
        assert_eq!(lr, Request::Logs(logs));
        let mut json = Vec::new();
        mr.write_json(&mut json).unwrap();
        let json = String::from_utf8(json).unwrap();
        assert!(json.starts_with("{\"resourceMetrics\":"), "{json}");
    }

    #[test]
    fn a_trace_payload_starting_with_zero_gets_an_explicit_header() {
        let odd = [0u8, 5, 6];
        let s = stored(Signal::Traces, &odd);
        assert_eq!(s, [0, 1, 0, 5, 6]);
        assert_eq!(split(&s).unwrap(), (Signal::Traces, &odd[..]));
    }

    #[test]
    fn unknown_and_cut_headers_are_errors_not_traces() {
        assert_eq!(split(&[0]), Err(PayloadError::Truncated));
        assert_eq!(split(&[0, 9, 1]), Err(PayloadError::UnknownKind(9)));
        assert!(matches!(
            Request::decode(&[0, 2, 0xff]),
            Err(PayloadError::Decode {
                signal: Signal::Logs,
                ..
            })
        ));
    }
}
