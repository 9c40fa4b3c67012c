//! Kafka sink (`exporters.kafka`): scrubbed spans as OTLP protobuf records on a topic, through
//! librdkafka (`rdkafka`).
//!
//! - One record per trace of a batch: key = the trace id in lowercase hex (so a trace stays in
//!   one partition), value = an `ExportTraceServiceRequest` holding that trace's spans with their
//!   resource and scope (the OpenTelemetry Collector kafka receiver's `otlp_proto` encoding).
//!   A trace larger than `max_message_bytes` is split into several records with the same key.
//! - Headers: `spanward-origin` (the replica's log origin, or `client_id` without a log) and,
//!   when the `file` exporter wrote the batch first, `spanward-log-seq` and `spanward-log-leaf`
//!   (the record's sequence number and RFC 9162 leaf hash in the tamper-evident log).
//! - `write` returns only once the broker confirmed every record of the batch (with
//!   `acks: all`, the in-sync replicas have it), so `ack: durable` answers clients after the
//!   delivery reports. Records that fail retryably (broker unreachable, timed out, full local
//!   queue) are produced again, holding the worker: the pipeline queue fills and receivers
//!   refuse with a retryable status. Memory stays bounded by librdkafka's queue limits plus
//!   one batch per worker.

use super::{Delivery, FailureKind, Provenance, Sink, SinkError};
use bytes::Bytes;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use rdkafka::client::ClientContext;
use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::RwLock;
use std::time::Duration;

