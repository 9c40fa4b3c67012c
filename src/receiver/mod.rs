//! OTLP receivers (gRPC and HTTP). Both check a request against its canonical form and the
//! limits ([`body::admit`]), and hand it to [`Ingest::submit`], which samples it and turns the
//! queue's answer into an OTLP-spec outcome. Requests stay encoded: see [`crate::otlp`].

pub mod body;
pub mod grpc;
pub mod http;
pub mod memlimit;
pub mod ratelimit;

use crate::auth::ClientId;
use crate::otlp::{view, Edits, Limits, Msg};
use crate::pipeline::queue::{QueueError, QueueSender};
use crate::pipeline::{Ack, AckResult, Batch};
use crate::vocab::metrics::Metrics;
use crate::vocab::{DropReason, Health, RefuseReason, Signal};
use body::Admitted;
use bytes::Bytes;
use serde::Deserialize;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `pipeline.queue.when_full`: what a receiver does when the queue has no room.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum WhenFull {
    /// Wait up to `max_wait` for room, then refuse (default).
    #[default]
    Wait,
    /// Refuse at once.
    Refuse,
}

/// `pipeline.ack`: when a receiver answers OK.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum AckMode {
    /// OK once the batch is in the bounded queue (default; the collector's semantics).
    #[default]
    Accepted,
    /// OK only after every sink confirmed the batch (fsynced, or acknowledged downstream).
    Durable,
}

/// What the receivers do with a request they admitted: the parts of the `pipeline:` section
/// they act on.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// `pipeline.ack`: answer once queued, or once every sink confirmed.
    pub ack: AckMode,
    /// `pipeline.queue.when_full`: wait for room, or refuse at once.
    pub when_full: WhenFull,
    /// `pipeline.queue.max_wait`: how long a request may wait for room with `wait`.
    pub max_wait: Duration,
    /// `pipeline.retry_after`: the retry hint sent with retryable refusals.
    pub retry_after: Duration,
}

/// A refusal as the receivers report it: reason plus the retry hint for retryable ones.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub reason: RefuseReason,
    /// Short, fixed text: never echoes payload content.
    pub message: String,
    pub retry_after: Option<Duration>,
}

/// Shared by both receivers: the queue, policies and counters.
pub struct Ingest {
    pub queue: QueueSender,
    pub policy: Policy,
    pub limits: Limits,
    pub metrics: Metrics,
    pub health: Arc<Health>,
    /// Early sampling, before the queue, so sampled-out spans never take queue space. `None`
    /// when it would keep everything.
    pub sampler: Option<crate::pipeline::sample::Sampler>,
    /// Per-client token buckets; `None` when no rate is configured.
    pub rate_limiter: Option<ratelimit::RateLimiter>,
    /// Admission on resident memory; `None` when off.
    pub memory: Option<Arc<memlimit::MemoryLimiter>>,
    /// `receivers.otlp.signals`: the signals served; the others are refused as unimplemented
    /// (gRPC `UNIMPLEMENTED`, HTTP 404), naming the key.
    pub signals: Signals,
}

/// `receivers.otlp.signals`: which OTLP signals the receivers take. Default: all three.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Signals(pub Vec<Signal>);

impl Default for Signals {
    fn default() -> Self {
        Signals(Signal::ALL.to_vec())
    }
}

impl Signals {
    pub fn contains(&self, s: &Signal) -> bool {
        self.0.contains(s)
    }

    /// An empty list serves nothing: refused rather than taken for "all".
    pub fn validate(&self) -> Result<(), String> {
        if self.0.is_empty() {
            return Err("lists no signal; name at least one of traces, logs, metrics".into());
        }
        Ok(())
    }
}

impl Ingest {
    /// Whether `signal` is served (`receivers.otlp.signals`).
    pub fn serves(&self, signal: Signal) -> bool {
        self.signals.contains(&signal)
    }

    /// The answer's text for a signal that is not served.
    pub fn not_served(signal: Signal) -> String {
        format!("{signal} are not accepted by this receiver (receivers.otlp.signals)")
    }

    pub fn refusal(&self, reason: RefuseReason, message: &str) -> Refusal {
        Refusal {
            reason,
            message: message.to_string(),
            retry_after: reason.retryable().then_some(self.policy.retry_after),
        }
    }

    /// Records and builds a refusal of a request that could not be decoded or was too large.
    pub fn reject(&self, transport: &'static str, reason: RefuseReason, message: &str) -> Refusal {
        self.metrics.refused(transport, reason, 0);
        self.refusal(reason, message)
    }

    /// [`Ingest::reject`] of a request of `signal`.
    pub fn reject_as(
        &self,
        signal: Signal,
        transport: &'static str,
        reason: RefuseReason,
        message: &str,
    ) -> Refusal {
        self.metrics.refused_as(signal, transport, reason, 0);
        self.refusal(reason, message)
    }

