//! Redaction quality on the labelled development corpus, measured the way
//! `shared/tools/corpus_check.py` judges it: each payload becomes one span (span attribute 55 %,
//! event attribute 25 %, inside an array 10 %, inside a key-value list 10 %), the span is
//! scrubbed, and a secret leaks if its exact text, its text without spaces/dashes/dots/parens,
//! or any 12-character run of its secret core survives in any string of the span.

use opentelemetry_proto::tonic::common::v1::{
    any_value::Value, AnyValue, ArrayValue, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{span::Event, Span};
use spanward::keys::{HmacKey, KeySource};
use spanward::scrub::{RedactionConfig, ScrubReport, Scrubber};
use std::collections::BTreeMap;
use std::path::PathBuf;

fn corpus_path() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("SPANWARD_CORPUS") {
        return Some(PathBuf::from(p));
    }
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    [
        "../shared/corpus/agent-payloads.jsonl",
        "../../shared/corpus/agent-payloads.jsonl",
    ]
    .iter()
    .map(|p| here.join(p))
    .find(|p| p.exists())
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

/// xorshift: deterministic placement without a dev-dependency.
struct Rng(u64);
impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn build_span(i: usize, key: &str, text: &str, rng: &mut Rng) -> Span {
    let mut sp = Span {
        trace_id: vec![1; 16],
        span_id: (i as u64 + 1).to_be_bytes().to_vec(),
        name: if !i.is_multiple_of(3) {
            "execute_tool lookup".into()
        } else {
            "chat model-x".into()
        },
        ..Default::default()
    };
    sp.attributes
        .push(kv("gen_ai.operation.name", sv("execute_tool")));
    let w = rng.next_f64();
    if w < 0.55 {
        sp.attributes.push(kv(key, sv(text)));
    } else if w < 0.80 {
        sp.events.push(Event {
            name: "gen_ai.client.inference.operation.details".into(),
            attributes: vec![kv(key, sv(text))],
            ..Default::default()
        });
    } else if w < 0.90 {
        let arr = ArrayValue {
            values: vec![sv("first item"), sv(text)],
        };
        sp.attributes.push(kv(
            key,
            AnyValue {
                value: Some(Value::ArrayValue(arr)),
            },
        ));
    } else {
        let l = KeyValueList {
            values: vec![kv("role", sv("user")), kv("content", sv(text))],
        };
        sp.attributes.push(kv(
            key,
            AnyValue {
                value: Some(Value::KvlistValue(l)),
            },
        ));
    }
    sp
}

fn strings_of(v: &AnyValue, out: &mut Vec<String>) {
    match &v.value {
        Some(Value::StringValue(s)) => out.push(s.clone()),
        Some(Value::ArrayValue(a)) => a.values.iter().for_each(|x| strings_of(x, out)),
        Some(Value::KvlistValue(l)) => {
            for kv in &l.values {
                out.push(kv.key.clone());
                if let Some(v) = &kv.value {
                    strings_of(v, out);
                }
            }
        }
        _ => {}
    }
}

fn span_text(res: &Resource, sp: &Span) -> String {
    let mut parts = vec![
        sp.name.clone(),
        sp.status
            .as_ref()
            .map(|s| s.message.clone())
            .unwrap_or_default(),
    ];
    let attrs = |list: &[KeyValue], parts: &mut Vec<String>| {
        for kv in list {
            parts.push(kv.key.clone());
            if let Some(v) = &kv.value {
                strings_of(v, parts);
            }
        }
    };
    attrs(&res.attributes, &mut parts);
    attrs(&sp.attributes, &mut parts);
    for ev in &sp.events {
        parts.push(ev.name.clone());
        attrs(&ev.attributes, &mut parts);
    }
    for ln in &sp.links {
        attrs(&ln.attributes, &mut parts);
    }
    parts.join("\n")
}

fn secret_core(kind: &str, v: &str) -> String {
    if v.contains("-----BEGIN") {
        let body = v.splitn(3, "-----").last().unwrap_or(v);
        return match body.rfind("-----END") {
            Some(i) => body[..i].to_string(),
            None => body.to_string(),
        };
    }
    if kind == "slack_webhook" {
        if let Some((_, b)) = v.split_once("/services/") {
            return b.to_string();
        }
    }
    v.to_string()
}

fn strip_seps(s: &str) -> String {
    s.chars().filter(|c| !" -.()".contains(*c)).collect()
}

/// The leak rule of corpus_check.py.
fn is_leaked(kind: &str, v: &str, text: &str) -> bool {
    if text.contains(v) {
        return true;
    }
    let compact = strip_seps(v);
    if compact.chars().count() >= 8 && strip_seps(text).contains(&compact) {
        return true;
    }
    let core: Vec<char> = secret_core(kind, v)
        .replace("\\n", "")
        .replace('\n', "")
        .chars()
        .collect();
    let flat = text.replace("\\n", "").replace('\n', "");
    if core.len() >= 16 {
        for i in 0..core.len() - 11 {
            let run: String = core[i..i + 12].iter().collect();
            if flat.contains(&run) {
                return true;
            }
        }
    }
    false
}

#[test]
fn corpus_recall_and_benign_preservation() {
    let Some(path) = corpus_path() else {
        panic!("corpus not found: set SPANWARD_CORPUS or place shared/ beside the crate");
    };
    let text = std::fs::read_to_string(&path).unwrap();
    let key = HmacKey::from_bytes(vec![42; 32], None, KeySource::File);
    let scrubber = Scrubber::new(&RedactionConfig::default(), key).unwrap();
    let resource = Resource {
        attributes: vec![kv("service.name", sv("corpus-agent"))],
        ..Default::default()
    };
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut per_type: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let (mut benign_total, mut benign_kept) = (0u64, 0u64);
    let mut leaks = Vec::new();
    let mut lost_benign = Vec::new();
    let mut rep = ScrubReport::default();
    for (i, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        let rec: serde_json::Value = serde_json::from_str(line).unwrap();
        let payload = rec["text"].as_str().unwrap();
        let mut sp = build_span(i, rec["key"].as_str().unwrap(), payload, &mut rng);
        let mut res = resource.clone();
        scrubber.scrub_resource(&mut res, &mut rep).unwrap();
        scrubber.scrub_span(&mut sp, &mut rep).unwrap();
        let out = span_text(&res, &sp);
        for s in rec["secrets"].as_array().unwrap() {
            let kind = s["type"].as_str().unwrap();
            let v = s["value"].as_str().unwrap();
            let e = per_type.entry(kind.to_string()).or_default();
            e.0 += 1;
            if is_leaked(kind, v, &out) {
                e.1 += 1;
                leaks.push(format!(
                    "{} {kind}: {}",
                    rec["id"],
                    v.chars().take(60).collect::<String>()
                ));
            }
        }
        for b in rec["benign"].as_array().unwrap() {
            let b = b.as_str().unwrap();
            benign_total += 1;
            if out.contains(b) {
                benign_kept += 1;
            } else {
                lost_benign.push(format!("{} {b}", rec["id"]));
            }
        }
    }
    let total: u64 = per_type.values().map(|x| x.0).sum();
    let leaked: u64 = per_type.values().map(|x| x.1).sum();
    let recall = 1.0 - leaked as f64 / total as f64;
    let benign = benign_kept as f64 / benign_total as f64;
    println!(
        "{:24} {:>6} {:>7} {:>8}",
        "type", "count", "leaked", "recall"
    );
    for (t, (n, l)) in &per_type {
        println!("{t:24} {n:6} {l:7} {:8.4}", 1.0 - *l as f64 / *n as f64);
    }
    for l in leaks.iter().take(25) {
        println!("leak: {l}");
    }
    for l in lost_benign.iter().take(25) {
        println!("benign lost: {l}");
    }
    println!("FIGURE recall={recall:.4} benign={benign:.4} secrets={total} benign_total={benign_total} scanned_bytes={}", rep.bytes_scanned);
    assert!(recall >= 0.995, "overall recall {recall:.4} < 0.995");
    for (t, (n, l)) in &per_type {
        let r = 1.0 - *l as f64 / *n as f64;
        assert!(r >= 0.99, "recall for {t} is {r:.4} < 0.99");
    }
    assert!(benign >= 0.995, "benign preservation {benign:.4} < 0.995");
}
