use super::*;
use crate::keys::{HmacKey, KeySource};
use crate::pipeline::fingerprint::{FingerprintConfig, Fingerprinter};
use opentelemetry_proto::tonic::common::v1::AnyValue;
use opentelemetry_proto::tonic::trace::v1::Status;
use std::sync::{Arc, Mutex as StdMutex};

fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(Value::StringValue(v.into())),
        }),
        ..Default::default()
    }
}

fn resource() -> Resource {
    Resource {
        attributes: vec![kv("service.name", "travel-agent")],
        ..Default::default()
    }
}

const ARGS: &str = r#"{"city":"Paris","contact":"jane.doe@example.com"}"#;
const RESULT: &str = r#"{"forecast":"sunny in Paris"}"#;

/// A tool span after the worker's fingerprint stage and a stand-in for the scrubber (which
/// replaces the email and writes its per-span summary).
fn processed_tool_span() -> Span {
    let key = HmacKey::from_bytes(vec![3; 32], None, KeySource::File);
    let f = Fingerprinter::new(&FingerprintConfig::default(), key.clone()).unwrap();
    let mut span = Span {
        trace_id: vec![0xab; 16],
        span_id: vec![0xcd; 8],
        name: "execute_tool get_weather".into(),
        start_time_unix_nano: 1_767_225_600_000_000_000,
        end_time_unix_nano: 1_767_225_600_250_500_000,
        status: Some(Status {
            code: StatusCode::Ok as i32,
            message: String::new(),
        }),
        attributes: vec![
            kv("gen_ai.operation.name", "execute_tool"),
            kv("gen_ai.tool.name", "get_weather"),
            kv("gen_ai.agent.name", "planner"),
            kv("gen_ai.conversation.id", "conv-42"),
            kv("gen_ai.tool.call.arguments", ARGS),
            kv("gen_ai.tool.call.result", RESULT),
        ],
        ..Default::default()
    };
    f.apply_span("travel-agent", &mut span).unwrap();
    let scrubbed = ARGS.replace(
        "jane.doe@example.com",
        &key.pseudonym("email", "jane.doe@example.com"),
    );
    for a in &mut span.attributes {
        if a.key == "gen_ai.tool.call.arguments" {
            *a = kv("gen_ai.tool.call.arguments", &scrubbed);
        }
    }
    span.attributes.push(kv("redaction.types", "email:1"));
    span
}

fn attr<'a>(span: &'a Span, k: &str) -> &'a str {
    match span
        .attributes
        .iter()
        .find(|a| a.key == k)
        .and_then(|a| a.value.as_ref()?.value.as_ref())
    {
        Some(Value::StringValue(s)) => s,
        _ => panic!("missing {k}"),
    }
}

#[test]
fn record_fields_and_no_payload() {
    let res = resource();
    let span = processed_tool_span();
    let rec = build_record(&res, &span).unwrap();
    assert_eq!(rec.time, "2026-01-01T00:00:00.000000000Z");
    assert_eq!(rec.trace_id, "ab".repeat(16));
    assert_eq!(rec.span_id, "cd".repeat(8));
    assert_eq!(rec.service, "travel-agent");
    assert_eq!(rec.operation, "execute_tool");
    assert_eq!(rec.conversation_id.as_deref(), Some("conv-42"));
    assert_eq!(rec.agent.as_deref(), Some("planner"));
    assert_eq!(rec.tool.as_deref(), Some("get_weather"));
    assert_eq!(rec.step, "execute_tool get_weather");
    assert_eq!(rec.status, "ok");
    assert!((rec.duration_ms - 250.5).abs() < 1e-9);
    assert_eq!(
        rec.input_hash.as_deref(),
        Some(attr(&span, "spanward.input_hash"))
    );
    assert_eq!(
        rec.output_hash.as_deref(),
        Some(attr(&span, "spanward.output_hash"))
    );
    assert_eq!(
        rec.hash_key_id.as_deref(),
        Some(attr(&span, "spanward.hash_key_id"))
    );
    assert_eq!(rec.redaction_types, "email:1");
    let line = serde_json::to_string(&rec).unwrap();
    for payload in ["Paris", "jane", "forecast", "sunny", "contact", "<email:"] {
        assert!(
            !line.contains(payload),
            "payload {payload:?} leaked: {line}"
        );
    }
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    for k in [
        "time",
        "trace_id",
        "span_id",
        "service",
        "operation",
        "conversation_id",
        "agent",
        "tool",
        "step",
        "status",
        "duration_ms",
        "input_hash",
        "output_hash",
        "hash_key_id",
        "redaction.types",
    ] {
        assert!(keys.contains(&k), "missing {k} in {line}");
    }
}

