//! The OTLP exporter retries retryable failures, gives up after `max_elapsed_time` counting the
//! spans as `export_failed`, and with `ack: durable` the client learns the batch was not stored.
//! It honours `RetryInfo` (never retrying earlier), treats RESOURCE_EXHAUSTED without it as
//! permanent, `compression: gzip` really compresses, and an oversized answer is not buffered.

mod common;

use common::*;
use prost::Message;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_then_gives_up_and_counts() {
    let (down, daddr) = Downstream::start().await;
    down.fail_unavailable.store(true, Ordering::Release);
    // A short give-up time on the exporter, so the test does not wait a minute.
    let data = tempfile::tempdir().unwrap();
    let yaml = format!(
        "receivers:\n  otlp:\n    grpc: {{ endpoint: \"127.0.0.1:0\" }}\n    http: {{ endpoint: \"127.0.0.1:0\" }}\nexporters:\n  otlp:\n    endpoint: \"http://{daddr}\"\n    retry: {{ initial_interval: 10ms, max_interval: 50ms, max_elapsed_time: 400ms }}\nadmin: {{ endpoint: \"127.0.0.1:0\" }}\npipeline: {{ workers: 1 }}\n"
    );
    let svc = Service::start_yaml(&yaml, data).await;
    let mut c = grpc_client(svc.grpc).await;
    c.export(request(4, 1)).await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let m = svc.metrics().await;
        let dropped = metric_value(
            &m,
            "spanward_pipeline_dropped_spans_total",
            &["reason=\"export_failed\""],
        );
        if dropped == 4.0 {
            assert_eq!(
                metric_value(
                    &m,
                    "spanward_exporter_send_failed_spans_total",
                    &["exporter=\"otlp\""]
                ),
                4.0
            );
            assert_eq!(
                metric_value(&m, "spanward_pipeline_delivered_spans_total", &[]),
                0.0
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "export_failed never counted"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // The next stage comes back: later batches flow again.
    down.fail_unavailable.store(false, Ordering::Release);
    c.export(request(3, 2)).await.unwrap();
    down.wait_spans(3, 10).await;
    svc.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn durable_ack_waits_for_the_sinks() {
    let (down, daddr) = Downstream::start().await;
    let data = tempfile::tempdir().unwrap();
    let yaml = format!(
        "receivers:\n  otlp:\n    grpc: {{ endpoint: \"127.0.0.1:0\" }}\n    http: {{ endpoint: \"127.0.0.1:0\" }}\nexporters:\n  otlp:\n    endpoint: \"http://{daddr}\"\n    retry: {{ initial_interval: 10ms, max_interval: 50ms, max_elapsed_time: 300ms }}\nadmin: {{ endpoint: \"127.0.0.1:0\" }}\npipeline: {{ ack: durable }}\n"
    );
    let svc = Service::start_yaml(&yaml, data).await;
    let mut c = grpc_client(svc.grpc).await;
    // OK means the next stage has it already.
    c.export(request(5, 1)).await.unwrap();
    assert_eq!(down.span_count(), 5);
    // A failing next stage: the client is told to retry, not OK.
    down.fail_unavailable.store(true, Ordering::Release);
    let err = c.export(request(5, 2)).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unavailable);
    assert!(spanward::rpc_status::retry_delay(&err).is_some());
    svc.stop().await;
}

/// A service forwarding only to `daddr` (no file sink), stages off, one worker, with the
/// exporter's `otlp_extra` YAML (flow mapping entries) added.
async fn forwarding_service(daddr: std::net::SocketAddr, otlp_extra: &str) -> Service {
    let data = tempfile::tempdir().unwrap();
    let yaml = format!(
        "receivers:\n  otlp:\n    grpc: {{ endpoint: \"127.0.0.1:0\" }}\n    http: {{ endpoint: \"127.0.0.1:0\" }}\nexporters:\n  otlp: {{ endpoint: \"http://{daddr}\", {otlp_extra} }}\nadmin: {{ endpoint: \"127.0.0.1:0\" }}\npipeline: {{ workers: 1 }}\n{PASS_THROUGH}"
    );
    Service::start_yaml(&yaml, data).await
}

/// `RetryInfo` from the next stage (on UNAVAILABLE and on RESOURCE_EXHAUSTED) sets when the
/// exporter retries: never earlier than asked, although its own backoff is far shorter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_info_delay_is_honoured() {
    let delay = Duration::from_millis(400);
    let (down, daddr) = Downstream::start().await;
    down.script.lock().unwrap().extend([
        (tonic::Code::Unavailable, Some(delay)),
        (tonic::Code::ResourceExhausted, Some(delay)),
        (tonic::Code::Unavailable, Some(delay)),
    ]);
    let svc = forwarding_service(
        daddr,
        "retry: { initial_interval: 5ms, max_interval: 10ms, max_elapsed_time: 30s }",
    )
    .await;
    let mut c = grpc_client(svc.grpc).await;
    c.export(request(3, 1)).await.unwrap();
    down.wait_spans(3, 20).await;
    let t = down.call_times();
    assert_eq!(t.len(), 4, "three refusals, then the delivery");
    for w in t.windows(2) {
        let gap = w[1] - w[0];
        assert!(
            gap >= delay,
            "retried after {gap:?}, RetryInfo asked {delay:?}"
        );
        // Jitter adds at most 20 %; the rest is slack for a loaded machine.
        assert!(gap < delay * 3, "retried only after {gap:?}");
    }
    svc.wait_metric("spanward_pipeline_delivered_spans_total", &[], 3.0)
        .await;
    svc.stop().await;
}

/// RESOURCE_EXHAUSTED without RetryInfo is not retryable (OTLP spec): one attempt, the spans
/// count as `export_failed` at once. UNAVAILABLE without RetryInfo is retried with backoff.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_exhausted_without_retry_info_is_permanent() {
    let (down, daddr) = Downstream::start().await;
    down.script
        .lock()
        .unwrap()
        .push_back((tonic::Code::ResourceExhausted, None));
    let svc = forwarding_service(
        daddr,
        "retry: { initial_interval: 10ms, max_interval: 20ms, max_elapsed_time: 30s }",
    )
    .await;
    let mut c = grpc_client(svc.grpc).await;
    let started = Instant::now();
    c.export(request(4, 1)).await.unwrap();
    svc.wait_metric(
        "spanward_pipeline_dropped_spans_total",
        &["reason=\"export_failed\""],
        4.0,
    )
    .await;
    // Long before max_elapsed_time: it gave up on the first answer.
    assert!(started.elapsed() < Duration::from_secs(10));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(down.call_times().len(), 1, "RESOURCE_EXHAUSTED was retried");
    assert_eq!(down.span_count(), 0);

    // The contrast: UNAVAILABLE without RetryInfo is retried and then delivered.
    down.script
        .lock()
        .unwrap()
        .push_back((tonic::Code::Unavailable, None));
    c.export(request(2, 2)).await.unwrap();
    down.wait_spans(2, 10).await;
    assert_eq!(down.call_times().len(), 3);
    svc.stop().await;
}

