//! Memory limiter (`pipeline.memory_limiter`), like the collector's: admission stops while the
//! process's resident memory is above a soft limit and the pipeline holds queued work (waiting
//! for it to drain is what lowers memory), and whenever it is above the hard limit. Refusals are
//! retryable; work already accepted is never aborted or dropped.
//!
//! Resident memory is sampled from `/proc/self/status` by a small background thread, so the
//! admission check is one atomic load.

use serde::Deserialize;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// `pipeline.memory_limiter`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MemoryLimiterConfig {
    /// Soft limit in MiB. Default 0 = `soft_limit_percent` of the cgroup memory limit. Above
    /// it, while work is queued, requests are refused with a retryable status
    /// (`reason="memory_limited"`).
    pub soft_limit_mib: u64,
    /// Hard limit in MiB. Default 0 = `hard_limit_percent` of the cgroup limit. Above it every
    /// request is refused (retryable) until memory falls under it; one WARN line per crossing.
    pub hard_limit_mib: u64,
    /// Soft limit as a percentage of the cgroup memory limit, used when `soft_limit_mib` is 0.
    /// Default 80; 1–100. Without a cgroup limit and without MiB limits, the limiter is off.
    pub soft_limit_percent: u32,
    /// Hard limit as a percentage of the cgroup limit. Default 90; at least the soft one.
    pub hard_limit_percent: u32,
    /// How often resident memory is sampled. Default `100ms`; 10ms to 10s. Memory can grow by
    /// what arrives in one interval before the limiter reacts.
    #[serde(with = "humantime_serde")]
    pub check_interval: Duration,
}

impl Default for MemoryLimiterConfig {
    fn default() -> Self {
        MemoryLimiterConfig {
            soft_limit_mib: 0,
            hard_limit_mib: 0,
            soft_limit_percent: 80,
            hard_limit_percent: 90,
            check_interval: Duration::from_millis(100),
        }
    }
}

impl MemoryLimiterConfig {
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=100).contains(&self.soft_limit_percent)
            || !(1..=100).contains(&self.hard_limit_percent)
        {
            return Err("percentages must lie in 1..=100".into());
        }
        if self.hard_limit_percent < self.soft_limit_percent {
            return Err("hard_limit_percent must be at least soft_limit_percent".into());
        }
        if self.hard_limit_mib != 0 && self.hard_limit_mib < self.soft_limit_mib {
            return Err("hard_limit_mib must be at least soft_limit_mib".into());
        }
        if self.check_interval < Duration::from_millis(10)
            || self.check_interval > Duration::from_secs(10)
        {
            return Err("check_interval must lie between 10ms and 10s".into());
        }
        Ok(())
    }

    /// The limits in bytes, `None` when the limiter is off. `cgroup` is the memory limit of the
    /// process's cgroup, if any.
    pub fn limits(&self, cgroup: Option<u64>) -> Option<(u64, u64)> {
        let pct = |p: u32| cgroup.map(|c| c / 100 * u64::from(p));
        let soft = match self.soft_limit_mib {
            0 => pct(self.soft_limit_percent),
            m => Some(m << 20),
        };
        let hard = match self.hard_limit_mib {
            0 => pct(self.hard_limit_percent).or(soft),
            m => Some(m << 20),
        };
        match (soft, hard) {
            (Some(s), Some(h)) => Some((s.min(h), h)),
            (None, Some(h)) => Some((h, h)),
            _ => None,
        }
    }
}

/// The memory limit of this process's cgroup (v2 `memory.max`, or v1
/// `memory.limit_in_bytes`), `None` when unlimited or unknown.
pub fn cgroup_limit() -> Option<u64> {
    let v2_path = std::fs::read_to_string("/proc/self/cgroup")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("0::").map(|p| p.trim().to_string()))
        });
    let mut candidates = Vec::new();
    if let Some(p) = v2_path {
        candidates.push(
            Path::new("/sys/fs/cgroup")
                .join(p.trim_start_matches('/'))
                .join("memory.max"),
        );
    }
    candidates.push("/sys/fs/cgroup/memory.max".into());
    candidates.push("/sys/fs/cgroup/memory/memory.limit_in_bytes".into());
    candidates.into_iter().find_map(|p| {
        let t = std::fs::read_to_string(p).ok()?;
        let n: u64 = t.trim().parse().ok()?;
        // cgroup v1 reports "no limit" as a huge page-aligned number.
        (n < 1 << 60).then_some(n)
    })
}

pub use crate::vocab::rss_bytes;

/// Where memory stands against the limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Below,
    Soft,
    Hard,
}

pub struct MemoryLimiter {
    soft: u64,
    hard: u64,
    rss: AtomicU64,
    stop: AtomicBool,
}

