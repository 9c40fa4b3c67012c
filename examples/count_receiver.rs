//! A counting OTLP/gRPC receiver: the "next stage" in benchmarks. Serves the trace, logs and
//! metrics services, accepts gzip, decodes each request only to count its items, and prints
//! the running totals once a second and at exit, one line per signal:
//!
//! ```text
//! spans=N requests=M            (traces; benches/compare.py reads this line)
//! log_records=N requests=M      (logs)
//! metric_points=N requests=M    (metrics: data points)
//! ```
//!
//! usage: count_receiver 127.0.0.1:PORT

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
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Items and requests of one signal.
#[derive(Default)]
struct Tally {
    items: AtomicU64,
    requests: AtomicU64,
}

impl Tally {
    fn add(&self, items: usize) {
        self.items.fetch_add(items as u64, Ordering::Relaxed);
        self.requests.fetch_add(1, Ordering::Relaxed);
    }
}

#[derive(Default, Clone)]
struct Counter {
    spans: Arc<Tally>,
    logs: Arc<Tally>,
    metrics: Arc<Tally>,
}

impl Counter {
    fn print(&self) {
        for (name, t) in [
            ("spans", &self.spans),
            ("log_records", &self.logs),
            ("metric_points", &self.metrics),
        ] {
            println!(
                "{name}={} requests={}",
                t.items.load(Ordering::Relaxed),
                t.requests.load(Ordering::Relaxed)
            );
        }
    }
}

#[tonic::async_trait]
impl TraceService for Counter {
    async fn export(
        &self,
        req: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.spans
            .add(spanward::pipeline::count_spans(req.get_ref()));
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl LogsService for Counter {
    async fn export(
        &self,
        req: tonic::Request<ExportLogsServiceRequest>,
    ) -> Result<tonic::Response<ExportLogsServiceResponse>, tonic::Status> {
        let n = req
            .get_ref()
            .resource_logs
            .iter()
            .flat_map(|r| &r.scope_logs)
            .map(|s| s.log_records.len())
            .sum();
        self.logs.add(n);
        Ok(tonic::Response::new(ExportLogsServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl MetricsService for Counter {
    async fn export(
        &self,
        req: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        let n = req
            .get_ref()
            .resource_metrics
            .iter()
            .flat_map(|r| &r.scope_metrics)
            .flat_map(|s| &s.metrics)
            .map(spanward::sink::log::kind::data_points)
            .sum();
        self.metrics.add(n);
        Ok(tonic::Response::new(ExportMetricsServiceResponse::default()))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:4327".into())
        .parse()?;
    let c = Counter::default();
    let gzip = tonic::codec::CompressionEncoding::Gzip;
    let traces = TraceServiceServer::new(c.clone())
        .accept_compressed(gzip)
        .max_decoding_message_size(256 << 20);
    let logs = LogsServiceServer::new(c.clone())
        .accept_compressed(gzip)
        .max_decoding_message_size(256 << 20);
    let metrics = MetricsServiceServer::new(c.clone())
        .accept_compressed(gzip)
        .max_decoding_message_size(256 << 20);
    let printer = c.clone();
    tokio::spawn(async move {
        let mut t = tokio::time::interval(std::time::Duration::from_secs(1));
        loop {
            t.tick().await;
            printer.print();
        }
    });
    tonic::transport::Server::builder()
        .add_service(traces)
        .add_service(logs)
        .add_service(metrics)
        .serve_with_shutdown(addr, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    c.print();
    Ok(())
}
