//! In-process end-to-end tests of sample → fingerprint → (scrub stand-in) → audit on OTLP
//! request structs shaped like the OpenTelemetry Python SDK's exports, plus the `fingerprint`
//! and `token` subcommands checked against what the pipeline wrote.

use clap::Parser;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use spanward::audit::{AuditConfig, AuditFileConfig, AuditLog};
use spanward::cli::fingerprint::{self as fp_cli, FingerprintArgs, RoleArg};
use spanward::cli::token::{self as token_cli, TokenArgs};
use spanward::keys::{HmacKey, HMAC_KEY_ENV};
use spanward::pipeline::fingerprint::{
    ContentConfig, ContentMode, FingerprintConfig, Fingerprinter, HASH_KEY_ID, INPUT_HASH,
    OUTPUT_HASH,
};
use spanward::pipeline::sample::{service_name, Sampler, SamplingConfig};
use std::collections::HashMap;
use std::path::Path;
use std::process::ExitCode;

const KEY_HEX: &str = "8c1f0a9e7d6b5c4a3f2e1d0c9b8a7968574635241302f1e0d9c8b7a695847362";
const ARGS: &str = r#"{"city": "Lyon", "notify": "marie.curie@example.org"}"#;
const RESULT: &str = r#"{"temperature_c": 17, "summary": "light rain"}"#;

fn s(v: &str) -> Option<AnyValue> {
    Some(AnyValue {
        value: Some(Value::StringValue(v.into())),
    })
}

fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: s(v),
        ..Default::default()
    }
}

fn str_attr<'a>(span: &'a Span, k: &str) -> Option<&'a str> {
    span.attributes.iter().find(|a| a.key == k).and_then(|a| {
        match a.value.as_ref()?.value.as_ref()? {
            Value::StringValue(s) => Some(s.as_str()),
            _ => None,
        }
    })
}

/// What the Python SDK's OTLP exporter sends for an agent calling one tool: an
/// `invoke_agent` span and its child `execute_tool` span, same trace.
fn python_sdk_request() -> ExportTraceServiceRequest {
    let trace_id = hex::decode("5b8efff798038103d269b633813fc60c").unwrap();
    let tool = Span {
        trace_id: trace_id.clone(),
        span_id: hex::decode("eee19b7ec3c1b174").unwrap(),
        parent_span_id: hex::decode("eee19b7ec3c1b173").unwrap(),
        name: "execute_tool get_weather".into(),
        kind: 1,
        start_time_unix_nano: 1_767_225_600_000_000_000,
        end_time_unix_nano: 1_767_225_600_120_000_000,
        attributes: vec![
            kv("gen_ai.operation.name", "execute_tool"),
            kv("gen_ai.tool.name", "get_weather"),
            kv("gen_ai.tool.call.id", "call_7"),
            kv("gen_ai.conversation.id", "conv-9"),
            kv("gen_ai.tool.call.arguments", ARGS),
            kv("gen_ai.tool.call.result", RESULT),
        ],
        flags: 0x301,
        ..Default::default()
    };
    let agent = Span {
        span_id: hex::decode("eee19b7ec3c1b173").unwrap(),
        parent_span_id: vec![],
        name: "invoke_agent weather".into(),
        attributes: vec![
            kv("gen_ai.operation.name", "invoke_agent"),
            kv("gen_ai.agent.name", "weather"),
        ],
        ..tool.clone()
    };
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![
                    kv("service.name", "weather-agent"),
                    kv("telemetry.sdk.language", "python"),
                ],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "opentelemetry.instrumentation.genai".into(),
                    ..Default::default()
                }),
                spans: vec![agent, tool],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn key() -> HmacKey {
    let mut env = HashMap::new();
    env.insert(HMAC_KEY_ENV.to_string(), KEY_HEX.to_string());
    HmacKey::load(&env, None).unwrap()
}

/// The redaction engine is another engineer's; this stand-in does what its `token` action
/// does to an email (pseudonym from the shared key) and writes the per-span summary.
fn scrub_stand_in(key: &HmacKey, span: &mut Span) {
    let mut n = 0;
    for a in &mut span.attributes {
        if let Some(Value::StringValue(v)) = a.value.as_mut().and_then(|v| v.value.as_mut()) {
            if v.contains("marie.curie@example.org") {
                *v = v.replace(
                    "marie.curie@example.org",
                    &key.pseudonym("email", "marie.curie@example.org"),
                );
                n += 1;
            }
        }
    }
    if n > 0 {
        span.attributes
            .push(kv("redaction.types", &format!("email:{n}")));
    }
}

