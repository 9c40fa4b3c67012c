//! Property tests: no panic on arbitrary input, idempotence, JSON stays JSON, generated
//! secrets never survive, text without matches comes out byte-identical.

use opentelemetry_proto::tonic::common::v1::{
    any_value::Value, AnyValue, ArrayValue, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::trace::v1::{span::Event, Span};
use proptest::prelude::*;
use spanward::keys::{HmacKey, KeySource};
use spanward::scrub::{RedactionConfig, ScrubReport, Scrubber};
use std::borrow::Cow;
use std::sync::OnceLock;

fn scrubber() -> &'static Scrubber {
    static S: OnceLock<Scrubber> = OnceLock::new();
    S.get_or_init(|| {
        Scrubber::new(
            &RedactionConfig::default(),
            HmacKey::from_bytes(vec![3; 32], None, KeySource::File),
        )
        .unwrap()
    })
}

/// Text fragments that stress the matchers: separators, escapes, keywords, near-misses.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,24}",
        any::<String>(),
        Just("\\n".to_string()),
        Just("\\\"".to_string()),
        Just("\\u0040".to_string()),
        Just("\\".to_string()),
        Just("password=".to_string()),
        Just("\"token\": \"".to_string()),
        Just("-----BEGIN PRIVATE KEY-----".to_string()),
        Just("-----END PRIVATE KEY-----".to_string()),
        Just("Bearer ".to_string()),
        Just("://u:".to_string()),
        Just("@".to_string()),
        "[0-9 .\\-()+:]{1,24}",
        "[A-Za-z0-9_\\-]{8,48}",
        Just("[REDACTED:email]".to_string()),
        Just("é€😀".to_string()),
    ]
}

fn mixed_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![fragment(), secret().prop_map(|(_, s)| s)],
        0..12,
    )
    .prop_map(|v| v.concat())
}

