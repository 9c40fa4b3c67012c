use super::super::agents::{agents, TurnGen};
use super::super::text;
use super::*;
use crate::keys::{HmacKey, KeySource};
use crate::scrub::{RedactionConfig, ScrubReport, Scrubber};
use prost::Message;
use rand::SeedableRng;

fn gen(agents: &[Agent], pii: f64, seed: u64) -> TurnGen<'_> {
    TurnGen::new(agents, 1500, pii, seed)
}

fn scrubber() -> Scrubber {
    Scrubber::new(
        &RedactionConfig::default(),
        HmacKey::from_bytes(vec![9; 32], None, KeySource::File),
    )
    .unwrap()
}

fn gzip_ratio(b: &[u8]) -> f64 {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b).unwrap();
    b.len() as f64 / e.finish().unwrap().len() as f64
}

/// Every string of an `AnyValue`, nested ones included.
fn strings<'a>(v: &'a AnyValue, out: &mut Vec<&'a str>) {
    match &v.value {
        Some(any_value::Value::StringValue(s)) => out.push(s),
        Some(any_value::Value::KvlistValue(l)) => {
            for kv in &l.values {
                if let Some(v) = &kv.value {
                    strings(v, out);
                }
            }
        }
        Some(any_value::Value::ArrayValue(a)) => {
            for v in &a.values {
                strings(v, out);
            }
        }
        _ => {}
    }
}

fn span_strings(req: &ExportTraceServiceRequest) -> Vec<&str> {
    let mut out = Vec::new();
    for rs in &req.resource_spans {
        for ss in &rs.scope_spans {
            for sp in &ss.spans {
                for kv in &sp.attributes {
                    if let Some(v) = &kv.value {
                        strings(v, &mut out);
                    }
                }
            }
        }
    }
    out
}

#[test]
fn traces_decode_with_the_count_asked_and_are_deterministic() {
    let ag = agents(1, 6, 1500);
    let a = trace_request(&mut gen(&ag, 0.02, 7), 512);
    let b = trace_request(&mut gen(&ag, 0.02, 7), 512);
    let c = trace_request(&mut gen(&ag, 0.02, 8), 512);
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(
        agents(1, 6, 1500)[3].system_prompt,
        ag[3].system_prompt,
        "agents from the seed"
    );
    let bytes = a.encode_to_vec();
    let back = ExportTraceServiceRequest::decode(bytes.as_slice()).unwrap();
    assert_eq!(crate::pipeline::count_spans(&back), 512);
    // Several agents, one resource each, with both instrumentations' keys.
    assert!(
        back.resource_spans.len() >= 4,
        "{}",
        back.resource_spans.len()
    );
    let keys: std::collections::BTreeSet<&str> = back
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .flat_map(|s| &s.attributes)
        .map(|kv| kv.key.as_str())
        .collect();
    for k in [
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.system_instructions",
        "gen_ai.tool.definitions",
        "gen_ai.tool.call.arguments",
        "gen_ai.tool.call.result",
        "input.value",
        "output.value",
        "llm.input_messages.0.message.content",
    ] {
        assert!(keys.contains(k), "{k} missing");
    }
    let per_span = bytes.len() / 512;
    assert!((1200..2200).contains(&per_span), "{per_span} B per span");
    let ratio = gzip_ratio(&bytes);
    assert!((3.0..9.0).contains(&ratio), "gzip ratio {ratio:.2}");
}

/// The prose alone compresses about as English does (2.65× for this repository's docs), not
/// like a 33-word list.
#[test]
fn prose_compresses_like_prose() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let mut all = String::new();
    for d in text::Domain::ALL {
        for q in [true, false] {
            for _ in 0..20 {
                all.push_str(&text::prose(&mut rng, d, 700, q));
                all.push('\n');
            }
        }
    }
    let r = gzip_ratio(all.as_bytes());
    assert!((2.2..3.6).contains(&r), "prose gzip ratio {r:.2}");
}