const NAME: &str = "kafka";

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum KafkaEncoding {
    /// `ExportTraceServiceRequest` protobuf, as the collector's kafka receiver expects.
    #[default]
    OtlpProto,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum KafkaCompression {
    /// Default: no compression.
    #[default]
    None,
    Gzip,
    Snappy,
    Lz4,
}

impl KafkaCompression {
    fn codec(self) -> &'static str {
        match self {
            KafkaCompression::None => "none",
            KafkaCompression::Gzip => "gzip",
            KafkaCompression::Snappy => "snappy",
            KafkaCompression::Lz4 => "lz4",
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum KafkaAcks {
    /// Default: every in-sync replica has the record before the broker confirms it. Writes
    /// then count as `Durable`.
    #[default]
    All,
    /// Only the partition leader has it: faster, lost if the leader dies before replicating.
    /// Requires `idempotence: false`. Writes count as `Accepted`.
    Leader,
}

/// `exporters.kafka`: produce scrubbed spans to a Kafka topic.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaConfig {
    /// Bootstrap brokers, `host:port`. Default `["127.0.0.1:9092"]`; at least one.
    pub brokers: Vec<String>,
    /// Topic the records go to. Default `otlp_spans` (the collector's default). Created by the
    /// cluster's auto-creation or by you; while it does not exist, records fail retryably and
    /// back-pressure builds (one WARN line).
    pub topic: String,
    /// Record value format. Only `otlp_proto` (default).
    pub encoding: KafkaEncoding,
    /// `none` (default), `gzip`, `snappy` or `lz4`: compression of record batches.
    pub compression: KafkaCompression,
    /// `all` (default) or `leader`; see [`KafkaAcks`].
    pub acks: KafkaAcks,
    /// Idempotent producer: broker-side retries never duplicate or reorder records within a
    /// partition. Default true; requires `acks: all`.
    pub idempotence: bool,
    /// Producer `client.id`, also the `spanward-origin` header when the `file` exporter is off.
    /// Default `spanward`.
    pub client_id: String,
    /// How long librdkafka keeps retrying one record (`message.timeout.ms`). Default `30s`,
    /// 1s to 1h. When it passes, the sink itself produces the record again (holding the
    /// worker) until it succeeds or shutdown gives up.
    #[serde(with = "humantime_serde")]
    pub delivery_timeout: Duration,
    /// How long the producer waits to fill a record batch (`linger.ms`). Default `5ms`; at most
    /// 1s. Higher: bigger broker batches, more latency per client request under `ack: durable`.
    #[serde(with = "humantime_serde")]
    pub linger: Duration,
    /// Records waiting in librdkafka's queue at most (`queue.buffering.max.messages`). Default
    /// 100000. When full, workers wait for room: back-pressure, not memory growth.
    pub queue_max_messages: u32,
    /// Bytes waiting in librdkafka's queue at most (`queue.buffering.max.kbytes`, rounded up
    /// to KiB). Default 64 MiB. Full behaves as above.
    pub queue_max_bytes: u64,
    /// Largest record value. Default 1000000 (Kafka's default `message.max.bytes`); 1 KiB to
    /// 1 GB. A trace larger than this is split into several records; a single span larger than
    /// this cannot be sent: its batch fails permanently (counted `export_failed`).
    pub max_message_bytes: u32,
    /// Extra librdkafka producer properties (security.protocol, sasl.*, ssl.*, …), passed as
    /// they are. Keys that the fields above set are refused here. Default: none. Values are
    /// never logged.
    pub properties: BTreeMap<String, String>,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        KafkaConfig {
            brokers: vec!["127.0.0.1:9092".into()],
            topic: "otlp_spans".into(),
            encoding: KafkaEncoding::OtlpProto,
            compression: KafkaCompression::None,
            acks: KafkaAcks::All,
            idempotence: true,
            client_id: "spanward".into(),
            delivery_timeout: Duration::from_secs(30),
            linger: Duration::from_millis(5),
            queue_max_messages: 100_000,
            queue_max_bytes: 64 << 20,
            max_message_bytes: 1_000_000,
            properties: BTreeMap::new(),
        }
    }
}

/// librdkafka properties that [`KafkaConfig`] fields own.
const OWNED_PROPERTIES: &[&str] = &[
    "bootstrap.servers",
    "metadata.broker.list",
    "compression.codec",
    "compression.type",
    "acks",
    "request.required.acks",
    "enable.idempotence",
    "client.id",
    "message.timeout.ms",
    "delivery.timeout.ms",
    "linger.ms",
    "queue.buffering.max.ms",
    "queue.buffering.max.messages",
    "queue.buffering.max.kbytes",
    "message.max.bytes",
];

#[derive(Debug, thiserror::Error)]
pub enum KafkaConfigError {
    #[error("brokers: at least one broker is needed")]
    NoBrokers,
    #[error("topic: must be non-empty")]
    NoTopic,
    #[error("idempotence needs acks: all")]
    IdempotenceNeedsAll,
    #[error("{0}: out of range ({1})")]
    Range(&'static str, &'static str),
    #[error("properties.{0}: set by a dedicated exporters.kafka field; use that instead")]
    OwnedProperty(String),
    #[error("producer: {0}")]
    Client(String),
}

impl KafkaConfig {
    pub fn validate(&self) -> Result<(), KafkaConfigError> {
        if self.brokers.is_empty() || self.brokers.iter().any(|b| b.trim().is_empty()) {
            return Err(KafkaConfigError::NoBrokers);
        }
        if self.topic.trim().is_empty() {
            return Err(KafkaConfigError::NoTopic);
        }
        if self.idempotence && self.acks != KafkaAcks::All {
            return Err(KafkaConfigError::IdempotenceNeedsAll);
        }
        if self.delivery_timeout < Duration::from_secs(1)
            || self.delivery_timeout > Duration::from_secs(3600)
        {
            return Err(KafkaConfigError::Range("delivery_timeout", "1s to 1h"));
        }
        if self.linger > Duration::from_secs(1) {
            return Err(KafkaConfigError::Range("linger", "at most 1s"));
        }
        if self.queue_max_messages == 0 {
            return Err(KafkaConfigError::Range("queue_max_messages", "at least 1"));
        }
        if !(1024..=(1 << 40)).contains(&self.queue_max_bytes) {
            return Err(KafkaConfigError::Range("queue_max_bytes", "1 KiB to 1 TiB"));
        }
        if !(1024..=1_000_000_000).contains(&self.max_message_bytes) {
            return Err(KafkaConfigError::Range(
                "max_message_bytes",
                "1 KiB to 1 GB",
            ));
        }
        if let Some(k) = self
            .properties
            .keys()
            .find(|k| OWNED_PROPERTIES.contains(&k.as_str()))
        {
            return Err(KafkaConfigError::OwnedProperty(k.clone()));
        }
        Ok(())
    }

    fn client_config(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        for (k, v) in &self.properties {
            c.set(k, v);
        }
        c.set("bootstrap.servers", self.brokers.join(","))
            .set("client.id", &self.client_id)
            .set("enable.idempotence", self.idempotence.to_string())
            .set(
                "acks",
                match self.acks {
                    KafkaAcks::All => "all",
                    KafkaAcks::Leader => "1",
                },
            )
            .set("compression.codec", self.compression.codec())
            .set(
                "message.timeout.ms",
                self.delivery_timeout.as_millis().to_string(),
            )
            .set("linger.ms", self.linger.as_millis().to_string())
            .set(
                "queue.buffering.max.messages",
                self.queue_max_messages.to_string(),
            )
            .set(
                "queue.buffering.max.kbytes",
                self.queue_max_bytes.div_ceil(1024).to_string(),
            )
            // Headroom over the value for key, headers and record framing.
            .set(
                "message.max.bytes",
                (u64::from(self.max_message_bytes) + 64 * 1024).to_string(),
            );
        c
    }
}

/// One Kafka record to produce.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Lowercase hex trace id; `None` for spans without one.
    pub key: Option<String>,
    pub value: Vec<u8>,
}

