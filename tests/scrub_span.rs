//! The span walk, key rules, actions and audit attributes.

use opentelemetry_proto::tonic::common::v1::{
    any_value::Value, AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{span::Event, span::Link, Span, Status};
use spanward::keys::{HmacKey, KeySource};
use spanward::scrub::{Action, BytesPolicy, RedactionConfig, ScrubReport, Scrubber, Summary};

const EMAIL: &str = "alice.smith@example.com";
const GHP: &str = "ghp_R8nK2mQ4vX7pL1sT9wY3zB6cD0fG5hJ8kM2n";
const CARD: &str = "4111 1111 1111 1111";

fn key() -> HmacKey {
    HmacKey::from_bytes(vec![7; 32], None, KeySource::File)
}

fn scrubber(cfg: RedactionConfig) -> Scrubber {
    Scrubber::new(&cfg, key()).unwrap()
}

fn sv(s: &str) -> AnyValue {
    AnyValue {
        value: Some(Value::StringValue(s.into())),
    }
}

fn kv(k: &str, v: AnyValue) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(v),
        ..Default::default()
    }
}

fn get<'a>(attrs: &'a [KeyValue], k: &str) -> Option<&'a Value> {
    attrs
        .iter()
        .find(|x| x.key == k)
        .and_then(|x| x.value.as_ref())
        .and_then(|v| v.value.as_ref())
}

fn s_of(v: Option<&Value>) -> &str {
    match v {
        Some(Value::StringValue(s)) => s,
        other => panic!("not a string: {other:?}"),
    }
}

