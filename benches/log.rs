//! Span log append throughput: spans/s and MB/s with several writer threads under each fsync
//! policy, fsyncs per append (group commit), and the share of CPU spent on hashing (SHA-256
//! leaf + node hashes and CRC32C), measured as hashing cost per byte times bytes appended over
//! the process CPU time of the run.
//!
//! `cargo bench --bench log` (env: `LOG_BENCH_SECS` per case, default 3; `LOG_BENCH_DIR` for
//! the log directory, default a temp dir: put it on the disk you want to measure).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use spanward::sink::log::checkpoint::{generate_signing_key, SIGNING_KEY_ENV};
use spanward::sink::log::record::Prepared;
use spanward::sink::log::{FsyncPolicy, LogConfig, LogSink};

fn kv(k: &str, v: String) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v)),
        }),
        ..KeyValue::default()
    }
}

/// One processed batch of `spans` agent spans with ~1 KiB of message payload each.
fn batch(spans: usize, seed: u64) -> Vec<u8> {
    let spans = (0..spans as u64)
        .map(|i| Span {
            trace_id: (seed * 1000 + i).to_be_bytes().repeat(2),
            span_id: i.to_be_bytes().to_vec(),
            name: "chat gpt-4o".into(),
            start_time_unix_nano: 1_700_000_000_000_000_000 + i,
            end_time_unix_nano: 1_700_000_000_500_000_000 + i,
            attributes: vec![
                kv("gen_ai.operation.name", "chat".into()),
                kv(
                    "gen_ai.input.messages",
                    format!(
                        "[{{\"role\":\"user\",\"parts\":[{{\"type\":\"text\",\"content\":\"{}\"}}]}}]",
                        "Summarise the quarterly report for <email:9f2c41d07a> and list the open actions. "
                            .repeat(9)
                    ),
                ),
                kv("spanward.input_hash", format!("{:064x}", seed ^ i)),
            ],
            ..Span::default()
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans,
                ..ScopeSpans::default()
            }],
            ..ResourceSpans::default()
        }],
    }
    .encode_to_vec()
}

/// User + system CPU seconds of this process so far.
fn cpu_secs() -> f64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = s.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of stat (utime, stime), counted after the ')' as 12 and 13.
    let ticks: f64 = f.get(11).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    ticks / 100.0
}

/// CPU seconds this thread has run (schedstat: nanosecond resolution, and unlike wall time it
/// does not count time spent descheduled on a busy machine).
fn thread_cpu_secs() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .next()
                .and_then(|x| x.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
        / 1e9
}

/// CPU seconds to CRC and leaf-hash one record of this payload, and one node hash.
fn hash_cost(payload: &[u8]) -> (f64, f64) {
    let reps = (200_000_000 / payload.len().max(1)).max(100) as u64;
    let t = thread_cpu_secs();
    for i in 0..reps {
        std::hint::black_box(Prepared::new(payload).finish(i, i));
    }
    let per_rec = (thread_cpu_secs() - t) / reps as f64;
    let t = thread_cpu_secs();
    let mut h = tlog_tiles::record_hash(b"x");
    for _ in 0..1_000_000 {
        h = tlog_tiles::node_hash(h, h);
    }
    std::hint::black_box(h);
    let per_node = (thread_cpu_secs() - t) / 1_000_000.0;
    (per_rec, per_node)
}

struct Case {
    policy: FsyncPolicy,
    threads: usize,
    spans: usize,
}

