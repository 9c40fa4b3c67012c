//! The load generator users benchmark with (`spanward load`): realistic AI-agent telemetry
//! (several agents, each repeating its system prompt and tool schemas in every LLM call, prose
//! prompts and replies, tool results holding code, JSON and log lines, a configurable share of
//! text pieces carrying synthetic PII and secrets) as traces, logs (GenAI events and Python
//! logging), metrics (GenAI client metrics) or all three, sent over OTLP/gRPC or OTLP/HTTP at
//! full speed or a fixed rate with N requests in flight, for a bounded time. Requests are
//! generated and encoded up front so the generator stays cheap.
//!
//! Layout: `text` (prose, code, JSON, log lines, PII and secret formats), `agents` (the agents
//! and their turns: one model the three signals are written from), `signals` (spans, log
//! records, metrics and the requests), `gen` (the generator before #28: words drawn uniformly
//! from a short list, `--payload random`).

mod agents;
mod gen;
mod secrets;
mod signals;
mod text;

pub use agents::{agents, Agent, PiiStats, TurnGen};
pub use gen::{agent_request, GenConfig};
pub use signals::{logs_request, metrics_request, trace_request};

use crate::vocab::Signal;
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
    /// Scale of the text per span in bytes: with the realistic payload, the mean bytes of
    /// strings per span come to about this (system prompts and tool schemas included); with
    /// `--payload random`, the mean message payload per span (±50 %, 300 B min).
    #[arg(long, default_value_t = 1500)]
    pub payload_bytes: usize,
    /// Share of text pieces (messages, tool arguments and results; with `--payload random`,
    /// of spans) carrying a synthetic PII value or secret, 0.0–1.0. Real agent traffic is
    /// mostly clean: the default is 2 %.
    #[arg(long, default_value_t = 0.02)]
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

/// What the traffic looks like, beyond [`LoadArgs`] (a struct of its own so that code building
/// `LoadArgs` by hand keeps compiling; [`run`] uses the defaults).
#[derive(Debug, Clone, clap::Args)]
pub struct TrafficArgs {
    /// Which OTLP signal to send: `traces`, `logs` (GenAI events and Python logging records tied
    /// to the traces), `metrics` (GenAI client metrics) or `mixed` (traces, logs and metrics
    /// requests 2 : 2 : 1). `--spans-per-request` is the number of items per request: spans,
    /// log records or metric data points.
    #[arg(long, value_enum, default_value = "traces")]
    pub signal: SignalArg,
    /// `realistic`: agents with their own system prompts and tool schemas, prose, code, JSON
    /// and log lines; `random`: the generator before #28 (words drawn uniformly from a list of
    /// 33, one agent; traces only).
    #[arg(long, value_enum, default_value = "realistic")]
    pub payload: PayloadKind,
    /// Distinct agents in the realistic load (each with its own system prompt, tools, model and
    /// service name).
    #[arg(long, default_value_t = 6)]
    pub agents: usize,
}

impl Default for TrafficArgs {
    fn default() -> Self {
        TrafficArgs {
            signal: SignalArg::Traces,
            payload: PayloadKind::Realistic,
            agents: 6,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SignalArg {
    Traces,
    Logs,
    Metrics,
    Mixed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PayloadKind {
    Realistic,
    Random,
}

/// The signal of one request, as the report names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Traces,
    Logs,
    Metrics,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Traces => "traces",
            Kind::Logs => "logs",
            Kind::Metrics => "metrics",
        }
    }

    /// What an item is called in the report.
    pub fn items(self) -> &'static str {
        match self {
            Kind::Traces => "spans",
            Kind::Logs => "log records",
            Kind::Metrics => "metric data points",
        }
    }

    /// The OTLP signal (its service and paths).
    pub fn signal(self) -> Signal {
        match self {
            Kind::Traces => Signal::Traces,
            Kind::Logs => Signal::Logs,
            Kind::Metrics => Signal::Metrics,
        }
    }
}

