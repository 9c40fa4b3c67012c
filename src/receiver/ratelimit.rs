//! Per-client rate limits (`receivers.otlp.rate_limit`): one token bucket in spans/s and one in
//! bytes/s per client, so one flooding agent fleet cannot starve the others.
//!
//! The client is the authenticated identity when bearer tokens name one, else the first
//! resource's `service.name`. Buckets run a debt model: a request is admitted while the bucket
//! holds tokens and its whole cost is then taken (the bucket may go negative), so a request
//! larger than the burst is still admitted from a full bucket and never starves; while in debt,
//! the client is refused with the time until the debt is paid as its retry delay.

use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// `receivers.otlp.rate_limit`. Off unless a rate is set.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    /// Spans per second each client may send. Default 0 = unlimited. Over it: HTTP 429 /
    /// gRPC `RESOURCE_EXHAUSTED` with the wait in `Retry-After` / `RetryInfo`, counted
    /// `reason="rate_limited"` and per client.
    pub spans_per_second: f64,
    /// Request bytes (decompressed) per second each client may send. Default 0 = unlimited.
    pub bytes_per_second: f64,
    /// Burst: a client may send this many seconds' worth at once after being idle. Default
    /// `1s`; 10ms to 1h.
    #[serde(with = "humantime_serde")]
    pub burst: Duration,
    /// Buckets kept at most. Default 10000. When full, buckets idle for a minute are evicted;
    /// if none are, new clients share one overflow bucket (still limited, never unlimited).
    pub max_clients: usize,
    /// Distinct clients named in the `client` label of the rate-limit metrics. Default 50;
    /// later ones are counted under `client="other"`, so label cardinality stays bounded.
    pub max_client_labels: usize,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            spans_per_second: 0.0,
            bytes_per_second: 0.0,
            burst: Duration::from_secs(1),
            max_clients: 10_000,
            max_client_labels: 50,
        }
    }
}

impl RateLimitConfig {
    pub fn enabled(&self) -> bool {
        self.spans_per_second > 0.0 || self.bytes_per_second > 0.0
    }

    pub fn validate(&self) -> Result<(), String> {
        let finite = |v: f64| v.is_finite() && v >= 0.0;
        if !finite(self.spans_per_second) || !finite(self.bytes_per_second) {
            return Err("rates must be finite and not negative".into());
        }
        if self.burst < Duration::from_millis(10) || self.burst > Duration::from_secs(3600) {
            return Err("burst must lie between 10ms and 1h".into());
        }
        if self.max_clients == 0 {
            return Err("max_clients must be at least 1".into());
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// Available spans and bytes; negative = debt.
    spans: f64,
    bytes: f64,
    at: Instant,
}

const IDLE_EVICT: Duration = Duration::from_secs(60);
const OVERFLOW: &str = "\u{0}overflow";

/// The limiter's verdict.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Admit,
    /// Refused; retry after this long.
    Limited(Duration),
}

pub struct RateLimiter {
    cfg: RateLimitConfig,
    buckets: Mutex<HashMap<String, Bucket>>,
    labels: Mutex<Vec<String>>,
}

impl RateLimiter {
    pub fn new(cfg: RateLimitConfig) -> Self {
        RateLimiter {
            cfg,
            buckets: Mutex::new(HashMap::new()),
            labels: Mutex::new(Vec::new()),
        }
    }

    fn capacity(&self) -> (f64, f64) {
        let b = self.cfg.burst.as_secs_f64();
        (self.cfg.spans_per_second * b, self.cfg.bytes_per_second * b)
    }

    /// Charges `spans` and `bytes` to `client` at `now`.
    pub fn check(&self, client: &str, spans: usize, bytes: usize, now: Instant) -> Verdict {
        let (cap_s, cap_b) = self.capacity();
        let Ok(mut map) = self.buckets.lock() else {
            // A poisoned lock means a panic elsewhere: fail open on limits rather than
            // refusing everyone; the limiter is a fairness tool, not a safety one.
            return Verdict::Admit;
        };
        if !map.contains_key(client) && map.len() >= self.cfg.max_clients {
            map.retain(|_, b| now.duration_since(b.at) < IDLE_EVICT);
        }
        let key = if map.contains_key(client) || map.len() < self.cfg.max_clients {
            client
        } else {
            OVERFLOW
        };
        let b = map.entry(key.to_string()).or_insert(Bucket {
            spans: cap_s,
            bytes: cap_b,
            at: now,
        });
        let dt = now.saturating_duration_since(b.at).as_secs_f64();
        b.at = now;
        b.spans = (b.spans + dt * self.cfg.spans_per_second).min(cap_s);
        b.bytes = (b.bytes + dt * self.cfg.bytes_per_second).min(cap_b);
        // An empty bucket (zero or in debt) refuses until it holds tokens again.
        let wait = |tokens: f64, rate: f64| {
            if rate > 0.0 && tokens <= 0.0 {
                (-tokens / rate).max(0.001)
            } else {
                0.0
            }
        };
        let w =
            wait(b.spans, self.cfg.spans_per_second).max(wait(b.bytes, self.cfg.bytes_per_second));
        if w > 0.0 {
            return Verdict::Limited(Duration::from_secs_f64(w).max(Duration::from_millis(1)));
        }
        if self.cfg.spans_per_second > 0.0 {
            b.spans -= spans as f64;
        }
        if self.cfg.bytes_per_second > 0.0 {
            b.bytes -= bytes as f64;
        }
        Verdict::Admit
    }

