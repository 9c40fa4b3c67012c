//! Added cost per span of the early stages: sampling (receiver) and fingerprinting (worker),
//! on ~1.5 KB GenAI spans, plus audit record building.
//!
//! `cargo bench --bench stages` — throughput is reported in spans/s (100 spans a request).
//! Span payloads come from `$SPANWARD_CORPUS` or `../shared/corpus/agent-payloads.jsonl` when
//! present (real agent payload shapes), else from a synthetic generator.

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use rand::{Rng, SeedableRng};
use spanward::audit::build_record;
use spanward::keys::{HmacKey, KeySource};
use spanward::pipeline::fingerprint::{FingerprintConfig, Fingerprinter};
use spanward::pipeline::sample::{service_name, Sampler, SamplingConfig, SamplingRule};

const SPANS: usize = 100;
const TARGET_SPAN_BYTES: usize = 1536;

fn kv(k: &str, v: String) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(Value::StringValue(v)),
        }),
        ..Default::default()
    }
}

fn payloads() -> Vec<(String, String)> {
    let path = std::env::var("SPANWARD_CORPUS").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/corpus/agent-payloads.jsonl"
        )
        .into()
    });
    if let Ok(text) = std::fs::read_to_string(&path) {
        let v: Vec<(String, String)> = text
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|j| Some((j["key"].as_str()?.into(), j["text"].as_str()?.into())))
            .collect();
        if !v.is_empty() {
            eprintln!("bench payloads: {} from {path}", v.len());
            return v;
        }
    }
    eprintln!("bench payloads: synthetic");
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    (0..500)
        .map(|i| {
            let words: Vec<String> = (0..60)
                .map(|_| format!("w{}", rng.gen_range(0..5000)))
                .collect();
            let key = ["gen_ai.input.messages", "gen_ai.output.messages"][i % 2];
            (
                key.to_string(),
                format!(
                    r#"[{{"role":"user","parts":[{{"type":"text","content":"{}"}}]}}]"#,
                    words.join(" ")
                ),
            )
        })
        .collect()
}

/// A request of `SPANS` GenAI spans of about 1.5 KB each (encoded), random trace ids.
fn request() -> ExportTraceServiceRequest {
    let payloads = payloads();
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    let mut spans = Vec::with_capacity(SPANS);
    for i in 0..SPANS {
        let mut trace_id = vec![0u8; 16];
        rng.fill(&mut trace_id[..]);
        let ops = ["chat", "execute_tool", "invoke_agent"];
        let mut span = Span {
            trace_id,
            span_id: (i as u64 + 1).to_be_bytes().to_vec(),
            name: format!("{} step-{i}", ops[i % 3]),
            start_time_unix_nano: 1_767_225_600_000_000_000 + i as u64,
            end_time_unix_nano: 1_767_225_600_100_000_000 + i as u64,
            attributes: vec![
                kv("gen_ai.operation.name", ops[i % 3].into()),
                kv("gen_ai.request.model", "gpt-4o-mini".into()),
                kv("gen_ai.conversation.id", format!("conv-{}", i / 10)),
                kv("gen_ai.tool.name", "lookup_order".into()),
            ],
            ..Default::default()
        };
        // Fill with corpus payloads (under their own keys: inputs and outputs) up to ~1.5 KB.
        let mut j = rng.gen_range(0..payloads.len());
        while span.encoded_len() < TARGET_SPAN_BYTES {
            let (k, t) = &payloads[j % payloads.len()];
            let room = TARGET_SPAN_BYTES - span.encoded_len();
            let text: String = t.chars().take(room.max(64)).collect();
            span.attributes.push(kv(k, text));
            j += 1;
        }
        spans.push(span);
    }
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name", "bench-agent".into())],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope::default()),
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn fingerprint_all(f: &Fingerprinter, req: &mut ExportTraceServiceRequest) {
    for rs in &mut req.resource_spans {
        let svc = service_name(rs.resource.as_ref()).to_string();
        for span in rs.scope_spans.iter_mut().flat_map(|s| s.spans.iter_mut()) {
            f.apply_span(&svc, span);
        }
    }
}

fn bench(c: &mut Criterion) {
    let req = request();
    let bytes = req.encoded_len();
    eprintln!(
        "request: {SPANS} spans, {bytes} bytes encoded ({} bytes/span)",
        bytes / SPANS
    );
    let sampler = Sampler::new(&SamplingConfig {
        ratio: 0.5,
        rules: vec![SamplingRule {
            service: Some("billing-*".into()),
            span_name: Some("health*".into()),
            ratio: 0.0,
        }],
        ..Default::default()
    })
    .unwrap();
    let keep_all = Sampler::new(&SamplingConfig {
        ratio: 0.999,
        ..Default::default()
    })
    .unwrap();
    let key = HmacKey::from_bytes(vec![9; 32], None, KeySource::File);
    let fp = Fingerprinter::new(&FingerprintConfig::default(), key).unwrap();

    let mut g = c.benchmark_group("stages");
    g.throughput(Throughput::Elements(SPANS as u64));
    // The clone each iteration needs is measured alone, to subtract it.
    g.bench_function("clone_only(baseline)", |b| {
        b.iter_batched(|| (), |_| black_box(req.clone()), BatchSize::SmallInput)
    });
    g.bench_function("sample ratio=0.5", |b| {
        b.iter_batched(
            || req.clone(),
            |mut r| {
                black_box(sampler.apply(&mut r));
                r
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function(
        "sample ratio=0.999 (keeps ~all, rewrites tracestate)",
        |b| {
            b.iter_batched(
                || req.clone(),
                |mut r| {
                    black_box(keep_all.apply(&mut r));
                    r
                },
                BatchSize::SmallInput,
            )
        },
    );
    g.bench_function("fingerprint hmac", |b| {
        b.iter_batched(
            || req.clone(),
            |mut r| {
                fingerprint_all(&fp, &mut r);
                r
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("sample(0.999)+fingerprint", |b| {
        b.iter_batched(
            || req.clone(),
            |mut r| {
                keep_all.apply(&mut r);
                fingerprint_all(&fp, &mut r);
                r
            },
            BatchSize::SmallInput,
        )
    });
    // The keyed hash alone over one span's worth of bytes, to separate hashing from the rest.
    let blob = vec![b'x'; TARGET_SPAN_BYTES];
    let hkey = HmacKey::from_bytes(vec![9; 32], None, KeySource::File);
    g.bench_function("hmac-sha256 of 1.5 KB alone", |b| {
        b.iter(|| {
            for _ in 0..SPANS {
                black_box(hkey.digest(&[black_box(&blob)]));
            }
        })
    });
    let mut done = req.clone();
    fingerprint_all(&fp, &mut done);
    let res = done.resource_spans[0].resource.clone().unwrap_or_default();
    g.bench_function("audit record build+serialize", |b| {
        b.iter(|| {
            for s in &done.resource_spans[0].scope_spans[0].spans {
                if let Some(r) = build_record(&res, s) {
                    black_box(serde_json::to_string(&r).ok());
                }
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
