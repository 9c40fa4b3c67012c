//! Early, consistent probability sampling by trace id (OpenTelemetry TraceState probability
//! sampling, OTEP 235).
//!
//! Every span carries 56 bits of randomness `R`: the explicit `rv` sub-key of its W3C
//! `tracestate` `ot` entry when present and valid, else the low 56 bits (last 7 bytes) of its
//! trace id. A sampling probability `p` becomes a 56-bit rejection threshold
//! `T = (1 - p) * 2^56`, rounded to `precision` hex digits; a span is kept iff `R >= T`. Because
//! every replica and every stage derives `R` from the same trace, they keep or drop whole traces
//! together, and a stage with a lower probability keeps a subset of what a higher one keeps.
//!
//! spanward is a *downstream* sampler (the spans already finished). It only ever lowers the
//! probability: a span that arrives with an upstream threshold `th` is tested against
//! `max(th, T)` and, when kept, leaves with that maximum (the "equalizing" rule of the spec,
//! which also covers `th > T`: the span already passed a stricter stage and passes ours too).
//! The outgoing `ot=th:…` sub-key is rewritten only when this stage raised the threshold, so
//! downstream can compute adjusted counts (`2^56 / (2^56 - th)`). Spans without an upstream
//! `th` are treated as sampled at 100% upstream, as the collector's probabilistic sampler does.
//!
//! Edge cases, chosen so nothing is counted twice or lost silently:
//! - An upstream `th` that is malformed, or inconsistent with the span's randomness (`R < th`:
//!   the span could not have passed it), is erased when the span is kept, as the spec requires.
//! - A malformed `rv` is ignored (trace-id randomness is used) and left in place.
//! - A span with neither a valid `rv` nor a valid trace id (16 bytes, not all zero) has no
//!   randomness: it is kept, unchanged, and counted in [`SampleStats::no_randomness`].
//! - `keep_errors`: a span with status ERROR that lost the draw is kept with its tracestate
//!   unchanged (this stage kept it with probability 1, so its adjusted count is what upstream
//!   said), counted in [`SampleStats::forced_errors`].
//! - `ratio: 0.0` drops every matching span (except errors with `keep_errors`); the spec does
//!   not define probability 0, so nothing is written for it.
//!
//! W3C tracestate rules followed when writing: the modified `ot` member moves to the front,
//! the other members keep their order (a duplicate `ot` member is dropped), at most 32 members
//! (the right-most are dropped), and an `ot` value that would exceed 256 characters is not
//! written (the tracestate is left unchanged, which the OTel spec recommends).

use crate::otlp::tracestate::{
    encode_threshold, rewrite_tracestate, trace_id_randomness, OtState, HEX_DIGITS,
    MAX_ADJUSTED_COUNT, RANDOMNESS_MASK,
};
use crate::otlp::view::{self, SpanFacts};
use crate::otlp::wire::put_len_field;
use crate::otlp::{edit_decoded, num, Edits, Msg, RewriteError, WireError};
use crate::pipeline::glob::{Glob, GlobError};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use opentelemetry_proto::tonic::trace::v1::Span;
use serde::Deserialize;

pub mod logs;

/// Smallest non-zero probability that a 56-bit threshold can express.
pub const MIN_PROBABILITY: f64 = 1.0 / MAX_ADJUSTED_COUNT as f64;

/// `sampling:` section of the config.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SamplingConfig {
    /// Probability of keeping a span no rule matched. Default `1.0` (keep everything; with no
    /// rules the stage is a pass-through). `0.0` drops every unmatched span; otherwise it must
    /// lie in `[2^-56, 1]`, and is rounded to `precision` hex digits of threshold.
    pub ratio: f64,
    /// Keep spans whose status is ERROR whatever the draw. Default `true`. Such spans keep the
    /// tracestate they arrived with.
    pub keep_errors: bool,
    /// Ordered rules; the first whose `service` and `span_name` globs both match wins (an
    /// omitted glob matches anything). Default: none. Every rule costs one glob test per
    /// resource and one per span, so keep the list short (tens, not thousands).
    pub rules: Vec<SamplingRule>,
    /// Hex digits of precision kept in a threshold (the OTel SDK default is 4). Default `4`;
    /// `1..=14`. At 4 digits a ratio is honoured within about 0.01% of its value; extra
    /// leading `f` digits are added automatically for small ratios so they stay precise.
    pub precision: u32,
    /// Log records (see [`logs`]).
    pub logs: logs::LogSamplingConfig,
}

impl Default for SamplingConfig {
    fn default() -> Self {
        SamplingConfig {
            ratio: 1.0,
            keep_errors: true,
            rules: Vec::new(),
            precision: 4,
            logs: logs::LogSamplingConfig::default(),
        }
    }
}

