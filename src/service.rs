//! Assembles the pipeline and runs it until shutdown: the one entry point, [`run`], takes its
//! listeners and shutdown signal from outside so tests drive the real service on ephemeral ports.
//!
//! `run` goes through four phases: `Pipeline::start` builds every component once (stages,
//! sinks) and starts the workers; `Servers::start` spawns the receivers (one serve function per
//! transport, TLS only changing where connections come from), the admin endpoint, the SIGHUP
//! reloader and the summary line; then it waits for the shutdown signal; `drain` stops
//! accepting, processes what is queued and flushes the sinks.

use crate::admin::{self, summary::Summariser};
use crate::config::{ConfigError, Resolved};
use crate::pipeline::component::StageContext;
use crate::pipeline::queue::{self, QueueSender};
use crate::pipeline::worker;
use crate::receiver::{self, Ingest};
use crate::sink::{Sink, SinkContext};
use crate::tls;
use crate::vocab::metrics::{Metrics, TransportLabel};
use crate::vocab::{DropReason, Health};
use crate::yaml::ComponentError;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("binding {what} on {addr}: {source}")]
    Bind {
        what: &'static str,
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// A stage could not be built from its section (named with the file and line).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A sink could not start (`exporters.file: …`).
    #[error(transparent)]
    Sink(ComponentError),
    #[error("starting worker threads: {0}")]
    Workers(std::io::Error),
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
}

/// What `run` loads and checks at start, short of binding ports and opening the log: each
/// stage's and each sink's [`check`](crate::sink::SinkConfig::check) (the pattern packs
/// compiled and their examples run, the sampling and fingerprint rules built, the checkpoint
/// signing key loaded, the log's and the audit file's directories writable), on top of what
/// [`Config::resolve`](crate::config::Config::resolve) loaded (TLS files, token sets, the HMAC
/// key). `spanward validate` runs it, so a config it accepts does not fail at start for a
/// reason it could have seen. It creates nothing: a directory that does not exist yet is
/// checked at its nearest existing ancestor, with a probe entry made and removed there.
pub fn preflight(cfg: &Resolved) -> Result<(), ConfigError> {
    let ctx = StageContext { key: &cfg.hmac_key };
    cfg.stages.check(ctx).map_err(|e| cfg.invalid(e))?;
    for e in &cfg.exporters {
        e.config.check(&cfg.env).map_err(|e| cfg.invalid(e))?;
    }
    Ok(())
}

/// Pre-bound sockets. Binding happens before `run` so tests can use port 0 and learn the port.
pub struct Listeners {
    pub grpc: Option<std::net::TcpListener>,
    pub http: Option<std::net::TcpListener>,
    pub admin: std::net::TcpListener,
}

fn bind(what: &'static str, addr: SocketAddr) -> Result<std::net::TcpListener, RunError> {
    let l = std::net::TcpListener::bind(addr).map_err(|source| RunError::Bind {
        what,
        addr,
        source,
    })?;
    l.set_nonblocking(true)
        .map_err(|source| RunError::Bind { what, addr, source })?;
    Ok(l)
}

impl Listeners {
    /// Binds every configured endpoint.
    pub fn bind(cfg: &Resolved) -> Result<Listeners, RunError> {
        Ok(Listeners {
            grpc: cfg
                .grpc
                .map(|a| bind("OTLP/gRPC receiver", a))
                .transpose()?,
            http: cfg
                .http
                .map(|a| bind("OTLP/HTTP receiver", a))
                .transpose()?,
            admin: bind("admin endpoint", cfg.admin)?,
        })
    }

    pub fn grpc_addr(&self) -> Option<SocketAddr> {
        self.grpc.as_ref().and_then(|l| l.local_addr().ok())
    }

    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http.as_ref().and_then(|l| l.local_addr().ok())
    }

    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin.local_addr().ok()
    }
}

fn tokio_listener(
    what: &'static str,
    l: std::net::TcpListener,
) -> Result<tokio::net::TcpListener, RunError> {
    let addr = l
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
    tokio::net::TcpListener::from_std(l).map_err(|source| RunError::Bind { what, addr, source })
}

