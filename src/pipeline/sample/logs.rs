//! Sampling of log records, consistent with the span sampler.
//!
//! - A record at or above `keep_severity` (by its `severity_number`; when that is unset, by a
//!   `severity_text` of the usual names, `WARN`, `WARNING`, `ERROR`, `CRITICAL`, `FATAL`, any
//!   case) is always kept.
//! - A record with a valid trace id follows its trace: it is kept iff the trace's randomness
//!   (the low 56 bits of the trace id, as for spans) passes the threshold of the policy that
//!   applies to its service: the first rule whose `service` glob matches and that has no
//!   `span_name` glob (records have no span name), else `ratio`. So a trace the span sampler
//!   keeps keeps its events, and a trace it drops loses them, on every replica. Two cases
//!   differ from spans, by necessity: rules with a `span_name` glob do not apply to records,
//!   and `keep_errors` (a span's status) does not either (`keep_severity` is its counterpart).
//! - A record without a trace id is kept with probability `untraced_ratio`, drawn from a hash
//!   of its encoding: a retried request is sampled the same way.
//!
//! Records never carry a `tracestate`, so nothing is written to a kept record.

use super::{policy_for, Policy, SampleError, SampleStats, Sampler};
use crate::otlp::tracestate::{trace_id_randomness, RANDOMNESS_MASK};
use crate::otlp::{num, view, Edits, Msg, WireError};
use serde::Deserialize;
use std::hash::{Hash, Hasher};

/// `sampling.logs:` section of the config.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSamplingConfig {
    /// Records with a trace id follow their trace's decision. Default `true`; `false` treats
    /// them as records without one.
    pub follow_traces: bool,
    /// Probability of keeping a record without a trace id. Default `1.0` (keep all); `0.0`
    /// drops them all; otherwise in `[2^-56, 1]`.
    pub untraced_ratio: f64,
    /// Records whose severity number is at least this are always kept. Default `13` (WARN:
    /// WARN, ERROR and FATAL are kept); `0` turns the rule off (every record is drawn).
    pub keep_severity: u8,
}

impl Default for LogSamplingConfig {
    fn default() -> Self {
        LogSamplingConfig {
            follow_traces: true,
            untraced_ratio: 1.0,
            keep_severity: 13,
        }
    }
}

/// The compiled `sampling.logs` section.
#[derive(Debug)]
pub(super) struct LogPolicy {
    follow_traces: bool,
    untraced: Policy,
    keep_severity: u8,
}

impl LogPolicy {
    pub(super) fn new(cfg: &LogSamplingConfig, precision: u32) -> Result<LogPolicy, SampleError> {
        let untraced = policy_for("logs.untraced_ratio".into(), cfg.untraced_ratio, precision)
            .map_err(|_| SampleError::UntracedRatio(cfg.untraced_ratio))?;
        Ok(LogPolicy {
            follow_traces: cfg.follow_traces,
            untraced,
            keep_severity: cfg.keep_severity,
        })
    }

    /// Records without a trace id are all kept.
    pub(super) fn is_pass_through(&self) -> bool {
        matches!(self.untraced, Policy::Threshold { th: 0, .. })
    }
}

impl Sampler {
    /// Samples an encoded logs request (a checked `ExportLogsServiceRequest`): dropped records
    /// are deleted through `edits`, and scopes and resources left without records with them.
    pub fn apply_logs_encoded(
        &self,
        req: Msg<'_>,
        edits: &mut Edits,
    ) -> Result<SampleStats, WireError> {
        let mut stats = SampleStats::default();
        if self.is_pass_through() {
            stats.kept = view::count_spans(req)? as u64;
            return Ok(stats);
        }
        super::retain_items(
            req,
            edits,
            |service| self.service_policy(service),
            |traced, record, _| {
                let keep = self.keep_record(record, traced)?;
                match keep {
                    true => stats.kept += 1,
                    false => stats.sampled_out += 1,
                }
                Ok(keep)
            },
        )?;
        Ok(stats)
    }

