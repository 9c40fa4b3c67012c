//! Admin endpoint: Prometheus text at `/metrics`, liveness at `/healthz`, readiness at
//! `/readyz`, and the periodic refusal/drop summary line.

pub mod summary;

use crate::auth::{bearer_challenge, Authenticator};
use crate::pipeline::queue::QueueSender;
use crate::vocab::{metrics, Health};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use prometheus_client::registry::Registry;
use std::sync::Arc;

#[derive(Clone)]
struct AdminState {
    registry: Arc<Registry>,
    health: Arc<Health>,
    metrics: metrics::Metrics,
    /// Bearer tokens required for `/metrics`; `None` leaves it open.
    auth: Option<Arc<Authenticator>>,
    /// Read at every scrape, so the depth gauges are the queue's own counters at that moment.
    queue: QueueSender,
}

async fn metrics_handler(State(st): State<AdminState>, headers: HeaderMap) -> Response {
    if let Some(a) = &st.auth {
        let h = headers.get(header::AUTHORIZATION).map(|v| v.as_bytes());
        if let Err(denied) = a.check(h) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, bearer_challenge(denied))],
                "missing or invalid bearer token\n",
            )
                .into_response();
        }
    }
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
    match prometheus_client::encoding::text::encode(&mut body, &st.registry) {
        Ok(()) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            body,
        )
            .into_response(),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "text/plain")],
            "metrics encoding failed\n".to_string(),
        )
            .into_response(),
    }
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

/// The admin router; with `auth`, `/metrics` needs a listed bearer token (the probes stay open).
pub fn router_with_auth(
    registry: Arc<Registry>,
    health: Arc<Health>,
    metrics: metrics::Metrics,
    queue: QueueSender,
    auth: Option<Arc<Authenticator>>,
) -> Router {
    Router::new()
        .route("/metrics", get(metrics_handler))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(AdminState {
            registry,
            health,
            metrics,
            auth,
            queue,
        })
}
