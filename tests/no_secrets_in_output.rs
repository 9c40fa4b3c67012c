//! Nothing we print leaks what we scrub: the full pipeline runs at debug log level over the
//! labelled corpus; no secret or PII value from it appears in spanward's logs, its metrics, or
//! its error responses (also for requests it refuses). The corpus is the project's own
//! (`tests/corpus`), with the shared one added when `../shared/` is beside the checkout.

mod common;
mod corpus;

use common::*;
use prost::Message;

/// The project's own corpus, plus the shared one when it is beside the checkout (an extra).
fn corpus() -> Vec<corpus::Record> {
    let mut records = corpus::own().1;
    if let Some((_, shared)) = corpus::shared("no_secrets_in_output") {
        records.extend(shared);
    }
    records
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_metrics_and_errors_carry_no_corpus_secret() {
    let records = corpus();
    let secrets: Vec<String> = records
        .iter()
        .flat_map(|r| r.secrets.iter())
        .map(|(_, v)| v.clone())
        .filter(|v| v.len() >= 6)
        .collect();
    assert!(secrets.len() > 1000);

    let (down, daddr) = Downstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let port = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let (pg, ph, pa) = (port(), port(), port());
    let cfg = dir.path().join("spanward.yaml");
    std::fs::write(
        &cfg,
        format!(
            "receivers:\n  otlp:\n    grpc: {{ endpoint: \"127.0.0.1:{pg}\" }}\n    http: {{ endpoint: \"127.0.0.1:{ph}\" }}\nexporters:\n  otlp: {{ endpoint: \"http://{daddr}\" }}\n  file: {{ path: \"{}\" }}\nadmin: {{ endpoint: \"127.0.0.1:{pa}\" }}\nlogging: {{ level: debug }}\naudit: {{ enabled: true }}\npipeline: {{ summary_interval: 200ms }}\n",
            dir.path().join("data").display()
        ),
    )
    .unwrap();
    let log_path = dir.path().join("spanward.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let admin: std::net::SocketAddr = format!("127.0.0.1:{pa}").parse().unwrap();
    let child = start_binary(&cfg, admin, &[], log.into()).await;

    // Every payload as a span attribute, an event attribute and part of the span name.
    let mut c = grpc_client(format!("127.0.0.1:{pg}").parse().unwrap()).await;
    let mut sent = 0;
    for (chunk_no, chunk) in records.chunks(100).enumerate() {
        let mut req = request(chunk.len(), chunk_no as u8);
        for (span, rec) in req.resource_spans[0].scope_spans[0]
            .spans
            .iter_mut()
            .zip(chunk)
        {
            let text = rec.text.as_str();
            span.attributes.push(kv(&rec.key, text));
            span.events
                .push(opentelemetry_proto::tonic::trace::v1::span::Event {
                    name: "gen_ai.user.message".into(),
                    attributes: vec![kv("content", text)],
                    ..Default::default()
                });
            span.name = format!("execute_tool {}", &text[..text.len().min(200)]);
        }
        c.export(req).await.unwrap();
        sent += chunk.len();
    }
    // Requests it refuses: malformed JSON and protobuf that quote secrets.
    let mut error_bodies = Vec::new();
    let channel = tonic::transport::Channel::from_shared(format!("http://127.0.0.1:{pg}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    for s in secrets.iter().take(50) {
        let (_, h, b) = http_request(
            format!("127.0.0.1:{ph}").parse().unwrap(),
            "POST",
            "/v1/traces",
            &[("content-type", "application/json")],
            format!("{{\"resourceSpans\": [{{\"{s}\": [1, 2").as_bytes(),
        )
        .await
        .unwrap();
        error_bodies.push(String::from_utf8_lossy(&b).into_owned());
        error_bodies.extend(h.into_iter().map(|(k, v)| format!("{k}: {v}")));
        // The secret where a value of another type belongs: decoders like to quote those.
        let quoted = serde_json::to_string(s).unwrap();
        for body in [
            format!("{{\"resourceSpans\":[{{\"scopeSpans\":[{{\"spans\":[{{\"kind\":{quoted}}}]}}]}}]}}"),
            format!("{{\"resourceSpans\":[{{\"scopeSpans\":[{{\"spans\":[{{\"traceId\":{quoted}}}]}}]}}]}}"),
            format!("{{\"resourceSpans\":[{{\"scopeSpans\":[{{\"spans\":[{{\"attributes\":[{{\"key\":\"k\",\"value\":{{\"doubleValue\":{quoted}}}}}]}}]}}]}}]}}"),
        ] {
            let (st, _, b) = http_request(
                format!("127.0.0.1:{ph}").parse().unwrap(),
                "POST",
                "/v1/traces",
                &[("content-type", "application/json")],
                body.as_bytes(),
            )
            .await
            .unwrap();
            // A numeric secret (a card number) is a valid `doubleValue` string: accepted.
            assert!(st == 400 || st == 200, "status {st}");
            error_bodies.push(String::from_utf8_lossy(&b).into_owned());
        }
        // Malformed protobuf over gRPC: the status message goes back to the client too.
        // The secret inside a `resource_spans` field whose length runs past the end.
        let mut raw = request(1, 201).encode_to_vec();
        raw.push(0x0a);
        prost::encoding::encode_varint(s.len() as u64 + 64, &mut raw);
        raw.extend_from_slice(s.as_bytes());
        let st = spanward::sink::otlp::export_raw_with(
            channel.clone(),
            raw.into(),
            false,
            std::time::Duration::from_secs(10),
            None,
        )
        .await
        .expect_err("malformed protobuf is refused");
        error_bodies.push(format!("{st:?}"));
        let mut bad = request(1, 200).encode_to_vec();
        bad.extend_from_slice(s.as_bytes());
        let (_, _, b) = http_request(
            format!("127.0.0.1:{ph}").parse().unwrap(),
            "POST",
            "/v1/traces",
            &[("content-type", "application/x-protobuf")],
            &bad,
        )
        .await
        .unwrap();
        error_bodies.push(String::from_utf8_lossy(&b).into_owned());
    }
    down.wait_spans(sent, 60).await;
    let metrics = http_get(admin, "/metrics").await.unwrap().1;
    stop_binary(child).await;

    let logs = std::fs::read_to_string(&log_path).unwrap();
    assert!(logs.contains("DEBUG"), "the run must log at debug level");
    let errors = error_bodies.join("\n");
    for s in &secrets {
        assert!(
            !logs.contains(s.as_str()),
            "a corpus secret appears in the logs"
        );
        assert!(
            !metrics.contains(s.as_str()),
            "a corpus secret appears in /metrics"
        );
        assert!(
            !errors.contains(s.as_str()),
            "a corpus secret appears in an error response"
        );
    }
}