/// One sampling rule.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamplingRule {
    /// Glob on the resource's `service.name` (`unknown_service` when absent). Omitted: any.
    #[serde(default)]
    pub service: Option<String>,
    /// Glob on the span name. Omitted: any.
    #[serde(default)]
    pub span_name: Option<String>,
    /// Probability of keeping a matching span; same range as the default `ratio`.
    pub ratio: f64,
}

/// Invalid sampling configuration.
#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    #[error(
        "sampling.{field}: ratio {value} is outside [0, 1] or below 2^-56 (use 0 to drop all)"
    )]
    Ratio { field: String, value: f64 },
    #[error(
        "sampling.logs.untraced_ratio: {0} is outside [0, 1] or below 2^-56 (use 0 to drop all)"
    )]
    UntracedRatio(f64),
    #[error("sampling.precision: {0} is outside 1..=14")]
    Precision(u32),
    #[error("sampling.rules[{index}].{field}: {source}")]
    Glob {
        index: usize,
        field: &'static str,
        #[source]
        source: GlobError,
    },
}

/// Counts from one [`Sampler::apply`] call; the caller turns `sampled_out` into the
/// `reason="sampled"` drop counter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SampleStats {
    /// Spans left in the request (includes `forced_errors` and `no_randomness`).
    pub kept: u64,
    /// Spans removed: an intentional drop.
    pub sampled_out: u64,
    /// ERROR spans kept only because of `keep_errors`.
    pub forced_errors: u64,
    /// Spans kept because they had no usable randomness (invalid trace id, no `rv`).
    pub no_randomness: u64,
}

/// What a rule decides: a threshold, or "never" for ratio 0.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Policy {
    /// `fresh` is the whole tracestate (`ot=th:…`) for a span that arrives without one,
    /// precomputed because that is the common case on the receiver's hot path.
    Threshold {
        th: u64,
        fresh: String,
    },
    Never,
}

impl Policy {
    fn threshold(th: u64) -> Policy {
        Policy::Threshold {
            th,
            fresh: format!("ot=th:{}", encode_threshold(th)),
        }
    }
}

#[derive(Debug)]
struct CompiledRule {
    service: Option<Glob>,
    span_name: Option<Glob>,
    policy: Policy,
}

/// The sampling stage. Immutable once built: share it between receivers (`Send + Sync`).
#[derive(Debug)]
pub struct Sampler {
    default: Policy,
    rules: Vec<CompiledRule>,
    keep_errors: bool,
    logs: logs::LogPolicy,
}

/// Per-span outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Keep; `Some(ts)` is the new `tracestate` to store, `None` leaves it unchanged.
    Keep(Option<String>),
    Drop,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeepReason {
    Draw,
    Error,
    NoRandomness,
}

fn policy_for(field: String, ratio: f64, precision: u32) -> Result<Policy, SampleError> {
    if ratio == 0.0 {
        return Ok(Policy::Never);
    }
    probability_to_threshold(ratio, precision)
        .map(Policy::threshold)
        .ok_or(SampleError::Ratio {
            field,
            value: ratio,
        })
}

