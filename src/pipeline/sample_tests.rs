use super::*;
use crate::otlp::service_name;
use crate::otlp::tracestate::{parse_randomness, parse_threshold};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Status};
use rand::{Rng, SeedableRng};
use std::collections::HashMap;

fn sampler(ratio: f64) -> Sampler {
    Sampler::new(&SamplingConfig {
        ratio,
        ..Default::default()
    })
    .unwrap()
}

/// A trace id whose low 56 bits are `r`.
fn tid(r: u64) -> Vec<u8> {
    let mut id = [0u8; 16];
    id[0] = 0x4b;
    id[8..].copy_from_slice(&r.to_be_bytes());
    id.to_vec()
}

fn span(trace_id: Vec<u8>, name: &str, trace_state: &str) -> Span {
    Span {
        trace_id,
        span_id: vec![1; 8],
        name: name.to_string(),
        trace_state: trace_state.to_string(),
        ..Default::default()
    }
}

fn error(mut s: Span) -> Span {
    s.status = Some(Status {
        code: StatusCode::Error as i32,
        message: String::new(),
    });
    s
}

fn resource(service: &str, spans: Vec<Span>) -> ResourceSpans {
    ResourceSpans {
        resource: Some(Resource {
            attributes: vec![KeyValue {
                key: "service.name".into(),
                value: Some(AnyValue {
                    value: Some(Value::StringValue(service.into())),
                }),
                ..Default::default()
            }],
            ..Default::default()
        }),
        scope_spans: vec![ScopeSpans {
            scope: Some(InstrumentationScope::default()),
            spans,
            ..Default::default()
        }],
        ..Default::default()
    }
}

// The spec's table "1-in-N probability sampling, with precision 3, 4, and 5"
// (TraceState: Probability Sampling, Algorithms).
#[test]
fn spec_threshold_table() {
    let table: &[(f64, [&str; 3])] = &[
        (1.0, ["0", "0", "0"]),
        (0.5, ["8", "8", "8"]),
        (1.0 / 3.0, ["aab", "aaab", "aaaab"]),
        (0.25, ["c", "c", "c"]),
        (0.2, ["ccd", "cccd", "ccccd"]),
        (0.125, ["e", "e", "e"]),
        (0.1, ["e66", "e666", "e6666"]),
        (0.0625, ["f", "f", "f"]),
        (0.01, ["fd71", "fd70a", "fd70a4"]),
        (0.001, ["ffbe7", "ffbe77", "ffbe76d"]),
        (0.0001, ["fff972", "fff9724", "fff97247"]),
        (0.00001, ["ffff584", "ffff583a", "ffff583a5"]),
        (0.000001, ["ffffef4", "ffffef39", "ffffef391"]),
    ];
    for (p, want) in table {
        for (i, precision) in [3u32, 4, 5].into_iter().enumerate() {
            let th = probability_to_threshold(*p, precision).unwrap();
            assert_eq!(encode_threshold(th), want[i], "p={p} precision={precision}");
        }
    }
}

// "if the sampling probability is 1% ... the rejection threshold with 5 digits of precision
// would be ... 0xfd70a400000000 ... the th key has fd70a4 as the value".
#[test]
fn spec_one_percent_example() {
    let th = probability_to_threshold(0.01, 5).unwrap();
    assert_eq!(th, 0xfd70a400000000);
    assert_eq!(encode_threshold(th), "fd70a4");
}

