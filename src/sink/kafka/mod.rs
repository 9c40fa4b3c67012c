//! Kafka sink (`exporters.kafka`): scrubbed spans, log records and metrics as OTLP protobuf
//! records, each signal on its own topic (`topic`, `logs_topic`, `metrics_topic`), through
//! librdkafka (`rdkafka`).
//!
//! - Traces: one record per trace of a batch: key = the trace id in lowercase hex (so a trace
//!   stays in one partition), value = an `ExportTraceServiceRequest` holding that trace's spans
//!   with their resource and scope (the OpenTelemetry Collector kafka receiver's `otlp_proto`
//!   encoding). A trace larger than `max_message_bytes` is split into several records with the
//!   same key.
//! - Logs: the same per trace id of the log records (so a trace's events land in the partition
//!   number its spans get on a topic with as many partitions); records without a trace id go
//!   together, without a key (librdkafka's partitioner spreads them).
//! - Metrics: the batch as one `ExportMetricsServiceRequest` record without a key, cut by
//!   metrics (and a metric by its data points) when over `max_message_bytes`.
//! - Headers: `spanward-origin` (the replica's log origin, or `client_id` without a log) and,
//!   when the `file` exporter wrote the batch first, `spanward-log-seq` and `spanward-log-leaf`
//!   (the record's sequence number and RFC 9162 leaf hash in the tamper-evident log).
//! - `write` returns only once the broker confirmed every record of the batch (with
//!   `acks: all`, the in-sync replicas have it), so `ack: durable` answers clients after the
//!   delivery reports. Records that fail retryably (broker unreachable, timed out, full local
//!   queue) are produced again, holding the worker: the pipeline queue fills and receivers
//!   refuse with a retryable status. Memory stays bounded by librdkafka's queue limits plus
//!   one batch per worker.

mod config;
mod records;
#[cfg(test)]
mod tests;

pub use config::{KafkaAcks, KafkaCompression, KafkaConfig, KafkaConfigError, KafkaEncoding};
pub use records::{
    metric_records, records_by_log_trace, records_by_trace, ItemTooLarge, Record, SpanTooLarge,
};

use super::{Delivery, FailureKind, Provenance, Sink, SinkError};
use crate::vocab::Signal;
use bytes::Bytes;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::RwLock;
use std::time::Duration;

const NAME: &str = "kafka";

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
                tracing::info!(brokers = %self.cfg.brokers.join(","), "kafka producer recreated after failed deliveries");
            }
            Err(e) => tracing::warn!(error = %e, "kafka producer could not be recreated"),
        }
    }

    /// Produces `records` and waits for their delivery reports; re-produces the ones that
    /// failed retryably until all are confirmed or the sink is aborted.
    fn deliver(
        &self,
        topic: &str,
        records: &[Record],
        headers: &OwnedHeaders,
    ) -> Result<(), SinkError> {
        let mut pending: Vec<usize> = (0..records.len()).collect();
        let mut backoff = Duration::from_millis(100);
        loop {
            let (gen, producer) = self.current();
            let mut round = Round::default();
            let reports = self.produce(&producer, topic, records, &pending, headers, &mut round)?;
            self.await_reports(reports, &mut round)?;
            if round.failed.is_empty() {
                if self.holding.swap(false, Ordering::AcqRel) {
                    tracing::info!(topic, "kafka delivers again");
                }
                return Ok(());
            }
            self.hold(topic, gen, &producer, &round)?;
            std::thread::sleep(backoff);
            backoff = (backoff * 2).min(Duration::from_secs(2));
            pending = round.failed;
        }
    }

    /// Hands the `pending` records to the producer. Returns the delivery reports to wait for;
    /// records refused retryably at once go to `round`.
    fn produce(
        &self,
        producer: &KafkaProducer,
        topic: &str,
        records: &[Record],
        pending: &[usize],
        headers: &OwnedHeaders,
        round: &mut Round,
    ) -> Result<Vec<(usize, DeliveryFuture)>, SinkError> {
        let mut reports = Vec::with_capacity(pending.len());
        for &i in pending {
            let r = &records[i];
            let mut rec = FutureRecord::<str, [u8]>::to(topic)
                .payload(&r.value)
                .headers(headers.clone());
            if let Some(k) = &r.key {
                rec = rec.key(k.as_str());
            }
            match self.send(producer, rec)? {
                Sent::Queued(f) => reports.push((i, f)),
                Sent::Failed(e) => {
                    round.last_error = e.to_string();
                    round.failed.push(i);
                }
            }
        }
        Ok(reports)
    }

    /// Queues one record. A full local queue: waits for room (back-pressure), checking for
    /// shutdown. A record refused for good fails the batch.
    fn send(
        &self,
        producer: &KafkaProducer,
        mut rec: FutureRecord<'_, str, [u8]>,
    ) -> Result<Sent, SinkError> {
        loop {
            match producer.send_result(rec) {
                Ok(f) => return Ok(Sent::Queued(f)),
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
                Err((e, _)) if !retryable(&e) => return Err(refused(&e)),
                Err((e, _)) => return Ok(Sent::Failed(e)),
            }
        }
    }

    /// Waits for the delivery reports; records that failed retryably go to `round`.
    fn await_reports(
        &self,
        reports: Vec<(usize, DeliveryFuture)>,
        round: &mut Round,
    ) -> Result<(), SinkError> {
        for (i, f) in reports {
            match self.rt.block_on(f) {
                Ok(Ok(_)) => {}
                Ok(Err((e, _))) => {
                    if !retryable(&e) {
                        return Err(refused(&e));
                    }
                    round.timed_out |= matches!(
                        e.rdkafka_error_code(),
                        Some(RDKafkaErrorCode::MessageTimedOut)
                    );
                    round.last_error = e.to_string();
                    round.failed.push(i);
                }
                Err(_) => {
                    round.last_error = "producer dropped the delivery report".into();
                    round.failed.push(i);
                }
            }
        }
        Ok(())
    }

    /// After a round with failures: renews a producer that may be stuck, gives up at
    /// shutdown, and says once (WARN) that the sink holds the batch.
    fn hold(
        &self,
        topic: &str,
        gen: u64,
        producer: &KafkaProducer,
        round: &Round,
    ) -> Result<(), SinkError> {
        if round.timed_out || producer.client().fatal_error().is_some() {
            self.renew(gen);
        }
        if self.aborted.load(Ordering::Acquire) {
            return Err(SinkError::new(
                NAME,
                FailureKind::Retryable,
                format!("gave up at shutdown: {}", round.last_error),
            ));
        }
        if !self.holding.swap(true, Ordering::AcqRel) {
            tracing::warn!(topic, records = round.failed.len(), error = %round.last_error,
                "kafka cannot take records; holding the batch and retrying (back-pressure)");
        }
        Ok(())
    }
}