/// Why a batch cannot become records.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("a span of {size} bytes exceeds exporters.kafka.max_message_bytes ({max})")]
pub struct SpanTooLarge {
    pub size: usize,
    pub max: usize,
}

/// Splits a batch into one request per trace id (in first-seen order), keeping each span under
/// its resource and scope; a trace whose request exceeds `max` bytes is cut into several.
pub fn records_by_trace(
    batch: &ExportTraceServiceRequest,
    max: usize,
) -> Result<Vec<Record>, SpanTooLarge> {
    // Per trace: the request being built and which (resource, scope) of the batch its last
    // ResourceSpans/ScopeSpans came from, so consecutive spans share them.
    struct Building {
        key: Option<String>,
        req: ExportTraceServiceRequest,
        at: (usize, usize),
    }
    let mut order: Vec<Building> = Vec::new();
    let mut index: HashMap<&[u8], usize> = HashMap::new();
    for (ri, rs) in batch.resource_spans.iter().enumerate() {
        for (si, ss) in rs.scope_spans.iter().enumerate() {
            for span in &ss.spans {
                let i = *index.entry(span.trace_id.as_slice()).or_insert_with(|| {
                    order.push(Building {
                        key: (!span.trace_id.is_empty()).then(|| hex::encode(&span.trace_id)),
                        req: ExportTraceServiceRequest::default(),
                        at: (usize::MAX, usize::MAX),
                    });
                    order.len() - 1
                });
                let b = &mut order[i];
                push_span(&mut b.req, &mut b.at, (ri, si), rs, ss, span.clone());
            }
        }
    }
    let mut out = Vec::with_capacity(order.len());
    for b in order {
        split_to_fit(b.key, b.req, max, &mut out)?;
    }
    Ok(out)
}

fn push_span(
    req: &mut ExportTraceServiceRequest,
    at: &mut (usize, usize),
    here: (usize, usize),
    rs: &ResourceSpans,
    ss: &ScopeSpans,
    span: Span,
) {
    if at.0 != here.0 {
        req.resource_spans.push(ResourceSpans {
            resource: rs.resource.clone(),
            scope_spans: Vec::new(),
            schema_url: rs.schema_url.clone(),
        });
        *at = (here.0, usize::MAX);
    }
    let Some(r) = req.resource_spans.last_mut() else {
        return;
    };
    if at.1 != here.1 {
        r.scope_spans.push(ScopeSpans {
            scope: ss.scope.clone(),
            spans: Vec::new(),
            schema_url: ss.schema_url.clone(),
        });
        at.1 = here.1;
    }
    if let Some(s) = r.scope_spans.last_mut() {
        s.spans.push(span);
    }
}

