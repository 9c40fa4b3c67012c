//! In-process end-to-end tests of sample → fingerprint → scrub → audit (the worker's real
//! stages, real redaction engine) on OTLP request structs shaped like the OpenTelemetry Python
//! SDK's exports, plus the `fingerprint` and `token` subcommands checked against what the
//! pipeline and the engine wrote.

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
use spanward::otlp::tracestate::encode_threshold;
use spanward::pipeline::fingerprint::{
    ContentConfig, ContentMode, FingerprintConfig, Fingerprinter, HASH_KEY_ID, INPUT_HASH,
    OUTPUT_HASH,
};
use spanward::pipeline::sample::{
    probability_to_threshold, Decision, SampleStats, Sampler, SamplingConfig,
};
use spanward::pipeline::stages::Stages;
use spanward::scrub::{RedactionConfig, Scrubber};
use spanward::vocab::metrics::Metrics;
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
    HmacKey::load(&env, None, false).unwrap()
}

/// The production redaction engine with the default packs, keyed like the pipeline.
fn scrubber(k: &HmacKey) -> Scrubber {
    Scrubber::new(&RedactionConfig::default(), k.clone()).unwrap()
}

/// The worker order with the real stages: sample (receiver) → fingerprint → scrub → audit.
/// `scrub: false` leaves the redaction stage out.
fn run_stages(
    req: &mut ExportTraceServiceRequest,
    ratio: f64,
    fcfg: &FingerprintConfig,
    audit: &AuditConfig,
    scrub: bool,
) -> (HmacKey, SampleStats) {
    let k = key();
    let st = Sampler::new(&SamplingConfig {
        ratio,
        ..Default::default()
    })
    .unwrap()
    .apply(req)
    .unwrap();
    let stages = Stages {
        fingerprint: Some(Fingerprinter::new(fcfg, k.clone()).unwrap()),
        scrub: scrub.then(|| scrubber(&k)),
        audit: Some(AuditLog::new(audit).unwrap()),
    };
    let report = stages.process(req, &Metrics::new().0);
    assert_eq!(report.dropped_total(), 0, "{report:?}");
    // Dropping the stages flushes the audit file.
    drop(stages);
    (k, st)
}

fn run_pipeline(
    req: &mut ExportTraceServiceRequest,
    fcfg: &FingerprintConfig,
    audit: &AuditConfig,
) -> HmacKey {
    // The trace's randomness is 0x69b633813fc60c / 2^56 = 0.41, so any ratio >= 0.59 keeps it
    // (and at 0.5 the whole trace is dropped, see the last test).
    let (k, st) = run_stages(req, 0.6, fcfg, audit, true);
    assert_eq!((st.kept, st.sampled_out), (2, 0));
    k
}

fn file_audit(dir: &Path) -> AuditConfig {
    AuditConfig {
        enabled: true,
        log: false,
        file: Some(AuditFileConfig {
            path: dir.join("audit.jsonl"),
            ..Default::default()
        }),
    }
}

