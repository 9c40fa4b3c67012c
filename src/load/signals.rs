//! The three OTLP signals written from [`Turn`]s: spans with the agent's instrumentation keys,
//! log records as agent frameworks emit them (GenAI events and Python `logging` bridged to
//! OTLP, tied to the spans by trace and span id), and the GenAI client metrics.

use super::agents::{Agent, Flavor, Step, Turn, TurnGen};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    any_value, AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs, SeverityNumber};
use opentelemetry_proto::tonic::metrics::v1::{
    metric, number_data_point, AggregationTemporality, Exemplar, Gauge, Histogram,
    HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    span, status, ResourceSpans, ScopeSpans, Span, Status,
};
use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::{json, Value};
use std::collections::BTreeMap;

fn kv(k: &str, v: any_value::Value) -> KeyValue {
    KeyValue {
        key: k.to_string(),
        value: Some(AnyValue { value: Some(v) }),
        ..Default::default()
    }
}

fn s(k: &str, v: impl Into<String>) -> KeyValue {
    kv(k, any_value::Value::StringValue(v.into()))
}

fn i(k: &str, v: i64) -> KeyValue {
    kv(k, any_value::Value::IntValue(v))
}

fn sv(v: impl Into<String>) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::StringValue(v.into())),
    }
}

fn kvlist(items: Vec<KeyValue>) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::KvlistValue(KeyValueList {
            values: items,
        })),
    }
}

fn resource(agent: &Agent) -> Resource {
    Resource {
        attributes: vec![
            s("service.name", agent.service.clone()),
            s("service.version", "1.14.2"),
            s("service.instance.id", agent.instance.clone()),
            s("deployment.environment.name", "production"),
            s("telemetry.sdk.name", "opentelemetry"),
            s("telemetry.sdk.language", "python"),
            s("telemetry.sdk.version", "1.36.0"),
        ],
        ..Default::default()
    }
}

fn scope(agent: &Agent) -> InstrumentationScope {
    let (name, version) = match agent.flavor {
        Flavor::GenAi => ("opentelemetry.instrumentation.openai_v2", "2.1b0"),
        Flavor::OpenInference => ("openinference.instrumentation.langchain", "0.1.43"),
    };
    InstrumentationScope {
        name: name.into(),
        version: version.into(),
        ..Default::default()
    }
}

fn system_instructions(agent: &Agent) -> String {
    json!([{"type": "text", "content": agent.system_prompt}]).to_string()
}

/// OpenInference's flattened messages: `llm.input_messages.N.message.role` / `.content`.
fn flattened(prefix: &str, messages: &Value, out: &mut Vec<KeyValue>, first: usize) {
    for (n, m) in messages.as_array().into_iter().flatten().enumerate() {
        let role = m.get("role").and_then(Value::as_str).unwrap_or("user");
        out.push(s(&format!("{prefix}.{}.message.role", n + first), role));
        let content: Vec<String> = m
            .get("parts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|p| match p.get("content").or_else(|| p.get("response")) {
                Some(Value::String(t)) => t.clone(),
                _ => p.to_string(),
            })
            .collect();
        out.push(s(
            &format!("{prefix}.{}.message.content", n + first),
            content.join("\n"),
        ));
    }
}

