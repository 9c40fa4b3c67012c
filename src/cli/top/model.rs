//! The client's reading of `GET /api/v1/status` (see `crate::admin::status`), tolerant of
//! fields it does not know or that an older server lacks, and what `top` derives from two
//! readings: rates per second and the queue's fill history.

use serde::Deserialize;
use std::collections::{BTreeMap, VecDeque};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Status {
    pub version: String,
    pub time_unix_ms: u64,
    pub uptime_seconds: f64,
    pub ready: bool,
    pub not_ready_reason: Option<String>,
    pub problems: Vec<String>,
    pub signals: BTreeMap<String, Signal>,
    pub refused_spans: BTreeMap<String, u64>,
    pub refused_requests: BTreeMap<String, u64>,
    pub dropped_spans: BTreeMap<String, u64>,
    pub queue: Queue,
    pub redactions: Vec<TypeCount>,
    pub sampling: Sampling,
    pub sinks: Vec<SinkView>,
    pub process: Process,
    pub log: Option<LogView>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Signal {
    pub accepted: u64,
    pub delivered: u64,
    pub refused: u64,
    pub dropped: u64,
    pub in_process: u64,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Queue {
    pub spans: u64,
    pub max_spans: u64,
    pub bytes: u64,
    pub max_bytes: u64,
}

impl Queue {
    /// The fuller of the two bounds, 0–1.
    pub fn fill(&self) -> f64 {
        let r = |n: u64, max: u64| if max == 0 { 0.0 } else { n as f64 / max as f64 };
        r(self.spans, self.max_spans)
            .max(r(self.bytes, self.max_bytes))
            .clamp(0.0, 1.0)
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TypeCount {
    pub r#type: String,
    pub count: u64,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Sampling {
    pub accepted_spans: u64,
    pub sampled_out_spans: u64,
    pub kept_ratio: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SinkView {
    pub name: String,
    pub state: String,
    pub problem: Option<String>,
    pub sent_spans: u64,
    pub failed_spans: u64,
    pub writes: u64,
    pub write_seconds_sum: f64,
    pub write_buckets: Vec<(f64, u64)>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Process {
    pub cpu_seconds: Option<f64>,
    pub rss_bytes: Option<u64>,
    pub memory_soft_limit_bytes: Option<u64>,
    pub memory_hard_limit_bytes: Option<u64>,
    pub memory_limiter: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct LogView {
    pub checkpoint_interval_seconds: f64,
    pub checkpoint: Option<Checkpoint>,
    pub checkpoint_age_seconds: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: String,
}

impl Status {
    pub fn traces(&self) -> Signal {
        self.signals.get("traces").cloned().unwrap_or_default()
    }
}

/// The last two readings, and the queue's fill over the last readings.
#[derive(Debug, Default)]
pub struct History {
    pub current: Option<Status>,
    pub previous: Option<Status>,
    /// Queue fill in per mille, oldest first.
    pub fill: VecDeque<u64>,
}

/// Readings of queue fill kept for the sparkline (more than any terminal is wide).
const FILL_KEPT: usize = 300;

impl History {
    pub fn push(&mut self, s: Status) {
        self.fill
            .push_back((s.queue.fill() * 1000.0).round() as u64);
        while self.fill.len() > FILL_KEPT {
            self.fill.pop_front();
        }
        self.previous = self.current.replace(s);
    }

    /// Seconds between the two readings (server clock), if there are two.
    fn dt(&self) -> Option<f64> {
        let (c, p) = (self.current.as_ref()?, self.previous.as_ref()?);
        let dt = c.time_unix_ms.checked_sub(p.time_unix_ms)? as f64 / 1000.0;
        (dt > 0.0).then_some(dt)
    }

    /// Per second between the two readings of the figure `f` picks.
    pub fn rate(&self, f: impl Fn(&Status) -> u64) -> Option<f64> {
        let dt = self.dt()?;
        let (c, p) = (self.current.as_ref()?, self.previous.as_ref()?);
        Some(f(c).saturating_sub(f(p)) as f64 / dt)
    }

    /// Per second of a float figure (CPU seconds).
    pub fn rate_f(&self, f: impl Fn(&Status) -> Option<f64>) -> Option<f64> {
        let dt = self.dt()?;
        let (c, p) = (self.current.as_ref()?, self.previous.as_ref()?);
        Some(((f(c)? - f(p)?) / dt).max(0.0))
    }

    /// A sink's mean write time and p99 bound over the writes between the two readings (over
    /// all writes when there is one reading or none happened between them).
    pub fn sink_latency(&self, name: &str) -> (Option<f64>, Option<f64>) {
        let Some(c) = self.current.as_ref().and_then(|s| sink(s, name)) else {
            return (None, None);
        };
        let p = self.previous.as_ref().and_then(|s| sink(s, name));
        let (writes, sum, base) = match p {
            Some(p) if c.writes > p.writes => (
                c.writes - p.writes,
                c.write_seconds_sum - p.write_seconds_sum,
                Some(&p.write_buckets),
            ),
            _ => (c.writes, c.write_seconds_sum, None),
        };
        if writes == 0 {
            return (None, None);
        }
        let mean = (sum / writes as f64).max(0.0);
        let p99 = quantile(&c.write_buckets, base, 0.99);
        (Some(mean), p99)
    }
}

fn sink<'a>(s: &'a Status, name: &str) -> Option<&'a SinkView> {
    s.sinks.iter().find(|k| k.name == name)
}

/// The upper bound of the bucket holding quantile `q` of the writes counted in `cur` and not in
/// `base` (cumulative `[le, count]` buckets).
pub fn quantile(cur: &[(f64, u64)], base: Option<&Vec<(f64, u64)>>, q: f64) -> Option<f64> {
    let before = |le: f64| {
        base.and_then(|b| b.iter().find(|(l, _)| *l == le).map(|(_, c)| *c))
            .unwrap_or(0)
    };
    let d: Vec<(f64, u64)> = cur
        .iter()
        .map(|(le, c)| (*le, c.saturating_sub(before(*le))))
        .collect();
    let total = d.last()?.1;
    if total == 0 {
        return None;
    }
    d.iter()
        .find(|(_, c)| *c as f64 >= q * total as f64)
        .map(|(le, _)| *le)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(ms: u64, accepted: u64, writes: u64, buckets: Vec<(f64, u64)>) -> Status {
        let mut s = Status {
            time_unix_ms: ms,
            ..Default::default()
        };
        s.signals.insert(
            "traces".into(),
            Signal {
                accepted,
                ..Default::default()
            },
        );
        s.queue = Queue {
            spans: 5,
            max_spans: 10,
            bytes: 1,
            max_bytes: 100,
        };
        s.sinks.push(SinkView {
            name: "file".into(),
            writes,
            write_seconds_sum: writes as f64 * 0.002,
            write_buckets: buckets,
            ..Default::default()
        });
        s
    }

    #[test]
    fn rates_latency_and_fill() {
        let mut h = History::default();
        h.push(reading(1_000, 100, 10, vec![(0.001, 5), (0.01, 10)]));
        assert_eq!(h.rate(|s| s.traces().accepted), None);
        assert_eq!(h.sink_latency("file").0, Some(0.002));
        h.push(reading(3_000, 500, 20, vec![(0.001, 5), (0.01, 20)]));
        assert_eq!(h.rate(|s| s.traces().accepted), Some(200.0));
        let (mean, p99) = h.sink_latency("file");
        assert!((mean.unwrap() - 0.002).abs() < 1e-9);
        assert_eq!(
            p99,
            Some(0.01),
            "the new writes all fell in the second bucket"
        );
        assert_eq!(h.fill.iter().copied().collect::<Vec<_>>(), vec![500, 500]);
        assert_eq!(h.sink_latency("kafka"), (None, None));
    }

    #[test]
    fn unknown_and_missing_fields_are_tolerated() {
        let s: Status =
            serde_json::from_str(r#"{"schema":1,"new_field":{"x":1},"queue":{"spans":3}}"#)
                .unwrap();
        assert_eq!(s.queue.spans, 3);
        assert_eq!(s.queue.fill(), 0.0);
        assert!(s.sinks.is_empty());
    }
}