/// The worker order: sample (receiver) → fingerprint → scrub → audit.
fn run_pipeline(
    req: &mut ExportTraceServiceRequest,
    fcfg: &FingerprintConfig,
    audit: &AuditLog,
) -> HmacKey {
    let k = key();
    // The trace's randomness is 0x69b633813fc60c / 2^56 = 0.41, so any ratio >= 0.59 keeps it
    // (and at 0.5 the whole trace is dropped, see the last test).
    let sampler = Sampler::new(&SamplingConfig {
        ratio: 0.6,
        ..Default::default()
    })
    .unwrap();
    let st = sampler.apply(req);
    assert_eq!((st.kept, st.sampled_out), (2, 0));
    let f = Fingerprinter::new(fcfg, k.clone()).unwrap();
    for rs in &mut req.resource_spans {
        let svc = service_name(rs.resource.as_ref()).to_string();
        for span in rs.scope_spans.iter_mut().flat_map(|s| s.spans.iter_mut()) {
            f.apply_span(&svc, span);
            scrub_stand_in(&k, span);
        }
    }
    audit.record_request(req).unwrap();
    audit.flush().unwrap();
    k
}

fn tool_span(req: &ExportTraceServiceRequest) -> &Span {
    req.resource_spans[0].scope_spans[0]
        .spans
        .iter()
        .find(|s| s.name.starts_with("execute_tool"))
        .unwrap()
}

fn write_key_file(dir: &Path) -> std::path::PathBuf {
    let p = dir.join("hmac.key");
    std::fs::write(&p, format!("{KEY_HEX}\n")).unwrap();
    p
}

fn cli_fingerprint(args: &FingerprintArgs, stdin: &str) -> (ExitCode, String) {
    let env: HashMap<String, String> = HashMap::new();
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = fp_cli::run_with(args, &env, stdin.as_bytes(), &mut out, &mut err).unwrap();
    (code, String::from_utf8(out).unwrap().trim().to_string())
}

#[test]
fn execute_tool_span_gets_both_hashes_and_one_audit_record() {
    let dir = tempfile::tempdir().unwrap();
    let audit = AuditLog::new(&AuditConfig {
        enabled: true,
        log: false,
        file: Some(AuditFileConfig {
            path: dir.path().join("audit.jsonl"),
            ..Default::default()
        }),
    })
    .unwrap();
    let mut req = python_sdk_request();
    let k = run_pipeline(&mut req, &FingerprintConfig::default(), &audit);
    let tool = tool_span(&req);
    assert_eq!(
        tool.trace_state, "ot=th:6666",
        "kept with this stage's threshold"
    );
    let ih = str_attr(tool, INPUT_HASH).unwrap();
    let oh = str_attr(tool, OUTPUT_HASH).unwrap();
    assert_eq!(str_attr(tool, HASH_KEY_ID), Some(k.key_id()));
    assert_eq!(ih.len(), 64);
    // The scrubbed arguments still differ from the raw ones the hash covers.
    assert!(str_attr(tool, "gen_ai.tool.call.arguments")
        .unwrap()
        .contains("<email:"));

    let text = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    let records: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let tool_records: Vec<_> = records
        .iter()
        .filter(|r| r["operation"] == "execute_tool")
        .collect();
    assert_eq!(tool_records.len(), 1);
    let r = tool_records[0];
    assert_eq!(r["input_hash"], ih);
    assert_eq!(r["output_hash"], oh);
    assert_eq!(r["tool"], "get_weather");
    assert_eq!(r["conversation_id"], "conv-9");
    assert_eq!(r["service"], "weather-agent");
    assert_eq!(r["trace_id"], "5b8efff798038103d269b633813fc60c");
    assert_eq!(r["redaction.types"], "email:1");
    for payload in ["Lyon", "marie", "light rain", "temperature", "<email:"] {
        assert!(!text.contains(payload), "{payload:?} in audit file");
    }
    // The agent span is audited too (one record per kept agent-operation span).
    assert_eq!(records.len(), 2);
    assert!(records.iter().any(|r| r["operation"] == "invoke_agent"));
}