/// The spans of a turn: the `invoke_agent` root, its `chat` and `execute_tool` children.
pub fn spans(turn: &Turn, agent: &Agent) -> Vec<Span> {
    let mut out = Vec::with_capacity(turn.steps.len() + 1);
    let oi = agent.flavor == Flavor::OpenInference;
    let mut root_attrs = if oi {
        vec![
            s("openinference.span.kind", "AGENT"),
            s("session.id", turn.conversation.clone()),
            s("input.value", turn.question.clone()),
            s("input.mime_type", "text/plain"),
            s("output.value", turn.answer.clone()),
            s("output.mime_type", "text/plain"),
            s("agent.name", agent.name.clone()),
        ]
    } else {
        vec![
            s("gen_ai.operation.name", "invoke_agent"),
            s("gen_ai.agent.name", agent.name.clone()),
            s("gen_ai.agent.id", agent.id.clone()),
            s("gen_ai.conversation.id", turn.conversation.clone()),
            s("gen_ai.provider.name", agent.provider),
            s(
                "gen_ai.input.messages",
                json!([{"role": "user", "parts": [{"type": "text", "content": turn.question}]}]).to_string(),
            ),
            s(
                "gen_ai.output.messages",
                json!([{"role": "assistant", "parts": [{"type": "text", "content": turn.answer}], "finish_reason": "stop"}]).to_string(),
            ),
        ]
    };
    root_attrs.push(s(
        "enduser.pseudo.id",
        format!("u_{}", &turn.conversation[5..13]),
    ));
    out.push(Span {
        trace_id: turn.trace_id.to_vec(),
        span_id: turn.root_id.to_vec(),
        name: format!("invoke_agent {}", agent.name),
        kind: span::SpanKind::Internal as i32,
        start_time_unix_nano: turn.start,
        end_time_unix_nano: turn.end,
        attributes: root_attrs,
        status: Some(Status::default()),
        ..Default::default()
    });
    for step in &turn.steps {
        let (span_id, name, kind, start, end, attributes, failed) = match step {
            Step::Llm(l) => {
                let attrs = if oi {
                    let mut a = vec![
                        s("openinference.span.kind", "LLM"),
                        s("llm.model_name", agent.model),
                        s("llm.provider", agent.provider),
                        s("llm.system", agent.provider),
                        s(
                            "llm.invocation_parameters",
                            json!({"temperature": l.temperature, "max_tokens": 2048}).to_string(),
                        ),
                        s(
                            "input.value",
                            json!({"messages": l.input, "system": agent.system_prompt}).to_string(),
                        ),
                        s("input.mime_type", "application/json"),
                        s("output.value", l.output.to_string()),
                        s("output.mime_type", "application/json"),
                        i("llm.token_count.prompt", l.input_tokens),
                        i("llm.token_count.completion", l.output_tokens),
                        i("llm.token_count.total", l.input_tokens + l.output_tokens),
                        s("llm.input_messages.0.message.role", "system"),
                        s(
                            "llm.input_messages.0.message.content",
                            agent.system_prompt.clone(),
                        ),
                    ];
                    flattened("llm.input_messages", &l.input, &mut a, 1);
                    flattened("llm.output_messages", &l.output, &mut a, 0);
                    a.push(s(
                        "llm.tools.0.tool.json_schema",
                        agent.tool_definitions.clone(),
                    ));
                    a
                } else {
                    let mut a = vec![
                        s("gen_ai.operation.name", "chat"),
                        s("gen_ai.provider.name", agent.provider),
                        s("gen_ai.request.model", agent.model),
                        s("gen_ai.response.model", agent.model),
                        s("gen_ai.response.id", l.response_id.clone()),
                        s("gen_ai.conversation.id", turn.conversation.clone()),
                        kv(
                            "gen_ai.request.temperature",
                            any_value::Value::DoubleValue(l.temperature),
                        ),
                        i("gen_ai.request.max_tokens", 2048),
                        i("gen_ai.usage.input_tokens", l.input_tokens),
                        i("gen_ai.usage.output_tokens", l.output_tokens),
                        kv(
                            "gen_ai.response.finish_reasons",
                            any_value::Value::ArrayValue(ArrayValue {
                                values: vec![sv(l.finish_reason)],
                            }),
                        ),
                        s("server.address", agent.server),
                        i("server.port", 443),
                        s("gen_ai.system_instructions", system_instructions(agent)),
                        s("gen_ai.input.messages", l.input.to_string()),
                        s("gen_ai.output.messages", l.output.to_string()),
                    ];
                    // Opt-in in the conventions: some instrumentations record it.
                    if agent.records_tool_definitions {
                        a.push(s("gen_ai.tool.definitions", agent.tool_definitions.clone()));
                    }
                    a
                };
                (
                    l.span_id,
                    format!("chat {}", agent.model),
                    span::SpanKind::Client,
                    l.start,
                    l.end,
                    attrs,
                    false,
                )
            }
            Step::Tool(t) => {
                let attrs = if oi {
                    vec![
                        s("openinference.span.kind", "TOOL"),
                        s("tool.name", t.name),
                        s("tool.description", t.description),
                        s("input.value", t.arguments.clone()),
                        s("input.mime_type", "application/json"),
                        s("output.value", t.result.clone()),
                    ]
                } else {
                    vec![
                        s("gen_ai.operation.name", "execute_tool"),
                        s("gen_ai.tool.name", t.name),
                        s("gen_ai.tool.type", "function"),
                        s("gen_ai.tool.description", t.description),
                        s("gen_ai.tool.call.id", t.call_id.clone()),
                        s("gen_ai.tool.call.arguments", t.arguments.clone()),
                        s("gen_ai.tool.call.result", t.result.clone()),
                    ]
                };
                (
                    t.span_id,
                    format!("execute_tool {}", t.name),
                    span::SpanKind::Internal,
                    t.start,
                    t.end,
                    attrs,
                    t.failed,
                )
            }
        };
        if let Step::Llm(l) = step {
            // The HTTP client span under each LLM call (httpx/requests instrumentation).
            let mut http_id = l.span_id;
            http_id[0] ^= 0x5a;
            out.push(Span {
                trace_id: turn.trace_id.to_vec(),
                span_id: http_id.to_vec(),
                parent_span_id: l.span_id.to_vec(),
                name: "POST".into(),
                kind: span::SpanKind::Client as i32,
                start_time_unix_nano: l.start + 1_000_000,
                end_time_unix_nano: l.end.saturating_sub(1_000_000),
                attributes: vec![
                    s("http.request.method", "POST"),
                    s(
                        "url.full",
                        format!("https://{}/v1/chat/completions", agent.server),
                    ),
                    s("server.address", agent.server),
                    i("server.port", 443),
                    i("http.response.status_code", 200),
                    s("network.protocol.version", "1.1"),
                ],
                status: Some(Status::default()),
                ..Default::default()
            });
        }
        out.push(Span {
            trace_id: turn.trace_id.to_vec(),
            span_id: span_id.to_vec(),
            parent_span_id: turn.root_id.to_vec(),
            name,
            kind: kind as i32,
            start_time_unix_nano: start,
            end_time_unix_nano: end,
            attributes,
            status: Some(if failed {
                Status {
                    code: status::StatusCode::Error as i32,
                    message: "tool raised TimeoutError".into(),
                }
            } else {
                Status::default()
            }),
            ..Default::default()
        });
    }
    out
}