impl MemoryLimiter {
    /// Starts sampling; `None` when the configuration leaves the limiter off.
    pub fn start(cfg: &MemoryLimiterConfig) -> std::io::Result<Option<Arc<MemoryLimiter>>> {
        let Some((soft, hard)) = cfg.limits(cgroup_limit()) else {
            return Ok(None);
        };
        let lim = Arc::new(MemoryLimiter {
            soft,
            hard,
            rss: AtomicU64::new(rss_bytes().unwrap_or(0)),
            stop: AtomicBool::new(false),
        });
        tracing::info!(
            soft_mib = soft >> 20,
            hard_mib = hard >> 20,
            "memory limiter on"
        );
        let l = lim.clone();
        let every = cfg.check_interval;
        std::thread::Builder::new()
            .name("spanward-memlimit".into())
            .spawn(move || {
                let mut last = Level::Below;
                while !l.stop.load(Ordering::Acquire) {
                    if let Some(r) = rss_bytes() {
                        l.rss.store(r, Ordering::Release);
                    }
                    let now = l.level();
                    if now != last {
                        let mib = l.rss.load(Ordering::Acquire) >> 20;
                        match now {
                            Level::Hard => tracing::warn!(rss_mib = mib, hard_mib = l.hard >> 20, "memory above the hard limit: refusing all new data"),
                            Level::Soft => tracing::info!(rss_mib = mib, soft_mib = l.soft >> 20, "memory above the soft limit: refusing new data while work is queued"),
                            Level::Below => tracing::info!(rss_mib = mib, "memory back under the soft limit"),
                        }
                        last = now;
                    }
                    std::thread::sleep(every);
                }
            })?;
        Ok(Some(lim))
    }

    /// A limiter with fixed limits and no sampler thread (tests feed it with [`Self::set_rss`]).
    pub fn fixed(soft: u64, hard: u64) -> MemoryLimiter {
        MemoryLimiter {
            soft,
            hard,
            rss: AtomicU64::new(0),
            stop: AtomicBool::new(true),
        }
    }

    pub fn set_rss(&self, bytes: u64) {
        self.rss.store(bytes, Ordering::Release);
    }

    pub fn rss(&self) -> u64 {
        self.rss.load(Ordering::Acquire)
    }

    pub fn level(&self) -> Level {
        let r = self.rss();
        if r >= self.hard {
            Level::Hard
        } else if r >= self.soft {
            Level::Soft
        } else {
            Level::Below
        }
    }

    /// Whether a new request must be refused, given whether the pipeline holds queued or
    /// in-process work. Above the soft limit with nothing queued, refusing would not lower
    /// memory (what is resident is not ours to free by waiting), so data is admitted.
    pub fn refuse(&self, work_pending: bool) -> bool {
        match self.level() {
            Level::Below => false,
            Level::Soft => work_pending,
            Level::Hard => true,
        }
    }
}

impl Drop for MemoryLimiter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_from_mib_or_cgroup_percent() {
        let c = MemoryLimiterConfig::default();
        assert_eq!(c.limits(None), None, "no cgroup limit, no MiB: off");
        let g = 1000 << 20;
        let (s, h) = c.limits(Some(g)).unwrap();
        assert_eq!((s, h), (g / 100 * 80, g / 100 * 90));
        let c = MemoryLimiterConfig {
            soft_limit_mib: 100,
            hard_limit_mib: 150,
            ..Default::default()
        };
        assert_eq!(c.limits(None), Some((100 << 20, 150 << 20)));
        let c = MemoryLimiterConfig {
            soft_limit_mib: 100,
            ..Default::default()
        };
        assert_eq!(c.limits(None), Some((100 << 20, 100 << 20)));
    }

    #[test]
    fn soft_refuses_only_with_work_pending_hard_always() {
        let l = MemoryLimiter::fixed(100, 200);
        l.set_rss(50);
        assert!(!l.refuse(true));
        l.set_rss(150);
        assert_eq!(l.level(), Level::Soft);
        assert!(l.refuse(true));
        assert!(!l.refuse(false));
        l.set_rss(250);
        assert!(l.refuse(false));
        l.set_rss(10);
        assert!(!l.refuse(true));
    }

    #[test]
    fn validation() {
        let mut c = MemoryLimiterConfig::default();
        c.validate().unwrap();
        c.hard_limit_percent = 70;
        assert!(c.validate().is_err());
        let c = MemoryLimiterConfig {
            soft_limit_mib: 200,
            hard_limit_mib: 100,
            ..Default::default()
        };
        assert!(c.validate().is_err());
    }

    #[test]
    fn rss_is_readable_here() {
        assert!(rss_bytes().unwrap() > 1 << 20);
    }
}
