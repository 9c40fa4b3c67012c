//! The tamper-evident log's readers on damaged directories: a valid log (built once) is copied,
//! one of its files is replaced, overwritten, truncated or extended with the input, and then
//! `verify`, `cat`, `prove` and `open` (with and without salvage) run on it. Every outcome must
//! be a result, never a panic.
#![no_main]

#[path = "log_check.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::run(data));
