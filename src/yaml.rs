//! Deserialization helpers shared by the configuration types that each module owns (the
//! sections of the YAML file live next to the code they configure; `config` gathers them).

use serde::{Deserialize, Deserializer};

/// Deserializes a present key as `Some`, even when its value is empty (`file:` or `file: {}`), so
/// naming a component in a section turns it on with its defaults, as in the collector.
pub fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    let v: Option<T> = Option::deserialize(d)?;
    Ok(Some(v.unwrap_or_default()))
}

/// What a component (a sink, a stage) says when its section is refused or it cannot be built
/// from it: the dotted key path at fault (`exporters.file.path`) and why. `config` adds the
/// file's name and the key's line; `service` reports a sink that cannot start as it is.
#[derive(Debug, thiserror::Error)]
#[error("{at}: {source}")]
pub struct ComponentError {
    /// Dotted key path, from the top of the file.
    pub at: String,
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

impl ComponentError {
    pub fn new(
        at: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        ComponentError {
            at: at.into(),
            source: source.into(),
        }
    }
}
