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

// ---- Logs and metrics: each signal to its own service on the one endpoint. ----

use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::TraceServiceServer;
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    metric, Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics,
};
use spanward::sink::otlp::{OtlpExporterConfig, OtlpSink};
use spanward::sink::{Delivery, FailureKind, Sink};
use spanward::vocab::Signal;
use std::sync::Mutex;

/// What the logs/metrics test downstream answers a call with.
#[derive(Clone, Copy, Debug)]
enum Answer {
    Fail(tonic::Code, Option<Duration>),
    /// OK with a `partial_success` rejecting this many items.
    Reject(i64),
}

/// One call the logs/metrics downstream received: its signal, when, its `grpc-encoding`.
type SignalCall = (Signal, Instant, Option<String>);

/// A next stage serving LogsService and MetricsService (and TraceService, through the common
/// recorder) on one port; records each call's signal, `grpc-encoding` and request.
#[derive(Clone, Default)]
struct SignalDownstream {
    logs: Arc<Mutex<Vec<ExportLogsServiceRequest>>>,
    metrics: Arc<Mutex<Vec<ExportMetricsServiceRequest>>>,
    calls: Arc<Mutex<Vec<SignalCall>>>,
    script: Arc<Mutex<std::collections::VecDeque<Answer>>>,
}

impl SignalDownstream {
    async fn start() -> (SignalDownstream, Downstream, std::net::SocketAddr) {
        let d = SignalDownstream::default();
        let traces = Downstream::default();
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let gz = tonic::codec::CompressionEncoding::Gzip;
        let router = tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(traces.clone()).accept_compressed(gz))
            .add_service(LogsServiceServer::new(d.clone()).accept_compressed(gz))
            .add_service(MetricsServiceServer::new(d.clone()).accept_compressed(gz));
        tokio::spawn(async move {
            router
                .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(l))
                .await
                .unwrap();
        });
        (d, traces, addr)
    }

    /// Records the call; the scripted answer for it, if any.
    fn call<T>(&self, signal: Signal, req: &tonic::Request<T>) -> Option<Answer> {
        let enc = req
            .metadata()
            .get("grpc-encoding")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        self.calls
            .lock()
            .unwrap()
            .push((signal, Instant::now(), enc));
        self.script.lock().unwrap().pop_front()
    }
}

fn failed(code: tonic::Code, retry: Option<Duration>) -> tonic::Status {
    spanward::rpc_status::tonic_status(code, "scripted test failure", retry)
}

#[tonic::async_trait]
impl LogsService for SignalDownstream {
    async fn export(
        &self,
        req: tonic::Request<ExportLogsServiceRequest>,
    ) -> Result<tonic::Response<ExportLogsServiceResponse>, tonic::Status> {
        let mut resp = ExportLogsServiceResponse::default();
        match self.call(Signal::Logs, &req) {
            Some(Answer::Fail(code, retry)) => return Err(failed(code, retry)),
            Some(Answer::Reject(n)) => {
                resp.partial_success = Some(ExportLogsPartialSuccess {
                    rejected_log_records: n,
                    error_message: "test rejects".into(),
                })
            }
            None => {}
        }
        self.logs.lock().unwrap().push(req.into_inner());
        Ok(tonic::Response::new(resp))
    }
}

#[tonic::async_trait]
impl MetricsService for SignalDownstream {
    async fn export(
        &self,
        req: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        let mut resp = ExportMetricsServiceResponse::default();
        match self.call(Signal::Metrics, &req) {
            Some(Answer::Fail(code, retry)) => return Err(failed(code, retry)),
            Some(Answer::Reject(n)) => {
                resp.partial_success = Some(ExportMetricsPartialSuccess {
                    rejected_data_points: n,
                    error_message: "test rejects".into(),
                })
            }
            None => {}
        }
        self.metrics.lock().unwrap().push(req.into_inner());
        Ok(tonic::Response::new(resp))
    }
}