fn record(turn: &Turn, span_id: &[u8; 8], time: u64, sev: SeverityNumber, text: &str) -> LogRecord {
    LogRecord {
        time_unix_nano: time,
        observed_time_unix_nano: time + 40_000,
        severity_number: sev as i32,
        severity_text: text.into(),
        trace_id: turn.trace_id.to_vec(),
        span_id: span_id.to_vec(),
        flags: 1,
        ..Default::default()
    }
}

/// Python `logging` bridged to OTLP: a string body, `code.*` attributes, the logger's severity.
fn python_log(
    turn: &Turn,
    span_id: &[u8; 8],
    time: u64,
    level: (SeverityNumber, &str),
    func: &str,
    line: i64,
    body: String,
) -> LogRecord {
    let mut r = record(turn, span_id, time, level.0, level.1);
    r.body = Some(sv(body));
    r.attributes = vec![
        s("code.file.path", "/app/agent/runner.py"),
        s("code.function.name", func),
        i("code.line.number", line),
        s("logger.name", "agent.runner"),
    ];
    r
}

/// The log records of a turn: for each LLM call a `gen_ai.client.inference.operation.details`
/// event (GenAI agents) or the older `gen_ai.user.message` / `gen_ai.choice` pair
/// (OpenInference agents, whose frameworks still emit those); Python log lines around tool calls.
pub fn logs(turn: &Turn, agent: &Agent) -> Vec<LogRecord> {
    let mut out = Vec::new();
    let info = (SeverityNumber::Info, "INFO");
    out.push(python_log(
        turn,
        &turn.root_id,
        turn.start + 100_000,
        info,
        "run",
        88,
        format!(
            "agent {} started conversation {} with {} tools",
            agent.name,
            turn.conversation,
            agent.tools.len()
        ),
    ));
    for step in &turn.steps {
        match step {
            Step::Llm(l) => {
                if agent.flavor == Flavor::GenAi {
                    let mut r = record(turn, &l.span_id, l.end, SeverityNumber::Info, "INFO");
                    r.event_name = "gen_ai.client.inference.operation.details".into();
                    r.attributes = vec![
                        s("gen_ai.operation.name", "chat"),
                        s("gen_ai.provider.name", agent.provider),
                        s("gen_ai.request.model", agent.model),
                        s("gen_ai.response.id", l.response_id.clone()),
                        i("gen_ai.usage.input_tokens", l.input_tokens),
                        i("gen_ai.usage.output_tokens", l.output_tokens),
                        s("gen_ai.system_instructions", system_instructions(agent)),
                        s("gen_ai.input.messages", l.input.to_string()),
                        s("gen_ai.output.messages", l.output.to_string()),
                    ];
                    out.push(r);
                } else {
                    // The newest user message, and the choice.
                    let last = l
                        .input
                        .as_array()
                        .and_then(|a| a.last())
                        .cloned()
                        .unwrap_or(Value::Null);
                    let content = last
                        .pointer("/parts/0/content")
                        .or_else(|| last.pointer("/parts/0/response"));
                    let mut r = record(turn, &l.span_id, l.start, SeverityNumber::Info, "INFO");
                    r.event_name = "gen_ai.user.message".into();
                    r.attributes = vec![s("gen_ai.provider.name", agent.provider)];
                    r.body = Some(kvlist(vec![s(
                        "content",
                        content.and_then(Value::as_str).unwrap_or(""),
                    )]));
                    out.push(r);
                    let mut r = record(turn, &l.span_id, l.end, SeverityNumber::Info, "INFO");
                    r.event_name = "gen_ai.choice".into();
                    r.attributes = vec![s("gen_ai.provider.name", agent.provider)];
                    let msg = l
                        .output
                        .pointer("/0/parts/0/content")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .unwrap_or_else(|| {
                            l.output
                                .pointer("/0/parts")
                                .map(Value::to_string)
                                .unwrap_or_default()
                        });
                    r.body = Some(kvlist(vec![
                        i("index", 0),
                        s("finish_reason", l.finish_reason),
                        KeyValue {
                            key: "message".into(),
                            value: Some(kvlist(vec![s("role", "assistant"), s("content", msg)])),
                            ..Default::default()
                        },
                    ]));
                    out.push(r);
                }
            }
            Step::Tool(t) => {
                out.push(python_log(
                    turn,
                    &t.span_id,
                    t.start,
                    info,
                    "call_tool",
                    142,
                    format!(
                        "calling tool {} id={} args={}",
                        t.name, t.call_id, t.arguments
                    ),
                ));
                let mut preview: String = t.result.chars().take(160).collect();
                if preview.len() < t.result.len() {
                    preview.push('…');
                }
                if t.failed {
                    out.push(python_log(
                        turn,
                        &t.span_id,
                        t.end,
                        (SeverityNumber::Error, "ERROR"),
                        "call_tool",
                        157,
                        format!("tool {} failed after {} ms\nTraceback (most recent call last):\n  File \"/app/agent/tools.py\", line 61, in {}\n    return client.call(args, timeout=30)\nTimeoutError: the read operation timed out", t.name, (t.end - t.start) / 1_000_000, t.name),
                    ));
                } else {
                    out.push(python_log(
                        turn,
                        &t.span_id,
                        t.end,
                        info,
                        "call_tool",
                        151,
                        format!(
                            "tool {} returned {} bytes: {preview}",
                            t.name,
                            t.result.len()
                        ),
                    ));
                }
            }
        }
    }
    out
}

