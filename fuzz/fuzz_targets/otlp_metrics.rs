//! OTLP metrics request bytes (protobuf, or OTLP/JSON when they start with `{`) → the receivers'
//! check and the worker's stages.
#![no_main]

#[path = "signals.rs"]
mod signals;

libfuzzer_sys::fuzz_target!(|data: &[u8]| signals::run(spanward::vocab::Signal::Metrics, data));
