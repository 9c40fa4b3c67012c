//! `GET /api/v1/status`: the figures `spanward top` and the status page show, as one JSON
//! document made from the same scrape `/metrics` serves (counters are totals since start: a
//! client computes rates from two documents and their `time_unix_ms`), plus readiness and each
//! sink's state. `GET /api/v1/config`: the effective configuration (secrets as `<set>`) and the
//! loaded rule packs.

use super::config_view::{self, Node};
use super::process::{self, Checkpoint, LogSource};
use super::scrape::Sample;
use crate::vocab::{DropReason, Health, RefuseReason};
use serde::Serialize;
use std::collections::BTreeMap;

/// What the status views know of this instance beyond its metrics, gathered once at start.
#[derive(Debug, Clone)]
pub struct Sources {
    /// The effective configuration, secrets already masked.
    pub config: Node,
    /// The loaded rule packs; empty when redaction is off.
    pub rule_packs: Vec<RulePack>,
    /// The memory limiter's (soft, hard) limits in bytes; `None` when it is off.
    pub memory_limits: Option<(u64, u64)>,
    /// The log's checkpoint file, when the `file` exporter is on.
    pub log: Option<LogSource>,
}

impl Default for Sources {
    fn default() -> Self {
        Sources {
            config: Node::Obj(Vec::new()),
            rule_packs: Vec::new(),
            memory_limits: None,
            log: None,
        }
    }
}

/// One loaded pattern pack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RulePack {
    pub name: String,
    /// Rules in force from it (after `disable_rules` / `disable_types`).
    pub rules: usize,
    /// Redaction types its rules report.
    pub types: usize,
}

/// The JSON document's version: a field removed or changing meaning bumps it.
pub const SCHEMA: u32 = 1;

#[derive(Debug, Serialize)]
pub struct Status {
    pub schema: u32,
    pub version: &'static str,
    /// When the figures were read (server clock), for rates between two documents.
    pub time_unix_ms: u64,
    pub uptime_seconds: f64,
    pub ready: bool,
    pub not_ready_reason: Option<String>,
    /// Problems sinks are riding out (as `/readyz` says them).
    pub problems: Vec<String>,
    /// Per signal (`traces`, `logs`, `metrics`), in its items (spans, log records, data
    /// points).
    pub signals: BTreeMap<&'static str, Signal>,
    /// Spans refused before acceptance, by reason (both transports), every reason listed.
    pub refused_spans: BTreeMap<&'static str, u64>,
    /// Requests refused, by reason (undecodable ones carry no span count).
    pub refused_requests: BTreeMap<&'static str, u64>,
    /// Accepted spans not delivered, by reason (`sampled` is intentional).
    pub dropped_spans: BTreeMap<&'static str, u64>,
    pub queue: Queue,
    /// Values redacted, by type, most first.
    pub redactions: Vec<TypeCount>,
    pub sampling: Sampling,
    pub scrub: Scrub,
    pub sinks: Vec<SinkView>,
    pub process: Process,
    /// The tamper-evident log; `None` when the `file` exporter is off.
    pub log: Option<LogView>,
}

#[derive(Debug, Serialize, Default)]
pub struct Signal {
    /// Items accepted into the queue (sampled-out ones included, then counted as dropped).
    pub accepted: u64,
    pub accepted_by_transport: BTreeMap<String, u64>,
    /// Items that reached every sink.
    pub delivered: u64,
    pub refused: u64,
    pub dropped: u64,
    /// Items taken off the queue and not yet delivered or dropped. One gauge counts every
    /// signal's items: it is reported under `traces`, and is 0 under the others.
    pub in_process: u64,
}

#[derive(Debug, Serialize, Default)]
pub struct Queue {
    pub spans: u64,
    pub max_spans: u64,
    pub bytes: u64,
    pub max_bytes: u64,
}

#[derive(Debug, Serialize)]
pub struct TypeCount {
    pub r#type: String,
    pub count: u64,
}

#[derive(Debug, Serialize, Default)]
pub struct Sampling {
    pub accepted_spans: u64,
    pub sampled_out_spans: u64,
    /// Share of accepted spans kept by sampling since start; `None` before any arrived.
    pub kept_ratio: Option<f64>,
}

#[derive(Debug, Serialize, Default)]
pub struct Scrub {
    pub scanned_bytes: u64,
    pub dropped_attributes: u64,
    pub bytes_values_skipped: u64,
}