#[test]
fn which_spans_are_audited() {
    let res = resource();
    let plain = Span {
        name: "GET /health".into(),
        attributes: vec![kv("http.method", "GET")],
        ..Default::default()
    };
    assert!(build_record(&res, &plain).is_none());
    let oi = Span {
        name: "retrieve".into(),
        attributes: vec![
            kv("openinference.span.kind", "TOOL"),
            kv("tool.name", "search"),
            kv("session.id", "s-1"),
        ],
        status: Some(Status {
            code: StatusCode::Error as i32,
            message: "boom".into(),
        }),
        ..Default::default()
    };
    let rec = build_record(&res, &oi).unwrap();
    assert_eq!(rec.operation, "execute_tool");
    assert_eq!(rec.tool.as_deref(), Some("search"));
    assert_eq!(rec.conversation_id.as_deref(), Some("s-1"));
    assert_eq!(rec.status, "error");
    assert!(rec.input_hash.is_none());
    assert_eq!(rec.redaction_types, "");
    // A span with only a fingerprint (e.g. from a user's role-map glob) is a step.
    let step = Span {
        name: "StepInvocation".into(),
        attributes: vec![kv("spanward.input_hash", "00")],
        ..Default::default()
    };
    assert_eq!(build_record(&res, &step).unwrap().operation, "step");
    // Conversation id from the resource when the span has none; ids are capped.
    let mut res2 = resource();
    res2.attributes.push(kv("session.id", &"x".repeat(1000)));
    let rec = build_record(&res2, &step).unwrap();
    assert_eq!(rec.conversation_id.unwrap().len(), MAX_FIELD_CHARS);
}

fn file_cfg(dir: &Path, max_bytes: u64, keep: usize) -> AuditConfig {
    AuditConfig {
        enabled: true,
        log: false,
        file: Some(AuditFileConfig {
            path: dir.join("audit.jsonl"),
            max_bytes,
            keep,
            fsync: true,
            chain: true,
        }),
    }
}

fn read_lines(p: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn file_destination_appends_one_record_per_span() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = file_cfg(dir.path(), 0, 0);
    let res = resource();
    let span = processed_tool_span();
    let plain = Span {
        name: "db".into(),
        ..Default::default()
    };
    {
        let log = AuditLog::new(&cfg).unwrap();
        log.record(&res, &span).unwrap();
        log.record(&res, &plain).unwrap();
        log.flush().unwrap();
    }
    let path = dir.path().join("audit.jsonl");
    let lines = read_lines(&path);
    assert_eq!(lines.len(), 1, "exactly one record for the tool span");
    assert_eq!(lines[0]["input_hash"], attr(&span, "spanward.input_hash"));
    assert_eq!(lines[0]["output_hash"], attr(&span, "spanward.output_hash"));
    // Reopening appends; a torn last line is closed before the next record.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap()
        .write_all(b"{\"torn\":")
        .unwrap();
    {
        let log = AuditLog::new(&cfg).unwrap();
        log.record(&res, &span).unwrap();
        // Dropping flushes.
    }
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[1], "{\"torn\":");
    assert!(serde_json::from_str::<serde_json::Value>(lines[2]).is_ok());
}

