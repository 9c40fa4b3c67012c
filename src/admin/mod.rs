//! Admin endpoint: Prometheus text at `/metrics`, liveness at `/healthz`, readiness at
//! `/readyz`, the operator views (the status page at `/`, its JSON at `/api/v1/status` and
//! `/api/v1/config`), and the periodic refusal/drop summary line.

pub mod config_view;
pub mod process;
pub mod scrape;
pub mod status;
pub mod summary;

use crate::auth::{bearer_challenge, Authenticator};
use crate::pipeline::queue::QueueSender;
use crate::vocab::{metrics, Health};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use prometheus_client::registry::Registry;
use status::Sources;
use std::sync::Arc;
use std::time::Instant;

#[derive(Clone)]
struct AdminState {
    registry: Arc<Registry>,
    health: Arc<Health>,
    metrics: metrics::Metrics,
    /// Bearer tokens required for `/metrics` and the operator views; `None` leaves them open.
    auth: Option<Arc<Authenticator>>,
    /// Read at every scrape, so the depth gauges are the queue's own counters at that moment.
    queue: QueueSender,
    /// What the status views show beyond the metrics.
    sources: Arc<Sources>,
    started: Instant,
}

/// The status page: one self-contained HTML file (styles and script inline, no external
/// asset), which fetches `api/v1/status` every second.
const PAGE: &str = include_str!("page.html");

/// How the operator views challenge a request without a valid token.
#[derive(Clone, Copy, PartialEq)]
enum Challenge {
    /// `WWW-Authenticate: Bearer` (scripts, `spanward top`, Prometheus).
    Bearer,
    /// `WWW-Authenticate: Basic` as well, so a browser asks for the token (as the password).
    Browser,
}

/// The `Authorization` header as a bearer token: `Bearer T`, or `Basic` with T as the password
/// (what a browser sends after the page's challenge; the user name is ignored).
fn bearer_from(headers: &HeaderMap) -> Option<Vec<u8>> {
    let h = headers.get(header::AUTHORIZATION)?.as_bytes();
    match h.get(..6) {
        Some(s) if s.eq_ignore_ascii_case(b"basic ") => {
            use base64::Engine;
            let raw = base64::engine::general_purpose::STANDARD
                .decode(h[6..].trim_ascii())
                .ok()?;
            let colon = raw.iter().position(|b| *b == b':')?;
            let mut out = b"Bearer ".to_vec();
            out.extend_from_slice(&raw[colon + 1..]);
            Some(out)
        }
        _ => Some(h.to_vec()),
    }
}

/// `Ok` when no token is required or a listed one came with the request.
#[allow(clippy::result_large_err)]
fn authorize(st: &AdminState, headers: &HeaderMap, challenge: Challenge) -> Result<(), Response> {
    let Some(a) = &st.auth else {
        return Ok(());
    };
    let h = match challenge {
        Challenge::Bearer => headers
            .get(header::AUTHORIZATION)
            .map(|v| v.as_bytes().to_vec()),
        Challenge::Browser => bearer_from(headers),
    };
    match a.check(h.as_deref()) {
        Ok(_) => Ok(()),
        Err(denied) => {
            let mut r = (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, bearer_challenge(denied))],
                "missing or invalid bearer token\n",
            )
                .into_response();
            // A browser asks again after a wrong password too.
            if challenge == Challenge::Browser {
                r.headers_mut().append(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(
                        "Basic realm=\"spanward admin (password: an admin token)\", charset=\"UTF-8\"",
                    ),
                );
            }
            Err(r)
        }
    }
}

/// Sets the gauges read at scrape time and encodes the registry.
fn scrape(st: &AdminState) -> Result<String, std::fmt::Error> {
    let ready = i64::from(st.health.not_ready_reason().is_none());
    st.metrics.ready.set(ready);
    for s in &st.health.sinks {
        let up = s.ready() && s.problem().is_none();
        st.metrics
            .exporter_up
            .get_or_create(&metrics::ExporterLabel { exporter: s.name() })
            .set(i64::from(up));
    }
    // Workers take batches off without touching the gauges; reading the queue here keeps the
    // scrape exact instead of showing the depth of the last enqueue or summary tick.
    st.metrics
        .exporter_queue_size
        .set(st.queue.depth_spans() as i64);
    st.metrics.queue_bytes.set(st.queue.depth_bytes() as i64);
    let mut body = String::new();
    prometheus_client::encoding::text::encode(&mut body, &st.registry)?;
    Ok(body)
}

fn encoding_failed() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, "text/plain")],
        "metrics encoding failed\n".to_string(),
    )
        .into_response()
}

/// Answers with JSON; never cached (the figures move every second).
fn json<T: serde::Serialize>(v: &T) -> Response {
    match serde_json::to_string(v) {
        Ok(body) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            body,
        )
            .into_response(),
        Err(_) => encoding_failed(),
    }
}

async fn metrics_handler(State(st): State<AdminState>, headers: HeaderMap) -> Response {
    if let Err(r) = authorize(&st, &headers, Challenge::Bearer) {
        return r;
    }
    // OpenMetrics for scrapers that ask for it (Prometheus does), the classic text format for
    // everyone else (curl, promtool), as the Go client library answers.
    let openmetrics = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/openmetrics-text"));
    match scrape(&st) {
        Ok(body) if openmetrics => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            body,
        )
            .into_response(),
        Ok(body) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            scrape::to_classic(&body),
        )
            .into_response(),
        Err(_) => encoding_failed(),
    }
}

