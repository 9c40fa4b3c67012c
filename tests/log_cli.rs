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
