//! The scrubber's worst-case cost: the input, as text, repeated to 256 KiB and scrubbed as one
//! value must cost at most `BUDGET_MS_PER_MIB` of this thread's CPU per MiB. The redaction issue
//! sets 50 ms/MiB for the release build; the fuzz build (coverage instrumentation, overflow and
//! debug checks) runs about two to three times slower, so the oracle allows four times that: a
//! quadratic scan (a keyword whose every hit rescans a window) exceeds it by far more.
#![no_main]

use spanward::keys::{HmacKey, KeySource};
use spanward::scrub::{RedactionConfig, Scrubber};
use std::sync::OnceLock;

const SIZE: usize = 256 << 10;
const BUDGET_MS_PER_MIB: f64 = 200.0;

fn scrubber() -> &'static Scrubber {
    static S: OnceLock<Scrubber> = OnceLock::new();
    S.get_or_init(|| {
        // The service's CPU budget per string (`max_scan_cpu_per_mib`) is off here: it would
        // replace a slow string whole and hide the engine's own cost, which is what this
        // target looks for.
        Scrubber::new(
            &RedactionConfig {
                max_scan_cpu_per_mib: std::time::Duration::ZERO,
                ..RedactionConfig::default()
            },
            HmacKey::from_bytes(vec![3; 32], None, KeySource::File),
        )
        .expect("scrubber")
    })
}

/// This thread's time on a CPU so far (Linux's per-thread `schedstat`: nanoseconds first).
fn thread_cpu_ms() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |ns| ns / 1e6)
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if data.is_empty() {
        return;
    }
    let unit = String::from_utf8_lossy(data);
    let mut text = String::with_capacity(SIZE + unit.len());
    while text.len() < SIZE {
        text.push_str(&unit);
    }
    let sc = scrubber();
    let t = thread_cpu_ms();
    let out = sc.scrub_str(&text);
    let ms = thread_cpu_ms() - t;
    std::hint::black_box(out);
    let per_mib = ms * (1 << 20) as f64 / text.len() as f64;
    assert!(
        per_mib <= BUDGET_MS_PER_MIB,
        "{per_mib:.0} ms of CPU per MiB (budget {BUDGET_MS_PER_MIB}) for a unit of {} bytes",
        data.len()
    );
});