const TOKEN_BOUNDS: [f64; 14] = [
    1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0,
    16777216.0, 67108864.0,
];
const DURATION_BOUNDS: [f64; 14] = [
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];

fn histogram_point(
    values: &[f64],
    bounds: &[f64],
    attributes: Vec<KeyValue>,
    start: u64,
    time: u64,
) -> HistogramDataPoint {
    let mut counts = vec![0u64; bounds.len() + 1];
    for v in values {
        let b = bounds.iter().position(|x| v <= x).unwrap_or(bounds.len());
        counts[b] += 1;
    }
    HistogramDataPoint {
        attributes,
        start_time_unix_nano: start,
        time_unix_nano: time,
        count: values.len() as u64,
        sum: Some(values.iter().sum()),
        bucket_counts: counts,
        explicit_bounds: bounds.to_vec(),
        min: values.iter().copied().reduce(f64::min),
        max: values.iter().copied().reduce(f64::max),
        ..Default::default()
    }
}

/// One metrics export of an agent's process over the turns it ran: `gen_ai.client.token.usage`
/// and `gen_ai.client.operation.duration` histograms (with exemplars pointing at spans), a tool
/// calls counter and an active-sessions gauge.
pub fn metrics(turns: &[&Turn], agent: &Agent, rng: &mut impl Rng) -> Vec<Metric> {
    let start = turns.first().map_or(0, |t| t.start);
    let time = turns.last().map_or(0, |t| t.end);
    let base = || {
        vec![
            s("gen_ai.operation.name", "chat"),
            s("gen_ai.provider.name", agent.provider),
            s("gen_ai.request.model", agent.model),
            s("gen_ai.response.model", agent.model),
            s("server.address", agent.server),
        ]
    };
    let llm: Vec<_> = turns
        .iter()
        .flat_map(|t| {
            t.steps.iter().filter_map(move |s| match s {
                Step::Llm(l) => Some((t, l)),
                Step::Tool(_) => None,
            })
        })
        .collect();
    let mut usage = Vec::new();
    for (kind, pick) in [("input", 0), ("output", 1)] {
        let vals: Vec<f64> = llm.iter().map(|(_, l)| if pick == 0 { l.input_tokens } else { l.output_tokens } as f64).collect();
        let mut a = base();
        a.push(s("gen_ai.token.type", kind));
        usage.push(histogram_point(&vals, &TOKEN_BOUNDS, a, start, time));
    }
    let secs: Vec<f64> = llm
        .iter()
        .map(|(_, l)| (l.end - l.start) as f64 / 1e9)
        .collect();
    let mut duration = histogram_point(&secs, &DURATION_BOUNDS, base(), start, time);
    duration.exemplars = llm
        .iter()
        .take(2)
        .map(|(t, l)| Exemplar {
            time_unix_nano: l.end,
            value: Some(
                opentelemetry_proto::tonic::metrics::v1::exemplar::Value::AsDouble(
                    (l.end - l.start) as f64 / 1e9,
                ),
            ),
            span_id: l.span_id.to_vec(),
            trace_id: t.trace_id.to_vec(),
            filtered_attributes: vec![s("gen_ai.conversation.id", t.conversation.clone())],
        })
        .collect();
    let mut errored = base();
    errored.push(s(
        "error.type",
        ["timeout", "rate_limit_exceeded", "500"]
            .choose(rng)
            .copied()
            .unwrap_or("timeout"),
    ));
    let err_point = histogram_point(
        &[rng.gen_range(0.5..30.0)],
        &DURATION_BOUNDS,
        errored,
        start,
        time,
    );
    let mut per_tool: BTreeMap<&str, i64> = BTreeMap::new();
    for t in turns {
        for st in &t.steps {
            if let Step::Tool(c) = st {
                *per_tool.entry(c.name).or_default() += 1;
            }
        }
    }
    let tool_points = per_tool
        .into_iter()
        .map(|(name, n)| NumberDataPoint {
            attributes: vec![
                s("gen_ai.tool.name", name),
                s("gen_ai.agent.name", agent.name.clone()),
            ],
            start_time_unix_nano: start,
            time_unix_nano: time,
            value: Some(number_data_point::Value::AsInt(n)),
            ..Default::default()
        })
        .collect();
    let hist = |name: &str, unit: &str, desc: &str, points| Metric {
        name: name.into(),
        description: desc.into(),
        unit: unit.into(),
        data: Some(metric::Data::Histogram(Histogram {
            data_points: points,
            aggregation_temporality: AggregationTemporality::Delta as i32,
        })),
        ..Default::default()
    };
    vec![
        hist(
            "gen_ai.client.token.usage",
            "{token}",
            "Number of input and output tokens used.",
            usage,
        ),
        hist(
            "gen_ai.client.operation.duration",
            "s",
            "GenAI operation duration.",
            vec![duration, err_point],
        ),
        Metric {
            name: "agent.tool.calls".into(),
            description: "Tool calls made by the agent.".into(),
            unit: "{call}".into(),
            data: Some(metric::Data::Sum(Sum {
                data_points: tool_points,
                aggregation_temporality: AggregationTemporality::Delta as i32,
                is_monotonic: true,
            })),
            ..Default::default()
        },
        Metric {
            name: "agent.sessions.active".into(),
            description: "Conversations open in this process.".into(),
            unit: "{session}".into(),
            data: Some(metric::Data::Gauge(Gauge {
                data_points: vec![NumberDataPoint {
                    attributes: vec![s("gen_ai.agent.name", agent.name.clone())],
                    time_unix_nano: time,
                    value: Some(number_data_point::Value::AsInt(rng.gen_range(1..200))),
                    ..Default::default()
                }],
            })),
            ..Default::default()
        },
    ]
}

