//! Forwards processed batches to the next collector stage over OTLP/gRPC, each signal to its
//! own service on the one endpoint (`TraceService`, `LogsService`, `MetricsService`, `/Export`),
//! with the same TLS, compression, concurrency and retries. The batch is sent as the
//! bytes the worker already encoded (a pass-through codec), so two sinks share one encoding.
//! Retries follow the OTLP spec: retryable codes back off exponentially (jittered ±20 %); a
//! `RetryInfo` delay replaces the backoff and is never shortened (jitter adds up to 20 % to it);
//! `RESOURCE_EXHAUSTED` without `RetryInfo` and every other code are permanent. A worker stays blocked while its batch is retried, which is what
//! turns a slow or dead next stage into back-pressure instead of memory growth.

use super::registry::{SinkConfig, SinkContext, ValidateContext};
use super::{Delivery, FailureKind, Sink, SinkError};
use crate::vocab::Signal;
use crate::yaml::{present, ComponentError};
use bytes::Bytes;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceResponse;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use prost::Message;
use serde::Deserialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tonic::transport::{Channel, Endpoint};

/// One OTLP/gRPC export call with pre-encoded bytes. Shared with the load generator.
pub async fn export_raw(
    channel: Channel,
    body: Bytes,
    gzip: bool,
    timeout: Duration,
) -> Result<ExportTraceServiceResponse, tonic::Status> {
    export_raw_with(channel, body, gzip, timeout, None).await
}

/// A request body of two chunks: the gRPC message prefix, then the message itself. The message
/// is the `Bytes` the worker holds, handed to HTTP/2 as it is: tonic's codec would copy every
/// request into a fresh buffer first (a megabyte per batch, and its page faults).
struct Framed {
    chunks: [Option<Bytes>; 2],
}

impl hyper::body::Body for Framed {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        let next = self.chunks.iter_mut().find_map(Option::take);
        std::task::Poll::Ready(next.map(|b| Ok(hyper::body::Frame::data(b))))
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.iter().all(Option::is_none)
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        let n: usize = self.chunks.iter().flatten().map(Bytes::len).sum();
        hyper::body::SizeHint::with_exact(n as u64)
    }
}

/// A gRPC message as the wire carries it: the compressed flag, the length, the bytes.
fn grpc_frame(message: Bytes, compressed: bool) -> Framed {
    let mut prefix = Vec::with_capacity(5);
    prefix.push(u8::from(compressed));
    prefix.extend_from_slice(&(message.len() as u32).to_be_bytes());
    Framed {
        chunks: [Some(Bytes::from(prefix)), Some(message)],
    }
}

fn gzip_bytes(b: &[u8]) -> Result<Bytes, tonic::Status> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(b)
        .and_then(|_| e.finish())
        .map(Bytes::from)
        .map_err(|e| tonic::Status::internal(format!("compressing the request: {e}")))
}

/// The gRPC status of a response: from its trailers (or, for a trailers-only answer, its
/// headers), else from the HTTP status as the gRPC spec maps it.
fn response_status(
    http: tonic::codegen::http::StatusCode,
    headers: &tonic::codegen::http::HeaderMap,
    trailers: Option<&tonic::codegen::http::HeaderMap>,
) -> tonic::Status {
    use tonic::codegen::http::StatusCode;
    if let Some(s) = trailers
        .and_then(tonic::Status::from_header_map)
        .or_else(|| tonic::Status::from_header_map(headers))
    {
        return s;
    }
    let code = match http {
        StatusCode::OK => tonic::Code::Unknown,
        StatusCode::BAD_REQUEST => tonic::Code::Internal,
        StatusCode::UNAUTHORIZED => tonic::Code::Unauthenticated,
        StatusCode::FORBIDDEN => tonic::Code::PermissionDenied,
        StatusCode::NOT_FOUND => tonic::Code::Unimplemented,
        StatusCode::TOO_MANY_REQUESTS
        | StatusCode::BAD_GATEWAY
        | StatusCode::SERVICE_UNAVAILABLE
        | StatusCode::GATEWAY_TIMEOUT => tonic::Code::Unavailable,
        _ => tonic::Code::Unknown,
    };
    tonic::Status::new(code, format!("HTTP status {http} without a gRPC status"))
}

