//! The shared vocabulary: what receivers, stages, sinks and the admin endpoint say to each
//! other. Why spans were refused or dropped ([`RefuseReason`], [`DropReason`]), whether the
//! service is ready ([`Health`]), the [`metrics`] handles every part updates, and the span
//! attributes one stage writes and another reads ([`attr`]).
//!
//! It sits at the bottom of the module graph and imports nothing of the service, so every
//! layer may use it (see `tests/module_graph.rs`).

pub mod attr;
pub mod metrics;

mod health;
mod process;
mod reasons;
mod signal;

pub use health::{Health, SinkStatus};
pub use process::rss_bytes;
pub use reasons::{DropReason, RefuseReason};
pub use signal::Signal;