// OTEP 235: "th=8 -- equivalent to th=80000000000000, which is 50% probability",
// "th=08 -- equivalent to th=08000000000000, which is 3.125%" (the OTEP's shorthand: a
// threshold of 1/32 rejects 3.125%), "th=0 ... Always Sample", and ot=th:c is 25% sampling.
#[test]
fn spec_threshold_encoding_examples() {
    assert_eq!(parse_threshold("8"), Some(0x80000000000000));
    assert_eq!(threshold_to_probability(parse_threshold("8").unwrap()), 0.5);
    assert_eq!(parse_threshold("08"), Some(0x08000000000000));
    assert_eq!(
        parse_threshold("08").unwrap() as f64 / MAX_ADJUSTED_COUNT as f64,
        0.03125
    );
    assert_eq!(parse_threshold("0"), Some(0));
    assert_eq!(parse_threshold("00000000000000"), Some(0));
    assert_eq!(
        threshold_to_probability(parse_threshold("c").unwrap()),
        0.25
    );
    // Adjusted counts as the spec computes them.
    for (th, count) in [("0", 1.0), ("8", 2.0), ("c", 4.0)] {
        let p = threshold_to_probability(parse_threshold(th).unwrap());
        assert_eq!(1.0 / p, count);
    }
    // Round trip, trailing zeros removed, leading zeros kept.
    for v in [0x08000000000000u64, 0xfd70a400000000, 1, 0xffffffffffffff] {
        assert_eq!(parse_threshold(&encode_threshold(v)), Some(v));
    }
    assert_eq!(encode_threshold(1), "00000000000001");
    // Invalid: upper case, too long, empty, non-hex.
    for bad in ["C", "", "123456789abcdef", "xyz", "8 "] {
        assert_eq!(parse_threshold(bad), None, "{bad:?}");
    }
    // rv: exactly 14 lower-case hex digits.
    assert_eq!(parse_randomness("6e6d1a75832a2f"), Some(0x6e6d1a75832a2f));
    assert_eq!(parse_randomness("6e6d1a75832a2"), None);
    assert_eq!(parse_randomness("6E6D1A75832A2F"), None);
}

// tracestate-handling.md: `ot=rv:6e6d1a75832a2f` means a consistent positive decision for
// "rejection threshold values 0x6e6d1a75832a2f through 0", "the same as for a hexadecimal TraceID
// ending in 6e6d1a75832a2f without explicit randomness value". (The same sentence says "41.1%
// through 100%"; the thresholds it names correspond to probabilities 56.9% through 100%,
// since 0x6e6d1a75832a2f / 2^56 = 0.431, so the test follows the thresholds.)
#[test]
fn spec_explicit_randomness_example() {
    let explicit = span(tid(0), "op", "ot=rv:6e6d1a75832a2f");
    let implicit = span(tid(0x6e6d1a75832a2f), "op", "");
    let rv = 0x6e6d1a75832a2fu64;
    for (th, kept) in [(0, true), (rv - 1, true), (rv, true), (rv + 1, false)] {
        let s = Sampler {
            default: Policy::threshold(th),
            rules: vec![],
            keep_errors: true,
            logs: super::logs::LogPolicy::new(&Default::default(), 4).unwrap(),
        };
        for sp in [&explicit, &implicit] {
            let d = s.decide("svc", sp);
            assert_eq!(d != Decision::Drop, kept, "th {th:x} {:?}", sp.trace_state);
        }
    }
    for (ratio, kept) in [(1.0, true), (0.57, true), (0.56, false), (0.411, false)] {
        let s = sampler(ratio);
        for sp in [&explicit, &implicit] {
            let d = s.decide("svc", sp);
            assert_eq!(
                d != Decision::Drop,
                kept,
                "ratio {ratio} {:?}",
                sp.trace_state
            );
        }
    }
    // The rv wins over the trace id's own bits.
    let low_id = span(tid(1), "op", "ot=rv:6e6d1a75832a2f");
    assert_ne!(sampler(0.6).decide("svc", &low_id), Decision::Drop);
    // A kept span keeps its rv and gains th (0.57 -> 1 - 0.57 = 0.43 -> 0x6e14 at 4 digits).
    assert_eq!(
        sampler(0.57).decide("svc", &explicit),
        Decision::Keep(Some("ot=th:6e14;rv:6e6d1a75832a2f".into()))
    );
}