    /// The span policy a service's traced records follow: the first rule for the service with
    /// no span-name glob, else the default.
    fn service_policy(&self, service: &str) -> &Policy {
        self.rules
            .iter()
            .find(|r| {
                r.span_name.is_none() && r.service.as_ref().is_none_or(|g| g.matches(service))
            })
            .map_or(&self.default, |r| &r.policy)
    }

    fn keep_record(&self, record: Msg<'_>, traced: &Policy) -> Result<bool, WireError> {
        let lp = &self.logs;
        let mut severity = 0u64;
        let mut text = "";
        let mut trace_id: &[u8] = &[];
        for f in record.fields() {
            let f = f?;
            match f.num {
                num::LOG_SEVERITY_NUMBER => severity = f.varint().unwrap_or(0),
                num::LOG_SEVERITY_TEXT => text = f.str().unwrap_or(""),
                num::LOG_TRACE_ID => trace_id = f.bytes(),
                _ => {}
            }
        }
        if severity == 0 {
            severity = severity_of_text(text);
        }
        if lp.keep_severity > 0 && severity >= u64::from(lp.keep_severity) {
            return Ok(true);
        }
        let by_trace = if lp.follow_traces {
            trace_id_randomness(trace_id)
        } else {
            None
        };
        let (policy, randomness) = match by_trace {
            Some(r) => (traced, r),
            None => (&lp.untraced, record_randomness(record.bytes())),
        };
        Ok(match policy {
            Policy::Never => false,
            Policy::Threshold { th, .. } => randomness >= *th,
        })
    }
}

/// The severity number a bridge would have set for a level name (the lowest of its range), or 0:
/// some loggers send only the text.
fn severity_of_text(text: &str) -> u64 {
    const NAMES: [(&str, u64); 6] = [
        ("warn", 13),
        ("warning", 13),
        ("error", 17),
        ("critical", 21),
        ("fatal", 21),
        ("panic", 21),
    ];
    let t = text.trim();
    NAMES
        .iter()
        .find(|(n, _)| t.eq_ignore_ascii_case(n))
        .map_or(0, |(_, s)| *s)
}

/// 56 bits drawn from a record's bytes (SipHash with fixed keys: the same record gets the same
/// draw in every process).
fn record_randomness(bytes: &[u8]) -> u64 {
    #[allow(deprecated)]
    let mut h = std::hash::SipHasher::new();
    bytes.hash(&mut h);
    h.finish() & RANDOMNESS_MASK
}