/// Encodes `req` as one record if it fits, else halves its spans until every part fits.
fn split_to_fit(
    key: Option<String>,
    req: ExportTraceServiceRequest,
    max: usize,
    out: &mut Vec<Record>,
) -> Result<(), SpanTooLarge> {
    let size = req.encoded_len();
    if size <= max {
        out.push(Record {
            key,
            value: req.encode_to_vec(),
        });
        return Ok(());
    }
    let spans: Vec<(usize, usize, usize)> = req
        .resource_spans
        .iter()
        .enumerate()
        .flat_map(|(ri, rs)| {
            rs.scope_spans
                .iter()
                .enumerate()
                .flat_map(move |(si, ss)| (0..ss.spans.len()).map(move |k| (ri, si, k)))
        })
        .collect();
    if spans.len() <= 1 {
        return Err(SpanTooLarge { size, max });
    }
    let (first, second) = spans.split_at(spans.len() / 2);
    for part in [first, second] {
        let mut sub = ExportTraceServiceRequest::default();
        let mut at = (usize::MAX, usize::MAX);
        for &(ri, si, k) in part {
            let rs = &req.resource_spans[ri];
            let ss = &rs.scope_spans[si];
            push_span(&mut sub, &mut at, (ri, si), rs, ss, ss.spans[k].clone());
        }
        split_to_fit(key.clone(), sub, max, out)?;
    }
    Ok(())
}

/// Whether a failed record may succeed if produced again later.
fn retryable(e: &KafkaError) -> bool {
    use RDKafkaErrorCode::*;
    !matches!(
        e.rdkafka_error_code(),
        Some(
            MessageSizeTooLarge
                | InvalidMessageSize
                | InvalidArgument
                | TopicAuthorizationFailed
                | ClusterAuthorizationFailed
                | TransactionalIdAuthorizationFailed
                | InvalidTopic
                | InvalidRecord
                | UnsupportedVersion
        )
    )
}

/// librdkafka's own log and error callbacks, at debug level: a down cluster makes it report the
/// same error many times a second; the sink's one WARN line when holding starts says it once.
struct QuietContext;

impl ClientContext for QuietContext {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        tracing::debug!(?level, fac, message, "librdkafka");
    }

    fn error(&self, error: KafkaError, reason: &str) {
        tracing::debug!(%error, reason, "librdkafka error");
    }
}

type KafkaProducer = FutureProducer<QuietContext>;

fn create(
    cfg: &KafkaConfig,
    rt: &tokio::runtime::Handle,
) -> Result<KafkaProducer, KafkaConfigError> {
    // The producer's helper tasks need a runtime context.
    let _g = rt.enter();
    cfg.client_config()
        .create_with_context(QuietContext)
        .map_err(|e| KafkaConfigError::Client(e.to_string()))
}

pub struct KafkaSink {
    /// Replaced when it stops making progress (see [`KafkaSink::renew`]); the number is its
    /// generation, so concurrent workers renew it once.
    producer: RwLock<(u64, KafkaProducer)>,
    generation: AtomicU64,
    cfg: KafkaConfig,
    origin: String,
    rt: tokio::runtime::Handle,
    aborted: AtomicBool,
    holding: AtomicBool,
    /// Times a record waited for room in librdkafka's full local queue (back-pressure).
    queue_full_waits: AtomicU64,
}

impl KafkaSink {
    /// Creates the producer; it connects in the background, so a cluster that is down at start
    /// turns into back-pressure at the first batch rather than a failed start.
    /// `origin`: the replica's log origin when the `file` exporter is on.
    pub fn new(
        cfg: &KafkaConfig,
        origin: Option<&str>,
        rt: tokio::runtime::Handle,
    ) -> Result<Self, KafkaConfigError> {
        cfg.validate()?;
        let producer = create(cfg, &rt)?;
        Ok(KafkaSink {
            producer: RwLock::new((0, producer)),
            generation: AtomicU64::new(0),
            origin: origin.unwrap_or(&cfg.client_id).to_string(),
            cfg: cfg.clone(),
            rt,
            aborted: AtomicBool::new(false),
            holding: AtomicBool::new(false),
            queue_full_waits: AtomicU64::new(0),
        })
    }