// The collector's probabilistic sampler documentation: a span with `ot=th:0;rv:9b8233f7e3a151`
// sampled at 50% "is consistently sampled ... The resulting span will have the following
// tracestate: ot=th:8;rv:9b8233f7e3a151"; and 25% sampling "is encoded ... as ot=th:c".
#[test]
fn spec_downstream_examples() {
    let s = span(tid(0), "op", "ot=th:0;rv:9b8233f7e3a151");
    assert_eq!(
        sampler(0.5).decide("svc", &s),
        Decision::Keep(Some("ot=th:8;rv:9b8233f7e3a151".into()))
    );
    let fresh = span(tid(0xd0000000000000), "op", "");
    assert_eq!(
        sampler(0.25).decide("svc", &fresh),
        Decision::Keep(Some("ot=th:c".into()))
    );
    let below = span(tid(0xbfffffffffffff), "op", "");
    assert_eq!(sampler(0.25).decide("svc", &below), Decision::Drop);
    // Boundary: R == T keeps.
    let at = span(tid(0xc0000000000000), "op", "");
    assert_ne!(sampler(0.25).decide("svc", &at), Decision::Drop);
}

#[test]
fn only_lowers_probability() {
    // Upstream 25% (th:c), we are configured at 50%: keep as is, never raise to 50%.
    let s = span(tid(0xd0000000000000), "op", "ot=th:c");
    assert_eq!(sampler(0.5).decide("svc", &s), Decision::Keep(None));
    // Upstream 50%, we are at 25%: the threshold rises to c.
    let s = span(tid(0xd0000000000000), "op", "ot=th:8");
    assert_eq!(
        sampler(0.25).decide("svc", &s),
        Decision::Keep(Some("ot=th:c".into()))
    );
    let s = span(tid(0x90000000000000), "op", "ot=th:8");
    assert_eq!(sampler(0.25).decide("svc", &s), Decision::Drop);
    // ratio 1.0 with rules present (not pass-through) leaves tracestate alone.
    let s1 = Sampler::new(&SamplingConfig {
        rules: vec![SamplingRule {
            service: Some("other".into()),
            span_name: None,
            ratio: 0.1,
        }],
        ..Default::default()
    })
    .unwrap();
    let s = span(tid(0x10000000000000), "op", "vendor=x");
    assert_eq!(s1.decide("svc", &s), Decision::Keep(None));
}

#[test]
fn inconsistent_or_invalid_upstream_threshold_is_erased() {
    // R = 0x10.. < th:8 → the span could not have passed upstream: erase th, keep rv etc.
    let s = span(
        tid(0x10000000000000),
        "op",
        "ot=th:8;rv:10000000000000;x:1,k=v",
    );
    assert_eq!(
        sampler(1.0).decide("svc", &s),
        Decision::Keep(Some("ot=rv:10000000000000;x:1,k=v".into()))
    );
    // Invalid th (upper case) is replaced by ours when we raise it.
    let s = span(tid(0xf0000000000000), "op", "k=v,ot=th:C");
    assert_eq!(
        sampler(0.5).decide("svc", &s),
        Decision::Keep(Some("ot=th:8,k=v".into()))
    );
    // Erasing the only sub-key drops the whole ot member.
    let s = span(tid(0x10000000000000), "op", "a=1,ot=th:8,b=2");
    assert_eq!(
        sampler(1.0).decide("svc", &s),
        Decision::Keep(Some("a=1,b=2".into()))
    );
    // Invalid rv is ignored: trace-id randomness decides.
    let s = span(tid(0xf0000000000000), "op", "ot=rv:zz");
    assert_eq!(
        sampler(0.5).decide("svc", &s),
        Decision::Keep(Some("ot=th:8;rv:zz".into()))
    );
}