impl SignalArg {
    /// The signal of the `i`-th distinct request.
    fn kind(self, i: usize) -> Kind {
        match self {
            SignalArg::Traces => Kind::Traces,
            SignalArg::Logs => Kind::Logs,
            SignalArg::Metrics => Kind::Metrics,
            SignalArg::Mixed => [
                Kind::Traces,
                Kind::Logs,
                Kind::Traces,
                Kind::Logs,
                Kind::Metrics,
            ][i % 5],
        }
    }
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
    /// Spans accepted (traces requests only; see `items_ok` and `signals` for the others).
    pub spans_ok: u64,
    /// Items accepted, all signals: spans, log records, metric data points.
    pub items_ok: u64,
    pub bytes_ok: u64,
    pub spans_per_sec: f64,
    pub items_per_sec: f64,
    pub mb_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Failed requests by status (`grpc:UNAVAILABLE`, `http:429`, `transport`).
    pub failures: BTreeMap<String, u64>,
    /// Spans not accepted (traces requests only).
    pub spans_failed: u64,
    /// Items not accepted, all signals.
    pub items_failed: u64,
    /// Per signal sent (`traces`, `logs`, `metrics`).
    pub signals: BTreeMap<&'static str, SignalCounts>,
    /// Uncompressed ÷ gzip (level 6) size of the generated request bodies: how compressible
    /// the load is (a few bodies per signal are measured).
    pub gzip_ratio: f64,
    /// Share of generated text pieces (messages, tool arguments and results) carrying a
    /// synthetic PII value or secret (the realistic payload; 0 for `random`'s own count).
    pub pii_pieces_fraction: f64,
}

/// One signal's share of a run.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SignalCounts {
    pub requests_ok: u64,
    pub items_ok: u64,
    pub bytes_ok: u64,
    pub items_failed: u64,
    /// Mean encoded bytes per item of the generated requests.
    pub bytes_per_item: f64,
}

impl std::fmt::Display for LoadReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what: Vec<String> = self
            .signals
            .iter()
            .map(|(k, c)| {
                let items = match *k {
                    "traces" => "spans",
                    "logs" => "log records",
                    _ => "metric data points",
                };
                format!("{} {items} in {} requests", c.items_ok, c.requests_ok)
            })
            .collect();
        writeln!(
            f,
            "sent {} over {:.1}s: {:.0} items/s, {:.1} MB/s, latency p50 {:.2} ms p99 {:.2} ms",
            what.join(", "),
            self.seconds,
            self.items_per_sec,
            self.mb_per_sec,
            self.p50_ms,
            self.p99_ms
        )?;
        writeln!(
            f,
            "payload: gzip ratio {:.2}, {:.1} % of text pieces with PII or secrets",
            self.gzip_ratio,
            self.pii_pieces_fraction * 100.0
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
                "failures: {} ({} items not accepted)",
                list.join(" "),
                self.items_failed
            )
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("invalid endpoint {0}")]
    Endpoint(String),
    #[error("--concurrency, --spans-per-request and --agents must be at least 1")]
    Args,
    #[error("--payload random makes traces only")]
    RandomTracesOnly,
    #[error("--token-file: {0}")]
    Token(String),
    #[error("--ca-file: {0}")]
    Tls(String),
}

/// What the senders count, together; per signal, indexed by `Kind as usize`.
#[derive(Default)]
struct Shared {
    ok_requests: [AtomicU64; 3],
    ok_items: [AtomicU64; 3],
    ok_bytes: [AtomicU64; 3],
    failed_items: [AtomicU64; 3],
    failures: Mutex<BTreeMap<String, u64>>,
    latencies_us: Mutex<Vec<u32>>,
    stop: AtomicBool,
}

/// One pre-encoded request.
struct Body {
    kind: Kind,
    bytes: Bytes,
    items: u64,
}

