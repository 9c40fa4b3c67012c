//! The `config` fuzz target's check, shared with `tests/fuzz_smoke.rs`: YAML text → `Config`
//! → `resolve` (with an empty environment) must return errors, never panic.
use spanward::config::Config;
use std::collections::HashMap;

pub fn run(data: &[u8]) {
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
}