#[cfg(test)]
mod tests {
    use super::super::SamplingConfig;
    use super::*;
    use crate::otlp::edit_decoded;
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue};
    use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

    fn trace_id(i: u32) -> Vec<u8> {
        // Spread the randomness over the whole 56-bit range.
        let r = (u64::from(i)).wrapping_mul(0x9E37_79B9_7F4A_7C15) & RANDOMNESS_MASK;
        let mut t = vec![0xab; 16];
        t[9..].copy_from_slice(&r.to_be_bytes()[1..]);
        t
    }

    fn sampler(cfg: SamplingConfig) -> Sampler {
        Sampler::new(&cfg).unwrap()
    }

    fn records(n: u32, with_trace: bool, severity: i32) -> ExportLogsServiceRequest {
        ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                scope_logs: vec![ScopeLogs {
                    log_records: (0..n)
                        .map(|i| LogRecord {
                            trace_id: if with_trace { trace_id(i) } else { Vec::new() },
                            severity_number: severity,
                            body: Some(AnyValue {
                                value: Some(Value::StringValue(format!("line {i}"))),
                            }),
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    fn kept_logs(s: &Sampler, mut req: ExportLogsServiceRequest) -> Vec<LogRecord> {
        edit_decoded(&mut req, |m, e| s.apply_logs_encoded(m, e)).unwrap();
        req.resource_logs
            .into_iter()
            .flat_map(|r| r.scope_logs)
            .flat_map(|s| s.log_records)
            .collect()
    }

    #[test]
    fn traced_records_follow_their_traces_span_decision() {
        let s = sampler(SamplingConfig {
            ratio: 0.25,
            ..Default::default()
        });
        let logs = kept_logs(&s, records(2000, true, 9));
        let mut spans = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: (0..2000)
                        .map(|i| Span {
                            trace_id: trace_id(i),
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        s.apply(&mut spans).unwrap();
        let kept_traces: Vec<Vec<u8>> = spans.resource_spans[0].scope_spans[0]
            .spans
            .iter()
            .map(|s| s.trace_id.clone())
            .collect();
        let kept_log_traces: Vec<Vec<u8>> = logs.iter().map(|r| r.trace_id.clone()).collect();
        assert_eq!(kept_log_traces, kept_traces);
        assert!((400..600).contains(&logs.len()), "{}", logs.len());
    }

    #[test]
    fn warnings_and_errors_are_kept_and_the_floor_is_configurable() {
        let s = sampler(SamplingConfig {
            ratio: 0.0,
            ..Default::default()
        });
        assert_eq!(kept_logs(&s, records(50, true, 13)).len(), 50);
        assert_eq!(kept_logs(&s, records(50, true, 12)).len(), 0);
        let s = sampler(SamplingConfig {
            ratio: 0.0,
            logs: LogSamplingConfig {
                keep_severity: 0,
                ..Default::default()
            },
            ..Default::default()
        });
        assert_eq!(kept_logs(&s, records(50, true, 21)).len(), 0);
    }

    #[test]
    fn a_level_name_counts_when_the_severity_number_is_unset() {
        let s = sampler(SamplingConfig {
            ratio: 0.0,
            ..Default::default()
        });
        for (text, kept) in [
            ("ERROR", true),
            ("warning", true),
            ("Fatal", true),
            ("INFO", false),
            ("", false),
        ] {
            let mut req = records(10, true, 0);
            for r in &mut req.resource_logs[0].scope_logs[0].log_records {
                r.severity_text = text.into();
            }
            assert_eq!(
                kept_logs(&s, req).len(),
                if kept { 10 } else { 0 },
                "{text}"
            );
        }
    }

    #[test]
    fn untraced_records_follow_their_own_ratio_the_same_way_each_time() {
        let s = sampler(SamplingConfig {
            logs: LogSamplingConfig {
                untraced_ratio: 0.5,
                ..Default::default()
            },
            ..Default::default()
        });
        assert!(!s.is_pass_through());
        let a = kept_logs(&s, records(2000, false, 9));
        assert!((850..1150).contains(&a.len()), "{}", a.len());
        assert_eq!(a, kept_logs(&s, records(2000, false, 9)));
        // Traced records follow the span ratio (1.0): all kept.
        assert_eq!(kept_logs(&s, records(300, true, 9)).len(), 300);
    }

    #[test]
    fn rules_with_a_span_name_do_not_apply_to_records() {
        let s = sampler(SamplingConfig {
            rules: vec![
                super::super::SamplingRule {
                    service: None,
                    span_name: Some("chat*".into()),
                    ratio: 0.0,
                },
                super::super::SamplingRule {
                    service: Some("unknown_service".into()),
                    span_name: None,
                    ratio: 0.0,
                },
            ],
            ..Default::default()
        });
        assert_eq!(kept_logs(&s, records(20, true, 9)).len(), 0);
    }

    #[test]
    fn a_bad_untraced_ratio_is_refused_naming_the_key() {
        let e = Sampler::new(&SamplingConfig {
            logs: LogSamplingConfig {
                untraced_ratio: 2.0,
                ..Default::default()
            },
            ..Default::default()
        })
        .unwrap_err();
        assert!(e.to_string().contains("sampling.logs.untraced_ratio"));
    }
}
