//! Synthetic AI-agent spans: an `invoke_agent` root with `chat` and `execute_tool` children,
//! carrying GenAI semantic-convention attributes. A share of spans embeds synthetic PII and
//! secrets (Luhn-valid card numbers, vendor-format tokens) so the scrubber has real work.

use super::secrets::luhn_complete;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{span, ResourceSpans, ScopeSpans, Span, Status};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[derive(Debug, Clone)]
pub struct GenConfig {
    pub spans_per_request: usize,
    /// Mean payload bytes per span.
    pub payload_bytes: usize,
    pub pii_fraction: f64,
}

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

const WORDS: &[&str] = &[
    "the", "order", "customer", "refund", "shipping", "invoice", "please", "check", "status",
    "account", "update", "weather", "forecast", "summary", "report", "quarter", "revenue",
    "ticket", "priority", "escalate", "resolved", "database", "query", "result", "agent", "tool",
    "search", "document", "policy", "travel", "booking", "flight", "hotel",
];

fn prose(rng: &mut StdRng, bytes: usize) -> String {
    let mut out = String::with_capacity(bytes + 16);
    while out.len() < bytes {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(WORDS[rng.gen_range(0..WORDS.len())]);
    }
    out
}

fn alnum(rng: &mut StdRng, n: usize) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..n)
        .map(|_| A[rng.gen_range(0..A.len())] as char)
        .collect()
}

/// One synthetic sensitive value, in the vendors' documented shapes.
fn sensitive(rng: &mut StdRng) -> String {
    match rng.gen_range(0..8) {
        0 => format!("user{}@example.com", rng.gen_range(100..99999)),
        1 => luhn_complete("4", 16, rng),
        2 => format!("AKIA{}", alnum(rng, 16).to_uppercase()),
        3 => format!("ghp_{}", alnum(rng, 36)),
        4 => format!("+1 415 555 {:04}", rng.gen_range(0..10000)),
        5 => format!(
            "{:03}-{:02}-{:04}",
            rng.gen_range(100..665),
            rng.gen_range(10..99),
            rng.gen_range(1000..9999)
        ),
        6 => format!("sk_live_{}", alnum(rng, 24)),
        _ => format!("password={}", alnum(rng, 14)),
    }
}

fn message_json(role: &str, text: &str) -> String {
    // serde_json escapes as the OTLP SDKs do.
    serde_json::json!([{"role": role, "parts": [{"type": "text", "content": text}]}]).to_string()
}

fn payload(rng: &mut StdRng, cfg: &GenConfig) -> String {
    let mean = cfg.payload_bytes.max(300);
    let size = rng.gen_range(mean / 2..=mean + mean / 2).max(300);
    let mut text = prose(rng, size);
    if rng.gen_bool(cfg.pii_fraction.clamp(0.0, 1.0)) {
        let at = text.len() / 2;
        let cut = text[..at].rfind(' ').unwrap_or(0);
        text.insert_str(cut, &format!(" {} ", sensitive(rng)));
    }
    text
}

/// A request of `spans_per_request` agent spans, deterministic for a seed.
pub fn agent_request(cfg: &GenConfig, seed: u64) -> ExportTraceServiceRequest {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut spans = Vec::with_capacity(cfg.spans_per_request);
    let mut trace_id = [0u8; 16];
    let mut root_id = [0u8; 8];
    let now = 1_790_000_000_000_000_000u64 + seed * 1_000_000;
    for i in 0..cfg.spans_per_request {
        // Traces of up to 8 spans: a root and its children.
        let pos = i % 8;
        if pos == 0 {
            rng.fill(&mut trace_id);
            rng.fill(&mut root_id);
        }
        let mut span_id = [0u8; 8];
        rng.fill(&mut span_id);
        let conversation = format!("conv-{}", hex::encode(&trace_id[..6]));
        let (name, op, attrs) = if pos == 0 {
            (
                "invoke_agent support-agent".to_string(),
                "invoke_agent",
                vec![
                    s("gen_ai.agent.name", "support-agent"),
                    s(
                        "gen_ai.input.messages",
                        message_json("user", &payload(&mut rng, cfg)),
                    ),
                ],
            )
        } else if pos % 2 == 1 {
            let p_in = payload(&mut rng, cfg);
            let p_out = payload(&mut rng, cfg);
            (
                "chat gpt-4o".to_string(),
                "chat",
                vec![
                    s("gen_ai.request.model", "gpt-4o"),
                    s(
                        "gen_ai.input.messages",
                        message_json("user", &p_in[..p_in.len() / 2]),
                    ),
                    s(
                        "gen_ai.output.messages",
                        message_json("assistant", &p_out[..p_out.len() / 2]),
                    ),
                    kv(
                        "gen_ai.usage.input_tokens",
                        any_value::Value::IntValue(rng.gen_range(10..4000)),
                    ),
                    kv(
                        "gen_ai.usage.output_tokens",
                        any_value::Value::IntValue(rng.gen_range(10..4000)),
                    ),
                ],
            )
        } else {
            let p = payload(&mut rng, cfg);
            let half = p.len() / 2;
            let cut = p[..half].rfind(' ').unwrap_or(0);
            (
                "execute_tool lookup_customer".to_string(),
                "execute_tool",
                vec![
                    s("gen_ai.tool.name", "lookup_customer"),
                    s(
                        "gen_ai.tool.call.arguments",
                        serde_json::json!({"query": &p[..cut]}).to_string(),
                    ),
                    s(
                        "gen_ai.tool.call.result",
                        serde_json::json!({"result": &p[cut..]}).to_string(),
                    ),
                ],
            )
        };
        let mut attributes = vec![
            s("gen_ai.operation.name", op),
            s("gen_ai.conversation.id", conversation),
        ];
        attributes.extend(attrs);
        spans.push(Span {
            trace_id: trace_id.to_vec(),
            span_id: span_id.to_vec(),
            parent_span_id: if pos == 0 {
                Vec::new()
            } else {
                root_id.to_vec()
            },
            name,
            kind: span::SpanKind::Internal as i32,
            start_time_unix_nano: now + i as u64 * 1000,
            end_time_unix_nano: now + i as u64 * 1000 + 500_000,
            attributes,
            status: Some(Status::default()),
            ..Default::default()
        });
    }
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![s("service.name", "load-agent")],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "spanward-load".into(),
                    ..Default::default()
                }),
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_sized() {
        let cfg = GenConfig {
            spans_per_request: 64,
            payload_bytes: 1500,
            pii_fraction: 0.3,
        };
        let a = agent_request(&cfg, 7);
        assert_eq!(a, agent_request(&cfg, 7));
        assert_ne!(a, agent_request(&cfg, 8));
        assert_eq!(crate::pipeline::count_spans(&a), 64);
        let bytes = prost::Message::encoded_len(&a) / 64;
        assert!((1000..3500).contains(&bytes), "{bytes} bytes per span");
    }
}