#[test]
fn hash_only_removes_arguments_and_result_keeps_hashes() {
    let audit = AuditLog::new(&AuditConfig::default()).unwrap();
    let mut scrub = python_sdk_request();
    run_pipeline(&mut scrub, &FingerprintConfig::default(), &audit);
    let mut only = python_sdk_request();
    let cfg = FingerprintConfig {
        content: ContentConfig {
            input: ContentMode::HashOnly,
            output: ContentMode::HashOnly,
        },
        ..Default::default()
    };
    run_pipeline(&mut only, &cfg, &audit);
    let a = tool_span(&scrub);
    let b = tool_span(&only);
    assert!(str_attr(b, "gen_ai.tool.call.arguments").is_none());
    assert!(str_attr(b, "gen_ai.tool.call.result").is_none());
    assert_eq!(str_attr(a, INPUT_HASH), str_attr(b, INPUT_HASH));
    assert_eq!(str_attr(a, OUTPUT_HASH), str_attr(b, OUTPUT_HASH));
    assert!(str_attr(b, INPUT_HASH).is_some() && str_attr(b, OUTPUT_HASH).is_some());
    assert!(
        str_attr(b, "redaction.types").is_none(),
        "nothing left to redact"
    );
}

#[test]
fn fingerprint_cli_reproduces_pipeline_digest() {
    let audit = AuditLog::new(&AuditConfig::default()).unwrap();
    let mut req = python_sdk_request();
    run_pipeline(&mut req, &FingerprintConfig::default(), &audit);
    let tool = tool_span(&req).clone();
    let dir = tempfile::tempdir().unwrap();
    let key_file = write_key_file(dir.path());
    let raw_object = serde_json::json!({
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "get_weather",
        "gen_ai.tool.call.arguments": ARGS,
        "gen_ai.tool.call.result": RESULT,
    })
    .to_string();
    let mut args = FingerprintArgs {
        key_file: Some(key_file.clone()),
        role: Some(RoleArg::Input),
        config: None,
        mode: None,
        input: None,
    };
    let (code, out) = cli_fingerprint(&args, &raw_object);
    assert_eq!(code, ExitCode::SUCCESS);
    assert_eq!(out, str_attr(&tool, INPUT_HASH).unwrap());
    args.role = Some(RoleArg::Output);
    let (_, out) = cli_fingerprint(&args, &raw_object);
    assert_eq!(out, str_attr(&tool, OUTPUT_HASH).unwrap());
    // Without --role, the object is taken as exactly the role's fields.
    args.role = None;
    let only_input = serde_json::json!({ "gen_ai.tool.call.arguments": ARGS }).to_string();
    let (_, out) = cli_fingerprint(&args, &only_input);
    assert_eq!(out, str_attr(&tool, INPUT_HASH).unwrap());
    // OTLP/JSON attribute form gives the same digest.
    let otlp = format!(
        r#"[{{"key":"gen_ai.tool.call.arguments","value":{{"stringValue":{}}}}}]"#,
        serde_json::Value::String(ARGS.into())
    );
    let (_, out) = cli_fingerprint(&args, &otlp);
    assert_eq!(out, str_attr(&tool, INPUT_HASH).unwrap());
    // A one-byte change in what the auditor claims gives another digest.
    let (_, out) = cli_fingerprint(
        &args,
        &serde_json::json!({ "gen_ai.tool.call.arguments": ARGS.replace("Lyon", "Lyom") })
            .to_string(),
    );
    assert_ne!(out, str_attr(&tool, INPUT_HASH).unwrap());
    // No key: refuse rather than hash under a random key.
    args.key_file = None;
    let env: HashMap<String, String> = HashMap::new();
    let e = fp_cli::run_with(
        &args,
        &env,
        only_input.as_bytes(),
        &mut Vec::new(),
        &mut Vec::new(),
    );
    assert!(e.is_err());
    // No field of the role: exit 1.
    args.key_file = Some(key_file);
    args.role = Some(RoleArg::Output);
    let (code, out) = cli_fingerprint(&args, &only_input);
    assert_eq!(code, ExitCode::from(1));
    assert_eq!(out, "");
}

