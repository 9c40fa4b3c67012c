//! The config parser: YAML text → `Config` → `resolve` (with an empty environment). Must
//! return errors, never panic.
#![no_main]

use spanward::config::Config;
use std::collections::HashMap;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(cfg) = Config::from_yaml(text, "<fuzz>") else {
        return;
    };
    // Key files named in the input are not read: a path like /dev/zero is the operator's
    // business, not the parser's.
    if cfg.keys.hmac_key_file.is_some() || cfg.redaction.key_file.is_some() {
        return;
    }
    let _ = cfg.resolve_with_env("<fuzz>", &HashMap::<String, String>::new());
});
