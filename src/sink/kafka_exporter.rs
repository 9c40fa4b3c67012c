//! `exporters.kafka` as a component: the Kafka sink ([`super::kafka`]) checked and built. (It
//! sits beside `kafka.rs` rather than in it only while that file is being split up.)

use super::kafka::{KafkaConfig, KafkaSink};
use super::registry::{SinkConfig, SinkContext, ValidateContext};
use super::Sink;
use crate::yaml::ComponentError;
use std::sync::Arc;

pub type KafkaExporterConfig = KafkaConfig;

impl SinkConfig for KafkaConfig {
    fn validate(&self, _ctx: &ValidateContext) -> Result<(), ComponentError> {
        KafkaConfig::validate(self).map_err(|e| ComponentError::new("exporters.kafka", e))
    }

    fn build(&self, ctx: &mut SinkContext) -> Result<Arc<dyn Sink>, ComponentError> {
        let sink = KafkaSink::new(self, ctx.log_origin.as_deref(), ctx.runtime.clone())
            .map_err(|e| ComponentError::new("exporters.kafka", e))?;
        Ok(Arc::new(sink))
    }
}
