//! The rate-limited INFO line that says how many spans were refused or dropped and why, and how
//! many requests were refused and why: requests refused before decoding (malformed, too large, a
//! compression bomb, unauthenticated) have no span count, so only the request counts show them.
//! Sampled spans are an intentional drop and are left out of it (they are in `/metrics` and at
//! debug). Log records and metric points refused or dropped follow on the same line, in the same
//! form, when there were any.

use crate::vocab::metrics::{Metrics, ReasonLabel, RefusedLabels, TRANSPORTS};
use crate::vocab::{DropReason, RefuseReason, Signal};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use std::collections::BTreeMap;

/// Remembers the counters at the last summary so each line reports what happened since.
#[derive(Default)]
pub struct Summariser {
    /// Per signal, in `Signal::ALL` order.
    last_refused: [BTreeMap<String, u64>; 3],
    last_dropped: [BTreeMap<String, u64>; 3],
    last_refused_requests: BTreeMap<String, u64>,
}

/// Totals over both transports of a refusal family (spans or requests), by reason.
fn snapshot_refused(family: &Family<RefusedLabels, Counter>) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for reason in RefuseReason::ALL {
        let total: u64 = TRANSPORTS
            .iter()
            .map(|t| {
                family
                    .get_or_create(&RefusedLabels {
                        transport: t,
                        reason: reason.as_str(),
                    })
                    .get()
            })
            .sum();
        out.insert(reason.as_str().to_string(), total);
    }
    out
}

/// The refusal and drop families of a signal's items.
fn families(
    m: &Metrics,
    signal: Signal,
) -> (
    &Family<RefusedLabels, Counter>,
    &Family<ReasonLabel, Counter>,
) {
    match signal {
        Signal::Traces => (&m.receiver_refused_spans, &m.pipeline_dropped_spans),
        Signal::Logs => (&m.logs.receiver_refused, &m.logs.pipeline_dropped),
        Signal::Metrics => (
            &m.metric_points.receiver_refused,
            &m.metric_points.pipeline_dropped,
        ),
    }
}

fn snapshot_dropped(family: &Family<ReasonLabel, Counter>) -> BTreeMap<String, u64> {
    DropReason::ALL
        .iter()
        .filter(|r| **r != DropReason::Sampled)
        .map(|r| {
            let v = family
                .get_or_create(&ReasonLabel { reason: r.as_str() })
                .get();
            (r.as_str().to_string(), v)
        })
        .collect()
}

fn delta(now: &BTreeMap<String, u64>, last: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    now.iter()
        .filter_map(|(k, v)| {
            let d = v.saturating_sub(*last.get(k).unwrap_or(&0));
            (d > 0).then(|| (k.clone(), d))
        })
        .collect()
}

fn fmt(m: &BTreeMap<String, u64>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

impl Summariser {
    /// The line to log now, if anything was refused or dropped since the last call.
    pub fn tick(&mut self, m: &Metrics, queue_depth: usize, queue_cap: usize) -> Option<String> {
        let requests = snapshot_refused(&m.receiver_refused_requests);
        let dq = delta(&requests, &self.last_refused_requests);
        self.last_refused_requests = requests;
        let mut per_signal = Vec::with_capacity(3);
        for (i, signal) in Signal::ALL.into_iter().enumerate() {
            let (refused_f, dropped_f) = families(m, signal);
            let refused = snapshot_refused(refused_f);
            let dropped = snapshot_dropped(dropped_f);
            let dr = delta(&refused, &self.last_refused[i]);
            let dd = delta(&dropped, &self.last_dropped[i]);
            self.last_refused[i] = refused;
            self.last_dropped[i] = dropped;
            per_signal.push((signal, dr, dd));
        }
        if dq.is_empty()
            && per_signal
                .iter()
                .all(|(_, r, d)| r.is_empty() && d.is_empty())
        {
            return None;
        }
        let part = |signal: Signal, dr: &BTreeMap<String, u64>, dd: &BTreeMap<String, u64>| {
            let tr: u64 = dr.values().sum();
            let td: u64 = dd.values().sum();
            format!(
                "{} refused={tr} [{}] dropped={td} [{}]",
                signal.items(),
                fmt(dr),
                fmt(dd)
            )
        };
        // Spans always; the other signals when something happened to them.
        let mut line = String::new();
        for (signal, dr, dd) in &per_signal {
            if *signal == Signal::Traces || !dr.is_empty() || !dd.is_empty() {
                line.push_str(&part(*signal, dr, dd));
                line.push(' ');
            }
        }
        let tq: u64 = dq.values().sum();
        line.push_str(&format!(
            "requests refused={tq} [{}] queue={queue_depth}/{queue_cap} items",
            fmt(&dq)
        ));
        Some(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_deltas_and_skips_sampled() {
        let (m, _r) = Metrics::new();
        let mut s = Summariser::default();
        assert!(s.tick(&m, 0, 10).is_none());
        m.refused("grpc", RefuseReason::QueueFull, 7);
        m.refused("http", RefuseReason::QueueFull, 3);
        m.dropped(DropReason::Sampled, 100);
        m.dropped(DropReason::ExportFailed, 2);
        let line = s.tick(&m, 5, 10).unwrap();
        assert!(line.contains("refused=10 [queue_full=10]"), "{line}");
        assert!(line.contains("dropped=2 [export_failed=2]"), "{line}");
        assert!(line.contains("queue=5/10"), "{line}");
        assert!(line.contains("requests refused=2 [queue_full=2]"), "{line}");
        assert!(s.tick(&m, 0, 10).is_none());
        m.dropped(DropReason::Sampled, 5);
        assert!(s.tick(&m, 0, 10).is_none());
    }

    /// Requests refused before decoding carry no spans; the line still reports them.
    #[test]
    fn requests_refused_without_spans_produce_a_line() {
        let (m, _r) = Metrics::new();
        let mut s = Summariser::default();
        m.refused("http", RefuseReason::Malformed, 0);
        m.refused("http", RefuseReason::Malformed, 0);
        m.refused("grpc", RefuseReason::TooLarge, 0);
        let line = s.tick(&m, 0, 10).expect("a line for span-less refusals");
        assert!(line.starts_with("spans refused=0 []"), "{line}");
        assert!(
            line.contains("requests refused=3 [malformed=2 too_large=1]"),
            "{line}"
        );
        assert!(s.tick(&m, 0, 10).is_none());
    }

    #[test]
    fn log_records_and_metric_points_are_reported_when_there_are_any() {
        let (m, _r) = Metrics::new();
        let mut s = Summariser::default();
        m.refused_as(Signal::Logs, "http", RefuseReason::QueueFull, 4);
        m.dropped_as(Signal::Metrics, DropReason::ExportFailed, 6);
        let line = s.tick(&m, 0, 10).unwrap();
        assert!(
            line.starts_with("spans refused=0 [] dropped=0 []"),
            "{line}"
        );
        assert!(
            line.contains("log_records refused=4 [queue_full=4]"),
            "{line}"
        );
        assert!(
            line.contains("metric_points refused=0 [] dropped=6 [export_failed=6]"),
            "{line}"
        );
        m.refused("grpc", RefuseReason::QueueFull, 1);
        let line = s.tick(&m, 0, 10).unwrap();
        assert!(!line.contains("log_records"), "{line}");
    }
}
