//! Agents and the work they do, as one model the three signals are written from: each agent has
//! its own system prompt and tool schemas (repeated in every LLM call it makes, as real agents
//! do), a model and provider, and the instrumentation that records it (the OpenTelemetry GenAI
//! conventions, or OpenInference's keys). A [`Turn`] is one invocation: the user's question, LLM
//! calls and tool calls in between, the final answer.

use super::text::{self, Domain};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

/// Which attribute keys an agent's instrumentation writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// OpenTelemetry GenAI semantic conventions (`gen_ai.input.messages`, …).
    GenAi,
    /// Arize OpenInference (`input.value`, `llm.input_messages.0.message.content`, …).
    OpenInference,
}

/// One agent of the load: everything that stays the same across its calls.
#[derive(Debug, Clone)]
pub struct Agent {
    pub name: String,
    pub id: String,
    pub domain: Domain,
    pub model: &'static str,
    pub provider: &'static str,
    pub server: &'static str,
    pub flavor: Flavor,
    /// The system prompt, sent with every LLM call.
    pub system_prompt: String,
    /// `gen_ai.tool.definitions`: the tools' JSON schemas, sent with every LLM call.
    pub tool_definitions: String,
    pub tools: &'static [(&'static str, &'static str)],
    /// Whether its instrumentation records `gen_ai.tool.definitions` (opt-in).
    pub records_tool_definitions: bool,
    pub service: String,
    pub instance: String,
}

const MODELS: &[(&str, &str, &str)] = &[
    ("gpt-4o-2024-08-06", "openai", "api.openai.com"),
    ("gpt-4.1-mini", "openai", "api.openai.com"),
    ("claude-sonnet-4-20250514", "anthropic", "api.anthropic.com"),
    (
        "gemini-2.5-pro",
        "gcp.gemini",
        "generativelanguage.googleapis.com",
    ),
    (
        "anthropic.claude-3-5-haiku-20241022-v1:0",
        "aws.bedrock",
        "bedrock-runtime.us-east-1.amazonaws.com",
    ),
    (
        "meta-llama/Llama-3.1-70B-Instruct",
        "openai",
        "vllm.internal:8000",
    ),
];

/// `count` agents, deterministic for `seed`; message sizes scale with `payload_bytes`.
pub fn agents(seed: u64, count: usize, payload_bytes: usize) -> Vec<Agent> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0xA6E7_5EED);
    (0..count.max(1))
        .map(|i| {
            let domain = Domain::ALL[i % Domain::ALL.len()];
            let (model, provider, server) = MODELS.choose(&mut rng).copied().unwrap_or(MODELS[0]);
            let base = format!("{:?}", domain).to_lowercase();
            let name = format!(
                "{base}-agent{}",
                if i >= Domain::ALL.len() {
                    format!("-{i}")
                } else {
                    String::new()
                }
            );
            let tools = domain.tools();
            Agent {
                id: format!("asst_{:016x}", rng.gen::<u64>()),
                system_prompt: system_prompt(&mut rng, domain, payload_bytes / 4),
                tool_definitions: tool_definitions(tools),
                flavor: if i % 3 == 2 {
                    Flavor::OpenInference
                } else {
                    Flavor::GenAi
                },
                records_tool_definitions: i % 2 == 0,
                service: format!("{name}-svc"),
                instance: format!("{:08x}-{:04x}", rng.gen::<u32>(), rng.gen::<u16>()),
                name,
                domain,
                model,
                provider,
                server,
                tools,
            }
        })
        .collect()
}

fn system_prompt(rng: &mut StdRng, domain: Domain, bytes: usize) -> String {
    let mut s = format!(
        "You are {}. Answer in the user's language, be concise and accurate, and never invent \
         facts you cannot check with your tools.\n\nRules:\n",
        domain.role()
    );
    while s.len() < bytes.max(200) {
        s.push_str("- ");
        s.push_str(&text::prose(rng, domain, 60, false));
        s.push('\n');
    }
    s.push_str("\nWhen a tool fails, say so and suggest a next step.");
    s
}

/// The parameters a tool takes, from its name.
fn parameters(tool: &str) -> Value {
    let (props, required): (Value, Vec<&str>) = match tool {
        "lookup_order" | "issue_refund" | "update_address" => (
            json!({"order_id": {"type": "string", "description": "The order number, e.g. ORD-12345."},
                   "reason": {"type": "string"}}),
            vec!["order_id"],
        ),
        "read_file" | "apply_patch" | "grep" => (
            json!({"path": {"type": "string", "description": "Relative to the repository root."},
                   "pattern": {"type": "string"}}),
            vec!["path"],
        ),
        "run_sql" | "describe_table" | "get_metric" => (
            json!({"sql": {"type": "string", "description": "One SELECT statement."}}),
            vec!["sql"],
        ),
        "search_flights" | "book_flight" | "search_hotels" => (
            json!({"origin": {"type": "string"}, "destination": {"type": "string"},
                   "date": {"type": "string", "format": "date"}}),
            vec!["origin", "destination", "date"],
        ),
        "query_logs" | "get_metrics" | "list_deploys" | "rollback" => (
            json!({"service": {"type": "string"}, "since": {"type": "string"}}),
            vec!["service"],
        ),
        _ => (
            json!({"query": {"type": "string"}, "limit": {"type": "integer"}}),
            vec!["query"],
        ),
    };
    json!({"type": "object", "properties": props, "required": required})
}