async fn status_handler(State(st): State<AdminState>, headers: HeaderMap) -> Response {
    if let Err(r) = authorize(&st, &headers, Challenge::Browser) {
        return r;
    }
    match scrape(&st) {
        Ok(text) => json(&status::build(
            &scrape::parse(&text),
            &st.health,
            &st.sources,
            st.started.elapsed(),
        )),
        Err(_) => encoding_failed(),
    }
}

async fn config_handler(State(st): State<AdminState>, headers: HeaderMap) -> Response {
    if let Err(r) = authorize(&st, &headers, Challenge::Browser) {
        return r;
    }
    json(&status::ConfigView {
        schema: status::SCHEMA,
        version: env!("CARGO_PKG_VERSION"),
        config: &st.sources.config,
        rule_packs: &st.sources.rule_packs,
    })
}

async fn page_handler(State(st): State<AdminState>, headers: HeaderMap) -> Response {
    if let Err(r) = authorize(&st, &headers, Challenge::Browser) {
        return r;
    }
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            // Everything is inline; nothing may be loaded from elsewhere.
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
                 connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; \
                 frame-ancestors 'none'",
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        PAGE,
    )
        .into_response()
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(st): State<AdminState>) -> (StatusCode, String) {
    match st.health.not_ready_reason() {
        // Ready, but say which exporter is failing: readiness gates traffic, and taking every
        // replica out because the next stage is down would not bring it back; back-pressure
        // refuses data once the queue is full.
        None => {
            let problems = st.health.sink_problems();
            if problems.is_empty() {
                (StatusCode::OK, "ready\n".into())
            } else {
                (
                    StatusCode::OK,
                    format!("ready, degraded: {}\n", problems.join("; ")),
                )
            }
        }
        Some(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {why}\n"),
        ),
    }
}

/// The admin router. `queue` is the pipeline's queue, whose depth `/metrics` reports.
pub fn router(
    registry: Arc<Registry>,
    health: Arc<Health>,
    metrics: metrics::Metrics,
    queue: QueueSender,
) -> Router {
    router_with_auth(registry, health, metrics, queue, None)
}

/// The admin router; with `auth`, `/metrics` and the operator views need a listed bearer token
/// (the probes stay open). The views show no configuration, packs or process figures: see
/// [`router_with_status`].
pub fn router_with_auth(
    registry: Arc<Registry>,
    health: Arc<Health>,
    metrics: metrics::Metrics,
    queue: QueueSender,
    auth: Option<Arc<Authenticator>>,
) -> Router {
    build(registry, health, metrics, queue, auth, Sources::default())
}

/// The admin router of a running service: like [`router_with_auth`], and `/metrics` and the
/// status views also report the process's CPU and memory, the memory limiter's limits and the
/// log's latest checkpoint (read at each scrape), with `sources` for the status page.
pub fn router_with_status(
    mut registry: Registry,
    health: Arc<Health>,
    metrics: metrics::Metrics,
    queue: QueueSender,
    auth: Option<Arc<Authenticator>>,
    sources: Sources,
) -> Router {
    registry.register_collector(Box::new(process::Collector {
        memory_limits: sources.memory_limits,
        log: sources.log.clone(),
    }));
    known_series(&metrics, &health);
    build(Arc::new(registry), health, metrics, queue, auth, sources)
}

/// Creates every series whose labels are known at start at zero (each reason of each transport,
/// each sink), so a dashboard or an alert finds them from the first scrape rather than after
/// the first event (the summary line's first tick creates the refusal and drop series anyway).
fn known_series(m: &metrics::Metrics, health: &Health) {
    use crate::vocab::metrics::{ReasonLabel, RefusedLabels, TransportLabel, TRANSPORTS};
    use crate::vocab::{DropReason, RefuseReason};
    for transport in TRANSPORTS {
        for r in RefuseReason::ALL {
            let l = RefusedLabels {
                transport,
                reason: r.as_str(),
            };
            let _ = m.receiver_refused_spans.get_or_create(&l);
            let _ = m.receiver_refused_requests.get_or_create(&l);
        }
        let _ = m
            .receiver_accepted_spans
            .get_or_create(&TransportLabel { transport });
        let _ = m
            .receiver_tls_handshake_failures
            .get_or_create(&TransportLabel { transport });
    }
    for r in DropReason::ALL {
        let _ = m
            .pipeline_dropped_spans
            .get_or_create(&ReasonLabel { reason: r.as_str() });
    }
    for s in &health.sinks {
        let l = metrics::ExporterLabel { exporter: s.name() };
        let _ = m.exporter_sent_spans.get_or_create(&l);
        let _ = m.exporter_send_failed_spans.get_or_create(&l);
        let _ = m.exporter_write_duration.get_or_create(&l);
    }
}

fn build(
    registry: Arc<Registry>,
    health: Arc<Health>,
    metrics: metrics::Metrics,
    queue: QueueSender,
    auth: Option<Arc<Authenticator>>,
    sources: Sources,
) -> Router {
    Router::new()
        .route("/", get(page_handler))
        .route("/api/v1/status", get(status_handler))
        .route("/api/v1/config", get(config_handler))
        .route("/metrics", get(metrics_handler))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(AdminState {
            registry,
            health,
            metrics,
            auth,
            queue,
            sources: Arc::new(sources),
            started: Instant::now(),
        })
}