#[test]
fn w3c_tracestate_rules() {
    // ot moves to the front, others keep their order, whitespace and empty members vanish.
    assert_eq!(
        rewrite_tracestate(
            "a=1 , ot=p:8;rv:00000000000001 ,, b=2",
            Some(0xc0000000000000)
        ),
        Some("ot=th:c;p:8;rv:00000000000001,a=1,b=2".into())
    );
    // th replaced in place.
    assert_eq!(
        rewrite_tracestate("ot=x:1;th:8;y:2", Some(0xc0000000000000)),
        Some("ot=x:1;th:c;y:2".into())
    );
    // At most 32 members: adding ot to 32 others drops the right-most.
    let others: Vec<String> = (0..32).map(|i| format!("v{i}=x")).collect();
    let out = rewrite_tracestate(&others.join(","), Some(0x80000000000000)).unwrap();
    let parts: Vec<&str> = out.split(',').collect();
    assert_eq!(parts.len(), 32);
    assert_eq!(parts[0], "ot=th:8");
    assert_eq!(parts[31], "v30=x");
    // An ot value that would exceed 256 characters is not written.
    let long = format!("ot=x:{}", "a".repeat(250));
    assert_eq!(rewrite_tracestate(&long, Some(0x80000000000000)), None);
    let s = span(tid(0xf0000000000000), "op", &long);
    assert_eq!(sampler(0.5).decide("svc", &s), Decision::Keep(None));
    // A second ot member is dropped on rewrite (W3C keys are unique).
    assert_eq!(
        rewrite_tracestate("ot=th:8,ot=th:4", Some(0xc0000000000000)),
        Some("ot=th:c".into())
    );
}

#[test]
fn million_random_trace_ids_within_three_sigma() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed_5a3b);
    for ratio in [0.5, 0.1, 0.01, 1.0 / 3.0] {
        let s = sampler(ratio);
        let p = threshold_to_probability(probability_to_threshold(ratio, 4).unwrap());
        assert!(
            (p - ratio).abs() / ratio < 1e-3,
            "threshold honours ratio {ratio}"
        );
        let n = 1_000_000u64;
        let mut sp = span(vec![0; 16], "op", "");
        let mut kept = 0u64;
        for _ in 0..n {
            let mut id = [0u8; 16];
            rng.fill(&mut id);
            sp.trace_id.copy_from_slice(&id);
            if s.decide("svc", &sp) != Decision::Drop {
                kept += 1;
            }
        }
        let mean = n as f64 * p;
        let sigma = (n as f64 * p * (1.0 - p)).sqrt();
        assert!(
            (kept as f64 - mean).abs() <= 3.0 * sigma,
            "ratio {ratio}: kept {kept}, expected {mean:.0} ± {:.0}",
            3.0 * sigma
        );
    }
}

fn request(traces: &[(Vec<u8>, &str)], spans_per_trace: usize) -> ExportTraceServiceRequest {
    // Spread each trace's spans over two services and two scopes, as real exports do.
    let mut a = resource("agent", vec![]);
    let mut b = resource("tools", vec![]);
    a.scope_spans.push(ScopeSpans::default());
    for (t, (id, ts)) in traces.iter().enumerate() {
        for i in 0..spans_per_trace {
            let mut s = span(id.clone(), &format!("op{i}"), ts);
            s.span_id = vec![t as u8, i as u8, 0, 0, 0, 0, 0, 1];
            let r = if i % 2 == 0 { &mut a } else { &mut b };
            let k = i % r.scope_spans.len();
            r.scope_spans[k].spans.push(s);
        }
    }
    ExportTraceServiceRequest {
        resource_spans: vec![a, b],
    }
}

fn decisions(req: &ExportTraceServiceRequest) -> HashMap<(Vec<u8>, Vec<u8>), String> {
    req.resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .map(|s| {
            (
                (s.trace_id.clone(), s.span_id.clone()),
                s.trace_state.clone(),
            )
        })
        .collect()
}

fn random_traces(n: usize, seed: u64) -> Vec<(Vec<u8>, &'static str)> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let mut id = vec![0u8; 16];
            rng.fill(&mut id[..]);
            (id, "")
        })
        .collect()
}