    /// How often a record had to wait because the producer's local queue was full
    /// (`queue_max_messages` / `queue_max_bytes`).
    pub fn queue_full_waits(&self) -> u64 {
        self.queue_full_waits.load(Ordering::Relaxed)
    }

    fn headers(&self, prov: &Provenance) -> OwnedHeaders {
        let mut h = OwnedHeaders::new().insert(Header {
            key: "spanward-origin",
            value: Some(self.origin.as_bytes()),
        });
        if let Some(p) = prov.log {
            let seq = p.seq.to_string();
            let leaf = hex::encode(p.leaf_hash);
            h = h
                .insert(Header {
                    key: "spanward-log-seq",
                    value: Some(seq.as_bytes()),
                })
                .insert(Header {
                    key: "spanward-log-leaf",
                    value: Some(leaf.as_bytes()),
                });
        }
        h
    }

    fn current(&self) -> (u64, KafkaProducer) {
        match self.producer.read() {
            Ok(p) => (p.0, p.1.clone()),
            Err(p) => {
                let p = p.into_inner();
                (p.0, p.1.clone())
            }
        }
    }

    /// Replaces producer generation `seen` with a fresh one (no-op if another worker already
    /// did). An idempotent producer whose records timed out, or that hit a fatal error, can stay
    /// stuck on its producer id and sequence numbers (a broker that lost its state, a broker
    /// without epoch bumping); a new producer gets a new id and starts clean. Records the old
    /// one still held fail and are produced again through the new one.
    fn renew(&self, seen: u64) {
        let Ok(mut p) = self.producer.write() else {
            return;
        };
        if p.0 != seen {
            return;
        }
        match create(&self.cfg, &self.rt) {
            Ok(fresh) => {
                let gen = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
                *p = (gen, fresh);
                tracing::info!(topic = %self.cfg.topic, "kafka producer recreated after failed deliveries");
            }
            Err(e) => tracing::warn!(error = %e, "kafka producer could not be recreated"),
        }
    }

    /// Produces `records` and waits for their delivery reports; re-produces the ones that
    /// failed retryably until all are confirmed or the sink is aborted.
    fn deliver(&self, records: &[Record], headers: &OwnedHeaders) -> Result<(), SinkError> {
        let mut pending: Vec<usize> = (0..records.len()).collect();
        let mut backoff = Duration::from_millis(100);
        loop {
            let (gen, producer) = self.current();
            let mut timed_out = false;
            let mut futures = Vec::with_capacity(pending.len());
            let mut failed: Vec<usize> = Vec::new();
            let mut last_error = String::new();
            for &i in &pending {
                let r = &records[i];
                let mut rec = FutureRecord::<str, [u8]>::to(&self.cfg.topic)
                    .payload(&r.value)
                    .headers(headers.clone());
                if let Some(k) = &r.key {
                    rec = rec.key(k.as_str());
                }
                // A full local queue: wait for room (back-pressure), checking for shutdown.
                loop {
                    match producer.send_result(rec) {
                        Ok(f) => {
                            futures.push((i, f));
                            break;
                        }
                        Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                            if self.aborted.load(Ordering::Acquire) {
                                return Err(SinkError::new(
                                    NAME,
                                    FailureKind::Retryable,
                                    "shutting down with the producer queue full",
                                ));
                            }
                            self.queue_full_waits.fetch_add(1, Ordering::Relaxed);
                            rec = back;
                            producer.poll(Duration::from_millis(10));
                        }
                        Err((e, _)) => {
                            if !retryable(&e) {
                                return Err(SinkError::new(
                                    NAME,
                                    FailureKind::Permanent,
                                    format!("record refused: {e}"),
                                ));
                            }
                            last_error = e.to_string();
                            failed.push(i);
                            break;
                        }
                    }
                }
            }
            for (i, f) in futures {
                match self.rt.block_on(f) {
                    Ok(Ok(_)) => {}
                    Ok(Err((e, _))) => {
                        if !retryable(&e) {
                            return Err(SinkError::new(
                                NAME,
                                FailureKind::Permanent,
                                format!("record refused: {e}"),
                            ));
                        }
                        timed_out |= matches!(
                            e.rdkafka_error_code(),
                            Some(RDKafkaErrorCode::MessageTimedOut)
                        );
                        last_error = e.to_string();
                        failed.push(i);
                    }
                    Err(_) => {
                        last_error = "producer dropped the delivery report".into();
                        failed.push(i);
                    }
                }
            }
            if failed.is_empty() {
                if self.holding.swap(false, Ordering::AcqRel) {
                    tracing::info!(topic = %self.cfg.topic, "kafka delivers again");
                }
                return Ok(());
            }
            if timed_out || producer.client().fatal_error().is_some() {
                self.renew(gen);
            }
            if self.aborted.load(Ordering::Acquire) {
                return Err(SinkError::new(
                    NAME,
                    FailureKind::Retryable,
                    format!("gave up at shutdown: {last_error}"),
                ));
            }
            if !self.holding.swap(true, Ordering::AcqRel) {
                tracing::warn!(topic = %self.cfg.topic, records = failed.len(), error = %last_error,
                    "kafka cannot take records; holding the batch and retrying (back-pressure)");
            }
            std::thread::sleep(backoff);
            backoff = (backoff * 2).min(Duration::from_secs(2));
            pending = failed;
        }
    }
}

