//! Engine throughput over the corpus text, all engines in one run:
//! (a) the production engine (keyword prefilter → windowed regex → validators), full packs;
//! (b) the naive engine: every rule's regex over every string, one after another, same rules;
//! (c) with `--features peer-vrl`: Vector's `redact` (VRL stdlib) with the same regexes.
//! Plus the full `scrub_str` (escape views, overlap resolution, replacement) for reference.
//!
//! cargo bench --bench scrub            (add --features peer-vrl for the VRL peer)

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use spanward::keys::{HmacKey, KeySource};
use spanward::scrub::engine::{resolve, Engine, NaiveEngine};
use spanward::scrub::{RedactionConfig, Scrubber};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

fn corpus_texts() -> Vec<String> {
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
    let path = path.expect("corpus not found: set SPANWARD_CORPUS");
    std::fs::read_to_string(path)
        .expect("read corpus")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("corpus line is JSON");
            v["text"].as_str().unwrap_or_default().to_string()
        })
        .collect()
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
        &RedactionConfig::default(),
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