/// A TCP relay that counts the bytes sent towards `to`.
async fn counting_relay(to: std::net::SocketAddr) -> (std::net::SocketAddr, Arc<AtomicU64>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let count = Arc::new(AtomicU64::new(0));
    let c = count.clone();
    tokio::spawn(async move {
        while let Ok((inbound, _)) = l.accept().await {
            let outbound = tokio::net::TcpStream::connect(to).await.unwrap();
            let (mut ir, mut iw) = inbound.into_split();
            let (mut or, mut ow) = outbound.into_split();
            let c = c.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 << 10];
                loop {
                    match ir.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            c.fetch_add(n as u64, Ordering::Relaxed);
                            if ow.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                    }
                }
                let _ = ow.shutdown().await;
            });
            tokio::spawn(async move {
                let _ = tokio::io::copy(&mut or, &mut iw).await;
            });
        }
    });
    (addr, count)
}

/// `compression: gzip` sends gzip-compressed requests (the bytes on the wire are a fraction of
/// the encoded request) that arrive downstream identical to what the client sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_compression_sends_compressed_requests_that_arrive_intact() {
    let (down, daddr) = Downstream::start().await;
    let (relay, wire_bytes) = counting_relay(daddr).await;
    let svc = forwarding_service(relay, "compression: gzip").await;
    let sent = request(1000, 9);
    let encoded = sent.encode_to_vec().len() as u64;
    let mut c = grpc_client(svc.grpc).await;
    c.export(sent.clone()).await.unwrap();
    down.wait_spans(1000, 10).await;
    let got = down.received.lock().unwrap().clone();
    assert_eq!(got, vec![sent], "the request arrived changed");
    let calls = down.calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].1.as_deref(), Some("gzip"));
    // Everything spanward sent on the connection (HTTP/2 preface, settings, headers, message).
    let wire = wire_bytes.load(Ordering::Relaxed);
    assert!(
        wire * 4 < encoded,
        "{wire} bytes on the wire for a {encoded}-byte request: not compressed"
    );
    svc.stop().await;
}

