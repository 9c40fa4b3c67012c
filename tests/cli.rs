//! The real binary: `--version`, and `validate` on a good file, an unknown key (named with its
//! path and line) and a bad value (named with its path).

use std::process::{Command, Output};

fn spanward(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spanward"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

fn validate(yaml: &str) -> (Output, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spanward.yaml");
    std::fs::write(&path, yaml).unwrap();
    let out = spanward(&["validate", "--config", path.to_str().unwrap()]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out, text)
}

#[test]
fn version_prints_the_crate_version() {
    let out = spanward(&["--version"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text.trim(),
        format!("spanward {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn validate_accepts_a_good_file() {
    let (out, text) = validate(
        "receivers:\n  otlp:\n    grpc: { endpoint: \"127.0.0.1:4317\" }\n    http: { endpoint: \"127.0.0.1:4318\" }\nexporters:\n  otlp: { endpoint: \"http://127.0.0.1:4327\" }\n  file: { path: \"./spanward-data\" }\nadmin: { endpoint: \"127.0.0.1:8888\" }\n",
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("valid"), "{text}");
}

#[test]
fn validate_names_an_unknown_key_with_its_path_and_line() {
    let (out, text) =
        validate("receivers:\n  otlp:\n    grpc:\n      endpont: \"127.0.0.1:4317\"\n");
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("`receivers.otlp.grpc.endpont`"), "{text}");
    assert!(text.contains("(line 4, column 7)"), "{text}");
    assert!(text.contains("unknown field `endpont`"), "{text}");
}

#[test]
fn validate_names_a_bad_value_with_its_path() {
    let (out, text) = validate("admin:\n  endpoint: \"not an address\"\n");
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("`admin.endpoint`"), "{text}");
    assert!(text.contains("not an address"), "{text}");
}