impl Sampler {
    /// Validates and compiles the config.
    pub fn new(cfg: &SamplingConfig) -> Result<Sampler, SampleError> {
        if !(1..=HEX_DIGITS).contains(&cfg.precision) {
            return Err(SampleError::Precision(cfg.precision));
        }
        let default = policy_for("ratio".into(), cfg.ratio, cfg.precision)?;
        let mut rules = Vec::with_capacity(cfg.rules.len());
        for (index, r) in cfg.rules.iter().enumerate() {
            let glob = |field: &'static str, p: &Option<String>| {
                p.as_deref()
                    .map(Glob::new)
                    .transpose()
                    .map_err(|source| SampleError::Glob {
                        index,
                        field,
                        source,
                    })
            };
            rules.push(CompiledRule {
                service: glob("service", &r.service)?,
                span_name: glob("span_name", &r.span_name)?,
                policy: policy_for(format!("rules[{index}].ratio"), r.ratio, cfg.precision)?,
            });
        }
        Ok(Sampler {
            default,
            rules,
            keep_errors: cfg.keep_errors,
            logs: logs::LogPolicy::new(&cfg.logs, cfg.precision)?,
        })
    }

    /// True when the stage keeps everything and changes nothing (ratio 1.0, no rules): the
    /// caller may skip it.
    pub fn is_pass_through(&self) -> bool {
        self.spans_pass_through() && self.logs.is_pass_through()
    }

    /// True when spans (and so records that follow their trace) are all kept.
    fn spans_pass_through(&self) -> bool {
        matches!(self.default, Policy::Threshold { th: 0, .. }) && self.rules.is_empty()
    }

    /// Applies decisions to a whole request in place: removes sampled-out spans (and scope or
    /// resource entries left empty), rewrites `tracestate` on kept spans whose threshold this
    /// stage raised. Cheap enough for the receiver: no allocation for spans it keeps unchanged.
    /// Samples a decoded request in place (see [`Sampler::apply_encoded`], which this calls on
    /// the request's encoding: one implementation for both).
    pub fn apply(&self, req: &mut ExportTraceServiceRequest) -> Result<SampleStats, RewriteError> {
        edit_decoded(req, |m, e| self.apply_encoded(m, e))
    }

    /// Samples an encoded request (a checked `ExportTraceServiceRequest`): dropped spans are
    /// deleted through `edits`, and scopes and resources left without spans with them; a kept
    /// span whose threshold this stage raised gets its new `tracestate`.
    pub fn apply_encoded(&self, req: Msg<'_>, edits: &mut Edits) -> Result<SampleStats, WireError> {
        let mut stats = SampleStats::default();
        if self.spans_pass_through() {
            stats.kept = view::count_spans(req)? as u64;
            return Ok(stats);
        }
        retain_items(
            req,
            edits,
            |service| {
                // The rules that may apply to this resource's spans.
                self.rules
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| r.service.as_ref().is_none_or(|g| g.matches(service)))
                    .map(|(i, _)| i)
                    .collect::<Vec<usize>>()
            },
            |live, span, edits| {
                let facts = SpanFacts::read(span)?;
                let policy = live
                    .iter()
                    .map(|&i| &self.rules[i])
                    .find(|r| r.span_name.as_ref().is_none_or(|g| g.matches(facts.name)))
                    .map_or(&self.default, |r| &r.policy);
                Ok(match self.decide_inner(policy, &facts) {
                    (Decision::Keep(ts), why) => {
                        if let Some(ts) = ts {
                            set_trace_state(&span, &facts, &ts, edits);
                        }
                        stats.kept += 1;
                        match why {
                            KeepReason::Error => stats.forced_errors += 1,
                            KeepReason::NoRandomness => stats.no_randomness += 1,
                            KeepReason::Draw => {}
                        }
                        true
                    }
                    (Decision::Drop, _) => {
                        stats.sampled_out += 1;
                        false
                    }
                })
            },
        )?;
        if stats.sampled_out > 0 {
            tracing::debug!(
                sampled_out = stats.sampled_out,
                kept = stats.kept,
                "spans sampled out"
            );
        }
        Ok(stats)
    }

    pub fn decide(&self, service: &str, span: &Span) -> Decision {
        let facts = SpanFacts {
            name: &span.name,
            trace_id: &span.trace_id,
            trace_state: &span.trace_state,
            trace_state_field: None,
            status_code: span.status.as_ref().map_or(0, |s| s.code),
        };
        let policy = self
            .rules
            .iter()
            .find(|r| {
                r.service.as_ref().is_none_or(|g| g.matches(service))
                    && r.span_name.as_ref().is_none_or(|g| g.matches(&span.name))
            })
            .map_or(&self.default, |r| &r.policy);
        self.decide_inner(policy, &facts).0
    }

    fn decide_inner(&self, policy: &Policy, span: &SpanFacts<'_>) -> (Decision, KeepReason) {
        let is_error = self.keep_errors && span.status_code == StatusCode::Error as i32;
        let ot = OtState::parse(span.trace_state);
        let randomness = ot.rv.or_else(|| trace_id_randomness(span.trace_id));
        // An upstream threshold the span could not have passed is inconsistent: erase it.
        let upstream = match (ot.th, randomness) {
            (Some(th), Some(r)) if r < th => None,
            (th, _) => th,
        };
        let erase = ot.th_present && upstream.is_none();
        let unchanged = || {
            if erase {
                Decision::Keep(rewrite_tracestate(span.trace_state, None))
            } else {
                Decision::Keep(None)
            }
        };
        let (ours, fresh) = match policy {
            Policy::Never => {
                return if is_error {
                    (unchanged(), KeepReason::Error)
                } else {
                    (Decision::Drop, KeepReason::Draw)
                };
            }
            Policy::Threshold { th, fresh } => (*th, fresh),
        };
        let up = upstream.unwrap_or(0);
        let effective = ours.max(up);
        let Some(r) = randomness else {
            return (Decision::Keep(None), KeepReason::NoRandomness);
        };
        if r >= effective {
            if effective > up {
                // effective > up means effective == ours.
                let ts = if span.trace_state.is_empty() {
                    Some(fresh.clone())
                } else {
                    rewrite_tracestate(span.trace_state, Some(effective))
                };
                (Decision::Keep(ts), KeepReason::Draw)
            } else {
                (unchanged(), KeepReason::Draw)
            }
        } else if is_error {
            (unchanged(), KeepReason::Error)
        } else {
            (Decision::Drop, KeepReason::Draw)
        }
    }
}