impl Sink for KafkaSink {
    fn name(&self) -> &'static str {
        NAME
    }

    fn write(&self, encoded: &Bytes, spans: usize) -> Result<Delivery, SinkError> {
        self.write_in_fanout(encoded, spans, &mut Provenance::default())
    }

    fn write_in_fanout(
        &self,
        encoded: &Bytes,
        _spans: usize,
        prov: &mut Provenance,
    ) -> Result<Delivery, SinkError> {
        // Records are whole requests per trace: the batch is split in its decoded form.
        let batch = ExportTraceServiceRequest::decode(encoded.clone()).map_err(|e| {
            SinkError::new(
                NAME,
                FailureKind::Permanent,
                format!("undecodable batch: {e}"),
            )
        })?;
        let records = records_by_trace(&batch, self.cfg.max_message_bytes as usize)
            .map_err(|e| SinkError::new(NAME, FailureKind::Permanent, e.to_string()))?;
        self.deliver(&records, &self.headers(prov))?;
        Ok(match self.cfg.acks {
            KafkaAcks::All => Delivery::Durable,
            KafkaAcks::Leader => Delivery::Accepted,
        })
    }

    fn abort(&self) {
        self.aborted.store(true, Ordering::Release);
    }

    fn shutdown(&self) -> Result<(), SinkError> {
        // Every write already waited for its delivery reports; this only drains stragglers.
        self.current()
            .1
            .flush(Duration::from_secs(5))
            .map_err(|e| SinkError::new(NAME, FailureKind::Retryable, format!("flush: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::{
        any_value, AnyValue, InstrumentationScope, KeyValue,
    };
    use opentelemetry_proto::tonic::resource::v1::Resource;

    fn span(trace: u8, id: u8, pad: usize) -> Span {
        Span {
            trace_id: vec![trace; 16],
            span_id: vec![id; 8],
            name: "x".repeat(pad),
            ..Default::default()
        }
    }

    fn batch() -> ExportTraceServiceRequest {
        let rs = |name: &str, spans: Vec<Vec<Span>>| ResourceSpans {
            resource: Some(Resource {
                attributes: vec![KeyValue {
                    key: "service.name".into(),
                    value: Some(AnyValue {
                        value: Some(any_value::Value::StringValue(name.into())),
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            scope_spans: spans
                .into_iter()
                .enumerate()
                .map(|(i, s)| ScopeSpans {
                    scope: Some(InstrumentationScope {
                        name: format!("scope{i}"),
                        ..Default::default()
                    }),
                    spans: s,
                    schema_url: String::new(),
                })
                .collect(),
            schema_url: "u".into(),
        };
        ExportTraceServiceRequest {
            resource_spans: vec![
                rs(
                    "a",
                    vec![vec![span(1, 1, 0), span(2, 2, 0)], vec![span(1, 3, 0)]],
                ),
                rs("b", vec![vec![span(2, 4, 0), span(3, 5, 0)]]),
            ],
        }
    }

    fn decode(r: &Record) -> Vec<(String, String, u8)> {
        let req = ExportTraceServiceRequest::decode(r.value.as_slice()).unwrap();
        let mut out = Vec::new();
        for rs in req.resource_spans {
            let svc = format!("{:?}", rs.resource.map(|r| r.attributes));
            for ss in rs.scope_spans {
                for s in ss.spans {
                    out.push((
                        svc.clone(),
                        ss.scope.clone().unwrap_or_default().name,
                        s.span_id[0],
                    ));
                }
            }
        }
        out
    }

    #[test]
    fn one_record_per_trace_keeps_resource_and_scope() {
        let recs = records_by_trace(&batch(), 1 << 20).unwrap();
        let keys: Vec<_> = recs.iter().map(|r| r.key.clone().unwrap()).collect();
        assert_eq!(keys, ["01".repeat(16), "02".repeat(16), "03".repeat(16)]);
        let t1 = decode(&recs[0]);
        assert_eq!(t1.len(), 2);
        assert_eq!((t1[0].1.as_str(), t1[0].2), ("scope0", 1));
        assert_eq!((t1[1].1.as_str(), t1[1].2), ("scope1", 3));
        let t2 = decode(&recs[1]);
        assert_eq!(t2.iter().map(|t| t.2).collect::<Vec<_>>(), [2, 4]);
        assert_ne!(t2[0].0, t2[1].0, "span 4 keeps resource b");
        // Every span exactly once.
        let total: usize = recs.iter().map(|r| decode(r).len()).sum();
        assert_eq!(total, 5);
    }

    #[test]
    fn large_trace_is_split_under_the_limit_and_huge_span_refused() {
        let req = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: (0..40).map(|i| span(7, i, 1000)).collect(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let recs = records_by_trace(&req, 8 * 1024).unwrap();
        assert!(recs.len() >= 5, "{}", recs.len());
        assert!(recs.iter().all(|r| r.value.len() <= 8 * 1024));
        assert!(recs
            .iter()
            .all(|r| r.key.as_deref() == Some(&*"07".repeat(16))));
        let mut ids: Vec<u8> = recs.iter().flat_map(decode).map(|t| t.2).collect();
        ids.sort();
        assert_eq!(ids, (0..40).collect::<Vec<u8>>());

        let err = records_by_trace(&req, 1024).unwrap_err();
        assert!(err.size > 1000 && err.max == 1024);
    }

    #[test]
    fn spans_without_trace_id_get_no_key() {
        let mut req = batch();
        req.resource_spans[0].scope_spans[0].spans[0]
            .trace_id
            .clear();
        let recs = records_by_trace(&req, 1 << 20).unwrap();
        assert!(recs.iter().any(|r| r.key.is_none()));
    }

    #[test]
    fn config_validation_names_the_problem() {
        let ok = KafkaConfig::default();
        ok.validate().unwrap();
        let mut c = ok.clone();
        c.brokers.clear();
        assert!(matches!(c.validate(), Err(KafkaConfigError::NoBrokers)));
        let mut c = ok.clone();
        c.acks = KafkaAcks::Leader;
        assert!(matches!(
            c.validate(),
            Err(KafkaConfigError::IdempotenceNeedsAll)
        ));
        c.idempotence = false;
        c.validate().unwrap();
        let mut c = ok.clone();
        c.properties.insert("acks".into(), "0".into());
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("properties.acks"));
        let mut c = ok.clone();
        c.properties
            .insert("security.protocol".into(), "plaintext".into());
        c.validate().unwrap();
        let mut c = ok;
        c.max_message_bytes = 10;
        assert!(c.validate().is_err());
    }
}
