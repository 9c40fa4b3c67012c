//! The worst inputs found for the scrubber's cost (the generators of `benches/scrub_worst.rs`:
//! every keyword repeated, runs of every character class the rules react to, shapes that
//! stress one layer) grow its work linearly. The measure is the bytes handed to its passes and
//! regex searches (`engine::work_meter`, deterministic). It counts a keyword hit's whole search
//! window even where the automaton stops early, and at these sizes a window can be cut by the
//! end of the text, so a linear input can show up to twice the input's growth (a ratio up to
//! eight for four times the input); quadratic behaviour (a hit rescanning a window that the
//! next hit rescans again, as `PuTTY-User-Key-File-2: ` repeated did) shows as sixteen. Not a
//! timing: absolute speed is measured by the bench.

#[path = "../benches/worst_inputs.rs"]
mod worst_inputs;

use spanward::keys::{HmacKey, KeySource};
use spanward::scrub::engine::work_meter;
use spanward::scrub::{RedactionConfig, Scrubber};

fn work(sc: &Scrubber, text: &str) -> u64 {
    let before = work_meter();
    std::hint::black_box(sc.scrub_str(text));
    work_meter() - before
}

#[test]
fn worst_inputs_grow_the_work_linearly() {
    let sc = Scrubber::new(
        &RedactionConfig::default(),
        HmacKey::from_bytes(vec![5; 32], None, KeySource::File),
    )
    .unwrap();
    // Small enough to keep the suite quick in a debug build; the bench runs every generator.
    let (small, large) = (8 << 10, 32 << 10);
    let seps = ["", "=", ": ", " "];
    let smalls = worst_inputs::generators(&sc, small, &seps);
    let larges = worst_inputs::generators(&sc, large, &seps);
    let mut worst: Vec<(f64, String)> = Vec::new();
    for ((name, s), (_, l)) in smalls.iter().zip(larges.iter()) {
        let (ws, wl) = (work(&sc, s).max(1), work(&sc, l));
        worst.push((wl as f64 / ws as f64, name.clone()));
    }
    worst.sort_by(|a, b| b.0.total_cmp(&a.0));
    println!("highest growth of work for 4x the input: {:?}", &worst[..5]);
    let over: Vec<&(f64, String)> = worst.iter().filter(|(r, _)| *r > 10.0).collect();
    assert!(
        over.is_empty(),
        "work grows faster than the input: {over:?}"
    );
}

/// Text made of thousands of distinct secrets (`token=…` lines, each value different) is
/// scrubbed completely: every value is masked, and a value repeated further on is masked as an
/// echo. (Each distinct value used to be searched for over the whole text, one pass each:
/// quadratic; the echoes are now one automaton pass.)
#[test]
fn thousands_of_distinct_secrets_are_all_masked() {
    let sc = Scrubber::new(
        &RedactionConfig::default(),
        HmacKey::from_bytes(vec![5; 32], None, KeySource::File),
    )
    .unwrap();
    let values: Vec<String> = (0..2000u32)
        .map(|i| format!("Zq{:08x}Lm{:04}", i.wrapping_mul(2_654_435_761), i))
        .collect();
    let mut text: String = values.iter().map(|v| format!("token={v}\n")).collect();
    // Echoes: the values again, bare, where no rule would see them.
    text.push_str(&format!("retry with {} and {}\n", values[7], values[1999]));
    let out = sc.scrub_str(&text);
    for v in &values {
        assert!(!out.contains(v.as_str()), "{v} leaked");
    }
}

/// A string that costs more CPU than its budget is replaced whole, marked and counted, never
/// forwarded half-scanned (`redaction.max_scan_cpu_per_mib`; here set so small that any long
/// string runs over it).
#[test]
fn a_string_over_its_cpu_budget_is_replaced_whole_and_counted() {
    let cfg = RedactionConfig {
        max_scan_cpu_per_mib: std::time::Duration::from_nanos(1),
        ..RedactionConfig::default()
    };
    let sc = Scrubber::new(
        &cfg,
        HmacKey::from_bytes(vec![5; 32], None, KeySource::File),
    )
    .unwrap();
    let text: String = (0..40_000u32)
        .map(|i| format!("password=Xk{i:06}q user=u{i} "))
        .collect();
    let mut rep = spanward::scrub::ScrubReport::default();
    let out = sc.scrub_str_report(&text, &mut rep);
    assert_eq!(out, "[REDACTED:over_budget]");
    assert_eq!(rep.count("over_budget"), 1);
    // The budget off: the same text is scanned to the end.
    let cfg = RedactionConfig {
        max_scan_cpu_per_mib: std::time::Duration::ZERO,
        ..RedactionConfig::default()
    };
    let sc = Scrubber::new(
        &cfg,
        HmacKey::from_bytes(vec![5; 32], None, KeySource::File),
    )
    .unwrap();
    let out = sc.scrub_str(&text);
    assert!(out.contains("user=u39999") && !out.contains("Xk039999q"));
}

