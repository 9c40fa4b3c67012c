//! The OTLP exporter retries retryable failures, gives up after `max_elapsed_time` counting the
//! spans as `export_failed`, and with `ack: durable` the client learns the batch was not stored.

mod common;

use common::*;
use std::sync::atomic::Ordering;

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
