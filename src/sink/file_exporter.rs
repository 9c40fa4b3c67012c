//! `exporters.file` as a component: the tamper-evident log ([`super::log`]) checked, checked
//! again before start, and opened. (It sits beside `log/` rather than in it only while that
//! directory is being split up.)

use super::log::{checkpoint, FsyncPolicy, LogConfig, LogError, LogSink, DEFAULT_KEY_NAME};
use super::registry::{check_writable_dir, SinkConfig, SinkContext, ValidateContext};
use super::Sink;
use crate::keys::Env;
use crate::yaml::ComponentError;
use std::collections::HashMap;
use std::sync::Arc;

/// Overrides `exporters.file.origin`, so replicas that share a config file get distinct log
/// origins (set it from the pod or host name).
pub const LOG_ORIGIN_ENV: &str = "SPANWARD_LOG_ORIGIN";

impl SinkConfig for LogConfig {
    fn apply_env(&mut self, env: &dyn Env) {
        // Replicas share one config file but each log needs its own origin (checkpoints name
        // it): the environment (e.g. the pod name) can set it per replica.
        if let Some(o) = env.var(LOG_ORIGIN_ENV) {
            self.origin = Some(o);
        }
    }

    fn env_keys(&self) -> &'static [&'static str] {
        &[checkpoint::SIGNING_KEY_ENV]
    }

    fn validate(&self, ctx: &ValidateContext) -> Result<(), ComponentError> {
        if self.path.as_os_str().is_empty() {
            return Err(ComponentError::new(
                "exporters.file.path",
                "must not be empty",
            ));
        }
        LogConfig::validate(self).map_err(|e| ComponentError::new("exporters.file", e))?;
        // Under `interval` and `never` an append returns before its fsync, so a durable
        // acknowledgement could not be kept: refuse the combination instead of sending an OK
        // that a power failure can take back.
        let policy = match self.fsync {
            FsyncPolicy::Interval => "interval",
            FsyncPolicy::Never => "never",
            _ => return Ok(()),
        };
        if ctx.durable_ack {
            return Err(ComponentError::new(
                "pipeline.ack",
                format!(
                    "`durable` needs `exporters.file.fsync: batch` or `always`; with \
                     `exporters.file.fsync: {policy}` the log acknowledges before the record \
                     is fsynced, so an OK could be lost on power failure"
                ),
            ));
        }
        Ok(())
    }

    fn check(&self, env: &HashMap<String, String>) -> Result<(), ComponentError> {
        let name = self.origin.as_deref().unwrap_or(DEFAULT_KEY_NAME);
        checkpoint::SigningKey::load(env, self.signing_key_file.as_deref(), name)
            .map_err(|e| ComponentError::new("exporters.file", LogError::Key(e)))?;
        check_writable_dir("exporters.file.path", &self.path)
    }

    fn build(&self, ctx: &mut SinkContext) -> Result<Arc<dyn Sink>, ComponentError> {
        let log = LogSink::open(self, ctx.env, ctx.salvage)
            .map_err(|e| ComponentError::new("exporters.file", e))?;
        ctx.log_origin = Some(log.origin().to_string());
        Ok(Arc::new(log))
    }
}