/// Data points in a metric (what `--signal metrics` counts as items).
pub fn data_points(m: &Metric) -> usize {
    match &m.data {
        Some(metric::Data::Histogram(h)) => h.data_points.len(),
        Some(metric::Data::Sum(x)) => x.data_points.len(),
        Some(metric::Data::Gauge(g)) => g.data_points.len(),
        Some(metric::Data::ExponentialHistogram(h)) => h.data_points.len(),
        Some(metric::Data::Summary(x)) => x.data_points.len(),
        None => 0,
    }
}

/// Turns until `items` spans (or log records) were written, grouped per agent in the order
/// agents first appear; the last turn is cut so the count is exact.
fn per_agent<T>(
    g: &mut TurnGen<'_>,
    items: usize,
    write: impl Fn(&Turn, &Agent) -> Vec<T>,
) -> Vec<(usize, Vec<T>)> {
    let mut groups: Vec<(usize, Vec<T>)> = Vec::new();
    let mut n = 0;
    while n < items {
        let turn = g.turn();
        let agent = &g.agents[turn.agent];
        let mut out = write(&turn, agent);
        out.truncate(items - n);
        n += out.len();
        match groups.iter_mut().find(|(a, _)| *a == turn.agent) {
            Some((_, v)) => v.extend(out),
            None => groups.push((turn.agent, out)),
        }
    }
    groups
}

