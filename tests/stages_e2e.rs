//! Sampling, fingerprints and the audit trail through the running service, fed by the
//! OpenTelemetry Python SDK.

mod common;

use common::*;
use spanward::pipeline::fingerprint::{HASH_KEY_ID, INPUT_HASH, OUTPUT_HASH};

const KEY: &str = "keys: { hmac_key_file: \"KEYFILE\" }\n";

fn key_file(dir: &std::path::Path) -> String {
    let p = dir.join("hmac.key");
    std::fs::write(
        &p,
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
    )
    .unwrap();
    KEY.replace("KEYFILE", &p.display().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn execute_tool_gets_hashes_and_one_audit_record() {
    let tmp = tempfile::tempdir().unwrap();
    let audit = tmp.path().join("audit.jsonl");
    let (down, daddr) = Downstream::start().await;
    let extra = format!(
        "{}audit: {{ enabled: true, log: false, file: {{ path: \"{}\" }} }}\n",
        key_file(tmp.path()),
        audit.display()
    );
    let svc = Service::start(Some(daddr), &extra).await;
    let tid = emit_genai(
        "grpc",
        svc.grpc_url(),
        "fp",
        &[
            "--email",
            "ada@example.org",
            "--card",
            "4111 1111 1111 1111",
        ],
    )
    .await;
    down.wait_spans(3, 30).await;
    let spans = down.spans();
    let tool = spans
        .iter()
        .find(|s| s.name == "execute_tool refund" && hex::encode(&s.trace_id) == tid)
        .unwrap();
    let ih = str_attr(tool, INPUT_HASH).expect("input hash");
    let oh = str_attr(tool, OUTPUT_HASH).expect("output hash");
    assert_eq!(ih.len(), 64);
    assert_ne!(ih, oh);
    assert!(str_attr(tool, HASH_KEY_ID).is_some());
    svc.stop().await;

    let text = std::fs::read_to_string(&audit).unwrap();
    let records: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|r: &serde_json::Value| r["span_id"] == hex::encode(&tool.span_id))
        .collect();
    assert_eq!(
        records.len(),
        1,
        "exactly one audit record for the tool span"
    );
    assert_eq!(records[0]["input_hash"], ih.as_str());
    assert_eq!(records[0]["output_hash"], oh.as_str());
    assert_eq!(records[0]["operation"], "execute_tool");
    // `redaction.types` is the service's redaction engine's summary for this span: the email
    // in the result and tags, the card in the arguments.
    let types = str_attr(tool, "redaction.types").expect("span redaction summary");
    assert_eq!(records[0]["redaction.types"], types.as_str());
    for t in ["email", "credit_card"] {
        assert!(
            types.split(',').any(|x| x.split(':').next() == Some(t)),
            "{t} not in {types}"
        );
    }
    // The audit chain is anchored in what the sinks store: every forwarded resource carries the
    // chain head, which is the SHA-256 of an audit line.
    use sha2::Digest;
    let line_hashes: Vec<String> = text
        .lines()
        .map(|l| hex::encode(sha2::Sha256::digest(l.as_bytes())))
        .collect();
    let heads: Vec<String> = down
        .received
        .lock()
        .unwrap()
        .iter()
        .flat_map(|r| r.resource_spans.iter())
        .filter_map(|rs| {
            rs.resource.as_ref()?.attributes.iter().find_map(|kv| {
                (kv.key == spanward::pipeline::stages::AUDIT_CHAIN_HEAD).then(|| {
                    match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                        Some(
                            opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(
                                s,
                            ),
                        ) => s.clone(),
                        _ => String::new(),
                    }
                })
            })
        })
        .collect();
    assert!(!heads.is_empty());
    assert!(
        heads.iter().all(|h| line_hashes.contains(h)),
        "chain head is not an audit line's hash"
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_spanward"))
        .arg("audit-verify")
        .arg(&audit)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // Never a payload. The card is searched for whole (spaced and unspaced): the file holds
    // 64-hex digests of random trace ids, so a short digit run like "4111" can occur in them.
    for needle in [
        "ada@example.org",
        "4111 1111 1111 1111",
        "4111111111111111",
        "refund card",
    ] {
        assert!(
            !text.contains(needle),
            "audit file holds payload text {needle:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hash_only_removes_content_and_keeps_hashes() {
    let tmp = tempfile::tempdir().unwrap();
    let (down, daddr) = Downstream::start().await;
    let extra = format!(
        "{}fingerprint: {{ content: {{ input: hash_only, output: hash_only }} }}\n",
        key_file(tmp.path())
    );
    let svc = Service::start(Some(daddr), &extra).await;
    emit_genai("http", format!("http://{}/v1/traces", svc.http), "ho", &[]).await;
    down.wait_spans(3, 30).await;
    let spans = down.spans();
    let tool = spans
        .iter()
        .find(|s| s.name == "execute_tool refund")
        .unwrap();
    assert!(str_attr(tool, "gen_ai.tool.call.arguments").is_none());
    assert!(str_attr(tool, "gen_ai.tool.call.result").is_none());
    assert!(str_attr(tool, INPUT_HASH).is_some());
    assert!(str_attr(tool, OUTPUT_HASH).is_some());
    svc.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sampling_happens_before_the_queue_and_is_counted() {
    let (down, daddr) = Downstream::start().await;
    let svc = Service::start(Some(daddr), "sampling: { ratio: 0.5 }\n").await;
    let mut c = grpc_client(svc.grpc).await;
    // 64 traces of 4 spans each: whole traces are kept or dropped together.
    let mut total = 0;
    for seed in 0..64u8 {
        let mut r = request(4, seed);
        for s in &mut r.resource_spans[0].scope_spans[0].spans {
            s.trace_id = {
                let mut t = vec![0u8; 16];
                t[9..].copy_from_slice(&[
                    seed.wrapping_mul(37),
                    seed,
                    7,
                    seed ^ 0x5a,
                    3,
                    seed.wrapping_mul(11),
                    1,
                ]);
                t
            };
        }
        c.export(r).await.unwrap();
        total += 4;
    }
    let m = svc.metrics().await;
    let sampled = metric_value(
        &m,
        "spanward_pipeline_dropped_spans_total",
        &["reason=\"sampled\""],
    );
    assert_eq!(
        metric_value(&m, "spanward_receiver_accepted_spans_total", &[]),
        total as f64
    );
    assert!(
        sampled > 0.0 && sampled < total as f64,
        "sampled {sampled} of {total}"
    );
    assert_eq!(sampled as usize % 4, 0, "traces are sampled whole");
    down.wait_spans(total - sampled as usize, 10).await;
    for s in down.spans() {
        assert!(
            s.trace_state.contains("ot=th:8"),
            "threshold written: {}",
            s.trace_state
        );
    }
    svc.stop().await;
    assert_eq!(down.span_count(), total - sampled as usize);
}
