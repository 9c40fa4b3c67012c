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
