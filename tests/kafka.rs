//! The Kafka sink against a real Kafka-protocol broker (tansu, started here as a separate
//! process on a loopback port): records consumed back are scrubbed OTLP keyed by trace id and
//! stamped with the log's position; a paused broker becomes retryable refusals and nothing
//! acknowledged is lost; a restarted broker is reconnected to.
//!
//! The broker binary comes from `scripts/test.sh` (cached under `~/.cache/spanward`), or from
//! `SPANWARD_TANSU`. Without it these tests say so and pass, unless `SPANWARD_REQUIRE_KAFKA`
//! is set (the test script sets it, so CI never skips them silently).

mod common;

use common::*;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Headers;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const TOPIC: &str = "otlp_spans";
const LOGS_TOPIC: &str = "otlp_logs";
const METRICS_TOPIC: &str = "otlp_metrics";
const PARTITIONS: i32 = 3;
const EMAIL: &str = "maria.kafka-test@example.org";

fn tansu() -> Option<PathBuf> {
    // The service's and librdkafka's log lines go to the captured output, shown on failure.
    let _ = tracing_subscriber::fmt()
        .with_env_filter("info,spanward=debug,rdkafka=info")
        .with_test_writer()
        .try_init();
    let p = std::env::var_os("SPANWARD_TANSU")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join(".cache/spanward/tansu-0.6.0/bin/tansu"))
        })
        .filter(|p| p.is_file());
    if p.is_none() {
        assert!(
            std::env::var_os("SPANWARD_REQUIRE_KAFKA").is_none(),
            "SPANWARD_REQUIRE_KAFKA is set but no tansu binary was found"
        );
        eprintln!("kafka tests skipped: no tansu broker (run scripts/test.sh to install it)");
    }
    p
}

struct Broker {
    bin: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl Broker {
    async fn start(bin: PathBuf) -> Broker {
        let mut b = Broker {
            bin,
            port: free_port(),
            child: None,
        };
        b.spawn().await;
        b
    }

    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Starts the broker (memory storage) on `self.port` and creates the topic.
    async fn spawn(&mut self) {
        let url = format!("tcp://{}", self.addr());
        let child = Command::new(&self.bin)
            .arg("broker")
            .arg("--storage-engine=memory://tansu/")
            .arg(format!("--kafka-listener-url={url}"))
            .arg(format!("--kafka-advertised-listener-url={url}"))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(self.addr()).is_err() {
            assert!(Instant::now() < deadline, "broker did not listen in 20 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
            .set("bootstrap.servers", self.addr())
            .create()
            .unwrap();
        let res = admin
            .create_topics(
                &[TOPIC, LOGS_TOPIC, METRICS_TOPIC]
                    .map(|t| NewTopic::new(t, PARTITIONS, TopicReplication::Fixed(1))),
                &AdminOptions::new().operation_timeout(Some(Duration::from_secs(10))),
            )
            .await
            .unwrap();
        for r in res {
            r.unwrap();
        }
    }

    fn signal(&self, sig: &str) {
        let pid = self.child.as_ref().unwrap().id().to_string();
        assert!(Command::new("kill")
            .args([sig, &pid])
            .status()
            .unwrap()
            .success());
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(c) = &self.child {
            // A paused broker must be resumed to die promptly.
            let _ = Command::new("kill")
                .args(["-CONT", &c.id().to_string()])
                .status();
        }
        self.kill();
    }
}

/// A record read back from the topic.
struct Consumed {
    key: Option<String>,
    headers: BTreeMap<String, String>,
    request: ExportTraceServiceRequest,
}

/// Reads the traces topic from the beginning until `done` says so or `secs` pass.
fn consume(brokers: &str, secs: u64, mut done: impl FnMut(&[Consumed]) -> bool) -> Vec<Consumed> {
    let mut out: Vec<Consumed> = Vec::new();
    consume_topic(brokers, TOPIC, secs, |raw| {
        // Called again without a new record while the topic is quiet: decode only new ones.
        for r in &raw[out.len()..] {
            out.push(Consumed {
                key: r.key.clone(),
                headers: r.headers.clone(),
                request: ExportTraceServiceRequest::decode(r.value.as_slice()).unwrap(),
            });
        }
        done(&out)
    });
    out
}

/// A record of any topic, undecoded.
struct RawRecord {
    key: Option<String>,
    headers: BTreeMap<String, String>,
    value: Vec<u8>,
}

/// Reads `topic` from the beginning until `done` says so or `secs` pass; `done` sees the
/// records so far, before each poll.
fn consume_topic(
    brokers: &str,
    topic: &str,
    secs: u64,
    mut done: impl FnMut(&[RawRecord]) -> bool,
) -> Vec<RawRecord> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "spanward-test")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for p in 0..PARTITIONS {
        tpl.add_partition_offset(topic, p, Offset::Beginning)
            .unwrap();
    }
    consumer.assign(&tpl).unwrap();
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done(&out) && Instant::now() < deadline {
        use rdkafka::Message as _;
        let Some(m) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        let m = m.unwrap();
        let mut headers = BTreeMap::new();
        if let Some(h) = m.headers() {
            for x in h.iter() {
                headers.insert(
                    x.key.to_string(),
                    String::from_utf8(x.value.unwrap_or_default().to_vec()).unwrap(),
                );
            }
        }
        out.push(RawRecord {
            key: m.key().map(|k| String::from_utf8(k.to_vec()).unwrap()),
            headers,
            value: m.payload().unwrap_or_default().to_vec(),
        });
    }
    out
}

fn kvs(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
        ..Default::default()
    }
}