/// On SIGHUP, re-reads the receivers' certificates, keys and client CAs, and the token files.
/// A file that fails to load keeps its previous version (one ERROR line naming it). `None` when
/// there is nothing to reload.
fn reload_on_sighup(
    tls: Vec<(&'static str, Arc<tls::ServerTls>)>,
    auth: Vec<(&'static str, Arc<crate::auth::Authenticator>)>,
    stop: impl Future<Output = ()> + Send + 'static,
) -> Option<tokio::task::JoinHandle<()>> {
    if tls.is_empty() && auth.is_empty() {
        return None;
    }
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut hup = match signal(SignalKind::hangup()) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGHUP: certificates and tokens will not reload");
                return None;
            }
        };
        Some(tokio::spawn(async move {
            tokio::pin!(stop);
            loop {
                tokio::select! {
                    _ = &mut stop => return,
                    r = hup.recv() => if r.is_none() { return },
                }
                for (what, t) in &tls {
                    match t.reload() {
                        Ok(()) => {
                            tracing::info!("SIGHUP: reloaded the TLS certificate of the {what}")
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "SIGHUP: {what} keeps its previous TLS certificate")
                        }
                    }
                }
                for (what, a) in &auth {
                    match a.reload() {
                        Ok(()) => tracing::info!("SIGHUP: reloaded {what}"),
                        Err(e) => {
                            tracing::error!(error = %e, "SIGHUP: keeping the previous {what}")
                        }
                    }
                }
            }
        }))
    }
    #[cfg(not(unix))]
    {
        let _ = (tls, auth, stop);
        None
    }
}

/// Builds the configured sinks, once, in fan-out order (the order of
/// [`Resolved::exporters`]).
fn build_sinks(cfg: &Resolved) -> Result<Vec<Arc<dyn Sink>>, RunError> {
    let mut ctx = SinkContext {
        env: &cfg.env,
        salvage: cfg.salvage,
        runtime: tokio::runtime::Handle::current(),
        log_origin: None,
    };
    cfg.exporters
        .iter()
        .map(|e| e.config.build(&mut ctx).map_err(RunError::Sink))
        .collect()
}

/// Everything between the receivers and the sinks, built once from the config.
struct Pipeline {
    metrics: Metrics,
    /// The metrics registry and what the status views report, until the admin endpoint
    /// takes them.
    admin: Option<(
        prometheus_client::registry::Registry,
        crate::admin::status::Sources,
    )>,
    health: Arc<Health>,
    sinks: Vec<Arc<dyn Sink>>,
    queue: QueueSender,
    workers: Vec<std::thread::JoinHandle<()>>,
    /// Set when the shutdown deadline passed: workers drop what is left.
    abandon: Arc<AtomicBool>,
    ingest: Arc<Ingest>,
}

impl Pipeline {
    /// Builds the stages and the sinks, the queue between receivers and workers, and starts the
    /// workers.
    fn start(cfg: &Resolved) -> Result<Pipeline, RunError> {
        let (metrics, registry) = Metrics::new();
        if cfg.hmac_key.source() == crate::keys::KeySource::Ephemeral {
            tracing::warn!(
                "no HMAC key configured (SPANWARD_HMAC_KEY or keys.hmac_key_file): using a random per-process key; pseudonyms and fingerprints will differ across restarts and replicas"
            );
        }
        let built = cfg
            .stages
            .build(StageContext { key: &cfg.hmac_key })
            .map_err(|e| cfg.invalid(e))?;
        let status = crate::introspect::sources(
            &format!("{cfg:#?}"),
            cfg.exporters
                .iter()
                .find_map(|e| e.config::<crate::sink::log::LogConfig>()),
            &cfg.pipeline.memory_limiter,
            built.stages.scrub.as_ref(),
        );
        let sinks = build_sinks(cfg)?;
        let health = Arc::new(Health::new(cfg.workers, crate::sink::statuses(&sinks)));
        let qc = &cfg.pipeline.queue;
        let (qtx, qrx) = queue::bounded(qc.max_spans, qc.max_bytes);
        metrics.exporter_queue_capacity.set(qc.max_spans as i64);
        metrics.queue_capacity_bytes.set(qc.max_bytes as i64);
        let abandon = Arc::new(AtomicBool::new(false));
        let wctx = Arc::new(worker::WorkerContext {
            queue: qrx,
            stages: Arc::new(built.stages),
            sinks: sinks.clone(),
            metrics: metrics.clone(),
            health: health.clone(),
            abandon: abandon.clone(),
        });
        let workers = worker::spawn(cfg.workers, wctx).map_err(RunError::Workers)?;
        let ingest = Arc::new(Ingest {
            queue: qtx.clone(),
            policy: receiver::Policy {
                ack: cfg.pipeline.ack,
                when_full: cfg.pipeline.queue.when_full,
                max_wait: cfg.pipeline.queue.max_wait,
                retry_after: cfg.pipeline.retry_after,
            },
            limits: cfg.limits.clone(),
            metrics: metrics.clone(),
            health: health.clone(),
            sampler: built.sampler,
            rate_limiter: cfg
                .rate_limit
                .enabled()
                .then(|| crate::receiver::ratelimit::RateLimiter::new(cfg.rate_limit.clone())),
            memory: crate::receiver::memlimit::MemoryLimiter::start(&cfg.pipeline.memory_limiter)
                .map_err(RunError::Workers)?,
            signals: cfg.signals.clone(),
        });
        Ok(Pipeline {
            metrics,
            admin: Some((registry, status)),
            health,
            sinks,
            queue: qtx,
            workers,
            abandon,
            ingest,
        })
    }

