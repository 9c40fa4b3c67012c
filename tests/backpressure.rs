//! A stalled next stage fills the queue; clients get retryable refusals with retry info; the
//! refused counter equals what clients saw; the INFO summary line reports it; nothing accepted
//! is lost once the next stage recovers. Also: `when_full: wait` waits up to `max_wait`; the
//! queue gauges are exact at every scrape; requests refused before decoding reach the summary.

mod common;

use common::*;
use prost::Message;
use std::io::Write;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

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

/// The process-wide log capture: one global subscriber for every test of this binary (tests
/// run in parallel, so each looks for lines only its own traffic can produce).
fn logs() -> LogBuf {
    static LOGS: OnceLock<LogBuf> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = LogBuf::default();
        tracing_subscriber::fmt()
            .with_writer(logs.clone())
            .with_ansi(false)
            .with_env_filter("info")
            .init();
        logs
    })
    .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_downstream_turns_into_counted_retryable_refusals() {
    let logs = logs();

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
    let want = format!("spans refused={refused_spans} [");
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

/// Default policy, `when_full: wait`: a request that finds the queue full waits up to
/// `max_wait`; it is admitted when room appears in that time, and otherwise refused retryably
/// after about `max_wait`, not at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_full_wait_waits_up_to_max_wait() {
    let max_wait = Duration::from_millis(1500);
    let (down, daddr) = Downstream::start().await;
    down.stall.store(true, Ordering::Release);
    let svc = Service::start(
        Some(daddr),
        "pipeline:\n  workers: 1\n  queue: { max_spans: 10, when_full: wait, max_wait: 1500ms }\n",
    )
    .await;
    let mut c = grpc_client(svc.grpc).await;
    // The worker takes the first batch and blocks on the stalled next stage ...
    c.export(request(5, 1)).await.unwrap();
    svc.wait_metric("spanward_pipeline_in_process_spans", &[], 5.0)
        .await;
    // ... two more fill the queue without waiting.
    for i in 2..4u8 {
        let t = Instant::now();
        c.export(request(5, i)).await.unwrap();
        assert!(
            t.elapsed() < max_wait / 2,
            "admitted only after {:?}",
            t.elapsed()
        );
    }
    assert_eq!(svc.metric("spanward_exporter_queue_size", &[]).await, 10.0);

    // No room appears: gRPC and HTTP are both refused retryably, after max_wait.
    let t = Instant::now();
    let mut c2 = c.clone();
    let grpc = async move { (c2.export(request(5, 4)).await, t.elapsed()) };
    let body = request(5, 5).encode_to_vec();
    let http = async {
        let r = http_request(
            svc.http,
            "POST",
            "/v1/traces",
            &[("content-type", "application/x-protobuf")],
            &body,
        )
        .await
        .unwrap();
        (r, t.elapsed())
    };
    let ((g, g_took), ((hs, hh, _), h_took)) = tokio::join!(grpc, http);
    let st = g.unwrap_err();
    assert_eq!(st.code(), tonic::Code::ResourceExhausted);
    assert!(spanward::rpc_status::retry_delay(&st).is_some());
    assert_eq!(hs, 429);
    assert!(hh.iter().any(|(k, _)| k == "retry-after"));
    for took in [g_took, h_took] {
        assert!(took >= max_wait, "refused after {took:?}, before max_wait");
        assert!(took < max_wait * 4, "refused only after {took:?}");
    }
    assert_eq!(
        svc.metric(
            "spanward_receiver_refused_spans_total",
            &["reason=\"queue_full\""]
        )
        .await,
        10.0
    );

    // Room appears within max_wait: the waiting request is admitted, not refused.
    let t = Instant::now();
    let mut c3 = c.clone();
    let waiting = tokio::spawn(async move { (c3.export(request(5, 6)).await, t.elapsed()) });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "admitted into a full queue");
    down.stall.store(false, Ordering::Release);
    let (r, took) = waiting.await.unwrap();
    r.unwrap();
    assert!(
        took >= Duration::from_millis(300) && took < max_wait,
        "admitted after {took:?}"
    );
    down.wait_spans(20, 10).await;
    svc.stop().await;
    assert_eq!(down.span_count(), 20);
}