#[test]
fn logs_decode_with_the_count_asked_and_share_the_traces_ids() {
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    let ag = agents(1, 6, 1500);
    let logs = logs_request(&mut gen(&ag, 0.02, 7), 300);
    let back = ExportLogsServiceRequest::decode(logs.encode_to_vec().as_slice()).unwrap();
    assert_eq!(back, logs);
    let records: Vec<_> = back
        .resource_logs
        .iter()
        .flat_map(|r| &r.scope_logs)
        .flat_map(|s| &s.log_records)
        .collect();
    assert_eq!(records.len(), 300);
    let names: std::collections::BTreeSet<&str> =
        records.iter().map(|r| r.event_name.as_str()).collect();
    for n in [
        "gen_ai.client.inference.operation.details",
        "gen_ai.user.message",
        "gen_ai.choice",
        "",
    ] {
        assert!(names.contains(n), "no `{n}` records");
    }
    let details = records
        .iter()
        .find(|r| r.event_name == "gen_ai.client.inference.operation.details")
        .unwrap();
    for k in [
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.system_instructions",
    ] {
        assert!(details.attributes.iter().any(|a| a.key == k), "{k}");
    }
    let python = records.iter().find(|r| r.event_name.is_empty()).unwrap();
    assert!(python
        .attributes
        .iter()
        .any(|a| a.key == "code.function.name"));
    assert!(matches!(
        python.body.as_ref().and_then(|b| b.value.as_ref()),
        Some(any_value::Value::StringValue(_))
    ));
    // Same seed: the logs belong to the traces' spans.
    let traces = trace_request(&mut gen(&ag, 0.02, 7), 300);
    let span_ids: std::collections::BTreeSet<(&[u8], &[u8])> = traces
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .map(|s| (s.trace_id.as_slice(), s.span_id.as_slice()))
        .collect();
    let tied = records
        .iter()
        .filter(|r| span_ids.contains(&(r.trace_id.as_slice(), r.span_id.as_slice())))
        .count();
    assert!(tied > 250, "{tied} of 300 records tied to a span");
}

#[test]
fn metrics_decode_with_the_count_asked() {
    use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
    let ag = agents(1, 6, 1500);
    let m = metrics_request(&mut gen(&ag, 0.02, 7), 200);
    let back = ExportMetricsServiceRequest::decode(m.encode_to_vec().as_slice()).unwrap();
    let metrics: Vec<_> = back
        .resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .collect();
    assert_eq!(metrics.iter().map(|m| data_points(m)).sum::<usize>(), 200);
    let names: std::collections::BTreeSet<&str> = metrics.iter().map(|m| m.name.as_str()).collect();
    for n in [
        "gen_ai.client.token.usage",
        "gen_ai.client.operation.duration",
        "agent.tool.calls",
        "agent.sessions.active",
    ] {
        assert!(names.contains(n), "{n}");
    }
    let usage = metrics
        .iter()
        .find(|m| m.name == "gen_ai.client.token.usage")
        .unwrap();
    let Some(metric::Data::Histogram(h)) = &usage.data else {
        panic!("not a histogram")
    };
    let p = &h.data_points[0];
    assert_eq!(p.bucket_counts.iter().sum::<u64>(), p.count);
    assert!(p.attributes.iter().any(|a| a.key == "gen_ai.token.type"));
}

/// The fraction asked is the fraction generated, and the scrubber agrees: nothing to redact at
/// 0 (benign text has no look-alikes), findings at 2 %.
#[test]
fn pii_fraction_is_what_the_scrubber_finds() {
    let ag = agents(1, 6, 1500);
    let mut g = gen(&ag, 0.02, 11);
    for _ in 0..8 {
        trace_request(&mut g, 512);
    }
    let frac = g.stats.sensitive as f64 / g.stats.pieces as f64;
    assert!(
        (0.012..0.03).contains(&frac),
        "{frac} of {} pieces",
        g.stats.pieces
    );

    let sc = scrubber();
    let clean = trace_request(&mut gen(&ag, 0.0, 12), 256);
    let mut rep = ScrubReport::default();
    for s in span_strings(&clean) {
        let out = sc.scrub_str_report(s, &mut rep);
        assert!(
            matches!(out, std::borrow::Cow::Borrowed(_)),
            "benign text redacted: {rep:?}\n{s}"
        );
    }
    let dirty = trace_request(&mut gen(&ag, 0.3, 12), 256);
    let mut rep = ScrubReport::default();
    let changed = span_strings(&dirty)
        .into_iter()
        .filter(|s| matches!(sc.scrub_str_report(s, &mut rep), std::borrow::Cow::Owned(_)))
        .count();
    assert!(changed > 50, "{changed} strings redacted at 30 %");
}

