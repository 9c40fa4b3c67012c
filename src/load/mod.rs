//! The load generator users benchmark with (`spanward load`): AI-agent spans with GenAI
//! semantic-convention attributes, a configurable share carrying synthetic PII and secrets, sent
//! over OTLP/gRPC or OTLP/HTTP at full speed or a fixed rate with N requests in flight, for a
//! bounded time. Requests are generated and encoded up front so the generator stays cheap.

mod gen;

pub use gen::{agent_request, GenConfig};

use bytes::Bytes;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Protocol {
    Grpc,
    Http,
}

/// What to send and how hard.
#[derive(Debug, Clone, clap::Args)]
pub struct LoadArgs {
    /// Target `host:port`. Default: the receiver's default port for `--protocol`,
    /// `127.0.0.1:4317` for gRPC, `127.0.0.1:4318` for HTTP.
    #[arg(long)]
    pub endpoint: Option<String>,
    #[arg(long, value_enum, default_value = "grpc")]
    pub protocol: Protocol,
    /// How long to send.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub duration: Duration,
    /// Spans per second in total; 0 sends as fast as the target answers.
    #[arg(long, default_value_t = 0)]
    pub rate: u64,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Spans per request.
    #[arg(long, default_value_t = 512)]
    pub spans_per_request: usize,
    /// Mean size of the message payloads per span in bytes (actual sizes vary ±50 %, 300 B min).
    #[arg(long, default_value_t = 1500)]
    pub payload_bytes: usize,
    /// Share of spans carrying synthetic PII or secrets (0.0–1.0).
    #[arg(long, default_value_t = 0.3)]
    pub pii_fraction: f64,
    /// Seed of the generator: the same seed sends the same spans.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Distinct pre-encoded requests cycled through.
    #[arg(long, default_value_t = 32)]
    pub distinct_requests: usize,
    /// gzip request bodies.
    #[arg(long)]
    pub gzip: bool,
    /// Also print the result as one JSON line (for scripts).
    #[arg(long)]
    pub json: bool,
    /// File whose first line is the bearer token to send (a file, not a flag: `ps` would show
    /// a flag's value).
    #[arg(long)]
    pub token_file: Option<std::path::PathBuf>,
    /// gRPC over TLS, trusting the CA certificate(s) in this PEM file.
    #[arg(long)]
    pub ca_file: Option<std::path::PathBuf>,
}

impl LoadArgs {
    /// The target: `--endpoint`, else the default port of `--protocol`.
    pub fn target(&self) -> &str {
        match (&self.endpoint, self.protocol) {
            (Some(e), _) => e,
            (None, Protocol::Grpc) => "127.0.0.1:4317",
            (None, Protocol::Http) => "127.0.0.1:4318",
        }
    }
}

/// The outcome of a load run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LoadReport {
    pub seconds: f64,
    pub requests_ok: u64,
    pub spans_ok: u64,
    pub bytes_ok: u64,
    pub spans_per_sec: f64,
    pub mb_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Failed requests by status (`grpc:UNAVAILABLE`, `http:429`, `transport`).
    pub failures: BTreeMap<String, u64>,
    pub spans_failed: u64,
}

impl std::fmt::Display for LoadReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "sent {} spans in {} requests over {:.1}s: {:.0} spans/s, {:.1} MB/s, latency p50 {:.2} ms p99 {:.2} ms",
            self.spans_ok, self.requests_ok, self.seconds, self.spans_per_sec, self.mb_per_sec, self.p50_ms, self.p99_ms
        )?;
        if self.failures.is_empty() {
            write!(f, "failures: none")
        } else {
            let list: Vec<String> = self
                .failures
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            write!(
                f,
                "failures: {} ({} spans not accepted)",
                list.join(" "),
                self.spans_failed
            )
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("invalid endpoint {0}")]
    Endpoint(String),
    #[error("--concurrency and --spans-per-request must be at least 1")]
    Args,
    #[error("--token-file: {0}")]
    Token(String),
    #[error("--ca-file: {0}")]
    Tls(String),
}

/// What the senders count, together.
#[derive(Default)]
struct Shared {
    ok_requests: AtomicU64,
    ok_spans: AtomicU64,
    ok_bytes: AtomicU64,
    failed_spans: AtomicU64,
    failures: Mutex<BTreeMap<String, u64>>,
    latencies_us: Mutex<Vec<u32>>,
    stop: AtomicBool,
}

