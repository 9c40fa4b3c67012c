//! Added cost per span of the stages on ~1.5 KB GenAI spans, on the encoded request as the
//! service runs them: sampling (receiver), fingerprinting and fingerprinting + scrubbing
//! (worker, request written once when changed), plus audit record building.
//!
//! `cargo bench --bench stages` — throughput is reported in spans/s (100 spans a request).
//! Span payloads come from `$SPANWARD_CORPUS` or `../shared/corpus/agent-payloads.jsonl` when
//! present (real agent payload shapes), else from a synthetic generator.

use bytes::Bytes;
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use rand::{Rng, SeedableRng};
use spanward::audit::build_record;
use spanward::keys::{HmacKey, KeySource};
use spanward::otlp::{Edits, Msg};
use spanward::pipeline::fingerprint::{FingerprintConfig, Fingerprinter};
use spanward::pipeline::sample::{Sampler, SamplingConfig, SamplingRule};
use spanward::pipeline::stages::{Scratch, Stages};
use spanward::scrub::{RedactionConfig, Scrubber};
use spanward::vocab::metrics::Metrics;

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

fn bench(c: &mut Criterion) {
    let req = request();
    let encoded = Bytes::from(req.encode_to_vec());
    eprintln!(
        "request: {SPANS} spans, {} bytes encoded ({} bytes/span)",
        encoded.len(),
        encoded.len() / SPANS
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
    let key = || HmacKey::from_bytes(vec![9; 32], None, KeySource::File);
    let fp = || Fingerprinter::new(&FingerprintConfig::default(), key()).unwrap();
    let fingerprint = Stages {
        fingerprint: Some(fp()),
        scrub: None,
        audit: None,
    };
    // Cold: every iteration scans every string (the same request repeated would otherwise be
    // remembered clean and skipped). Warm: the long-string memo on, as a worker sees an agent's
    // repeated system prompt and tool schemas; here the whole request repeats, so this is the
    // memo's best case, not a figure for real traffic (benches/compare.sh measures that).
    let scrubber = |memo_long_strings| {
        let cfg = RedactionConfig {
            memo_long_strings,
            ..RedactionConfig::default()
        };
        Some(Scrubber::new(&cfg, key()).unwrap())
    };
    let full = Stages {
        fingerprint: Some(fp()),
        scrub: scrubber(0),
        audit: None,
    };
    let warm = Stages {
        fingerprint: Some(fp()),
        scrub: scrubber(4096),
        audit: None,
    };
    let metrics = Metrics::new().0;

    // Every stage reads the encoded request in place and writes it once when it changed it,
    // as the receivers (sampling) and workers (the rest) do; the request is encoded once here.
    let mut g = c.benchmark_group("stages");
    g.throughput(Throughput::Elements(SPANS as u64));
    let mut edits = Edits::new();
    let mut out = Vec::new();
    let mut sample = |s: &Sampler| {
        edits.clear();
        let st = s.apply_encoded(Msg::new(&encoded), &mut edits).unwrap();
        if !edits.is_empty() {
            edits.apply(Msg::new(&encoded), &mut out).unwrap();
        }
        black_box((st, out.len()))
    };
    g.bench_function("sample ratio=0.5", |b| b.iter(|| sample(&sampler)));
    g.bench_function(
        "sample ratio=0.999 (keeps ~all, rewrites tracestate)",
        |b| b.iter(|| sample(&keep_all)),
    );
    let mut scratch = Scratch::default();
    let mut run = |st: &Stages| {
        let p = st.process_encoded(encoded.clone(), SPANS, &metrics, &mut scratch);
        black_box(p.spans);
        scratch.recycle(p);
    };
    g.bench_function("fingerprint hmac", |b| b.iter(|| run(&fingerprint)));
    g.bench_function("fingerprint + scrub (worker stages)", |b| {
        b.iter(|| run(&full))
    });
    g.bench_function(
        "fingerprint + scrub, long-string memo warm (best case: the same request repeated)",
        |b| b.iter(|| run(&warm)),
    );
    // The keyed hash alone over one span's worth of bytes, to separate hashing from the rest.
    let blob = vec![b'x'; TARGET_SPAN_BYTES];
    let hkey = key();
    g.bench_function("hmac-sha256 of 1.5 KB alone", |b| {
        b.iter(|| {
            for _ in 0..SPANS {
                black_box(hkey.digest(&[black_box(&blob)]));
            }
        })
    });
    let mut done = req.clone();
    fingerprint.process(&mut done, &metrics);
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