    /// Waits for the workers to process what is queued (the queue is closed), abandoning what
    /// is left at `deadline`, then shuts the sinks down.
    async fn finish(&mut self, deadline: tokio::time::Instant) {
        let workers = std::mem::take(&mut self.workers);
        let joined = tokio::task::spawn_blocking(move || {
            for w in workers {
                let _ = w.join();
            }
        });
        tokio::pin!(joined);
        if tokio::time::timeout_at(deadline, &mut joined)
            .await
            .is_err()
        {
            tracing::warn!(
                queued_spans = self.queue.depth_spans(),
                "shutdown_timeout passed: abandoning queued spans (counted as dropped, reason=shutdown)"
            );
            self.abandon.store(true, Ordering::Release);
            for s in &self.sinks {
                s.abort();
            }
            // Workers now drop what is left without processing; this returns promptly.
            let _ = joined.await;
        }
        for s in &self.sinks {
            if let Err(e) = s.shutdown() {
                tracing::error!(sink = s.name(), error = %e, "sink did not shut down cleanly");
            }
        }
    }
}

/// A receiver transport: its name in logs and errors, its metrics label, its TLS ALPN.
struct Transport {
    name: &'static str,
    label: &'static str,
    alpn: &'static [&'static [u8]],
}

const GRPC: Transport = Transport {
    name: "OTLP/gRPC receiver",
    label: "grpc",
    alpn: tls::ALPN_GRPC,
};

const HTTP: Transport = Transport {
    name: "OTLP/HTTP receiver",
    label: "http",
    alpn: tls::ALPN_HTTP,
};

/// Where a receiver's connections come from: its listener, or the TLS handshakes done over it.
enum Incoming {
    Plain(tokio::net::TcpListener),
    Tls(tls::TlsListener),
}

/// A receiver's connections, with TLS when it has a `tls` section (whose certificate is then
/// returned for reloading on SIGHUP).
fn incoming(
    t: &Transport,
    l: std::net::TcpListener,
    tls_cfg: Option<&tls::ServerTlsConfig>,
    auth: bool,
    metrics: &Metrics,
) -> Result<(Incoming, Option<Arc<tls::ServerTls>>), RunError> {
    let l = tokio_listener(t.name, l)?;
    tracing::info!(addr = %l.local_addr().map(|a| a.to_string()).unwrap_or_default(), tls = tls_cfg.is_some(), auth, "{} listening", t.name);
    let Some(c) = tls_cfg else {
        return Ok((Incoming::Plain(l), None));
    };
    let server_tls = Arc::new(tls::ServerTls::load(c, t.alpn)?);
    let local = l.local_addr().map_err(|source| RunError::Bind {
        what: t.name,
        addr: SocketAddr::from(([0, 0, 0, 0], 0)),
        source,
    })?;
    let (m, transport) = (metrics.clone(), t.label);
    let rx = tls::accept_tls(l, server_tls.clone(), move || {
        m.receiver_tls_handshake_failures
            .get_or_create(&TransportLabel { transport })
            .inc();
    });
    Ok((
        Incoming::Tls(tls::TlsListener { rx, local }),
        Some(server_tls),
    ))
}

/// Serves OTLP/gRPC until `stop`, letting in-flight calls finish.
async fn serve_grpc(
    svc: receiver::grpc::OtlpGrpc,
    incoming: Incoming,
    stop: impl Future<Output = ()>,
) {
    let server = svc.add_to(tonic::transport::Server::builder());
    let r = match incoming {
        Incoming::Plain(l) => {
            let conns = tokio_stream::wrappers::TcpListenerStream::new(l);
            server.serve_with_incoming_shutdown(conns, stop).await
        }
        Incoming::Tls(l) => {
            let conns = tokio_stream::StreamExt::map(
                tokio_stream::wrappers::ReceiverStream::new(l.rx),
                |(s, _)| Ok::<_, std::io::Error>(s),
            );
            server.serve_with_incoming_shutdown(conns, stop).await
        }
    };
    if let Err(e) = r {
        tracing::error!(error = %e, "OTLP/gRPC receiver stopped");
    }
}

