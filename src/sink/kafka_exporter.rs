//! `exporters.kafka` as a component. With the `kafka` cargo feature (on by default) it is the
//! Kafka sink ([`super::kafka`]); without it (`cargo build --no-default-features`, no
//! librdkafka) the key still parses, and naming it stops the config with an error that says
//! which feature is missing. (It sits beside `kafka.rs` rather than in it only while that file is
//! being split up.)

#[cfg(feature = "kafka")]
pub use with_feature::KafkaExporterConfig;
#[cfg(not(feature = "kafka"))]
pub use without_feature::KafkaExporterConfig;

#[cfg(feature = "kafka")]
mod with_feature {
    use crate::sink::kafka::{KafkaConfig, KafkaSink};
    use crate::sink::registry::{SinkConfig, SinkContext, ValidateContext};
    use crate::sink::Sink;
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
}

#[cfg(not(feature = "kafka"))]
mod without_feature {
    use crate::sink::registry::{SinkConfig, SinkContext, ValidateContext};
    use crate::sink::Sink;
    use crate::yaml::ComponentError;
    use std::sync::Arc;

    /// `exporters.kafka` in a build without Kafka support: any value parses, and the config is
    /// then refused (by `validate` and at start alike).
    #[derive(Debug, Clone, Default)]
    pub struct KafkaExporterConfig;

    impl<'de> serde::Deserialize<'de> for KafkaExporterConfig {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            serde::de::IgnoredAny::deserialize(d).map(|_| KafkaExporterConfig)
        }
    }

    fn unavailable() -> ComponentError {
        ComponentError::new(
            "exporters.kafka",
            "this spanward was built without Kafka support (the `kafka` cargo feature, on by \
             default, was left out): build it with `--features kafka`, or remove \
             `exporters.kafka`",
        )
    }

    impl SinkConfig for KafkaExporterConfig {
        fn validate(&self, _ctx: &ValidateContext) -> Result<(), ComponentError> {
            Err(unavailable())
        }

        fn build(&self, _ctx: &mut SinkContext) -> Result<Arc<dyn Sink>, ComponentError> {
            Err(unavailable())
        }
    }
}