/// The most of a next stage's answer that is read (an `ExportTraceServiceResponse` is a few
/// bytes; tonic's default decoding limit): a misbehaving next stage cannot grow our memory.
const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

/// [`export_raw`] with an `authorization` value (the load generator's bearer token). The call
/// is made on the channel directly (not through tonic's codec) so the body is not copied.
pub async fn export_raw_with(
    channel: Channel,
    body: Bytes,
    gzip: bool,
    timeout: Duration,
    authorization: Option<&tonic::metadata::AsciiMetadataValue>,
) -> Result<ExportTraceServiceResponse, tonic::Status> {
    let msg = export_call(channel, Signal::Traces, body, gzip, timeout, authorization).await?;
    ExportTraceServiceResponse::decode(msg)
        .map_err(|e| tonic::Status::internal(format!("undecodable export response: {e}")))
}

/// What a next stage's `Export…ServiceResponse` said: the items of the request it rejected
/// (`rejected_spans`, `rejected_log_records` or `rejected_data_points` of its
/// `partial_success`) and its message. Zero and empty when it took everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartialSuccess {
    pub rejected: i64,
    pub error_message: String,
}

/// The answer to one `signal` export, read as that signal's response type.
fn partial_success(signal: Signal, msg: Bytes) -> Result<PartialSuccess, prost::DecodeError> {
    Ok(match signal {
        Signal::Traces => ExportTraceServiceResponse::decode(msg)?
            .partial_success
            .map(|p| PartialSuccess {
                rejected: p.rejected_spans,
                error_message: p.error_message,
            }),
        Signal::Logs => ExportLogsServiceResponse::decode(msg)?
            .partial_success
            .map(|p| PartialSuccess {
                rejected: p.rejected_log_records,
                error_message: p.error_message,
            }),
        Signal::Metrics => ExportMetricsServiceResponse::decode(msg)?
            .partial_success
            .map(|p| PartialSuccess {
                rejected: p.rejected_data_points,
                error_message: p.error_message,
            }),
    }
    .unwrap_or_default())
}

/// One OTLP/gRPC export of a `signal` request (pre-encoded) to that signal's service
/// (`TraceService`, `LogsService` or `MetricsService`), as [`export_raw_with`] does for traces.
pub async fn export_signal_raw(
    channel: Channel,
    signal: Signal,
    body: Bytes,
    gzip: bool,
    timeout: Duration,
    authorization: Option<&tonic::metadata::AsciiMetadataValue>,
) -> Result<PartialSuccess, tonic::Status> {
    let msg = export_call(channel, signal, body, gzip, timeout, authorization).await?;
    partial_success(signal, msg)
        .map_err(|e| tonic::Status::internal(format!("undecodable export response: {e}")))
}