fn tool_definitions(tools: &[(&str, &str)]) -> String {
    Value::Array(
        tools
            .iter()
            .map(|(name, desc)| {
                json!({"type": "function", "name": name, "description": desc,
                       "parameters": parameters(name)})
            })
            .collect(),
    )
    .to_string()
}

/// One LLM call of a turn.
#[derive(Debug, Clone)]
pub struct LlmCall {
    pub span_id: [u8; 8],
    /// `gen_ai.input.messages` (without the system prompt).
    pub input: Value,
    /// `gen_ai.output.messages`.
    pub output: Value,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub finish_reason: &'static str,
    pub response_id: String,
    pub temperature: f64,
    pub start: u64,
    pub end: u64,
}

/// One tool call of a turn.
#[derive(Debug, Clone)]
pub struct ToolCall {
    pub span_id: [u8; 8],
    pub name: &'static str,
    pub description: &'static str,
    pub call_id: String,
    pub arguments: String,
    pub result: String,
    pub failed: bool,
    pub start: u64,
    pub end: u64,
}

#[derive(Debug, Clone)]
pub enum Step {
    Llm(LlmCall),
    Tool(ToolCall),
}

/// One agent invocation: a trace.
#[derive(Debug, Clone)]
pub struct Turn {
    pub agent: usize,
    pub trace_id: [u8; 16],
    pub root_id: [u8; 8],
    pub conversation: String,
    pub question: String,
    pub answer: String,
    pub steps: Vec<Step>,
    pub start: u64,
    pub end: u64,
}

/// How many text pieces were generated and how many carry PII or a secret.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PiiStats {
    pub pieces: u64,
    pub sensitive: u64,
}

/// Generates turns from one rng.
pub struct TurnGen<'a> {
    pub rng: StdRng,
    pub agents: &'a [Agent],
    pub payload_bytes: usize,
    pub pii_fraction: f64,
    pub stats: PiiStats,
    pub clock: u64,
}

impl<'a> TurnGen<'a> {
    pub fn new(agents: &'a [Agent], payload_bytes: usize, pii_fraction: f64, seed: u64) -> Self {
        TurnGen {
            rng: StdRng::seed_from_u64(seed),
            agents,
            payload_bytes: payload_bytes.max(100),
            pii_fraction: pii_fraction.clamp(0.0, 1.0),
            stats: PiiStats::default(),
            clock: 1_790_000_000_000_000_000 + (seed % 1_000_000) * 1_000_000_000,
        }
    }

    /// A text piece: each one carries a sensitive value with probability `pii_fraction`.
    fn piece(&mut self, text: String) -> String {
        self.stats.pieces += 1;
        if self.rng.gen_bool(self.pii_fraction) {
            self.stats.sensitive += 1;
            super::secrets::with_sensitive(&mut self.rng, text)
        } else {
            text
        }
    }

    /// About `f` × the mean payload, ±40 %.
    fn size(&mut self, f: f64) -> usize {
        let mean = self.payload_bytes as f64 * f;
        (mean * self.rng.gen_range(0.6..1.4)).max(24.0) as usize
    }

    fn id8(&mut self) -> [u8; 8] {
        let mut b = [0u8; 8];
        self.rng.fill(&mut b);
        b
    }

    fn tool_result(&mut self, domain: Domain, tool: &str) -> String {
        let n = self.size(0.35);
        let rng = &mut self.rng;
        let kind = match tool {
            "read_file" | "apply_patch" | "grep" => 0,
            "run_tests" | "run_command" | "query_logs" => 1,
            "fetch_pdf" | "summarize" | "search_kb" => 3,
            _ if rng.gen_bool(0.15) => 0,
            _ if rng.gen_bool(0.15) => 1,
            _ => 2,
        };
        match kind {
            0 => text::code(rng, domain, n),
            1 => text::log_lines(rng, domain, n),
            2 => text::json_records(rng, domain, n),
            _ => text::prose(rng, domain, n, false),
        }
    }

    fn arguments(&mut self, domain: Domain, tool: &str) -> String {
        let n = self.size(0.04);
        let q = text::prose(&mut self.rng, domain, n, true);
        let q = self.piece(q);
        let reference = text::reference(&mut self.rng);
        match tool {
            "lookup_order" | "issue_refund" | "update_address" => {
                json!({"order_id": reference, "reason": q})
            }
            "run_sql" => json!({"sql": format!(
                "SELECT day, count(*) AS n, sum(amount) FROM events WHERE kind = '{}' GROUP BY day ORDER BY day -- {q}",
                domain.nouns().choose(&mut self.rng).copied().unwrap_or("x"))}),
            "read_file" | "grep" | "apply_patch" => {
                json!({"path": format!("src/{}.py", reference.to_lowercase().replace('-', "_")), "pattern": q})
            }
            "search_flights" | "book_flight" | "search_hotels" => {
                let airports = ["JFK", "LHR", "CDG", "FRA", "NRT", "SFO", "SIN", "DXB", "AMS", "BCN"];
                json!({"origin": airports.choose(&mut self.rng), "destination": airports.choose(&mut self.rng),
                       "date": &text::timestamp(&mut self.rng)[..10], "travellers": self.rng.gen_range(1..4), "notes": q})
            }
            _ => json!({"query": q, "limit": self.rng.gen_range(5..50)}),
        }
        .to_string()
    }