fn trace_id(i: u32) -> Vec<u8> {
    let mut t = vec![0xab; 12];
    t.extend_from_slice(&i.to_be_bytes());
    t
}

/// Request `i`: `traces` traces of `per` spans; every span's prompt carries an email.
fn req(i: u32, traces: u32, per: u32) -> ExportTraceServiceRequest {
    let spans = (0..traces * per)
        .map(|k| Span {
            trace_id: trace_id(i * 100 + k / per),
            span_id: [i.to_be_bytes(), k.to_be_bytes()].concat(),
            name: "chat gpt-test".into(),
            attributes: vec![
                kvs("gen_ai.operation.name", "chat"),
                kvs(
                    "gen_ai.prompt",
                    &format!("please write to {EMAIL} about order {k}"),
                ),
            ],
            ..Default::default()
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kvs("service.name", "kafka-agent")],
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

fn spans_of(c: &Consumed) -> impl Iterator<Item = &Span> {
    c.request
        .resource_spans
        .iter()
        .flat_map(|r| r.scope_spans.iter().flat_map(|s| s.spans.iter()))
}

async fn start(broker: &Broker, ack: &str, queue: &str, kafka_extra: &str) -> Service {
    let data_dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        "receivers:\n  otlp:\n    http: {{ endpoint: \"127.0.0.1:0\" }}\n    grpc: {{ endpoint: \"127.0.0.1:0\" }}\n\
         exporters:\n  file: {{ path: \"{}\", origin: \"replica-a\" }}\n  kafka: {{ brokers: [\"{}\"], topic: {TOPIC}{kafka_extra} }}\n\
         admin: {{ endpoint: \"127.0.0.1:0\" }}\n\
         pipeline: {{ workers: 2, ack: {ack}, queue: {queue} }}\n",
        data_dir.path().display(),
        broker.addr()
    );
    Service::start_yaml(&yaml, data_dir).await
}

async fn post(svc: &Service, r: &ExportTraceServiceRequest, secs: u64) -> Option<u16> {
    let body = r.encode_to_vec();
    let call = http_request(
        svc.http,
        "POST",
        "/v1/traces",
        &[("content-type", "application/x-protobuf")],
        &body,
    );
    match tokio::time::timeout(Duration::from_secs(secs), call).await {
        Ok(Ok((st, _, _))) => Some(st),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_arrive_scrubbed_keyed_by_trace_and_stamped_with_the_log_position() {
    let Some(bin) = tansu() else { return };
    let broker = Broker::start(bin).await;
    let svc = start(&broker, "durable", "{}", ", compression: lz4").await;

    for i in 0..4 {
        assert_eq!(post(&svc, &req(i, 3, 5), 30).await, Some(200));
    }
    // 4 requests × 3 traces, 5 spans each.
    let got = tokio::task::spawn_blocking({
        let b = broker.addr();
        move || {
            consume(&b, 30, |c| {
                c.iter().map(|c| spans_of(c).count()).sum::<usize>() >= 60
            })
        }
    })
    .await
    .unwrap();
    assert_eq!(got.iter().map(|c| spans_of(c).count()).sum::<usize>(), 60);
    assert_eq!(got.len(), 12, "one record per trace");

    let dir = svc.stop().await;
    let mut seqs = BTreeSet::new();
    for c in &got {
        // Keyed by the trace id of every span inside.
        let key = c.key.clone().unwrap();
        assert!(spans_of(c).all(|s| hex::encode(&s.trace_id) == key));
        // Resource kept; payload scrubbed.
        assert_eq!(
            c.request.resource_spans[0]
                .resource
                .as_ref()
                .unwrap()
                .attributes[0],
            kvs("service.name", "kafka-agent")
        );
        let raw = c.request.encode_to_vec();
        assert!(!raw.windows(EMAIL.len()).any(|w| w == EMAIL.as_bytes()));
        let prompt = str_attr(spans_of(c).next().unwrap(), "gen_ai.prompt").unwrap();
        assert!(prompt.contains("<email"), "{prompt}");
        // Stamped with the log's origin, sequence number and leaf hash, which the log proves.
        assert_eq!(c.headers["spanward-origin"], "replica-a");
        let seq: u64 = c.headers["spanward-log-seq"].parse().unwrap();
        seqs.insert(seq);
        let proof = spanward::sink::log::verify::prove(dir.path(), seq).unwrap();
        let leaf =
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &proof.leaf_hash)
                .unwrap();
        assert_eq!(c.headers["spanward-log-leaf"], hex::encode(leaf));
    }
    assert_eq!(seqs.len(), 4, "one log record per batch: {seqs:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn paused_broker_means_retryable_refusals_and_nothing_acknowledged_is_lost() {
    let Some(bin) = tansu() else { return };
    let broker = Broker::start(bin).await;
    let svc = start(
        &broker,
        "durable",
        "{ max_spans: 100, when_full: refuse }",
        ", delivery_timeout: 2s",
    )
    .await;
    let svc = std::sync::Arc::new(svc);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let next = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let mut senders = Vec::new();
    for _ in 0..8 {
        let (svc, stop, next) = (svc.clone(), stop.clone(), next.clone());
        senders.push(tokio::spawn(async move {
            let mut results = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let st = post(&svc, &req(i, 1, 20), 2).await;
                results.push((i, st, Instant::now()));
                if st != Some(200) {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
            results
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    broker.signal("-STOP");
    let paused = Instant::now();
    tokio::time::sleep(Duration::from_secs(6)).await;
    broker.signal("-CONT");
    let resumed = Instant::now();
    tokio::time::sleep(Duration::from_secs(6)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut results = Vec::new();
    for s in senders {
        results.extend(s.await.unwrap());
    }

    let acked: BTreeSet<u32> = results
        .iter()
        .filter(|r| r.1 == Some(200))
        .map(|r| r.0)
        .collect();
    let refused = results
        .iter()
        .filter(|r| matches!(r.1, Some(429 | 503)))
        .count();
    assert!(refused > 0, "a paused broker must turn into refusals");
    assert!(
        results
            .iter()
            .all(|r| matches!(r.1, None | Some(200 | 429 | 503))),
        "only OK or retryable statuses"
    );
    assert!(
        results
            .iter()
            .any(|r| r.1 == Some(200) && r.2 > resumed + Duration::from_secs(1)),
        "accepting again after the broker came back"
    );
    assert!(results.iter().any(|r| r.1 == Some(200) && r.2 < paused));
    let m = svc.metrics().await;
    assert!(
        metric_value(
            &m,
            "spanward_receiver_refused_requests_total",
            &["reason=\"queue_full\""]
        ) > 0.0
    );

    // Every acknowledged request is in the topic, all 20 spans.
    let want: BTreeSet<String> = acked
        .iter()
        .map(|&i| hex::encode(trace_id(i * 100)))
        .collect();
    let got = tokio::task::spawn_blocking({
        let b = broker.addr();
        let want = want.clone();
        move || {
            consume(&b, 60, |c| {
                let keys: BTreeSet<String> = c.iter().filter_map(|c| c.key.clone()).collect();
                want.is_subset(&keys)
            })
        }
    })
    .await
    .unwrap();
    let mut per_trace: BTreeMap<String, BTreeSet<Vec<u8>>> = BTreeMap::new();
    for c in &got {
        for s in spans_of(c) {
            per_trace
                .entry(hex::encode(&s.trace_id))
                .or_default()
                .insert(s.span_id.clone());
        }
    }
    for k in &want {
        assert_eq!(
            per_trace.get(k).map(|s| s.len()),
            Some(20),
            "acknowledged trace {k} incomplete or missing"
        );
    }
    eprintln!(
        "requests: {} acknowledged, {refused} refused, {} timed out; {} records consumed",
        acked.len(),
        results.iter().filter(|r| r.1.is_none()).count(),
        got.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarted_broker_is_reconnected_to() {
    let Some(bin) = tansu() else { return };
    let mut broker = Broker::start(bin).await;
    let svc = start(&broker, "durable", "{}", ", delivery_timeout: 2s").await;
    assert_eq!(post(&svc, &req(1, 1, 5), 30).await, Some(200));

    broker.kill();
    broker.spawn().await;
    // Memory storage starts empty: what the first broker held is gone with it, so only what is
    // acknowledged after the restart is looked for. The client retries like an OTLP exporter.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut i = 2;
    let mut acked = Vec::new();
    while acked.len() < 3 {
        assert!(
            Instant::now() < deadline,
            "no delivery after the broker restart"
        );
        if post(&svc, &req(i, 1, 5), 5).await == Some(200) {
            acked.push(i);
        } else {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        i += 1;
    }
    let want: BTreeSet<String> = acked
        .iter()
        .map(|&i| hex::encode(trace_id(i * 100)))
        .collect();
    let got = tokio::task::spawn_blocking({
        let b = broker.addr();
        let want = want.clone();
        move || {
            consume(&b, 30, |c| {
                want.is_subset(&c.iter().filter_map(|c| c.key.clone()).collect())
            })
        }
    })
    .await
    .unwrap();
    let keys: BTreeSet<String> = got.iter().filter_map(|c| c.key.clone()).collect();
    assert!(want.is_subset(&keys), "{want:?} not all in {keys:?}");
    assert!(
        svc.metric(
            "spanward_exporter_sent_spans_total",
            &["exporter=\"kafka\""]
        )
        .await
            >= 15.0
    );
    svc.stop().await;
}

/// A producer queue of one record: a batch of ten traces (ten records) must wait for room
/// (librdkafka's `QueueFull`), which holds the worker rather than failing the batch or
/// buffering without bound, and every record still arrives.
#[test]
fn full_producer_queue_holds_the_writer_and_loses_nothing() {
    use spanward::sink::kafka::{KafkaConfig, KafkaSink};
    use spanward::sink::{Delivery, Sink};
    let Some(bin) = tansu() else { return };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let broker = rt.block_on(Broker::start(bin));
    let cfg: KafkaConfig = serde_norway::from_str(&format!(
        "brokers: [\"{}\"]\ntopic: {TOPIC}\nqueue_max_messages: 1\n",
        broker.addr()
    ))
    .unwrap();
    let sink = KafkaSink::new(&cfg, Some("replica-q"), rt.handle().clone()).unwrap();
    let batch = req(900, 10, 3);
    assert_eq!(
        sink.write(
            spanward::vocab::Signal::Traces,
            &bytes::Bytes::from(prost::Message::encode_to_vec(&batch)),
            30
        )
        .unwrap(),
        Delivery::Durable
    );
    assert!(
        sink.queue_full_waits() > 0,
        "ten records through a one-record queue must wait for room"
    );
    sink.shutdown().unwrap();

    let want: BTreeSet<String> = (0..10)
        .map(|k| hex::encode(trace_id(900 * 100 + k)))
        .collect();
    let got = consume(&broker.addr(), 60, |c| {
        let keys: BTreeSet<String> = c.iter().filter_map(|c| c.key.clone()).collect();
        want.is_subset(&keys)
    });
    let mut per_trace: BTreeMap<String, usize> = BTreeMap::new();
    for c in &got {
        assert_eq!(
            c.headers.get("spanward-origin").map(String::as_str),
            Some("replica-q")
        );
        for s in spans_of(c) {
            *per_trace.entry(hex::encode(&s.trace_id)).or_default() += 1;
        }
    }
    for k in &want {
        assert_eq!(
            per_trace.get(k),
            Some(&3),
            "trace {k} incomplete or missing"
        );
    }
}

/// Logs and metrics through the log and Kafka sinks in fan-out order, as a worker writes them:
/// each signal lands on its own topic, log records keyed by trace id (those without one
/// unkeyed), a metrics batch as unkeyed records cut under `max_message_bytes`; every record is
/// stamped with its batch's position in the log, which `prove` confirms for log and metric
/// records alike. Nothing of either signal reaches the traces topic.
#[test]
fn logs_and_metrics_land_on_their_own_topics_stamped_with_the_log_position() {
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
    use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    use opentelemetry_proto::tonic::metrics::v1::{
        metric, Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics,
    };
    use spanward::sink::kafka::{KafkaConfig, KafkaSink};
    use spanward::sink::log::{LogConfig, LogSink};
    use spanward::sink::{Delivery, Provenance, Sink};
    use spanward::vocab::Signal;
    let Some(bin) = tansu() else { return };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let broker = rt.block_on(Broker::start(bin));
    let cfg: KafkaConfig = serde_norway::from_str(&format!(
        "brokers: [\"{}\"]\nmax_message_bytes: 4096\n",
        broker.addr()
    ))
    .unwrap();
    let kafka = KafkaSink::new(&cfg, Some("replica-l"), rt.handle().clone()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let log = LogSink::open(
        &LogConfig {
            path: dir.path().to_path_buf(),
            ..LogConfig::default()
        },
        &std::collections::HashMap::<String, String>::new(),
        false,
    )
    .unwrap();

    // Two traces' events and one record outside any trace.
    let rec = |trace: u8, i: u64| LogRecord {
        trace_id: if trace == 0 { vec![] } else { vec![trace; 16] },
        time_unix_nano: i,
        event_name: "gen_ai.client.inference.operation.details".into(),
        body: Some(AnyValue {
            value: Some(any_value::Value::StringValue(format!("event {i}"))),
        }),
        ..Default::default()
    };
    let logs = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: vec![kvs("service.name", "kafka-agent")],
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs {
                log_records: vec![rec(0x11, 1), rec(0, 2), rec(0x22, 3), rec(0x11, 4)],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    // 400 data points of ~20 bytes: over the 4096-byte records, so cut by points.
    let metrics = ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: "gen_ai.client.token.usage".into(),
                    data: Some(metric::Data::Gauge(Gauge {
                        data_points: (0..400)
                            .map(|i| NumberDataPoint {
                                time_unix_nano: i + 1,
                                value: Some(
                                    opentelemetry_proto::tonic::metrics::v1::number_data_point::Value::AsInt(i as i64),
                                ),
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
    };
    let mut positions = BTreeMap::new();
    for (signal, body, n) in [
        (Signal::Logs, logs.encode_to_vec(), 4),
        (Signal::Metrics, metrics.encode_to_vec(), 400),
    ] {
        let body = bytes::Bytes::from(body);
        let mut prov = Provenance::default();
        log.write_in_fanout(signal, &body, n, &mut prov).unwrap();
        assert_eq!(
            kafka.write_in_fanout(signal, &body, n, &mut prov).unwrap(),
            Delivery::Durable
        );
        positions.insert(signal.as_str(), prov.log.unwrap().seq);
    }
    kafka.shutdown().unwrap();
    log.close().unwrap();

    let check_stamp = |r: &RawRecord, signal: &str| {
        assert_eq!(r.headers["spanward-origin"], "replica-l");
        let seq: u64 = r.headers["spanward-log-seq"].parse().unwrap();
        assert_eq!(seq, positions[signal]);
        let proof = spanward::sink::log::verify::prove(dir.path(), seq).unwrap();
        let leaf =
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &proof.leaf_hash)
                .unwrap();
        assert_eq!(r.headers["spanward-log-leaf"], hex::encode(leaf));
    };

    let got = consume_topic(&broker.addr(), LOGS_TOPIC, 30, |c| c.len() >= 3);
    assert_eq!(got.len(), 3, "one record per trace id, one for the unkeyed");
    let mut by_key: BTreeMap<Option<String>, Vec<u64>> = BTreeMap::new();
    for r in &got {
        check_stamp(r, "logs");
        let req = ExportLogsServiceRequest::decode(r.value.as_slice()).unwrap();
        assert_eq!(
            req.resource_logs[0].resource.as_ref().unwrap().attributes[0],
            kvs("service.name", "kafka-agent")
        );
        for l in req
            .resource_logs
            .iter()
            .flat_map(|r| &r.scope_logs)
            .flat_map(|s| &s.log_records)
        {
            let want = (!l.trace_id.is_empty()).then(|| hex::encode(&l.trace_id));
            assert_eq!(r.key, want);
            by_key
                .entry(r.key.clone())
                .or_default()
                .push(l.time_unix_nano);
        }
    }
    assert_eq!(
        by_key,
        BTreeMap::from([
            (None, vec![2]),
            (Some("11".repeat(16)), vec![1, 4]),
            (Some("22".repeat(16)), vec![3]),
        ])
    );

    let got = consume_topic(&broker.addr(), METRICS_TOPIC, 30, |c| {
        let n: usize = c
            .iter()
            .map(|r| {
                ExportMetricsServiceRequest::decode(r.value.as_slice())
                    .unwrap()
                    .resource_metrics
                    .iter()
                    .flat_map(|r| &r.scope_metrics)
                    .flat_map(|s| &s.metrics)
                    .map(spanward::sink::log::kind::data_points)
                    .sum::<usize>()
            })
            .sum();
        n >= 400
    });
    assert!(got.len() > 1, "400 points cannot fit one 4096-byte record");
    let mut times = BTreeSet::new();
    for r in &got {
        check_stamp(r, "metrics");
        assert_eq!(r.key, None);
        assert!(r.value.len() <= 4096);
        let req = ExportMetricsServiceRequest::decode(r.value.as_slice()).unwrap();
        for m in req
            .resource_metrics
            .iter()
            .flat_map(|r| &r.scope_metrics)
            .flat_map(|s| &s.metrics)
        {
            assert_eq!(m.name, "gen_ai.client.token.usage");
            let Some(metric::Data::Gauge(g)) = &m.data else {
                panic!("{m:?}")
            };
            times.extend(g.data_points.iter().map(|p| p.time_unix_nano));
        }
    }
    assert_eq!(times, (1..=400).collect::<BTreeSet<u64>>());

    // The traces topic got nothing.
    let spans = consume_topic(&broker.addr(), TOPIC, 3, |c| !c.is_empty());
    assert!(spans.is_empty());
}