/// A next stage that answers an export with more than the 4 MiB the exporter reads: the call
/// fails with OUT_OF_RANGE (retryable, as tonic's own limit answers) instead of buffering the
/// whole answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_export_response_is_refused() {
    let app = axum::Router::new().route(
        "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
        axum::routing::post(|| async {
            let body = vec![0u8; 6 << 20];
            ([("content-type", "application/grpc")], body)
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await });
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let err = spanward::sink::otlp::export_raw(
        channel,
        request(2, 1).encode_to_vec().into(),
        false,
        Duration::from_secs(10),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), tonic::Code::OutOfRange, "{err:?}");
    assert!(err.message().contains("export response over 4194304 bytes"));
}

/// A next stage that does not answer is said at start, not a minute later: one WARN naming the
/// endpoint, `/readyz` still 200 (readiness gates traffic; back-pressure handles a full queue)
/// but naming the failing exporter, and `spanward_exporter_up{exporter="otlp"}` 0. With a next
/// stage that answers, the metric is 1 and `/readyz` says plain `ready`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_next_stage_is_reported_at_start_in_logs_readyz_and_metrics() {
    // A port nothing listens on (bound, then released).
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let admin: std::net::SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let cfg = dir.path().join("spanward.yaml");
    std::fs::write(
        &cfg,
        format!(
            "receivers: {{ otlp: {{ grpc: {{ endpoint: \"127.0.0.1:{}\" }} }} }}\nexporters: {{ otlp: {{ endpoint: \"http://{dead}\" }} }}\nadmin: {{ endpoint: \"{admin}\" }}\n{PASS_THROUGH}",
            free_port()
        ),
    )
    .unwrap();
    let log_path = dir.path().join("spanward.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let child = start_binary(&cfg, admin, &[], log.into()).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let body = loop {
        let (st, body) = http_get(admin, "/readyz").await.unwrap();
        assert_eq!(st, 200, "{body}");
        if body.contains("degraded") {
            break body;
        }
        assert!(Instant::now() < deadline, "no degraded readyz: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        body.contains("exporter otlp") && body.contains(&dead.to_string()),
        "{body}"
    );
    let metrics = http_get(admin, "/metrics").await.unwrap().1;
    assert!(
        metrics.contains("spanward_exporter_up{exporter=\"otlp\"} 0"),
        "{metrics}"
    );
    stop_binary(child).await;
    let logs = std::fs::read_to_string(&log_path).unwrap();
    let warns: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("next stage not answering"))
        .collect();
    assert_eq!(warns.len(), 1, "{logs}");
    assert!(
        warns[0].contains("WARN") && warns[0].contains(&dead.to_string()),
        "{logs}"
    );

    // A next stage that answers: up, and plain `ready`.
    let (down, daddr) = Downstream::start().await;
    let svc = Service::start(Some(daddr), PASS_THROUGH).await;
    let mut c = grpc_client(svc.grpc).await;
    c.export(request(1, 1)).await.unwrap();
    down.wait_spans(1, 20).await;
    let metrics = http_get(svc.admin, "/metrics").await.unwrap().1;
    assert!(
        metrics.contains("spanward_exporter_up{exporter=\"otlp\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("spanward_exporter_up{exporter=\"file\"} 1"),
        "{metrics}"
    );
    assert_eq!(
        http_get(svc.admin, "/readyz").await.unwrap(),
        (200, "ready\n".to_string())
    );
    svc.stop().await;
}