    /// The metrics label for `client`: itself for the first `max_client_labels` clients seen,
    /// `other` after that.
    pub fn label(&self, client: &str) -> String {
        let Ok(mut seen) = self.labels.lock() else {
            return "other".into();
        };
        if seen.iter().any(|c| c == client) {
            return client.to_string();
        }
        if seen.len() < self.cfg.max_client_labels {
            seen.push(client.to_string());
            return client.to_string();
        }
        "other".into()
    }
}

/// A client name safe for logs and labels: at most 64 characters of `[A-Za-z0-9._:/-]`, others
/// replaced by `_`; empty becomes `unknown`.
pub fn sanitize_client(name: &str) -> String {
    let s: String = name
        .chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '/' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() {
        "unknown".into()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lim(spans: f64, bytes: f64) -> RateLimiter {
        RateLimiter::new(RateLimitConfig {
            spans_per_second: spans,
            bytes_per_second: bytes,
            ..Default::default()
        })
    }

    #[test]
    fn burst_then_debt_then_refill() {
        let l = lim(100.0, 0.0);
        let t = Instant::now();
        // The full bucket (100) admits a 150-span request, then the client owes 50 spans.
        assert_eq!(l.check("a", 150, 0, t), Verdict::Admit);
        match l.check("a", 1, 0, t) {
            Verdict::Limited(d) => assert!((d.as_secs_f64() - 0.5).abs() < 1e-6, "{d:?}"),
            v => panic!("{v:?}"),
        }
        // Another client is unaffected.
        assert_eq!(l.check("b", 100, 0, t), Verdict::Admit);
        // After the debt is paid, admitted again.
        assert_eq!(
            l.check("a", 10, 0, t + Duration::from_millis(501)),
            Verdict::Admit
        );
    }

    #[test]
    fn sustained_rate_matches_the_limit() {
        let l = lim(1000.0, 0.0);
        let t0 = Instant::now();
        let mut admitted = 0;
        // A client offering 10x its share for 10 simulated seconds, 100 spans every 10 ms.
        for i in 0..1000u64 {
            if l.check("flood", 100, 0, t0 + Duration::from_millis(i * 10)) == Verdict::Admit {
                admitted += 100;
            }
        }
        // 1000/s for ~10 s plus the initial burst.
        assert!((10_000..=11_200).contains(&admitted), "{admitted}");
    }

    #[test]
    fn bytes_limit_applies_too() {
        let l = lim(0.0, 1000.0);
        let t = Instant::now();
        assert_eq!(l.check("a", 1, 2000, t), Verdict::Admit);
        assert!(matches!(l.check("a", 1, 1, t), Verdict::Limited(_)));
    }

    #[test]
    fn bounded_buckets_and_labels() {
        let l = RateLimiter::new(RateLimitConfig {
            spans_per_second: 10.0,
            max_clients: 2,
            max_client_labels: 1,
            ..Default::default()
        });
        let t = Instant::now();
        assert_eq!(l.check("a", 10, 0, t), Verdict::Admit);
        assert_eq!(l.check("b", 10, 0, t), Verdict::Admit);
        // Third and fourth clients share the overflow bucket: limited together, not unlimited.
        assert_eq!(l.check("c", 10, 0, t), Verdict::Admit);
        assert!(matches!(l.check("d", 1, 0, t), Verdict::Limited(_)));
        assert_eq!(l.buckets.lock().unwrap().len(), 3);
        // Idle buckets are evicted to make room.
        assert_eq!(l.check("e", 1, 0, t + IDLE_EVICT * 2), Verdict::Admit);
        assert!(l.buckets.lock().unwrap().contains_key("e"));
        assert_eq!(l.label("a"), "a");
        assert_eq!(l.label("b"), "other");
        assert_eq!(l.label("a"), "a");
    }

    #[test]
    fn client_names_are_sanitized() {
        assert_eq!(sanitize_client("svc-1.prod"), "svc-1.prod");
        assert_eq!(sanitize_client("a b\"c\n"), "a_b_c_");
        assert_eq!(sanitize_client(""), "unknown");
        assert_eq!(sanitize_client(&"x".repeat(100)).len(), 64);
    }

    #[test]
    fn config_validation() {
        let mut c = RateLimitConfig::default();
        assert!(!c.enabled());
        c.validate().unwrap();
        c.spans_per_second = f64::NAN;
        assert!(c.validate().is_err());
        c.spans_per_second = 5.0;
        c.burst = Duration::from_millis(1);
        assert!(c.validate().is_err());
    }
}
