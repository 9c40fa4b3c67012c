//! Retention, inclusion proofs, `log cat` and the CLI run functions.

mod log_support;

use std::process::ExitCode;
use std::time::Duration;

use log_support::*;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use spanward::cli::log as cli;
use spanward::sink::log::verify::{cat, prove, verify_dir, verify_proof};
use spanward::sink::log::LogSink;

#[test]
fn retention_deletes_old_payloads_but_proofs_and_verify_still_work() {
    let (env, vkey) = key_env();
    let tmp = tempfile::tempdir().unwrap();
    let mut cfg = config(tmp.path());
    cfg.segment_bytes = 64 << 10;
    cfg.retention_max_bytes = Some(200 << 10);
    cfg.checkpoint_interval = Duration::from_millis(100);
    let s = LogSink::open(&cfg, &env, false).unwrap();
    let payload = vec![b'r'; 8 << 10];
    for _ in 0..100 {
        s.append(&payload).unwrap();
    }
    s.checkpoint().unwrap();
    // Retention runs in the background, periodically, once a checkpoint covers the sealed
    // segments; a pass may run while appends are still sealing segments, so wait for the bound.
    let seg_total = || -> u64 {
        segments(tmp.path())
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !(tmp.path().join("pruned").exists() && seg_total() <= (200 << 10) + (64 << 10)) {
        assert!(
            std::time::Instant::now() < deadline,
            "retention did not bring the log under its bound: {} bytes",
            seg_total()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    s.close().unwrap();
    drop(s);
    let total = seg_total();
    assert!(total <= (200 << 10) + (64 << 10), "{total} bytes kept");
    let rep = verify_dir(
        tmp.path(),
        Some(std::slice::from_ref(&vkey)),
        &mut |_, _| {},
    )
    .unwrap();
    assert_eq!(rep.tree_size, 100);
    assert!(rep.pruned_records > 0 && rep.records < 100);
    // Proofs for a deleted record (leaf hash kept) and for a present one.
    for seq in [0, 99] {
        let p = prove(tmp.path(), seq).unwrap();
        verify_proof(&p, Some(std::slice::from_ref(&vkey))).unwrap();
    }
    // Reopen works on a pruned log.
    let s = LogSink::open(&cfg, &env, false).unwrap();
    assert_eq!(s.append(b"more").unwrap().seq, 100);
    s.close().unwrap();
    verify_dir(tmp.path(), Some(&[vkey]), &mut |_, _| {}).unwrap();
}

#[test]
fn inclusion_proofs_verify_and_tampered_proofs_do_not() {
    let (env, vkey) = key_env();
    let tmp = tempfile::tempdir().unwrap();
    let s = LogSink::open(&config(tmp.path()), &env, false).unwrap();
    for i in 0..37 {
        s.append(&otlp_bytes(&format!("p{i}"), 1)).unwrap();
    }
    s.close().unwrap();
    for seq in 0..37 {
        let p = prove(tmp.path(), seq).unwrap();
        assert_eq!(p.tree_size, 37);
        verify_proof(&p, Some(std::slice::from_ref(&vkey))).unwrap();
        // Another record's position, another leaf, or a changed path fails.
        let mut q = p.clone();
        q.seq = (seq + 1) % 37;
        assert!(verify_proof(&q, None).is_err());
        if !p.proof.is_empty() {
            let mut q = p.clone();
            q.proof[0] = p.leaf_hash.clone();
            assert!(verify_proof(&q, None).is_err());
        }
    }
    let p = prove(tmp.path(), 5).unwrap();
    let (_, other) = key_env();
    assert!(
        verify_proof(&p, Some(&[other])).is_err(),
        "wrong key accepted"
    );
    // Past the end: the record count, not damage at a byte offset.
    let past = prove(tmp.path(), 37).unwrap_err();
    assert!(
        matches!(
            past,
            spanward::sink::log::verify::ProveError::PastEnd { seq: 37, .. }
        ),
        "{past:?}"
    );
    let msg = past.to_string();
    assert!(
        msg.contains("no record 37") && msg.contains("covers"),
        "{msg}"
    );
    assert!(!msg.contains("byte offset"), "{msg}");
}

#[test]
fn cat_prints_otlp_json_that_round_trips() {
    let (env, _) = key_env();
    let tmp = tempfile::tempdir().unwrap();
    let s = LogSink::open(&config(tmp.path()), &env, false).unwrap();
    let reqs: Vec<ExportTraceServiceRequest> =
        (0..5).map(|i| otlp(&format!("c{i}"), i + 1)).collect();
    for r in &reqs {
        s.append(&prost::Message::encode_to_vec(r)).unwrap();
    }
    s.close().unwrap();
    let mut out = Vec::new();
    let (n, skipped) = cat(tmp.path(), 2, &mut out).unwrap();
    assert_eq!((n, skipped), (3, 0));
    let text = String::from_utf8(out).unwrap();
    let back: Vec<ExportTraceServiceRequest> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(back, reqs[2..].to_vec());
    assert!(text.contains("\"resourceSpans\""), "OTLP JSON field names");
}

#[test]
fn cli_keygen_verify_prove_and_verify_proof() {
    let tmp = tempfile::tempdir().unwrap();
    let keyfile = tmp.path().join("log.key");
    let code = cli::run_keygen(&cli::SigningKeygenArgs {
        signing: true,
        name: "audit.example/spans".into(),
        out: Some(keyfile.clone()),
    })
    .unwrap();
    assert_eq!(code, ExitCode::SUCCESS);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&keyfile).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let pubfile = tmp.path().join("log.key.pub");
    assert!(std::fs::read_to_string(&pubfile)
        .unwrap()
        .starts_with("audit.example/spans+"));

    let dir = tmp.path().join("log");
    let mut cfg = config(&dir);
    cfg.signing_key_file = Some(keyfile.clone());
    let env: std::collections::HashMap<String, String> = Default::default();
    let s = LogSink::open(&cfg, &env, false).unwrap();
    assert_eq!(s.origin(), "audit.example/spans");
    for i in 0..10 {
        s.append(&otlp_bytes(&format!("k{i}"), 2)).unwrap();
    }
    s.close().unwrap();

    let ok = cli::run_verify(&cli::VerifyArgs {
        dir: dir.clone(),
        pubkey: Some(pubfile.clone()),
        quiet: true,
    })
    .unwrap();
    assert_eq!(ok, ExitCode::SUCCESS);
    // A key that did not sign: verify fails.
    let other = tmp.path().join("other.key");
    cli::run_keygen(&cli::SigningKeygenArgs {
        signing: true,
        name: "audit.example/spans".into(),
        out: Some(other.clone()),
    })
    .unwrap();
    let bad = cli::run_verify(&cli::VerifyArgs {
        dir: dir.clone(),
        pubkey: Some(tmp.path().join("other.key.pub")),
        quiet: true,
    })
    .unwrap();
    assert_eq!(bad, ExitCode::FAILURE);

    let proof = prove(&dir, 4).unwrap();
    let pf = tmp.path().join("proof.json");
    std::fs::write(&pf, serde_json::to_string(&proof).unwrap()).unwrap();
    let ok = cli::run_verify_proof(&cli::VerifyProofArgs {
        proof: Some(pf.clone()),
        pubkey: Some(pubfile),
    })
    .unwrap();
    assert_eq!(ok, ExitCode::SUCCESS);
    let bad = cli::run_verify_proof(&cli::VerifyProofArgs {
        proof: Some(pf),
        pubkey: Some(tmp.path().join("other.key.pub")),
    })
    .unwrap();
    assert_eq!(bad, ExitCode::FAILURE);
    // keygen never overwrites an existing key.
    assert!(cli::run_keygen(&cli::SigningKeygenArgs {
        signing: true,
        name: "x".into(),
        out: Some(keyfile),
    })
    .is_err());
}

// ---- Record kinds: traces, logs and metrics in one log. ----

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    metric, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
};
use spanward::sink::log::verify::cat_signal;
use spanward::sink::{Delivery, Sink};
use spanward::vocab::Signal;

fn log_batch(tag: &str, n: usize) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: (0..n)
                    .map(|i| LogRecord {
                        event_name: "gen_ai.client.inference.operation.details".into(),
                        severity_text: format!("{tag}-{i}"),
                        trace_id: vec![3; 16],
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn metric_batch(points: usize) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: "gen_ai.client.token.usage".into(),
                    data: Some(metric::Data::Sum(Sum {
                        data_points: (0..points)
                            .map(|i| NumberDataPoint {
                                time_unix_nano: i as u64 + 1,
                                ..Default::default()
                            })
                            .collect(),
                        aggregation_temporality: 2,
                        is_monotonic: true,
                    })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// Writes, through the `Sink` interface as the workers do: trace 0, logs 1, metrics 2, trace 3,
/// logs 4. Returns the requests.
fn mixed_log(
    dir: &std::path::Path,
) -> (
    Vec<ExportTraceServiceRequest>,
    Vec<ExportLogsServiceRequest>,
    ExportMetricsServiceRequest,
) {
    let (env, _) = key_env();
    let s = LogSink::open(&config(dir), &env, false).unwrap();
    let traces = vec![otlp("t0", 2), otlp("t3", 1)];
    let logs = vec![log_batch("l1", 3), log_batch("l4", 1)];
    let metrics = metric_batch(4);
    let enc = |m: &dyn Fn() -> Vec<u8>| bytes::Bytes::from(m());
    let writes: Vec<(Signal, bytes::Bytes, usize)> = vec![
        (
            Signal::Traces,
            enc(&|| prost::Message::encode_to_vec(&traces[0])),
            2,
        ),
        (
            Signal::Logs,
            enc(&|| prost::Message::encode_to_vec(&logs[0])),
            3,
        ),
        (
            Signal::Metrics,
            enc(&|| prost::Message::encode_to_vec(&metrics)),
            4,
        ),
        (
            Signal::Traces,
            enc(&|| prost::Message::encode_to_vec(&traces[1])),
            1,
        ),
        (
            Signal::Logs,
            enc(&|| prost::Message::encode_to_vec(&logs[1])),
            1,
        ),
    ];
    for (sig, b, n) in &writes {
        assert_eq!(s.write(*sig, b, *n).unwrap(), Delivery::Durable);
    }
    let st = s.stats();
    assert_eq!((st.spans, st.log_records, st.metric_points), (3, 4, 4));
    s.close().unwrap();
    (traces, logs, metrics)
}

/// Trace records stay bare (byte-for-byte what a traces-only log stored); logs and metrics
/// carry their kind header; all five records verify and prove, and the log reopens.
#[test]
fn kinds_share_one_tree_verify_prove_and_reopen() {
    let tmp = tempfile::tempdir().unwrap();
    let (traces, logs, metrics) = mixed_log(tmp.path());
    let all = read_all(tmp.path());
    assert_eq!(all.len(), 5);
    assert_eq!(all[0].1, prost::Message::encode_to_vec(&traces[0]));
    assert_eq!(&all[1].1[..2], &[0, 2]);
    assert_eq!(&all[1].1[2..], prost::Message::encode_to_vec(&logs[0]));
    assert_eq!(&all[2].1[..2], &[0, 3]);
    assert_eq!(&all[2].1[2..], prost::Message::encode_to_vec(&metrics));

    let rep = verify_dir(tmp.path(), None, &mut |_, _| {}).unwrap();
    assert_eq!(rep.records, 5);
    assert_eq!((rep.spans, rep.log_records, rep.metric_points), (3, 4, 4));
    assert_eq!((rep.log_batches, rep.metric_batches), (2, 1));
    assert_eq!(rep.undecodable_payloads, 0);
    for seq in 0..5 {
        verify_proof(&prove(tmp.path(), seq).unwrap(), None).unwrap();
    }

    // Recovery reads across kinds: reopen, append once more, everything still verifies.
    let (env, _) = key_env();
    let s = LogSink::open(&config(tmp.path()), &env, false).unwrap();
    s.write(
        Signal::Metrics,
        &prost::Message::encode_to_vec(&metric_batch(1)).into(),
        1,
    )
    .unwrap();
    s.close().unwrap();
    let rep = verify_dir(tmp.path(), None, &mut |_, _| {}).unwrap();
    assert_eq!((rep.records, rep.metric_points), (6, 5));
    verify_proof(&prove(tmp.path(), 5).unwrap(), None).unwrap();
}

/// A flipped kind byte is damage like any other bit: `verify` names the record.
#[test]
fn a_flipped_kind_byte_fails_verify() {
    let tmp = tempfile::tempdir().unwrap();
    mixed_log(tmp.path());
    let seg = segments(tmp.path()).remove(0);
    let spans = record_spans(&seg);
    let (off, _) = spans[1];
    let mut bytes = std::fs::read(&seg).unwrap();
    // Record prefix (len, len check) is 8 bytes; then the header 0x00 0x02.
    let at = off as usize + 8 + 1;
    assert_eq!(bytes[at], 2);
    bytes[at] = 3;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&seg, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::write(&seg, bytes).unwrap();
    let f = verify_dir(tmp.path(), None, &mut |_, _| {}).unwrap_err();
    assert_eq!((f.file.clone(), f.offset), (seg, off), "{f}");
}

/// `log cat` prints each record in its signal's OTLP/JSON, traces exactly as before kinds, and
/// `--signal` keeps one signal's.
#[test]
fn cat_prints_each_kind_in_its_own_otlp_json() {
    let tmp = tempfile::tempdir().unwrap();
    let (traces, logs, metrics) = mixed_log(tmp.path());
    let mut out = Vec::new();
    let r = cat_signal(tmp.path(), 0, None, &mut out).unwrap();
    assert_eq!((r.traces, r.logs, r.metrics, r.skipped), (2, 2, 1, 0));
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5);
    // Traces: the same bytes the traces-only `log cat` printed.
    assert_eq!(lines[0], serde_json::to_string(&traces[0]).unwrap());
    assert_eq!(lines[3], serde_json::to_string(&traces[1]).unwrap());
    assert!(lines[1].starts_with("{\"resourceLogs\":"), "{}", lines[1]);
    assert!(
        lines[2].starts_with("{\"resourceMetrics\":"),
        "{}",
        lines[2]
    );
    let l1: ExportLogsServiceRequest = serde_json::from_str(lines[1]).unwrap();
    let l4: ExportLogsServiceRequest = serde_json::from_str(lines[4]).unwrap();
    assert_eq!(vec![l1, l4], logs);
    let m: ExportMetricsServiceRequest = serde_json::from_str(lines[2]).unwrap();
    assert_eq!(m, metrics);
    // OTLP/JSON: trace ids in hex, enum and 64-bit numbers as OTLP/JSON writes them.
    assert!(lines[1].contains(&"03".repeat(16)), "{}", lines[1]);

    // The old entry point prints the same five lines.
    let mut old = Vec::new();
    assert_eq!(cat(tmp.path(), 0, &mut old).unwrap(), (5, 0));
    assert_eq!(String::from_utf8(old).unwrap(), text);

    let mut only = Vec::new();
    let r = cat_signal(tmp.path(), 1, Some(Signal::Logs), &mut only).unwrap();
    assert_eq!((r.logs, r.traces, r.metrics, r.filtered), (2, 0, 0, 2));
    let only = String::from_utf8(only).unwrap();
    assert_eq!(only.lines().collect::<Vec<_>>(), [lines[1], lines[4]]);
}

/// A log written before record kinds existed (bare trace payloads, appended raw) reads,
/// verifies and proves as it did, also with kinds appended after it; a record of an unknown
/// kind is reported, never taken for traces.
#[test]
fn a_traces_only_log_reads_unchanged_and_unknown_kinds_are_skipped() {
    let (env, _) = key_env();
    let tmp = tempfile::tempdir().unwrap();
    let s = LogSink::open(&config(tmp.path()), &env, false).unwrap();
    let old: Vec<ExportTraceServiceRequest> = (0..3).map(|i| otlp(&format!("o{i}"), 2)).collect();
    for r in &old {
        s.append(&prost::Message::encode_to_vec(r)).unwrap();
    }
    s.append_request(
        Signal::Logs,
        &prost::Message::encode_to_vec(&log_batch("n", 2)),
    )
    .unwrap();
    // A later version's kind 9.
    s.append(&[0, 9, 1, 2, 3]).unwrap();
    s.close().unwrap();
    let rep = verify_dir(tmp.path(), None, &mut |_, _| {}).unwrap();
    assert_eq!((rep.records, rep.spans, rep.log_records), (5, 6, 2));
    assert_eq!(rep.undecodable_payloads, 1);
    verify_proof(&prove(tmp.path(), 4).unwrap(), None).unwrap();
    let mut out = Vec::new();
    let r = cat_signal(tmp.path(), 0, None, &mut out).unwrap();
    assert_eq!((r.traces, r.logs, r.skipped), (3, 1, 1));
    let text = String::from_utf8(out).unwrap();
    let back: Vec<ExportTraceServiceRequest> = text
        .lines()
        .take(3)
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(back, old);
}

/// The binary: `log cat --signal metrics` prints that signal only and says on stderr what it
/// printed; `verify` prints the per-kind line; a bad `--signal` is refused.
#[test]
fn cli_log_cat_signal_and_verify_name_the_kinds() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, _, metrics) = mixed_log(tmp.path());
    let bin = env!("CARGO_BIN_EXE_spanward");
    let out = std::process::Command::new(bin)
        .args(["log", "cat"])
        .arg(tmp.path())
        .args(["--signal", "metrics"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let m: ExportMetricsServiceRequest = serde_json::from_str(stdout.trim_end()).unwrap();
    assert_eq!(m, metrics);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("printed 0 trace, 0 log and 1 metric requests")
            && stderr.contains("4 records of other signals left out"),
        "{stderr}"
    );
    let out = std::process::Command::new(bin)
        .arg("verify")
        .arg(tmp.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.starts_with("OK: 5 records (3 spans,"), "{stdout}");
    assert!(
        stdout.contains(
            "of which 2 log batches (4 log records) and 1 metric batches (4 data points)"
        ),
        "{stdout}"
    );
    let out = std::process::Command::new(bin)
        .args(["log", "cat"])
        .arg(tmp.path())
        .args(["--signal", "profiles"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}