/// Every format of sensitive value is one the default packs recognise.
#[test]
fn every_sensitive_format_is_detected() {
    let sc = scrubber();
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let mut missed = Vec::new();
    for _ in 0..400 {
        let v = crate::load::secrets::sensitive(&mut rng);
        let line = format!("Thanks, noted. {v} Let me know if anything changes.");
        if matches!(sc.scrub_str(&line), std::borrow::Cow::Borrowed(_)) {
            missed.push(v);
        }
    }
    assert!(missed.is_empty(), "not detected: {missed:#?}");
}

#[test]
fn luhn_and_iban_check_digits() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    for _ in 0..50 {
        let n = crate::load::secrets::luhn_complete("4", 16, &mut rng);
        let sum: u32 = n
            .chars()
            .rev()
            .enumerate()
            .map(|(i, c)| {
                let d = c.to_digit(10).unwrap();
                if i % 2 == 1 {
                    let x = d * 2;
                    if x > 9 {
                        x - 9
                    } else {
                        x
                    }
                } else {
                    d
                }
            })
            .sum();
        assert_eq!(sum % 10, 0, "{n}");
    }
}

#[test]
#[ignore = "prints the sizes by attribute key"]
fn sizes_by_key() {
    let ag = agents(1, 6, 1500);
    let req = trace_request(&mut gen(&ag, 0.02, 7), 512);
    let mut by: std::collections::BTreeMap<String, (usize, usize)> = Default::default();
    let mut n = 0;
    for sp in req
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
    {
        n += 1;
        for kv in &sp.attributes {
            let k = if kv.key.starts_with("llm.input_messages")
                || kv.key.starts_with("llm.output_messages")
            {
                kv.key.split('.').take(2).collect::<Vec<_>>().join(".")
            } else {
                kv.key.clone()
            };
            let e = by.entry(k).or_default();
            e.0 += 1;
            e.1 += kv.value.as_ref().map_or(0, |v| v.encoded_len());
        }
    }
    for (k, (c, b)) in &by {
        println!("{k:45} {c:5} {:8} per span {:6}", b / (*c).max(1), b / n);
    }
    println!("spans {n}, bytes/span {}", req.encoded_len() / n);
}

#[test]
#[ignore = "prints the scrubber's cost per sensitive format"]
fn scrub_cost_by_format() {
    let sc = scrubber();
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let mut by: std::collections::BTreeMap<String, (u32, std::time::Duration)> = Default::default();
    let filler = text::prose(&mut rng, text::Domain::Support, 600, false);
    let t0 = std::time::Instant::now();
    for _ in 0..50 {
        std::hint::black_box(sc.scrub_str(&filler));
    }
    println!(
        "{:30} {:>10.1} µs",
        "benign 600 B",
        t0.elapsed().as_secs_f64() * 1e6 / 50.0
    );
    for _ in 0..600 {
        let v = crate::load::secrets::sensitive(&mut rng);
        let kind: String = v.chars().take(12).collect();
        let line = format!("{filler} {v} {filler}");
        let t0 = std::time::Instant::now();
        std::hint::black_box(sc.scrub_str(&line));
        let e = by
            .entry(
                kind.split(|c: char| c.is_ascii_digit())
                    .next()
                    .unwrap_or("")
                    .to_string(),
            )
            .or_default();
        e.0 += 1;
        e.1 += t0.elapsed();
    }
    for (k, (n, d)) in by {
        println!("{k:30} {:>10.1} µs ({n})", d.as_secs_f64() * 1e6 / n as f64);
    }
}
