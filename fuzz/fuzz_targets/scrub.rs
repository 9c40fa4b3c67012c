//! The scrubber on arbitrary text and on arbitrary spans (nested array/kvlist values, decoded
//! from the input as protobuf). Invariants: no panic; a second pass finds nothing (so the
//! output holds nothing the engine reports); no value the engine found in the input survives;
//! valid JSON stays valid JSON.
#![no_main]

#[path = "scrub_check.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::run(data));