fn main() {
    let secs: u64 = std::env::var("LOG_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let base = std::env::var("LOG_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::env::temp_dir());
    let (skey, _) = generate_signing_key("bench.spanward/log");
    let mut env = std::collections::HashMap::new();
    env.insert(SIGNING_KEY_ENV.to_string(), skey);
    // The single-thread case runs last: right after a build, writeback of build output slows
    // the first fsyncs.
    let cases = [
        Case {
            policy: FsyncPolicy::Batch,
            threads: 4,
            spans: 50,
        },
        Case {
            policy: FsyncPolicy::Batch,
            threads: 8,
            spans: 50,
        },
        Case {
            policy: FsyncPolicy::Batch,
            threads: 8,
            spans: 5,
        },
        Case {
            policy: FsyncPolicy::Always,
            threads: 4,
            spans: 50,
        },
        Case {
            policy: FsyncPolicy::Interval,
            threads: 4,
            spans: 50,
        },
        Case {
            policy: FsyncPolicy::Never,
            threads: 4,
            spans: 50,
        },
        Case {
            policy: FsyncPolicy::Batch,
            threads: 1,
            spans: 50,
        },
    ];
    println!(
        "| fsync | threads | spans/record | record KiB | records/s | spans/s | MB/s | appends per fsync | p99 append ms | CPU s/s | hashing share of CPU |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    let mut verify_line = String::new();
    for c in cases {
        let payloads: Vec<Vec<u8>> = (0..16).map(|s| batch(c.spans, s)).collect();
        let rec_bytes = payloads[0].len();
        let (per_rec, per_node) = hash_cost(&payloads[0]);
        let dir = tempfile::Builder::new()
            .prefix("spanward-log-bench")
            .tempdir_in(&base)
            .expect("temp dir");
        let cfg = LogConfig {
            path: dir.path().to_path_buf(),
            fsync: c.policy,
            ..LogConfig::default()
        };
        let sink = Arc::new(LogSink::open(&cfg, &env, false).expect("open"));
        let stop = Arc::new(AtomicBool::new(false));
        let records = Arc::new(AtomicU64::new(0));
        let cpu0 = cpu_secs();
        let t0 = Instant::now();
        let hs: Vec<_> = (0..c.threads)
            .map(|t| {
                let sink = sink.clone();
                let stop = stop.clone();
                let records = records.clone();
                let payloads = payloads.clone();
                std::thread::spawn(move || {
                    let mut lat = Vec::new();
                    let mut i = t;
                    while !stop.load(Ordering::Relaxed) {
                        let s = Instant::now();
                        sink.append(&payloads[i % payloads.len()]).expect("append");
                        lat.push(s.elapsed());
                        records.fetch_add(1, Ordering::Relaxed);
                        i += 1;
                    }
                    lat
                })
            })
            .collect();
        std::thread::sleep(Duration::from_secs(secs));
        stop.store(true, Ordering::Relaxed);
        let mut lat: Vec<Duration> = hs
            .into_iter()
            .flat_map(|h| h.join().expect("join"))
            .collect();
        let el = t0.elapsed().as_secs_f64();
        let cpu = cpu_secs() - cpu0;
        let st = sink.stats();
        sink.close().expect("close");
        let verify_rate = (c.policy == FsyncPolicy::Never).then(|| {
            let t = Instant::now();
            let rep = spanward::sink::log::verify::verify_dir(dir.path(), None, &mut |_, _| {})
                .expect("verify");
            rep.bytes as f64 / t.elapsed().as_secs_f64() / 1e6
        });
        lat.sort();
        let p99 = lat
            .get(lat.len() * 99 / 100)
            .copied()
            .unwrap_or_default()
            .as_secs_f64()
            * 1e3;
        let n = records.load(Ordering::Relaxed) as f64;
        let hashing = n * (per_rec + 2.0 * per_node);
        println!(
            "| {:?} | {} | {} | {:.1} | {:.0} | {:.0} | {:.1} | {:.1} | {:.2} | {:.2} | {:.1}% |",
            c.policy,
            c.threads,
            c.spans,
            rec_bytes as f64 / 1024.0,
            n / el,
            n * c.spans as f64 / el,
            st.bytes as f64 / el / 1e6,
            if st.fsyncs > 0 {
                n / st.fsyncs as f64
            } else {
                f64::INFINITY
            },
            p99,
            cpu / el,
            if cpu > 0.0 {
                100.0 * hashing / cpu
            } else {
                0.0
            },
        );
        if let Some(r) = verify_rate {
            verify_line = format!(
                "\n`spanward verify` on the {:.0} MB log just written: {r:.0} MB/s (includes decoding every payload to count spans)",
                st.bytes as f64 / 1e6
            );
        }
    }
    println!("{verify_line}");
    let p = batch(50, 1);
    let (per_rec, _) = hash_cost(&p);
    println!(
        "\nhashing alone (CRC32C + SHA-256 leaf of a {:.1} KiB record, per CPU-second): {:.2} GB/s",
        p.len() as f64 / 1024.0,
        p.len() as f64 / per_rec / 1e9
    );
}