#[test]
fn rotation_keeps_newest_files() {
    let dir = tempfile::tempdir().unwrap();
    let res = resource();
    let span = processed_tool_span();
    let one = serde_json::to_string(&build_record(&res, &span).unwrap())
        .unwrap()
        .len() as u64
        + 1
        + r#","prev_hash":"""#.len() as u64
        + 64;
    // Two records per file; 9 records → 5 files written, 2 rotated kept plus the live one.
    let cfg = file_cfg(dir.path(), 2 * one, 2);
    // A neighbour that merely shares the prefix is never pruned.
    std::fs::write(dir.path().join("audit.jsonl.bak"), "keep me").unwrap();
    let log = AuditLog::new(&cfg).unwrap();
    for _ in 0..9 {
        log.record(&res, &span).unwrap();
    }
    log.flush().unwrap();
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert!(names.contains(&"audit.jsonl.bak".to_string()));
    names.retain(|n| n != "audit.jsonl.bak");
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(is_rotation_stamp("2026-01-01T00:00:00.123456789Z"));
    assert!(is_rotation_stamp("2026-01-01T00:00:00.123456789Z-2"));
    assert!(!is_rotation_stamp("bak"));
    assert_eq!(names[0], "audit.jsonl");
    let mut total = 0;
    for n in &names {
        let lines = read_lines(&dir.path().join(n));
        assert!(lines.len() <= 2);
        total += lines.len();
    }
    assert_eq!(total, 5, "live file holds 1, each kept rotated file 2");
    assert_eq!(read_lines(&dir.path().join("audit.jsonl")).len(), 1);
}

#[test]
fn disabled_is_inert_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = file_cfg(dir.path(), 0, 0);
    cfg.enabled = false;
    let log = AuditLog::new(&cfg).unwrap();
    assert!(!log.is_enabled());
    log.record(&resource(), &processed_tool_span()).unwrap();
    log.flush().unwrap();
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    // Default config: off; one switch turns it on (to the service log).
    let d: AuditConfig = serde_norway::from_str("{}").unwrap();
    assert!(!AuditLog::new(&d).unwrap().is_enabled());
    let on: AuditConfig = serde_norway::from_str("enabled: true\n").unwrap();
    assert!(AuditLog::new(&on).unwrap().is_enabled());
    assert!(serde_norway::from_str::<AuditConfig>("enabled: true\nfiel: {}\n").is_err());
    // A missing directory is a typed error naming the path.
    let bad = file_cfg(&dir.path().join("missing"), 0, 0);
    let e = AuditLog::new(&bad).unwrap_err();
    assert!(matches!(e, AuditError::Open { .. }));
}

#[derive(Clone, Default)]
struct Buf(Arc<StdMutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn service_log_destination_at_info() {
    let buf = Buf::default();
    let w = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || w.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    let span = processed_tool_span();
    tracing::subscriber::with_default(subscriber, || {
        let log = AuditLog::new(&AuditConfig {
            enabled: true,
            ..Default::default()
        })
        .unwrap();
        log.record(&resource(), &span).unwrap();
    });
    let out = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(
        out.contains(" INFO ") && out.contains("spanward::audit"),
        "{out}"
    );
    assert!(out.contains(attr(&span, "spanward.input_hash")));
    assert!(!out.contains("Paris"));
}

#[test]
fn audit_log_is_send_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<AuditLog>();
}

#[test]
fn chain_detects_edits_removals_and_continues_across_restarts_and_rotations() {
    let dir = tempfile::tempdir().unwrap();
    // Small files so the chain crosses rotations.
    let cfg = file_cfg(dir.path(), 2_000, 0);
    let (res, span) = (Resource::default(), tool_span_for_chain());
    {
        let log = AuditLog::new(&cfg).unwrap();
        for _ in 0..10 {
            log.record(&res, &span).unwrap();
        }
        log.flush().unwrap();
    }
    {
        // A restart continues the chain from the file's last line.
        let log = AuditLog::new(&cfg).unwrap();
        for _ in 0..5 {
            log.record(&res, &span).unwrap();
        }
        log.flush().unwrap();
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap() != "audit.jsonl")
        .collect();
    files.sort();
    assert!(!files.is_empty(), "the test needs a rotation");
    files.push(dir.path().join("audit.jsonl"));
    let rep = crate::audit::verify_chain(&files).unwrap();
    assert_eq!(rep.records, 15);
    assert_eq!(rep.chain_starts, 1);

    // Edit one field of a middle record.
    let cur = dir.path().join("audit.jsonl");
    let text = std::fs::read_to_string(&cur).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() >= 2);
    let edited = text.replacen("execute_tool", "execute_toot", 1);
    std::fs::write(&cur, &edited).unwrap();
    assert!(crate::audit::verify_chain(&files).is_err());
    // Remove a record instead.
    let removed: String = lines
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 0)
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    std::fs::write(&cur, removed).unwrap();
    let err = crate::audit::verify_chain(&files).unwrap_err();
    assert!(err.contains("line 1"), "{err}");
}

