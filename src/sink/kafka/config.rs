//! `exporters.kafka`: the sink's configuration, the limits [`KafkaConfig::validate`] checks, and
//! the librdkafka producer properties it becomes.

use rdkafka::config::ClientConfig;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum KafkaEncoding {
    /// The signal's `Export{Trace,Logs,Metrics}ServiceRequest` protobuf, as the collector's kafka
    /// receiver expects.
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

/// `exporters.kafka`: produce scrubbed spans, log records and metrics to Kafka, a topic per
/// signal.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaConfig {
    /// Bootstrap brokers, `host:port`. Default `["127.0.0.1:9092"]`; at least one.
    pub brokers: Vec<String>,
    /// Topic the records go to. Default `otlp_spans` (the collector's default). Created by the
    /// cluster's auto-creation or by you; while it does not exist, records fail retryably and
    /// back-pressure builds (one WARN line).
    pub topic: String,
    /// Topic the log records go to (`ExportLogsServiceRequest` values). Default `otlp_logs`
    /// (the collector's default). Same rules as `topic`, and it must differ from the other
    /// two: a consumer tells the signals apart by topic only.
    pub logs_topic: String,
    /// Topic the metrics go to (`ExportMetricsServiceRequest` values). Default `otlp_metrics`
    /// (the collector's default). Same rules as `logs_topic`.
    pub metrics_topic: String,
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
    /// 1 GB. A trace (or a trace's log records, or a metrics batch) larger than this is split
    /// into several records; a single span or log record (or metric data point) larger than
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
            logs_topic: "otlp_logs".into(),
            metrics_topic: "otlp_metrics".into(),
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
    #[error("{0}: must be non-empty")]
    NoSignalTopic(&'static str),
    #[error("{0} and {1} name the same topic `{2}`: a consumer could not tell the signals apart")]
    SharedTopic(&'static str, &'static str, String),
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
        for (key, t) in [
            ("logs_topic", &self.logs_topic),
            ("metrics_topic", &self.metrics_topic),
        ] {
            if t.trim().is_empty() {
                return Err(KafkaConfigError::NoSignalTopic(key));
            }
        }
        let named = [
            ("topic", &self.topic),
            ("logs_topic", &self.logs_topic),
            ("metrics_topic", &self.metrics_topic),
        ];
        for (i, (a, ta)) in named.iter().enumerate() {
            if let Some((b, _)) = named[i + 1..].iter().find(|(_, tb)| tb == ta) {
                return Err(KafkaConfigError::SharedTopic(a, b, ta.to_string()));
            }
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

    /// The topic `signal`'s records go to.
    pub fn topic_of(&self, signal: crate::vocab::Signal) -> &str {
        match signal {
            crate::vocab::Signal::Traces => &self.topic,
            crate::vocab::Signal::Logs => &self.logs_topic,
            crate::vocab::Signal::Metrics => &self.metrics_topic,
        }
    }

    /// The librdkafka producer properties: `properties` as given, then what the fields set.
    pub(super) fn client_config(&self) -> ClientConfig {
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