#[derive(Debug, Serialize)]
pub struct SinkView {
    pub name: String,
    /// `ok`; `retrying` (its destination is not answering: batches wait and are retried);
    /// `failed` (it can take no more data: the service is unready).
    pub state: &'static str,
    pub problem: Option<String>,
    pub sent_spans: u64,
    pub failed_spans: u64,
    /// Batch writes, their total time, and the cumulative histogram `[le, count]` (seconds).
    pub writes: u64,
    pub write_seconds_sum: f64,
    pub write_buckets: Vec<(f64, u64)>,
}

#[derive(Debug, Serialize, Default)]
pub struct Process {
    pub cpu_seconds: Option<f64>,
    pub rss_bytes: Option<u64>,
    pub memory_soft_limit_bytes: Option<u64>,
    pub memory_hard_limit_bytes: Option<u64>,
    /// `off`, `below`, `soft` (refusing while work is queued) or `hard` (refusing all).
    pub memory_limiter: &'static str,
}

#[derive(Debug, Serialize)]
pub struct LogView {
    pub checkpoint_interval_seconds: f64,
    pub checkpoint: Option<Checkpoint>,
    pub checkpoint_age_seconds: Option<f64>,
}

/// The samples of one scrape, looked up by name and labels.
struct Scrape<'a>(&'a [Sample]);

impl Scrape<'_> {
    fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.0
            .iter()
            .filter(|s| s.name == name && labels.iter().all(|(k, v)| s.label(k) == *v))
            .map(|s| s.value)
            .sum()
    }

    fn count(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        let v = self.sum(name, labels);
        if v.is_finite() && v > 0.0 {
            v.round() as u64
        } else {
            0
        }
    }

    fn get(&self, name: &str) -> Option<f64> {
        self.0.iter().find(|s| s.name == name).map(|s| s.value)
    }

    /// `label value → total` over the samples of `name`.
    fn by(&self, name: &str, label: &str) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for s in self.0.iter().filter(|s| s.name == name) {
            *out.entry(s.label(label).to_string()).or_insert(0) += s.value.max(0.0) as u64;
        }
        out
    }
}

/// The counters of the logs or metrics signal (`items`: `log_records`, `metric_points`).
fn other_signal(m: &Scrape<'_>, items: &str) -> Signal {
    let name = |what: &str| format!("spanward_{what}_{items}_total");
    Signal {
        accepted: m.count(&name("receiver_accepted"), &[]),
        accepted_by_transport: m.by(&name("receiver_accepted"), "transport"),
        delivered: m.count(&name("pipeline_delivered"), &[]),
        refused: m.count(&name("receiver_refused"), &[]),
        dropped: m.count(&name("pipeline_dropped"), &[]),
        in_process: 0,
    }
}

