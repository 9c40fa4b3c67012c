//! Readiness: listeners bound, workers running, sinks able to take data.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// What [`Health`] needs of a sink: its name and how it is doing. `crate::sink` provides it
/// for every sink (the sink trait's own methods of the same names).
pub trait SinkStatus: Send + Sync {
    /// Stable short name, the `exporter` metrics label.
    fn name(&self) -> &'static str;
    /// False once the sink can no longer accept data.
    fn ready(&self) -> bool;
    /// A problem the sink is riding out, or `None`.
    fn problem(&self) -> Option<String>;
}

/// What `/readyz` looks at.
pub struct Health {
    pub listeners_bound: AtomicBool,
    pub workers_running: AtomicUsize,
    pub workers_expected: usize,
    pub shutting_down: AtomicBool,
    pub sinks: Vec<Arc<dyn SinkStatus>>,
}

impl Health {
    pub fn new(workers_expected: usize, sinks: Vec<Arc<dyn SinkStatus>>) -> Self {
        Health {
            listeners_bound: AtomicBool::new(false),
            workers_running: AtomicUsize::new(0),
            workers_expected,
            shutting_down: AtomicBool::new(false),
            sinks,
        }
    }

    /// Why the service is not ready, or `None` when it is.
    pub fn not_ready_reason(&self) -> Option<String> {
        if self.shutting_down.load(Ordering::Acquire) {
            return Some("shutting down".into());
        }
        if !self.listeners_bound.load(Ordering::Acquire) {
            return Some("listeners not bound".into());
        }
        let running = self.workers_running.load(Ordering::Acquire);
        if running < self.workers_expected {
            return Some(format!(
                "{running}/{} workers running",
                self.workers_expected
            ));
        }
        for s in &self.sinks {
            if !s.ready() {
                return Some(format!("sink {} failed", s.name()));
            }
        }
        None
    }

    /// Problems sinks are riding out (`exporter otlp: …`), for `/readyz`'s body.
    pub fn sink_problems(&self) -> Vec<String> {
        self.sinks
            .iter()
            .filter_map(|s| s.problem().map(|p| format!("exporter {}: {p}", s.name())))
            .collect()
    }

    /// Whether sinks can take data (used by receivers to refuse early).
    pub fn sinks_ready(&self) -> bool {
        self.sinks.iter().all(|s| s.ready())
    }
}
