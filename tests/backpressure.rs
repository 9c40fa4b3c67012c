//! A stalled next stage fills the queue; clients get retryable refusals with retry info; the
//! refused counter equals what clients saw; the INFO summary line reports it; nothing accepted
//! is lost once the next stage recovers.

mod common;

use common::*;
use prost::Message;
use std::io::Write;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct LogBuf(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogBuf {
    type Writer = LogBuf;
    fn make_writer(&'a self) -> LogBuf {
        self.clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_downstream_turns_into_counted_retryable_refusals() {
    let logs = LogBuf::default();
    tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_ansi(false)
        .with_env_filter("info")
        .init();

    let (down, daddr) = Downstream::start().await;
    down.stall.store(true, Ordering::Release);
    let svc = Service::start(
        Some(daddr),
        "pipeline:\n  workers: 1\n  summary_interval: 200ms\n  queue: { max_spans: 10, when_full: refuse }\n",
    )
    .await;

    let mut c = grpc_client(svc.grpc).await;
    let (mut ok_spans, mut refused_spans) = (0u64, 0u64);
    for i in 0..12u8 {
        match c.export(request(5, i)).await {
            Ok(_) => ok_spans += 5,
            Err(st) => {
                assert_eq!(st.code(), tonic::Code::ResourceExhausted);
                assert!(
                    spanward::rpc_status::retry_delay(&st).is_some(),
                    "a queue-full refusal must carry RetryInfo"
                );
                refused_spans += 5;
            }
        }
    }
    for i in 100..104u8 {
        let (st, h, _) = http_request(
            svc.http,
            "POST",
            "/v1/traces",
            &[("content-type", "application/x-protobuf")],
            &request(5, i).encode_to_vec(),
        )
        .await
        .unwrap();
        if st == 200 {
            ok_spans += 5;
        } else {
            assert_eq!(st, 429);
            assert!(h
                .iter()
                .any(|(k, v)| k == "retry-after" && v.parse::<u64>().unwrap() >= 1));
            refused_spans += 5;
        }
    }
    assert!(
        refused_spans > 0,
        "a tiny queue and a stalled downstream must refuse"
    );
    // The worker holds one batch, the queue at most 10 spans.
    assert!(ok_spans <= 15, "accepted {ok_spans}");

    let m = svc.metrics().await;
    assert_eq!(
        metric_value(
            &m,
            "spanward_receiver_refused_spans_total",
            &["reason=\"queue_full\""]
        ),
        refused_spans as f64
    );
    assert_eq!(
        metric_value(&m, "spanward_receiver_accepted_spans_total", &[]),
        ok_spans as f64
    );

    // The summary line appears at INFO with the same count.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let want = format!("refused={refused_spans} [");
    loop {
        let text = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
        if text.contains(&want) && text.contains("INFO") {
            assert!(text.contains("queue_full="), "{text}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no summary line in:\n{text}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    // Downstream recovers: everything accepted arrives.
    down.stall.store(false, Ordering::Release);
    down.wait_spans(ok_spans as usize, 10).await;
    svc.stop().await;
    assert_eq!(down.span_count() as u64, ok_spans);
}
