//! The exporters a config can name, and what each of them must be able to do: the
//! `exporters:` section is one [`SinkConfig`] per key, as the OpenTelemetry Collector's
//! exporter factories and Vector's sink configs are. A sink's config type checks its own values
//! ([`SinkConfig::validate`]), says what `spanward validate` can check before start
//! ([`SinkConfig::check`]) and builds the sink ([`SinkConfig::build`]); `config` and `service`
//! only walk the list.
//!
//! Adding a sink: a file with its config type (serde, `deny_unknown_fields`), its
//! `impl SinkConfig` and the sink itself, and one line in the `exporters!` list below (the
//! YAML key and the type; the list's order is the fan-out order). Its keys then need rows in
//! docs/configuration.md (`tests/config_reference.rs` says which).

use super::Sink;
use crate::keys::Env;
use crate::yaml::{present, ComponentError};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;

/// The config of one sink, as its key under `exporters:` holds it.
pub trait SinkConfig: std::any::Any + std::fmt::Debug + Send + Sync {
    /// Takes what the environment decides per replica (`SPANWARD_LOG_ORIGIN`) before the
    /// values are checked. Default: nothing.
    fn apply_env(&mut self, _env: &dyn Env) {}

    /// The `SPANWARD_*` variables [`SinkConfig::build`] reads (from [`SinkContext::env`]):
    /// the environment is read once, when the config is resolved. Default: none.
    fn env_keys(&self) -> &'static [&'static str] {
        &[]
    }

    /// Checks the values, reading no file and opening nothing. Errors name the exact key.
    fn validate(&self, ctx: &ValidateContext) -> Result<(), ComponentError>;

    /// What `spanward validate` checks beyond the values, so that a config it accepts does not
    /// fail at start for a reason it could have seen (keys load, directories can be written).
    /// Creates nothing. Default: nothing to check.
    fn check(&self, _env: &HashMap<String, String>) -> Result<(), ComponentError> {
        Ok(())
    }

    /// Builds the sink; called once, by `service::run`, in fan-out order.
    fn build(&self, ctx: &mut SinkContext) -> Result<Arc<dyn Sink>, ComponentError>;
}

/// The rest of the config, as far as a sink's validation depends on it.
#[derive(Debug, Clone, Copy)]
pub struct ValidateContext {
    /// `pipeline.ack: durable`: a client's OK waits until every sink confirmed its batch.
    pub durable_ack: bool,
}

/// What building a sink needs.
pub struct SinkContext<'a> {
    /// The `SPANWARD_*` variables the sinks asked for ([`SinkConfig::env_keys`]).
    pub env: &'a HashMap<String, String>,
    /// `spanward run --salvage`: open a damaged log instead of refusing.
    pub salvage: bool,
    /// The runtime the sinks do their network I/O on.
    pub runtime: tokio::runtime::Handle,
    /// Set by the `file` exporter once its log is open: the origin later sinks of the fan-out
    /// stamp on what they send (Kafka's `spanward-origin` header).
    pub log_origin: Option<String>,
}

/// One configured exporter: its key under `exporters:` and its config.
#[derive(Debug, Clone)]
pub struct Exporter {
    pub key: &'static str,
    pub config: Arc<dyn SinkConfig>,
}

impl Exporter {
    /// The config as its concrete type (tests, and callers that need one sink's settings).
    pub fn config<T: SinkConfig>(&self) -> Option<&T> {
        (self.config.as_ref() as &dyn std::any::Any).downcast_ref::<T>()
    }
}

/// The `exporters:` section: one `Option` per registered key (present = on, with defaults for
/// what it leaves out), and the list of what is on, in fan-out order.
macro_rules! exporters {
    ($($(#[doc = $doc:literal])* $key:ident: $ty:ty,)*) => {
        #[derive(Debug, Clone, Deserialize, Default)]
        #[serde(deny_unknown_fields, default)]
        pub struct ExportersConfig {
            $(
                $(#[doc = $doc])*
                #[serde(deserialize_with = "present")]
                pub $key: Option<$ty>,
            )*
        }

        impl ExportersConfig {
            /// The exporters the section turns on, in fan-out order.
            pub fn into_list(self) -> Vec<(&'static str, Box<dyn SinkConfig>)> {
                let mut out: Vec<(&'static str, Box<dyn SinkConfig>)> = Vec::new();
                $(
                    if let Some(c) = self.$key {
                        out.push((stringify!($key), Box::new(c)));
                    }
                )*
                out
            }
        }
    };
}

// The registry. Fan-out order: the local log first (cheap, local, and the Kafka records carry its
// sequence numbers), then the next stage, then Kafka.
exporters! {
    /// The local tamper-evident append-only log (see `crate::sink::log::LogConfig`).
    file: super::log::LogConfig,
    /// Forward to the next collector stage over OTLP/gRPC.
    otlp: super::otlp::OtlpExporterConfig,
    /// Produce to a Kafka topic (see `crate::sink::kafka::KafkaConfig`; cargo feature `kafka`).
    kafka: super::kafka_exporter::KafkaExporterConfig,
}

impl ExportersConfig {
    /// What runs when the config has no `exporters:` section: the local log alone, keeping a
    /// bounded amount (nobody chose to keep everything).
    pub fn implied() -> ExportersConfig {
        ExportersConfig {
            file: Some(super::log::LogConfig {
                retention_max_bytes: Some(super::log::DEFAULT_RUN_RETENTION_BYTES),
                ..Default::default()
            }),
            ..Default::default()
        }
    }
}

/// Whether a sink could create or write `dir` (the `check` of sinks and stages that write
/// files): the nearest existing ancestor must be a directory in which an entry can be made
/// (probed with a directory made and removed at once). `at` is the key that names `dir`.
pub fn check_writable_dir(at: &str, dir: &std::path::Path) -> Result<(), ComponentError> {
    let err = |p: &std::path::Path, message: String| {
        ComponentError::new(at, format!("{}: {message}", p.display()))
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
