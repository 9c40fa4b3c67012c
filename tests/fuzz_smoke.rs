//! The suite's bounded smoke of every fuzz target: the very checks the cargo-fuzz targets run
//! (`fuzz/fuzz_targets/*_check.rs`, `pipeline.rs` and `signals.rs`, included here by path), over every
//! committed seed and a fixed number of deterministic mutations of them. A panic or failed
//! invariant fails the test and names the input. Coverage-guided runs are `scripts/fuzz.sh`.

#[path = "../fuzz/fuzz_targets/config_check.rs"]
mod config_check;
#[path = "../fuzz/fuzz_targets/log_check.rs"]
mod log_check;
#[path = "../fuzz/fuzz_targets/pipeline.rs"]
mod pipeline;
#[path = "../fuzz/fuzz_targets/scrub_check.rs"]
mod scrub_check;
#[path = "../fuzz/fuzz_targets/signals.rs"]
mod signals;

use std::path::Path;

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/seeds")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let seeds: Vec<Vec<u8>> = files.iter().map(|p| std::fs::read(p).unwrap()).collect();
    assert!(!seeds.is_empty(), "no seeds for {target}");
    seeds
}

/// xorshift64*: a fixed sequence, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// libFuzzer-like byte mutations: bit flips, byte sets, inserts, deletes, duplicated ranges,
/// truncation, interesting values, and splices with another seed.
fn mutate(rng: &mut Rng, base: &[u8], all: &[Vec<u8>]) -> Vec<u8> {
    let mut d = base.to_vec();
    for _ in 0..=rng.below(4) {
        let len = d.len();
        match rng.below(8) {
            0 if len > 0 => {
                let i = rng.below(len);
                d[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                d[i] = rng.next() as u8;
            }
            2 => {
                let i = rng.below(len + 1);
                let n = 1 + rng.below(16);
                let ins: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                d.splice(i..i, ins);
            }
            3 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(32));
                d.drain(i..i + n);
            }
            4 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(64));
                let chunk = d[i..i + n].to_vec();
                let at = rng.below(d.len() + 1);
                d.splice(at..at, chunk);
            }
            5 if len > 0 => d.truncate(rng.below(len)),
            6 if len > 0 => {
                let vals = [0u8, 0x7f, 0x80, 0xff, b'"', b'\\', b'{', b'[', b'\n', b'@'];
                let i = rng.below(len);
                d[i] = vals[rng.below(vals.len())];
            }
            _ => {
                let other = &all[rng.below(all.len())];
                if !other.is_empty() {
                    let from = rng.below(other.len());
                    let at = rng.below(d.len() + 1);
                    d.truncate(at);
                    d.extend_from_slice(&other[from..]);
                }
            }
        }
    }
    d
}

/// Every seed, then `mutations` mutants, through `check`.
fn smoke(target: &str, mutations: usize, check: impl Fn(&[u8])) {
    let all = seeds(target);
    for s in &all {
        check(s);
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ target.len() as u64);
    for i in 0..mutations {
        let base = &all[rng.below(all.len())];
        let input = mutate(&mut rng, base, &all);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&input)));
        if r.is_err() {
            panic!(
                "{target}: mutant {i} failed its check; input (hex): {}",
                hex::encode(&input)
            );
        }
    }
}

#[test]
fn otlp_proto_target_smoke() {
    smoke("otlp_proto", 2000, |d| pipeline::run(d, false));
}

#[test]
fn otlp_json_target_smoke() {
    smoke("otlp_json", 2000, |d| pipeline::run(d, true));
}

#[test]
fn scrub_target_smoke() {
    smoke("scrub", 2000, scrub_check::run);
}

#[test]
fn config_target_smoke() {
    smoke("config", 2000, config_check::run);
}

#[test]
fn log_verify_target_smoke() {
    smoke("log_verify", 1000, log_check::run);
}

#[test]
fn otlp_logs_target_smoke() {
    smoke("otlp_logs", 2000, |d| {
        signals::run(spanward::vocab::Signal::Logs, d)
    });
}

#[test]
fn otlp_metrics_target_smoke() {
    smoke("otlp_metrics", 2000, |d| {
        signals::run(spanward::vocab::Signal::Metrics, d)
    });
}

/// The committed seeds reach the stages (are admitted), so the smoke above exercises more than
/// the decoders' refusals.
#[test]
fn signal_seeds_are_admitted() {
    use spanward::vocab::Signal;
    for (target, signal) in [
        ("otlp_logs", Signal::Logs),
        ("otlp_metrics", Signal::Metrics),
    ] {
        for s in seeds(target) {
            let json = s.first() == Some(&b'{');
            let r = spanward::receiver::body::admit_signal(
                signal,
                prost::bytes::Bytes::from(s),
                json,
                &spanward::otlp::Limits::default(),
            );
            assert!(r.is_ok(), "{target}: a seed is refused: {r:?}");
        }
    }
}