    /// The next turn, of a random agent.
    pub fn turn(&mut self) -> Turn {
        let agent_idx = self.rng.gen_range(0..self.agents.len());
        let agent = &self.agents[agent_idx];
        let domain = agent.domain;
        let mut trace_id = [0u8; 16];
        self.rng.fill(&mut trace_id);
        let root_id = self.id8();
        let conversation = format!("conv_{:012x}", self.rng.gen::<u64>() >> 16);
        let qn = self.size(0.08);
        let question = text::prose(&mut self.rng, domain, qn, true);
        let question = self.piece(question);
        let start = self.clock;
        let mut t = start + 2_000_000;
        let mut history =
            vec![json!({"role": "user", "parts": [{"type": "text", "content": question}]})];
        let mut steps = Vec::new();
        let rounds = self.rng.gen_range(1..=3);
        for round in 0..rounds {
            let last = round + 1 == rounds;
            let span_id = self.id8();
            let llm_start = t;
            t += self.rng.gen_range(300_000_000..4_000_000_000u64);
            let (output, finish, calls) = if last {
                let n = self.size(0.2);
                let a = text::prose(&mut self.rng, domain, n, false);
                let a = self.piece(a);
                (
                    json!([{"role": "assistant", "parts": [{"type": "text", "content": a}], "finish_reason": "stop"}]),
                    "stop",
                    Vec::new(),
                )
            } else {
                let k = if self.rng.gen_bool(0.25) { 2 } else { 1 };
                let mut parts = Vec::new();
                if self.rng.gen_bool(0.4) {
                    let n = self.size(0.05);
                    let lead = text::prose(&mut self.rng, domain, n, false);
                    parts.push(json!({"type": "text", "content": lead}));
                }
                let mut calls = Vec::new();
                for _ in 0..k {
                    let (name, desc) =
                        *agent.tools.choose(&mut self.rng).unwrap_or(&("search", ""));
                    let call_id =
                        format!("call_{}", text::reference(&mut self.rng).replace('-', ""));
                    let args = self.arguments(domain, name);
                    parts.push(json!({"type": "tool_call", "id": call_id, "name": name,
                                      "arguments": serde_json::from_str::<Value>(&args).unwrap_or(Value::Null)}));
                    calls.push((name, desc, call_id, args));
                }
                (
                    json!([{"role": "assistant", "parts": parts, "finish_reason": "tool_call"}]),
                    "tool_calls",
                    calls,
                )
            };
            let input = Value::Array(history.clone());
            let input_tokens = (input.to_string().len()
                + agent.system_prompt.len()
                + agent.tool_definitions.len()) as i64
                / 4;
            let output_tokens = output.to_string().len() as i64 / 4;
            steps.push(Step::Llm(LlmCall {
                span_id,
                input,
                output: output.clone(),
                input_tokens,
                output_tokens,
                finish_reason: finish,
                response_id: format!(
                    "chatcmpl-{}",
                    text::reference(&mut self.rng).replace('-', "")
                ),
                temperature: [0.0, 0.2, 0.7, 1.0]
                    .choose(&mut self.rng)
                    .copied()
                    .unwrap_or(0.0),
                start: llm_start,
                end: t,
            }));
            if let Some(m) = output.get(0) {
                history.push(m.clone());
            }
            for (name, desc, call_id, arguments) in calls {
                let span_id = self.id8();
                let s = t;
                t += self.rng.gen_range(5_000_000..900_000_000u64);
                let result = self.tool_result(domain, name);
                let result = self.piece(result);
                let failed = self.rng.gen_bool(0.03);
                history.push(json!({"role": "tool", "parts": [{"type": "tool_call_response", "id": call_id, "response": result}]}));
                steps.push(Step::Tool(ToolCall {
                    span_id,
                    name,
                    description: desc,
                    call_id,
                    arguments,
                    result,
                    failed,
                    start: s,
                    end: t,
                }));
            }
        }
        let answer = steps
            .iter()
            .rev()
            .find_map(|s| match s {
                Step::Llm(l) => l
                    .output
                    .pointer("/0/parts/0/content")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                Step::Tool(_) => None,
            })
            .unwrap_or_default();
        self.clock = t + 1_000_000;
        Turn {
            agent: agent_idx,
            trace_id,
            root_id,
            conversation,
            question,
            answer,
            steps,
            start,
            end: t + 500_000,
        }
    }
}
