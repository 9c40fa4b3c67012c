//! Assembles the pipeline and runs it until shutdown: the one entry point, [`run`], takes its
//! listeners and shutdown signal from outside so tests drive the real service on ephemeral ports.

use crate::admin::{self, summary::Summariser};
use crate::config::Resolved;
use crate::pipeline::{queue, stages::Stages, worker};
use crate::receiver::{self, Ingest};
use crate::sink::{kafka::KafkaSink, log::LogSink, otlp::OtlpSink, Sink};
use crate::tls;
use crate::vocab::metrics::Metrics;
use crate::vocab::{DropReason, Health};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("binding {what} on {addr}: {source}")]
    Bind {
        what: &'static str,
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("exporters.file: {0}")]
    LogSink(#[from] crate::sink::log::LogError),
    #[error(transparent)]
    OtlpSink(#[from] crate::sink::otlp::OtlpSinkError),
    #[error("exporters.kafka: {0}")]
    KafkaSink(crate::sink::kafka::KafkaConfigError),
    #[error("starting worker threads: {0}")]
    Workers(std::io::Error),
    #[error("{0}")]
    Stage(String),
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    /// A directory `run` would write in cannot be written (found by [`preflight`]).
    #[error("{at}: {path}: {message}")]
    Dir {
        at: &'static str,
        path: String,
        message: String,
    },
}

/// What `run` loads and checks at start, short of binding ports and opening the log: the
/// pattern packs (compiled, their examples run), the HMAC and checkpoint signing keys, TLS
/// files and token sets (already loaded by [`Config::resolve`](crate::config::Config::resolve)),
/// and whether the log's and the audit file's directories can be written. `spanward validate`
/// runs it, so a config it accepts does not fail at start for a reason it could have seen.
/// It creates nothing: a directory that does not exist yet is checked at its nearest existing
/// ancestor, with a probe entry made and removed there.
pub fn preflight(cfg: &Resolved) -> Result<(), RunError> {
    if cfg.redaction.enabled {
        crate::scrub::Scrubber::new(&cfg.redaction, cfg.hmac_key.clone())
            .map_err(|e| RunError::Stage(format!("redaction: {e}")))?;
    }
    if let Some(f) = &cfg.file_sink {
        let name = f
            .origin
            .as_deref()
            .unwrap_or(crate::sink::log::DEFAULT_KEY_NAME);
        crate::sink::log::checkpoint::SigningKey::load(
            &cfg.env,
            f.signing_key_file.as_deref(),
            name,
        )
        .map_err(crate::sink::log::LogError::Key)?;
        check_writable_dir("exporters.file.path", &f.path)?;
    }
    if let Some(a) = cfg.audit.file.as_ref().filter(|_| cfg.audit.enabled) {
        let dir = a
            .path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."));
        check_writable_dir("audit.file.path", dir)?;
    }
    Ok(())
}

/// Whether `run` could create or write `dir`: the nearest existing ancestor must be a directory
/// in which an entry can be made (probed with a directory made and removed at once).
fn check_writable_dir(at: &'static str, dir: &std::path::Path) -> Result<(), RunError> {
    let err = |p: &std::path::Path, message: String| RunError::Dir {
        at,
        path: p.display().to_string(),
        message,
    };
    let mut existing = dir;
    while !existing.exists() {
        match existing.parent() {
            Some(p) if !p.as_os_str().is_empty() => existing = p,
            _ => {
                existing = std::path::Path::new(".");
                break;
            }
        }
    }
    let meta = std::fs::metadata(existing).map_err(|e| err(existing, e.to_string()))?;
    if !meta.is_dir() {
        return Err(err(existing, "is not a directory".into()));
    }
    let probe = existing.join(format!(".spanward-validate-{}", std::process::id()));
    match std::fs::create_dir(&probe) {
        Ok(()) => {
            let _ = std::fs::remove_dir(&probe);
            Ok(())
        }
        Err(e) => Err(err(
            existing,
            if existing == dir {
                format!("cannot write in it ({e})")
            } else {
                format!("cannot create {} in it ({e})", dir.display())
            },
        )),
    }
}

fn build_stages(cfg: &Resolved) -> Result<Stages, RunError> {
    let fingerprint = if cfg.fingerprint.enabled {
        Some(
            crate::pipeline::fingerprint::Fingerprinter::new(
                &cfg.fingerprint,
                cfg.hmac_key.clone(),
            )
            .map_err(|e| RunError::Stage(format!("fingerprint: {e}")))?,
        )
    } else {
        None
    };
    let audit = if cfg.audit.enabled {
        Some(
            crate::audit::AuditLog::new(&cfg.audit)
                .map_err(|e| RunError::Stage(format!("audit: {e}")))?,
        )
    } else {
        None
    };
    let scrub = if cfg.redaction.enabled {
        Some(
            crate::scrub::Scrubber::new(&cfg.redaction, cfg.hmac_key.clone())
                .map_err(|e| RunError::Stage(format!("redaction: {e}")))?,
        )
    } else {
        tracing::warn!("redaction is disabled: spans are stored and forwarded unscrubbed");
        None
    };
    Ok(Stages {
        fingerprint,
        scrub,
        audit,
    })
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

/// Builds the configured sinks, in fan-out order: the local log first (cheap, local, and the
/// Kafka records carry its sequence numbers), then the next stage, then Kafka.
fn build_sinks(cfg: &Resolved) -> Result<Vec<Arc<dyn Sink>>, RunError> {
    let mut sinks: Vec<Arc<dyn Sink>> = Vec::new();
    let mut origin = None;
    if let Some(f) = &cfg.file_sink {
        let log = LogSink::open(f, &cfg.env, cfg.salvage)?;
        origin = Some(log.origin().to_string());
        sinks.push(Arc::new(log));
    }
    if let Some(o) = &cfg.otlp_exporter {
        sinks.push(Arc::new(OtlpSink::new(
            o,
            tokio::runtime::Handle::current(),
        )?));
    }
    if let Some(k) = &cfg.kafka_sink {
        sinks.push(Arc::new(
            KafkaSink::new(k, origin.as_deref(), tokio::runtime::Handle::current())
                .map_err(RunError::KafkaSink)?,
        ));
    }
    Ok(sinks)
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

/// Runs the service until `shutdown` resolves, then drains: stops accepting, lets in-flight
/// requests finish, processes everything queued, flushes sinks. Must be called inside a
/// multi-threaded tokio runtime.
pub async fn run(
    cfg: Resolved,
    listeners: Listeners,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), RunError> {
    let (metrics, registry) = Metrics::new();
    let sinks = build_sinks(&cfg)?;
    let health = Arc::new(Health::new(cfg.workers, crate::sink::statuses(&sinks)));
    let qc = &cfg.pipeline.queue;
    let (qtx, qrx) = queue::bounded(qc.max_spans, qc.max_bytes);
    metrics.exporter_queue_capacity.set(qc.max_spans as i64);
    metrics.queue_capacity_bytes.set(qc.max_bytes as i64);
    let abandon = Arc::new(AtomicBool::new(false));
    if cfg.hmac_key.source() == crate::keys::KeySource::Ephemeral {
        tracing::warn!(
            "no HMAC key configured (SPANWARD_HMAC_KEY or keys.hmac_key_file): using a random per-process key; pseudonyms and fingerprints will differ across restarts and replicas"
        );
    }
    let stages = build_stages(&cfg)?;
    let status = crate::introspect::sources(
        &format!("{cfg:#?}"),
        cfg.file_sink.as_ref(),
        &cfg.pipeline.memory_limiter,
        stages.scrub.as_ref(),
    );
    let sampler = crate::pipeline::sample::Sampler::new(&cfg.sampling)
        .map_err(|e| RunError::Stage(format!("sampling: {e}")))?;
    let wctx = Arc::new(worker::WorkerContext {
        queue: qrx,
        stages: Arc::new(stages),
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
        sampler: (!sampler.is_pass_through()).then_some(sampler),
        rate_limiter: cfg
            .rate_limit
            .enabled()
            .then(|| crate::receiver::ratelimit::RateLimiter::new(cfg.rate_limit.clone())),
        memory: crate::receiver::memlimit::MemoryLimiter::start(&cfg.pipeline.memory_limiter)
            .map_err(RunError::Workers)?,
    });

    // One watch channel tells every server to stop accepting.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|v| *v).await;
    };

    let grpc_addr = listeners.grpc_addr();
    let http_addr = listeners.http_addr();
    if let Some(w) = tls::exposure_warning(&[
        ("OTLP/gRPC", grpc_addr, cfg.grpc_tls.is_some()),
        ("OTLP/HTTP", http_addr, cfg.http_tls.is_some()),
    ]) {
        tracing::warn!("{w}");
    }
    let handshake_failed = |transport: &'static str| {
        let m = metrics.clone();
        move || {
            m.receiver_tls_handshake_failures
                .get_or_create(&crate::vocab::metrics::TransportLabel { transport })
                .inc();
        }
    };
    // Reloaded on SIGHUP.
    let mut reloadable_tls = Vec::new();
    let mut servers = Vec::new();
    if let Some(l) = listeners.grpc {
        let l = tokio_listener("OTLP/gRPC receiver", l)?;
        tracing::info!(addr = %l.local_addr().map(|a| a.to_string()).unwrap_or_default(), tls = cfg.grpc_tls.is_some(), auth = cfg.receiver_auth.is_some(), "OTLP/gRPC receiver listening");
        let svc =
            receiver::grpc::OtlpGrpc::new(ingest.clone()).with_auth(cfg.receiver_auth.clone());
        let server = tonic::transport::Server::builder().add_service(svc);
        let stop = stopped(stop_rx.clone());
        let done = |r: Result<(), tonic::transport::Error>| {
            if let Err(e) = r {
                tracing::error!(error = %e, "OTLP/gRPC receiver stopped");
            }
        };
        match &cfg.grpc_tls {
            Some(t) => {
                let t = Arc::new(tls::ServerTls::load(t, tls::ALPN_GRPC)?);
                reloadable_tls.push(("OTLP/gRPC receiver", t.clone()));
                let rx = tls::accept_tls(l, t, handshake_failed("grpc"));
                let incoming = tokio_stream::StreamExt::map(
                    tokio_stream::wrappers::ReceiverStream::new(rx),
                    |(s, _)| Ok::<_, std::io::Error>(s),
                );
                servers.push(tokio::spawn(async move {
                    done(server.serve_with_incoming_shutdown(incoming, stop).await)
                }));
            }
            None => {
                let incoming = tokio_stream::wrappers::TcpListenerStream::new(l);
                servers.push(tokio::spawn(async move {
                    done(server.serve_with_incoming_shutdown(incoming, stop).await)
                }));
            }
        }
    }
    if let Some(l) = listeners.http {
        let l = tokio_listener("OTLP/HTTP receiver", l)?;
        tracing::info!(addr = %l.local_addr().map(|a| a.to_string()).unwrap_or_default(), tls = cfg.http_tls.is_some(), auth = cfg.receiver_auth.is_some(), "OTLP/HTTP receiver listening");
        let app = receiver::http::router_with_auth(ingest.clone(), cfg.receiver_auth.clone());
        let stop = stopped(stop_rx.clone());
        let done = |r: std::io::Result<()>| {
            if let Err(e) = r {
                tracing::error!(error = %e, "OTLP/HTTP receiver stopped");
            }
        };
        match &cfg.http_tls {
            Some(t) => {
                let t = Arc::new(tls::ServerTls::load(t, tls::ALPN_HTTP)?);
                reloadable_tls.push(("OTLP/HTTP receiver", t.clone()));
                let local = l.local_addr().map_err(|source| RunError::Bind {
                    what: "OTLP/HTTP receiver",
                    addr: http_addr.unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0))),
                    source,
                })?;
                let rx = tls::accept_tls(l, t, handshake_failed("http"));
                let l = tls::TlsListener { rx, local };
                servers.push(tokio::spawn(async move {
                    done(axum::serve(l, app).with_graceful_shutdown(stop).await)
                }));
            }
            None => {
                servers.push(tokio::spawn(async move {
                    done(axum::serve(l, app).with_graceful_shutdown(stop).await)
                }));
            }
        }
    }
    let reload_auth: Vec<_> = [
        ("receiver tokens", cfg.receiver_auth.clone()),
        ("admin tokens", cfg.admin_auth.clone()),
    ]
    .into_iter()
    .filter_map(|(w, a)| a.map(|a| (w, a)))
    .collect();
    let reload_task = reload_on_sighup(reloadable_tls, reload_auth, stopped(stop_rx.clone()));
    let admin_l = tokio_listener("admin endpoint", listeners.admin)?;
    tracing::info!(addr = %admin_l.local_addr().map(|a| a.to_string()).unwrap_or_default(), "admin endpoint listening");
    if let Some(w) = admin_l
        .local_addr()
        .ok()
        .and_then(|a| tls::admin_exposure_warning(a, cfg.admin_auth.is_some()))
    {
        tracing::warn!("{w}");
    }
    let (admin_stop_tx, admin_stop_rx) = tokio::sync::watch::channel(false);
    let admin_app = admin::router_with_status(
        registry,
        health.clone(),
        metrics.clone(),
        qtx.clone(),
        cfg.admin_auth.clone(),
        status,
    );
    let admin_task = tokio::spawn(async move {
        if let Err(e) = axum::serve(admin_l, admin_app)
            .with_graceful_shutdown(stopped(admin_stop_rx))
            .await
        {
            tracing::error!(error = %e, "admin endpoint stopped");
        }
    });
    health.listeners_bound.store(true, Ordering::Release);

    let (summary_stop_tx, summary_stop_rx) = tokio::sync::watch::channel(false);
    let summary_task = {
        let metrics = metrics.clone();
        let q = qtx.clone();
        let every = cfg.pipeline.summary_interval;
        tokio::spawn(async move {
            let mut s = Summariser::default();
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            let stop = stopped(summary_stop_rx);
            tokio::pin!(stop);
            loop {
                let last = tokio::select! {
                    _ = tick.tick() => false,
                    _ = &mut stop => true,
                };
                // The depth gauges are refreshed at every scrape (admin), not here.
                let depth = q.depth_spans();
                if let Some(line) = s.tick(&metrics, depth, q.capacity_spans()) {
                    tracing::info!(target: "spanward::summary", "{line}");
                }
                if last {
                    break;
                }
            }
        })
    };

    shutdown.await;
    tracing::info!("shutting down: no longer accepting spans, draining the queue");
    health.shutting_down.store(true, Ordering::Release);
    let _ = stop_tx.send(true);
    let timeout = cfg.pipeline.shutdown_timeout;
    let deadline = tokio::time::Instant::now() + timeout;
    for s in servers {
        if tokio::time::timeout_at(deadline, s).await.is_err() {
            tracing::warn!("a receiver did not finish its in-flight requests in time");
        }
    }
    qtx.close();
    if let Some(t) = reload_task {
        let _ = t.await;
    }

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
        let left = qtx.depth_spans();
        tracing::warn!(
            queued_spans = left,
            "shutdown_timeout passed: abandoning queued spans (counted as dropped, reason=shutdown)"
        );
        abandon.store(true, Ordering::Release);
        for s in &sinks {
            s.abort();
        }
        // Workers now drop what is left without processing; this returns promptly.
        let _ = joined.await;
    }
    for s in &sinks {
        if let Err(e) = s.shutdown() {
            tracing::error!(sink = s.name(), error = %e, "sink did not shut down cleanly");
        }
    }
    // A last summary line, so refusals and drops of the final seconds are reported too.
    let _ = summary_stop_tx.send(true);
    let _ = summary_task.await;
    let dropped_on_shutdown = metrics
        .pipeline_dropped_spans
        .get_or_create(&crate::vocab::metrics::ReasonLabel {
            reason: DropReason::Shutdown.as_str(),
        })
        .get();
    tracing::info!(
        delivered = metrics.pipeline_delivered_spans.get(),
        dropped_on_shutdown,
        "shutdown complete"
    );
    let _ = admin_stop_tx.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(2), admin_task).await;
    Ok(())
}
