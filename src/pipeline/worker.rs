//! Worker threads: take a batch off the queue, run the stages (which write the request once,
//! only when they changed it), hand the bytes to every sink, then resolve the batch's
//! acknowledgement. CPU-bound work lives here, never on the async runtime.

use super::queue::{QueueReceiver, Recv};
use super::stages::Scratch;
use super::stages::Stages;
use super::{AckResult, Batch};
use crate::sink::Sink;
use crate::vocab::metrics::{ExporterLabel, Metrics};
use crate::vocab::{DropReason, Health};
use bytes::Bytes;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Everything a worker needs, shared by all workers.
pub struct WorkerContext {
    pub queue: QueueReceiver,
    pub stages: Arc<Stages>,
    pub sinks: Vec<Arc<dyn Sink>>,
    pub metrics: Metrics,
    pub health: Arc<Health>,
    /// Set when the shutdown deadline passed: remaining batches are dropped and counted.
    pub abandon: Arc<AtomicBool>,
}

/// Starts `n` worker threads.
pub fn spawn(
    n: usize,
    ctx: Arc<WorkerContext>,
) -> std::io::Result<Vec<std::thread::JoinHandle<()>>> {
    (0..n)
        .map(|i| {
            let ctx = ctx.clone();
            std::thread::Builder::new()
                .name(format!("spanward-worker-{i}"))
                .spawn(move || run(&ctx))
        })
        .collect()
}

fn run(ctx: &WorkerContext) {
    ctx.health.workers_running.fetch_add(1, Ordering::AcqRel);
    let mut scratch = Scratch::default();
    loop {
        match ctx.queue.recv(Duration::from_millis(200)) {
            Recv::Batch(b) => handle(ctx, b, &mut scratch),
            Recv::Idle => continue,
            Recv::Done => break,
        }
    }
    ctx.health.workers_running.fetch_sub(1, Ordering::AcqRel);
}

/// Writes to one sink. A sink that holds on retryable failures (local storage with a full disk)
/// is retried here with backoff until it succeeds or shutdown abandons the batch: the worker
/// stays busy, the queue fills, and receivers refuse with a retryable status.
fn write_holding(
    ctx: &WorkerContext,
    sink: &dyn Sink,
    signal: crate::vocab::Signal,
    request: &Bytes,
    spans: usize,
    prov: &mut crate::sink::Provenance,
) -> Result<crate::sink::Delivery, crate::sink::SinkError> {
    let mut wait = Duration::from_millis(50);
    let mut warned = false;
    loop {
        match sink.write_in_fanout(signal, request, spans, prov) {
            Err(e)
                if e.kind == crate::sink::FailureKind::Retryable
                    && sink.hold_on_retryable()
                    && !ctx.abandon.load(Ordering::Acquire) =>
            {
                if !warned {
                    tracing::warn!(sink = e.sink, error = %e.message, "sink cannot write; holding the batch and retrying (back-pressure)");
                    warned = true;
                }
                std::thread::sleep(wait);
                wait = (wait * 2).min(Duration::from_secs(2));
            }
            other => {
                if warned && other.is_ok() {
                    tracing::info!(sink = sink.name(), "sink writes again");
                }
                return other;
            }
        }
    }
}

fn handle(ctx: &WorkerContext, mut batch: Batch, scratch: &mut Scratch) {
    let m = &ctx.metrics;
    let spans_in = batch.spans;
    let signal = batch.signal;
    if ctx.abandon.load(Ordering::Acquire) {
        m.dropped_as(signal, DropReason::Shutdown, spans_in);
        // The Ack's drop reports failure to a waiting client.
        return;
    }
    m.pipeline_in_process_spans.inc_by(spans_in as i64);
    let started = Instant::now();
    let request = std::mem::take(&mut batch.request);
    let p = ctx
        .stages
        .process_signal(batch.signal, request, spans_in, m, scratch);
    for (reason, n) in &p.report.dropped {
        m.dropped_as(signal, *reason, *n);
    }
    let spans = p.spans;
    let mut all_ok = true;
    if spans > 0 {
        let mut prov = crate::sink::Provenance::default();
        for sink in &ctx.sinks {
            let label = ExporterLabel {
                exporter: sink.name(),
            };
            let wrote = Instant::now();
            let res = write_holding(
                ctx,
                sink.as_ref(),
                batch.signal,
                &p.request,
                spans,
                &mut prov,
            );
            m.exporter_write_duration(sink.name(), wrote.elapsed());
            match res {
                Ok(_) => m.exported(signal, label.exporter, true, spans),
                Err(e) => {
                    all_ok = false;
                    m.exported(signal, label.exporter, false, spans);
                    tracing::warn!(sink = e.sink, kind = ?e.kind, signal = signal.as_str(), items = spans, error = %e.message, "export failed");
                }
            }
        }
        if all_ok {
            m.delivered(signal, spans);
        } else {
            m.dropped_as(signal, DropReason::ExportFailed, spans);
        }
    }
    m.pipeline_in_process_spans.dec_by(spans_in as i64);
    m.batch_duration.observe(started.elapsed().as_secs_f64());
    if let Some(ack) = batch.ack.take() {
        ack.resolve(if all_ok {
            AckResult::Delivered
        } else {
            AckResult::Failed
        });
    }
    scratch.recycle(p);
}
