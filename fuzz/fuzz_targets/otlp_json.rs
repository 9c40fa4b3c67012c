//! OTLP/JSON request bytes → the full in-process pipeline.
#![no_main]

#[path = "pipeline.rs"]
mod pipeline;

libfuzzer_sys::fuzz_target!(|data: &[u8]| pipeline::run(data, true));
