//! The three OTLP signals. A request is one signal's `Export…ServiceRequest` from the receivers
//! to the sinks; the batch carries which, and each layer reads it to pick its walk, its metric
//! names and its destination.

use serde::Deserialize;

/// Traces, logs or metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Signal {
    #[default]
    Traces,
    Logs,
    Metrics,
}

impl Signal {
    pub const ALL: [Signal; 3] = [Signal::Traces, Signal::Logs, Signal::Metrics];

    /// `traces`, `logs`, `metrics`: the config keys, the `signal` label and the OTLP/HTTP path's
    /// last segment.
    pub fn as_str(self) -> &'static str {
        match self {
            Signal::Traces => "traces",
            Signal::Logs => "logs",
            Signal::Metrics => "metrics",
        }
    }

    /// What one item of the signal is called in counts and metric names, in the OpenTelemetry
    /// Collector's vocabulary (`otelcol_receiver_accepted_log_records`).
    pub fn items(self) -> &'static str {
        match self {
            Signal::Traces => "spans",
            Signal::Logs => "log_records",
            Signal::Metrics => "metric_points",
        }
    }

    /// The OTLP/HTTP path.
    pub fn http_path(self) -> &'static str {
        match self {
            Signal::Traces => "/v1/traces",
            Signal::Logs => "/v1/logs",
            Signal::Metrics => "/v1/metrics",
        }
    }

    /// The OTLP/gRPC service.
    pub fn grpc_service(self) -> &'static str {
        match self {
            Signal::Traces => "opentelemetry.proto.collector.trace.v1.TraceService",
            Signal::Logs => "opentelemetry.proto.collector.logs.v1.LogsService",
            Signal::Metrics => "opentelemetry.proto.collector.metrics.v1.MetricsService",
        }
    }

    /// The OTLP/gRPC method path (`/<service>/Export`).
    pub fn grpc_path(self) -> &'static str {
        match self {
            Signal::Traces => "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
            Signal::Logs => "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
            Signal::Metrics => "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
        }
    }

    /// The signal whose OTLP/gRPC method path is `path`.
    pub fn of_grpc_path(path: &str) -> Option<Signal> {
        Signal::ALL.into_iter().find(|s| s.grpc_path() == path)
    }
}

impl std::fmt::Display for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_paths_name_their_service() {
        for s in Signal::ALL {
            assert_eq!(s.grpc_path(), format!("/{}/Export", s.grpc_service()));
            assert_eq!(Signal::of_grpc_path(s.grpc_path()), Some(s));
            assert!(s.http_path().ends_with(s.as_str()));
        }
        assert_eq!(Signal::of_grpc_path("/x.TraceService/Export"), None);
    }
}