/// Shapes a red team found quadratic (in time, and for the first in memory): markers between
/// keys (`[REDACTED:x]password=` repeated: each piece cut around a marker copied the whole
/// value), a keyword alone on every line (the wrapped-line joins checked each match against the
/// whole chain), a token on every line (each followed all the lines after it), dense SSNs. The
/// work meter must grow linearly, and the output stays masked.
#[test]
fn red_team_quadratic_shapes_grow_linearly() {
    let cfg = RedactionConfig {
        // Off: this pins the engine's own growth, which the budget would cut short.
        max_scan_cpu_per_mib: std::time::Duration::ZERO,
        ..RedactionConfig::default()
    };
    let sc = Scrubber::new(
        &cfg,
        HmacKey::from_bytes(vec![5; 32], None, KeySource::File),
    )
    .unwrap();
    let fill =
        |unit: &str, n: usize| -> String { unit.repeat(n / unit.len() + 1)[..n].to_string() };
    let token_lines = |n: usize| -> String {
        (0..n / 21 + 1)
            .map(|i| {
                format!(
                    "AKIA{:016X}\n",
                    (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1 << 60
                )
            })
            .collect::<String>()
    };
    type Shape = Box<dyn Fn(usize) -> String>;
    let shapes: Vec<(&str, Shape)> = vec![
        (
            "marker then key",
            Box::new(move |n| fill("[REDACTED:x]password=", n)),
        ),
        (
            "keyword per line",
            Box::new(move |n| fill("github_pat_\n", n)),
        ),
        ("ssn", Box::new(move |n| fill("123-45-6789 ", n))),
        ("token per line", Box::new(token_lines)),
    ];
    for (name, make) in shapes {
        let (small, large) = (make(8 << 10), make(32 << 10));
        let (ws, wl) = (work(&sc, &small).max(1), work(&sc, &large));
        let ratio = wl as f64 / ws as f64;
        assert!(
            ratio <= 10.0,
            "{name}: work grew {ratio:.1}x for 4x the input"
        );
    }
    let lines = token_lines(32 << 10);
    let out = sc.scrub_str(&lines);
    assert!(!out.contains("AKIA"), "every token masked");
}

/// Many small strings in one request, each revealing secrets (`"passwordN": "vNNNNNNNNxx"` cut
/// into 100-byte log bodies, from the logs red team): the echo search of the request's second
/// walk built an automaton of every revealed value for every string, so the work grew with
/// strings times values (4.4 s of CPU for 1,000 records, minutes for 10,000, and the per-string
/// budget never tripped). The known values' automaton is now built once per request.
#[test]
fn many_small_strings_revealing_secrets_grow_linearly_per_request() {
    use bytes::Bytes;
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue};
    use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    use prost::Message;
    use spanward::pipeline::stages::{Scratch, Stages};
    use spanward::vocab::metrics::Metrics;
    use spanward::vocab::Signal;

    let text = format!(
        "{{{}}}",
        (0..4000)
            .map(|i| format!("\"password{i}\": \"v{i:08}xx\""))
            .collect::<Vec<_>>()
            .join(",")
    );
    let pieces: Vec<&str> = (0..text.len())
        .step_by(100)
        .map(|i| &text[i..(i + 100).min(text.len())])
        .collect();
    let stages = Stages {
        fingerprint: None,
        scrub: Some(
            Scrubber::new(
                &RedactionConfig {
                    max_scan_cpu_per_mib: std::time::Duration::ZERO,
                    ..RedactionConfig::default()
                },
                HmacKey::from_bytes(vec![5; 32], None, KeySource::File),
            )
            .unwrap(),
        ),
        audit: None,
    };
    let m = Metrics::new().0;
    let run = |n: usize| -> (u64, String) {
        let req = ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                scope_logs: vec![ScopeLogs {
                    log_records: pieces[..n]
                        .iter()
                        .map(|p| LogRecord {
                            body: Some(AnyValue {
                                value: Some(Value::StringValue(p.to_string())),
                            }),
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let mut scratch = Scratch::default();
        let before = work_meter();
        let p = stages.process_signal(
            Signal::Logs,
            Bytes::from(req.encode_to_vec()),
            n,
            &m,
            &mut scratch,
        );
        let work = work_meter() - before;
        assert_eq!(p.spans, n);
        let out = ExportLogsServiceRequest::decode(p.request).unwrap();
        (work, format!("{out:?}"))
    };
    let (ws, _) = run(100);
    let (wl, out) = run(400);
    let ratio = wl as f64 / ws.max(1) as f64;
    assert!(ratio < 10.0, "4x the records cost {ratio:.1}x the work");
    // Every value whose assignment lies whole in one piece is masked (one cut by a piece
    // boundary is two fragments, neither a secret on its own).
    let mut checked = 0;
    for i in 0..1000 {
        let item = format!("\"password{i}\": \"v{i:08}xx\"");
        let Some(at) = text.find(&item) else { continue };
        if at / 100 != (at + item.len() - 1) / 100 || at + item.len() > 400 * 100 {
            continue;
        }
        checked += 1;
        let v = format!("v{i:08}xx");
        assert!(!out.contains(&v), "{v} survives");
    }
    assert!(checked > 200, "{checked}");
}