/// The call itself: returns the response message's bytes once the status is OK.
async fn export_call(
    channel: Channel,
    signal: Signal,
    body: Bytes,
    gzip: bool,
    timeout: Duration,
    authorization: Option<&tonic::metadata::AsciiMetadataValue>,
) -> Result<Bytes, tonic::Status> {
    use http_body_util::BodyExt;
    use tonic::codegen::{http, Service};
    let mut ch = channel;
    std::future::poll_fn(|cx| ch.poll_ready(cx))
        .await
        .map_err(|e| tonic::Status::unavailable(format!("next stage not reachable: {e}")))?;
    let message = if gzip { gzip_bytes(&body)? } else { body };
    let mut req = http::Request::builder()
        .method(http::Method::POST)
        .uri(signal.grpc_path())
        .header(http::header::CONTENT_TYPE, "application/grpc")
        .header(http::header::TE, "trailers")
        // The gRPC spec allows at most 8 digits.
        .header(
            "grpc-timeout",
            format!("{}m", timeout.as_millis().clamp(1, 99_999_999)),
        );
    if gzip {
        req = req.header("grpc-encoding", "gzip");
    }
    if let Some(a) = authorization {
        req = req.header(http::header::AUTHORIZATION, a.as_bytes());
    }
    let req = req
        .body(tonic::body::Body::new(grpc_frame(message, gzip)))
        .map_err(|e| tonic::Status::internal(format!("building the request: {e}")))?;
    let call = async {
        let resp = ch
            .call(req)
            .await
            .map_err(|e| tonic::Status::from_error(Box::new(e)))?;
        let (parts, mut body) = resp.into_parts();
        let mut data = bytes::BytesMut::new();
        let mut trailers = None;
        while let Some(frame) = body.frame().await {
            let frame = frame?;
            match frame.into_data() {
                Ok(d) if data.len() + d.len() > MAX_RESPONSE_BYTES => {
                    // tonic's own decoding limit, and its code (retryable in OTLP).
                    return Err(tonic::Status::out_of_range(format!(
                        "export response over {MAX_RESPONSE_BYTES} bytes"
                    )));
                }
                Ok(d) => data.extend_from_slice(&d),
                Err(f) => {
                    if let Ok(t) = f.into_trailers() {
                        trailers = Some(t);
                    }
                }
            }
        }
        let status = response_status(parts.status, &parts.headers, trailers.as_ref());
        if status.code() != tonic::Code::Ok {
            return Err(status);
        }
        // One message: flag, length, bytes. An empty body is an empty response.
        let data = data.freeze();
        match data.get(..5) {
            None => Ok(Bytes::new()),
            Some(p) if p[0] != 0 => Err(tonic::Status::internal("compressed export response")),
            Some(p) => {
                let n = u32::from_be_bytes([p[1], p[2], p[3], p[4]]) as usize;
                if data.len() < 5 + n {
                    return Err(tonic::Status::internal("truncated export response"));
                }
                Ok(data.slice(5..5 + n))
            }
        }
    };
    match tokio::time::timeout(timeout, call).await {
        Ok(r) => r,
        Err(_) => Err(tonic::Status::deadline_exceeded("export timed out")),
    }
}

/// OTLP codes after which the same request may succeed later.
fn retryable(status: &tonic::Status) -> bool {
    use tonic::Code::*;
    match status.code() {
        Cancelled | DeadlineExceeded | Aborted | OutOfRange | Unavailable | DataLoss => true,
        // The OTLP spec makes RESOURCE_EXHAUSTED retryable only when the server says when.
        ResourceExhausted => crate::rpc_status::retry_delay(status).is_some(),
        _ => false,
    }
}

/// The wait before the next attempt, as `(floor, jittered)`; `jitter` is uniform in [0, 1).
/// Jitter spreads retries of several workers so they do not hit the next stage together. A
/// `RetryInfo` delay is a floor set by the next stage: jitter only adds to it (up to 20 %), never
/// retrying earlier than asked. Our own backoff is jittered ±20 % and is its own floor.
fn retry_wait(
    retry_info: Option<Duration>,
    backoff: Duration,
    jitter: f64,
) -> (Duration, Duration) {
    match retry_info {
        Some(d) => (d, d + d.mul_f64(0.2 * jitter)),
        None => {
            let w = backoff.mul_f64(0.8 + 0.4 * jitter);
            (w, w)
        }
    }
}

/// `exporters.otlp.compression`.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// No compression (default): loopback and in-cluster hops rarely gain from gzip.
    #[default]
    None,
    Gzip,
}

/// `exporters.otlp`: forward to the next collector stage over OTLP/gRPC.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OtlpExporterConfig {
    /// Next stage, `http://host:port`. Default `http://127.0.0.1:4327`.
    pub endpoint: String,
    /// `none` (default) or `gzip`.
    pub compression: Compression,
    /// Deadline of one export attempt. Default `10s`; an attempt that exceeds it is retried.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// Requests in flight to the next stage at once. Default 4. When all are busy, workers wait,
    /// the queue fills and receivers refuse: a slow next stage becomes back-pressure.
    pub max_in_flight: usize,
    /// Retry policy for retryable failures (UNAVAILABLE, RESOURCE_EXHAUSTED, …).
    pub retry: RetryConfig,
    /// TLS settings for an `https://` endpoint (CA, client certificate for mTLS, server name).
    /// Default: none, which with `https://` means the system trust store and no client
    /// certificate. Set with an `http://` endpoint it is an error (TLS would silently be off).
    // A bare `tls:` counts as set, so with an `http://` endpoint it is an error, not plaintext.
    #[serde(deserialize_with = "present")]
    pub tls: Option<crate::tls::ClientTlsConfig>,
}

