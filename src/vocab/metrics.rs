//! The one metrics vocabulary of the service. Stages update counters once per batch, never per
//! span in a tight loop. Names follow the OpenTelemetry Collector's where one exists
//! (`otelcol_receiver_accepted_spans` → `spanward_receiver_accepted_spans_total`).

use super::{DropReason, RefuseReason, Signal};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// The receivers' transports, as they appear in the `transport` label.
pub const TRANSPORTS: [&str; 2] = ["grpc", "http"];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TransportLabel {
    pub transport: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RefusedLabels {
    pub transport: &'static str,
    pub reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    pub reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ExporterLabel {
    pub exporter: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TypeLabel {
    pub r#type: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ClientLabel {
    pub client: String,
}

/// All counters and gauges. Cheap to clone (every field is an `Arc` inside).
#[derive(Clone)]
pub struct Metrics {
    /// Spans admitted (answered OK, or awaiting a durable ack) per transport.
    pub receiver_accepted_spans: Family<TransportLabel, Counter>,
    /// Spans refused, by transport and reason (`queue_full`, `too_large`, `malformed`, …).
    pub receiver_refused_spans: Family<RefusedLabels, Counter>,
    /// Requests refused, by transport and reason (malformed bodies have no span count).
    pub receiver_refused_requests: Family<RefusedLabels, Counter>,
    /// Spans that went through every stage and reached every sink.
    pub pipeline_delivered_spans: Counter,
    /// Spans accepted but not delivered, by reason (`sampled`, `scrub_error`,
    /// `fingerprint_error`, `export_failed`, `shutdown`).
    pub pipeline_dropped_spans: Family<ReasonLabel, Counter>,
    /// Spans a sink confirmed, per exporter.
    pub exporter_sent_spans: Family<ExporterLabel, Counter>,
    /// Spans a sink failed on, per exporter.
    pub exporter_send_failed_spans: Family<ExporterLabel, Counter>,
    /// 1 while an exporter's destination answers, 0 while it does not (the OTLP next stage
    /// unreachable or refusing retryably; a failed log). Set at each scrape.
    pub exporter_up: Family<ExporterLabel, Gauge>,
    /// Spans waiting in the queue.
    pub exporter_queue_size: Gauge,
    /// Queue capacity in spans.
    pub exporter_queue_capacity: Gauge,
    /// Bytes waiting in the queue, and the byte capacity.
    pub queue_bytes: Gauge,
    pub queue_capacity_bytes: Gauge,
    /// Spans taken off the queue and not yet delivered or dropped.
    pub pipeline_in_process_spans: Gauge,
    /// Time from taking a batch off the queue to the last sink's answer.
    pub batch_duration: Histogram,
    /// Time one sink took to write one batch (its retries and back-pressure holds included),
    /// per exporter.
    pub exporter_write_duration: Family<ExporterLabel, Histogram, fn() -> Histogram>,
    /// Redactions applied, by type.
    pub redactions: Family<TypeLabel, Counter>,
    /// `bytes` attribute values the scrubber left alone (`redaction.bytes: keep`, or not UTF-8
    /// under `scan`): stored as sent, so an operator can see how much was not scanned.
    pub scrub_bytes_values_skipped: Counter,
    /// Attributes the scrubber removed (`drop_keys`, the `drop` action, `bytes: drop`).
    pub scrub_dropped_attributes: Counter,
    /// String bytes the scrubber scanned.
    pub scrub_scanned_bytes: Counter,
    /// Receiver connections whose TLS handshake failed or timed out (no client certificate,
    /// untrusted or expired one, plaintext on a TLS port), per transport.
    pub receiver_tls_handshake_failures: Family<TransportLabel, Counter>,
    /// 1 while ready (listeners bound, workers running, sinks healthy).
    pub ready: Gauge,
    /// Spans refused by the rate limiter, per client (bounded label set: see
    /// `receivers.otlp.rate_limit.max_client_labels`); log records and metric points too.
    pub receiver_rate_limited_spans: Family<ClientLabel, Counter>,
    /// The counters above that count spans, for log records (`…_log_records`).
    pub logs: ItemCounters,
    /// … and for metric data points (`…_metric_points`).
    pub metric_points: ItemCounters,
}

/// One signal's item counters, named after its items as the OpenTelemetry Collector names
/// them (`receiver_accepted_log_records`, `exporter_sent_metric_points`). Spans keep the
/// `…_spans` counters of [`Metrics`].
#[derive(Clone, Default)]
pub struct ItemCounters {
    pub receiver_accepted: Family<TransportLabel, Counter>,
    pub receiver_refused: Family<RefusedLabels, Counter>,
    pub pipeline_delivered: Counter,
    pub pipeline_dropped: Family<ReasonLabel, Counter>,
    pub exporter_sent: Family<ExporterLabel, Counter>,
    pub exporter_send_failed: Family<ExporterLabel, Counter>,
}

impl ItemCounters {
    fn register(&self, r: &mut Registry, items: &str, what: &str) {
        r.register(
            format!("receiver_accepted_{items}"),
            format!("{what} accepted by the receivers"),
            self.receiver_accepted.clone(),
        );
        r.register(
            format!("receiver_refused_{items}"),
            format!("{what} refused by the receivers, by reason"),
            self.receiver_refused.clone(),
        );
        r.register(
            format!("pipeline_delivered_{items}"),
            format!("{what} that reached every sink"),
            self.pipeline_delivered.clone(),
        );
        r.register(
            format!("pipeline_dropped_{items}"),
            format!("Accepted {what} not delivered, by reason"),
            self.pipeline_dropped.clone(),
        );
        r.register(
            format!("exporter_sent_{items}"),
            format!("{what} confirmed by each exporter"),
            self.exporter_sent.clone(),
        );
        r.register(
            format!("exporter_send_failed_{items}"),
            format!("{what} an exporter failed to send"),
            self.exporter_send_failed.clone(),
        );
    }
}

impl Metrics {
    pub fn new() -> (Metrics, Registry) {
        let m = Metrics {
            receiver_accepted_spans: Family::default(),
            receiver_refused_spans: Family::default(),
            receiver_refused_requests: Family::default(),
            pipeline_delivered_spans: Counter::default(),
            pipeline_dropped_spans: Family::default(),
            exporter_sent_spans: Family::default(),
            exporter_send_failed_spans: Family::default(),
            exporter_up: Family::default(),
            exporter_queue_size: Gauge::default(),
            exporter_queue_capacity: Gauge::default(),
            queue_bytes: Gauge::default(),
            queue_capacity_bytes: Gauge::default(),
            pipeline_in_process_spans: Gauge::default(),
            batch_duration: Histogram::new(exponential_buckets(0.0001, 2.0, 16)),
            exporter_write_duration: Family::new_with_constructor(|| {
                Histogram::new(exponential_buckets(0.0001, 2.0, 18))
            }),
            redactions: Family::default(),
            scrub_bytes_values_skipped: Counter::default(),
            scrub_dropped_attributes: Counter::default(),
            scrub_scanned_bytes: Counter::default(),
            ready: Gauge::default(),
            receiver_rate_limited_spans: Family::default(),
            receiver_tls_handshake_failures: Family::default(),
            logs: ItemCounters::default(),
            metric_points: ItemCounters::default(),
        };
        let mut r = Registry::with_prefix("spanward");
        r.register(
            "receiver_accepted_spans",
            "Spans accepted by the receivers",
            m.receiver_accepted_spans.clone(),
        );
        r.register(
            "receiver_refused_spans",
            "Spans refused by the receivers, by reason",
            m.receiver_refused_spans.clone(),
        );
        r.register(
            "receiver_refused_requests",
            "Requests refused by the receivers, by reason",
            m.receiver_refused_requests.clone(),
        );
        r.register(
            "pipeline_delivered_spans",
            "Spans that reached every sink",
            m.pipeline_delivered_spans.clone(),
        );
        r.register(
            "pipeline_dropped_spans",
            "Accepted spans not delivered, by reason",
            m.pipeline_dropped_spans.clone(),
        );
        r.register(
            "exporter_sent_spans",
            "Spans confirmed by each exporter",
            m.exporter_sent_spans.clone(),
        );
        r.register(
            "exporter_up",
            "1 while the exporter's destination answers, 0 while it does not",
            m.exporter_up.clone(),
        );
        r.register(
            "exporter_send_failed_spans",
            "Spans an exporter failed to send",
            m.exporter_send_failed_spans.clone(),
        );
        r.register(
            "exporter_queue_size",
            "Spans waiting in the queue",
            m.exporter_queue_size.clone(),
        );
        r.register(
            "exporter_queue_capacity",
            "Queue capacity in spans",
            m.exporter_queue_capacity.clone(),
        );
        r.register(
            "queue_bytes",
            "Bytes waiting in the queue",
            m.queue_bytes.clone(),
        );
        r.register(
            "queue_capacity_bytes",
            "Queue capacity in bytes",
            m.queue_capacity_bytes.clone(),
        );
        r.register(
            "pipeline_in_process_spans",
            "Spans taken off the queue and not yet delivered or dropped",
            m.pipeline_in_process_spans.clone(),
        );
        r.register(
            "pipeline_batch_duration_seconds",
            "Time to process one batch through stages and sinks",
            m.batch_duration.clone(),
        );
        r.register(
            "exporter_write_duration_seconds",
            "Time one exporter took to write one batch, retries and holds included",
            m.exporter_write_duration.clone(),
        );
        r.register(
            "redactions",
            "Values redacted, by type",
            m.redactions.clone(),
        );
        r.register(
            "scrub_bytes_values_skipped",
            "Bytes attribute values left unscanned (redaction.bytes: keep, or not UTF-8)",
            m.scrub_bytes_values_skipped.clone(),
        );
        r.register(
            "scrub_dropped_attributes",
            "Attributes removed by the scrubber (drop_keys, drop action, bytes: drop)",
            m.scrub_dropped_attributes.clone(),
        );
        r.register(
            "scrub_scanned_bytes",
            "String bytes scanned by the scrubber",
            m.scrub_scanned_bytes.clone(),
        );
        r.register(
            "receiver_tls_handshake_failures",
            "Receiver connections whose TLS handshake failed or timed out",
            m.receiver_tls_handshake_failures.clone(),
        );
        r.register("ready", "1 when ready to accept spans", m.ready.clone());
        m.logs.register(&mut r, "log_records", "Log records");
        m.metric_points
            .register(&mut r, "metric_points", "Metric data points");
        r.register(
            "receiver_rate_limited_spans",
            "Spans refused by the per-client rate limiter, by client",
            m.receiver_rate_limited_spans.clone(),
        );
        (m, r)
    }

    pub fn refused(&self, transport: &'static str, reason: RefuseReason, spans: usize) {
        self.refused_as(Signal::Traces, transport, reason, spans)
    }

    /// One refused request of `signal` holding `items` items (0 when unknown).
    pub fn refused_as(
        &self,
        signal: Signal,
        transport: &'static str,
        reason: RefuseReason,
        items: usize,
    ) {
        let l = RefusedLabels {
            transport,
            reason: reason.as_str(),
        };
        self.receiver_refused_requests.get_or_create(&l).inc();
        if items > 0 {
            let family = match self.items(signal) {
                None => &self.receiver_refused_spans,
                Some(c) => &c.receiver_refused,
            };
            family.get_or_create(&l).inc_by(items as u64);
        }
    }

    /// The counters of a signal other than traces.
    fn items(&self, signal: Signal) -> Option<&ItemCounters> {
        match signal {
            Signal::Traces => None,
            Signal::Logs => Some(&self.logs),
            Signal::Metrics => Some(&self.metric_points),
        }
    }

    /// Items of `signal` accepted on `transport`.
    pub fn accepted(&self, signal: Signal, transport: &'static str, items: usize) {
        let family = match self.items(signal) {
            None => &self.receiver_accepted_spans,
            Some(c) => &c.receiver_accepted,
        };
        family
            .get_or_create(&TransportLabel { transport })
            .inc_by(items as u64);
    }

    /// Items of `signal` that reached every sink.
    pub fn delivered(&self, signal: Signal, items: usize) {
        match self.items(signal) {
            None => &self.pipeline_delivered_spans,
            Some(c) => &c.pipeline_delivered,
        }
        .inc_by(items as u64);
    }

    /// Items of `signal` an exporter confirmed (`ok`) or failed on.
    pub fn exported(&self, signal: Signal, exporter: &'static str, ok: bool, items: usize) {
        let family = match (self.items(signal), ok) {
            (None, true) => &self.exporter_sent_spans,
            (None, false) => &self.exporter_send_failed_spans,
            (Some(c), true) => &c.exporter_sent,
            (Some(c), false) => &c.exporter_send_failed,
        };
        family
            .get_or_create(&ExporterLabel { exporter })
            .inc_by(items as u64);
    }

    /// One sink's write of one batch took `took`.
    pub fn exporter_write_duration(&self, exporter: &'static str, took: std::time::Duration) {
        self.exporter_write_duration
            .get_or_create(&ExporterLabel { exporter })
            .observe(took.as_secs_f64());
    }

    pub fn dropped(&self, reason: DropReason, spans: usize) {
        self.dropped_as(Signal::Traces, reason, spans)
    }

    /// Accepted items of `signal` not delivered, by reason.
    pub fn dropped_as(&self, signal: Signal, reason: DropReason, items: usize) {
        if items > 0 {
            let family = match self.items(signal) {
                None => &self.pipeline_dropped_spans,
                Some(c) => &c.pipeline_dropped,
            };
            family
                .get_or_create(&ReasonLabel {
                    reason: reason.as_str(),
                })
                .inc_by(items as u64);
        }
    }
}