fn logs_request(n: usize) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: (0..n)
                    .map(|i| LogRecord {
                        event_name: "gen_ai.client.inference.operation.details".into(),
                        trace_id: vec![7; 16],
                        time_unix_nano: i as u64,
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn metrics_request(points: usize) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: "gen_ai.client.token.usage".into(),
                    unit: "{token}".into(),
                    data: Some(metric::Data::Gauge(Gauge {
                        data_points: (0..points)
                            .map(|i| NumberDataPoint {
                                time_unix_nano: i as u64,
                                ..Default::default()
                            })
                            .collect(),
                    })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// An exporter to `addr` with a short retry schedule, and the runtime it runs on (its `write`
/// blocks, so tests call it from the test thread).
fn signal_exporter(addr: std::net::SocketAddr, extra: &str) -> (tokio::runtime::Runtime, OtlpSink) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let cfg: OtlpExporterConfig = serde_norway::from_str(&format!(
        "endpoint: \"http://{addr}\"\nretry: {{ initial_interval: 10ms, max_interval: 20ms, max_elapsed_time: 2s }}\n{extra}"
    ))
    .unwrap();
    let sink = OtlpSink::new(&cfg, rt.handle().clone()).unwrap();
    (rt, sink)
}

/// Logs go to `LogsService/Export` and metrics to `MetricsService/Export` on the same endpoint
/// as traces, arrive intact (with and without gzip), and a trace batch still goes to
/// `TraceService`.
#[test]
fn logs_and_metrics_reach_their_own_services_intact() {
    for gzip in [false, true] {
        let rt0 = tokio::runtime::Runtime::new().unwrap();
        let (down, traces, addr) = rt0.block_on(SignalDownstream::start());
        let extra = if gzip { "compression: gzip\n" } else { "" };
        let (_rt, sink) = signal_exporter(addr, extra);
        let logs = logs_request(3);
        let metrics = metrics_request(5);
        let w = |s: Signal, b: Vec<u8>, n: usize| sink.write(s, &bytes::Bytes::from(b), n);
        assert_eq!(
            w(Signal::Logs, logs.encode_to_vec(), 3).unwrap(),
            Delivery::Accepted
        );
        assert_eq!(
            w(Signal::Metrics, metrics.encode_to_vec(), 5).unwrap(),
            Delivery::Accepted
        );
        w(Signal::Traces, request(2, 1).encode_to_vec(), 2).unwrap();
        assert_eq!(*down.logs.lock().unwrap(), vec![logs]);
        assert_eq!(*down.metrics.lock().unwrap(), vec![metrics]);
        assert_eq!(traces.span_count(), 2);
        let calls = down.calls.lock().unwrap().clone();
        let signals: Vec<Signal> = calls.iter().map(|c| c.0).collect();
        assert_eq!(signals, [Signal::Logs, Signal::Metrics]);
        let want = gzip.then(|| "gzip".to_string());
        assert!(calls.iter().all(|c| c.2 == want), "{calls:?}");
    }
}

/// A `partial_success` rejecting log records or data points fails the batch permanently, as
/// rejected spans do (the items are counted `export_failed`, not retried).
#[test]
fn partial_success_of_logs_and_metrics_is_a_permanent_failure() {
    let rt0 = tokio::runtime::Runtime::new().unwrap();
    let (down, _traces, addr) = rt0.block_on(SignalDownstream::start());
    let (_rt, sink) = signal_exporter(addr, "");
    down.script
        .lock()
        .unwrap()
        .extend([Answer::Reject(2), Answer::Reject(1)]);
    let e = sink
        .write(Signal::Logs, &logs_request(3).encode_to_vec().into(), 3)
        .unwrap_err();
    assert_eq!(e.kind, FailureKind::Permanent);
    assert!(e.message.contains("rejected 2 log_records"), "{e}");
    let e = sink
        .write(
            Signal::Metrics,
            &metrics_request(4).encode_to_vec().into(),
            4,
        )
        .unwrap_err();
    assert_eq!(e.kind, FailureKind::Permanent);
    assert!(e.message.contains("rejected 1 metric_points"), "{e}");
    // One call each: a rejection is not retried.
    assert_eq!(down.calls.lock().unwrap().len(), 2);
    // A partial success rejecting nothing is a success.
    down.script.lock().unwrap().push_back(Answer::Reject(0));
    sink.write(Signal::Logs, &logs_request(1).encode_to_vec().into(), 1)
        .unwrap();
}

/// Retries are per signal as for traces: UNAVAILABLE is retried with backoff, a `RetryInfo`
/// delay is never shortened, INVALID_ARGUMENT is permanent, and a next stage that stays down
/// makes the write give up retryably after `max_elapsed_time`.
#[test]
fn logs_and_metrics_are_retried_like_traces() {
    let rt0 = tokio::runtime::Runtime::new().unwrap();
    let (down, _traces, addr) = rt0.block_on(SignalDownstream::start());
    let (_rt, sink) = signal_exporter(addr, "");
    let delay = Duration::from_millis(300);
    down.script.lock().unwrap().extend([
        Answer::Fail(tonic::Code::Unavailable, None),
        Answer::Fail(tonic::Code::ResourceExhausted, Some(delay)),
    ]);
    sink.write(
        Signal::Metrics,
        &metrics_request(2).encode_to_vec().into(),
        2,
    )
    .unwrap();
    let times: Vec<Instant> = down.calls.lock().unwrap().iter().map(|c| c.1).collect();
    assert_eq!(times.len(), 3, "two refusals, then the delivery");
    assert!(times[2] - times[1] >= delay, "RetryInfo not honoured");
    assert_eq!(down.metrics.lock().unwrap().len(), 1);

    down.script
        .lock()
        .unwrap()
        .push_back(Answer::Fail(tonic::Code::InvalidArgument, None));
    let e = sink
        .write(Signal::Logs, &logs_request(1).encode_to_vec().into(), 1)
        .unwrap_err();
    assert_eq!(e.kind, FailureKind::Permanent);

    down.script.lock().unwrap().extend(std::iter::repeat_n(
        Answer::Fail(tonic::Code::Unavailable, None),
        1000,
    ));
    let started = Instant::now();
    let e = sink
        .write(Signal::Logs, &logs_request(1).encode_to_vec().into(), 1)
        .unwrap_err();
    assert_eq!(e.kind, FailureKind::Retryable, "{e}");
    assert!(started.elapsed() >= Duration::from_secs(1), "gave up early");
    assert!(down.logs.lock().unwrap().is_empty());
}

/// `export_signal_raw` reads each signal's answer as its own response type.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_signal_raw_reads_each_signals_partial_success() {
    let (down, _traces, addr) = SignalDownstream::start().await;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    down.script.lock().unwrap().push_back(Answer::Reject(4));
    let ps = spanward::sink::otlp::export_signal_raw(
        channel,
        Signal::Metrics,
        metrics_request(6).encode_to_vec().into(),
        false,
        Duration::from_secs(10),
        None,
    )
    .await
    .unwrap();
    assert_eq!(ps.rejected, 4);
    assert_eq!(ps.error_message, "test rejects");
}