/// `/metrics` reads the queue depth at the scrape: right after the queue drained it shows 0
/// (not the depth of the last enqueue), and accepted = delivered + dropped + queued + in process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_gauges_are_exact_at_every_scrape() {
    let (down, daddr) = Downstream::start().await;
    down.stall.store(true, Ordering::Release);
    // The default 10 s summary interval: the summary tick does not refresh anything here.
    let svc = Service::start(
        Some(daddr),
        "pipeline:\n  workers: 1\n  queue: { max_spans: 100, when_full: refuse }\n",
    )
    .await;
    let identity = |m: &str| {
        let accepted = metric_value(m, "spanward_receiver_accepted_spans_total", &[]);
        let rest = metric_value(m, "spanward_pipeline_delivered_spans_total", &[])
            + metric_value(m, "spanward_pipeline_dropped_spans_total", &[])
            + metric_value(m, "spanward_exporter_queue_size", &[])
            + metric_value(m, "spanward_pipeline_in_process_spans", &[]);
        (accepted, rest)
    };
    let mut c = grpc_client(svc.grpc).await;
    c.export(request(5, 1)).await.unwrap();
    svc.wait_metric("spanward_pipeline_in_process_spans", &[], 5.0)
        .await;
    for i in 2..5u8 {
        c.export(request(5, i)).await.unwrap();
    }
    let m = svc.metrics().await;
    assert_eq!(metric_value(&m, "spanward_exporter_queue_size", &[]), 15.0);
    assert!(metric_value(&m, "spanward_queue_bytes", &[]) > 0.0);
    let (a, r) = identity(&m);
    assert_eq!((a, r), (20.0, 20.0));

    down.stall.store(false, Ordering::Release);
    down.wait_spans(20, 10).await;
    svc.wait_metric("spanward_pipeline_in_process_spans", &[], 0.0)
        .await;
    // One scrape, right away: the drained queue shows as drained.
    let m = svc.metrics().await;
    assert_eq!(metric_value(&m, "spanward_exporter_queue_size", &[]), 0.0);
    assert_eq!(metric_value(&m, "spanward_queue_bytes", &[]), 0.0);
    let (a, r) = identity(&m);
    assert_eq!((a, r), (20.0, 20.0));
    svc.stop().await;
}

/// Requests refused before decoding have no span count; a burst of them still produces an INFO
/// summary line that names them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_burst_appears_in_the_summary_line() {
    let logs = logs();
    let (_down, daddr) = Downstream::start().await;
    let svc = Service::start(Some(daddr), "pipeline:\n  summary_interval: 200ms\n").await;
    // Seven undecodable bodies: no other test of this binary sends malformed requests.
    for _ in 0..7 {
        let (st, _, _) = http_request(
            svc.http,
            "POST",
            "/v1/traces",
            &[("content-type", "application/x-protobuf")],
            b"\xff\xff\xff not a protobuf",
        )
        .await
        .unwrap();
        assert_eq!(st, 400);
    }
    assert_eq!(
        svc.metric(
            "spanward_receiver_refused_requests_total",
            &["reason=\"malformed\""]
        )
        .await,
        7.0
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let text = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
        // The burst may straddle a tick: add up `malformed=N` over the request part of the lines.
        let named: u64 = text
            .lines()
            .filter(|l| l.contains("INFO"))
            .filter_map(|l| {
                let part = &l[l.find("requests refused=")?..];
                let n = &part[part.find("malformed=")? + "malformed=".len()..];
                n.split(|c: char| !c.is_ascii_digit())
                    .next()?
                    .parse::<u64>()
                    .ok()
            })
            .sum();
        if named == 7 {
            break;
        }
        assert!(
            named < 7,
            "summary lines name {named} malformed requests:\n{text}"
        );
        assert!(Instant::now() < deadline, "no summary line in:\n{text}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    svc.stop().await;
}