/// The generated requests and what the report says of them.
struct Bodies {
    bodies: Vec<Body>,
    gzip_ratio: f64,
    pii_pieces_fraction: f64,
    /// Mean encoded bytes per item, per `Kind as usize` (0 when not sent).
    bytes_per_item: [f64; 3],
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

async fn send_one(client: &Client, kind: Kind, body: Bytes, gzip: bool) -> Result<(), String> {
    match client {
        Client::Grpc(ch, auth) => {
            let timeout = Duration::from_secs(30);
            let sent = crate::sink::otlp::export_signal_raw(
                ch.clone(),
                kind.signal(),
                body,
                gzip,
                timeout,
                auth.as_ref(),
            )
            .await
            .map(|_| ());
            sent.map_err(|s| format!("grpc:{:?}", s.code()))
        }
        Client::Http(c, base, auth) => {
            let url = format!("{base}{}", kind.signal().http_path());
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
    gz_level(data, flate2::Compression::fast())
}

fn gz_level(data: &[u8], level: flate2::Compression) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), level);
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

/// [`run_traffic`] with the default traffic: realistic agent traces.
pub async fn run(args: &LoadArgs) -> Result<LoadReport, LoadError> {
    run_traffic(args, &TrafficArgs::default()).await
}

/// Runs the load and reports: requests are generated and encoded first, a client made, then
/// `--concurrency` senders run for `--duration`, and their counts become the report.
pub async fn run_traffic(args: &LoadArgs, traffic: &TrafficArgs) -> Result<LoadReport, LoadError> {
    if args.concurrency == 0 || args.spans_per_request == 0 || traffic.agents == 0 {
        return Err(LoadError::Args);
    }
    if traffic.payload == PayloadKind::Random && traffic.signal != SignalArg::Traces {
        return Err(LoadError::RandomTracesOnly);
    }
    let generated = encode_requests(args, traffic);
    let (gzip_ratio, pii, per_item) = (
        generated.gzip_ratio,
        generated.pii_pieces_fraction,
        generated.bytes_per_item,
    );
    let bodies = Arc::new(generated.bodies);
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
    let mut rep = report(&shared, started.elapsed().as_secs_f64());
    rep.gzip_ratio = gzip_ratio;
    rep.pii_pieces_fraction = pii;
    for (k, c) in rep.signals.iter_mut() {
        let i = [Kind::Traces, Kind::Logs, Kind::Metrics]
            .iter()
            .position(|x| x.as_str() == *k)
            .unwrap_or(0);
        c.bytes_per_item = per_item[i];
    }
    Ok(rep)
}

/// The `--distinct-requests` request bodies, generated and encoded up front (gzipped for HTTP
/// with `--gzip`; gRPC compresses in the transport). Request `i` is generated from seed
/// `--seed + i`; the agents from `--seed` alone, so they are the same in every request.
fn encode_requests(args: &LoadArgs, traffic: &TrafficArgs) -> Bodies {
    let n = args.distinct_requests.max(1);
    let items = args.spans_per_request;
    let agents = agents::agents(args.seed, traffic.agents, args.payload_bytes);
    let mut stats = PiiStats::default();
    let mut raw_bodies: Vec<(Kind, Vec<u8>, u64)> = Vec::with_capacity(n);
    for i in 0..n {
        let seed = args.seed.wrapping_add(i as u64);
        let kind = traffic.signal.kind(i);
        let raw = if traffic.payload == PayloadKind::Random {
            let gen_cfg = GenConfig {
                spans_per_request: items,
                payload_bytes: args.payload_bytes,
                pii_fraction: args.pii_fraction,
            };
            prost::Message::encode_to_vec(&agent_request(&gen_cfg, seed))
        } else {
            let mut g = TurnGen::new(&agents, args.payload_bytes, args.pii_fraction, seed);
            let raw = match kind {
                Kind::Traces => prost::Message::encode_to_vec(&trace_request(&mut g, items)),
                Kind::Logs => prost::Message::encode_to_vec(&logs_request(&mut g, items)),
                Kind::Metrics => prost::Message::encode_to_vec(&metrics_request(&mut g, items)),
            };
            stats.pieces += g.stats.pieces;
            stats.sensitive += g.stats.sensitive;
            raw
        };
        raw_bodies.push((kind, raw, items as u64));
    }
    // Compressibility over the first bodies of each signal (all of them would cost the
    // generator's CPU more than it tells).
    let (mut plain, mut packed) = (0usize, 0usize);
    let mut sizes = [(0usize, 0u64); 3];
    let mut measured = [0usize; 3];
    for (kind, raw, items) in &raw_bodies {
        let k = *kind as usize;
        sizes[k].0 += raw.len();
        sizes[k].1 += items;
        if measured[k] < 3 {
            measured[k] += 1;
            plain += raw.len();
            packed += gz_level(raw, flate2::Compression::default()).len();
        }
    }
    let bodies = raw_bodies
        .into_iter()
        .map(|(kind, raw, items)| Body {
            kind,
            bytes: if args.gzip && args.protocol == Protocol::Http {
                Bytes::from(gz(&raw))
            } else {
                Bytes::from(raw)
            },
            items,
        })
        .collect();
    Bodies {
        bodies,
        gzip_ratio: if packed == 0 {
            0.0
        } else {
            plain as f64 / packed as f64
        },
        pii_pieces_fraction: if stats.pieces == 0 {
            0.0
        } else {
            stats.sensitive as f64 / stats.pieces as f64
        },
        bytes_per_item: sizes.map(|(b, i)| if i == 0 { 0.0 } else { b as f64 / i as f64 }),
    }
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
            Ok(Client::Http(c, format!("http://{}", args.target()), auth))
        }
    }
}