impl Default for OtlpExporterConfig {
    fn default() -> Self {
        OtlpExporterConfig {
            endpoint: "http://127.0.0.1:4327".into(),
            compression: Compression::None,
            timeout: Duration::from_secs(10),
            max_in_flight: 4,
            retry: RetryConfig::default(),
            tls: None,
        }
    }
}

/// `exporters.otlp.retry`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryConfig {
    /// First backoff. Default `100ms`.
    #[serde(with = "humantime_serde")]
    pub initial_interval: Duration,
    /// Backoff cap (doubling up to it, with jitter). Default `5s`. A `RetryInfo` delay from the
    /// next stage is honoured even when longer, but never past `max_elapsed_time`.
    #[serde(with = "humantime_serde")]
    pub max_interval: Duration,
    /// Give up after this long; the batch's spans are then counted as dropped
    /// (`reason="export_failed"`) with one WARN line. Default `60s`.
    #[serde(with = "humantime_serde")]
    pub max_elapsed_time: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            initial_interval: Duration::from_millis(100),
            max_interval: Duration::from_secs(5),
            max_elapsed_time: Duration::from_secs(60),
        }
    }
}

pub struct OtlpSink {
    channel: Channel,
    /// Why the next stage is not answering (`None` while it does): set by the start-up probe
    /// and by every export attempt, so `/readyz` and `spanward_exporter_up` show it at once
    /// rather than after `retry.max_elapsed_time`.
    failing: Arc<std::sync::Mutex<Option<String>>>,
    cfg: OtlpExporterConfig,
    rt: tokio::runtime::Handle,
    in_flight: Arc<tokio::sync::Semaphore>,
    aborted: AtomicBool,
    abort_notify: tokio::sync::Notify,
}

#[derive(Debug, thiserror::Error)]
pub enum OtlpSinkError {
    #[error("exporters.otlp.endpoint: {0}")]
    Endpoint(String),
    #[error("exporters.otlp.tls: {0}")]
    Tls(String),
}

impl OtlpSink {
    /// Connects lazily: a next stage that is down at start is retried per batch.
    pub fn new(
        cfg: &OtlpExporterConfig,
        rt: tokio::runtime::Handle,
    ) -> Result<Self, OtlpSinkError> {
        let mut ep = Endpoint::from_shared(cfg.endpoint.clone())
            .map_err(|e| OtlpSinkError::Endpoint(e.to_string()))?
            .connect_timeout(Duration::from_secs(5))
            .tcp_nodelay(true);
        if cfg.endpoint.starts_with("https://") {
            let tls = crate::tls::client_config(cfg.tls.as_ref())
                .map_err(|e| OtlpSinkError::Tls(e.to_string()))?;
            ep = ep
                .tls_config(tls)
                .map_err(|e| OtlpSinkError::Tls(e.to_string()))?;
        }
        let channel = {
            // connect_lazy needs a runtime context for its background task.
            let _g = rt.enter();
            ep.connect_lazy()
        };
        let failing = Arc::new(std::sync::Mutex::new(None));
        // Probe the next stage now: a wrong or dead endpoint is said at start (one WARN naming
        // it), not a minute later when the first batch gives up.
        rt.spawn(probe(cfg.endpoint.clone(), failing.clone()));
        Ok(OtlpSink {
            channel,
            failing,
            cfg: cfg.clone(),
            rt,
            in_flight: Arc::new(tokio::sync::Semaphore::new(cfg.max_in_flight)),
            aborted: AtomicBool::new(false),
            abort_notify: tokio::sync::Notify::new(),
        })
    }