/// Serves OTLP/HTTP until `stop`, letting in-flight requests finish.
async fn serve_http(
    app: axum::Router,
    incoming: Incoming,
    stop: impl Future<Output = ()> + Send + 'static,
) {
    let r = match incoming {
        Incoming::Plain(l) => axum::serve(l, app).with_graceful_shutdown(stop).await,
        Incoming::Tls(l) => axum::serve(l, app).with_graceful_shutdown(stop).await,
    };
    if let Err(e) = r {
        tracing::error!(error = %e, "OTLP/HTTP receiver stopped");
    }
}

/// Resolves once `true` is sent on the channel (or its sender is gone).
async fn stopped(mut rx: watch::Receiver<bool>) {
    let _ = rx.wait_for(|v| *v).await;
}

/// A task that runs until told to stop.
struct Stoppable {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Stoppable {
    fn spawn<F: Future<Output = ()> + Send + 'static>(
        f: impl FnOnce(watch::Receiver<bool>) -> F,
    ) -> Stoppable {
        let (stop, rx) = watch::channel(false);
        Stoppable {
            stop,
            task: tokio::spawn(f(rx)),
        }
    }

    async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// The admin endpoint (`/metrics`, `/healthz`, `/readyz`).
fn spawn_admin(
    cfg: &Resolved,
    l: std::net::TcpListener,
    p: &Pipeline,
    admin_parts: (
        prometheus_client::registry::Registry,
        crate::admin::status::Sources,
    ),
) -> Result<Stoppable, RunError> {
    let l = tokio_listener("admin endpoint", l)?;
    tracing::info!(addr = %l.local_addr().map(|a| a.to_string()).unwrap_or_default(), "admin endpoint listening");
    if let Some(w) = l
        .local_addr()
        .ok()
        .and_then(|a| tls::admin_exposure_warning(a, cfg.admin_auth.is_some()))
    {
        tracing::warn!("{w}");
    }
    let (registry, status) = admin_parts;
    let app = admin::router_with_status(
        registry,
        p.health.clone(),
        p.metrics.clone(),
        p.queue.clone(),
        cfg.admin_auth.clone(),
        status,
    );
    Ok(Stoppable::spawn(|rx| async move {
        if let Err(e) = axum::serve(l, app)
            .with_graceful_shutdown(stopped(rx))
            .await
        {
            tracing::error!(error = %e, "admin endpoint stopped");
        }
    }))
}

/// The INFO line summarising refused and dropped spans, every `every`, and once more when
/// stopped (so refusals and drops of the final seconds are reported too).
fn spawn_summary(every: Duration, p: &Pipeline) -> Stoppable {
    let (metrics, q) = (p.metrics.clone(), p.queue.clone());
    Stoppable::spawn(move |rx| async move {
        let mut s = Summariser::default();
        let mut tick = tokio::time::interval(every);
        tick.tick().await;
        let stop = stopped(rx);
        tokio::pin!(stop);
        loop {
            let last = tokio::select! {
                _ = tick.tick() => false,
                _ = &mut stop => true,
            };
            // The depth gauges are refreshed at every scrape (admin), not here.
            if let Some(line) = s.tick(&metrics, q.depth_spans(), q.capacity_spans()) {
                tracing::info!(target: "spanward::summary", "{line}");
            }
            if last {
                break;
            }
        }
    })
}

/// What runs on the async runtime until shutdown.
struct Servers {
    /// Tells the receivers and the SIGHUP task to stop.
    stop: watch::Sender<bool>,
    receivers: Vec<JoinHandle<()>>,
    reload: Option<JoinHandle<()>>,
    admin: Stoppable,
    summary: Stoppable,
}

impl Servers {
    /// Spawns the receivers on their listeners, the SIGHUP reloader, the admin endpoint and the
    /// summary line.
    fn start(cfg: &Resolved, listeners: Listeners, p: &mut Pipeline) -> Result<Servers, RunError> {
        if let Some(w) = tls::exposure_warning(&[
            ("OTLP/gRPC", listeners.grpc_addr(), cfg.grpc_tls.is_some()),
            ("OTLP/HTTP", listeners.http_addr(), cfg.http_tls.is_some()),
        ]) {
            tracing::warn!("{w}");
        }
        let (stop, stop_rx) = watch::channel(false);
        let auth = cfg.receiver_auth.is_some();
        let mut reloadable_tls = Vec::new();
        let mut receivers = Vec::new();
        if let Some(l) = listeners.grpc {
            let (conns, t) = incoming(&GRPC, l, cfg.grpc_tls.as_ref(), auth, &p.metrics)?;
            reloadable_tls.extend(t.map(|t| (GRPC.name, t)));
            let svc = receiver::grpc::OtlpGrpc::new(p.ingest.clone())
                .with_auth(cfg.receiver_auth.clone());
            receivers.push(tokio::spawn(serve_grpc(
                svc,
                conns,
                stopped(stop_rx.clone()),
            )));
        }
        if let Some(l) = listeners.http {
            let (conns, t) = incoming(&HTTP, l, cfg.http_tls.as_ref(), auth, &p.metrics)?;
            reloadable_tls.extend(t.map(|t| (HTTP.name, t)));
            let app = receiver::http::router_with_auth(p.ingest.clone(), cfg.receiver_auth.clone());
            receivers.push(tokio::spawn(serve_http(
                app,
                conns,
                stopped(stop_rx.clone()),
            )));
        }
        let reload_auth: Vec<_> = [
            ("receiver tokens", cfg.receiver_auth.clone()),
            ("admin tokens", cfg.admin_auth.clone()),
        ]
        .into_iter()
        .filter_map(|(w, a)| a.map(|a| (w, a)))
        .collect();
        let reload = reload_on_sighup(reloadable_tls, reload_auth, stopped(stop_rx));
        let admin_parts = p.admin.take().unwrap_or_else(|| {
            // Started once per pipeline; a second start gets a fresh, empty registry.
            (Default::default(), Default::default())
        });
        let admin = spawn_admin(cfg, listeners.admin, p, admin_parts)?;
        p.health.listeners_bound.store(true, Ordering::Release);
        Ok(Servers {
            stop,
            receivers,
            reload,
            admin,
            summary: spawn_summary(cfg.pipeline.summary_interval, p),
        })
    }

