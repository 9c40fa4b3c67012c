//! Horizontal replicas agree: two `spanward` processes with the same shared configuration (key
//! file, sampling, fingerprints, packs; only listeners, data directory and log origin differ)
//! make the same sampling decisions and produce byte-identical spans (pseudonym tokens and
//! fingerprints included) for the same input, so a load balancer may send any trace anywhere.

mod common;

use common::*;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use std::collections::BTreeMap;

const SHARED: &str = "\
keys: { hmac_key_file: \"KEYFILE\" }
sampling: { ratio: 0.5 }
pipeline: { ack: durable }
";

fn input() -> ExportTraceServiceRequest {
    let spans = (0u32..300)
        .map(|i| {
            // Spread trace ids over the whole space (the sampler reads the low 56 bits).
            let mut t = [0u8; 16];
            for (k, b) in t.iter_mut().enumerate() {
                *b = (i.wrapping_mul(2654435761).rotate_left(k as u32 * 5) >> 3) as u8;
            }
            Span {
                trace_id: t.to_vec(),
                span_id: [i.to_be_bytes(), [7; 4]].concat(),
                name: "execute_tool lookup_customer".into(),
                attributes: vec![
                    kv("gen_ai.operation.name", "execute_tool"),
                    kv(
                        "gen_ai.tool.call.arguments",
                        &format!("{{\"email\":\"user{}@example.org\",\"n\":{i}}}", i % 17),
                    ),
                    kv("gen_ai.tool.call.result", &format!("{{\"orders\":{i}}}")),
                ],
                ..Default::default()
            }
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name", "replicated-agent")],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_make_identical_decisions_tokens_and_fingerprints() {
    let tmp = tempfile::tempdir().unwrap();
    let key = tmp.path().join("hmac.key");
    std::fs::write(
        &key,
        "8f2e1c0d4b3a29180716f5e4d3c2b1a0ffeeddccbbaa99887766554433221100\n",
    )
    .unwrap();
    let shared = SHARED.replace("KEYFILE", &key.display().to_string());

    let mut outputs = Vec::new();
    let mut children = Vec::new();
    for name in ["replica-a", "replica-b"] {
        let (down, daddr) = Downstream::start().await;
        let (grpc, http, admin) = (free_port(), free_port(), free_port());
        let cfg = tmp.path().join(format!("{name}.yaml"));
        std::fs::write(
            &cfg,
            format!(
                "receivers:\n  otlp:\n    grpc: {{ endpoint: \"127.0.0.1:{grpc}\" }}\n    http: {{ endpoint: \"127.0.0.1:{http}\" }}\n\
                 exporters:\n  otlp: {{ endpoint: \"http://{daddr}\" }}\n  file: {{ path: \"{}\" }}\n\
                 admin: {{ endpoint: \"127.0.0.1:{admin}\" }}\n{shared}",
                tmp.path().join(name).display()
            ),
        )
        .unwrap();
        let child = start_binary(
            &cfg,
            format!("127.0.0.1:{admin}").parse().unwrap(),
            &[("SPANWARD_LOG_ORIGIN", name)],
            std::process::Stdio::null(),
        )
        .await;
        let (st, _, _) = http_request(
            format!("127.0.0.1:{http}").parse().unwrap(),
            "POST",
            "/v1/traces",
            &[("content-type", "application/x-protobuf")],
            &input().encode_to_vec(),
        )
        .await
        .unwrap();
        assert_eq!(st, 200);
        stop_binary(child).await;
        let spans: BTreeMap<Vec<u8>, Span> = down
            .spans()
            .into_iter()
            .map(|s| (s.span_id.clone(), s))
            .collect();
        outputs.push(spans);
        children.push(tmp.path().join(name));
    }

    let (a, b) = (&outputs[0], &outputs[1]);
    // About half the traces are kept, and the same half.
    assert!((90..=210).contains(&a.len()), "kept {}", a.len());
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "same sampling decisions"
    );
    // Byte-identical spans: same tracestate threshold, same pseudonyms, same fingerprints.
    for (id, sa) in a {
        let sb = &b[id];
        assert_eq!(sa, sb, "span {} differs between replicas", hex::encode(id));
        let args = str_attr(sa, "gen_ai.tool.call.arguments").unwrap();
        assert!(args.contains("<email:"), "{args}");
        assert!(!args.contains("@example.org"));
        assert_eq!(
            str_attr(sa, spanward::pipeline::fingerprint::INPUT_HASH)
                .unwrap()
                .len(),
            64
        );
        assert!(str_attr(sa, spanward::pipeline::fingerprint::HASH_KEY_ID).is_some());
    }
    // Each replica's log names its own origin in its checkpoints.
    for (dir, name) in children.iter().zip(["replica-a", "replica-b"]) {
        let cp = std::fs::read_to_string(dir.join("checkpoint")).unwrap();
        assert_eq!(cp.lines().next(), Some(name), "{cp}");
    }
}