fn luhn_complete(prefix: &str, len: usize, fill: &[u8]) -> String {
    let mut d: Vec<u32> = prefix.bytes().map(|b| u32::from(b - b'0')).collect();
    for &f in fill.iter().take(len - 1 - d.len()) {
        d.push(u32::from(f % 10));
    }
    while d.len() < len - 1 {
        d.push(0);
    }
    let mut sum = 0;
    for (i, x) in d.iter().rev().enumerate() {
        let mut v = *x;
        if i % 2 == 0 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    d.push((10 - sum % 10) % 10);
    d.iter().map(|x| char::from(b'0' + *x as u8)).collect()
}

fn iban_de(bban: &[u8]) -> String {
    let digits: String = bban
        .iter()
        .take(18)
        .map(|b| char::from(b'0' + b % 10))
        .collect();
    // Check digits: 98 - mod97(BBAN + "DE00" as digits).
    let s = format!("{digits}131400");
    let rem = s
        .bytes()
        .fold(0u64, |r, c| (r * 10 + u64::from(c - b'0')) % 97);
    format!("DE{:02}{digits}", 98 - rem)
}

/// A generated secret of a known kind, as it would be written.
fn secret() -> impl Strategy<Value = (String, String)> {
    prop_oneof![
        (
            "[a-z][a-z0-9._]{1,12}",
            "[a-z]{2,10}",
            prop::sample::select(vec!["com", "org", "de", "co.uk"])
        )
            .prop_map(|(l, d, t)| ("email".into(), format!("{l}x@{d}.{t}"))),
        "[A-Za-z0-9]{36}".prop_map(|s| ("github_pat".into(), format!("ghp_{s}"))),
        "[A-Z2-7]{16}".prop_map(|s| ("aws".into(), format!("AKIA{s}"))),
        "[A-Za-z0-9]{24}".prop_map(|s| ("stripe".into(), format!("sk_live_{s}"))),
        (
            prop::sample::select(vec!["4", "51", "55", "2221", "37", "6011"]),
            prop::collection::vec(any::<u8>(), 20),
            any::<bool>()
        )
            .prop_map(|(p, f, grouped)| {
                let len = if p == "37" { 15 } else { 16 };
                let n = luhn_complete(p, len, &f);
                let s = if grouped && len == 16 {
                    format!("{} {} {} {}", &n[0..4], &n[4..8], &n[8..12], &n[12..16])
                } else {
                    n
                };
                ("card".into(), s)
            }),
        prop::collection::vec(any::<u8>(), 18).prop_map(|b| ("iban".into(), iban_de(&b))),
        // Area 666 is never issued (the validator rightly rejects it), so it is not generated.
        ("[1-8][0-9]{2}", "[1-9][0-9]", "[1-9][0-9]{3}")
            .prop_filter("area 666 is never issued", |(a, _, _)| a != "666")
            .prop_map(|(a, g, s)| ("ssn".into(), format!("{a}-{g}-{s}"))),
        ("[2-9][0-9]{2}", "[2-9][0-9]{2}", "[0-9]{4}")
            .prop_map(|(a, b, c)| ("phone".into(), format!("({a}) {b}-{c}"))),
        (1u8..=223, any::<u8>(), any::<u8>(), 1u8..=254)
            .prop_filter("not loopback", |(a, ..)| *a != 127)
            .prop_map(|(a, b, c, d)| ("ipv4".into(), format!("{a}.{b}.{c}.{d}"))),
        "[A-Za-z0-9+/]{64}".prop_map(|b| (
            "pem".into(),
            format!("-----BEGIN PRIVATE KEY-----\\n{b}\\n{b}\\n-----END PRIVATE KEY-----")
        )),
        "[A-Za-z0-9%!]{6,20}[A-Za-z0-9]".prop_map(|p| ("password".into(), format!("password={p}"))),
    ]
}

fn any_value() -> impl Strategy<Value = AnyValue> {
    let leaf = prop_oneof![
        mixed_text().prop_map(Value::StringValue),
        any::<i64>().prop_map(Value::IntValue),
        any::<f64>().prop_map(Value::DoubleValue),
        any::<bool>().prop_map(Value::BoolValue),
        prop::collection::vec(any::<u8>(), 0..32).prop_map(Value::BytesValue),
    ]
    .prop_map(|v| AnyValue { value: Some(v) });
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(|values| AnyValue {
                value: Some(Value::ArrayValue(ArrayValue { values }))
            }),
            prop::collection::vec((mixed_text(), inner), 0..6).prop_map(|kvs| AnyValue {
                value: Some(Value::KvlistValue(KeyValueList {
                    values: kvs
                        .into_iter()
                        .map(|(key, v)| KeyValue {
                            key,
                            value: Some(v),
                            ..Default::default()
                        })
                        .collect(),
                })),
            }),
        ]
    })
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        mixed_text().prop_map(serde_json::Value::String),
        any::<i32>().prop_map(serde_json::Value::from),
        Just(serde_json::Value::Null),
    ];
    leaf.prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(serde_json::Value::Array),
            prop::collection::vec((mixed_text(), inner), 0..5)
                .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn never_panics_on_text(s in any::<String>(), t in mixed_text()) {
        let _ = scrubber().scrub_str(&s);
        let _ = scrubber().scrub_str(&t);
    }

    #[test]
    fn never_panics_on_nested_values(attrs in prop::collection::vec((mixed_text(), any_value()), 0..6), name in mixed_text()) {
        let attrs: Vec<KeyValue> = attrs.into_iter().map(|(key, v)| KeyValue { key, value: Some(v), ..Default::default() }).collect();
        let mut sp = Span { name, attributes: attrs.clone(), events: vec![Event { attributes: attrs, ..Default::default() }], ..Default::default() };
        let mut rep = ScrubReport::default();
        scrubber().scrub_span(&mut sp, &mut rep).unwrap();
        // A second pass finds nothing new.
        let once = sp.clone();
        let mut rep2 = ScrubReport::default();
        scrubber().scrub_span(&mut sp, &mut rep2).unwrap();
        prop_assert_eq!(rep2.total(), 0);
        prop_assert_eq!(sp, once);
    }

    #[test]
    fn idempotent(t in mixed_text()) {
        let once = scrubber().scrub_str(&t).into_owned();
        let twice = scrubber().scrub_str(&once).into_owned();
        prop_assert_eq!(once, twice);
    }

    #[test]
    fn json_stays_json(v in json_value(), pretty in any::<bool>()) {
        let doc = if pretty { serde_json::to_string_pretty(&v).unwrap() } else { v.to_string() };
        let out = scrubber().scrub_str(&doc);
        prop_assert!(serde_json::from_str::<serde_json::Value>(&out).is_ok(), "invalid JSON after scrub: {}", out);
    }

    #[test]
    fn generated_secrets_never_survive(
        (kind, secret) in secret(),
        before in prop::sample::select(vec!["", " ", "value: ", "{\"content\":\"", "(", "see ", "\n", "x=", "[\""]),
        after in prop::sample::select(vec!["", " ", ".", ",", "\"}", ")", ";", " ok", "\n"]),
        as_json in any::<bool>(),
    ) {
        let text = format!("{before}{secret}{after}");
        let text = if as_json { serde_json::json!({ "text": text }).to_string() } else { text };
        let out = scrubber().scrub_str(&text);
        let core: String = secret.chars().filter(|c| !" -.()".contains(*c)).collect();
        let flat: String = out.chars().filter(|c| !" -.()".contains(*c)).collect();
        prop_assert!(!out.contains(&secret) && !flat.contains(&core), "{} survived: {:?} -> {:?}", kind, text, out);
    }

    #[test]
    fn no_match_text_is_byte_identical(t in "[a-z ,.!?'\n]{0,300}") {
        let out = scrubber().scrub_str(&t);
        prop_assert!(matches!(out, Cow::Borrowed(_)));
        prop_assert_eq!(&*out, &*t);
    }

    /// Any text at all (escapes, keywords, digits, non-ASCII, near-misses and real secrets
    /// mixed): where nothing is reported, nothing changed, not even a byte; where the text
    /// changed, something was reported.
    #[test]
    fn unreported_text_is_byte_identical(t in prop_oneof![mixed_text(), prop::collection::vec(fragment(), 0..16).prop_map(|v| v.concat())]) {
        let mut rep = ScrubReport::default();
        let out = scrubber().scrub_str_report(&t, &mut rep);
        if rep.total() == 0 {
            prop_assert!(matches!(out, Cow::Borrowed(_)));
            prop_assert_eq!(&*out, &*t);
        } else {
            prop_assert_ne!(&*out, &*t);
        }
    }
}