#[allow(clippy::large_enum_variant)] // one per run, never moved in a hot loop
enum Client {
    Grpc(
        tonic::transport::Channel,
        Option<tonic::metadata::AsciiMetadataValue>,
    ),
    Http(
        hyper_util::client::legacy::Client<
            hyper_util::client::legacy::connect::HttpConnector,
            http_body_util::Full<Bytes>,
        >,
        String,
        Option<hyper::header::HeaderValue>,
    ),
}

async fn send_one(client: &Client, body: Bytes, gzip: bool) -> Result<(), String> {
    match client {
        Client::Grpc(ch, auth) => {
            let timeout = Duration::from_secs(30);
            crate::sink::otlp::export_raw_with(ch.clone(), body, gzip, timeout, auth.as_ref())
                .await
                .map(|_| ())
                .map_err(|s| format!("grpc:{:?}", s.code()))
        }
        Client::Http(c, url, auth) => {
            let mut b =
                hyper::Request::post(url.as_str()).header("content-type", "application/x-protobuf");
            if let Some(a) = auth {
                b = b.header(hyper::header::AUTHORIZATION, a.clone());
            }
            if gzip {
                b = b.header("content-encoding", "gzip");
            }
            let req = b
                .body(http_body_util::Full::new(body))
                .map_err(|_| "request".to_string())?;
            let resp = c.request(req).await.map_err(|_| "transport".to_string())?;
            let status = resp.status();
            // Drain the body so the connection can be reused.
            let _ = http_body_util::BodyExt::collect(resp.into_body()).await;
            if status.is_success() {
                Ok(())
            } else {
                Err(format!("http:{}", status.as_u16()))
            }
        }
    }
}

