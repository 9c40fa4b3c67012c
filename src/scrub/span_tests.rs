use super::super::RedactionConfig;
use super::*;
use crate::keys::{HmacKey, KeySource};
use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::span::Link;

/// 14 decimal digits, Luhn-valid with a Diners Club prefix (305): a valid `rv` that the
/// `credit_card` rule accepts anywhere else.
const RV: &str = "30569309025904";

fn scrubber() -> Scrubber {
    Scrubber::new(
        &RedactionConfig::default(),
        HmacKey::from_bytes(vec![9; 32], None, KeySource::File),
    )
    .unwrap()
}

fn scrubbed(ts: &str) -> (String, ScrubReport) {
    let mut span = Span {
        trace_state: ts.into(),
        links: vec![Link {
            trace_state: ts.into(),
            ..Default::default()
        }],
        ..Default::default()
    };
    let mut rep = ScrubReport::default();
    scrubber().scrub_span(&mut span, &mut rep).unwrap();
    assert_eq!(span.links[0].trace_state, span.trace_state, "links alike");
    (span.trace_state, rep)
}

fn attr_span(attrs: &[(&str, &str)]) -> Span {
    Span {
        name: "chat gpt-4o-mini".into(),
        attributes: attrs
            .iter()
            .map(|(k, v)| KeyValue {
                key: k.to_string(),
                value: Some(AnyValue {
                    value: Some(Value::StringValue(v.to_string())),
                }),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

/// The memo of clean strings and key decisions changes nothing: the same spans scrubbed
/// again by the same scrubber (memo warm) come out as from a fresh scrubber (memo cold),
/// including blocked keys, short secrets and keys that hold a secret themselves.
#[test]
fn memoised_scrubbing_agrees_with_a_cold_scrubber() {
    let attrs = [
        ("gen_ai.request.model", "gpt-4o-mini"),
        ("db.password", "hunter2hunter2"),
        ("user.email", "ann@example.com"),
        ("http.request.header.authorization", "Bearer abc"),
        ("ghp_16C7e42F292c6912E7710c838347Ae178B4a", "x"),
        ("note", "call me at +44 20 7946 0958"),
    ];
    let warm = scrubber();
    let mut first = None;
    for round in 0..3 {
        let mut sp = attr_span(&attrs);
        let mut rep = ScrubReport::default();
        warm.scrub_span(&mut sp, &mut rep).unwrap();
        // The memo is per thread and per scrubber: a fresh scrubber on a fresh thread is cold
        // (on this thread it would also empty the warm scrubber's memo).
        let (cold_sp, cold_rep) = std::thread::spawn(move || {
            let mut sp = attr_span(&attrs);
            let mut rep = ScrubReport::default();
            scrubber().scrub_span(&mut sp, &mut rep).unwrap();
            (sp, rep)
        })
        .join()
        .unwrap();
        assert_eq!(sp.attributes, cold_sp.attributes, "round {round}");
        assert_eq!(rep.total(), cold_rep.total(), "round {round}");
        assert_eq!(rep.bytes_scanned, cold_rep.bytes_scanned, "round {round}");
        let out = format!("{:?}", sp.attributes);
        for raw in [
            "hunter2",
            "ann@example.com",
            "Bearer abc",
            "ghp_16C7",
            "7946",
        ] {
            assert!(!out.contains(raw), "{raw} survived round {round}: {out}");
        }
        assert!(out.contains("gpt-4o-mini"));
        first.get_or_insert(sp.attributes.clone());
        assert_eq!(first.as_ref(), Some(&sp.attributes));
    }
    // The warm rounds did go through the memo (keys and the model name are remembered).
    for clean in [
        "db.password",
        "gen_ai.request.model",
        "gpt-4o-mini",
        "chat gpt-4o-mini",
    ] {
        assert!(super::super::memo::is_clean(warm.memo_id, clean), "{clean}");
    }
    assert!(!super::super::memo::is_clean(
        warm.memo_id,
        "ann@example.com"
    ));
}

#[test]
fn the_card_rule_matches_the_rv_digits_outside_the_ot_member() {
    // Proves the exemption below is needed: the same digits are a card elsewhere.
    let (out, rep) = scrubbed(&format!("vendor={RV}"));
    assert!(!out.contains(RV), "{out}");
    assert!(rep.count("credit_card") > 0);
    assert!(scrubber()
        .scrub_str(&format!("rv:{RV}"))
        .contains("<credit_card:"));
}

#[test]
fn ot_th_and_rv_survive_other_members_are_scanned() {
    let ts = format!("ot=th:8;rv:{RV};x:{RV}, vendor={RV},congo=t61rcWkgMzE");
    let (out, rep) = scrubbed(&ts);
    let (ot, rest) = out.split_once(',').unwrap();
    assert!(ot.starts_with(&format!("ot=th:8;rv:{RV};x:")), "{out}");
    // The other `ot` sub-key and the vendor member lost the digits; the rest is untouched.
    assert_eq!(out.matches(RV).count(), 1, "{out}");
    assert!(rest.starts_with(" vendor="), "{out}");
    assert!(rest.ends_with(",congo=t61rcWkgMzE"), "{out}");
    // Two spans' worth (span and link), two matches each.
    assert_eq!(rep.count("credit_card"), 4);
    // What the sampler reads is intact.
    let member = ot.strip_prefix("ot=").unwrap();
    let subs: Vec<&str> = member.split(';').collect();
    assert_eq!(
        parse_threshold(subs[0].strip_prefix("th:").unwrap()),
        Some(8 << 52)
    );
    assert!(parse_randomness(subs[1].strip_prefix("rv:").unwrap()).is_some());
}

#[test]
fn only_valid_sampling_values_and_the_first_ot_member_are_exempt() {
    // An `rv` of the wrong length, a `th` with upper-case digits and a second `ot` member are
    // not what the sampler reads: scanned like any other text.
    for ts in [
        // 15 digits (an Amex test number): one too many for an `rv`.
        "ot=rv:378282246310005".to_string(),
        "ot=th:4111111111111111".to_string(),
        format!("ot=th:8,ot=rv:{RV}"),
    ] {
        let (out, rep) = scrubbed(&ts);
        assert!(rep.count("credit_card") > 0, "{ts} -> {out}");
    }
    // Unchanged input stays byte-identical, whitespace included.
    let ts = format!(" ot=th:c;rv:{RV} ,a=b");
    assert_eq!(scrubbed(&ts).0, ts);
}