    /// Stops accepting and waits (until `deadline`) for in-flight requests to finish.
    async fn stop_receivers(&mut self, deadline: tokio::time::Instant) {
        let _ = self.stop.send(true);
        for s in self.receivers.drain(..) {
            if tokio::time::timeout_at(deadline, s).await.is_err() {
                tracing::warn!("a receiver did not finish its in-flight requests in time");
            }
        }
        if let Some(t) = self.reload.take() {
            let _ = t.await;
        }
    }
}

/// Runs the service until `shutdown` resolves, then drains: stops accepting, lets in-flight
/// requests finish, processes everything queued, flushes sinks. Must be called inside a
/// multi-threaded tokio runtime.
pub async fn run(
    cfg: Resolved,
    listeners: Listeners,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), RunError> {
    let mut pipeline = Pipeline::start(&cfg)?;
    let servers = Servers::start(&cfg, listeners, &mut pipeline)?;
    shutdown.await;
    drain(&cfg, pipeline, servers).await;
    Ok(())
}

/// Shuts down within `pipeline.shutdown_timeout`: receivers stop accepting and finish what is
/// in flight, the queue closes, the workers process what is left (what they cannot by the
/// deadline is dropped and counted), the sinks flush; the admin endpoint answers until the end.
async fn drain(cfg: &Resolved, mut p: Pipeline, mut s: Servers) {
    tracing::info!("shutting down: no longer accepting spans, draining the queue");
    p.health.shutting_down.store(true, Ordering::Release);
    let deadline = tokio::time::Instant::now() + cfg.pipeline.shutdown_timeout;
    s.stop_receivers(deadline).await;
    p.queue.close();
    p.finish(deadline).await;
    s.summary.stop().await;
    let dropped_on_shutdown = p
        .metrics
        .pipeline_dropped_spans
        .get_or_create(&crate::vocab::metrics::ReasonLabel {
            reason: DropReason::Shutdown.as_str(),
        })
        .get();
    tracing::info!(
        delivered = p.metrics.pipeline_delivered_spans.get(),
        dropped_on_shutdown,
        "shutdown complete"
    );
    let _ = s.admin.stop.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(2), s.admin.task).await;
}
