//! Test harness: a downstream OTLP receiver that records what it gets, and the real spanward
//! service started in-process on ephemeral loopback ports.
#![allow(dead_code)]

use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::metrics::v1::Metric;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use spanward::config::Config;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Config lines that turn every processing stage off: spans pass through unchanged.
pub const PASS_THROUGH: &str = "fingerprint: { enabled: false }\nredaction: { enabled: false }\n";

/// A scripted failure of the test downstream: its code and, when given, its `RetryInfo` delay.
pub type ScriptedAnswer = (tonic::Code, Option<Duration>);

/// One call the test downstream received: when, and its `grpc-encoding` header.
pub type Call = (Instant, Option<String>);

/// Records every request; can be stalled (blocks until released) or slowed.
#[derive(Clone, Default)]
pub struct Downstream {
    pub received: Arc<Mutex<Vec<ExportTraceServiceRequest>>>,
    pub stall: Arc<std::sync::atomic::AtomicBool>,
    pub delay_ms: Arc<std::sync::atomic::AtomicU64>,
    pub fail_unavailable: Arc<std::sync::atomic::AtomicBool>,
    /// Answers for the next calls, one per call: a code and, when given, a `RetryInfo` delay.
    /// Empty (default): calls are served as above.
    pub script: Arc<Mutex<std::collections::VecDeque<ScriptedAnswer>>>,
    /// Every call as it arrived: when, and its `grpc-encoding` header.
    pub calls: Arc<Mutex<Vec<Call>>>,
    /// Every logs request received (`LogsService/Export`; stall, delay and failure apply as
    /// for traces, the script does not).
    pub logs_received: Arc<Mutex<Vec<ExportLogsServiceRequest>>>,
    /// Every metrics request received (`MetricsService/Export`; as for logs).
    pub metrics_received: Arc<Mutex<Vec<ExportMetricsServiceRequest>>>,
}

impl Downstream {
    /// What every signal's export goes through before it is recorded: stall, delay, failure.
    async fn gate(&self) -> Result<(), tonic::Status> {
        use std::sync::atomic::Ordering;
        while self.stall.load(Ordering::Acquire) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let d = self.delay_ms.load(Ordering::Acquire);
        if d > 0 {
            tokio::time::sleep(Duration::from_millis(d)).await;
        }
        if self.fail_unavailable.load(Ordering::Acquire) {
            return Err(tonic::Status::unavailable("test downstream down"));
        }
        Ok(())
    }
}