    /// Checks a (decompressed) body where it sits and applies the structural limits
    /// ([`body::admit`]; an OTLP/JSON body is converted to protobuf first): a refusal is counted
    /// (with the request's span count when it is known), replaced oversized values are counted
    /// as `redactions{type="oversize"}`.
    pub fn check(
        &self,
        transport: &'static str,
        signal: Signal,
        body: Bytes,
        json: bool,
    ) -> Result<Admitted, Refusal> {
        match body::admit_signal(signal, body, json, &self.limits) {
            Ok(a) => {
                if a.oversize_values > 0 {
                    self.metrics
                        .redactions
                        .get_or_create(&crate::vocab::metrics::TypeLabel {
                            r#type: "oversize".to_string(),
                        })
                        .inc_by(a.oversize_values);
                }
                Ok(a)
            }
            Err(e) => {
                let reason = e.error.reason();
                self.metrics.refused_as(signal, transport, reason, e.spans);
                Err(self.refusal(reason, &e.error.to_string()))
            }
        }
    }

    /// Admits a checked request from an anonymous client. `bytes` is its decompressed size as
    /// received.
    pub async fn submit(
        &self,
        transport: &'static str,
        request: Admitted,
        bytes: usize,
    ) -> Result<(), Refusal> {
        self.submit_as(transport, &ClientId::default(), request, bytes)
            .await
    }

    /// Admits a checked request from `client` (the name of its bearer token, when it has one:
    /// the identity per-client limits are keyed on), in four steps: admission (shutdown, sink
    /// health, memory, the client's rate), early sampling, the queue, and with `ack: durable`
    /// the sinks' confirmation.
    pub async fn submit_as(
        &self,
        transport: &'static str,
        client: &ClientId,
        request: Admitted,
        bytes: usize,
    ) -> Result<(), Refusal> {
        let from = Submission {
            transport,
            signal: request.signal,
            client,
            spans: request.spans,
        };
        if from.spans == 0 {
            return Ok(());
        }
        let request = request.body;
        self.admit(&from, &request, bytes)?;
        let Some((request, sampled_out)) = self.sample(&from, request)? else {
            // Every span sampled out: nothing to queue, the request is done.
            return Ok(());
        };
        let waiter = self
            .enqueue(&from, request, from.spans - sampled_out, bytes)
            .await?;
        self.accepted(&from, sampled_out);
        match waiter {
            Some(w) => self.await_ack(&from, w).await,
            None => Ok(()),
        }
    }

    /// Counts and builds the refusal of a submitted request's spans.
    fn refuse(&self, from: &Submission<'_>, reason: RefuseReason, msg: &str) -> Refusal {
        tracing::debug!(
            transport = from.transport,
            client = from.client.0.as_deref().unwrap_or("-"),
            reason = reason.as_str(),
            signal = from.signal.as_str(),
            items = from.spans,
            "request refused"
        );
        self.metrics
            .refused_as(from.signal, from.transport, reason, from.spans);
        self.refusal(reason, msg)
    }

    /// Whether the service takes the request at all: not shutting down, every sink ready,
    /// memory under its limits, the client under its rate.
    fn admit(&self, from: &Submission<'_>, request: &Bytes, bytes: usize) -> Result<(), Refusal> {
        if self.health.shutting_down.load(Ordering::Acquire) {
            return Err(self.refuse(from, RefuseReason::ShuttingDown, "shutting down"));
        }
        if !self.health.sinks_ready() {
            return Err(self.refuse(from, RefuseReason::Unready, "a sink is unavailable"));
        }
        if let Some(m) = &self.memory {
            let pending =
                self.queue.depth_spans() > 0 || self.metrics.pipeline_in_process_spans.get() > 0;
            if m.refuse(pending) {
                return Err(self.refuse(
                    from,
                    RefuseReason::MemoryLimited,
                    "memory limit reached, retry later",
                ));
            }
        }
        self.check_rate(from, request, bytes)
    }

