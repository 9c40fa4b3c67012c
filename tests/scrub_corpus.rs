//! Redaction quality on the labelled development corpus, measured the way
//! `shared/tools/corpus_check.py` judges it: each payload becomes one span (span attribute 55 %,
//! event attribute 25 %, inside an array 10 %, inside a key-value list 10 %), the span is
//! scrubbed, and a secret leaks if its exact text, its text without spaces/dashes/dots/parens,
//! or any 12-character run of its secret core survives in any string of the span.
//!
//! It runs on the project's own generated corpus (`tests/corpus`), and, when `../shared/` is
//! beside the checkout, on the shared development corpus too (skipped, and said so, otherwise).

use opentelemetry_proto::tonic::common::v1::{
    any_value::Value, AnyValue, ArrayValue, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{span::Event, Span};
use spanward::keys::{HmacKey, KeySource};
use spanward::scrub::{RedactionConfig, ScrubReport, Scrubber};
use std::collections::BTreeMap;

mod corpus;
use corpus::Record;

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

/// Recall per type and benign preservation of the default scrubber over `records`.
struct Figures {
    per_type: BTreeMap<String, (u64, u64)>,
    recall: f64,
    benign: f64,
}

fn measure(name: &str, records: &[Record]) -> Figures {
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
    for (i, rec) in records.iter().enumerate() {
        let mut sp = build_span(i, &rec.key, &rec.text, &mut rng);
        let mut res = resource.clone();
        scrubber.scrub_resource(&mut res, &mut rep).unwrap();
        scrubber.scrub_span(&mut sp, &mut rep).unwrap();
        let out = span_text(&res, &sp);
        for (kind, v) in &rec.secrets {
            let e = per_type.entry(kind.clone()).or_default();
            e.0 += 1;
            if is_leaked(kind, v, &out) {
                e.1 += 1;
                leaks.push(format!(
                    "{} {kind}: {}",
                    rec.id,
                    v.chars().take(60).collect::<String>()
                ));
            }
        }
        for b in &rec.benign {
            benign_total += 1;
            if out.contains(b.as_str()) {
                benign_kept += 1;
            } else {
                lost_benign.push(format!("{} {b}", rec.id));
            }
        }
    }
    let total: u64 = per_type.values().map(|x| x.0).sum();
    let leaked: u64 = per_type.values().map(|x| x.1).sum();
    assert!(total > 0, "{name}: the corpus holds no secrets");
    assert!(
        benign_total > 0,
        "{name}: the corpus holds no benign values"
    );
    let recall = 1.0 - leaked as f64 / total as f64;
    let benign = benign_kept as f64 / benign_total as f64;
    println!("corpus: {name}");
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
    Figures {
        per_type,
        recall,
        benign,
    }
}

fn assert_figures(name: &str, f: &Figures) {
    assert!(
        f.recall >= 0.995,
        "{name}: overall recall {:.4} < 0.995",
        f.recall
    );
    for (t, (n, l)) in &f.per_type {
        let r = 1.0 - *l as f64 / *n as f64;
        assert!(r >= 0.99, "{name}: recall for {t} is {r:.4} < 0.99");
    }
    assert!(
        f.benign >= 0.995,
        "{name}: benign preservation {:.4} < 0.995",
        f.benign
    );
}

#[test]
fn corpus_recall_and_benign_preservation() {
    let (name, records) = corpus::own();
    let f = measure(&name, &records);
    // The generated corpus covers every secret type it was built with.
    assert!(f.per_type.len() >= 15, "types: {:?}", f.per_type.keys());
    assert_figures(&name, &f);
}

/// The shared development corpus, when it is beside the checkout (CI): an extra check.
#[test]
fn shared_corpus_recall_and_benign_preservation() {
    let Some((path, records)) = corpus::shared("scrub_corpus") else {
        return;
    };
    let name = path.display().to_string();
    assert_figures(&name, &measure(&name, &records));
}

/// The generated corpus is what it claims: every labelled value sits in its text, JSON texts
/// parse, cards pass Luhn and IBANs mod-97, and the same seed gives the same records.
#[test]
fn own_corpus_is_labelled_correctly() {
    let recs = corpus::generate(corpus::SIZE, corpus::SEED);
    assert_eq!(recs.len(), corpus::SIZE);
    let again = corpus::generate(50, corpus::SEED);
    for (a, b) in recs.iter().zip(&again) {
        assert_eq!(a.text, b.text, "generation is not deterministic");
    }
    let luhn = |s: &str| {
        let d: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
        d.iter()
            .rev()
            .enumerate()
            .map(|(i, &x)| {
                if i % 2 == 1 {
                    if x * 2 > 9 {
                        x * 2 - 9
                    } else {
                        x * 2
                    }
                } else {
                    x
                }
            })
            .sum::<u32>()
            % 10
            == 0
    };
    let mod97 = |s: &str| {
        let c: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        let re = format!("{}{}", &c[4..], &c[..4]);
        re.chars().fold(0u64, |acc, ch| {
            let v = ch.to_digit(36).unwrap_or(0) as u64;
            if v >= 10 {
                (acc * 100 + v) % 97
            } else {
                (acc * 10 + v) % 97
            }
        }) == 1
    };
    let mut kinds = std::collections::BTreeSet::new();
    let (mut with_secret, mut benign) = (0, 0);
    for r in &recs {
        for (t, v) in &r.secrets {
            assert!(
                r.text.contains(v.as_str()),
                "{}: {t} value not in its text",
                r.id
            );
            match t.as_str() {
                "credit_card" => assert!(luhn(v), "{}: card fails Luhn", r.id),
                "iban" => assert!(mod97(v), "{}: IBAN fails mod-97", r.id),
                _ => {}
            }
            kinds.insert(t.clone());
        }
        for b in &r.benign {
            assert!(
                r.text.contains(b.as_str()),
                "{}: benign value not in its text",
                r.id
            );
        }
        if r.text.starts_with('[') || r.text.starts_with('{') {
            serde_json::from_str::<serde_json::Value>(&r.text)
                .unwrap_or_else(|e| panic!("{}: text is not JSON: {e}", r.id));
        }
        with_secret += usize::from(!r.secrets.is_empty());
        benign += r.benign.len();
    }
    assert_eq!(kinds.len(), 15, "{kinds:?}");
    assert!(
        with_secret > corpus::SIZE / 2 && with_secret < corpus::SIZE,
        "{with_secret}"
    );
    assert!(benign > corpus::SIZE / 2, "{benign}");
}