#[test]
fn two_independent_samplers_agree_and_traces_stay_whole() {
    let traces = random_traces(2000, 7);
    let cfg = SamplingConfig {
        ratio: 0.3,
        ..Default::default()
    };
    let (s1, s2) = (Sampler::new(&cfg).unwrap(), Sampler::new(&cfg).unwrap());
    let mut r1 = request(&traces, 5);
    let mut r2 = request(&traces, 5);
    let st1 = s1.apply(&mut r1).unwrap();
    let st2 = s2.apply(&mut r2).unwrap();
    assert_eq!(st1, st2);
    assert_eq!(st1.kept + st1.sampled_out, 10_000);
    assert!(st1.kept > 2500 && st1.kept < 3500, "{st1:?}");
    assert_eq!(r1, r2);
    // Every trace is entirely kept or entirely dropped.
    let kept = decisions(&r1);
    for (id, _) in &traces {
        let n = kept.keys().filter(|(t, _)| t == id).count();
        assert!(n == 0 || n == 5, "trace split: {n} of 5 spans kept");
    }
    // Kept spans carry the threshold.
    let th = encode_threshold(probability_to_threshold(0.3, 4).unwrap());
    assert!(kept.values().all(|ts| *ts == format!("ot=th:{th}")));
}

#[test]
fn stages_are_nested_subsets() {
    // A 50% stage followed by a 25% stage keeps exactly what a single 25% stage keeps, and the
    // final threshold is the 25% one: consistent across stages.
    let traces = random_traces(3000, 11);
    let mut chained = request(&traces, 3);
    sampler(0.5).apply(&mut chained).unwrap();
    let after_half = decisions(&chained);
    sampler(0.25).apply(&mut chained).unwrap();
    let mut direct = request(&traces, 3);
    sampler(0.25).apply(&mut direct).unwrap();
    assert_eq!(decisions(&chained), decisions(&direct));
    let quarter = decisions(&direct);
    assert!(quarter.keys().all(|k| after_half.contains_key(k)));
    assert!(quarter.values().all(|ts| ts == "ot=th:c"));
    // Running the 50% stage after the 25% one changes nothing.
    let before = chained.clone();
    let st = sampler(0.5).apply(&mut chained).unwrap();
    assert_eq!(st.sampled_out, 0);
    assert_eq!(chained, before);
}

#[test]
fn keep_errors() {
    let lose = error(span(tid(0x01), "op", "k=v"));
    assert_eq!(sampler(0.5).decide("svc", &lose), Decision::Keep(None));
    let never = Sampler::new(&SamplingConfig {
        ratio: 0.0,
        ..Default::default()
    })
    .unwrap();
    assert_eq!(never.decide("svc", &lose), Decision::Keep(None));
    assert_eq!(
        never.decide("svc", &span(tid(0x01), "op", "")),
        Decision::Drop
    );
    let strict = Sampler::new(&SamplingConfig {
        ratio: 0.5,
        keep_errors: false,
        ..Default::default()
    })
    .unwrap();
    assert_eq!(strict.decide("svc", &lose), Decision::Drop);
    // An error span that wins the draw is treated like any other.
    let win = error(span(tid(0xf0000000000000), "op", ""));
    assert_eq!(
        sampler(0.5).decide("svc", &win),
        Decision::Keep(Some("ot=th:8".into()))
    );
    // Counted.
    let mut req = ExportTraceServiceRequest {
        resource_spans: vec![resource("svc", vec![lose, span(tid(0x01), "op", "")])],
    };
    let st = sampler(0.5).apply(&mut req).unwrap();
    assert_eq!(
        st,
        SampleStats {
            kept: 1,
            sampled_out: 1,
            forced_errors: 1,
            no_randomness: 0
        }
    );
}

