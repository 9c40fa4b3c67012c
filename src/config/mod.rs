//! Typed configuration: the YAML file (collector-like sections) plus defaults, validated once at
//! start. Every struct rejects unknown keys so a typo never silently falls back to a default.
//!
//! The keys of the backbone (`receivers.otlp.{grpc,http}.endpoint`, `exporters.{otlp,file}`,
//! `admin.endpoint`) are a public contract: later versions keep accepting them.

mod locate;
mod security;

use crate::pipeline::component::StagesConfig;
use crate::receiver::{AckMode, WhenFull};
use crate::sink::{Exporter, ExportersConfig, SinkConfig, ValidateContext};
use crate::yaml::{present, ComponentError};
use locate::strip_location;
use security::resolve_security;

pub use crate::sink::file_exporter::LOG_ORIGIN_ENV;

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// `at` is the dotted key path (`receivers.otlp.grpc.endpoint`); `location` the line/column.
    #[error("{origin}: invalid config at `{at}`{location}: {message}")]
    Parse {
        origin: String,
        at: String,
        location: String,
        message: String,
    },
    /// Not YAML at all (an unclosed bracket or quote, bad indentation): no key path applies.
    #[error("{origin}: YAML syntax error at line {line}, column {column}: {message}")]
    Syntax {
        origin: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// `location` is ` (line L)` when the key (or its nearest enclosing key) is in the file.
    #[error("{origin}: invalid value for `{at}`{location}: {message}")]
    Invalid {
        origin: String,
        at: String,
        location: String,
        message: String,
    },
}

