//! The config parser: YAML text → `Config` → `resolve` (with an empty environment). Must
//! return errors, never panic.
#![no_main]

#[path = "config_check.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::run(data));