fn audit_records(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("audit.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The first `<email:…>` pseudonym in a text.
fn email_pseudonym(text: &str) -> &str {
    let start = text
        .find("<email:")
        .unwrap_or_else(|| panic!("no pseudonym in {text}"));
    let end = start + text[start..].find('>').unwrap() + 1;
    &text[start..end]
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
    let mut req = python_sdk_request();
    let k = run_pipeline(
        &mut req,
        &FingerprintConfig::default(),
        &file_audit(dir.path()),
    );
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
    let audit = AuditConfig::default();
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
    let mut req = python_sdk_request();
    run_pipeline(
        &mut req,
        &FingerprintConfig::default(),
        &AuditConfig::default(),
    );
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
    f.apply_span("svc", &mut span).unwrap();
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
    // What the production engine writes for an email in free text, under the pipeline's key.
    let text = "Ticket 81: notify Marie.Curie@Example.org once the refund is done.";
    let scrubbed = scrubber(&key()).scrub_str(text).into_owned();
    assert!(
        !scrubbed.to_ascii_lowercase().contains("marie.curie"),
        "{scrubbed}"
    );
    let engine = email_pseudonym(&scrubbed).to_string();
    // And what the whole pipeline wrote into the tool span's arguments.
    let mut req = python_sdk_request();
    run_pipeline(
        &mut req,
        &FingerprintConfig::default(),
        &AuditConfig::default(),
    );
    let written = str_attr(tool_span(&req), "gen_ai.tool.call.arguments")
        .unwrap()
        .to_string();
    assert_eq!(email_pseudonym(&written), engine, "{written}");

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
    assert_eq!(pseudonym, engine, "CLI and redaction engine disagree");
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
        "f0e1d2c3b4a5968778695a4b3c2d1e0f0123456789abcdeffedcba9876543210".to_string(),
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
        .apply(&mut req)
        .unwrap();
        assert_eq!(st.kept, kept, "ratio {ratio}: {st:?}");
        assert_eq!(st.kept + st.sampled_out, 2);
    }
}

#[test]
fn audit_redaction_types_come_from_the_real_scrubber() {
    // A tool call whose arguments hold an email and a phone number.
    let mut req = python_sdk_request();
    for span in &mut req.resource_spans[0].scope_spans[0].spans {
        for a in &mut span.attributes {
            if a.key == "gen_ai.tool.call.arguments" {
                *a = kv(
                    "gen_ai.tool.call.arguments",
                    r#"{"to": "grace.hopper@example.net", "phone": "+1 415 555 2671"}"#,
                );
            }
        }
    }
    let with = tempfile::tempdir().unwrap();
    run_pipeline(
        &mut req.clone(),
        &FingerprintConfig::default(),
        &file_audit(with.path()),
    );
    let tool = |dir: &Path| {
        audit_records(dir)
            .into_iter()
            .find(|r| r["operation"] == "execute_tool")
            .unwrap()
    };
    let r = tool(with.path());
    let types = r["redaction.types"].as_str().unwrap().to_string();
    let names: Vec<&str> = types
        .split(',')
        .map(|t| t.split_once(':').unwrap().0)
        .collect();
    assert!(names.contains(&"email"), "{types}");
    assert!(names.contains(&"phone"), "{types}");
    // Without the redaction stage nothing is redacted and the record says so: the field is
    // the scrubber's summary, not something the audit stage makes up.
    let without = tempfile::tempdir().unwrap();
    let (_, st) = run_stages(
        &mut req,
        0.6,
        &FingerprintConfig::default(),
        &file_audit(without.path()),
        false,
    );
    assert_eq!(st.kept, 2);
    let r = tool(without.path());
    assert_eq!(r["redaction.types"], "");
    assert_eq!(
        str_attr(tool_span(&req), "gen_ai.tool.call.arguments"),
        Some(r#"{"to": "grace.hopper@example.net", "phone": "+1 415 555 2671"}"#)
    );
}

#[test]
fn scrubber_keeps_the_sampling_tracestate_intact() {
    // 14 decimal digits: a valid `rv`, and Luhn-valid with a Diners Club prefix, so the card
    // rule accepts the same digits in any other tracestate member.
    const RV: &str = "30569309025904";
    let mut req = python_sdk_request();
    for span in &mut req.resource_spans[0].scope_spans[0].spans {
        span.trace_state = format!("ot=rv:{RV},vendor={RV}");
    }
    // rv / 2^56 = 0.19, so 0.9 keeps the trace (the trace id's 0.41 would too).
    let (_, st) = run_stages(
        &mut req,
        0.9,
        &FingerprintConfig::default(),
        &AuditConfig::default(),
        true,
    );
    assert_eq!(st.kept, 2);
    let th = encode_threshold(probability_to_threshold(0.9, 4).unwrap());
    let tool = tool_span(&req);
    let (ot, vendor) = tool.trace_state.split_once(',').unwrap();
    assert_eq!(ot, format!("ot=th:{th};rv:{RV}"));
    assert!(
        vendor.starts_with("vendor=") && !vendor.contains(RV),
        "{vendor}"
    );
    assert!(str_attr(tool, "redaction.types")
        .unwrap()
        .contains("credit_card"));
    // A downstream stage still reads the same th and rv: at 0.9 it keeps the span unchanged;
    // at 0.7 (threshold 0.3) the rv's 0.19 drops it, where a lost rv would fall back to the
    // trace id's 0.41 and keep it.
    let at = |ratio| {
        Sampler::new(&SamplingConfig {
            ratio,
            ..Default::default()
        })
        .unwrap()
        .decide("weather-agent", tool)
    };
    assert_eq!(at(0.9), Decision::Keep(None));
    assert_eq!(at(0.7), Decision::Drop);
}
