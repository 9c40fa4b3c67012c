//! Traces, logs and metrics from several clients at once, over gRPC and OTLP/HTTP, into one
//! small queue in front of a stalled, then slow, next stage:
//! - every refusal reaches its client as a retryable answer (gRPC `RESOURCE_EXHAUSTED` with
//!   `RetryInfo`, HTTP 429 with `Retry-After`) and is counted under its signal's name, equal to
//!   what the clients saw;
//! - nothing acknowledged is lost or duplicated: with `ack: accepted` everything accepted
//!   arrives once the next stage catches up; with `ack: durable` it is already there when the
//!   client's answer comes.

mod common;

use common::*;
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    metric, number_data_point, Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;
use spanward::vocab::Signal;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Items per request, of every signal.
const ITEMS: usize = 5;

fn resource(service: &str) -> Option<Resource> {
    Some(Resource {
        attributes: vec![kv("service.name", service)],
        ..Default::default()
    })
}

/// A unique key per item, so the next stage's copy can be checked for loss and duplicates.
fn key(signal: Signal, client: usize, seq: u64, i: usize) -> String {
    format!("{}-{client}-{seq}-{i}", signal.as_str())
}

fn traces(client: usize, seq: u64) -> ExportTraceServiceRequest {
    let mut req = request(ITEMS, client as u8);
    for (i, s) in req.resource_spans[0].scope_spans[0]
        .spans
        .iter_mut()
        .enumerate()
    {
        let mut id = [0u8; 8];
        id[..2].copy_from_slice(&(client as u16).to_be_bytes());
        id[2..7].copy_from_slice(&seq.to_be_bytes()[3..]);
        id[7] = i as u8 + 1;
        s.span_id = id.to_vec();
        s.name = key(Signal::Traces, client, seq, i);
    }
    req
}