/// One round of [`KafkaSink::deliver`]: the records that failed retryably, the last error, and
/// whether a delivery timed out (the producer may be stuck).
#[derive(Default)]
struct Round {
    failed: Vec<usize>,
    last_error: String,
    timed_out: bool,
}

/// What [`KafkaSink::send`] did with a record.
enum Sent {
    /// Queued: its delivery report will come.
    Queued(DeliveryFuture),
    /// Refused at once, retryably.
    Failed(KafkaError),
}

/// A `signal` batch as its records (see [`records`]). A batch that does not decode, or holds an
/// item too large for one record, fails permanently: retrying cannot change it.
fn split(signal: Signal, encoded: &Bytes, max: usize) -> Result<Vec<Record>, SinkError> {
    let undecodable = |e: prost::DecodeError| {
        SinkError::new(
            NAME,
            FailureKind::Permanent,
            format!("undecodable {signal} batch: {e}"),
        )
    };
    let records = match signal {
        Signal::Traces => records_by_trace(
            &ExportTraceServiceRequest::decode(encoded.clone()).map_err(undecodable)?,
            max,
        ),
        Signal::Logs => records_by_log_trace(
            &ExportLogsServiceRequest::decode(encoded.clone()).map_err(undecodable)?,
            max,
        ),
        Signal::Metrics => metric_records(
            &ExportMetricsServiceRequest::decode(encoded.clone()).map_err(undecodable)?,
            max,
        ),
    };
    records.map_err(|e| SinkError::new(NAME, FailureKind::Permanent, e.to_string()))
}

fn refused(e: &KafkaError) -> SinkError {
    SinkError::new(NAME, FailureKind::Permanent, format!("record refused: {e}"))
}

impl Sink for KafkaSink {
    fn name(&self) -> &'static str {
        NAME
    }

    fn write(
        &self,
        signal: crate::vocab::Signal,
        encoded: &Bytes,
        spans: usize,
    ) -> Result<Delivery, SinkError> {
        self.write_in_fanout(signal, encoded, spans, &mut Provenance::default())
    }

    fn write_in_fanout(
        &self,
        signal: Signal,
        encoded: &Bytes,
        _spans: usize,
        prov: &mut Provenance,
    ) -> Result<Delivery, SinkError> {
        // Records are whole requests per key: the batch is split in its decoded form.
        let records = split(signal, encoded, self.cfg.max_message_bytes as usize)?;
        self.deliver(self.cfg.topic_of(signal), &records, &self.headers(prov))?;
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
