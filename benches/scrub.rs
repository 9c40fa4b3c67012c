//! Engine throughput over the corpus text, all engines in one run:
//! (a) the production engine (keyword prefilter → windowed regex → validators), full packs;
//! (b) the naive engine: every rule's regex over every string, one after another, same rules;
//! (c) with `--features peer-vrl`: Vector's `redact` (VRL stdlib) with the same regexes.
//! Plus the full `scrub_str` (escape views, overlap resolution, replacement) for reference, and
//! `scrub_span/genai_1_5k`: whole encoded OTLP GenAI spans (~1.5 KB of strings built from corpus
//! payloads: prose and JSON messages, ~30 % of spans carrying one secret) through
//! `Scrubber::scrub_span_encoded` and, when it changed something, the span written again;
//! criterion's time per iteration is the time per span.
//!
//! cargo bench --bench scrub            (add --features peer-vrl for the VRL peer)

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use spanward::keys::{HmacKey, KeySource};
use spanward::otlp::{Edits, Msg};
use spanward::scrub::engine::{resolve, Engine, NaiveEngine};
use spanward::scrub::ScrubReport;
use spanward::scrub::{RedactionConfig, Scrubber};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[path = "../tests/corpus/mod.rs"]
mod corpus;

/// Corpus records: (payload text, whether it carries a labelled secret). `SPANWARD_CORPUS`, else
/// the shared corpus beside the checkout, else the project's own generated one.
fn corpus_records() -> Vec<(String, bool)> {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let path = std::env::var("SPANWARD_CORPUS")
        .map(PathBuf::from)
        .ok()
        .or_else(|| {
            [
                "../shared/corpus/agent-payloads.jsonl",
                "../../shared/corpus/agent-payloads.jsonl",
            ]
            .iter()
            .map(|p| here.join(p))
            .find(|p| p.exists())
        });
    let Some(path) = path else {
        // A bare clone: the project's own generated corpus (tests/corpus).
        eprintln!(
            "bench corpus: generated (tests/corpus, seed {:#x})",
            corpus::SEED
        );
        return corpus::generate(corpus::SIZE, corpus::SEED)
            .into_iter()
            .map(|r| (r.text, !r.secrets.is_empty()))
            .collect();
    };
    eprintln!("bench corpus: {}", path.display());
    std::fs::read_to_string(path)
        .expect("read corpus")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("corpus line is JSON");
            let secret = v["secrets"].as_array().is_some_and(|a| !a.is_empty());
            (v["text"].as_str().unwrap_or_default().to_string(), secret)
        })
        .collect()
}

fn corpus_texts() -> Vec<String> {
    corpus_records().into_iter().map(|(t, _)| t).collect()
}

fn sv(s: &str) -> AnyValue {
    AnyValue {
        value: Some(Value::StringValue(s.to_string())),
    }
}

fn kv(k: &str, v: AnyValue) -> KeyValue {
    KeyValue {
        key: k.to_string(),
        value: Some(v),
        ..Default::default()
    }
}