fn tool_span_for_chain() -> Span {
    Span {
        trace_id: vec![1; 16],
        span_id: vec![2; 8],
        name: "execute_tool lookup".into(),
        attributes: vec![KeyValue {
            key: "gen_ai.operation.name".into(),
            value: Some(AnyValue {
                value: Some(Value::StringValue("execute_tool".into())),
            }),
            ..Default::default()
        }],
        ..Default::default()
    }
}

// WayFlow spans as `wayflowcore`'s OpenTelemetry export shapes them: span attributes from
// `Span.to_tracing_info` without `span_type`, the span named after its class (or by the caller),
// each WayFlow event a span event carrying `event_id`, `name`, `timestamp`, `event_type` and its
// own fields, dicts flattened with dotted keys.

fn wf_event(
    class: &str,
    fields: &[(&str, &str)],
) -> opentelemetry_proto::tonic::trace::v1::span::Event {
    let mut attributes = vec![
        kv("event_id", "5f0c2a9e-0000-4000-8000-000000000001"),
        kv("name", class),
        KeyValue {
            key: "timestamp".into(),
            value: Some(AnyValue {
                value: Some(Value::IntValue(1_767_225_600_000_000_000)),
            }),
            ..Default::default()
        },
        kv("event_type", class),
    ];
    attributes.extend(fields.iter().map(|(k, v)| kv(k, v)));
    opentelemetry_proto::tonic::trace::v1::span::Event {
        time_unix_nano: 1_767_225_600_000_000_000,
        name: class.into(),
        attributes,
        ..Default::default()
    }
}

fn wf_span(
    name: &str,
    attrs: &[(&str, &str)],
    events: Vec<opentelemetry_proto::tonic::trace::v1::span::Event>,
) -> Span {
    Span {
        trace_id: vec![0x5a; 16],
        span_id: vec![0x11; 8],
        name: name.into(),
        start_time_unix_nano: 1_767_225_600_000_000_000,
        end_time_unix_nano: 1_767_225_600_040_000_000,
        attributes: attrs.iter().map(|(k, v)| kv(k, v)).collect(),
        events,
        ..Default::default()
    }
}

fn fingerprinted(mut span: Span) -> Span {
    let key = HmacKey::from_bytes(vec![3; 32], None, KeySource::File);
    Fingerprinter::new(&FingerprintConfig::default(), key)
        .unwrap()
        .apply_span("wayflow-app", &mut span)
        .unwrap();
    span
}

type Fields = Vec<(&'static str, &'static str)>;

fn wf_tool_span(unmasked: bool) -> Span {
    let (start, end): (Fields, Fields) = if unmasked {
        (
            vec![
                ("tool_request.inputs.city", "Paris"),
                ("tool_request.id", "tr-1"),
            ],
            vec![
                ("tool_result.output", "sunny"),
                ("tool_result.tool_request_id", "tr-1"),
            ],
        )
    } else {
        // `mask_sensitive_information=True` (WayFlow's default) masks the payload whole.
        (
            vec![
                ("tool_request.inputs", "** MASKED **"),
                ("tool_request.id", "tr-1"),
            ],
            vec![
                ("tool_result.output", "** MASKED **"),
                ("tool_result.tool_request_id", "tr-1"),
            ],
        )
    };
    wf_span(
        "ToolExecutionSpan",
        &[
            ("tool.name", "get_weather"),
            ("tool.description", "Weather by city"),
            ("tool.type", "ServerTool"),
            ("tool.input_descriptors.0", "city"),
        ],
        vec![
            wf_event("ToolExecutionStartEvent", &start),
            wf_event("ToolExecutionResultEvent", &end),
        ],
    )
}