    /// The client's token bucket, when rates are configured. A client without a token is known
    /// by the request's first `service.name`.
    fn check_rate(
        &self,
        from: &Submission<'_>,
        request: &Bytes,
        bytes: usize,
    ) -> Result<(), Refusal> {
        let Some(rl) = &self.rate_limiter else {
            return Ok(());
        };
        let name = ratelimit::sanitize_client(
            from.client
                .0
                .as_deref()
                .unwrap_or_else(|| view::first_service_name(Msg::new(request)).unwrap_or("")),
        );
        let ratelimit::Verdict::Limited(wait) = rl.check(&name, from.spans, bytes, Instant::now())
        else {
            return Ok(());
        };
        self.metrics.refused_as(
            from.signal,
            from.transport,
            RefuseReason::RateLimited,
            from.spans,
        );
        self.metrics
            .receiver_rate_limited_spans
            .get_or_create(&crate::vocab::metrics::ClientLabel {
                client: rl.label(&name),
            })
            .inc_by(from.spans as u64);
        let mut r = self.refusal(
            RefuseReason::RateLimited,
            "rate limit exceeded, retry later",
        );
        r.retry_after = Some(wait.max(Duration::from_millis(100)));
        Err(r)
    }

    /// Early sampling: the request with the sampled-out spans removed, and how many were; `None`
    /// when none is kept (the request is then accepted and done).
    fn sample(
        &self,
        from: &Submission<'_>,
        request: Bytes,
    ) -> Result<Option<(Bytes, usize)>, Refusal> {
        let Some(s) = &self.sampler else {
            return Ok(Some((request, 0)));
        };
        // A checked request always parses; should it not, nothing of it goes on.
        let malformed = || {
            self.refuse(
                from,
                RefuseReason::Malformed,
                "request could not be sampled",
            )
        };
        let mut edits = Edits::new();
        let st = match from.signal {
            Signal::Traces => s.apply_encoded(Msg::new(&request), &mut edits),
            Signal::Logs => s.apply_logs_encoded(Msg::new(&request), &mut edits),
            // Metrics are never sampled.
            Signal::Metrics => return Ok(Some((request, 0))),
        }
        .map_err(|_| malformed())?;
        let request = if edits.is_empty() {
            request
        } else {
            let mut out = Vec::with_capacity(request.len());
            edits
                .apply(Msg::new(&request), &mut out)
                .map_err(|_| malformed())?;
            Bytes::from(out)
        };
        let sampled_out = st.sampled_out as usize;
        if st.kept == 0 {
            self.accepted(from, sampled_out);
            return Ok(None);
        }
        Ok(Some((request, sampled_out)))
    }

    /// Puts the batch on the queue as `pipeline.queue.when_full` says; with `ack: durable`,
    /// returns what to wait on for the sinks' confirmation.
    async fn enqueue(
        &self,
        from: &Submission<'_>,
        request: Bytes,
        spans: usize,
        bytes: usize,
    ) -> Result<Option<tokio::sync::oneshot::Receiver<AckResult>>, Refusal> {
        let (ack, waiter) = match self.policy.ack {
            AckMode::Durable => {
                let (a, w) = Ack::new();
                (Some(a), Some(w))
            }
            AckMode::Accepted => (None, None),
        };
        let batch = Batch {
            signal: from.signal,
            request,
            spans,
            bytes,
            received: Instant::now(),
            ack,
        };
        let sent = match self.policy.when_full {
            WhenFull::Refuse => self.queue.try_send(batch),
            WhenFull::Wait => self.queue.send_wait(batch, self.policy.max_wait).await,
        };
        // Not accepted: the client is told to retry; the batch (and its Ack) goes away.
        // The queue-depth gauges are read from the queue at scrape time (admin), not set here.
        match sent {
            Ok(()) => Ok(waiter),
            Err(QueueError::Full(_)) => {
                Err(self.refuse(from, RefuseReason::QueueFull, "queue full, retry later"))
            }
            Err(QueueError::Closed(_)) => {
                Err(self.refuse(from, RefuseReason::ShuttingDown, "shutting down"))
            }
        }
    }

    /// Counts the request's items as accepted, and those sampled out as dropped (`sampled`).
    fn accepted(&self, from: &Submission<'_>, sampled_out: usize) {
        self.metrics
            .accepted(from.signal, from.transport, from.spans);
        self.metrics
            .dropped_as(from.signal, DropReason::Sampled, sampled_out);
    }

    /// `ack: durable`: waits until every sink confirmed the batch.
    async fn await_ack(
        &self,
        from: &Submission<'_>,
        waiter: tokio::sync::oneshot::Receiver<AckResult>,
    ) -> Result<(), Refusal> {
        match waiter.await {
            Ok(AckResult::Delivered) => Ok(()),
            _ => {
                // Accepted and then lost by a sink: counted under pipeline drops already; the
                // request counter records that this client was told to retry.
                self.metrics
                    .refused_as(from.signal, from.transport, RefuseReason::NotDurable, 0);
                Err(self.refusal(RefuseReason::NotDurable, "not stored, retry later"))
            }
        }
    }
}

/// A request being submitted: who sent it, how, which signal, and how many items it holds.
struct Submission<'a> {
    transport: &'static str,
    signal: Signal,
    client: &'a ClientId,
    spans: usize,
}
