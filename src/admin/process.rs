//! Figures read at each scrape from outside the metric handles: the process's CPU time and
//! resident memory, the memory limiter's limits, and the tamper-evident log's latest checkpoint
//! (the `checkpoint` file the log rewrites after each one). Encoded into `/metrics` by
//! [`Collector`] and read by the status view through the same text.

use prometheus_client::collector::Collector as PromCollector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Where the log's latest checkpoint is and how often one is written.
#[derive(Debug, Clone)]
pub struct LogSource {
    /// The log directory's `checkpoint` file.
    pub checkpoint_file: PathBuf,
    pub checkpoint_interval: Duration,
}

/// The latest checkpoint: the C2SP signed note's body (origin, tree size, root hash) and when
/// its file was written.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Checkpoint {
    pub origin: String,
    /// Records the checkpoint covers.
    pub size: u64,
    /// The Merkle root, base64 as in the note.
    pub root: String,
    /// When it was written (the file's modification time), Unix seconds.
    pub time_unix: f64,
}

/// Reads the checkpoint file; `None` when it is missing or not a checkpoint.
pub fn read_checkpoint(path: &Path) -> Option<Checkpoint> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut lines = text.lines();
    let origin = lines.next()?.trim().to_string();
    let size = lines.next()?.trim().parse().ok()?;
    let root = lines.next()?.trim().to_string();
    let time_unix = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()?
        .duration_since(UNIX_EPOCH)
        .ok()?
        .as_secs_f64();
    Some(Checkpoint {
        origin,
        size,
        root,
        time_unix,
    })
}

/// CPU time this process used (all threads), in seconds.
pub fn cpu_seconds() -> Option<f64> {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_PROCESS_CPUTIME_ID)
        .ok()
        .map(|t| t.tv_sec() as f64 + t.tv_nsec() as f64 / 1e9)
}

pub use crate::vocab::rss_bytes;

/// Seconds since the Unix epoch, now.
pub fn now_unix() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LimitLabel {
    limit: &'static str,
}

/// Encodes the figures above at each scrape.
#[derive(Debug, Clone)]
pub struct Collector {
    /// The memory limiter's (soft, hard) limits in bytes; `None` when it is off.
    pub memory_limits: Option<(u64, u64)>,
    pub log: Option<LogSource>,
}

impl PromCollector for Collector {
    fn encode(&self, mut enc: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        if let Some(cpu) = cpu_seconds() {
            let c = ConstCounter::new(cpu);
            c.encode(enc.encode_descriptor(
                "process_cpu_seconds",
                "CPU time used by the process, user and system",
                None,
                c.metric_type(),
            )?)?;
        }
        if let Some(rss) = rss_bytes() {
            let g = ConstGauge::new(rss as i64);
            g.encode(enc.encode_descriptor(
                "process_resident_memory_bytes",
                "Resident memory of the process",
                None,
                g.metric_type(),
            )?)?;
        }
        if let Some((soft, hard)) = self.memory_limits {
            let mut fam = enc.encode_descriptor(
                "memory_limiter_limit_bytes",
                "The memory limiter's limits on resident memory (soft: refuse while work is queued; hard: refuse all)",
                None,
                prometheus_client::metrics::MetricType::Gauge,
            )?;
            for (limit, v) in [("soft", soft), ("hard", hard)] {
                let l = LimitLabel { limit };
                ConstGauge::new(v as i64).encode(fam.encode_family(&l)?)?;
            }
        }
        if let Some(log) = &self.log {
            let g = ConstGauge::new(log.checkpoint_interval.as_secs_f64());
            g.encode(enc.encode_descriptor(
                "log_checkpoint_interval_seconds",
                "How often the log writes a signed checkpoint while it grows",
                None,
                g.metric_type(),
            )?)?;
            if let Some(cp) = read_checkpoint(&log.checkpoint_file) {
                let g = ConstGauge::new(cp.size as i64);
                g.encode(enc.encode_descriptor(
                    "log_checkpoint_size",
                    "Records covered by the log's latest signed checkpoint",
                    None,
                    g.metric_type(),
                )?)?;
                let g = ConstGauge::new(cp.time_unix);
                g.encode(enc.encode_descriptor(
                    "log_checkpoint_timestamp_seconds",
                    "When the log's latest signed checkpoint was written (Unix time)",
                    None,
                    g.metric_type(),
                )?)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_figures_are_readable_here() {
        assert!(cpu_seconds().unwrap() > 0.0);
        assert!(rss_bytes().unwrap() > 1 << 20);
    }

    #[test]
    fn the_file_name_is_the_logs() {
        assert_eq!(
            crate::sink::log::checkpoint::LATEST_CHECKPOINT_FILE,
            "checkpoint"
        );
    }

    #[test]
    fn checkpoint_and_collector_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("checkpoint");
        std::fs::write(&f, "spanward-test\n42\nq6Z0sQ==\n\n— spanward-test abc\n").unwrap();
        let cp = read_checkpoint(&f).unwrap();
        assert_eq!((cp.origin.as_str(), cp.size), ("spanward-test", 42));
        assert_eq!(cp.root, "q6Z0sQ==");
        assert!((now_unix() - cp.time_unix).abs() < 60.0);
        assert!(read_checkpoint(&dir.path().join("none")).is_none());

        let mut r = prometheus_client::registry::Registry::with_prefix("spanward");
        r.register_collector(Box::new(Collector {
            memory_limits: Some((100 << 20, 200 << 20)),
            log: Some(LogSource {
                checkpoint_file: f,
                checkpoint_interval: Duration::from_secs(10),
            }),
        }));
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &r).unwrap();
        let s = super::super::scrape::parse(&text);
        let get = |n: &str, l: &str| {
            s.iter()
                .find(|x| x.name == n && (l.is_empty() || x.label("limit") == l))
                .unwrap_or_else(|| panic!("{n} missing: {text}"))
                .value
        };
        assert!(get("spanward_process_cpu_seconds_total", "") > 0.0);
        assert!(get("spanward_process_resident_memory_bytes", "") > 0.0);
        assert_eq!(
            get("spanward_memory_limiter_limit_bytes", "soft"),
            (100u64 << 20) as f64
        );
        assert_eq!(
            get("spanward_memory_limiter_limit_bytes", "hard"),
            (200u64 << 20) as f64
        );
        assert_eq!(get("spanward_log_checkpoint_size", ""), 42.0);
        assert_eq!(get("spanward_log_checkpoint_interval_seconds", ""), 10.0);
        assert!(get("spanward_log_checkpoint_timestamp_seconds", "") > 1.7e9);
    }
}