#[test]
fn rules_first_match_wins() {
    let cfg: SamplingConfig = serde_norway::from_str(
        r#"
ratio: 0.0
rules:
  - service: "billing-*"
    span_name: "health*"
    ratio: 0.0
  - service: "billing-*"
    ratio: 1.0
  - span_name: "chat *"
    ratio: 0.5
"#,
    )
    .unwrap();
    let s = Sampler::new(&cfg).unwrap();
    assert!(!s.is_pass_through());
    let low = tid(0x01);
    let high = tid(0xf0000000000000);
    assert_eq!(
        s.decide("billing-eu", &span(high.clone(), "healthcheck", "")),
        Decision::Drop
    );
    assert_eq!(
        s.decide("billing-eu", &span(low.clone(), "charge", "")),
        Decision::Keep(None)
    );
    assert_eq!(
        s.decide("agent", &span(low.clone(), "chat gpt-4o", "")),
        Decision::Drop
    );
    assert_eq!(
        s.decide("agent", &span(high.clone(), "chat gpt-4o", "")),
        Decision::Keep(Some("ot=th:8".into()))
    );
    assert_eq!(s.decide("agent", &span(high, "other", "")), Decision::Drop);
    // apply() agrees with decide() and removes emptied scope and resource entries.
    let mut req = ExportTraceServiceRequest {
        resource_spans: vec![
            resource("billing-eu", vec![span(low.clone(), "charge", "")]),
            resource("agent", vec![span(low.clone(), "other", "")]),
        ],
    };
    let st = s.apply(&mut req).unwrap();
    assert_eq!((st.kept, st.sampled_out), (1, 1));
    assert_eq!(req.resource_spans.len(), 1);
    assert_eq!(
        service_name(req.resource_spans[0].resource.as_ref()),
        "billing-eu"
    );
}

#[test]
fn no_randomness_is_kept_and_counted() {
    let s = sampler(0.5);
    for id in [vec![0u8; 16], vec![1u8; 8], vec![]] {
        let sp = span(id, "op", "");
        assert_eq!(s.decide("svc", &sp), Decision::Keep(None));
    }
    let mut req = ExportTraceServiceRequest {
        resource_spans: vec![resource("svc", vec![span(vec![0; 16], "op", "")])],
    };
    assert_eq!(s.apply(&mut req).unwrap().no_randomness, 1);
    // With rv it has randomness even with a zero trace id.
    let sp = span(vec![0; 16], "op", "ot=rv:00000000000001");
    assert_eq!(s.decide("svc", &sp), Decision::Drop);
}

#[test]
fn config_validation_and_pass_through() {
    let s = Sampler::new(&SamplingConfig::default()).unwrap();
    assert!(s.is_pass_through());
    let mut req = request(&random_traces(10, 1), 3);
    let before = req.clone();
    let st = s.apply(&mut req).unwrap();
    assert_eq!((st.kept, st.sampled_out), (30, 0));
    assert_eq!(req, before);
    for bad in [1.5, -0.1, f64::NAN, 1e-18] {
        let e = Sampler::new(&SamplingConfig {
            ratio: bad,
            ..Default::default()
        });
        assert!(matches!(e, Err(SampleError::Ratio { .. })), "{bad}");
    }
    assert!(matches!(
        Sampler::new(&SamplingConfig {
            precision: 0,
            ..Default::default()
        }),
        Err(SampleError::Precision(0))
    ));
    let e = serde_norway::from_str::<SamplingConfig>("ratio: 0.5\nbogus: 1\n");
    assert!(e.is_err());
    let e = serde_norway::from_str::<SamplingConfig>("rules: [{ratio: 0.5, servce: x}]\n");
    assert!(e.is_err());
    let e = Sampler::new(&SamplingConfig {
        rules: vec![SamplingRule {
            service: Some(String::new()),
            span_name: None,
            ratio: 0.5,
        }],
        ..Default::default()
    });
    assert!(matches!(e, Err(SampleError::Glob { index: 0, .. })));
}

#[test]
fn sampler_is_send_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Sampler>();
}