    /// Records whether the next stage answered.
    fn observe(&self, failure: Option<String>) {
        set_state(&self.cfg.endpoint, &self.failing, failure);
    }

    async fn send(&self, signal: Signal, body: Bytes, spans: usize) -> Result<Delivery, SinkError> {
        let _permit = self
            .in_flight
            .acquire()
            .await
            .map_err(|_| SinkError::new("otlp", FailureKind::Fatal, "exporter closed"))?;
        let started = Instant::now();
        let retry = &self.cfg.retry;
        let mut backoff = retry.initial_interval;
        let gzip = self.cfg.compression == Compression::Gzip;
        loop {
            let res = export_signal_raw(
                self.channel.clone(),
                signal,
                body.clone(),
                gzip,
                self.cfg.timeout,
                None,
            )
            .await;
            let status = match res {
                Ok(ps) => {
                    self.observe(None);
                    if ps.rejected > 0 {
                        tracing::warn!(
                            %signal,
                            rejected = ps.rejected,
                            of = spans,
                            "next stage rejected part of a batch"
                        );
                        return Err(SinkError::new(
                            "otlp",
                            FailureKind::Permanent,
                            format!("next stage rejected {} {}", ps.rejected, signal.items()),
                        ));
                    }
                    return Ok(Delivery::Accepted);
                }
                Err(s) => s,
            };
            // Anything retryable means the next stage is not taking data now; a permanent
            // refusal is about this batch, not about the next stage.
            self.observe(retryable(&status).then(|| {
                let msg = status.message();
                if msg.is_empty() {
                    format!("{:?}", status.code())
                } else {
                    format!("{:?}: {msg}", status.code())
                }
            }));
            if !retryable(&status) {
                return Err(SinkError::new(
                    "otlp",
                    FailureKind::Permanent,
                    format!("next stage refused: {:?}", status.code()),
                ));
            }
            let (floor, wait) = retry_wait(
                crate::rpc_status::retry_delay(&status),
                backoff,
                rand::random::<f64>(),
            );
            let elapsed = started.elapsed();
            if elapsed + floor > retry.max_elapsed_time || self.aborted.load(Ordering::Acquire) {
                return Err(SinkError::new(
                    "otlp",
                    FailureKind::Retryable,
                    format!(
                        "gave up after {:.1}s: {:?}",
                        elapsed.as_secs_f64(),
                        status.code()
                    ),
                ));
            }
            // Upward jitter never pushes the retry past the give-up time (nor below the floor).
            let wait = wait
                .min(retry.max_elapsed_time.saturating_sub(elapsed))
                .max(floor);
            tracing::debug!(code = ?status.code(), wait_ms = wait.as_millis() as u64, "retrying export");
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.abort_notify.notified() => {}
            }
            backoff = (backoff * 2).min(retry.max_interval);
        }
    }
}

/// Sets the next stage's state; logs transitions only (one WARN when it stops answering, one
/// INFO when it answers again), each naming the endpoint.
fn set_state(endpoint: &str, failing: &std::sync::Mutex<Option<String>>, failure: Option<String>) {
    let mut g = failing.lock().unwrap_or_else(|e| e.into_inner());
    match (g.is_some(), &failure) {
        (false, Some(why)) => tracing::warn!(
            endpoint,
            error = %why,
            "next stage not answering: batches wait and are retried (readyz and spanward_exporter_up show it)"
        ),
        (true, None) => tracing::info!(endpoint, "next stage answers again"),
        _ => {}
    }
    *g = failure;
}