fn gz(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

/// Runs the load and reports: requests are generated and encoded first, a client made, then
/// `--concurrency` senders run for `--duration`, and their counts become the report.
pub async fn run(args: &LoadArgs) -> Result<LoadReport, LoadError> {
    if args.concurrency == 0 || args.spans_per_request == 0 {
        return Err(LoadError::Args);
    }
    let bodies = Arc::new(encode_requests(args));
    let client = Arc::new(connect(args, read_bearer(args)?.as_deref())?);
    let shared = Arc::new(Shared::default());
    let started = Instant::now();
    let senders: Vec<_> = (0..args.concurrency)
        .map(|slot| {
            tokio::spawn(send_loop(
                slot,
                args.clone(),
                client.clone(),
                bodies.clone(),
                shared.clone(),
            ))
        })
        .collect();
    tokio::time::sleep(args.duration).await;
    shared.stop.store(true, Ordering::Relaxed);
    for t in senders {
        let _ = t.await;
    }
    Ok(report(&shared, started.elapsed().as_secs_f64()))
}

/// The `--distinct-requests` request bodies, generated and encoded up front (gzipped for HTTP
/// with `--gzip`; gRPC compresses in the transport).
fn encode_requests(args: &LoadArgs) -> Vec<Bytes> {
    let gen_cfg = GenConfig {
        spans_per_request: args.spans_per_request,
        payload_bytes: args.payload_bytes,
        pii_fraction: args.pii_fraction,
    };
    (0..args.distinct_requests.max(1))
        .map(|i| {
            let req = agent_request(&gen_cfg, args.seed.wrapping_add(i as u64));
            let raw = prost::Message::encode_to_vec(&req);
            if args.gzip && args.protocol == Protocol::Http {
                Bytes::from(gz(&raw))
            } else {
                Bytes::from(raw)
            }
        })
        .collect()
}

/// `Bearer <token>` from the first line of `--token-file`, when given.
fn read_bearer(args: &LoadArgs) -> Result<Option<String>, LoadError> {
    let Some(p) = &args.token_file else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(p)
        .map_err(|e| LoadError::Token(format!("{}: {e}", p.display())))?;
    let t = text.lines().next().unwrap_or("").trim();
    if t.is_empty() {
        return Err(LoadError::Token(format!("{} is empty", p.display())));
    }
    Ok(Some(format!("Bearer {t}")))
}

/// The client of `--protocol` for the target (connecting lazily), with the bearer token.
fn connect(args: &LoadArgs, bearer: Option<&str>) -> Result<Client, LoadError> {
    let bad_token = || LoadError::Token("not a valid header value".into());
    match args.protocol {
        Protocol::Grpc => {
            let scheme = if args.ca_file.is_some() {
                "https"
            } else {
                "http"
            };
            let mut ep =
                tonic::transport::Endpoint::from_shared(format!("{scheme}://{}", args.target()))
                    .map_err(|_| LoadError::Endpoint(args.target().to_string()))?
                    .tcp_nodelay(true);
            if let Some(ca) = &args.ca_file {
                let tls = crate::tls::client_config(Some(&crate::tls::ClientTlsConfig {
                    ca_file: Some(ca.clone()),
                    ..Default::default()
                }))
                .map_err(|e| LoadError::Tls(e.to_string()))?;
                ep = ep
                    .tls_config(tls)
                    .map_err(|e| LoadError::Tls(e.to_string()))?;
            }
            let auth = match bearer {
                Some(b) => {
                    let mut v: tonic::metadata::AsciiMetadataValue =
                        b.parse().map_err(|_| bad_token())?;
                    v.set_sensitive(true);
                    Some(v)
                }
                None => None,
            };
            Ok(Client::Grpc(ep.connect_lazy(), auth))
        }
        Protocol::Http => {
            if args.ca_file.is_some() {
                return Err(LoadError::Tls("TLS load is gRPC only for now".into()));
            }
            let c =
                hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                    .build_http();
            let auth = match bearer {
                Some(b) => {
                    let mut v = hyper::header::HeaderValue::from_str(b).map_err(|_| bad_token())?;
                    v.set_sensitive(true);
                    Some(v)
                }
                None => None,
            };
            Ok(Client::Http(
                c,
                format!("http://{}/v1/traces", args.target()),
                auth,
            ))
        }
    }
}

/// One in-flight slot: sends requests one after the other (one every period with `--rate`, so
/// the slots together keep to it) until told to stop, then hands in its latencies.
async fn send_loop(
    slot: usize,
    args: LoadArgs,
    client: Arc<Client>,
    bodies: Arc<Vec<Bytes>>,
    shared: Arc<Shared>,
) {
    let period = (args.rate > 0).then(|| {
        Duration::from_secs_f64(
            args.spans_per_request as f64 * args.concurrency as f64 / args.rate as f64,
        )
    });
    let spans = args.spans_per_request as u64;
    let mut i = slot;
    let mut ticker = period.map(tokio::time::interval);
    let mut lat = Vec::with_capacity(4096);
    while !shared.stop.load(Ordering::Relaxed) {
        if let Some(t) = ticker.as_mut() {
            t.tick().await;
        }
        let body = bodies[i % bodies.len()].clone();
        i += 1;
        let len = body.len() as u64;
        let t0 = Instant::now();
        match send_one(&client, body, args.gzip).await {
            Ok(()) => {
                lat.push(t0.elapsed().as_micros().min(u32::MAX as u128) as u32);
                shared.ok_requests.fetch_add(1, Ordering::Relaxed);
                shared.ok_spans.fetch_add(spans, Ordering::Relaxed);
                shared.ok_bytes.fetch_add(len, Ordering::Relaxed);
            }
            Err(code) => {
                shared.failed_spans.fetch_add(spans, Ordering::Relaxed);
                if let Ok(mut f) = shared.failures.lock() {
                    *f.entry(code).or_default() += 1;
                }
                // Back off briefly so a refusing target is not hammered in a tight loop.
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    }
    if let Ok(mut l) = shared.latencies_us.lock() {
        l.extend(lat);
    }
}

/// The senders' counts over `secs` seconds.
fn report(shared: &Shared, secs: f64) -> LoadReport {
    let mut lat = shared
        .latencies_us
        .lock()
        .map(|l| l.clone())
        .unwrap_or_default();
    lat.sort_unstable();
    let pct = |p: f64| -> f64 {
        if lat.is_empty() {
            return 0.0;
        }
        let idx = ((lat.len() as f64 - 1.0) * p).round() as usize;
        lat[idx] as f64 / 1000.0
    };
    let spans_ok = shared.ok_spans.load(Ordering::Relaxed);
    let bytes_ok = shared.ok_bytes.load(Ordering::Relaxed);
    LoadReport {
        seconds: secs,
        requests_ok: shared.ok_requests.load(Ordering::Relaxed),
        spans_ok,
        bytes_ok,
        spans_per_sec: spans_ok as f64 / secs,
        mb_per_sec: bytes_ok as f64 / secs / 1e6,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        failures: shared
            .failures
            .lock()
            .map(|f| f.clone())
            .unwrap_or_default(),
        spans_failed: shared.failed_spans.load(Ordering::Relaxed),
    }
}
