//! A counting OTLP/gRPC receiver: the "next stage" in benchmarks. Accepts gzip, decodes each
//! request only to count its spans, and prints the running total once a second
//! (`spans=N requests=M`) and at exit.
//!
//! usage: count_receiver 127.0.0.1:PORT

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

#[derive(Default, Clone)]
struct Counter {
    spans: Arc<AtomicU64>,
    requests: Arc<AtomicU64>,
}

#[tonic::async_trait]
impl TraceService for Counter {
    async fn export(
        &self,
        req: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let n = spanward::pipeline::count_spans(req.get_ref());
        self.spans.fetch_add(n as u64, Ordering::Relaxed);
        self.requests.fetch_add(1, Ordering::Relaxed);
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:4327".into())
        .parse()?;
    let c = Counter::default();
    let svc = TraceServiceServer::new(c.clone())
        .accept_compressed(tonic::codec::CompressionEncoding::Gzip)
        .max_decoding_message_size(256 << 20);
    let printer = c.clone();
    tokio::spawn(async move {
        let mut t = tokio::time::interval(std::time::Duration::from_secs(1));
        loop {
            t.tick().await;
            println!(
                "spans={} requests={}",
                printer.spans.load(Ordering::Relaxed),
                printer.requests.load(Ordering::Relaxed)
            );
        }
    });
    tonic::transport::Server::builder()
        .add_service(svc)
        .serve_with_shutdown(addr, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    println!(
        "spans={} requests={}",
        c.spans.load(Ordering::Relaxed),
        c.requests.load(Ordering::Relaxed)
    );
    Ok(())
}