/// GenAI spans of ~1.5 KB of strings: model/operation attributes, ids, token counts, input and
/// output messages as JSON (benign corpus payloads as message content), a tool call's arguments
/// and result; every third-ish span (30 %) carries one corpus payload with a secret.
fn genai_spans(n: usize) -> Vec<Span> {
    let recs = corpus_records();
    let benign: Vec<&str> = recs.iter().filter(|r| !r.1).map(|r| r.0.as_str()).collect();
    let secret: Vec<&str> = recs.iter().filter(|r| r.1).map(|r| r.0.as_str()).collect();
    let mut spans = Vec::with_capacity(n);
    for i in 0..n {
        let mut k = i * 7;
        let mut pick = || {
            k += 1;
            benign[(k * 2654435761) % benign.len()]
        };
        let msg = |role: &str, content: &str| serde_json::json!({"role": role, "parts": [{"type": "text", "content": content}]});
        let input = serde_json::json!([
            msg(
                "system",
                "You are a helpful support agent. Answer briefly and cite record ids."
            ),
            msg("user", pick()),
            msg("assistant", pick()),
            msg("user", pick()),
            msg("assistant", pick()),
            msg("user", pick()),
        ])
        .to_string();
        let output = serde_json::json!([msg("assistant", pick())]).to_string();
        let with_secret = (i * 10) % 33 < 10; // 30 % of spans
        let tool_result = if with_secret {
            secret[(i * 40503) % secret.len()]
        } else {
            pick()
        };
        let mut sp = Span {
            trace_id: vec![7; 16],
            span_id: (i as u64 + 1).to_be_bytes().to_vec(),
            name: "chat gpt-4o-mini".into(),
            ..Default::default()
        };
        sp.attributes = vec![
            kv("gen_ai.operation.name", sv("chat")),
            kv("gen_ai.system", sv("openai")),
            kv("gen_ai.request.model", sv("gpt-4o-mini-2024-07-18")),
            // Unique per span, as response ids are (the scrubber's memo of short clean strings
            // must not make the bench look better than real traffic).
            kv(
                "gen_ai.response.id",
                sv(&format!(
                    "chatcmpl-9f2c41d07a3b4e5f{:016x}",
                    i as u64 * 2654435761
                )),
            ),
            kv(
                "gen_ai.usage.input_tokens",
                AnyValue {
                    value: Some(Value::IntValue(812 + i as i64)),
                },
            ),
            kv("gen_ai.input.messages", sv(&input)),
            kv("gen_ai.output.messages", sv(&output)),
            kv(
                "gen_ai.tool.call.arguments",
                sv(r#"{"query":"lookup customer","limit":5}"#),
            ),
            kv("gen_ai.tool.call.result", sv(tool_result)),
        ];
        spans.push(sp);
    }
    spans
}

fn run_engine(e: &dyn Engine, texts: &[String], scrubber: &Scrubber) -> usize {
    let mut out = Vec::new();
    let mut n = 0;
    for t in texts {
        out.clear();
        e.find(t, &mut out);
        resolve(scrubber.rules(), &mut out);
        n += out.len();
    }
    n
}

fn bench(c: &mut Criterion) {
    let texts = corpus_texts();
    let bytes: u64 = texts.iter().map(|t| t.len() as u64).sum();
    let scrubber = Scrubber::new(
        &RedactionConfig {
            // Every iteration scans every string: the same input repeated would otherwise be
            // remembered clean and skipped, a figure real traffic does not get.
            memo_long_strings: 0,
            ..RedactionConfig::default()
        },
        HmacKey::from_bytes(vec![1; 32], None, KeySource::File),
    )
    .expect("default packs");
    let naive = NaiveEngine::new(Arc::clone(scrubber.rules()));

    let mut g = c.benchmark_group("scrub_corpus");
    g.throughput(Throughput::Bytes(bytes));
    g.measurement_time(Duration::from_secs(8));
    g.bench_function("a_spanward_engine", |b| {
        b.iter(|| black_box(run_engine(scrubber.engine(), &texts, &scrubber)))
    });
    g.bench_function("scrub_str_full", |b| {
        b.iter(|| {
            let mut n = 0;
            for t in &texts {
                n += scrubber.scrub_str(t).len();
            }
            black_box(n)
        })
    });
    g.sample_size(10);
    g.bench_function("b_naive_regex_per_rule", |b| {
        b.iter(|| black_box(run_engine(&naive, &texts, &scrubber)))
    });
    #[cfg(feature = "peer-vrl")]
    peer_vrl::bench(&mut g, &texts, &scrubber);
    g.finish();

    let spans = genai_spans(512);
    let avg: usize = spans.iter().map(span_string_bytes).sum::<usize>() / spans.len();
    let with = spans
        .iter()
        .filter(|s| {
            let mut s = (*s).clone();
            let mut rep = ScrubReport::default();
            scrubber.scrub_span(&mut s, &mut rep).unwrap();
            rep.total() > 0
        })
        .count();
    eprintln!(
        "scrub_span: {} spans, {avg} string bytes per span on average, {with} with redactions",
        spans.len()
    );
    // Each span encoded once: the service scrubs spans where they sit in the request and writes
    // the span again only when something changed.
    let encoded: Vec<Vec<u8>> = spans.iter().map(|s| s.encode_to_vec()).collect();
    let mut edits = Edits::new();
    let mut out = Vec::new();
    let mut scrub_encoded = |b: &[u8], rep: &mut ScrubReport| {
        edits.clear();
        let m = Msg::new(b);
        if scrubber.scrub_span_encoded(m, &[], &mut edits, rep).is_ok() && !edits.is_empty() {
            let _ = edits.apply(m, &mut out);
        }
    };
    let mut g = c.benchmark_group("scrub_span");
    g.throughput(Throughput::Elements(1));
    g.measurement_time(Duration::from_secs(8));
    let mut i = 0usize;
    let mut rep = ScrubReport::default();
    g.bench_function("genai_1_5k", |b| {
        b.iter(|| {
            i = (i + 1) % encoded.len();
            rep.clear();
            scrub_encoded(&encoded[i], &mut rep);
        })
    });
    g.finish();

    // Criterion measures wall time, which other processes on a shared machine inflate; this
    // thread's CPU time (Linux schedstat) is printed alongside.
    if let Some(t0) = thread_cpu_ns() {
        let rounds = 20;
        let mut n = 0;
        for _ in 0..rounds {
            n += run_engine(scrubber.engine(), &texts, &scrubber);
        }
        let t1 = thread_cpu_ns().unwrap_or(t0);
        let mut rep = ScrubReport::default();
        for _ in 0..rounds {
            for b in &encoded {
                scrub_encoded(b, &mut rep);
            }
        }
        let t2 = thread_cpu_ns().unwrap_or(t1);
        let engine_s = (t1 - t0) as f64 / 1e9 / f64::from(rounds);
        let span_us = (t2 - t1) as f64 / 1e3 / f64::from(rounds) / spans.len() as f64;
        eprintln!(
            "CPU time: engine {:.1} MiB/s on the corpus ({n} matches), scrub_span {span_us:.2} us per span",
            bytes as f64 / engine_s / (1024.0 * 1024.0)
        );
    }
}

/// CPU time of this thread in ns (`/proc/thread-self/schedstat`), when available.
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn span_string_bytes(s: &Span) -> usize {
    fn val(v: &Option<AnyValue>) -> usize {
        match v.as_ref().and_then(|v| v.value.as_ref()) {
            Some(Value::StringValue(s)) => s.len(),
            _ => 0,
        }
    }
    s.name.len()
        + s.attributes
            .iter()
            .map(|kv| kv.key.len() + val(&kv.value))
            .sum::<usize>()
}

#[cfg(feature = "peer-vrl")]
mod peer_vrl {
    //! Vector's `redact` through VRL's public compile API, with the packs' regexes as filters.
    use criterion::{black_box, measurement::WallTime, BenchmarkGroup};
    use spanward::scrub::Scrubber;
    use std::collections::BTreeMap;
    use vrl::compiler::{state::RuntimeState, Context, TargetValue, TimeZone};
    use vrl::value::{Secrets, Value};

    pub fn bench(g: &mut BenchmarkGroup<'_, WallTime>, texts: &[String], scrubber: &Scrubber) {
        // VRL raw regex literals are r'...'; rules whose regex contains a quote are skipped.
        let filters: Vec<String> = scrubber
            .rules()
            .rules
            .iter()
            .filter(|r| !r.source.contains('\''))
            .map(|r| format!("r'{}'", r.source))
            .collect();
        let src = format!(". = redact(string!(.), filters: [{}])", filters.join(", "));
        let fns = vrl::stdlib::all();
        let program = vrl::compiler::compile(&src, &fns)
            .expect("VRL program compiles")
            .program;
        let tz = TimeZone::default();
        g.bench_function("c_vrl_redact", |b| {
            b.iter(|| {
                let mut n = 0;
                for t in texts {
                    let mut target = TargetValue {
                        value: Value::from(t.as_str()),
                        metadata: Value::Object(BTreeMap::new()),
                        secrets: Secrets::default(),
                    };
                    let mut state = RuntimeState::default();
                    let mut ctx = Context::new(&mut target, &mut state, &tz);
                    if let Ok(v) = program.resolve(&mut ctx) {
                        n += v.as_bytes().map_or(0, |b| b.len());
                    }
                }
                black_box(n)
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