#[test]
fn wayflow_tool_span_is_execute_tool_with_its_hashes() {
    let res = resource();
    let span = fingerprinted(wf_tool_span(true));
    let rec = build_record(&res, &span).unwrap();
    assert_eq!(rec.operation, "execute_tool");
    assert_eq!(rec.tool.as_deref(), Some("get_weather"));
    assert_eq!(rec.step, "ToolExecutionSpan");
    assert_eq!(rec.agent, None);
    // WayFlow's tool spans carry no conversation id (only its ConversationSpan does).
    assert_eq!(rec.conversation_id, None);
    assert!((rec.duration_ms - 40.0).abs() < 1e-9);
    assert_eq!(
        rec.input_hash.as_deref(),
        Some(attr(&span, "spanward.input_hash"))
    );
    assert_eq!(
        rec.output_hash.as_deref(),
        Some(attr(&span, "spanward.output_hash"))
    );
    let line = serde_json::to_string(&rec).unwrap();
    for payload in ["Paris", "sunny"] {
        assert!(!line.contains(payload), "{payload:?} in {line}");
    }
}

#[test]
fn wayflow_masked_tool_span_is_audited() {
    // Masked arguments (`tool_request.inputs`, one string) match no role-map key, so there is
    // no input hash; the span is still a tool call and gets its record. (The masked result
    // keeps its key, `tool_result.output`, so its hash is that of the mask text.)
    let res = resource();
    let span = fingerprinted(wf_tool_span(false));
    assert!(span
        .attributes
        .iter()
        .all(|a| a.key != "spanward.input_hash"));
    let rec = build_record(&res, &span).unwrap();
    assert_eq!(rec.operation, "execute_tool");
    assert_eq!(rec.tool.as_deref(), Some("get_weather"));
    assert!(rec.input_hash.is_none());
    // With no role field at all (which used to give no record): still a record.
    let mut bare = wf_tool_span(false);
    bare.events.iter_mut().for_each(|e| {
        e.attributes
            .retain(|a| !a.key.starts_with("tool_request.inputs") && a.key != "tool_result.output")
    });
    let bare = fingerprinted(bare);
    let rec = build_record(&res, &bare).unwrap();
    assert_eq!(rec.operation, "execute_tool");
    assert!(rec.input_hash.is_none() && rec.output_hash.is_none());
}

#[test]
fn wayflow_llm_agent_flow_and_step_spans() {
    let res = resource();
    let llm = fingerprinted(wf_span(
        "LlmGeneration[gpt-4o-mini]",
        &[
            ("llm.model_type", "OpenAIModel"),
            ("llm.model_id", "gpt-4o-mini"),
        ],
        vec![
            wf_event(
                "LlmGenerationRequestEvent",
                &[("prompt.messages.0.content", "What is the weather in Paris?")],
            ),
            wf_event(
                "LlmGenerationResponseEvent",
                &[("completion.message.content", "Sunny.")],
            ),
        ],
    ));
    let rec = build_record(&res, &llm).unwrap();
    assert_eq!(rec.operation, "chat");
    assert_eq!(rec.step, "LlmGeneration[gpt-4o-mini]");
    assert!(rec.input_hash.is_some() && rec.output_hash.is_some());

    let agent = wf_span(
        "AgentExecutionSpan",
        &[
            ("conversational_component.name", "planner"),
            ("conversational_component.id", "agent-7"),
            ("conversational_component.attributes.tools.0", "get_weather"),
        ],
        vec![
            wf_event("AgentExecutionStartedEvent", &[]),
            wf_event(
                "AgentExecutionFinishedEvent",
                &[("execution_status", "FinishedStatus")],
            ),
        ],
    );
    let rec = build_record(&res, &agent).unwrap();
    assert_eq!(rec.operation, "invoke_agent");
    assert_eq!(rec.agent.as_deref(), Some("planner"));
    assert_eq!(rec.step, "AgentExecutionSpan");

    let flow = wf_span(
        "FlowExecutionSpan",
        &[("conversational_component.name", "refund_flow")],
        vec![wf_event("FlowExecutionStartedEvent", &[])],
    );
    let rec = build_record(&res, &flow).unwrap();
    assert_eq!(rec.operation, "step");
    assert_eq!(rec.step, "refund_flow");
    assert_eq!(rec.agent, None, "a flow's name is not an agent name");

    // A step span also holds the start event of a client tool it hands back to the caller:
    // the span's own (first) event decides, so it stays a step.
    let step = fingerprinted(wf_span(
        "StepInvocationSpan",
        &[("step.name", "fetch_order")],
        vec![
            wf_event("StepInvocationStartEvent", &[("inputs.order_id", "A-1")]),
            wf_event("ToolExecutionStartEvent", &[("tool_request.id", "tr-2")]),
            wf_event(
                "StepInvocationResultEvent",
                &[("step_result.outputs.status", "shipped")],
            ),
        ],
    ));
    let rec = build_record(&res, &step).unwrap();
    assert_eq!(rec.operation, "step");
    assert_eq!(rec.step, "fetch_order");
    assert_eq!(rec.tool, None);
    assert!(rec.input_hash.is_some() && rec.output_hash.is_some());
}