fn logs(client: usize, seq: u64) -> ExportLogsServiceRequest {
    let log_records = (0..ITEMS)
        .map(|i| LogRecord {
            severity_number: 9,
            body: Some(AnyValue {
                value: Some(any_value::Value::StringValue(key(
                    Signal::Logs,
                    client,
                    seq,
                    i,
                ))),
            }),
            attributes: vec![kv("tool.name", "lookup")],
            ..Default::default()
        })
        .collect();
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource("mixed-logs"),
            scope_logs: vec![ScopeLogs {
                log_records,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn metrics(client: usize, seq: u64) -> ExportMetricsServiceRequest {
    // One gauge per request, one data point per item, told apart by an attribute.
    let data_points = (0..ITEMS)
        .map(|i| NumberDataPoint {
            attributes: vec![kv("item", &key(Signal::Metrics, client, seq, i))],
            time_unix_nano: 1_700_000_000_000_000_000,
            value: Some(number_data_point::Value::AsInt(i as i64)),
            ..Default::default()
        })
        .collect();
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: resource("mixed-metrics"),
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: "queue.depth".into(),
                    unit: "1".into(),
                    data: Some(metric::Data::Gauge(Gauge { data_points })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// What the clients of one signal saw.
#[derive(Default)]
struct Seen {
    acked_items: AtomicU64,
    refused_items: AtomicU64,
    refused_requests: AtomicU64,
    /// The keys of every acknowledged item.
    acked: Mutex<Vec<String>>,
}

fn keys_of(signal: Signal, client: usize, seq: u64) -> Vec<String> {
    (0..ITEMS).map(|i| key(signal, client, seq, i)).collect()
}

/// The keys of what the next stage holds, per signal, as a sorted list (duplicates kept).
fn downstream_keys(down: &Downstream, signal: Signal) -> Vec<String> {
    let mut keys: Vec<String> = match signal {
        Signal::Traces => down.spans().into_iter().map(|s| s.name).collect(),
        Signal::Logs => down
            .log_records()
            .into_iter()
            .filter_map(|r| match r.body?.value? {
                any_value::Value::StringValue(s) => Some(s),
                _ => None,
            })
            .collect(),
        Signal::Metrics => down
            .metrics_list()
            .into_iter()
            .filter_map(|m| match m.data? {
                metric::Data::Gauge(g) => Some(g.data_points),
                _ => None,
            })
            .flatten()
            .filter_map(|p| {
                p.attributes
                    .iter()
                    .find(|kv| kv.key == "item")
                    .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
                        any_value::Value::StringValue(s) => Some(s.clone()),
                        _ => None,
                    })
            })
            .collect(),
    };
    keys.sort();
    keys
}

/// One client's answer: `Ok(true)` acknowledged, `Ok(false)` refused retryably; anything else
/// (a non-retryable answer) fails the test.
type Answer = Result<bool, String>;

fn grpc_answer<T>(r: Result<tonic::Response<T>, tonic::Status>) -> Answer {
    match r {
        Ok(_) => Ok(true),
        Err(st) if st.code() == tonic::Code::ResourceExhausted => {
            if spanward::rpc_status::retry_delay(&st).is_none() {
                return Err(format!("a refusal without RetryInfo: {st:?}"));
            }
            Ok(false)
        }
        Err(st) => Err(format!("not a retryable refusal: {st:?}")),
    }
}

async fn http_answer(addr: SocketAddr, path: &str, body: Vec<u8>) -> Answer {
    let (st, h, b) = http_request(
        addr,
        "POST",
        path,
        &[("content-type", "application/x-protobuf")],
        &body,
    )
    .await
    .map_err(|e| e.to_string())?;
    match st {
        200 => Ok(true),
        429 | 503 => {
            let retry = h
                .iter()
                .find(|(k, _)| k == "retry-after")
                .and_then(|(_, v)| v.parse::<u64>().ok());
            if retry.is_none() {
                return Err(format!("HTTP {st} without Retry-After"));
            }
            Ok(false)
        }
        _ => Err(format!("HTTP {st}: {}", String::from_utf8_lossy(&b))),
    }
}

/// A client of `signal` over gRPC or HTTP that sends fresh requests (no retries: a refused
/// request is simply counted) until `stop`, pausing briefly after a refusal.
async fn client(
    signal: Signal,
    grpc: bool,
    id: usize,
    svc: (SocketAddr, SocketAddr),
    seen: Arc<Seen>,
    stop: Arc<AtomicBool>,
) {
    let url = format!("http://{}", svc.0);
    let mut tc = grpc_client(svc.0).await;
    let mut lc = LogsServiceClient::connect(url.clone()).await.unwrap();
    let mut mc = MetricsServiceClient::connect(url).await.unwrap();
    let mut seq = 0u64;
    while !stop.load(Ordering::Acquire) {
        seq += 1;
        let answer = match (signal, grpc) {
            (Signal::Traces, true) => grpc_answer(tc.export(traces(id, seq)).await),
            (Signal::Logs, true) => grpc_answer(lc.export(logs(id, seq)).await),
            (Signal::Metrics, true) => grpc_answer(mc.export(metrics(id, seq)).await),
            (Signal::Traces, false) => {
                http_answer(svc.1, "/v1/traces", traces(id, seq).encode_to_vec()).await
            }
            (Signal::Logs, false) => {
                http_answer(svc.1, "/v1/logs", logs(id, seq).encode_to_vec()).await
            }
            (Signal::Metrics, false) => {
                http_answer(svc.1, "/v1/metrics", metrics(id, seq).encode_to_vec()).await
            }
        };
        match answer {
            Ok(true) => {
                seen.acked_items.fetch_add(ITEMS as u64, Ordering::AcqRel);
                seen.acked.lock().unwrap().extend(keys_of(signal, id, seq));
            }
            Ok(false) => {
                seen.refused_items.fetch_add(ITEMS as u64, Ordering::AcqRel);
                seen.refused_requests.fetch_add(1, Ordering::AcqRel);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Err(e) => panic!("{} client {id}: {e}", signal.as_str()),
        }
    }
}

/// The per-signal counter names: accepted, refused, delivered, dropped.
fn counters(signal: Signal) -> [String; 4] {
    let items = match signal {
        Signal::Traces => "spans",
        Signal::Logs => "log_records",
        Signal::Metrics => "metric_points",
    };
    [
        format!("spanward_receiver_accepted_{items}_total"),
        format!("spanward_receiver_refused_{items}_total"),
        format!("spanward_pipeline_delivered_{items}_total"),
        format!("spanward_pipeline_dropped_{items}_total"),
    ]
}

async fn wait_until(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

struct Load {
    seen: Vec<(Signal, Arc<Seen>)>,
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Three clients per signal (two over gRPC, one over HTTP), all at once.
fn start_load(svc: &Service) -> Load {
    let stop = Arc::new(AtomicBool::new(false));
    let mut seen = Vec::new();
    let mut tasks = Vec::new();
    let mut id = 0;
    for signal in Signal::ALL {
        let s = Arc::new(Seen::default());
        for grpc in [true, true, false] {
            id += 1;
            tasks.push(tokio::spawn(client(
                signal,
                grpc,
                id,
                (svc.grpc, svc.http),
                s.clone(),
                stop.clone(),
            )));
        }
        seen.push((signal, s));
    }
    Load { seen, stop, tasks }
}

impl Load {
    fn all(&self, f: impl Fn(&Seen) -> bool) -> bool {
        self.seen.iter().all(|(_, s)| f(s))
    }

    async fn finish(self) -> Vec<(Signal, Arc<Seen>)> {
        self.stop.store(true, Ordering::Release);
        for t in self.tasks {
            t.await.unwrap();
        }
        self.seen
    }
}

/// Client-side and service-side accounting agree per signal, and the next stage holds every
/// acknowledged item exactly once.
async fn check_accounting(svc: &Service, down: &Downstream, seen: &[(Signal, Arc<Seen>)]) {
    let m = svc.metrics().await;
    let mut refused_requests = 0;
    for (signal, s) in seen {
        let [accepted, refused, delivered, dropped] = counters(*signal);
        let acked = s.acked_items.load(Ordering::Acquire) as f64;
        let refused_items = s.refused_items.load(Ordering::Acquire) as f64;
        refused_requests += s.refused_requests.load(Ordering::Acquire);
        assert_eq!(metric_value(&m, &accepted, &[]), acked, "{accepted}");
        assert_eq!(metric_value(&m, &refused, &[]), refused_items, "{refused}");
        assert_eq!(
            metric_value(&m, &refused, &["reason=\"queue_full\""]),
            refused_items,
            "{refused}: all for a full queue"
        );
        assert_eq!(metric_value(&m, &delivered, &[]), acked, "{delivered}");
        assert_eq!(metric_value(&m, &dropped, &[]), 0.0, "{dropped}");
        let mut want = s.acked.lock().unwrap().clone();
        want.sort();
        let got = downstream_keys(down, *signal);
        assert_eq!(
            got.iter().collect::<BTreeSet<_>>().len(),
            got.len(),
            "{}: duplicates downstream",
            signal.as_str()
        );
        assert_eq!(got, want, "{}: downstream = acknowledged", signal.as_str());
    }
    assert_eq!(
        metric_value(&m, "spanward_receiver_refused_requests_total", &[]),
        refused_requests as f64
    );
    for (signal, s) in seen {
        eprintln!(
            "{}: acknowledged {} items, refused {} in {} requests",
            signal.as_str(),
            s.acked_items.load(Ordering::Acquire),
            s.refused_items.load(Ordering::Acquire),
            s.refused_requests.load(Ordering::Acquire)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_signals_full_queue_refusals_counted_per_signal_nothing_lost() {
    let (down, daddr) = Downstream::start().await;
    down.stall.store(true, Ordering::Release);
    let svc = Service::start(
        Some(daddr),
        "pipeline:\n  workers: 1\n  queue: { max_spans: 10, when_full: refuse }\n",
    )
    .await;
    let load = start_load(&svc);
    // Stalled: the queue fills and every signal's clients are refused.
    wait_until("a refusal of every signal", 60, || {
        load.all(|s| s.refused_items.load(Ordering::Acquire) > 0)
    })
    .await;
    // Slow: the queue drains at the next stage's pace; every signal still gets through.
    let before: Vec<u64> = load
        .seen
        .iter()
        .map(|(_, s)| s.acked_items.load(Ordering::Acquire))
        .collect();
    down.delay_ms.store(20, Ordering::Release);
    down.stall.store(false, Ordering::Release);
    wait_until("progress of every signal once the stall ends", 60, || {
        load.seen
            .iter()
            .zip(&before)
            .all(|((_, s), b)| s.acked_items.load(Ordering::Acquire) >= b + 3 * ITEMS as u64)
    })
    .await;
    let seen = load.finish().await;
    // Everything accepted reaches the next stage.
    for (signal, s) in &seen {
        let want = s.acked_items.load(Ordering::Acquire) as usize;
        let signal = *signal;
        wait_until(&format!("{} delivered", signal.as_str()), 60, || {
            downstream_keys(&down, signal).len() >= want
        })
        .await;
    }
    // The delivered counters follow the next stage's answers.
    for (signal, s) in &seen {
        let [_, _, delivered, _] = counters(*signal);
        svc.wait_metric(
            &delivered,
            &[],
            s.acked_items.load(Ordering::Acquire) as f64,
        )
        .await;
    }
    check_accounting(&svc, &down, &seen).await;
    svc.stop().await;
    // After a clean stop nothing more arrived either.
    for (signal, s) in &seen {
        assert_eq!(
            downstream_keys(&down, *signal).len() as u64,
            s.acked_items.load(Ordering::Acquire)
        );
    }
}

/// With `ack: durable`, an acknowledged request of any signal is at the next stage when its
/// client hears so; refusals are still retryable and counted per signal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_signals_durable_ack_means_delivered() {
    let (down, daddr) = Downstream::start().await;
    down.delay_ms.store(20, Ordering::Release);
    let svc = Service::start(
        Some(daddr),
        "pipeline:\n  workers: 1\n  ack: durable\n  queue: { max_spans: 10, when_full: refuse }\n",
    )
    .await;
    let load = start_load(&svc);
    wait_until("acknowledged requests of every signal", 60, || {
        load.all(|s| s.acked_items.load(Ordering::Acquire) >= 5 * ITEMS as u64)
    })
    .await;
    let seen = load.finish().await;
    // No waiting: durable means the next stage already has it.
    for (signal, s) in &seen {
        let got: BTreeSet<String> = downstream_keys(&down, *signal).into_iter().collect();
        for k in s.acked.lock().unwrap().iter() {
            assert!(got.contains(k), "{k} acknowledged but not delivered");
        }
    }
    for (signal, s) in &seen {
        let [_, _, delivered, _] = counters(*signal);
        svc.wait_metric(
            &delivered,
            &[],
            s.acked_items.load(Ordering::Acquire) as f64,
        )
        .await;
    }
    check_accounting(&svc, &down, &seen).await;
    svc.stop().await;
}