pub fn trace_request(g: &mut TurnGen<'_>, items: usize) -> ExportTraceServiceRequest {
    let groups = per_agent(g, items, spans);
    ExportTraceServiceRequest {
        resource_spans: groups
            .into_iter()
            .map(|(a, spans)| {
                let agent = &g.agents[a];
                ResourceSpans {
                    resource: Some(resource(agent)),
                    scope_spans: vec![ScopeSpans {
                        scope: Some(scope(agent)),
                        spans,
                        ..Default::default()
                    }],
                    ..Default::default()
                }
            })
            .collect(),
    }
}

pub fn logs_request(g: &mut TurnGen<'_>, items: usize) -> ExportLogsServiceRequest {
    let groups = per_agent(g, items, logs);
    ExportLogsServiceRequest {
        resource_logs: groups
            .into_iter()
            .map(|(a, log_records)| {
                let agent = &g.agents[a];
                ResourceLogs {
                    resource: Some(resource(agent)),
                    scope_logs: vec![ScopeLogs {
                        scope: Some(InstrumentationScope {
                            name: "agent.runner".into(),
                            ..Default::default()
                        }),
                        log_records,
                        ..Default::default()
                    }],
                    ..Default::default()
                }
            })
            .collect(),
    }
}

/// `items` data points: one export per agent process (a few turns each) until there are enough.
pub fn metrics_request(g: &mut TurnGen<'_>, items: usize) -> ExportMetricsServiceRequest {
    let mut resource_metrics = Vec::new();
    let mut n = 0;
    while n < items {
        let turns: Vec<Turn> = (0..g.rng.gen_range(2..6)).map(|_| g.turn()).collect();
        let agent = &g.agents[turns[0].agent];
        let refs: Vec<&Turn> = turns.iter().filter(|t| t.agent == turns[0].agent).collect();
        let mut ms = metrics(&refs, agent, &mut g.rng);
        // Cut to the exact count.
        let mut kept = Vec::new();
        for mut m in ms.drain(..) {
            let left = items - n;
            if left == 0 {
                break;
            }
            let k = data_points(&m);
            if k > left {
                match &mut m.data {
                    Some(metric::Data::Histogram(h)) => h.data_points.truncate(left),
                    Some(metric::Data::Sum(x)) => x.data_points.truncate(left),
                    Some(metric::Data::Gauge(x)) => x.data_points.truncate(left),
                    _ => {}
                }
            }
            let k = data_points(&m);
            if k > 0 {
                n += k;
                kept.push(m);
            }
        }
        let mut res = resource(agent);
        // Each export a different process of the agent's service.
        if let Some(a) = res
            .attributes
            .iter_mut()
            .find(|a| a.key == "service.instance.id")
        {
            a.value = Some(sv(format!("{}-{}", agent.instance, g.rng.gen_range(0..64))));
        }
        resource_metrics.push(ResourceMetrics {
            resource: Some(res),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: "opentelemetry.instrumentation.genai".into(),
                    version: "0.3b0".into(),
                    ..Default::default()
                }),
                metrics: kept,
                ..Default::default()
            }],
            ..Default::default()
        });
    }
    ExportMetricsServiceRequest { resource_metrics }
}

#[cfg(test)]
#[path = "signals_tests.rs"]
mod tests;