#[test]
fn wayflow_kind_from_the_first_event_when_the_span_is_renamed() {
    let res = resource();
    let mut tool = wf_tool_span(false);
    tool.name = "weather lookup".into();
    assert_eq!(build_record(&res, &tool).unwrap().operation, "execute_tool");
    let mut step = wf_span(
        "custom step",
        &[("step.name", "fetch_order")],
        vec![
            wf_event("StepInvocationStartEvent", &[]),
            wf_event("ToolExecutionStartEvent", &[]),
        ],
    );
    assert_eq!(build_record(&res, &step).unwrap().operation, "step");
    // Without the `event_type` attribute the event name (the class name by default) serves.
    step.events[0].attributes.retain(|a| a.key != "event_type");
    let rec = build_record(&res, &step).unwrap();
    assert_eq!((&*rec.operation, &*rec.step), ("step", "fetch_order"));
    // Start events of another WayFlow span class, or a later event, identify nothing.
    let conversation = wf_span(
        "ConversationSpan",
        &[("conversation.id", "c-1")],
        vec![
            wf_event(
                "ConversationExecutionStartedEvent",
                &[("conversation.id", "c-1")],
            ),
            wf_event("ToolExecutionStartEvent", &[]),
        ],
    );
    assert!(build_record(&res, &conversation).is_none());
    let other = wf_span("GET /", &[], vec![wf_event("request", &[])]);
    assert!(build_record(&res, &other).is_none());
}

#[test]
fn genai_events_are_audited_with_their_event_name_and_other_records_are_not() {
    let r = resource();
    let event = LogRecord {
        event_name: "gen_ai.client.inference.operation.details".into(),
        time_unix_nano: 1_700_000_000_000_000_000,
        severity_number: 9,
        trace_id: vec![0xab; 16],
        span_id: vec![0xcd; 8],
        attributes: vec![
            kv("gen_ai.operation.name", "chat"),
            kv("gen_ai.agent.name", "support"),
            kv(crate::vocab::attr::INPUT_HASH, "ab12"),
            kv("redaction.types", "email:1"),
            kv(
                "gen_ai.input.messages",
                "[{\"role\":\"user\",\"content\":\"hi\"}]",
            ),
        ],
        ..Default::default()
    };
    let rec = build_event_record(&r, &event).unwrap();
    assert_eq!(
        rec.event.as_deref(),
        Some("gen_ai.client.inference.operation.details")
    );
    assert_eq!(rec.operation, "chat");
    assert_eq!(rec.agent.as_deref(), Some("support"));
    assert_eq!(rec.status, "unset");
    assert_eq!(rec.trace_id, "ab".repeat(16));
    assert_eq!(rec.input_hash.as_deref(), Some("ab12"));
    assert_eq!(rec.redaction_types, "email:1");
    let line = serde_json::to_string(&rec).unwrap();
    assert!(!line.contains("content"), "never a payload: {line}");

    // The legacy form: the name in an `event.name` attribute, an error severity.
    let legacy = LogRecord {
        severity_number: 17,
        attributes: vec![kv("event.name", "gen_ai.choice")],
        ..Default::default()
    };
    let rec = build_event_record(&r, &legacy).unwrap();
    assert_eq!(rec.operation, "gen_ai.choice");
    assert_eq!(rec.status, "error");

    // An ordinary log line is not an agent operation.
    let plain = LogRecord {
        body: Some(AnyValue {
            value: Some(Value::StringValue("GET /health 200".into())),
        }),
        ..Default::default()
    };
    assert!(build_event_record(&r, &plain).is_none());

    // Span records carry no `event` field at all.
    let span_line =
        serde_json::to_string(&build_record(&r, &processed_tool_span()).unwrap()).unwrap();
    assert!(!span_line.contains("\"event\""), "{span_line}");
}