/// Walks every item (span or log record) of an encoded request: `keep` decides each, given what
/// `per_resource` computed from its resource's `service.name`; an item it refuses is deleted
/// through `edits`, and so are the scopes and resources left without items.
fn retain_items<'a, R>(
    req: Msg<'a>,
    edits: &mut Edits,
    mut per_resource: impl FnMut(&'a str) -> R,
    mut keep: impl FnMut(&R, Msg<'a>, &mut Edits) -> Result<bool, WireError>,
) -> Result<(), WireError> {
    for rs_f in view::each(req, num::REQUEST_RESOURCE_SPANS) {
        let rs_f = rs_f?;
        let Some(rs) = rs_f.msg() else { continue };
        let resource = view::last(rs, num::RS_RESOURCE)?.and_then(|f| f.msg());
        let r = per_resource(view::service_name(resource)?);
        let rs_cp = edits.checkpoint();
        let mut scopes_left = 0usize;
        for ss_f in view::each(rs, num::RS_SCOPE_SPANS) {
            let ss_f = ss_f?;
            let Some(ss) = ss_f.msg() else { continue };
            let ss_cp = edits.checkpoint();
            let mut kept = 0usize;
            for it_f in view::each(ss, num::SS_ITEMS) {
                let it_f = it_f?;
                let Some(item) = it_f.msg() else { continue };
                if keep(&r, item, edits)? {
                    kept += 1;
                } else {
                    edits.delete(&ss, it_f.range());
                }
            }
            if kept == 0 {
                // A scope left without items goes (its item deletions with it).
                edits.truncate(ss_cp);
                edits.delete(&rs, ss_f.range());
            } else {
                scopes_left += 1;
            }
        }
        if scopes_left == 0 {
            edits.truncate(rs_cp);
            edits.delete(&req, rs_f.range());
        }
    }
    Ok(())
}

/// Writes a kept span's new `tracestate`: the field replaced, added, or removed when empty.
fn set_trace_state(span: &Msg<'_>, facts: &SpanFacts<'_>, ts: &str, edits: &mut Edits) {
    let write = |out: &mut Vec<u8>| {
        if !ts.is_empty() {
            put_len_field(out, num::SPAN_TRACE_STATE, ts.as_bytes());
        }
    };
    match facts.trace_state_field {
        Some(f) => edits.replace(span, f.range(), write),
        None if !ts.is_empty() => edits.append(span, write),
        None => {}
    }
}

/// Converts a probability in `[2^-56, 1]` to a rejection threshold rounded (half up) to
/// `precision` significant hex digits, counting leading `f` digits as free so small
/// probabilities keep their precision (the spec's `ProbabilityToThresholdWithPrecision`).
/// `None` for probabilities outside that range or `precision` outside `1..=14`.
pub fn probability_to_threshold(p: f64, precision: u32) -> Option<u64> {
    if !(MIN_PROBABILITY..=1.0).contains(&p) || !(1..=HEX_DIGITS).contains(&precision) {
        return None;
    }
    if p == 1.0 {
        return Some(0);
    }
    // Scaling by a power of two is exact; only the final rounding to an integer loses bits.
    let kept = (p * MAX_ADJUSTED_COUNT as f64).round() as u64;
    let exact = MAX_ADJUSTED_COUNT - kept.clamp(1, MAX_ADJUSTED_COUNT);
    // p = m * 2^e with m in [0.5, 1): -e / 4 (floored) leading hex digits of the threshold are f.
    let e = frexp_exponent(p);
    let digits = (precision + (-e).max(0) as u32 / 4).min(HEX_DIGITS);
    let shift = 4 * (HEX_DIGITS - digits);
    if shift == 0 {
        return Some(exact);
    }
    let rounded = ((exact + (1u64 << (shift - 1))) >> shift) << shift;
    // Rounding up past all-f would mean probability 0: keep the largest value at this precision.
    Some(rounded.min((RANDOMNESS_MASK >> shift) << shift))
}

/// Base-2 exponent `e` with `x = m * 2^e`, `m` in `[0.5, 1)`, for finite positive normal `x`.
fn frexp_exponent(x: f64) -> i32 {
    let biased = ((x.to_bits() >> 52) & 0x7ff) as i32;
    biased - 1022
}

/// The sampling probability a threshold stands for.
pub fn threshold_to_probability(th: u64) -> f64 {
    (MAX_ADJUSTED_COUNT - th.min(MAX_ADJUSTED_COUNT)) as f64 / MAX_ADJUSTED_COUNT as f64
}

#[cfg(test)]
#[path = "sample_tests.rs"]
mod tests;