#[test]
fn fingerprint_cli_uses_config_role_map_and_mode() {
    let dir = tempfile::tempdir().unwrap();
    let cfg_path = dir.path().join("spanward.yaml");
    std::fs::write(
        &cfg_path,
        "receivers: {}\nfingerprint:\n  mode: sha256\n  roles:\n    input: [\"my.query\"]\n",
    )
    .unwrap();
    let fcfg: FingerprintConfig =
        serde_norway::from_str("mode: sha256\nroles:\n  input: [\"my.query\"]\n").unwrap();
    let f = Fingerprinter::new(&fcfg, HmacKey::ephemeral()).unwrap();
    let mut span = Span {
        attributes: vec![kv("my.query", "select 1"), kv("input.value", "hi")],
        ..Default::default()
    };
    f.apply_span("svc", &mut span);
    let args = FingerprintArgs {
        key_file: None,
        role: Some(RoleArg::Input),
        config: Some(cfg_path),
        mode: None,
        input: None,
    };
    let (code, out) = cli_fingerprint(
        &args,
        r#"{"my.query": "select 1", "input.value": "hi", "x": 1}"#,
    );
    assert_eq!(code, ExitCode::SUCCESS);
    assert_eq!(out, str_attr(&span, INPUT_HASH).unwrap());
    assert_eq!(str_attr(&span, HASH_KEY_ID), Some("sha256"));
}

#[test]
fn token_cli_matches_redaction_pseudonym() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = write_key_file(dir.path());
    let env: HashMap<String, String> = HashMap::new();
    let k = key();
    let mut span = tool_span(&python_sdk_request()).clone();
    scrub_stand_in(&k, &mut span);
    let written = str_attr(&span, "gen_ai.tool.call.arguments")
        .unwrap()
        .to_string();

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        token: TokenArgs,
    }
    let cli = Cli::try_parse_from([
        "token",
        "--type",
        "email",
        "--key-file",
        key_file.to_str().unwrap(),
        "Marie.Curie@Example.org",
    ])
    .unwrap();
    let mut out = Vec::new();
    let code = token_cli::run_with(&cli.token, &env, &b""[..], &mut out).unwrap();
    assert_eq!(code, ExitCode::SUCCESS);
    let pseudonym = String::from_utf8(out).unwrap().trim().to_string();
    assert!(pseudonym.starts_with("<email:"));
    assert!(written.contains(&pseudonym), "{pseudonym} not in {written}");
    // From stdin, same result; the env key wins over the file like in the service.
    let args = TokenArgs {
        typ: "email".into(),
        value: None,
        key_file: Some(key_file),
    };
    let mut out = Vec::new();
    token_cli::run_with(&args, &env, &b"marie.curie@example.org\n"[..], &mut out).unwrap();
    assert_eq!(String::from_utf8(out).unwrap().trim(), pseudonym);
    let mut other_env = HashMap::new();
    other_env.insert(
        HMAC_KEY_ENV.to_string(),
        "another key of enough length".to_string(),
    );
    let mut out = Vec::new();
    token_cli::run_with(&args, &other_env, &b"marie.curie@example.org"[..], &mut out).unwrap();
    assert_ne!(String::from_utf8(out).unwrap().trim(), pseudonym);
    // No key at all: refused.
    let no_key = TokenArgs {
        key_file: None,
        ..args
    };
    assert!(token_cli::run_with(&no_key, &env, &b"x@y.z"[..], &mut Vec::new()).is_err());
}

#[test]
fn whole_trace_shares_the_sampling_decision() {
    // Both spans of the Python SDK trace get the same decision at every ratio.
    for (ratio, kept) in [(0.05, 0), (0.4, 0), (0.5, 0), (0.6, 2), (0.95, 2)] {
        let mut req = python_sdk_request();
        let st = Sampler::new(&SamplingConfig {
            ratio,
            ..Default::default()
        })
        .unwrap()
        .apply(&mut req);
        assert_eq!(st.kept, kept, "ratio {ratio}: {st:?}");
        assert_eq!(st.kept + st.sampled_out, 2);
    }
}