/// One in-flight slot: sends requests one after the other (one every period with `--rate`, so
/// the slots together keep to it) until told to stop, then hands in its latencies.
async fn send_loop(
    slot: usize,
    args: LoadArgs,
    client: Arc<Client>,
    bodies: Arc<Vec<Body>>,
    shared: Arc<Shared>,
) {
    let period = (args.rate > 0).then(|| {
        Duration::from_secs_f64(
            args.spans_per_request as f64 * args.concurrency as f64 / args.rate as f64,
        )
    });
    let mut i = slot;
    let mut ticker = period.map(tokio::time::interval);
    let mut lat = Vec::with_capacity(4096);
    while !shared.stop.load(Ordering::Relaxed) {
        if let Some(t) = ticker.as_mut() {
            t.tick().await;
        }
        let Some(body) = bodies.get(i % bodies.len().max(1)) else {
            return;
        };
        i += 1;
        let k = body.kind as usize;
        let len = body.bytes.len() as u64;
        let t0 = Instant::now();
        match send_one(&client, body.kind, body.bytes.clone(), args.gzip).await {
            Ok(()) => {
                lat.push(t0.elapsed().as_micros().min(u32::MAX as u128) as u32);
                shared.ok_requests[k].fetch_add(1, Ordering::Relaxed);
                shared.ok_items[k].fetch_add(body.items, Ordering::Relaxed);
                shared.ok_bytes[k].fetch_add(len, Ordering::Relaxed);
            }
            Err(code) => {
                shared.failed_items[k].fetch_add(body.items, Ordering::Relaxed);
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
    let load = |a: &[AtomicU64; 3]| a.each_ref().map(|x| x.load(Ordering::Relaxed));
    let (requests, items, bytes, failed) = (
        load(&shared.ok_requests),
        load(&shared.ok_items),
        load(&shared.ok_bytes),
        load(&shared.failed_items),
    );
    let mut signals = BTreeMap::new();
    for kind in [Kind::Traces, Kind::Logs, Kind::Metrics] {
        let k = kind as usize;
        if requests[k] + failed[k] > 0 {
            signals.insert(
                kind.as_str(),
                SignalCounts {
                    requests_ok: requests[k],
                    items_ok: items[k],
                    bytes_ok: bytes[k],
                    items_failed: failed[k],
                    bytes_per_item: 0.0,
                },
            );
        }
    }
    let items_ok: u64 = items.iter().sum();
    let spans_ok = items[Kind::Traces as usize];
    let bytes_ok: u64 = bytes.iter().sum();
    LoadReport {
        seconds: secs,
        requests_ok: requests.iter().sum(),
        spans_ok,
        items_ok,
        bytes_ok,
        spans_per_sec: spans_ok as f64 / secs,
        items_per_sec: items_ok as f64 / secs,
        mb_per_sec: bytes_ok as f64 / secs / 1e6,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        failures: shared
            .failures
            .lock()
            .map(|f| f.clone())
            .unwrap_or_default(),
        spans_failed: failed[Kind::Traces as usize],
        items_failed: failed.iter().sum(),
        signals,
        gzip_ratio: 0.0,
        pii_pieces_fraction: 0.0,
    }
}