/// The whole file. Every section is optional.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where spans come in. Absent: both OTLP protocols on their default loopback ports.
    pub receivers: ReceiversConfig,
    /// Where processed spans go. Absent: only the file sink under `./spanward-data`. Present: exactly
    /// the exporters it lists (the keys are `crate::sink::registry`'s).
    #[serde(deserialize_with = "present")]
    pub exporters: Option<ExportersConfig>,
    /// `/metrics`, `/healthz`, `/readyz`.
    pub admin: AdminConfig,
    /// Queue, workers, acknowledgement and shutdown.
    pub pipeline: PipelineConfig,
    /// Service log output.
    pub logging: LoggingConfig,
    /// Where key material comes from (paths only: keys never sit in this file).
    pub keys: KeysConfig,
    /// Early consistent probability sampling.
    pub sampling: crate::pipeline::sample::SamplingConfig,
    /// Keyed input/output fingerprints.
    pub fingerprint: crate::pipeline::fingerprint::FingerprintConfig,
    /// Audit records of agent operations (off by default).
    pub audit: crate::audit::AuditConfig,
    /// PII and secret scrubbing (on by default, with the built-in pattern packs).
    pub redaction: crate::scrub::RedactionConfig,
    /// The YAML text this was parsed from, so errors found after parsing name their line.
    #[serde(skip)]
    source_text: Option<std::sync::Arc<str>>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct KeysConfig {
    /// File holding the HMAC key used for redaction pseudonyms and fingerprints (hex, as
    /// `spanward keygen` writes it). Default: none. `SPANWARD_HMAC_KEY` in the environment wins
    /// over it. With neither, a random per-process key is used and one WARN line says so:
    /// pseudonyms and fingerprints then differ across restarts and replicas.
    pub hmac_key_file: Option<PathBuf>,
    /// Accept an HMAC key that is not hex or base64 of at least 32 bytes (what `spanward keygen`
    /// prints), e.g. a passphrase of at least 16 bytes. Default `false`: such a key stops
    /// startup (`validate` reports it), so a template's stand-in is never used as a real key.
    /// Obvious placeholders (`REPLACE-WITH-…`, `changeme`, one repeated character) are refused
    /// even when `true`. `SPANWARD_ALLOW_WEAK_KEY=1` does the same for every command.
    pub allow_weak_key: bool,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ReceiversConfig {
    /// The OTLP receiver. Absent: gRPC and HTTP both on. Present: exactly the protocols it lists.
    #[serde(deserialize_with = "present")]
    pub otlp: Option<OtlpReceiverConfig>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct OtlpReceiverConfig {
    /// OTLP/gRPC (`TraceService/Export`, `LogsService/Export`, `MetricsService/Export`).
    /// Default endpoint `127.0.0.1:4317`.
    #[serde(deserialize_with = "present")]
    pub grpc: Option<GrpcConfig>,
    /// OTLP/HTTP (`POST /v1/traces`, `/v1/logs`, `/v1/metrics`). Default endpoint
    /// `127.0.0.1:4318`.
    #[serde(deserialize_with = "present")]
    pub http: Option<HttpConfig>,
    /// The signals taken, on both protocols: `[traces, logs, metrics]` (default). A signal
    /// left out is answered gRPC `UNIMPLEMENTED` / HTTP 404, naming this key.
    pub signals: crate::receiver::Signals,
    /// Request limits shared by both protocols.
    pub limits: crate::otlp::Limits,
    /// Per-client rate limits (off by default); see `crate::receiver::ratelimit`.
    pub rate_limit: crate::receiver::ratelimit::RateLimitConfig,
    /// Bearer-token authentication for both protocols. Default: none (anyone who can connect
    /// may send). When set, a request without a listed token gets gRPC `UNAUTHENTICATED` / HTTP
    /// 401, counted `reason="unauthenticated"`.
    // A bare `auth:` is on (and fails for want of tokens): never silently anonymous.
    #[serde(deserialize_with = "present")]
    pub auth: Option<crate::auth::AuthConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GrpcConfig {
    /// Listen address. Default `127.0.0.1:4317` (loopback: nothing outside the host can send).
    pub endpoint: String,
    /// TLS (and mTLS with `client_ca_file`). Default: none, plaintext; a plaintext receiver on a
    /// non-loopback address logs one WARN line at start.
    // A bare `tls:` is on (and fails for want of files): never silently plaintext.
    #[serde(deserialize_with = "present")]
    pub tls: Option<crate::tls::ServerTlsConfig>,
}

impl Default for GrpcConfig {
    fn default() -> Self {
        GrpcConfig {
            endpoint: "127.0.0.1:4317".into(),
            tls: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Listen address. Default `127.0.0.1:4318`.
    pub endpoint: String,
    /// TLS (and mTLS), as for gRPC. Default: none.
    // A bare `tls:` is on (and fails for want of files): never silently plaintext.
    #[serde(deserialize_with = "present")]
    pub tls: Option<crate::tls::ServerTlsConfig>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            endpoint: "127.0.0.1:4318".into(),
            tls: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// Listen address of `/metrics`, `/healthz`, `/readyz`. Default `127.0.0.1:8888`.
    pub endpoint: String,
    /// Bearer tokens for `/metrics`. Default: none (open). `/healthz` and `/readyz` stay open
    /// for probes; they reveal nothing beyond up/ready.
    // A bare `auth:` is on (and fails for want of tokens): never silently anonymous.
    #[serde(deserialize_with = "present")]
    pub auth: Option<crate::auth::AuthConfig>,
}

impl Default for AdminConfig {
    fn default() -> Self {
        AdminConfig {
            endpoint: "127.0.0.1:8888".into(),
            auth: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QueueConfig {
    /// Capacity in spans. Default 65,536. Together with `max_bytes` it bounds memory held by
    /// accepted but unprocessed data; when either is reached, `when_full` applies.
    pub max_spans: usize,
    /// Capacity in encoded request bytes. Default 64 MiB. A single request larger than this is
    /// still admitted when the queue is empty, so no valid request can be refused forever.
    pub max_bytes: usize,
    /// `wait` (default) or `refuse`.
    pub when_full: WhenFull,
    /// With `wait`: how long a request may wait for room before being refused. Default `1s`.
    #[serde(with = "humantime_serde")]
    pub max_wait: Duration,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            max_spans: 65_536,
            max_bytes: 64 * 1024 * 1024,
            when_full: WhenFull::Wait,
            max_wait: Duration::from_secs(1),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineConfig {
    /// Worker threads. Default 0: one per available core.
    pub workers: usize,
    pub queue: QueueConfig,
    /// `accepted` (default) or `durable`; see docs/delivery.md.
    pub ack: AckMode,
    /// On SIGTERM/SIGINT: how long to drain the queue and flush sinks. Default `30s`; whatever is
    /// still queued past it is counted as dropped (`reason="shutdown"`).
    #[serde(with = "humantime_serde")]
    pub shutdown_timeout: Duration,
    /// Retry hint sent with refusals (`Retry-After`, `RetryInfo`). Default `1s`.
    #[serde(with = "humantime_serde")]
    pub retry_after: Duration,
    /// Period of the INFO line summarising refused and dropped spans. Default `10s`; `0s` is
    /// refused.
    #[serde(with = "humantime_serde")]
    pub summary_interval: Duration,
    /// Admission control on resident memory; on by default when the cgroup has a memory
    /// limit (80 % soft, 90 % hard). See `crate::receiver::memlimit`.
    pub memory_limiter: crate::receiver::memlimit::MemoryLimiterConfig,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            workers: 0,
            queue: QueueConfig::default(),
            ack: AckMode::Accepted,
            shutdown_timeout: Duration::from_secs(30),
            retry_after: Duration::from_secs(1),
            summary_interval: Duration::from_secs(10),
            memory_limiter: Default::default(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoggingConfig {
    /// `tracing` filter, e.g. `info` (default) or `spanward=debug`. `RUST_LOG` overrides it.
    pub level: String,
}

impl Default for LoggingConfig {
    fn default() -> Self {
        LoggingConfig {
            level: "info".into(),
        }
    }
}

/// What is switched on, with defaults applied: the shape the rest of the code consumes.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub grpc: Option<SocketAddr>,
    pub http: Option<SocketAddr>,
    pub admin: SocketAddr,
    pub limits: crate::otlp::Limits,
    pub rate_limit: crate::receiver::ratelimit::RateLimitConfig,
    /// `receivers.otlp.signals`.
    pub signals: crate::receiver::Signals,
    /// The exporters the config turns on, in fan-out order, their values checked. Built once,
    /// by `service::run`.
    pub exporters: Vec<Exporter>,
    pub pipeline: PipelineConfig,
    pub workers: usize,
    pub hmac_key: crate::keys::HmacKey,
    /// The stage sections, their values checked. Built once, by `service::run`.
    pub stages: StagesConfig,
    /// Receiver TLS, checked (files readable, certificate and key a pair) at resolve time.
    pub grpc_tls: Option<crate::tls::ServerTlsConfig>,
    pub http_tls: Option<crate::tls::ServerTlsConfig>,
    /// Bearer tokens of the receivers and of `/metrics`, loaded at resolve time.
    pub receiver_auth: Option<std::sync::Arc<crate::auth::Authenticator>>,
    pub admin_auth: Option<std::sync::Arc<crate::auth::Authenticator>>,
    /// The `SPANWARD_*` environment read at resolve time (keys for sinks), so nothing later
    /// reads the process environment directly.
    pub env: std::collections::HashMap<String, String>,
    /// `spanward run --salvage`: start on a damaged log instead of refusing (see the flag's help:
    /// uncheckpointed damage is cut, checkpointed or sealed damage is left in place).
    pub salvage: bool,
    /// Where the config came from, so that errors found later (a stage that cannot be built)
    /// name the file and the key's line as resolve's own do.
    locator: Locator,
}

impl Resolved {
    /// The config of the exporter of type `T`, when it is on.
    pub fn exporter<T: SinkConfig>(&self) -> Option<&T> {
        self.exporters.iter().find_map(|e| e.config::<T>())
    }

    /// A component's error as the config's: the file, the key and its line.
    pub fn invalid(&self, e: ComponentError) -> ConfigError {
        self.locator.component(e)
    }
}

/// The name and text of a config, to say where a key is.
#[derive(Debug, Clone)]
struct Locator {
    origin: String,
    text: Option<std::sync::Arc<str>>,
}

impl Locator {
    /// ` (line L)` of `at` (or of its nearest enclosing key) in the parsed file; empty when
    /// the value is a default or the config did not come from text.
    fn line_of(&self, at: &str) -> String {
        self.text
            .as_deref()
            .and_then(|t| locate::line_of(t, at))
            .map(|l| format!(" (line {l})"))
            .unwrap_or_default()
    }

    fn invalid(&self, at: &str, message: String) -> ConfigError {
        ConfigError::Invalid {
            origin: self.origin.clone(),
            at: at.to_string(),
            location: self.line_of(at),
            message,
        }
    }

    fn component(&self, e: ComponentError) -> ConfigError {
        self.invalid(&e.at, e.source.to_string())
    }
}

impl Config {
    /// Parses YAML text. `origin` names the source in messages (a path, or `<embedded>`).
    pub fn from_yaml(text: &str, origin: &str) -> Result<Config, ConfigError> {
        if text.trim().is_empty() {
            return Ok(Config::default());
        }
        // Syntax first: a syntax error found while deserializing would be reported at a key
        // path that means nothing (`receivers.otlp.grpc.?`).
        if let Err(e) = serde_norway::from_str::<serde_norway::Value>(text) {
            let last = text.lines().count().max(1);
            let (line, column) = e
                .location()
                .map(|l| (l.line(), l.column()))
                .unwrap_or((last, 1));
            // libyaml reports an unterminated quote or bracket at the line after the last one.
            let (line, column, note) = if line > last {
                let width = text.lines().last().map_or(0, |l| l.chars().count());
                (
                    last,
                    width + 1,
                    " (the file ends inside an unclosed quote, bracket or brace)",
                )
            } else {
                (line, column, "")
            };
            return Err(ConfigError::Syntax {
                origin: origin.to_string(),
                line,
                column,
                message: format!("{}{note}", strip_location(&e.to_string())),
            });
        }
        let de = serde_norway::Deserializer::from_str(text);
        let parsed: Result<Config, _> = serde_path_to_error::deserialize(de);
        parsed
            .map(|mut c| {
                c.source_text = Some(text.into());
                c
            })
            .map_err(|e| {
                let at = e.path().to_string();
                let inner = e.into_inner();
                let location = inner
                    .location()
                    .map(|l| format!(" (line {}, column {})", l.line(), l.column()))
                    .unwrap_or_default();
                ConfigError::Parse {
                    origin: origin.to_string(),
                    at,
                    location,
                    message: strip_location(&inner.to_string()),
                }
            })
    }

    /// Reads and parses a file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Config::from_yaml(&text, &path.display().to_string())
    }

    /// Applies defaults and checks values, reading keys from the process environment.
    pub fn resolve(&self, origin: &str) -> Result<Resolved, ConfigError> {
        self.resolve_with_env(origin, &crate::keys::ProcessEnv)
    }

    /// Applies defaults and checks values; the only place that knows which sections switch what
    /// on. `env` is the seam through which keys are read, so tests never touch the process's.
    pub fn resolve_with_env(
        &self,
        origin: &str,
        env: &dyn crate::keys::Env,
    ) -> Result<Resolved, ConfigError> {
        let locator = Locator {
            origin: origin.to_string(),
            text: self.source_text.clone(),
        };
        let invalid = |at: &str, message: String| locator.invalid(at, message);
        let addr = |at: &str, s: &str| -> Result<SocketAddr, ConfigError> {
            s.parse::<SocketAddr>()
                .map_err(|e| invalid(at, format!("`{s}` is not an ip:port address ({e})")))
        };
        let otlp = self
            .receivers
            .otlp
            .clone()
            .unwrap_or_else(|| OtlpReceiverConfig {
                grpc: Some(GrpcConfig::default()),
                http: Some(HttpConfig::default()),
                ..Default::default()
            });
        otlp.rate_limit
            .validate()
            .map_err(|e| invalid("receivers.otlp.rate_limit", e))?;
        self.pipeline
            .memory_limiter
            .validate()
            .map_err(|e| invalid("pipeline.memory_limiter", e))?;
        let grpc = match &otlp.grpc {
            Some(g) => Some(addr("receivers.otlp.grpc.endpoint", &g.endpoint)?),
            None => None,
        };
        let http = match &otlp.http {
            Some(h) => Some(addr("receivers.otlp.http.endpoint", &h.endpoint)?),
            None => None,
        };
        if grpc.is_none() && http.is_none() {
            return Err(invalid(
                "receivers.otlp",
                "lists neither grpc nor http: nothing could send spans".into(),
            ));
        }
        let admin = addr("admin.endpoint", &self.admin.endpoint)?;
        otlp.signals
            .validate()
            .map_err(|m| invalid("receivers.otlp.signals", m))?;
        let limits = otlp.limits.clone();
        if limits.max_body_bytes < 1024 {
            return Err(invalid(
                "receivers.otlp.limits.max_body_bytes",
                "must be at least 1024".into(),
            ));
        }
        if limits.max_decompression_ratio < 2 {
            return Err(invalid(
                "receivers.otlp.limits.max_decompression_ratio",
                "must be at least 2".into(),
            ));
        }
        if !(1..=100).contains(&limits.max_attribute_depth) {
            return Err(invalid(
                "receivers.otlp.limits.max_attribute_depth",
                "must be between 1 and 100".into(),
            ));
        }
        for (at, v) in [
            (
                "receivers.otlp.limits.max_spans_per_request",
                limits.max_spans_per_request,
            ),
            (
                "receivers.otlp.limits.max_attributes_per_span",
                limits.max_attributes_per_span,
            ),
            (
                "receivers.otlp.limits.max_attribute_value_bytes",
                limits.max_attribute_value_bytes,
            ),
        ] {
            if v == 0 {
                return Err(invalid(at, "must be at least 1".into()));
            }
        }
        let exporters = self
            .resolve_exporters(env)
            .map_err(|e| locator.component(e))?;
        let security = resolve_security(self, &otlp, env).map_err(|(at, m)| invalid(at, m))?;
        let q = &self.pipeline.queue;
        if q.max_spans == 0 {
            return Err(invalid(
                "pipeline.queue.max_spans",
                "must be at least 1".into(),
            ));
        }
        if q.max_bytes == 0 {
            return Err(invalid(
                "pipeline.queue.max_bytes",
                "must be at least 1".into(),
            ));
        }
        // A zero period would stop the summary task at start (a timer cannot tick every 0s).
        if self.pipeline.summary_interval.is_zero() {
            return Err(invalid(
                "pipeline.summary_interval",
                "must be longer than 0s".into(),
            ));
        }
        let workers = if self.pipeline.workers == 0 {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
        } else {
            self.pipeline.workers
        };
        // `redaction.key_file` names the same key as `keys.hmac_key_file` (either may be used).
        let key_file =
            match (&self.keys.hmac_key_file, &self.redaction.key_file) {
                (Some(a), Some(b)) if a != b => return Err(invalid(
                    "redaction.key_file",
                    "differs from keys.hmac_key_file: pseudonyms and fingerprints share one key"
                        .into(),
                )),
                (Some(a), _) => Some(a.clone()),
                (None, b) => b.clone(),
            };
        let key_at = if env
            .var(crate::keys::HMAC_KEY_ENV)
            .is_some_and(|v| !v.trim().is_empty())
        {
            // The environment's key wins; name it rather than a file that was not read.
            crate::keys::HMAC_KEY_ENV
        } else if self.keys.hmac_key_file.is_some() {
            "keys.hmac_key_file"
        } else {
            "redaction.key_file"
        };
        let hmac_key =
            crate::keys::HmacKey::load(env, key_file.as_deref(), self.keys.allow_weak_key)
                .map_err(|e| invalid(key_at, e.to_string()))?;
        let stages = StagesConfig {
            sampling: self.sampling.clone(),
            fingerprint: self.fingerprint.clone(),
            redaction: self.redaction.clone(),
            audit: self.audit.clone(),
        };
        stages.validate().map_err(|e| locator.component(e))?;
        Ok(Resolved {
            grpc,
            http,
            admin,
            limits,
            rate_limit: otlp.rate_limit.clone(),
            signals: otlp.signals.clone(),
            pipeline: self.pipeline.clone(),
            workers,
            hmac_key,
            stages,
            grpc_tls: security.grpc_tls,
            http_tls: security.http_tls,
            receiver_auth: security.receiver_auth,
            admin_auth: security.admin_auth,
            env: exporters
                .iter()
                .flat_map(|e| e.config.env_keys())
                .filter_map(|k| env.var(k).map(|v| (k.to_string(), v)))
                .collect(),
            exporters,
            salvage: false,
            locator,
        })
    }

    /// The exporters the config turns on (only the file sink when it has no `exporters:`),
    /// each given the environment and checked.
    fn resolve_exporters(
        &self,
        env: &dyn crate::keys::Env,
    ) -> Result<Vec<Exporter>, ComponentError> {
        let list = self
            .exporters
            .clone()
            .unwrap_or_else(ExportersConfig::implied)
            .into_list();
        if list.is_empty() {
            return Err(ComponentError::new(
                "exporters",
                "lists no exporter: spans would have nowhere to go",
            ));
        }
        let ctx = ValidateContext {
            durable_ack: self.pipeline.ack == AckMode::Durable,
        };
        list.into_iter()
            .map(|(key, mut config)| {
                config.apply_env(env);
                config.validate(&ctx)?;
                Ok(Exporter {
                    key,
                    config: config.into(),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
