//! The rate-limited INFO line that says how many spans were refused or dropped and why, and how
//! many requests were refused and why: requests refused before decoding (malformed, too large, a
//! compression bomb, unauthenticated) have no span count, so only the request counts show them.
//! Sampled spans are an intentional drop and are left out of it (they are in `/metrics` and at
//! debug).

use crate::vocab::metrics::{Metrics, ReasonLabel, RefusedLabels, TRANSPORTS};
use crate::vocab::{DropReason, RefuseReason};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use std::collections::BTreeMap;

/// Remembers the counters at the last summary so each line reports what happened since.
#[derive(Default)]
pub struct Summariser {
    last_refused: BTreeMap<String, u64>,
    last_dropped: BTreeMap<String, u64>,
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

fn snapshot_dropped(m: &Metrics) -> BTreeMap<String, u64> {
    DropReason::ALL
        .iter()
        .filter(|r| **r != DropReason::Sampled)
        .map(|r| {
            let v = m
                .pipeline_dropped_spans
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
        let refused = snapshot_refused(&m.receiver_refused_spans);
        let requests = snapshot_refused(&m.receiver_refused_requests);
        let dropped = snapshot_dropped(m);
        let dr = delta(&refused, &self.last_refused);
        let dq = delta(&requests, &self.last_refused_requests);
        let dd = delta(&dropped, &self.last_dropped);
        self.last_refused = refused;
        self.last_refused_requests = requests;
        self.last_dropped = dropped;
        if dr.is_empty() && dq.is_empty() && dd.is_empty() {
            return None;
        }
        let tr: u64 = dr.values().sum();
        let tq: u64 = dq.values().sum();
        let td: u64 = dd.values().sum();
        Some(format!(
            "spans refused={tr} [{}] dropped={td} [{}] requests refused={tq} [{}] queue={queue_depth}/{queue_cap} spans",
            fmt(&dr),
            fmt(&dd),
            fmt(&dq)
        ))
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
}