/// Opens one TCP connection to the endpoint's host and port (no request: the next stage sees
/// nothing but a connection) and records the outcome.
async fn probe(endpoint: String, failing: Arc<std::sync::Mutex<Option<String>>>) {
    let outcome = async {
        let uri: tonic::transport::Uri =
            endpoint.parse().map_err(|e| format!("not a URL ({e})"))?;
        let host = uri
            .host()
            .ok_or("no host")?
            .trim_matches(['[', ']'])
            .to_string();
        let port = uri
            .port_u16()
            .unwrap_or(if uri.scheme_str() == Some("https") {
                443
            } else {
                80
            });
        match tokio::time::timeout(
            Duration::from_secs(5),
            tokio::net::TcpStream::connect((host.as_str(), port)),
        )
        .await
        {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(format!("connecting: {e}")),
            Err(_) => Err("connecting: no answer within 5s".to_string()),
        }
    }
    .await;
    // An export may have answered meanwhile: its outcome is newer than the probe's.
    let mut g = failing.lock().unwrap_or_else(|e| e.into_inner());
    if let Err(why) = outcome {
        if g.is_none() {
            drop(g);
            set_state(&endpoint, &failing, Some(why));
        }
    } else {
        *g = None;
    }
}

/// `exporters.otlp` as a component.
impl SinkConfig for OtlpExporterConfig {
    fn validate(&self, _ctx: &ValidateContext) -> Result<(), ComponentError> {
        let ep = self.endpoint.as_str();
        let https = ep.starts_with("https://");
        if !(https || ep.starts_with("http://")) {
            return Err(ComponentError::new(
                "exporters.otlp.endpoint",
                format!("`{ep}` must start with http:// or https://"),
            ));
        }
        if self.max_in_flight == 0 {
            return Err(ComponentError::new(
                "exporters.otlp.max_in_flight",
                "must be at least 1",
            ));
        }
        // TLS files are read here, so `validate` reports a bad certificate and `run` never
        // starts half-secured.
        match (&self.tls, https) {
            (Some(_), false) => Err(ComponentError::new(
                "exporters.otlp.tls",
                "is set but the endpoint is not https://: TLS would be off",
            )),
            (t, true) => crate::tls::client_config(t.as_ref())
                .map(drop)
                .map_err(|e| ComponentError::new("exporters.otlp.tls", e)),
            (None, false) => Ok(()),
        }
    }

    fn build(&self, ctx: &mut SinkContext) -> Result<Arc<dyn Sink>, ComponentError> {
        let sink = OtlpSink::new(self, ctx.runtime.clone()).map_err(|e| match e {
            OtlpSinkError::Endpoint(m) => ComponentError::new("exporters.otlp.endpoint", m),
            OtlpSinkError::Tls(m) => ComponentError::new("exporters.otlp.tls", m),
        })?;
        Ok(Arc::new(sink))
    }
}

impl Sink for OtlpSink {
    fn name(&self) -> &'static str {
        "otlp"
    }

    fn problem(&self) -> Option<String> {
        self.failing
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|why| format!("next stage {} not answering: {why}", self.cfg.endpoint))
    }

    fn write(&self, signal: Signal, encoded: &Bytes, spans: usize) -> Result<Delivery, SinkError> {
        self.rt.block_on(self.send(signal, encoded.clone(), spans))
    }

    fn abort(&self) {
        self.aborted.store(true, Ordering::Release);
        self.abort_notify.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_info_is_a_floor_and_jitter_only_adds() {
        let d = Duration::from_millis(700);
        for j in [0.0, 0.25, 0.5, 0.999] {
            let (floor, wait) = retry_wait(Some(d), Duration::from_millis(10), j);
            assert_eq!(floor, d);
            assert!(wait >= d && wait <= d.mul_f64(1.2), "{wait:?}");
            let (floor, wait) = retry_wait(None, Duration::from_millis(100), j);
            assert_eq!(floor, wait);
            assert!(wait >= Duration::from_millis(80) && wait <= Duration::from_millis(120));
        }
    }

    #[test]
    fn resource_exhausted_retries_only_with_retry_info() {
        use crate::rpc_status::tonic_status;
        let with = tonic_status(
            tonic::Code::ResourceExhausted,
            "busy",
            Some(Duration::from_secs(1)),
        );
        assert!(retryable(&with));
        assert!(!retryable(&tonic_status(
            tonic::Code::ResourceExhausted,
            "too big",
            None
        )));
        assert!(retryable(&tonic::Status::unavailable("down")));
        assert!(!retryable(&tonic::Status::invalid_argument("bad")));
    }
}