#[tonic::async_trait]
impl LogsService for Downstream {
    async fn export(
        &self,
        request: tonic::Request<ExportLogsServiceRequest>,
    ) -> Result<tonic::Response<ExportLogsServiceResponse>, tonic::Status> {
        self.gate().await?;
        self.logs_received
            .lock()
            .unwrap()
            .push(request.into_inner());
        Ok(tonic::Response::new(ExportLogsServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl MetricsService for Downstream {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        self.gate().await?;
        self.metrics_received
            .lock()
            .unwrap()
            .push(request.into_inner());
        Ok(tonic::Response::new(ExportMetricsServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl TraceService for Downstream {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        use std::sync::atomic::Ordering;
        let encoding = request
            .metadata()
            .get("grpc-encoding")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        self.calls.lock().unwrap().push((Instant::now(), encoding));
        while self.stall.load(Ordering::Acquire) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let d = self.delay_ms.load(Ordering::Acquire);
        if d > 0 {
            tokio::time::sleep(Duration::from_millis(d)).await;
        }
        if self.fail_unavailable.load(Ordering::Acquire) {
            return Err(tonic::Status::unavailable("test downstream down"));
        }
        let scripted = self.script.lock().unwrap().pop_front();
        if let Some((code, retry)) = scripted {
            return Err(spanward::rpc_status::tonic_status(
                code,
                "scripted test failure",
                retry,
            ));
        }
        self.received.lock().unwrap().push(request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

impl Downstream {
    /// Starts on 127.0.0.1:0; returns the recorder and its address.
    pub async fn start() -> (Downstream, SocketAddr) {
        Self::start_with(None).await
    }

    /// Like [`Downstream::start`], serving TLS (mTLS when `tls` names a client CA).
    pub async fn start_tls(tls: tonic::transport::ServerTlsConfig) -> (Downstream, SocketAddr) {
        Self::start_with(Some(tls)).await
    }

    async fn start_with(
        tls: Option<tonic::transport::ServerTlsConfig>,
    ) -> (Downstream, SocketAddr) {
        let d = Downstream::default();
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let svc = TraceServiceServer::new(d.clone())
            .accept_compressed(tonic::codec::CompressionEncoding::Gzip)
            .max_decoding_message_size(256 << 20);
        let logs = LogsServiceServer::new(d.clone())
            .accept_compressed(tonic::codec::CompressionEncoding::Gzip)
            .max_decoding_message_size(256 << 20);
        let metrics = MetricsServiceServer::new(d.clone())
            .accept_compressed(tonic::codec::CompressionEncoding::Gzip)
            .max_decoding_message_size(256 << 20);
        let mut builder = tonic::transport::Server::builder();
        if let Some(t) = tls {
            builder = builder.tls_config(t).unwrap();
        }
        tokio::spawn(async move {
            builder
                .add_service(svc)
                .add_service(logs)
                .add_service(metrics)
                .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(l))
                .await
                .unwrap();
        });
        (d, addr)
    }

    pub fn spans(&self) -> Vec<Span> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .flat_map(|r| r.resource_spans.iter())
            .flat_map(|r| r.scope_spans.iter())
            .flat_map(|s| s.spans.iter().cloned())
            .collect()
    }

    /// Arrival times of the calls so far.
    pub fn call_times(&self) -> Vec<Instant> {
        self.calls.lock().unwrap().iter().map(|c| c.0).collect()
    }

    pub fn span_count(&self) -> usize {
        spanward::pipeline::count_spans_all(&self.received.lock().unwrap())
    }

    /// Every log record received, in arrival order.
    pub fn log_records(&self) -> Vec<LogRecord> {
        self.logs_received
            .lock()
            .unwrap()
            .iter()
            .flat_map(|r| r.resource_logs.iter())
            .flat_map(|r| r.scope_logs.iter())
            .flat_map(|s| s.log_records.iter().cloned())
            .collect()
    }

    /// Every metric received, in arrival order.
    pub fn metrics_list(&self) -> Vec<Metric> {
        self.metrics_received
            .lock()
            .unwrap()
            .iter()
            .flat_map(|r| r.resource_metrics.iter())
            .flat_map(|r| r.scope_metrics.iter())
            .flat_map(|s| s.metrics.iter().cloned())
            .collect()
    }

    /// Metric data points received (what spanward counts for metrics).
    pub fn metric_point_count(&self) -> usize {
        self.metrics_list().iter().map(metric_points).sum()
    }

    /// Waits until `what()` reaches at least `n`, or panics after `secs`.
    pub async fn wait_for(&self, label: &str, n: usize, secs: u64, what: impl Fn(&Self) -> usize) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while what(self) < n {
            assert!(
                Instant::now() < deadline,
                "downstream got {} {label}, expected {n}",
                what(self)
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until at least `n` spans arrived, or panics after `secs`.
    pub async fn wait_spans(&self, n: usize, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while self.span_count() < n {
            assert!(
                Instant::now() < deadline,
                "downstream got {} spans, expected {n}",
                self.span_count()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The data points of a metric, of whichever kind.
pub fn metric_points(m: &Metric) -> usize {
    use opentelemetry_proto::tonic::metrics::v1::metric::Data;
    match &m.data {
        Some(Data::Gauge(g)) => g.data_points.len(),
        Some(Data::Sum(s)) => s.data_points.len(),
        Some(Data::Histogram(h)) => h.data_points.len(),
        Some(Data::ExponentialHistogram(h)) => h.data_points.len(),
        Some(Data::Summary(s)) => s.data_points.len(),
        None => 0,
    }
}

/// A running in-process service.
pub struct Service {
    pub grpc: SocketAddr,
    pub http: SocketAddr,
    pub admin: SocketAddr,
    pub data_dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), spanward::RunError>>>,
}

impl Service {
    /// Starts the service with `extra` YAML appended to a config that puts every listener on an
    /// ephemeral loopback port, forwards to `downstream` (when given) and writes the file sink to
    /// a temporary directory.
    pub async fn start(downstream: Option<SocketAddr>, extra: &str) -> Service {
        Self::start_limits(downstream, "{}", extra).await
    }

    /// Like [`Service::start`], with `receivers.otlp.limits` set to the `limits` YAML mapping.
    pub async fn start_limits(
        downstream: Option<SocketAddr>,
        limits: &str,
        extra: &str,
    ) -> Service {
        let data_dir = tempfile::tempdir().unwrap();
        let mut yaml = format!(
            "receivers:\n  otlp:\n    grpc: {{ endpoint: \"127.0.0.1:0\" }}\n    http: {{ endpoint: \"127.0.0.1:0\" }}\n    limits: {limits}\n",
        );
        yaml.push_str("exporters:\n");
        if let Some(d) = downstream {
            yaml.push_str(&format!("  otlp: {{ endpoint: \"http://{d}\" }}\n"));
        }
        yaml.push_str(&format!(
            "  file: {{ path: \"{}\" }}\n",
            data_dir.path().display()
        ));
        yaml.push_str("admin: { endpoint: \"127.0.0.1:0\" }\n");
        yaml.push_str(extra);
        Self::start_yaml(&yaml, data_dir).await
    }

    pub async fn start_yaml(yaml: &str, data_dir: tempfile::TempDir) -> Service {
        let cfg = Config::from_yaml(yaml, "test").unwrap();
        let resolved = cfg.resolve("test").unwrap();
        let listeners = spanward::Listeners::bind(&resolved).unwrap();
        let grpc = listeners.grpc_addr().unwrap();
        let http = listeners.http_addr().unwrap();
        let admin = listeners.admin_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(spanward::run(resolved, listeners, async move {
            let _ = rx.await;
        }));
        let s = Service {
            grpc,
            http,
            admin,
            data_dir,
            stop: Some(tx),
            task: Some(task),
        };
        s.wait_ready().await;
        s
    }

    async fn wait_ready(&self) {
        // A deadline for a hung start, not a speed target: a debug build on a loaded 2-core
        // machine (CI, or helpers compiling beside the suite) has taken over 10 s.
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok((200, _)) = http_get(self.admin, "/readyz").await {
                return;
            }
            assert!(Instant::now() < deadline, "service not ready in 60s");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Triggers shutdown, waits for `run` to return, and hands back the data directory (kept
    /// alive so the test can read the file sink).
    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.unwrap().unwrap();
        }
        self.data_dir
    }

    pub async fn metrics(&self) -> String {
        http_get(self.admin, "/metrics").await.unwrap().1
    }

    /// Sum of a metric's samples whose label text contains every string in `labels`.
    pub async fn metric(&self, name: &str, labels: &[&str]) -> f64 {
        metric_value(&self.metrics().await, name, labels)
    }

    /// Waits until a metric reaches `want` (counters lag the downstream by one export reply).
    pub async fn wait_metric(&self, name: &str, labels: &[&str], want: f64) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let v = self.metric(name, labels).await;
            if v == want {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{name}{labels:?} is {v}, expected {want}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn grpc_url(&self) -> String {
        format!("http://{}", self.grpc)
    }
}

pub fn metric_value(text: &str, name: &str, labels: &[&str]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| {
            let n = l.split(['{', ' ']).next().unwrap_or("");
            n == name
        })
        .filter(|l| labels.iter().all(|x| l.contains(x)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// A minimal HTTP/1.1 GET over a raw socket (keeps test dependencies small).
pub async fn http_get(addr: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    http_request(addr, "GET", path, &[], &[])
        .await
        .map(|(s, _, b)| (s, String::from_utf8_lossy(&b).into_owned()))
}

/// A minimal HTTP/1.1 request; returns status, headers (lower-cased names) and body.
pub async fn http_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<(u16, Vec<(String, String)>, Vec<u8>)> {
    let s = tokio::net::TcpStream::connect(addr).await?;
    http_request_on(s, &addr.to_string(), method, path, headers, body).await
}

/// [`http_request`] over an already open stream (e.g. a TLS connection).
pub async fn http_request_on<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    mut s: S,
    host: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<(u16, Vec<(String, String)>, Vec<u8>)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).await?;
    // A server may answer (413) and stop reading before the whole body is sent; like real
    // clients, still read the answer it gave.
    let wrote = s.write_all(body).await;
    let mut buf = Vec::new();
    let read = s.read_to_end(&mut buf).await;
    if buf.is_empty() {
        wrote?;
        read?;
    }
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no header end"))?;
    let head = String::from_utf8_lossy(&buf[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let hdrs: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = buf[split + 4..].to_vec();
    if hdrs
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    Ok((status, hdrs, body))
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(p) = b.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let n = usize::from_str_radix(std::str::from_utf8(&b[..p]).unwrap_or("0").trim(), 16)
            .unwrap_or(0);
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&b[p + 2..p + 2 + n]);
        b = &b[p + 2 + n + 2..];
    }
}

pub fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
        ..Default::default()
    }
}

/// A request with `n` spans carrying GenAI-style attributes; ids derived from `seed`.
pub fn request(n: usize, seed: u8) -> ExportTraceServiceRequest {
    let spans = (0..n)
        .map(|i| Span {
            trace_id: vec![seed; 16],
            span_id: {
                let mut id = vec![seed; 8];
                id[6] = (i >> 8) as u8;
                id[7] = i as u8;
                id
            },
            name: format!("execute_tool lookup {i}"),
            kind: 1,
            start_time_unix_nano: 1_700_000_000_000_000_000 + i as u64,
            end_time_unix_nano: 1_700_000_000_000_500_000 + i as u64,
            attributes: vec![
                kv("gen_ai.operation.name", "execute_tool"),
                kv("gen_ai.tool.call.arguments", "{\"city\":\"Paris\"}"),
            ],
            ..Default::default()
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name", "test-agent")],
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

/// Reads back every record of the tamper-evident log (as `spanward log cat` prints them).
pub fn file_sink_requests(dir: &std::path::Path) -> Vec<ExportTraceServiceRequest> {
    let mut out = Vec::new();
    spanward::sink::log::verify::cat(dir, 0, &mut out).unwrap();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Every line `spanward log cat` prints for the log in `dir` (each batch in its signal's
/// OTLP/JSON: `resourceSpans`, `resourceLogs` or `resourceMetrics` at the top).
pub fn file_sink_lines(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    spanward::sink::log::verify::cat(dir, 0, &mut out).unwrap();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The logs batches of the tamper-evident log, as `spanward log cat` prints them.
pub fn file_sink_logs(dir: &std::path::Path) -> Vec<ExportLogsServiceRequest> {
    file_sink_lines(dir)
        .iter()
        .filter(|l| l.contains("\"resourceLogs\""))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The metrics batches of the tamper-evident log, as `spanward log cat` prints them.
pub fn file_sink_metrics(dir: &std::path::Path) -> Vec<ExportMetricsServiceRequest> {
    file_sink_lines(dir)
        .iter()
        .filter(|l| l.contains("\"resourceMetrics\""))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The raw bytes of every file in a log directory (for grepping for values that must not be there).
pub fn log_dir_bytes(dir: &std::path::Path) -> Vec<u8> {
    let mut all = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() {
            all.extend(std::fs::read(p).unwrap());
        }
    }
    all
}

/// A gRPC client for the service.
pub async fn grpc_client(
    addr: SocketAddr,
) -> opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient<
    tonic::transport::Channel,
> {
    opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient::connect(
        format!("http://{addr}"),
    )
    .await
    .unwrap()
}

/// The venv's interpreter: `SPANWARD_TEST_PYTHON`, else `target/test-venv/bin/python` as
/// `scripts/test.sh` creates it.
pub fn python() -> std::path::PathBuf {
    if let Ok(p) = std::env::var("SPANWARD_TEST_PYTHON") {
        return p.into();
    }
    let p =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/test-venv/bin/python");
    assert!(
        p.exists(),
        "no Python venv with the OpenTelemetry SDK at {}: run scripts/test.sh, which creates it",
        p.display()
    );
    p
}

/// Runs `tests/python/emit_genai.py` (the OpenTelemetry Python SDK) and returns its trace id.
pub async fn emit_genai(protocol: &str, endpoint: String, tag: &str, extra: &[&str]) -> String {
    let mut args: Vec<String> = vec![protocol.into(), endpoint, tag.into()];
    args.extend(extra.iter().map(|s| s.to_string()));
    run_python("emit_genai.py", args).await
}

/// Runs `tests/python/emit_signals.py MODE PROTOCOL ENDPOINT TAG EXTRA…` (the OpenTelemetry
/// Python SDK's logs, metrics and traces exporters) and returns the JSON line it prints.
pub async fn emit_signals(
    mode: &str,
    protocol: &str,
    endpoint: String,
    tag: &str,
    extra: &[&str],
) -> serde_json::Value {
    let mut args: Vec<String> = vec![mode.into(), protocol.into(), endpoint, tag.into()];
    args.extend(extra.iter().map(|s| s.to_string()));
    let out = run_python("emit_signals.py", args).await;
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// Runs a script of `tests/python/` with the venv's interpreter; panics (with its stderr)
/// unless it succeeds; returns its standard output, trimmed.
pub async fn run_python(script: &str, args: Vec<String>) -> String {
    let script = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(script);
    let py = python();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(py)
            .arg(script)
            .args(&args)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "python client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A string attribute of a span.
pub fn str_attr(s: &Span, k: &str) -> Option<String> {
    s.attributes.iter().find(|kv| kv.key == k).and_then(|kv| {
        match kv.value.as_ref()?.value.as_ref()? {
            any_value::Value::StringValue(s) => Some(s.clone()),
            _ => None,
        }
    })
}

/// A free loopback port (bound and released; tests of the binary need numbers for its config).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `spanward run --config CFG` as a child process with `envs` set and its stderr sent
/// to `stderr`, and waits until its admin endpoint reports ready.
/// A running `spanward` binary. Dropping it (a failed assertion unwinding) kills the process,
/// so no service outlives its test holding ports, pipes or the test runner's output.
pub struct Binary(pub Option<std::process::Child>);

impl std::ops::Deref for Binary {
    type Target = std::process::Child;
    fn deref(&self) -> &std::process::Child {
        self.0.as_ref().expect("binary already stopped")
    }
}

impl std::ops::DerefMut for Binary {
    fn deref_mut(&mut self) -> &mut std::process::Child {
        self.0.as_mut().expect("binary already stopped")
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            if matches!(c.try_wait(), Ok(None)) {
                let _ = c.kill();
            }
            let _ = c.wait();
        }
    }
}

pub async fn start_binary(
    cfg: &std::path::Path,
    admin: SocketAddr,
    envs: &[(&str, &str)],
    stderr: std::process::Stdio,
) -> Binary {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_spanward"));
    cmd.args(["run", "--config"])
        .arg(cfg)
        .env_remove("RUST_LOG")
        .stderr(stderr);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = Binary(Some(cmd.spawn().unwrap()));
    let deadline = Instant::now() + Duration::from_secs(30);
    while !matches!(http_get(admin, "/readyz").await, Ok((200, _))) {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("spanward exited before it was ready: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "spanward binary not ready in 30 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child
}

/// Sends SIGTERM and waits for a clean exit.
pub async fn stop_binary(child: Binary) {
    let st = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let mut child = child;
    // Moved in whole: if the wait fails, the guard still kills the process.
    let code = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(code.success(), "exit status {code:?}");
}