/// The status document from one scrape's samples.
pub fn build(
    samples: &[Sample],
    health: &Health,
    sources: &Sources,
    uptime: std::time::Duration,
) -> Status {
    let m = Scrape(samples);
    let now = process::now_unix();
    let refused_spans: BTreeMap<_, _> = RefuseReason::ALL
        .iter()
        .map(|r| {
            let n = m.count(
                "spanward_receiver_refused_spans_total",
                &[("reason", r.as_str())],
            );
            (r.as_str(), n)
        })
        .collect();
    let refused_requests: BTreeMap<_, _> = RefuseReason::ALL
        .iter()
        .map(|r| {
            let n = m.count(
                "spanward_receiver_refused_requests_total",
                &[("reason", r.as_str())],
            );
            (r.as_str(), n)
        })
        .collect();
    let dropped_spans: BTreeMap<_, _> = DropReason::ALL
        .iter()
        .map(|r| {
            let n = m.count(
                "spanward_pipeline_dropped_spans_total",
                &[("reason", r.as_str())],
            );
            (r.as_str(), n)
        })
        .collect();
    let accepted = m.count("spanward_receiver_accepted_spans_total", &[]);
    let sampled_out = dropped_spans
        .get(DropReason::Sampled.as_str())
        .copied()
        .unwrap_or(0);
    let traces = Signal {
        accepted,
        accepted_by_transport: m.by("spanward_receiver_accepted_spans_total", "transport"),
        delivered: m.count("spanward_pipeline_delivered_spans_total", &[]),
        refused: refused_spans.values().sum(),
        dropped: dropped_spans.values().sum(),
        in_process: m.count("spanward_pipeline_in_process_spans", &[]),
    };
    let mut redactions: Vec<TypeCount> = m
        .by("spanward_redactions_total", "type")
        .into_iter()
        .map(|(t, count)| TypeCount { r#type: t, count })
        .collect();
    redactions.sort_by(|a, b| b.count.cmp(&a.count).then(a.r#type.cmp(&b.r#type)));
    let sinks = health
        .sinks
        .iter()
        .map(|s| {
            let name = s.name();
            let ex = [("exporter", name)];
            let problem = s.problem().map(|p| config_view::hide_userinfo_in_text(&p));
            let state = if !s.ready() {
                "failed"
            } else if problem.is_some() {
                "retrying"
            } else {
                "ok"
            };
            let mut buckets: Vec<(f64, u64)> = samples
                .iter()
                .filter(|x| {
                    x.name == "spanward_exporter_write_duration_seconds_bucket"
                        && x.label("exporter") == name
                })
                .filter_map(|x| {
                    let le = match x.label("le") {
                        "+Inf" => f64::INFINITY,
                        v => v.parse().ok()?,
                    };
                    le.is_finite().then_some((le, x.value.max(0.0) as u64))
                })
                .collect();
            buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
            SinkView {
                name: name.to_string(),
                state,
                problem,
                sent_spans: m.count("spanward_exporter_sent_spans_total", &ex),
                failed_spans: m.count("spanward_exporter_send_failed_spans_total", &ex),
                writes: m.count("spanward_exporter_write_duration_seconds_count", &ex),
                write_seconds_sum: m.sum("spanward_exporter_write_duration_seconds_sum", &ex),
                write_buckets: buckets,
            }
        })
        .collect();
    let rss = m
        .get("spanward_process_resident_memory_bytes")
        .map(|v| v.max(0.0) as u64);
    let (soft, hard) = match sources.memory_limits {
        Some((s, h)) => (Some(s), Some(h)),
        None => (None, None),
    };
    let memory_limiter = match (rss, sources.memory_limits) {
        (_, None) => "off",
        (Some(r), Some((_, h))) if r >= h => "hard",
        (Some(r), Some((s, _))) if r >= s => "soft",
        _ => "below",
    };
    let log = sources.log.as_ref().map(|l| {
        let checkpoint = process::read_checkpoint(&l.checkpoint_file);
        LogView {
            checkpoint_interval_seconds: l.checkpoint_interval.as_secs_f64(),
            checkpoint_age_seconds: checkpoint.as_ref().map(|c| (now - c.time_unix).max(0.0)),
            checkpoint,
        }
    });
    Status {
        schema: SCHEMA,
        version: env!("CARGO_PKG_VERSION"),
        time_unix_ms: (now * 1000.0) as u64,
        uptime_seconds: uptime.as_secs_f64(),
        ready: health.not_ready_reason().is_none(),
        not_ready_reason: health.not_ready_reason(),
        problems: health
            .sink_problems()
            .iter()
            .map(|p| config_view::hide_userinfo_in_text(p))
            .collect(),
        signals: [
            ("traces", traces),
            ("logs", other_signal(&m, "log_records")),
            ("metrics", other_signal(&m, "metric_points")),
        ]
        .into_iter()
        .collect(),
        refused_spans,
        refused_requests,
        dropped_spans,
        queue: Queue {
            spans: m.count("spanward_exporter_queue_size", &[]),
            max_spans: m.count("spanward_exporter_queue_capacity", &[]),
            bytes: m.count("spanward_queue_bytes", &[]),
            max_bytes: m.count("spanward_queue_capacity_bytes", &[]),
        },
        redactions,
        sampling: Sampling {
            accepted_spans: accepted,
            sampled_out_spans: sampled_out,
            kept_ratio: (accepted > 0)
                .then(|| accepted.saturating_sub(sampled_out) as f64 / accepted as f64),
        },
        scrub: Scrub {
            scanned_bytes: m.count("spanward_scrub_scanned_bytes_total", &[]),
            dropped_attributes: m.count("spanward_scrub_dropped_attributes_total", &[]),
            bytes_values_skipped: m.count("spanward_scrub_bytes_values_skipped_total", &[]),
        },
        sinks,
        process: Process {
            cpu_seconds: m.get("spanward_process_cpu_seconds_total"),
            rss_bytes: rss,
            memory_soft_limit_bytes: soft,
            memory_hard_limit_bytes: hard,
            memory_limiter,
        },
        log,
    }
}

/// `GET /api/v1/config`.
#[derive(Debug, Serialize)]
pub struct ConfigView<'a> {
    pub schema: u32,
    pub version: &'static str,
    pub config: &'a Node,
    pub rule_packs: &'a [RulePack],
}