fn rich_span() -> Span {
    let nested = KeyValueList {
        values: vec![
            kv("role", sv("user")),
            kv(EMAIL, sv(&format!("token {GHP}"))),
        ],
    };
    Span {
        name: format!("lookup {EMAIL}"),
        status: Some(Status {
            message: format!("failed for {GHP}"),
            code: 2,
        }),
        attributes: vec![
            kv(
                "gen_ai.input.messages",
                sv(&format!(
                    "[{{\"role\":\"user\",\"content\":\"mail {EMAIL}\"}}]"
                )),
            ),
            kv(
                "tags",
                AnyValue {
                    value: Some(Value::ArrayValue(ArrayValue {
                        values: vec![sv("ok"), sv(GHP)],
                    })),
                },
            ),
            kv(
                "ctx",
                AnyValue {
                    value: Some(Value::KvlistValue(nested)),
                },
            ),
            kv("trace.benign", sv("3fa85f64-5717-4562-b3fc-2c963f66afa6")),
        ],
        events: vec![Event {
            name: format!("event {GHP}"),
            attributes: vec![kv("exception.message", sv(CARD))],
            ..Default::default()
        }],
        links: vec![Link {
            attributes: vec![kv("peer", sv(EMAIL))],
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn all_text(sp: &Span) -> String {
    format!("{sp:?}")
}

#[test]
fn every_string_in_the_span_is_scrubbed() {
    let s = scrubber(RedactionConfig::default());
    let mut sp = rich_span();
    let mut rep = ScrubReport::default();
    s.scrub_span(&mut sp, &mut rep).unwrap();
    let text = all_text(&sp);
    for secret in [EMAIL, GHP, CARD, "ghp_R8nK2mQ4"] {
        assert!(!text.contains(secret), "{secret} survived: {text}");
    }
    assert!(text.contains("3fa85f64-5717-4562-b3fc-2c963f66afa6"));
    // PII is tokenised with the shared pseudonym function, secrets masked.
    assert!(
        sp.name.contains(&key().pseudonym("email", EMAIL)),
        "{}",
        sp.name
    );
    assert_eq!(
        sp.status.as_ref().unwrap().message,
        "failed for [REDACTED:github_pat]"
    );
    assert_eq!(rep.count("github_pat"), 4);
    assert_eq!(rep.count("email"), 4);
    assert_eq!(rep.count("credit_card"), 1);
    // Audit attributes.
    assert_eq!(
        get(&sp.attributes, "redaction.count"),
        Some(&Value::IntValue(9))
    );
    let types = s_of(get(&sp.attributes, "redaction.types"));
    assert!(
        types.contains("email:4")
            && types.contains("github_pat:4")
            && types.contains("credit_card:1"),
        "{types}"
    );
    // JSON stayed JSON.
    let msgs = s_of(get(&sp.attributes, "gen_ai.input.messages"));
    serde_json::from_str::<serde_json::Value>(msgs).unwrap();
}

#[test]
fn scrubbing_twice_changes_nothing() {
    let s = scrubber(RedactionConfig::default());
    let mut sp = rich_span();
    s.scrub_span(&mut sp, &mut ScrubReport::default()).unwrap();
    let once = sp.clone();
    let mut rep = ScrubReport::default();
    s.scrub_span(&mut sp, &mut rep).unwrap();
    assert_eq!(sp, once);
    assert_eq!(rep.total(), 0);
}

#[test]
fn summary_silent_and_debug() {
    let mut sp = rich_span();
    scrubber(RedactionConfig {
        summary: Summary::Silent,
        ..Default::default()
    })
    .scrub_span(&mut sp, &mut ScrubReport::default())
    .unwrap();
    assert!(get(&sp.attributes, "redaction.count").is_none());
    let mut sp = rich_span();
    scrubber(RedactionConfig {
        summary: Summary::Debug,
        ..Default::default()
    })
    .scrub_span(&mut sp, &mut ScrubReport::default())
    .unwrap();
    let keys = s_of(get(&sp.attributes, "redaction.keys"));
    assert!(
        keys.contains("gen_ai.input.messages") && keys.contains("tags"),
        "{keys}"
    );
}

#[test]
fn key_rules() {
    let cfg = RedactionConfig {
        allowed_keys: vec!["debug.raw".into()],
        drop_keys: vec!["http.request.body*".into()],
        ..Default::default()
    };
    let s = scrubber(cfg);
    let mut sp = Span {
        attributes: vec![
            kv(
                "http.request.header.authorization",
                AnyValue {
                    value: Some(Value::ArrayValue(ArrayValue {
                        values: vec![sv("Bearer abc")],
                    })),
                },
            ),
            kv(
                "db.password",
                AnyValue {
                    value: Some(Value::IntValue(1234)),
                },
            ),
            kv("Cookie", sv("session=abc")),
            kv("debug.raw", sv(EMAIL)),
            kv("http.request.body.content", sv("whatever")),
        ],
        ..Default::default()
    };
    let mut rep = ScrubReport::default();
    s.scrub_span(&mut sp, &mut rep).unwrap();
    assert_eq!(
        s_of(get(&sp.attributes, "http.request.header.authorization")),
        "[REDACTED:blocked_key]"
    );
    assert_eq!(
        s_of(get(&sp.attributes, "db.password")),
        "[REDACTED:blocked_key]"
    );
    assert_eq!(
        s_of(get(&sp.attributes, "Cookie")),
        "[REDACTED:blocked_key]"
    );
    assert_eq!(s_of(get(&sp.attributes, "debug.raw")), EMAIL);
    assert!(get(&sp.attributes, "http.request.body.content").is_none());
    assert_eq!(rep.count("blocked_key"), 3);
    assert_eq!(rep.dropped_attributes, 1);
}

#[test]
fn actions_per_type_and_rule() {
    let mut cfg = RedactionConfig::default();
    cfg.actions.insert("email".into(), Action::Mask);
    cfg.actions.insert("credit_card".into(), Action::Partial);
    cfg.actions.insert("github_pat".into(), Action::Drop);
    cfg.actions.insert("secret".into(), Action::Token);
    let s = scrubber(cfg);
    assert_eq!(s.scrub_str(&format!("to {EMAIL}")), "to [REDACTED:email]");
    assert_eq!(
        s.scrub_str(&format!("card {CARD}")),
        "card [REDACTED:credit_card:****1111]"
    );
    // Category action: other secrets are tokenised with the shared pseudonym.
    let aws = "AKIAQ3EGRTY5LPMNBV2X";
    assert_eq!(
        s.scrub_str(&format!("id {aws}")),
        format!("id {}", key().pseudonym("aws_access_key_id", aws))
    );
    let mut sp = Span {
        attributes: vec![kv("a", sv(&format!("x {GHP}"))), kv("b", sv("fine"))],
        ..Default::default()
    };
    let mut rep = ScrubReport::default();
    s.scrub_span(&mut sp, &mut rep).unwrap();
    assert!(
        get(&sp.attributes, "a").is_none(),
        "drop action removes the attribute"
    );
    assert_eq!(s_of(get(&sp.attributes, "b")), "fine");
    assert_eq!(rep.dropped_attributes, 1);
}

#[test]
fn unknown_config_names_are_errors() {
    let mut cfg = RedactionConfig::default();
    cfg.actions.insert("emial".into(), Action::Mask);
    assert!(Scrubber::new(&cfg, key())
        .unwrap_err()
        .to_string()
        .contains("emial"));
    let cfg = RedactionConfig {
        disable_rules: vec!["nope".into()],
        ..Default::default()
    };
    assert!(Scrubber::new(&cfg, key()).is_err());
    let cfg = RedactionConfig {
        disable_types: vec!["ipv4".into()],
        ..Default::default()
    };
    let s = Scrubber::new(&cfg, key()).unwrap();
    assert_eq!(s.scrub_str("client 33.84.98.181"), "client 33.84.98.181");
}

#[test]
fn integers_bytes_and_oversize() {
    // `bytes: keep` leaves bytes values alone (counted); the default scans them (below).
    let cfg = RedactionConfig {
        max_value_bytes: 64,
        bytes: BytesPolicy::Keep,
        ..Default::default()
    };
    let s = scrubber(cfg);
    let mut sp = Span {
        attributes: vec![
            kv(
                "card",
                AnyValue {
                    value: Some(Value::IntValue(4111111111111111)),
                },
            ),
            kv(
                "epoch",
                AnyValue {
                    value: Some(Value::IntValue(1748123483111)),
                },
            ),
            kv(
                "blob",
                AnyValue {
                    value: Some(Value::BytesValue(EMAIL.as_bytes().to_vec())),
                },
            ),
            kv("big", sv(&"x".repeat(65))),
        ],
        ..Default::default()
    };
    let mut rep = ScrubReport::default();
    s.scrub_span(&mut sp, &mut rep).unwrap();
    assert!(
        matches!(get(&sp.attributes, "card"), Some(Value::StringValue(v)) if v.starts_with("<credit_card:"))
    );
    assert_eq!(
        get(&sp.attributes, "epoch"),
        Some(&Value::IntValue(1748123483111))
    );
    assert_eq!(
        get(&sp.attributes, "blob"),
        Some(&Value::BytesValue(EMAIL.as_bytes().to_vec()))
    );
    assert_eq!(rep.bytes_values_skipped, 1);
    assert_eq!(s_of(get(&sp.attributes, "big")), "[REDACTED:oversize]");
    assert_eq!(rep.oversize_values, 1);

    // The default: UTF-8 bytes are scanned like strings; other bytes are scanned with the
    // invalid bytes as U+FFFD, replaced when something is found, kept and counted otherwise.
    let s = scrubber(RedactionConfig::default());
    let mut latin1 = b"caf\xe9 login for ".to_vec();
    latin1.extend_from_slice(EMAIL.as_bytes());
    let mut sp = Span {
        attributes: vec![
            kv(
                "raw",
                AnyValue {
                    value: Some(Value::BytesValue(vec![0xff, 0xfe, 0x00, 0x41])),
                },
            ),
            kv(
                "latin1",
                AnyValue {
                    value: Some(Value::BytesValue(latin1)),
                },
            ),
            kv(
                "blob",
                AnyValue {
                    value: Some(Value::BytesValue(EMAIL.as_bytes().to_vec())),
                },
            ),
        ],
        ..Default::default()
    };
    let mut rep = ScrubReport::default();
    s.scrub_span(&mut sp, &mut rep).unwrap();
    assert!(
        matches!(get(&sp.attributes, "blob"), Some(Value::BytesValue(b)) if b.starts_with(b"<email:"))
    );
    assert_eq!(
        get(&sp.attributes, "raw"),
        Some(&Value::BytesValue(vec![0xff, 0xfe, 0x00, 0x41]))
    );
    assert_eq!(rep.bytes_values_skipped, 1);
    let Some(Value::BytesValue(l)) = get(&sp.attributes, "latin1") else {
        panic!("latin1 kept its type")
    };
    let l = String::from_utf8(l.clone()).unwrap();
    assert!(l.starts_with("caf\u{fffd} login for <email:"), "{l}");
}

#[test]
fn resource_and_scope() {
    let s = scrubber(RedactionConfig::default());
    let mut r = Resource {
        attributes: vec![kv("host.owner", sv(EMAIL))],
        ..Default::default()
    };
    let mut sc = InstrumentationScope {
        name: "lib".into(),
        version: "1.2.3".into(),
        attributes: vec![kv("k", sv(GHP))],
        ..Default::default()
    };
    let mut rep = ScrubReport::default();
    s.scrub_resource(&mut r, &mut rep).unwrap();
    s.scrub_scope(&mut sc, &mut rep).unwrap();
    assert!(!format!("{r:?}{sc:?}").contains(EMAIL) && !format!("{sc:?}").contains(GHP));
    assert_eq!(sc.version, "1.2.3");
    assert_eq!(rep.total(), 2);
}

#[test]
fn json_escaped_pem_and_unicode_escapes_stay_valid_json() {
    let s = scrubber(RedactionConfig::default());
    let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7bq98Wc0pYhL9G2Pq4xYxGmYV1eX8xXv0E5u6w+ZbR0fW3k\nq3Yt7Yw4rN5pQ2L6vN8xK1mB2cD3eF4gH5iJ6kL7mN8oP9qR0sT1uV2wX3yZ4==\n-----END RSA PRIVATE KEY-----";
    let doc = serde_json::json!({"rows": [{"id": "x", "value": pem, "mail": "bob\u{40}example.com", "q": "say \"hi\" \\ ok"}]}).to_string();
    // Force a \u0040 escape as some encoders write it.
    let doc = doc.replace("bob@", "bob\\u0040");
    let out = s.scrub_str(&doc);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["rows"][0]["value"], "[REDACTED:private_key]");
    assert!(v["rows"][0]["mail"]
        .as_str()
        .unwrap()
        .starts_with("<email:"));
    assert_eq!(v["rows"][0]["q"], "say \"hi\" \\ ok");
    assert!(!out.contains("MIIEpAIBAAKC"));
}

#[test]
fn disabled_scrubber_passes_through() {
    let s = scrubber(RedactionConfig {
        enabled: false,
        ..Default::default()
    });
    let mut sp = rich_span();
    s.scrub_span(&mut sp, &mut ScrubReport::default()).unwrap();
    assert_eq!(sp, rich_span());
}
